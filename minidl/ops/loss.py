"""Losses: cross-entropy (fused with log-softmax), NLL, MSE, BCE, BCE with logits and KL divergence.

Cross-entropy is one node: with log-probabilities log p = log_softmax(x) and a
target distribution q per row (one-hot or given probabilities, optionally
smoothed and class-weighted), the loss is L = (1/D) Σᵢ Σ_c -q_ic log p_ic and
its gradient is simply dL/dx_ic = (p_ic Σ_c' q_ic' - q_ic) / D — "softmax
minus one-hot" when q is one-hot.
"""

from __future__ import annotations

import warnings

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.arguments import choice, probability
from minidl.core.errors import DeviceError, ShapeError
from minidl.ops.common import as_tensor
from minidl.ops.shape import getitem

REDUCTIONS = ("mean", "sum", "none")
KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def check_reduction(reduction, op):
    choice(reduction, op, "reduction", REDUCTIONS)


def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's old size_average / reduce flags as a reduction ('none' when reduce is False, 'sum'
    when size_average is False, else 'mean'); ``reduction`` when both are None."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def loss_reduction(size_average, reduce, reduction, op):
    """The reduction a loss uses (PyTorch's legacy flags folded in), checked."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, op)
    return reduction


class CrossEntropy(Function):
    """L = (1/D) Σᵢ Σ_c -q_ic log softmax(x)ᵢ_c;  dL/dxᵢ = (softmax(x)ᵢ·Σ_c q_ic - qᵢ) / D

    ``x`` is (rows, C); ``q`` the per-row target weights (zero rows for ignored
    targets); D the normaliser (1 for 'sum' and 'none').
    """

    def forward(self, x, q, denominator, reduction):
        xp = array_module(x)
        shifted = x - x.max(axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        self.save(log_p, q)
        self.denominator, self.reduction = denominator, reduction
        per_row = -(q * log_p).sum(axis=1)
        return _reduced_rows(xp, per_row, reduction, denominator, x.dtype)

    def backward(self, g):
        log_p, q = self.saved
        grad = array_module(g).exp(log_p) * q.sum(axis=1, keepdims=True) - q
        return _scaled_row_grads(grad, g, self.reduction, self.denominator)


class CrossEntropyLabels(Function):
    """The class-index form: L = (1/D) Σᵢ wᵢ (logsumexp(xᵢ) - xᵢ,yᵢ);  dL/dxᵢ = wᵢ (softmax(xᵢ) - e_yᵢ) / D

    ``labels`` are the class indices (safe: 0 where ignored), ``w`` each row's weight (the class
    weight of its label, 0 where ignored). The same loss as :class:`CrossEntropy` with the one-hot
    q = wᵢ·e_yᵢ, without building q: one value per row is picked (a gather).
    """

    name = "cross_entropy"  # the function users call, in errors and profiles

    def forward(self, x, labels, w, denominator, reduction):
        xp = array_module(x)
        shifted = x - x.max(axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        self.save(log_p, labels, w)
        self.denominator, self.reduction = denominator, reduction
        per_row = -log_p[xp.arange(len(labels)), labels] * w
        return _reduced_rows(xp, per_row, reduction, denominator, x.dtype)

    def backward(self, g):
        log_p, labels, w = self.saved
        xp = array_module(g)
        grad = xp.exp(log_p)
        grad[xp.arange(len(labels)), labels] -= 1
        grad *= w[:, None]
        return _scaled_row_grads(grad, g, self.reduction, self.denominator)


def _reduced_rows(xp, per_row, reduction, denominator, dtype):
    """The per-row losses, summed or divided by the denominator (NaN when it is 0) as ``reduction`` says."""
    if reduction == "none":
        return per_row
    if reduction == "sum":
        return per_row.sum()
    return per_row.sum() / dtype.type(denominator) if denominator else xp.full((), xp.nan, dtype=dtype)


def _scaled_row_grads(grad, g, reduction, denominator):
    """The rows' gradients times the incoming gradient of the reduced loss."""
    if reduction == "none":
        return grad * g[:, None]
    if reduction == "mean":  # all targets ignored: nothing contributed, so no gradient
        return grad * (g / g.dtype.type(denominator) if denominator else 0 * g)
    return grad * g


class BinaryCrossEntropy(Function):
    """L = -w (y log p + (1-y) log(1-p)), each log clamped at -100;
    dL/dp = w (p - y) / max(p (1-p), 1e-12)  (PyTorch's formula)"""

    def forward(self, p, y, weight=None):
        xp = array_module(p)
        log_p = xp.maximum(xp.log(p), -100)
        log_q = xp.maximum(xp.log1p(-p), -100)
        self.save(p, y, weight)
        loss = -(y * log_p + (1 - y) * log_q)
        return loss if weight is None else loss * weight

    def backward(self, g):
        p, y, weight = self.saved
        xp = array_module(p)
        grad = g * (p - y) / xp.maximum(p * (1 - p), p.dtype.type(1e-12))
        return (grad if weight is None else grad * weight), None


class BinaryCrossEntropyWithLogits(Function):
    """L = (1-y)·x + (1 + (w₊-1)·y)·log(1 + e⁻ˣ), computed stably as softplus(-x) = log(1+e^-|x|) + max(-x, 0);
    dL/dx = (1-y) - (1 + (w₊-1)·y)·σ(-x)   (w₊ = pos_weight; with w₊ = 1 this is σ(x) - y)"""

    def forward(self, x, y, pos_weight=None):
        xp = array_module(x)
        softplus_neg = xp.log1p(xp.exp(-abs(x))) + xp.maximum(-x, 0)
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        self.save(x, y, pos_weight)
        return (1 - y) * x + scale * softplus_neg

    def backward(self, g):
        x, y, pos_weight = self.saved
        xp = array_module(x)
        e = xp.exp(-abs(x))
        sigmoid_neg = xp.where(x >= 0, e, 1) / (1 + e)  # σ(-x), stable
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        return g * ((1 - y) - scale * sigmoid_neg), None


def _same_device(op, input, *others):
    for other in others:
        if other is not None and other.device != input.device:
            raise DeviceError(f"{op}: input is on {input.device} but a target or weight is on {other.device}; "
                              "move them to one device")


def _reduce(loss, reduction, weight_sum=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if weight_sum is None else loss.sum() / weight_sum


def _rows(x, op):
    """Logits (N, C) or (N, C, d1, ...) as rows (M, C) with the class dim last, and the 'none' shape."""
    if x.ndim == 1:
        return x.reshape(1, -1), ()
    if x.ndim == 2:
        return x, (x.shape[0],)
    moved = x.permute(0, *range(2, x.ndim), 1)  # (N, d1, ..., C)
    return moved.reshape(-1, x.shape[1]), (x.shape[0],) + x.shape[2:]


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` (N, C[, d...]) and class indices or class probabilities.

    Matches ``torch.nn.functional.cross_entropy``: ``weight`` rescales classes, targets equal to
    ``ignore_index`` count for nothing (and 'mean' divides by the summed weight of the others, so
    all-ignored gives NaN), ``label_smoothing`` ε mixes the target with the uniform distribution.
    """
    reduction = loss_reduction(size_average, reduce, reduction, "cross_entropy")
    label_smoothing = probability(label_smoothing, "cross_entropy", "label_smoothing")
    target = as_tensor(target, like=None)
    _same_device("cross_entropy", input, target, weight)
    rows, out_shape = _rows(input, "cross_entropy")
    classes = rows.shape[1]
    xp = array_module(rows.array)
    dtype = rows.array.dtype
    w = xp.ones(classes, dtype=dtype) if weight is None else weight.array.astype(dtype)
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ShapeError(f"cross_entropy: weight must have shape ({classes},), got {tuple(weight.shape)}")
    if target.array.dtype.kind == "f":  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise ShapeError(f"cross_entropy: probability targets must have the input's shape {tuple(input.shape)}, "
                             f"got {tuple(target.shape)}")
        probs, _ = _rows(target.detach(), "cross_entropy")
        q = probs.array.astype(dtype) * (1 - label_smoothing) + label_smoothing / classes
        q = q * w
        denominator = rows.shape[0]
    elif not label_smoothing:  # class indices: pick one value per row
        safe, keep = _labels(xp, target, input, classes, ignore_index, "cross_entropy")
        row_weights = w[safe] * keep
        loss = CrossEntropyLabels.apply(rows, labels=safe, w=row_weights, reduction=reduction,
                                        denominator=float(row_weights.sum()) if safe.size else 0.0)
        return loss.reshape(out_shape) if reduction == "none" else loss
    else:
        q, denominator = _index_targets(xp, target, input, rows, w, ignore_index, label_smoothing, classes, dtype)
    loss = CrossEntropy.apply(rows, q=q, denominator=denominator, reduction=reduction)
    return loss.reshape(out_shape) if reduction == "none" else loss


def _labels(xp, target, input, classes, ignore_index, op):
    """Class-index targets as flat (safe labels, keep mask), checked: shape, and each in [0, C) unless ignored."""
    if target.array.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected a target of integer class indices, got dtype {target.array.dtype}")
    expected = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim > 1 else ()
    if tuple(target.shape) != expected:
        raise ShapeError(f"{op}: expected target of shape {expected} for input of shape {input.shape}, "
                         f"got {tuple(target.shape)}")
    labels = target.array.reshape(-1)
    keep = labels != ignore_index
    safe = xp.where(keep, labels, 0)
    if labels.size and (int(safe.min()) < 0 or int(safe.max()) >= classes):
        bad = int(safe.max()) if int(safe.max()) >= classes else int(safe.min())
        raise IndexError(f"{op}: target {bad} is out of bounds for {classes} classes")
    return safe, keep


def _index_targets(xp, target, input, rows, w, ignore_index, smoothing, classes, dtype):
    """Per-row target weights q for class-index targets, and the 'mean' denominator Σ w[yᵢ]."""
    safe, keep = _labels(xp, target, input, classes, ignore_index, "cross_entropy")
    picked = w[safe] * keep
    q = xp.zeros(rows.shape, dtype=dtype)
    q[xp.arange(safe.size), safe] = picked * (1 - smoothing)
    if smoothing:
        q += (smoothing / classes) * w * keep[:, None]
    return q, float(picked.sum()) if safe.size else 0.0


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C[, d...]) at class indices ``target``."""
    reduction = loss_reduction(size_average, reduce, reduction, "nll_loss")
    rows, out_shape = _rows(input, "nll_loss")
    xp = array_module(rows.array)
    _same_device("nll_loss", input, as_tensor(target), weight)
    safe, keep = _labels(xp, as_tensor(target), input, rows.shape[1], ignore_index, "nll_loss")
    w = xp.ones(rows.shape[1], dtype=rows.array.dtype) if weight is None else weight.array.astype(rows.array.dtype)
    factor = as_tensor(-(w[safe] * keep).astype(rows.array.dtype), like=rows)
    picked = getitem(rows, (xp.arange(safe.size), safe)) * factor
    weight_sum = float(-factor.array.sum())
    if reduction == "mean" and weight_sum == 0:  # every target ignored: NaN, with zero gradients
        return picked.sum() * 0.0 + float("nan")
    result = _reduce(picked, reduction, weight_sum=weight_sum)
    return result.reshape(out_shape) if reduction == "none" else result


def _same_shapes(input, target, op):  # noqa: A002
    """A loss of two tensors of one shape: another shape is an error, never a broadcast."""
    target_shape = tuple(as_tensor(target, like=input).shape)
    if tuple(input.shape) != target_shape:
        raise ShapeError(f"{op}: input shape {input.shape} and target shape {target_shape} differ "
                         "(broadcasting is not done for losses)")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """(1/n) Σ (input - target)²  (or the sum, or per element); with ``weight`` (input's shape) each
    squared error is scaled by its weight and 'mean' divides by Σ weight."""
    reduction = loss_reduction(size_average, reduce, reduction, "mse_loss")
    _same_shapes(input, target, "mse_loss")
    difference = input - target
    return _weighted_reduce(difference * difference, weight, reduction, "mse_loss")


def _weighted_reduce(loss, weight, reduction, op):
    """``loss`` reduced, each element first scaled by ``weight`` (of the loss's shape; 'mean' is then
    Σ w·loss / Σ w) when one is given."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = as_tensor(weight, like=loss)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ShapeError(f"{op}: weight shape {tuple(weight.shape)} must equal input shape {tuple(loss.shape)}")
    _same_device(op, loss, weight)
    return _reduce(loss * weight, reduction, weight_sum=None if reduction != "mean" else weight.sum())


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """(1/n) Σ |input - target|  (or the sum, or per element); d/dx is sign(x - y) (0 at equality).
    ``weight`` as in :func:`mse_loss`."""
    reduction = loss_reduction(size_average, reduce, reduction, "l1_loss")
    _same_shapes(input, target, "l1_loss")
    return _weighted_reduce((input - target).abs(), weight, reduction, "l1_loss")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """-(y log p + (1-y) log(1-p)) for probabilities ``input`` in [0, 1]; logs clamped at -100."""
    reduction = loss_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    target = as_tensor(target, like=input)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"binary_cross_entropy: target shape {target.shape} must equal input shape {input.shape}")
    data = input.array
    if data.size and (float(data.min()) < 0 or float(data.max()) > 1):
        raise ValueError("binary_cross_entropy: input values must lie between 0 and 1 (did you mean "
                         "binary_cross_entropy_with_logits?)")
    w = None if weight is None else array_module(data).broadcast_to(weight.array, data.shape).astype(data.dtype)
    loss = BinaryCrossEntropy.apply(input, target.detach(), weight=w)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable node; ``pos_weight`` scales the positive term."""
    reduction = loss_reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    target = as_tensor(target, like=input)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"binary_cross_entropy_with_logits: target shape {target.shape} must equal input "
                         f"shape {input.shape}")
    loss = BinaryCrossEntropyWithLogits.apply(input, target.detach(),
                                              pos_weight=None if pos_weight is None else pos_weight.array)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class KLDiv(Function):
    """Pointwise KL divergence of a target t from log-probabilities x (PyTorch's kl_div):
        L = t (log t - x), 0 where t = 0;   dL/dx = -t,    dL/dt = log t + 1 - x  (NaN at t = 0)
        log_target (t holds log-probabilities):
        L = eᵗ (t - x);                     dL/dx = -eᵗ,   dL/dt = eᵗ (t - x + 1)
    At t = 0 the term is 0 (0 log 0 = 0) and its gradient for t is NaN, as in PyTorch: d/dt t log t
    has no finite value there.
    """

    def forward(self, x, t, log_target):
        xp = array_module(x)
        self.save(x, t)
        self.log_target = log_target
        if log_target:
            return xp.exp(t) * (t - x)
        return xp.where(t == 0, x.dtype.type(0), t * xp.log(t)) - t * x

    def backward(self, g):
        x, t = self.saved
        xp = array_module(x)
        if self.log_target:
            p = xp.exp(t)
            return -g * p, g * p * (t - x + 1)
        return -g * t, g * xp.where(t == 0, x.dtype.type("nan"), xp.log(t) + 1 - x)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002 (PyTorch's names)
           log_target=False):
    """KL(target ‖ p) summed pointwise: Σ t (log t - input), where ``input`` holds the log-probabilities
    log p (e.g. ``log_softmax``) and ``target`` the probabilities t (their logs with ``log_target``).

    Matches ``torch.nn.functional.kl_div``: 'batchmean' divides the sum by the batch size (input.shape[0]),
    which is the KL divergence of each row, averaged; 'mean' divides by the number of elements (batch ×
    classes) and warns, as PyTorch does; terms where t = 0 count 0. Unlike PyTorch, input and target
    must have one shape (minidl's losses never broadcast).
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    choice(reduction, "kl_div", "reduction", KL_REDUCTIONS)
    target = as_tensor(target, like=input)
    _same_device("kl_div", input, target)
    _same_shapes(input, target, "kl_div")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the number of "
                      "classes; 'batchmean' divides by the batch size only, as the KL divergence's definition does",
                      UserWarning, stacklevel=2)
    loss = KLDiv.apply(input, target, log_target=bool(log_target))
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)
