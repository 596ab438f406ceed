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


# --- indexing, repeating, norms ----------------------------------------------------------------

def open_grid(index, dim):
    """The NumPy index that reads ``index`` in dim ``dim`` and each other dim's own positions."""
    return tuple(index if a == dim else np.arange(n).reshape([-1 if b == a else 1 for b in range(index.ndim)])
                 for a, n in enumerate(index.shape))


def gather(x, dim, index):
    """out[i][j] = x[index[i][j]][j] (dim 0), by definition: one read per output element."""
    index = np.asarray(index)
    return x[open_grid(index, dim % x.ndim)]


def scatter(x, src, dim, index, accumulate):
    """x with src[i][j] added (or written) at x[index[i][j]][j] (dim 0), one element after another."""
    out, index = x.copy(), np.asarray(index)
    for position in np.ndindex(*index.shape):
        target = list(position)
        target[dim % x.ndim] = index[position]
        out[tuple(target)] = (out[tuple(target)] if accumulate else 0.0) + src[position]
    return out


def narrow(x, dim, start, length):
    start = start % x.shape[dim] if start < 0 else start
    return x[(slice(None),) * (dim % x.ndim) + (slice(start, start + length),)]


def repeat(x, sizes):
    return np.tile(x.reshape((1,) * (len(sizes) - x.ndim) + x.shape), sizes)


def p_norm(x, p=2, dim=None, keepdim=False):
    """‖x‖_p over dims from the definitions (p = 'fro' is p = 2; ±inf: max/min |x|; 0: nonzero count)."""
    axes, size = named_dims(dim, x.ndim), np.abs(x)
    p = 2 if p == "fro" else p
    if p == math.inf:
        out = np.max(size, axis=axes, keepdims=True)
    elif p == -math.inf:
        out = np.min(size, axis=axes, keepdims=True)
    elif p == 0:
        out = np.sum(size != 0, axis=axes, keepdims=True).astype(float)
    else:
        out = np.sum(size ** p, axis=axes, keepdims=True) ** (1.0 / p)
    return out if keepdim else out.reshape([n for a, n in enumerate(x.shape) if a not in axes])


def normalize(x, p=2.0, dim=1, eps=1e-12):
    return x / np.maximum(p_norm(x, p, dim, keepdim=True), eps)


# --- conv1d, conv_transpose2d, group_norm, rms_norm, interpolate ------------------------------------------------

def conv1d_reference(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, i] = b[o] + Σ_{c, p} w[o, c, p] · x[n, group(o)·C/groups + c, i·s + p·d] (x zero-padded)."""
    k, per_group, out_per_group = w.shape[2], w.shape[1], w.shape[0] // groups
    if padding == "same":
        total = dilation * (k - 1)
        padding = (total // 2, total - total // 2)
    elif padding == "valid":
        padding = (0, 0)
    else:
        padding = (padding, padding)
    x = np.pad(x, [(0, 0), (0, 0), padding])
    length = (x.shape[2] - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], length))
    for o in range(w.shape[0]):
        first = (o // out_per_group) * per_group
        for i in range(length):
            window = x[:, first:first + per_group, i * stride:i * stride + dilation * (k - 1) + 1:dilation]
            out[:, o, i] = np.einsum("ncp,cp->n", window, w[o]) + b[o]
    return out


def conv_transpose2d_reference(x, w, b, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Every input pixel x[n, c, i, j] adds x·w[c, o, p, q] at output (i·s + p·d - pad, j·s + q·d - pad)
    of each output channel o of its group; the output is cropped to (H - 1)·s - 2·pad + d·(k - 1) + op + 1."""
    n, channels, h, width = x.shape
    per_group, out_per_group, kh, kw = w.shape[0] // groups, w.shape[1], w.shape[2], w.shape[3]
    full = np.zeros((n, out_per_group * groups, (h - 1) * stride + dilation * (kh - 1) + 1 + output_padding,
                     (width - 1) * stride + dilation * (kw - 1) + 1 + output_padding))
    for c in range(channels):
        group = c // per_group
        outputs = slice(group * out_per_group, (group + 1) * out_per_group)
        for i in range(h):
            for j in range(width):
                for p in range(kh):
                    for q in range(kw):
                        full[:, outputs, i * stride + p * dilation, j * stride + q * dilation] += \
                            x[:, c, i, j][:, None] * w[c, :, p, q][None, :]
    out_h, out_w = full.shape[2] - 2 * padding, full.shape[3] - 2 * padding
    return full[:, :, padding:padding + out_h, padding:padding + out_w] + b[None, :, None, None]


def group_norm(x, w, b, num_groups, eps=1e-5):
    """Each sample's channels in num_groups groups, each normalised over its channels and positions
    (biased variance), then w·x̂ + b per channel."""
    grouped = x.reshape(x.shape[0], num_groups, -1)
    mean, var = grouped.mean(axis=2, keepdims=True), grouped.var(axis=2, keepdims=True)
    x_hat = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return x_hat * w.reshape(per_channel) + b.reshape(per_channel)


def rms_norm(x, w, normalized_shape, eps=None):
    """x / √(mean of x² over the trailing normalized_shape dims + eps) · w; eps=None: float64's machine epsilon."""
    eps = np.finfo(np.float64).eps if eps is None else eps
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    return x / np.sqrt((x ** 2).mean(axis=axes, keepdims=True) + eps) * w


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """F.interpolate from the definitions of its modes, one spatial dim after another (see minidl/ops/resize.py
    for the formulas); ``scale`` is 1/scale_factor when one is given, else in/out."""
    for axis in range(2, x.ndim):
        n = x.shape[axis]
        out = size[axis - 2] if isinstance(size, tuple) else size if size is not None else int(n * scale_factor)
        scale = in_over_out = n / out
        if scale_factor is not None and mode != "area":
            scale = 1 / scale_factor
        matrix = np.zeros((out, n))
        for i in range(out):
            if mode == "nearest":
                matrix[i, min(int(np.floor(i * scale)), n - 1)] = 1
            elif mode == "nearest-exact":
                matrix[i, min(int(np.floor((i + 0.5) * scale)), n - 1)] = 1
            elif mode == "area":
                start, stop = int(np.floor(i * in_over_out)), int(np.ceil((i + 1) * in_over_out))
                matrix[i, start:stop] = 1 / (stop - start)
            else:  # linear along this dim
                if align_corners:
                    source = i * (n - 1) / (out - 1) if out > 1 else 0.0
                else:
                    source = max(scale * (i + 0.5) - 0.5, 0.0) if out != n else float(i)
                low = min(int(np.floor(source)), n - 1)
                matrix[i, low] += 1 - (source - low)
                matrix[i, min(low + 1, n - 1)] += source - low
        x = np.moveaxis(np.tensordot(matrix, np.moveaxis(x, axis, 0), axes=1), 0, axis)
    return x
