"""3-D convolution as im2col over three spatial dims plus one matrix product per group.

Output voxel (o, i, j, l) of image n is the cross-correlation

    out[n, o, i, j, l] = b[o] + Σ_{c, p, q, r} w[o, c, p, q, r] · x[n, c, i·s₀ + p·d₀, j·s₁ + q·d₁, l·s₂ + r·d₂]

(s = stride, d = dilation, x zero-padded), the 2-D convolution of conv.py with one more
spatial dim. For one kernel offset (p, q, r) the positions read by all outputs form one
strided slice of the padded input (``window_offsets``), so im2col copies kd·kh·kw slices
into a (C·kd·kh·kw, N·Do·Ho·Wo) matrix and the convolution is ``W @ cols`` per group;
backward: dW = G @ colsᵀ, dcols = Wᵀ @ G, and col2im adds dcols back, one slice per offset.
The window helpers here are written for any number of spatial dims (pool3d.py uses them too).
"""

from __future__ import annotations

import itertools
import math

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.ops.conv import check_convolution


def window_offsets(kernel, stride, dilation, out_size):
    """For each kernel offset (a tuple, row-major): the slices of the padded input it meets, one per output,
    so that ``padded[..., *slices]`` is an (…, *out_size) strided view."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield offset, tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                            for o, d, s, n in zip(offset, dilation, stride, out_size))


def pad_spatial(x, before, extent, fill=0):
    """x (N, C, *spatial) placed at ``before`` inside an array of spatial size ``extent`` filled with ``fill``;
    x itself when nothing is added."""
    if tuple(extent) == tuple(x.shape[2:]) and not any(before):
        return x
    out = array_module(x).full(tuple(x.shape[:2]) + tuple(extent), fill, dtype=x.dtype)
    out[(Ellipsis,) + inner_slices(before, x.shape[2:])] = x
    return out


def inner_slices(before, size):
    """The slices of a padded array that hold the unpadded input of spatial ``size``."""
    return tuple(slice(b, b + n) for b, n in zip(before, size))


def _padded_extent(size, pads):
    return tuple(n + pads[2 * i] + pads[2 * i + 1] for i, n in enumerate(size))


def im2col_nd(x, kernel, stride, pads, dilation, out_size):
    """The receptive fields of x (N, C, *spatial) as columns: (C·Π kernel, N·Π out_size), channel-major;
    ``pads`` holds (before, after) per spatial dim, flattened."""
    padded = pad_spatial(x, pads[::2], _padded_extent(x.shape[2:], pads))
    n, c = x.shape[:2]
    cols = array_module(x).empty((c,) + tuple(kernel) + (n,) + tuple(out_size), dtype=x.dtype)
    for offset, slices in window_offsets(kernel, stride, dilation, out_size):
        cols[(slice(None),) + offset] = padded[(Ellipsis,) + slices].swapaxes(0, 1)
    return cols.reshape(c * math.prod(kernel), n * math.prod(out_size))


def col2im_nd(cols, x_shape, kernel, stride, pads, dilation, out_size):
    """The adjoint of im2col_nd: each column entry added back where it was read; returns x_shape."""
    n, c = x_shape[:2]
    padded = array_module(cols).zeros((n, c) + _padded_extent(x_shape[2:], pads), dtype=cols.dtype)
    values = cols.reshape((c,) + tuple(kernel) + (n,) + tuple(out_size))
    for offset, slices in window_offsets(kernel, stride, dilation, out_size):
        padded[(Ellipsis,) + slices] += values[(slice(None),) + offset].swapaxes(0, 1)
    return padded[(Ellipsis,) + inner_slices(pads[::2], x_shape[2:])]


class Conv3d(Function):
    """out = W ⋆ x + b over three spatial dims, as one product per group:
    out = W @ cols + b;  dL/dW = G @ colsᵀ,  dL/dx = col2im(Wᵀ @ G),  dL/db = Σ_{n,i,j,l} G"""

    def forward(self, x, weight, bias=None, stride=(1, 1, 1), pads=(0,) * 6, dilation=(1, 1, 1), groups=1,
                out_size=None):
        self.geometry = (x.shape, weight.shape, stride, pads, dilation, groups, out_size)
        cols = im2col_nd(x, weight.shape[2:], stride, pads, dilation, out_size)   # (C·k³, N·Do·Ho·Wo)
        w = weight.reshape(groups, weight.shape[0] // groups, cols.shape[0] // groups)
        out = w @ cols.reshape(groups, w.shape[2], cols.shape[1])                # (groups, O/groups, N·Do·Ho·Wo)
        out = out.reshape((weight.shape[0], x.shape[0]) + tuple(out_size)).swapaxes(0, 1)
        self.save(cols, weight)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)

    def backward(self, g):
        cols, weight = self.saved
        x_shape, weight_shape, stride, pads, dilation, groups, out_size = self.geometry
        positions = cols.shape[1]
        w = weight.reshape(groups, weight_shape[0] // groups, cols.shape[0] // groups)
        g_wide = g.swapaxes(0, 1).reshape(groups, w.shape[1], positions)       # (groups, O/groups, N·Do·Ho·Wo)
        cols = cols.reshape(groups, w.shape[2], positions)
        weight_grad = (g_wide @ cols.transpose(0, 2, 1)).reshape(weight_shape)
        d_cols = (w.transpose(0, 2, 1) @ g_wide).reshape(groups * w.shape[2], positions)
        x_grad = col2im_nd(d_cols, x_shape, weight_shape[2:], stride, pads, dilation, out_size)
        return (x_grad, weight_grad, g.sum(axis=(0, 2, 3, 4)))[:len(self.needs_grad)]


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """3-D convolution (cross-correlation) of (N, C, D, H, W) or unbatched (C, D, H, W) input with weight
    (C_out, C_in/groups, kD, kH, kW), as ``torch.nn.functional.conv3d``.

    ``padding`` is an int, a 3-tuple, ``'valid'`` (none) or ``'same'`` (output size = input size; stride 1
    only; odd totals put the extra zero after, as PyTorch does).
    """
    if input.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation, pads, out_size = check_convolution("conv3d", input, weight, bias, stride, padding, dilation,
                                                         groups, spatial=3)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return Conv3d.apply(*inputs, stride=stride, pads=pads, dilation=dilation, groups=int(groups), out_size=out_size)
