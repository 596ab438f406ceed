"""Max pooling, average pooling and adaptive average pooling over (N, C, H, W).

Pooling reads the same receptive fields as convolution but reduces each one on
its own: the maximum (the gradient goes to the single position that held it)
or the mean (the gradient is shared equally). Both walk the kh·kw kernel
offsets, each a strided view of the padded input with one value per output
position (``offsets`` in im2col.py).

Ties in max pooling: the first maximum in row-major order inside the window
wins, the same rule as PyTorch's CPU kernel, and only it gets the gradient.
The kernel in ``minidl/kernels/pool.py`` computes the same without copying the
windows, and 2×2 pooling on the window corners on minidl's threads.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function
from minidl.core.arguments import positive_size
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.conv import output_size, pair
from minidl.ops.im2col import offsets


def pool_arguments(kernel_size, stride, padding, dilation, op, spatial=2):
    """kernel_size, stride (default: kernel_size), padding and dilation as checked ``spatial``-tuples
    (pairs by default): all positive but padding, which is non-negative."""
    kernel = pair(kernel_size, "kernel_size", op, positive_size, spatial)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", op, positive_size, spatial)
    return (kernel, stride, pair(padding, "padding", op, count=spatial),
            pair(dilation, "dilation", op, positive_size, spatial))


def window_geometry(x, kernel, stride, padding, dilation, ceil_mode, op):
    """The output size along each spatial dim of (N, C, *spatial) input ``x``, and the padded extent the
    windows read (in ceil_mode the last window may reach beyond the right padding)."""
    out_size = tuple(output_size(size, k, s, 2 * p, d, ceil_mode, p)
                     for size, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out_size) < 1:
        raise ShapeError(f"{op}: output size {out_size} is too small for input {x.shape} with kernel_size={kernel}, "
                         f"stride={stride}, padding={padding}, dilation={dilation}")
    extent = tuple(max(size + 2 * p, (o - 1) * s + d * (k - 1) + 1)
                   for size, o, k, s, p, d in zip(x.shape[2:], out_size, kernel, stride, padding, dilation))
    return out_size, extent


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Kernel, stride, padding, dilation as pairs, the output size, and the extra right padding ceil_mode needs."""
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    kernel, stride, padding, dilation = pool_arguments(kernel_size, stride, padding, dilation, op)
    for k, p in zip(kernel, padding):
        if p > k // 2:  # PyTorch's rule: half of kernel_size itself, dilated or not
            raise ValueError(f"{op}: padding should be at most half of kernel_size, got padding={padding} for "
                             f"kernel_size={kernel}")
    out_hw, extent = window_geometry(x, kernel, stride, padding, dilation, ceil_mode, op)
    return kernel, stride, padding, dilation, out_hw, extent


def padded_input(x, padding, extent, fill):
    """x with ``padding`` rows and columns of ``fill`` on the top and left, and on the bottom and right up to
    the size the windows read (``extent``); x itself when nothing is added."""
    xp = array_module(x)
    ph, pw = padding
    if extent == x.shape[2:] and not any(padding):
        return x
    out = xp.full(x.shape[:2] + extent, fill, dtype=x.dtype)
    out[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    return out


class MaxPool2d(Function):
    """out = max over each window;  dL/dx: each window's gradient goes to its argmax only

    The kh·kw values of every window are laid out side by side (one strided view of the padded
    input per kernel offset) and reduced with argmax, so ties go to the first maximum in row-major
    order, as in PyTorch. NaN counts as larger than any number: a window holding NaN has the
    maximum NaN, and its index and gradient go to the window's last NaN, as in PyTorch.
    Returns (out, indices) when asked for the indices (flat positions in each (H, W) plane).
    """

    def forward(self, x, kernel, stride, padding, dilation, out_hw, extent, return_indices=False):
        xp = array_module(x)
        padded = padded_input(x, padding, extent, -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min)
        windows = xp.stack([padded[:, :, rows, cols] for _, _, rows, cols in offsets(kernel, stride, dilation, out_hw)])
        winner = windows.argmax(axis=0)
        is_nan = windows != windows
        last_nan = len(windows) - 1 - is_nan[::-1].argmax(axis=0)
        winner = xp.where(is_nan.any(axis=0), last_nan, winner)       # (N, C, Ho, Wo): the offset that won
        out = xp.take_along_axis(windows, winner[None], axis=0)[0]
        self.save(winner)
        self.geometry = (x.shape, padded.shape, kernel, stride, padding, dilation, out_hw)
        return (out, _flat_indices(winner, *self.geometry)) if return_indices else out

    def backward(self, g, g_indices=None):
        (winner,) = self.saved
        x_shape, padded_shape, kernel, stride, padding, dilation, out_hw = self.geometry
        grad = array_module(g).zeros(padded_shape, dtype=g.dtype)
        for k, (_, _, rows, cols) in enumerate(offsets(kernel, stride, dilation, out_hw)):
            grad[:, :, rows, cols] += g * (winner == k)
        return grad[:, :, padding[0]:padding[0] + x_shape[2], padding[1]:padding[1] + x_shape[3]]


def _flat_indices(winner, x_shape, padded_shape, kernel, stride, padding, dilation, out_hw):
    """PyTorch's return_indices: the position of each window's winner in its (H, W) plane, row-major."""
    xp = array_module(winner)
    p, q = xp.divmod(winner, kernel[1])
    rows = xp.arange(out_hw[0])[:, None] * stride[0] + p * dilation[0] - padding[0]
    cols = xp.arange(out_hw[1])[None, :] * stride[1] + q * dilation[1] - padding[1]
    return (rows * x_shape[3] + cols).astype("int64")


class AvgPool2d(Function):
    """out = Σ window / divisor;  dL/dx: each window's gradient / divisor, added to every element of it
    (one strided view per kernel offset, as in max pooling)"""

    def forward(self, x, kernel, stride, padding, out_hw, extent, divisor):
        xp = array_module(x)
        padded = padded_input(x, padding, extent, 0)
        total = xp.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
        for _, _, rows, cols in offsets(kernel, stride, (1, 1), out_hw):
            total += padded[:, :, rows, cols]
        divisor = xp.asarray(divisor, dtype=x.dtype)
        self.save(divisor)
        self.geometry = (x.shape, padded.shape, kernel, stride, padding, out_hw)
        return total / divisor

    def backward(self, g):
        xp = array_module(g)
        x_shape, padded_shape, kernel, stride, padding, out_hw = self.geometry
        (divisor,) = self.saved
        share = g / divisor
        grad = xp.zeros(padded_shape, dtype=g.dtype)
        for _, _, rows, cols in offsets(kernel, stride, (1, 1), out_hw):
            grad[:, :, rows, cols] += share
        return grad[:, :, padding[0]:padding[0] + x_shape[2], padding[1]:padding[1] + x_shape[3]]


def _divisors(size, kernel, stride, padding, out_size, count_include_pad):
    """Per output position along one dim: the element count PyTorch divides by."""
    starts = np.arange(out_size) * stride - padding
    ends = np.minimum(starts + kernel, size + padding)
    if count_include_pad:
        return ends - starts
    return np.minimum(ends, size) - np.maximum(starts, 0)


def _batched(function):
    """Accept unbatched (C, H, W) input, as PyTorch does."""
    def wrapper(input, *args, **kwargs):  # noqa: A002
        if input.ndim == 3:
            out = function(input.unsqueeze(0), *args, **kwargs)
            return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
        return function(input, *args, **kwargs)
    wrapper.__doc__, wrapper.__name__ = function.__doc__, function.__name__
    return wrapper


@_batched
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Maximum over each kernel_size window (stride defaults to kernel_size), as in PyTorch."""
    kernel, stride, padding, dilation, out_hw, extent = _geometry(input, kernel_size, stride, padding, dilation,
                                                                  ceil_mode, "max_pool2d")
    return MaxPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                           out_hw=out_hw, extent=extent, return_indices=bool(return_indices))


@_batched
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over each window; padding counts toward the divisor unless count_include_pad=False."""
    kernel, stride, padding, _, out_hw, extent = _geometry(input, kernel_size, stride, padding, 1, ceil_mode,
                                                           "avg_pool2d")
    if divisor_override is not None:
        if divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        divisor = np.full(out_hw, float(divisor_override))
    else:
        rows, cols = (_divisors(size, k, s, p, o, count_include_pad)
                      for size, k, s, p, o in zip(input.shape[2:], kernel, stride, padding, out_hw))
        divisor = np.outer(rows, cols).astype(np.float64)
    return AvgPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw, extent=extent,
                           divisor=divisor)


class AdaptiveAvgPool2d(Function):
    """out = Pₕ x Pᵥᵀ with averaging matrices P (row i averages input rows floor(iH/Ho) .. ceil((i+1)H/Ho));
    dL/dx = Pₕᵀ G Pᵥ"""

    def forward(self, x, rows, cols):
        xp = array_module(x)
        rows, cols = xp.asarray(rows, dtype=x.dtype), xp.asarray(cols, dtype=x.dtype)
        self.save(rows, cols)
        return rows @ x @ cols.T

    def backward(self, g):
        rows, cols = self.saved
        return rows.T @ g @ cols


def _averaging_matrix(size, out_size):
    matrix = np.zeros((out_size, size))
    for i in range(out_size):
        start, end = (i * size) // out_size, -(-((i + 1) * size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


@_batched
def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average pooling to a fixed output size (None keeps that dim's input size)."""
    if input.ndim != 4:
        raise ShapeError(f"adaptive_avg_pool2d: expected 3-D or 4-D input, got shape {input.shape}")
    sizes = (output_size, output_size) if isinstance(output_size, int) or output_size is None else tuple(output_size)
    sizes = tuple(input.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    if len(sizes) != 2 or min(sizes) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    return AdaptiveAvgPool2d.apply(input, rows=_averaging_matrix(input.shape[2], sizes[0]),
                                   cols=_averaging_matrix(input.shape[3], sizes[1]))
