"""3-D pooling over (N, C, D, H, W) or unbatched (C, D, H, W): max, average and adaptive average/max.

Pooling reads the same receptive fields as conv3d (one strided view of the padded input per
kernel offset, ``window_offsets`` in conv3d.py) but reduces each window on its own: the
maximum (the gradient goes to the one position that held it; ties to the first maximum in
row-major order, NaN counts as the largest value, at its last occurrence, as in PyTorch) or
the mean (the gradient is shared out by the same divisor). Adaptive average pooling is one
averaging matrix per spatial dim (``_averaging_matrix`` of pool.py); adaptive max pooling reads
its windows as adaptive_pool.py does, along three dims.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add
from minidl.core.errors import ShapeError
from minidl.ops.adaptive_pool import adaptive_output_size, adaptive_windows
from minidl.ops.conv3d import inner_slices, pad_spatial, window_offsets
from minidl.ops.pool import _averaging_matrix, _divisors, pool_arguments, window_geometry

SPATIAL = 3


def _batched(input, op):  # noqa: A002
    """(N, C, D, H, W) input as is, or unbatched (C, D, H, W) with a batch dim of 1; and a function that takes
    that batch dim off a result again."""
    if input.ndim not in (SPATIAL + 1, SPATIAL + 2):
        raise ShapeError(f"{op}: expected 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    if input.ndim == SPATIAL + 2:
        return input, lambda out: out
    return input.unsqueeze(0), lambda out: tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) \
        else out.squeeze(0)


def pool3d_arguments(kernel_size, stride, padding, dilation, op):
    """kernel_size, stride (default: kernel_size), padding and dilation as checked 3-tuples; padding at most
    half the kernel (PyTorch's rule)."""
    kernel, stride, padding, dilation = pool_arguments(kernel_size, stride, padding, dilation, op, SPATIAL)
    if any(p > k // 2 for k, p in zip(kernel, padding)):
        raise ValueError(f"{op}: padding should be at most half of kernel_size, got padding={padding} for "
                         f"kernel_size={kernel}")
    return kernel, stride, padding, dilation


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Checked settings, the output size, and the padded extent the windows read."""
    kernel, stride, padding, dilation = pool3d_arguments(kernel_size, stride, padding, dilation, op)
    out_size, extent = window_geometry(x, kernel, stride, padding, dilation, ceil_mode, op)
    return kernel, stride, padding, dilation, out_size, extent


def _winners(windows, axis):
    """Index along ``axis`` of each window's maximum: the first maximum, or the last NaN where there is one."""
    xp = array_module(windows)
    is_nan = windows != windows
    last_nan = windows.shape[axis] - 1 - xp.flip(is_nan, axis=axis).argmax(axis=axis)
    return xp.where(is_nan.any(axis=axis), last_nan, windows.argmax(axis=axis))


def _flat_position(coordinates, shape):
    """Row-major flat position in a volume of ``shape`` from one coordinate array per dim."""
    flat = coordinates[0]
    for coordinate, size in zip(coordinates[1:], shape[1:]):
        flat = flat * size + coordinate
    return flat.astype("int64")


class MaxPool3d(Function):
    """out = max over each window;  dL/dx: each window's gradient goes to its argmax only.
    Returns (out, indices) when asked: each maximum's flat position in its (D, H, W) volume."""

    def forward(self, x, kernel, stride, padding, dilation, out_size, extent, return_indices=False):
        xp = array_module(x)
        padded = pad_spatial(x, padding, extent, -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min)
        views = list(window_offsets(kernel, stride, dilation, out_size))
        windows = xp.stack([padded[(Ellipsis,) + slices] for _, slices in views])
        winner = _winners(windows, 0)                                           # (N, C, Do, Ho, Wo)
        out = xp.take_along_axis(windows, winner[None], axis=0)[0]
        self.save(winner)
        self.geometry = (x.shape, padded.shape, kernel, stride, padding, dilation, out_size)
        if not return_indices:
            return out
        coordinates, rest = [], winner
        for axis in reversed(range(SPATIAL)):                                   # the winning offset, per dim
            rest, offset = xp.divmod(rest, kernel[axis])
            position = xp.arange(out_size[axis]).reshape((-1,) + (1,) * (SPATIAL - 1 - axis))
            coordinates.insert(0, position * stride[axis] + offset * dilation[axis] - padding[axis])
        return out, _flat_position(coordinates, x.shape[2:])

    def backward(self, g, g_indices=None):
        (winner,) = self.saved
        x_shape, padded_shape, kernel, stride, padding, dilation, out_size = self.geometry
        grad = array_module(g).zeros(padded_shape, dtype=g.dtype)
        for k, (_, slices) in enumerate(window_offsets(kernel, stride, dilation, out_size)):
            grad[(Ellipsis,) + slices] += g * (winner == k)
        return grad[(Ellipsis,) + inner_slices(padding, x_shape[2:])]


class AvgPool3d(Function):
    """out = Σ window / divisor;  dL/dx: each window's gradient / divisor, added to every element of it"""

    def forward(self, x, kernel, stride, padding, out_size, extent, divisor):
        xp = array_module(x)
        padded = pad_spatial(x, padding, extent, 0)
        total = xp.zeros(x.shape[:2] + out_size, dtype=x.dtype)
        for _, slices in window_offsets(kernel, stride, (1,) * SPATIAL, out_size):
            total += padded[(Ellipsis,) + slices]
        divisor = xp.asarray(divisor, dtype=x.dtype)
        self.save(divisor)
        self.geometry = (x.shape, padded.shape, kernel, stride, padding, out_size)
        return total / divisor

    def backward(self, g):
        x_shape, padded_shape, kernel, stride, padding, out_size = self.geometry
        (divisor,) = self.saved
        share = g / divisor
        grad = array_module(g).zeros(padded_shape, dtype=g.dtype)
        for _, slices in window_offsets(kernel, stride, (1,) * SPATIAL, out_size):
            grad[(Ellipsis,) + slices] += share
        return grad[(Ellipsis,) + inner_slices(padding, x_shape[2:])]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Maximum over each kernel_size window of (N, C, D, H, W) or (C, D, H, W) input (stride defaults to
    kernel_size), as ``torch.nn.functional.max_pool3d``; with ``return_indices`` also each maximum's flat
    position in its (D, H, W) volume."""
    x, back = _batched(input, "max_pool3d")
    kernel, stride, padding, dilation, out_size, extent = _geometry(x, kernel_size, stride, padding, dilation,
                                                                    ceil_mode, "max_pool3d")
    return back(MaxPool3d.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                                out_size=out_size, extent=extent, return_indices=bool(return_indices)))


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over each window of (N, C, D, H, W) or (C, D, H, W) input; padding counts toward the divisor
    unless count_include_pad=False; ``divisor_override`` replaces the divisor."""
    x, back = _batched(input, "avg_pool3d")
    kernel, stride, padding, _, out_size, extent = _geometry(x, kernel_size, stride, padding, 1, ceil_mode,
                                                             "avg_pool3d")
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or divisor_override <= 0:
            raise ValueError(f"avg_pool3d: divisor_override must be a positive number, got {divisor_override!r}")
        divisor = np.full(out_size, float(divisor_override))
    else:
        counts = [_divisors(n, k, s, p, o, count_include_pad)
                  for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out_size)]
        divisor = np.einsum("i,j,k->ijk", *counts).astype(np.float64)
    return back(AvgPool3d.apply(x, kernel=kernel, stride=stride, padding=padding, out_size=out_size,
                                extent=extent, divisor=divisor))


class AdaptiveAvgPool3d(Function):
    """out = x averaged along D, H and W by one averaging matrix P each (row i averages positions
    ⌊i·n/out⌋ .. ⌈(i+1)·n/out⌉ - 1);  dL/dx = the gradient multiplied by each Pᵀ the same way"""

    def forward(self, x, matrices):
        xp = array_module(x)
        matrices = [xp.asarray(m, dtype=x.dtype) for m in matrices]
        self.save(*matrices)
        return _along_spatial_dims(x, matrices)

    def backward(self, g):
        return _along_spatial_dims(g, [m.T for m in self.saved])


def _along_spatial_dims(x, matrices):
    """x with matrix k applied along spatial dim k (dim 2 + k): (…, n, …) → (…, out, …)."""
    for axis, matrix in enumerate(matrices, start=2):
        x = (matrix @ x.swapaxes(axis, -2)).swapaxes(axis, -2)
    return x


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) input to a fixed output size (an int, or 3 entries
    whose None keeps that input size), as ``torch.nn.functional.adaptive_avg_pool3d``."""
    x, back = _batched(input, "adaptive_avg_pool3d")
    sizes = adaptive_output_size(x, output_size, "adaptive_avg_pool3d", SPATIAL)
    return back(AdaptiveAvgPool3d.apply(x, matrices=[_averaging_matrix(n, o) for n, o in zip(x.shape[2:], sizes)]))


class AdaptiveMaxPool3d(Function):
    """out = max over each adaptive window;  dL/dx: each window's gradient added at its argmax (windows may
    overlap, so gradients that meet there add up). ``positions`` holds, per spatial dim, the (k, out) input
    positions that each window offset reads (``adaptive_windows``; a shorter window repeats its last one)."""

    def forward(self, x, positions, return_indices=False):
        xp = array_module(x)
        d, h, w = (xp.asarray(p) for p in positions)
        windows = x[:, :, d[:, None, None, :, None, None], h[None, :, None, None, :, None],
                    w[None, None, :, None, None, :]]                              # (N, C, kd, kh, kw, Do, Ho, Wo)
        windows = windows.reshape(x.shape[:2] + (-1,) + windows.shape[-SPATIAL:])
        winner = _winners(windows, 2)
        out = xp.take_along_axis(windows, winner[:, :, None], axis=2)[:, :, 0]
        rest, coordinates = winner, []
        for axis, table in reversed(list(enumerate((d, h, w)))):
            rest, offset = xp.divmod(rest, table.shape[0])
            column = xp.arange(table.shape[1]).reshape((-1,) + (1,) * (SPATIAL - 1 - axis))
            coordinates.insert(0, table[offset, column])
        index = _flat_position(coordinates, x.shape[2:])
        self.save(index)
        self.x_shape = x.shape
        return (out, index) if return_indices else out

    def backward(self, g, g_indices=None):
        (index,) = self.saved
        planes = self.x_shape[0] * self.x_shape[1]
        xp = array_module(g)
        grad = xp.zeros((planes, math.prod(self.x_shape[2:])), dtype=g.dtype)
        scatter_add(grad, (xp.arange(planes)[:, None], index.reshape(planes, -1)), g.reshape(planes, -1))
        return grad.reshape(self.x_shape)


def adaptive_max_pool3d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) input to a fixed output size (windows as in
    adaptive_avg_pool3d); with ``return_indices`` also each maximum's flat position in its (D, H, W) volume."""
    x, back = _batched(input, "adaptive_max_pool3d")
    sizes = adaptive_output_size(x, output_size, "adaptive_max_pool3d", SPATIAL)
    positions = [adaptive_windows(n, o) for n, o in zip(x.shape[2:], sizes)]
    return back(AdaptiveMaxPool3d.apply(x, positions=positions, return_indices=bool(return_indices)))
