"""Margin and ranking losses, as PyTorch's, composed from existing ops (so their gradients follow).

With y the target (±1 labels unless said otherwise) and [u]₊ = max(0, u):
    margin_ranking(x1, x2, y)      = [-y (x1 - x2) + margin]₊          ranks x1 above x2 where y = 1
    hinge_embedding(x, y)          = x where y = 1, [margin - x]₊ where y = -1 (both terms for other y)
    soft_margin(x, y)              = ln(1 + e^(-y x)) = -ln σ(y x)      d/dx = -y σ(-y x)
    multilabel_soft_margin(x, y)   = -(1/C) Σ_c w_c (y_c ln σ(x_c) + (1 - y_c) ln σ(-x_c))   per sample
    multi_margin(x, y)             = (1/C) Σ_{i≠y} w_y [margin - x_y + x_i]₊^p   (p = 1 or 2) per sample
    multilabel_margin(x, y)        = (1/C) Σ_{j ∈ y} Σ_{i ∉ y} [1 - x_j + x_i]₊   per sample; y lists the
                                     target classes, ended by the first -1
    triplet_margin(a, p, n)        = [margin + d(a, p) - d(a, n)]₊, d the pairwise p-norm distance
                                     (with swap: d(a, n) replaced by min(d(a, n), d(p, n)))
The derivative of [u]₊ is 1 where u ≥ 0 (PyTorch's choice at 0), else 0.
"""

from __future__ import annotations

import numpy as np

from minidl.core import arguments
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.arithmetic import clamp, minimum, where
from minidl.ops.common import as_tensor, wrap
from minidl.ops.distance import _tensors, pairwise_distance
from minidl.ops.loss import _reduce, check_reduction
from minidl.ops.more_activations import logsigmoid
from minidl.ops.robust_loss import loss_reduction
from minidl.ops.shape import getitem


def broadcast_shape(op, **tensors):
    """The shape the named tensors broadcast to; a ShapeError naming all of them when they do not."""
    try:
        return np.broadcast_shapes(*(tuple(t.shape) for t in tensors.values()))
    except ValueError:
        listed = ", ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())
        raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together") from None


def same_ndim(op, **tensors):
    if len({t.ndim for t in tensors.values()}) > 1:
        listed = ", ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())
        raise ShapeError(f"{op}: expected tensors with the same number of dims, got shapes {listed}")


def float_like(value, input, op, name="target"):  # noqa: A002 (PyTorch's names)
    """``value`` as a tensor of ``input``'s float dtype, broadcasting to ``input``'s shape."""
    value = as_tensor(value, like=input)
    if broadcast_shape(op, input=input, **{name: value}) != tuple(input.shape):
        raise ShapeError(f"{op}: {name} of shape {tuple(value.shape)} does not broadcast to the input's "
                         f"shape {tuple(input.shape)}")
    return value.to(input.dtype) if value.dtype != input.dtype else value


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,  # noqa: A002
                        reduction="mean"):
    """max(0, -target·(input1 - input2) + margin): input1 should rank above input2 where target is 1, below
    where it is -1; the three tensors have one number of dims and broadcast."""
    op = "margin_ranking_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    margin = arguments.number(margin, op, "margin")
    _tensors(op, input1=input1, input2=input2, target=target)
    same_ndim(op, input1=input1, input2=input2, target=target)
    broadcast_shape(op, input1=input1, input2=input2, target=target)
    target = target.to(input1.dtype) if target.dtype != input1.dtype else target
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """input where target is 1, max(0, margin - input) where target is -1 (input and target broadcast)."""
    op = "hinge_embedding_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    margin = arguments.number(margin, op, "margin")
    _tensors(op, input=input, target=target)
    broadcast_shape(op, input=input, target=target)
    loss = where(target != -1, input, 0.0) + where(target != 1, clamp(margin - input, min=0.0), 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """ln(1 + exp(-target·input)), the logistic loss of ±1 labels (computed as -ln σ(target·input))."""
    op = "soft_margin_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    _tensors(op, input=input)
    return _reduce(-logsigmoid(float_like(target, input, op) * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                reduction="mean"):
    """Binary logistic losses of each class (the last dim, C) of input against 0/1 targets, weighted by
    ``weight``, averaged over the classes: one loss per sample."""
    op = "multilabel_soft_margin_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    _tensors(op, input=input)
    if input.ndim == 0:
        raise ShapeError(f"{op}: expected input with a class dim, (C,) or (N, C), got a 0-d tensor")
    target = float_like(target, input, op)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * float_like(weight, input, op, "weight")
    return _reduce(loss.sum(input.ndim - 1) / input.shape[-1], reduction)


def _class_rows(input, op):  # noqa: A002
    """Scores (C,) or (N, C) (a 0-d input: one score) as rows (N, C)."""
    _tensors(op, input=input)
    if input.ndim > 2:
        raise ShapeError(f"{op}: expected input of shape (C,) or (N, C), got {tuple(input.shape)}")
    return input.reshape(-1, input.shape[-1] if input.ndim else 1)


def _integer_target(target, op):
    _tensors(op, target=target)
    if target.array.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected a target of integer class indices (int64), got dtype {target.dtype}")
    return target.array


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,  # noqa: A002
                      reduction="mean"):
    """The multi-class hinge loss: (1/C) Σ_{i≠y} w_y·max(0, margin - x_y + x_i)^p per sample, y the target
    class of each row of input (C,) or (N, C)."""
    op = "multi_margin_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{op}: p must be 1 or 2, got {p!r}")
    margin = arguments.number(margin, op, "margin")
    rows = _class_rows(input, op)
    (count, classes), labels = rows.shape, _integer_target(target, op)
    fits = tuple(target.shape) == (count,) if input.ndim == 2 else target.ndim <= 1 and target.numel() == 1
    if not fits:
        raise ShapeError(f"{op}: expected target of shape {(count,) if input.ndim == 2 else '() or (1,)'} "
                         f"for input of shape {tuple(input.shape)}, got {tuple(target.shape)}")
    labels = labels.reshape(-1)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        bad = int(labels.min()) if int(labels.min()) < 0 else int(labels.max())
        raise IndexError(f"{op}: target {bad} is out of range for {classes} classes")
    xp = array_module(rows.array)
    picked = getitem(rows, (xp.arange(count), labels)).reshape(count, 1)
    margins = clamp(margin - picked + rows, min=0.0)
    if p == 2:
        margins = margins * margins
    if weight is not None:
        _tensors(op, weight=weight)
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise ShapeError(f"{op}: expected weight of shape ({classes},), got {tuple(weight.shape)}")
        margins = margins * getitem(weight.to(rows.dtype), labels).reshape(count, 1)
    others = wrap(xp.arange(classes) != labels[:, None])
    loss = where(others, margins, 0.0).sum(1) / classes
    return _reduce(loss.reshape(target.shape), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """(1/C) Σ_{j ∈ y} Σ_{i ∉ y} max(0, 1 - x_j + x_i) per sample: each target class j should score at
    least 1 above every other class. ``target`` has input's shape and lists class indices, ended by the
    first -1."""
    op = "multilabel_margin_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    rows = _class_rows(input, op)
    labels = _integer_target(target, op)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: expected target of the input's shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    count, classes = rows.shape
    xp = array_module(rows.array)
    labels = labels.reshape(count, classes)
    if labels.size and (int(labels.min()) < -1 or int(labels.max()) >= classes):
        bad = int(labels.min()) if int(labels.min()) < -1 else int(labels.max())
        raise IndexError(f"{op}: target {bad} is out of range (class indices 0..{classes - 1}, -1 ends a list)")
    listed = xp.cumprod(labels >= 0, axis=1) > 0  # the labels before the first -1
    times = ((labels[:, :, None] == xp.arange(classes)) & listed[:, :, None]).sum(axis=1)  # (N, C)
    pairs = (times[:, :, None] * (times == 0)[:, None, :]).astype(rows.array.dtype)  # [n, j, i]
    margins = clamp(1 - rows.reshape(count, classes, 1) + rows.reshape(count, 1, classes), min=0.0)
    loss = (margins * wrap(pairs)).sum((1, 2)) / classes
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = minimum(to_negative, distance(positive, negative))
    return _reduce(clamp(margin + distance(anchor, positive) - to_negative, min=0.0), reduction)


def _triplet_checks(op, margin, anchor, positive, negative):
    margin = arguments.number(margin, op, "margin", above=0.0)
    _tensors(op, anchor=anchor, positive=positive, negative=negative)
    same_ndim(op, anchor=anchor, positive=positive, negative=negative)
    broadcast_shape(op, anchor=anchor, positive=positive, negative=negative)
    return margin


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d = pairwise_distance(·, ·, p, eps) along
    the last dim; ``swap`` uses the smaller of d(anchor, negative) and d(positive, negative)."""
    op = "triplet_margin_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    margin = _triplet_checks(op, margin, anchor, positive, negative)
    p, eps = arguments.number(p, op, "p", minimum=0.0), arguments.number(eps, op, "eps")
    return _triplet(anchor, positive, negative, lambda a, b: pairwise_distance(a, b, p, eps), margin, bool(swap),
                    reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """The triplet margin loss with any ``distance_function(x1, x2)`` (default: pairwise_distance)."""
    op = "triplet_margin_with_distance_loss"
    check_reduction(reduction, op)
    margin = _triplet_checks(op, margin, anchor, positive, negative)
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"{op}: distance_function must be callable, got {type(distance_function).__name__}")
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin, bool(swap),
                    reduction)
