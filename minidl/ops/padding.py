"""Padding: constant (negative widths crop), reflect, replicate and circular, as ``F.pad``.

A constant pad writes the input into a larger array filled with the value, so its gradient
is the inner slice; the other modes gather each output position from an input position
along every padded dim, so their gradient scatters back through the same positions
(positions used several times add up).
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add


class ConstantPad(Function):
    """z = x surrounded by a constant (negative pads crop);  dz/dx: the gradient's inner slice"""

    def forward(self, x, widths, value):
        xp = array_module(x)
        self.in_shape = x.shape
        grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        crop = tuple(slice(max(-lo, 0), size - max(-hi, 0)) for (lo, hi), size in zip(widths, x.shape))
        x = x[crop]
        self.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(grow, x.shape))
        self.crop = crop
        out = xp.full([n + lo + hi for n, (lo, hi) in zip(x.shape, grow)], value, dtype=x.dtype)
        out[self.inner] = x
        return out

    def backward(self, g):
        grad = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        grad[self.crop] = g[self.inner]
        return grad


class IndexPad(Function):
    """z = x gathered along each padded dim by an index map (reflect, replicate, circular);
    dz/dx: the gradient scattered back through the same map (repeated indices add up)"""

    def forward(self, x, index_maps):
        self.in_shape = x.shape
        self.save(*index_maps)  # (axis, positions) pairs: positions are arrays
        padded = x.copy()  # a new array even when nothing is padded (take copies anyway)
        for axis, positions in index_maps:
            padded = padded.take(positions, axis=axis)
        return padded

    def backward(self, g):
        xp = array_module(g)
        for axis, positions in reversed(self.saved):
            moved = xp.moveaxis(g, axis, 0)
            grad = xp.zeros((self.in_shape[axis],) + moved.shape[1:], dtype=g.dtype)
            scatter_add(grad, positions, moved)
            g = xp.moveaxis(grad, 0, axis)
        return g


def pad(input, pad, mode="constant", value=0.0):  # noqa: A002 (PyTorch's names)
    """Pad the last len(pad)//2 dims: ``pad = (left_last, right_last, left_prev, right_prev, ...)``.

    Modes: 'constant' (negative widths crop), 'reflect', 'replicate', 'circular'.
    """
    if not isinstance(pad, (tuple, list)) or not all(isinstance(p, numbers.Integral) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints such as (1, 1), got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2 * ndim = {2 * input.ndim}, "
                         f"got {len(pad)} (pad={pad}) for shape {input.shape}; give (left, right) pairs, "
                         "last dim first")
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        return ConstantPad.apply(input, widths=widths, value=value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    maps = []
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            positions = _pad_positions(mode, input.shape[axis], lo, hi, axis)
            maps.append((axis, array_module(input.array).asarray(positions)))
    return IndexPad.apply(input, index_maps=maps)


def _pad_positions(mode, size, lo, hi, axis):
    """For each output position along one dim, the input position it copies."""
    if min(lo, hi) < 0:
        raise ValueError(f"pad: negative padding is only supported in constant mode, got ({lo}, {hi})")
    limit = size - 1 if mode == "reflect" else size
    if mode != "replicate" and max(lo, hi) > limit:
        raise ValueError(f"pad: {mode} padding ({lo}, {hi}) must be smaller than dim {axis} of size {size}"
                         + (" minus 1" if mode == "reflect" else ""))
    positions = np.arange(-lo, size + hi)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)  # reflect: ... 2 1 [0 1 2 ... n-1] n-2 ...
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)
