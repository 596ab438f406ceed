"""The layers' ops in the catalogue: linear, convolution (1-D, 2-D, transposed), pooling, resizing,
attention, embedding, normalisation (batch, layer, group, RMS) and losses."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from minidl.testing.catalog import references as ref
from minidl.testing.harness import Example, OpCase, distinct, examples, functional, library, normal, positive, single


@st.composite
def _conv_shapes(draw):
    n, c, o, k = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h, w = (draw(st.integers(max(1, k - 2 * padding), 5)) for _ in range(2))
    return (n, c, h, w), (o, c, k, k), (o,), {"stride": stride, "padding": padding}


def _conv_examples():
    return _conv_shapes().flatmap(lambda s: examples(st.just(s[:3]), st.just(s[3])))


@st.composite
def _conv1d_examples(draw):
    """conv1d inputs: groups, channels per group, kernel, stride, padding (int, 'same', 'valid'), dilation."""
    groups, n, per_group, out_per_group = (draw(st.integers(1, 2)) for _ in range(4))
    kernel, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, 2, "same", "valid"]))
    stride = 1 if padding == "same" else draw(st.integers(1, 2))
    pads = 0 if isinstance(padding, str) else 2 * padding
    length = draw(st.integers(max(1, dilation * (kernel - 1) + 1 - pads), 6))
    shapes = ((n, groups * per_group, length), (groups * out_per_group, per_group, kernel), (groups * out_per_group,))
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


@st.composite
def _conv_transpose2d_examples(draw):
    """conv_transpose2d inputs: groups, kernel, stride, padding, output_padding (< stride or dilation), dilation."""
    groups, n, per_group, out_per_group = (draw(st.integers(1, 2)) for _ in range(4))
    kh, kw, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    smallest = min((h - 1) * stride + dilation * (kh - 1) + output_padding + 1,
                   (w - 1) * stride + dilation * (kw - 1) + output_padding + 1)
    padding = draw(st.integers(0, min(1, (smallest - 1) // 2)))
    shapes = ((n, groups * per_group, h, w), (groups * per_group, out_per_group, kh, kw), (groups * out_per_group,))
    params = {"stride": stride, "padding": padding, "output_padding": output_padding, "groups": groups,
              "dilation": dilation}
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


@st.composite
def _group_norm_examples(draw):
    """(N, C, ...) with C = groups · channels per group; 3 or more values per group (see batch_norm)."""
    groups, per_group, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    if per_group * int(np.prod(spatial, dtype=np.int64)) < 3:
        spatial += (3,)
    channels = groups * per_group
    return Example(((n, channels) + spatial, (channels,), (channels,)), {"num_groups": groups},
                   seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


@st.composite
def _rms_norm_examples(draw):
    """x with one or two trailing normalised dims, the weight of their shape, eps given or None."""
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    normalized = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=2)))
    params = {"normalized_shape": normalized, "eps": draw(st.sampled_from([None, 1e-5, 0.1]))}
    return Example((lead + normalized, normalized), params, seed=draw(st.integers(0, 2**31)),
                   noncontiguous=draw(st.booleans()))


@st.composite
def _interpolate_examples(draw):
    """Every mode, with an output size or a scale factor (2, 3, 0.5, 1.5), align_corners both ways."""
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "area"]))
    dims = 1 if mode == "linear" else 2 if mode == "bilinear" else draw(st.integers(1, 2))
    spatial = tuple(draw(st.integers(2, 5)) for _ in range(dims))
    params = {"mode": mode}
    if draw(st.booleans()):
        params["size"] = tuple(draw(st.integers(1, 8)) for _ in range(dims))
    else:
        params["scale_factor"] = draw(st.sampled_from([2.0, 3.0, 0.5, 1.5]))
    if mode in ("linear", "bilinear"):
        params["align_corners"] = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    return Example((shape,), params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


def _attention(q, k, v, mask=None, **options):
    """scaled_dot_product_attention with a NumPy mask, the same call in minidl and PyTorch."""
    mask = None if mask is None else library(q).tensor(mask, device=q.device)
    return functional(q).scaled_dot_product_attention(q, k, v, attn_mask=mask, **options)


def _attention_reference(q, k, v, mask=None, is_causal=False, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        mask = np.tril(np.ones(scores.shape[-2:], dtype=bool))
    if mask is not None:
        scores = scores + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    finite = np.isfinite(scores).any(axis=-1, keepdims=True)
    shifted = np.where(finite, scores - np.where(finite, scores.max(axis=-1, keepdims=True), 0), -np.inf)
    weights = np.exp(shifted)
    weights = weights / np.where(weights.sum(-1, keepdims=True) == 0, 1, weights.sum(-1, keepdims=True))
    return weights @ v


@st.composite
def attention_examples(draw, fully_masked_rows=False):
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    length, source, features, value_features = (draw(st.integers(1, 4)) for _ in range(4))
    """Queries, keys and values with batch dims or none, and every kind of mask; rows that see no key
    only when asked (PyTorch gives NaN there, minidl zeros: no parity for those)."""
    variants = ["plain", "bool", "float", "causal", "scale"] + (["row_masked"] if fully_masked_rows else [])
    variant = draw(st.sampled_from(variants))
    params = {}
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if variant in ("bool", "row_masked"):
        mask = rng.random((length, source)) > 0.4
        mask[:, 0] = True
        if variant == "row_masked":
            mask[0] = False  # a query that sees no key: zeros, zero gradients
        params["mask"] = mask
    elif variant == "float":
        params["mask"] = rng.standard_normal((1,) * len(batch) + (length, source))
    elif variant == "causal":
        source = length
        params["is_causal"] = True
    elif variant == "scale":
        params["scale"] = draw(st.floats(0.1, 2.0))
    shapes = (batch + (length, features), batch + (source, features), batch + (source, value_features))
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


def _labels(x):
    """Class indices for logits x (N, C): row i gets class (2i) mod C; class 1 is the ignored one."""
    return library(x).tensor((2 * np.arange(x.shape[0])) % x.shape[1], device=x.device)


def _class_index_cross_entropy(x, reduction):
    labels = (2 * np.arange(x.shape[0])) % x.shape[1]
    kept = labels != 1
    per_row = -np.log(ref.softmax(x, -1))[np.arange(len(labels)), labels] * kept
    if reduction == "none":
        return per_row
    return per_row.sum() if reduction == "sum" else per_row.sum() / kept.sum() if kept.any() else np.float64("nan")


_IDS = np.array([[0, 2, 0], [1, 1, 2]])  # repeated ids: their gradients must add up

CASES = [
    OpCase("scaled_dot_product_attention", _attention, _attention_reference, attention_examples()),
    OpCase("linear", lambda x, w, b: functional(x).linear(x, w, b), lambda x, w, b: x @ w.T + b,
           examples(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).map(
               lambda s: ((2, s[0], s[1]), (s[2], s[1]), (s[2],))))),
    OpCase("conv2d", lambda x, w, b, stride, padding: F.conv2d(x, w, b, stride, padding), ref.conv_reference,
           _conv_examples(), torch_fn=lambda x, w, b, stride, padding: functional(x).conv2d(
               x, w, b, stride, padding)),
    OpCase("max_pool2d", lambda x: functional(x).max_pool2d(x, 2), lambda x: ref.pool_reference(x, 2, np.max),
           examples(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 5), st.integers(2, 5)).map(
               lambda s: (s,))), make=distinct),
    OpCase("avg_pool2d", lambda x: functional(x).avg_pool2d(x, 2), lambda x: ref.pool_reference(x, 2, np.mean),
           examples(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 5), st.integers(2, 5)).map(
               lambda s: (s,)))),
    OpCase("embedding", lambda w: F.embedding(minidl.tensor(_IDS % w.shape[0], device=w.device), w),
           lambda w: w[_IDS % w.shape[0]],
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3)).map(lambda s: (s,))),
           torch_fn=lambda w: functional(w).embedding(
               library(w).tensor([[0, 2, 0], [1, 1, 2]]) % w.shape[0], w)),
    # scale_grad_by_freq divides each row's gradient by its id's count: not the derivative of the forward,
    # so only the forward is checked here (its gradients against PyTorch: tests/nn/test_legacy_arguments.py)
    OpCase("embedding_scale_grad_by_freq", lambda w: F.embedding(
        minidl.tensor(_IDS % w.shape[0], device=w.device), w, scale_grad_by_freq=True, sparse=True),
           lambda w: w[_IDS % w.shape[0]],
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3)).map(lambda s: (s,))),
           torch_fn=lambda w: functional(w).embedding(
               library(w).tensor([[0, 2, 0], [1, 1, 2]]) % w.shape[0], w, scale_grad_by_freq=True),
           differentiable=False),
    OpCase("layer_norm", lambda x, w, b: functional(x).layer_norm(x, (x.shape[-1],), w, b),
           lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w + b,
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(3, 5)).map(  # 3+: see batch_norm
               lambda s: ((s[0], s[1], s[2]), (s[2],), (s[2],))))),
    OpCase("batch_norm", lambda x, w, b: functional(x).batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: ((x - x.mean((0, 2), keepdims=True)) / np.sqrt(x.var((0, 2), keepdims=True) + 1e-5)
                            * w[:, None] + b[:, None]),
           # 3 or more values per channel: with 2, x̂ = ±1 whatever x is, so dL/dx is 0 and only rounding
           # noise (amplified by 1/σ) would be compared
           examples(st.tuples(st.integers(2, 4), st.integers(1, 3), st.integers(1, 4)).filter(
               lambda s: s[0] * s[2] >= 3).map(lambda s: ((s[0], s[1], s[2]), (s[1],), (s[1],))))),
    OpCase("batch_norm_eval", lambda x, w, b, m, v: functional(x).batch_norm(x, m, v, w, b, training=False),
           lambda x, w, b, m, v: (x - m[:, None]) / np.sqrt(v[:, None] + 1e-5) * w[:, None] + b[:, None],
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4)).map(
               lambda s: ((s[0], s[1], s[2]), (s[1],), (s[1],), (s[1],), (s[1],)))),
           make=(normal, normal, normal, normal, positive), grad_inputs=(0, 1, 2)),
    OpCase("mse_loss", lambda x, y: functional(x).mse_loss(x, y), lambda x, y: ((x - y) ** 2).mean(),
           examples(single().map(lambda s: (s[0], s[0])))),
    OpCase("l1_loss", lambda x, y, reduction: functional(x).l1_loss(x, y, reduction=reduction),
           lambda x, y, reduction: ref.reduced_loss(np.abs(x - y), reduction),
           examples(single().map(lambda s: (s[0], s[0])),
                    lambda s: st.sampled_from(["mean", "sum", "none"]).map(lambda r: {"reduction": r}))),
    OpCase("cross_entropy_probabilities", lambda x, p: functional(x).cross_entropy(x, p.softmax(-1).detach()),
           lambda x, p: -(ref.softmax(p, -1) * np.log(ref.softmax(x, -1))).sum(-1).mean(),
           examples(st.tuples(st.integers(1, 4), st.integers(2, 5)).map(lambda s: (s, s))), grad_inputs=(0,)),
    OpCase("cross_entropy_class_indices",
           lambda x, reduction: functional(x).cross_entropy(x, _labels(x), reduction=reduction, ignore_index=1),
           lambda x, reduction: _class_index_cross_entropy(x, reduction),
           examples(st.tuples(st.integers(1, 5), st.integers(2, 5)).map(lambda s: (s,)),
                    lambda s: st.sampled_from(["mean", "sum", "none"]).map(lambda r: {"reduction": r}))),
    OpCase("binary_cross_entropy_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid().detach()),
           lambda x, y: np.mean(np.logaddexp(0, x) - x / (1 + np.exp(-y))),
           examples(single().map(lambda s: (s[0], s[0]))), grad_inputs=(0,),
           torch_fn=lambda x, y: functional(x).binary_cross_entropy_with_logits(
               x, y.sigmoid().detach())),
    OpCase("conv1d", lambda x, w, b, **options: functional(x).conv1d(x, w, b, **options), ref.conv1d_reference,
           _conv1d_examples()),
    OpCase("conv_transpose2d", lambda x, w, b, **options: functional(x).conv_transpose2d(x, w, b, **options),
           ref.conv_transpose2d_reference, _conv_transpose2d_examples()),
    OpCase("group_norm", lambda x, w, b, num_groups: functional(x).group_norm(x, num_groups, w, b),
           ref.group_norm, _group_norm_examples()),
    OpCase("rms_norm", lambda x, w, normalized_shape, eps: functional(x).rms_norm(x, normalized_shape, w, eps),
           ref.rms_norm, _rms_norm_examples()),
    OpCase("interpolate", lambda x, **options: functional(x).interpolate(x, **options), ref.interpolate,
           _interpolate_examples()),
]
