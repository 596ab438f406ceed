"""Adaptive max pooling over (N, C, H, W): max pooling to a fixed output size.

Output row i covers input rows start_i = ⌊i·H/Ho⌋ to end_i = ⌈(i+1)·H/Ho⌉ - 1 (the same windows as
adaptive average pooling in pool.py), and likewise for columns; windows may differ in size by one
and may overlap. Every window is read as kh·kw offsets, kh the largest window height: offset p of
window i reads row min(start_i + p, end_i - 1), so a shorter window repeats its last row, which
cannot change its maximum. As in max pooling, the first maximum in row-major order wins and alone
gets the gradient; a window holding NaN has the maximum NaN, at its last NaN, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add
from minidl.core.errors import ShapeError


def adaptive_windows(size, out_size):
    """(offsets, out_size) positions: entry [p, i] is the position that offset p of window i reads."""
    index = np.arange(out_size)
    starts, ends = (index * size) // out_size, -(-((index + 1) * size) // out_size)
    offsets = np.arange(int((ends - starts).max()))[:, None]
    return np.minimum(starts + offsets, ends - 1)


class AdaptiveMaxPool2d(Function):
    """out[n, c, i, j] = max over window (i, j) of x[n, c];  dL/dx: each window's gradient added at its argmax
    (windows may overlap, so gradients that meet there add up)

    ``rows`` (kh, Ho) and ``cols`` (kw, Wo) are the positions each window offset reads
    (:func:`adaptive_windows`). Returns (out, indices) with ``return_indices``: the argmax as a flat
    position in its (H, W) plane.
    """

    def forward(self, x, rows, cols, return_indices=False):
        xp = array_module(x)
        n, c, h, w = x.shape
        rows, cols = xp.asarray(rows), xp.asarray(cols)
        windows = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]      # (N, C, kh, kw, Ho, Wo)
        windows = windows.reshape((n, c, -1) + windows.shape[-2:])
        is_nan = windows != windows
        last_nan = windows.shape[2] - 1 - is_nan[:, :, ::-1].argmax(axis=2)
        winner = xp.where(is_nan.any(axis=2), last_nan, windows.argmax(axis=2))
        out = xp.take_along_axis(windows, winner[:, :, None], axis=2)[:, :, 0]
        p, q = xp.divmod(winner, cols.shape[0])                                 # the winning offset
        index = (rows[p, xp.arange(out.shape[-2])[:, None]] * w + cols[q, xp.arange(out.shape[-1])]).astype("int64")
        self.save(index)
        self.x_shape = x.shape
        return (out, index) if return_indices else out

    def backward(self, g, g_indices=None):
        (index,) = self.saved
        n, c, h, w = self.x_shape
        xp = array_module(g)
        grad = xp.zeros((n * c, h * w), dtype=g.dtype)
        planes = xp.arange(n * c)[:, None]
        scatter_add(grad, (planes, index.reshape(n * c, -1)), g.reshape(n * c, -1))
        return grad.reshape(self.x_shape)


def adaptive_output_size(input, output_size, op, spatial=2):  # noqa: A002
    """output_size (an int, or ``spatial`` ints whose None entries keep that input size) as positive ints."""
    sizes = (output_size,) * spatial if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{op}: output_size must be an int or {spatial} ints (or None), got {output_size!r}")
    sizes = tuple(input.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"{op}: output_size must be positive ints (or None), got {output_size!r}")
    if min(input.shape[2:]) < 1:
        raise ShapeError(f"{op}: input of shape {tuple(input.shape)} has an empty spatial dim")
    return sizes


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling to a fixed output size (an int, or a pair whose None entries keep that input size) of
    (N, C, H, W) or unbatched (C, H, W) input; with ``return_indices`` also each maximum's flat
    position in its (H, W) plane, as in PyTorch."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"adaptive_max_pool2d: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    image = input if input.ndim == 4 else input.unsqueeze(0)
    out_h, out_w = adaptive_output_size(image, output_size, "adaptive_max_pool2d")
    result = AdaptiveMaxPool2d.apply(image, rows=adaptive_windows(image.shape[2], out_h),
                                     cols=adaptive_windows(image.shape[3], out_w),
                                     return_indices=bool(return_indices))
    if input.ndim == 4:
        return result
    return tuple(r.squeeze(0) for r in result) if return_indices else result.squeeze(0)
