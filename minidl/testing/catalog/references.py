"""Plain-NumPy float64 references for the op catalogue, written from the definitions."""

from __future__ import annotations

import math

import numpy as np


def stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def log_softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def logsumexp(x, dim=None, keepdim=False):
    axes = named_dims(dim, x.ndim)
    m = np.max(x, axis=axes, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=axes)


def named_dims(dim, ndim):
    """The non-negative dims a ``dim`` argument names (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(d % max(ndim, 1) for d in dims)) if ndim else ()

def element_count(shape, dim):
    return int(np.prod([shape[d] for d in named_dims(dim, len(shape))], dtype=np.int64))


def resolve_shape(shape, like):
    lead = len(shape) - len(like)
    return tuple(like[i - lead] if s == -1 else s for i, s in enumerate(shape))


erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return x * 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def np_dim(dim, ndim):
    """A dim argument as NumPy's axis (0-d arrays: dim 0 / -1 mean "no axis")."""
    return None if (ndim == 0 and dim is not None) else (tuple(dim) if isinstance(dim, (tuple, list)) else dim)


def reduce(np_fn):
    return lambda x, dim=None, keepdim=False: np_fn(x, axis=np_dim(dim, x.ndim), keepdims=keepdim)


def extreme_along(x, dim, keepdim, largest):
    if x.ndim == 0:
        return x, np.zeros((), dtype=np.int64)
    index = np.argmax(x, axis=dim, keepdims=True) if largest else np.argmin(x, axis=dim, keepdims=True)
    values = np.take_along_axis(x, index, axis=dim)
    if not keepdim:
        values, index = np.squeeze(values, axis=dim), np.squeeze(index, axis=dim)
    return values, index.astype(np.int64)


def var(x, dim=None, keepdim=False, unbiased=None, correction=None):
    c = correction if correction is not None else (0 if unbiased is False else 1)
    axes = named_dims(dim, x.ndim)
    n = element_count(x.shape, dim)
    centered = x - np.mean(x, axis=axes, keepdims=True)
    out = np.sum(centered ** 2, axis=axes, keepdims=True) / (n - c)
    return out if keepdim else np.squeeze(out, axis=axes)


def torch_var(x, dim=None, keepdim=False, unbiased=None, correction=None, std=False):
    c = correction if correction is not None else (0 if unbiased is False else 1)
    return (x.std if std else x.var)(dim=dim, correction=c, keepdim=keepdim)


def split_np(x, split_size_or_sections, dim=0):
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        bounds = list(range(split_size_or_sections, length, split_size_or_sections))
    else:
        bounds = list(np.cumsum(split_size_or_sections)[:-1])
    return np.split(x, bounds, axis=dim)


def chunk_np(x, chunks, dim=0):
    step = -(-x.shape[dim] // chunks)
    return split_np(x, step, dim)


def expand_np(x, shape):
    return np.broadcast_to(x, resolve_shape(shape, x.shape))


def unsqueeze_np(x, dim):
    return np.expand_dims(x, dim % (x.ndim + 1))


def squeeze_np(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = named_dims(dim, x.ndim)
    return np.squeeze(x, axis=tuple(d for d in dims if x.shape[d] == 1))


def flatten_np(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:]) if x.size else x.reshape(
        x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


def transpose_np(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1) if x.ndim else x


def conv_reference(x, w, b, stride, padding):
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


def pool_reference(x, kernel, reduce):
    n, c, h, w = x.shape
    out_h, out_w = h // kernel, w // kernel
    windows = x[:, :, :out_h * kernel, :out_w * kernel].reshape(n, c, out_h, kernel, out_w, kernel)
    return reduce(windows, axis=(3, 5))


def pad(x, pad, mode, value=0.0):
    """F.pad in NumPy: crop for negative constant widths, then np.pad."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    crop = tuple(slice(max(-lo, 0), x.shape[a] - max(-hi, 0)) for a, (lo, hi) in enumerate(widths))
    x = x[crop]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return np.pad(x, grow, mode="constant", constant_values=value)
    return np.pad(x, grow, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


def edit_in_place_np(x):
    """The in-place edits of the catalogue's inplace_edits_in_graph, on a NumPy array."""
    y = x.copy()
    y[x > 0] = 0.5
    y[x < -1] = -2.0
    y += x
    y *= x
    y = np.minimum(y, 2.0)
    return (y - 1) / 2


def edit_views_np(x):
    """The view edits of the catalogue's inplace_edits_of_views, on a NumPy array."""
    y = x * 2
    y[0] += x[-1]
    y[:, 0] *= 3
    y.reshape(-1)[:1] *= 2
    y.T[0] -= 1
    return y


def reduced_loss(values, reduction):
    """A loss's per-element values reduced as ``reduction`` says ('mean', 'sum' or 'none')."""
    return values if reduction == "none" else values.sum() if reduction == "sum" else values.mean()
