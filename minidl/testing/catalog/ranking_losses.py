"""The margin, ranking and likelihood losses in the catalogue (``minidl/ops/ranking_losses.py`` and
``minidl/ops/likelihood_losses.py``), with references written from each loss's definition.

Labels (±1 targets, class indices) are not differentiated: ±1 targets are drawn as values, class
indices travel in the params and become int64 tensors of the input's framework and device. Counts for
the Poisson loss stay away from 1, where the Stirling term starts (a jump in its target gradient).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import drawn_together, hnp_shape
from minidl.testing.harness import OpCase, broadcastable, examples, functional, library, normal, positive, single


# --- value makers and shapes -------------------------------------------------------------------------

def signs(rng, shape):
    """±1 labels."""
    return rng.choice([-1.0, 1.0], size=shape)


def labels_and_zero(rng, shape):
    """Labels -1, 0 and 1 (a 0 takes both terms of the hinge embedding loss, as in PyTorch)."""
    return rng.choice([-1.0, 0.0, 1.0], size=shape)


def probabilities(rng, shape):
    return rng.uniform(0.0, 1.0, shape)


def counts(rng, shape):
    """Poisson targets in (0.1, 0.8) or (1.2, 5): on both sides of 1, never at it."""
    return np.where(rng.random(shape) < 0.5, rng.uniform(0.1, 0.8, shape), rng.uniform(1.2, 5.0, shape))


def same_ndim(count, min_dims=0):
    """``count`` broadcastable shapes padded with leading 1s to one number of dims."""
    def pad(shapes):
        ndim = max(len(s) for s in shapes)
        return tuple((1,) * (ndim - len(s)) + tuple(s) for s in shapes)
    return broadcastable(count, min_dims=min_dims).map(pad)


def _reductions():
    return st.sampled_from(["mean", "sum", "none"])


def _class_indices(like, values):
    """Class indices (nested lists) as an int64 tensor of ``like``'s framework and device."""
    return library(like).tensor(values, dtype=library(like).int64, device=like.device)


@st.composite
def _multi_margin_examples(draw, weighted=False):
    """Scores (N, C) or (C,), one target class per row, and p, margin, reduction."""
    rows, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batched = draw(st.booleans())
    target = draw(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows))
    shapes = ((rows, classes) if batched else (classes,),) + (((classes,),) if weighted else ())
    return shapes, {"target": target if batched else target[0], "p": draw(st.sampled_from([1, 2])),
                    "margin": draw(st.sampled_from([1.0, 0.5])), "reduction": draw(_reductions())}


@st.composite
def _multilabel_margin_examples(draw):
    """Scores (N, C) or (C,) and per row a list of target classes (repeats allowed) ended by -1, then junk."""
    rows, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    target = []
    for _ in range(rows):
        listed = draw(st.lists(st.integers(0, classes - 1), max_size=classes))
        tail = draw(st.lists(st.integers(-1, classes - 1), min_size=classes - len(listed),
                             max_size=classes - len(listed)))
        target.append((listed + [-1] + tail)[:classes] if tail else listed)
    batched = draw(st.booleans()) or rows > 1
    return ((rows, classes) if batched else (classes,),), {"target": target if batched else target[0],
                                                           "reduction": draw(_reductions())}


@st.composite
def _variance_examples(draw):
    """An input shape, a var shape PyTorch accepts for it (the same, without the last dim, or one dim 1)."""
    shape = draw(hnp_shape(min_dims=1))
    form = draw(st.sampled_from(["same", "per_row", "shared"]))
    if form == "per_row":
        var_shape = shape[:-1]
    elif form == "shared" and any(n > 1 for n in shape):
        d = draw(st.sampled_from([a for a, n in enumerate(shape) if n > 1]))
        var_shape = shape[:d] + (1,) + shape[d + 1:]
    else:
        var_shape = shape
    params = {"full": draw(st.booleans()), "reduction": draw(_reductions())}
    return (shape, shape, var_shape), params


# --- references ------------------------------------------------------------------------------------------

def _hinge(u):
    return np.maximum(u, 0.0)


def log_sigmoid(x):
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


def multi_margin(x, target, p, margin, reduction, weight=None):
    rows, labels = x.reshape(-1, x.shape[-1]), np.reshape(target, -1)
    losses = []
    for row, label in zip(rows, labels):
        terms = _hinge(margin - row[label] + row) ** p * (1.0 if weight is None else weight[label])
        losses.append((terms.sum() - terms[label]) / row.size)
    return ref.reduced_loss(np.reshape(losses, np.shape(target)), reduction)


def multilabel_margin(x, target, reduction):
    rows, labels = x.reshape(-1, x.shape[-1]), np.reshape(target, (-1, x.shape[-1]))
    losses = []
    for row, listed in zip(rows, labels):
        chosen = list(listed[:list(listed).index(-1)] if -1 in listed else listed)
        others = [i for i in range(row.size) if i not in chosen]
        losses.append(sum(_hinge(1 - row[j] + row[i]) for j in chosen for i in others) / row.size)
    return ref.reduced_loss(np.array(losses) if x.ndim == 2 else np.array(losses[0]), reduction)


def triplet(a, positive, negative, distance, margin, swap, reduction):
    to_negative = distance(a, negative)
    if swap:
        to_negative = np.minimum(to_negative, distance(positive, negative))
    return ref.reduced_loss(_hinge(margin + distance(a, positive) - to_negative), reduction)


def pairwise(p, eps=1e-6):
    return lambda x, y: ref.p_norm(np.broadcast_arrays(x, y)[0] - y + eps, p, -1)


def cosine_distance(x, y):
    x, y = np.broadcast_arrays(x, y)
    return 1 - np.sum(x * y, -1) / np.sqrt(np.sum(x * x, -1) * np.sum(y * y, -1))


def poisson(x, y, log_input, full, reduction):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + 1e-8)
    if full:
        safe = np.where(y > 1, y, 1.0)
        loss = loss + np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)
    return ref.reduced_loss(loss, reduction)


def gaussian(x, y, var, full, reduction):
    if np.shape(var) != x.shape and np.shape(var) == x.shape[:-1]:
        var = np.expand_dims(var, -1)
    var = np.maximum(var, 1e-6)
    return ref.reduced_loss(0.5 * (np.log(var) + (x - y) ** 2 / var) + (0.5 * math.log(2 * math.pi) if full else 0),
                            reduction)


# --- the cases -------------------------------------------------------------------------------------------

def _margin_params(margins):
    return lambda s: st.fixed_dictionaries({"margin": st.sampled_from(margins), "reduction": _reductions()})


CASES = [
    OpCase("margin_ranking_loss", lambda a, b, y, **p: functional(a).margin_ranking_loss(a, b, y, **p),
           lambda a, b, y, margin, reduction: ref.reduced_loss(_hinge(-y * (a - b) + margin), reduction),
           examples(same_ndim(3), _margin_params([0.0, 0.5, -0.3])), make=(normal, normal, signs),
           grad_inputs=(0, 1)),
    OpCase("hinge_embedding_loss", lambda x, y, **p: functional(x).hinge_embedding_loss(x, y, **p),
           lambda x, y, margin, reduction: ref.reduced_loss(
               np.where(y != -1, x, 0.0) + np.where(y != 1, _hinge(margin - x), 0.0), reduction),
           examples(broadcastable(2), _margin_params([1.0, 0.5])), make=(normal, labels_and_zero), grad_inputs=(0,)),
    OpCase("soft_margin_loss", lambda x, y, **p: functional(x).soft_margin_loss(x, y, **p),
           lambda x, y, reduction: ref.reduced_loss(np.log1p(np.exp(-y * x)), reduction),
           examples(single().map(lambda s: (s[0], s[0])),
                    lambda s: st.fixed_dictionaries({"reduction": _reductions()})),
           make=(lambda rng, shape: 3 * rng.standard_normal(shape), signs), grad_inputs=(0,)),
    OpCase("multilabel_soft_margin_loss", lambda x, y, **p: functional(x).multilabel_soft_margin_loss(x, y, **p),
           lambda x, y, reduction: ref.reduced_loss(
               -np.mean(y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x), axis=-1), reduction),
           examples(single(min_dims=1, max_dims=2).map(lambda s: (s[0], s[0])),
                    lambda s: st.fixed_dictionaries({"reduction": _reductions()})),
           make=(normal, probabilities)),
    OpCase("multilabel_soft_margin_loss_weight", lambda x, y, w: functional(x).multilabel_soft_margin_loss(x, y, w),
           lambda x, y, w: np.mean(-np.mean(w * (y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x)), axis=-1)),
           examples(single(min_dims=2, max_dims=2).map(lambda s: (s[0], s[0], s[0][-1:]))),
           make=(normal, probabilities, positive)),
    OpCase("multi_margin_loss", lambda x, target, **p: functional(x).multi_margin_loss(
               x, _class_indices(x, target), **p), multi_margin, drawn_together(_multi_margin_examples())),
    OpCase("multi_margin_loss_weight", lambda x, w, target, **p: functional(x).multi_margin_loss(
               x, _class_indices(x, target), weight=w, **p),
           lambda x, w, **p: multi_margin(x, weight=w, **p), drawn_together(_multi_margin_examples(weighted=True)),
           make=(normal, positive), grad_inputs=(0,)),
    OpCase("multilabel_margin_loss", lambda x, target, **p: functional(x).multilabel_margin_loss(
               x, _class_indices(x, target), **p), multilabel_margin, drawn_together(_multilabel_margin_examples())),
    OpCase("triplet_margin_loss", lambda a, b, c, **p: functional(a).triplet_margin_loss(a, b, c, **p),
           lambda a, b, c, margin, p, swap, reduction: triplet(a, b, c, pairwise(p), margin, swap, reduction),
           examples(same_ndim(3, min_dims=1), lambda s: st.fixed_dictionaries({
               "margin": st.sampled_from([1.0, 0.5]), "p": st.sampled_from([1.0, 2.0, 3.0]), "swap": st.booleans(),
               "reduction": _reductions()}))),
    OpCase("triplet_margin_with_distance_loss",
           lambda a, b, c, **p: functional(a).triplet_margin_with_distance_loss(a, b, c, **p),
           lambda a, b, c, margin, swap, reduction: triplet(a, b, c, pairwise(2.0), margin, swap, reduction),
           examples(same_ndim(3, min_dims=1), lambda s: st.fixed_dictionaries({
               "margin": st.sampled_from([1.0, 0.3]), "swap": st.booleans(), "reduction": _reductions()}))),
    OpCase("triplet_margin_with_cosine_distance",
           lambda a, b, c, swap: functional(a).triplet_margin_with_distance_loss(
               a, b, c, distance_function=lambda u, v: 1 - functional(u).cosine_similarity(u, v, dim=-1), swap=swap),
           lambda a, b, c, swap: triplet(a, b, c, cosine_distance, 1.0, swap, "mean"),
           examples(same_ndim(3, min_dims=1), lambda s: st.fixed_dictionaries({"swap": st.booleans()}))),
    OpCase("poisson_nll_loss", lambda x, y, **p: functional(x).poisson_nll_loss(x, y, **p),
           lambda x, y, full, reduction: poisson(x, y, True, full, reduction),
           examples(broadcastable(2), lambda s: st.fixed_dictionaries({"full": st.booleans(),
                                                                      "reduction": _reductions()})),
           make=(normal, counts)),
    OpCase("poisson_nll_loss_rates", lambda x, y, **p: functional(x).poisson_nll_loss(x, y, log_input=False, **p),
           lambda x, y, full, reduction: poisson(x, y, False, full, reduction),
           examples(broadcastable(2), lambda s: st.fixed_dictionaries({"full": st.booleans(),
                                                                      "reduction": _reductions()})),
           make=(positive, counts)),
    OpCase("gaussian_nll_loss", lambda x, y, var, **p: functional(x).gaussian_nll_loss(x, y, var, **p), gaussian,
           drawn_together(_variance_examples()), make=(normal, normal, positive)),
    OpCase("gaussian_nll_loss_float_var", lambda x, y: functional(x).gaussian_nll_loss(x, y, 0.7, full=True),
           lambda x, y: gaussian(x, y, 0.7, True, "mean"), examples(broadcastable(2))),
]
