"""Every differentiable op of minidl declared as data for the test harness (``minidl.testing.harness``).

Each :class:`~minidl.testing.harness.OpCase` names the op, calls it as a user would, gives an
independent NumPy reference and the same op in PyTorch, and says how to draw shapes
and values. ``tests/test_ops.py`` turns the list into forward, gradient, strict-device
and PyTorch-parity tests; ``minidl gradcheck`` prints one gradient check per case.
Requires hypothesis (``pip install -e ".[dev]"``).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from minidl.testing.harness import (OpCase, avoiding, broadcastable, dim_of, distinct, examples, normal, positive,
                                   single)


def _softmax(x, dim):
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


def _erf(x):
    return np.vectorize(math.erf)(x)


def _matmul_shapes():
    """Compatible (a, b) shapes for every matmul form: 1-D, 2-D, batched and broadcast."""
    n, k, m, b = (st.integers(1, 4) for _ in range(4))
    return st.one_of(
        st.tuples(n, k, m).map(lambda s: ((s[0], s[1]), (s[1], s[2]))),
        st.tuples(k, m).map(lambda s: ((s[0],), (s[0], s[1]))),
        st.tuples(n, k).map(lambda s: ((s[0], s[1]), (s[1],))),
        k.map(lambda s: ((s,), (s,))),
        st.tuples(b, n, k, m).map(lambda s: ((s[0], s[1], s[2]), (s[0], s[2], s[3]))),
        st.tuples(b, n, k, m).map(lambda s: ((1, s[1], s[2]), (s[0], s[2], s[3]))),
        st.tuples(b, n, k, m).map(lambda s: ((s[1], s[2]), (s[0], s[2], s[3]))),
        st.tuples(b, n, k, m).map(lambda s: ((s[0], s[1], s[2]), (s[2], s[3]))),
    )


def _two_d(min_side=1):
    return single(min_dims=2, max_dims=3, min_side=min_side)


def _index_params(shapes):
    """A basic or advanced index valid for the first shape."""
    shape = shapes[0]
    first = shape[0]
    return st.sampled_from([
        {"index": (slice(None, None, 2),)},
        {"index": (slice(-1, None, -1),)},
        {"index": (first - 1,)},
        {"index": (None, Ellipsis)},
        {"index": (np.array([0, first - 1, 0]),)},
    ])


def _conv_reference(x, w, b, stride, padding):
    """Cross-correlation by definition: out[n, o, i, j] = b[o] + Σ w[o, c, p, q] x[n, c, i·s + p, j·s + q]."""
    x = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    k = w.shape[-1]
    out_h, out_w = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    out = np.empty((x.shape[0], w.shape[0], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("ncpq,ocpq->no", patch, w) + b
    return out


def _pool_reference(x, kernel, reduce):
    n, c, h, w = x.shape
    out_h, out_w = h // kernel, w // kernel
    windows = x[:, :, :out_h * kernel, :out_w * kernel].reshape(n, c, out_h, kernel, out_w, kernel)
    return reduce(windows, axis=(3, 5))


@st.composite
def _conv_shapes(draw):
    n, c, o, k = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h, w = (draw(st.integers(max(1, k - 2 * padding), 5)) for _ in range(2))
    return (n, c, h, w), (o, c, k, k), (o,), {"stride": stride, "padding": padding}


def _conv_examples():
    return _conv_shapes().flatmap(lambda s: examples(st.just(s[:3]), st.just(s[3])))


def _torch_index(x, index):
    """The same index in PyTorch, which has no negative slice steps (flip instead)."""
    import torch
    if isinstance(index[0], slice) and index[0].step == -1:
        return x.flip(0)
    return x[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)]


_IDS = np.array([[0, 2, 0], [1, 1, 2]])  # repeated ids: their gradients must add up

CASES = [
    # --- arithmetic -----------------------------------------------------------------------
    OpCase("add", lambda x, y: x + y, np.add, examples(broadcastable(2)), torch_fn=lambda x, y: x + y),
    OpCase("sub", lambda x, y: x - y, np.subtract, examples(broadcastable(2)), torch_fn=lambda x, y: x - y),
    OpCase("mul", lambda x, y: x * y, np.multiply, examples(broadcastable(2)), torch_fn=lambda x, y: x * y),
    OpCase("div", lambda x, y: x / y, np.divide, examples(broadcastable(2)), make=(avoiding(0), positive),
           torch_fn=lambda x, y: x / y),
    OpCase("neg", lambda x: -x, np.negative, examples(single()), torch_fn=lambda x: -x),
    OpCase("scalar_ops", lambda x: (x * 2.0, 3 - x, 1.5 / x, x + 1), lambda x: (x * 2, 3 - x, 1.5 / x, x + 1),
           examples(single()), make=positive, torch_fn=lambda x: (x * 2.0, 3 - x, 1.5 / x, x + 1)),
    OpCase("pow_scalar", lambda x, p: x ** p, lambda x, p: x ** p,
           examples(single(), lambda s: st.fixed_dictionaries({"p": st.sampled_from([2, 3, 0.5, -1.5])})),
           make=positive, torch_fn=lambda x, p: x ** p),
    OpCase("pow_tensor", lambda x, y: x ** y, np.power, examples(broadcastable(2)), make=(positive, avoiding()),
           torch_fn=lambda x, y: x ** y),
    OpCase("rpow", lambda x: 2 ** x, lambda x: 2.0 ** x, examples(single()), torch_fn=lambda x: 2 ** x),
    OpCase("exp", lambda x: x.exp(), np.exp, examples(single()), torch_fn=lambda x: x.exp()),
    OpCase("log", lambda x: x.log(), np.log, examples(single()), make=positive, torch_fn=lambda x: x.log()),
    OpCase("sqrt", lambda x: x.sqrt(), np.sqrt, examples(single()), make=positive, torch_fn=lambda x: x.sqrt()),
    OpCase("abs", lambda x: abs(x), np.abs, examples(single()), make=avoiding(0), torch_fn=lambda x: x.abs()),
    OpCase("clamp", lambda x, lo, hi: x.clamp(lo, hi), lambda x, lo, hi: np.clip(x, lo, hi),
           examples(single(), lambda s: st.sampled_from([{"lo": -0.5, "hi": 0.5}, {"lo": -0.5, "hi": None},
                                                        {"lo": None, "hi": 0.3}])),
           make=avoiding(-0.5, 0.5, 0.3), torch_fn=lambda x, lo, hi: x.clamp(lo, hi)),
    OpCase("maximum", minidl.maximum, np.maximum, examples(broadcastable(2)), make=distinct,
           torch_fn=lambda x, y: __import__("torch").maximum(x, y)),
    OpCase("minimum", minidl.minimum, np.minimum, examples(broadcastable(2)), make=distinct,
           torch_fn=lambda x, y: __import__("torch").minimum(x, y)),
    OpCase("where", lambda c, x, y: minidl.where(c > 0, x, y), lambda c, x, y: np.where(c > 0, x, y),
           examples(broadcastable(3)), grad_inputs=(1, 2),
           torch_fn=lambda c, x, y: __import__("torch").where(c > 0, x, y)),
    # --- matmul ---------------------------------------------------------------------------------
    OpCase("matmul", lambda a, b: a @ b, np.matmul, examples(_matmul_shapes()), torch_fn=lambda a, b: a @ b),
    OpCase("linear", F.linear, lambda x, w, b: x @ w.T + b,
           examples(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)).map(
               lambda s: ((2, s[0], s[1]), (s[2], s[1]), (s[2],)))),
           torch_fn=lambda x, w, b: __import__("torch").nn.functional.linear(x, w, b)),
    OpCase("conv2d", lambda x, w, b, stride, padding: F.conv2d(x, w, b, stride, padding), _conv_reference,
           _conv_examples(), torch_fn=lambda x, w, b, stride, padding: __import__("torch").nn.functional.conv2d(
               x, w, b, stride, padding)),
    OpCase("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: _pool_reference(x, 2, np.max),
           examples(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 5), st.integers(2, 5)).map(
               lambda s: (s,))), make=distinct, torch_fn=lambda x: __import__("torch").nn.functional.max_pool2d(x, 2)),
    OpCase("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: _pool_reference(x, 2, np.mean),
           examples(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 5), st.integers(2, 5)).map(
               lambda s: (s,))), torch_fn=lambda x: __import__("torch").nn.functional.avg_pool2d(x, 2)),
    OpCase("scaled_dot_product_attention", F.scaled_dot_product_attention,
           lambda q, k, v: _softmax(q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]), -1) @ v,
           examples(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).map(
               lambda s: ((s[0], s[1], s[3]), (s[0], s[2], s[3]), (s[0], s[2], s[3])))),
           torch_fn=lambda q, k, v: __import__("torch").nn.functional.scaled_dot_product_attention(q, k, v)),
    OpCase("embedding", lambda w: F.embedding(minidl.tensor(_IDS % w.shape[0], device=w.device), w),
           lambda w: w[_IDS % w.shape[0]],
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3)).map(lambda s: (s,))),
           torch_fn=lambda w: __import__("torch").nn.functional.embedding(
               __import__("torch").tensor([[0, 2, 0], [1, 1, 2]]) % w.shape[0], w)),
    # --- reductions -----------------------------------------------------------------------------
    OpCase("sum", lambda x, dim, keepdim: x.sum(dim, keepdim), lambda x, dim, keepdim: x.sum(dim, keepdims=keepdim),
           examples(single(), lambda s: dim_of(s, multiple=True, allow_none=True)),
           torch_fn=lambda x, dim, keepdim: x.sum(tuple(range(x.ndim)) if dim is None else dim, keepdim)),
    OpCase("mean_axis_alias", lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim),
           lambda x, dim, keepdim: x.mean(dim, keepdims=keepdim),
           examples(single(min_dims=1), lambda s: dim_of(s, multiple=True)),
           torch_fn=lambda x, dim, keepdim: x.mean(dim, keepdim)),
    OpCase("max_all", lambda x: x.max(), np.max, examples(single()), make=distinct, torch_fn=lambda x: x.max()),
    OpCase("min_all", lambda x: x.min(), np.min, examples(single()), make=distinct, torch_fn=lambda x: x.min()),
    OpCase("max_dim", lambda x, dim, keepdim: tuple(x.max(dim, keepdim)),
           lambda x, dim, keepdim: (x.max(dim, keepdims=keepdim), x.argmax(dim, keepdims=keepdim)),
           examples(single(min_dims=1), lambda s: dim_of(s)), make=distinct,
           torch_fn=lambda x, dim, keepdim: tuple(x.max(dim, keepdim))),
    OpCase("min_dim", lambda x, dim, keepdim: tuple(x.min(dim, keepdim)),
           lambda x, dim, keepdim: (x.min(dim, keepdims=keepdim), x.argmin(dim, keepdims=keepdim)),
           examples(single(min_dims=1), lambda s: dim_of(s)), make=distinct,
           torch_fn=lambda x, dim, keepdim: tuple(x.min(dim, keepdim))),
    OpCase("amax", lambda x, dim, keepdim: x.amax(dim, keepdim), lambda x, dim, keepdim: x.max(dim, keepdims=keepdim),
           examples(single(min_dims=1), lambda s: dim_of(s, multiple=True)), make=distinct,
           torch_fn=lambda x, dim, keepdim: x.amax(dim, keepdim)),
    OpCase("amin", lambda x, dim, keepdim: x.amin(dim, keepdim), lambda x, dim, keepdim: x.min(dim, keepdims=keepdim),
           examples(single(min_dims=1), lambda s: dim_of(s, multiple=True)), make=distinct,
           torch_fn=lambda x, dim, keepdim: x.amin(dim, keepdim)),
    OpCase("var", lambda x, dim, c: x.var(dim, correction=c), lambda x, dim, c: x.var(dim, ddof=c),
           examples(single(min_dims=1, min_side=2), lambda s: st.fixed_dictionaries(
               {"dim": st.integers(-len(s[0]), len(s[0]) - 1), "c": st.sampled_from([0, 1])})),
           torch_fn=lambda x, dim, c: x.var(dim, correction=c)),
    OpCase("std_unbiased", lambda x, dim, unbiased: x.std(dim, unbiased),
           lambda x, dim, unbiased: x.std(dim, ddof=int(unbiased)),
           examples(single(min_dims=1, min_side=2), lambda s: st.fixed_dictionaries(
               {"dim": st.integers(-len(s[0]), len(s[0]) - 1), "unbiased": st.booleans()})),
           torch_fn=lambda x, dim, unbiased: x.std(dim, unbiased=unbiased)),
    OpCase("logsumexp", lambda x, dim, keepdim: x.logsumexp(dim, keepdim),
           lambda x, dim, keepdim: np.log(np.exp(x).sum(dim, keepdims=keepdim)),
           examples(single(min_dims=1), lambda s: dim_of(s, multiple=True)),
           torch_fn=lambda x, dim, keepdim: x.logsumexp(dim, keepdim)),
    # --- shape ----------------------------------------------------------------------------------
    OpCase("reshape", lambda x: x.reshape(-1, 1), lambda x: x.reshape(-1, 1), examples(single()),
           torch_fn=lambda x: x.reshape(-1, 1)),
    OpCase("view_flatten", lambda x: x.view(x.shape[0], -1).flatten(), lambda x: x.reshape(-1),
           examples(single(min_dims=1)), torch_fn=lambda x: x.view(x.shape[0], -1).flatten()),
    OpCase("transpose", lambda x: x.transpose(0, -1), lambda x: np.swapaxes(x, 0, -1), examples(single(min_dims=1)),
           torch_fn=lambda x: x.transpose(0, -1)),
    OpCase("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1),
           examples(single(min_dims=3, max_dims=3)), torch_fn=lambda x: x.permute(2, 0, 1)),
    OpCase("T_and_mT", lambda x: (x.T, x.mT), lambda x: (x.T, np.swapaxes(x, -1, -2)),
           examples(single(min_dims=2, max_dims=2)), torch_fn=lambda x: (x.T, x.mT)),
    OpCase("squeeze_unsqueeze", lambda x: (x.unsqueeze(-1).squeeze(), x.unsqueeze(0).squeeze(0)),
           lambda x: (np.squeeze(x[..., None]), x),
           examples(single()), torch_fn=lambda x: (x.unsqueeze(-1).squeeze(), x.unsqueeze(0).squeeze(0))),
    OpCase("expand", lambda x: x.unsqueeze(0).expand(3, *([-1] * x.ndim)),
           lambda x: np.broadcast_to(x[None], (3,) + x.shape), examples(single()),
           torch_fn=lambda x: x.unsqueeze(0).expand(3, *([-1] * x.ndim))),
    OpCase("getitem", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), _index_params), torch_fn=lambda x, index: _torch_index(x, index)),
    OpCase("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], examples(single(min_dims=1)),
           make=avoiding(0), torch_fn=lambda x: x[x > 0]),
    OpCase("cat", lambda x, y: minidl.cat([x, y, x], dim=-1), lambda x, y: np.concatenate([x, y, x], -1),
           examples(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).map(
               lambda s: ((s[0], s[1]), (s[0], s[2])))),
           torch_fn=lambda x, y: __import__("torch").cat([x, y, x], dim=-1)),
    OpCase("stack", lambda x, y: minidl.stack([x, y], dim=1), lambda x, y: np.stack([x, y], 1),
           examples(single(min_dims=1).map(lambda s: (s[0], s[0]))),
           torch_fn=lambda x, y: __import__("torch").stack([x, y], dim=1)),
    OpCase("split_chunk", lambda x: x.split(2, dim=-1) + x.chunk(2, dim=0) + x.split([1, x.shape[-1] - 1], -1),
           lambda x: tuple(np.split(x, range(2, x.shape[-1], 2), -1))
           + tuple(np.array_split(x, min(2, x.shape[0]), 0) if x.shape[0] > 1 else [x])
           + (x[..., :1], x[..., 1:]),
           examples(single(min_dims=2, max_dims=2)),
           torch_fn=lambda x: x.split(2, dim=-1) + x.chunk(2, dim=0) + x.split([1, x.shape[-1] - 1], -1)),
    OpCase("pad_constant", lambda x: F.pad(x, (1, 2, -1, 1), value=0.5),
           lambda x: np.pad(x[..., 1:, :], [(0, 0)] * (x.ndim - 2) + [(0, 1), (1, 2)], constant_values=0.5),
           examples(single(min_dims=2, min_side=2)),
           torch_fn=lambda x: __import__("torch").nn.functional.pad(x, (1, 2, -1, 1), value=0.5)),
    OpCase("pad_modes", lambda x, mode: F.pad(x, (1, 1), mode=mode),
           lambda x, mode: np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 1)],
                                  mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]),
           examples(single(min_dims=2, max_dims=3, min_side=2),
                    lambda s: st.fixed_dictionaries({"mode": st.sampled_from(["reflect", "replicate", "circular"])})),
           torch_fn=lambda x, mode: __import__("torch").nn.functional.pad(x, (1, 1), mode=mode)),
    # --- activations ----------------------------------------------------------------------------
    OpCase("sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), examples(single()),
           torch_fn=lambda x: x.sigmoid()),
    OpCase("sigmoid_extreme", lambda x: (x * 50).sigmoid(), lambda x: 1 / (1 + np.exp(-50 * x)), examples(single()),
           make=avoiding(0, gap=0.3), torch_fn=lambda x: (x * 50).sigmoid()),
    OpCase("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), examples(single()), make=avoiding(0),
           torch_fn=lambda x: x.relu()),
    OpCase("tanh", lambda x: x.tanh(), np.tanh, examples(single()), torch_fn=lambda x: x.tanh()),
    OpCase("gelu", lambda x: F.gelu(x), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), examples(single()),
           torch_fn=lambda x: __import__("torch").nn.functional.gelu(x)),
    OpCase("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
           lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), examples(single()),
           torch_fn=lambda x: __import__("torch").nn.functional.gelu(x, approximate="tanh")),
    OpCase("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), examples(single()),
           make=avoiding(0), torch_fn=lambda x: __import__("torch").nn.functional.leaky_relu(x, 0.2)),
    OpCase("softmax", lambda x, dim: x.softmax(dim), _softmax,
           examples(single(min_dims=1), lambda s: dim_of(s, keepdim=False)), torch_fn=lambda x, dim: x.softmax(dim)),
    OpCase("log_softmax", lambda x, dim: x.log_softmax(dim), lambda x, dim: np.log(_softmax(x, dim)),
           examples(single(min_dims=1), lambda s: dim_of(s, keepdim=False)),
           torch_fn=lambda x, dim: x.log_softmax(dim)),
    # --- normalisation and losses ------------------------------------------------------------------
    OpCase("layer_norm", lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b),
           lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w + b,
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(2, 5)).map(
               lambda s: ((s[0], s[1], s[2]), (s[2],), (s[2],)))),
           torch_fn=lambda x, w, b: __import__("torch").nn.functional.layer_norm(x, (x.shape[-1],), w, b)),
    OpCase("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: ((x - x.mean((0, 2), keepdims=True)) / np.sqrt(x.var((0, 2), keepdims=True) + 1e-5)
                            * w[:, None] + b[:, None]),
           examples(st.tuples(st.integers(2, 4), st.integers(1, 3), st.integers(1, 4)).map(
               lambda s: ((s[0], s[1], s[2]), (s[1],), (s[1],)))),
           torch_fn=lambda x, w, b: __import__("torch").nn.functional.batch_norm(x, None, None, w, b, training=True)),
    OpCase("batch_norm_eval", lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False),
           lambda x, w, b, m, v: (x - m[:, None]) / np.sqrt(v[:, None] + 1e-5) * w[:, None] + b[:, None],
           examples(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4)).map(
               lambda s: ((s[0], s[1], s[2]), (s[1],), (s[1],), (s[1],), (s[1],)))),
           make=(normal, normal, normal, normal, positive), grad_inputs=(0, 1, 2),
           torch_fn=lambda x, w, b, m, v: __import__("torch").nn.functional.batch_norm(x, m, v, w, b,
                                                                                     training=False)),
    OpCase("mse_loss", lambda x, y: F.mse_loss(x, y), lambda x, y: ((x - y) ** 2).mean(),
           examples(single().map(lambda s: (s[0], s[0]))),
           torch_fn=lambda x, y: __import__("torch").nn.functional.mse_loss(x, y)),
    OpCase("cross_entropy_probabilities", lambda x, p: F.cross_entropy(x, p.softmax(-1).detach()),
           lambda x, p: -(_softmax(p, -1) * np.log(_softmax(x, -1))).sum(-1).mean(),
           examples(st.tuples(st.integers(1, 4), st.integers(2, 5)).map(lambda s: (s, s))), grad_inputs=(0,),
           torch_fn=lambda x, p: __import__("torch").nn.functional.cross_entropy(x, p.softmax(-1).detach())),
    OpCase("binary_cross_entropy_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid().detach()),
           lambda x, y: np.mean(np.logaddexp(0, x) - x / (1 + np.exp(-y))),
           examples(single().map(lambda s: (s[0], s[0]))), grad_inputs=(0,),
           torch_fn=lambda x, y: __import__("torch").nn.functional.binary_cross_entropy_with_logits(
               x, y.sigmoid().detach())),
    # --- casts and non-differentiable ops -------------------------------------------------------------
    OpCase("clone_to", lambda x: (x.clone(), x.to(x.dtype), x.to("cpu").to(x.device)), lambda x: (x, x, x),
           examples(single()), torch_fn=lambda x: (x.clone(), x.to(x.dtype), x.to("cpu"))),
    OpCase("comparisons", lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y),
           lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y), examples(broadcastable(2)),
           make=distinct, differentiable=False),
    OpCase("argmax_argmin", lambda x, dim, keepdim: (x.argmax(dim, keepdim), x.argmin(dim, keepdim)),
           lambda x, dim, keepdim: (x.argmax(dim, keepdims=keepdim), x.argmin(dim, keepdims=keepdim)),
           examples(single(min_dims=1), lambda s: dim_of(s)), make=distinct, differentiable=False),
    OpCase("isnan_isfinite", lambda x: (x.log().isnan(), x.log().isfinite()),
           lambda x: (np.isnan(np.log(x)), np.isfinite(np.log(x))), examples(single()), differentiable=False),
]
