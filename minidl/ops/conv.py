"""2-D convolution as im2col plus one matrix product.

The source text's convolution (f*g)(x) = Σ_y f(y) g(x - y) is, in deep
learning, computed as cross-correlation: output pixel (o, i, j) is

    out[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x[n, c, i·s + p·d, j·s + q·d]

(s = stride, d = dilation, x zero-padded). Laying every receptive field out
as a column (im2col, kh·kw strided slices of the padded input, see im2col.py)
turns the sum into one matrix product per group:
``out = W (O, C·kh·kw) @ cols (C·kh·kw, N·Ho·Wo)``. The backward is two more
products, dW = G @ colsᵀ and dcols = Wᵀ @ G, and col2im: dcols is added back
onto the padded input, one slice per kernel offset (kh·kw adds, never
``np.add.at``). The kernel in ``minidl/kernels/conv.py`` computes the same in
chunks of a few images on minidl's threads, with faster column layouts.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

from minidl.core import Function, arguments
from minidl.core.errors import ShapeError
from minidl.ops.im2col import col2im, im2col


def pair(value, name, op, check=arguments.size, count=2):
    """An int or ``count`` ints (a pair by default) as a tuple, each checked by ``check`` (``size``: an
    int ≥ 0, or ``positive_size``: an int ≥ 1, from minidl.core.arguments)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = check(value, op, name)
        return (value,) * count
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        check(value, op, name)  # raises the TypeError that names the value
    value = tuple(value)
    if len(value) != count:
        kind = {1: "an int or a 1-tuple of ints", 2: "an int or a pair of ints"}.get(count, f"{count} ints")
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(check(item, op, name) for item in value)


def output_size(size, kernel, stride, pad_total, dilation, ceil_mode=False, pad_left=None):
    """floor((size + pads - d(k-1) - 1)/s) + 1 (ceil with ceil_mode, dropping a last window
    that would start inside the right padding)."""
    span = size + pad_total - dilation * (kernel - 1) - 1  # negative: the kernel overhangs the input
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and count > 0 and (count - 1) * stride >= size + (pad_total // 2 if pad_left is None else pad_left):
        count -= 1
    return max(count, 0)


class Conv2d(Function):
    """out = W ⋆ x + b (cross-correlation, see the module docstring), as one product per group:
    out = W @ cols + b;  dL/dW = G @ colsᵀ,  dL/dx = col2im(Wᵀ @ G),  dL/db = Σ_{n,i,j} G"""

    def forward(self, x, weight, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1,
                out_hw=None):
        self.geometry = (x.shape, weight.shape, stride, pads, dilation, groups, out_hw)
        cols = im2col(x, weight.shape[2:], stride, pads, dilation, out_hw)     # (C·kh·kw, N·Ho·Wo)
        w = _grouped(weight, groups)                                          # (groups, O/groups, C/groups·kh·kw)
        out = w @ cols.reshape(groups, w.shape[2], cols.shape[1])             # (groups, O/groups, N·Ho·Wo)
        out = out.reshape((weight.shape[0], x.shape[0]) + tuple(out_hw)).transpose(1, 0, 2, 3)
        self.save(cols, weight)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)

    def backward(self, g):
        cols, weight = self.saved
        x_shape, weight_shape, stride, pads, dilation, groups, out_hw = self.geometry
        w = _grouped(weight, groups)
        positions = cols.shape[1]                                             # N·Ho·Wo
        g_wide = g.transpose(1, 0, 2, 3).reshape(groups, w.shape[1], positions)  # (groups, O/groups, N·Ho·Wo)
        cols = cols.reshape(groups, w.shape[2], positions)
        weight_grad = (g_wide @ cols.transpose(0, 2, 1)).reshape(weight_shape)
        d_cols = (w.transpose(0, 2, 1) @ g_wide).reshape(cols.shape[0] * cols.shape[1], positions)
        x_grad = col2im(d_cols, x_shape, weight_shape[2:], stride, pads, dilation, out_hw)
        return (x_grad, weight_grad, g.sum(axis=(0, 2, 3)))[:len(self.needs_grad)]


def _grouped(weight, groups):
    """The weight (O, C/groups, kh, kw) as (groups, O/groups, C/groups·kh·kw): one matrix per group
    (sizes spelled out rather than -1, so that empty weights reshape too)."""
    out_channels, per_group, kh, kw = weight.shape
    return weight.reshape(groups, out_channels // groups, per_group * kh * kw)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (cross-correlation) of (N, C, H, W) or unbatched (C, H, W) input with
    weight (C_out, C_in/groups, kH, kW), as ``torch.nn.functional.conv2d``.

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size;
    stride 1 only; odd totals put the extra zero on the bottom/right, as PyTorch does).
    """
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation, pads, out_size = check_convolution("conv2d", input, weight, bias, stride, padding, dilation,
                                                         groups, spatial=2)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d.apply(*inputs, stride=stride, pads=pads, dilation=dilation, groups=int(groups), out_hw=out_size)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution (cross-correlation) of (N, C, L) or unbatched (C, L) input with weight
    (C_out, C_in/groups, K), as ``torch.nn.functional.conv1d``:
    out[n, o, i] = b[o] + Σ_{c, p} w[o, c, p] · x[n, c, i·s + p·d].

    It is the 2-D convolution of an image of height 1 with a kernel of height 1 (x as
    (N, C, 1, L), w as (C_out, C_in/groups, 1, K)), so forward and gradients are those of
    :class:`Conv2d`; the gradients flow back through the added unit dims to x and w.
    ``padding`` is an int, a 1-tuple, ``'valid'`` or ``'same'`` (stride 1 only).
    """
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation, pads, out_size = check_convolution("conv1d", input, weight, bias, stride, padding, dilation,
                                                         groups, spatial=1)
    inputs = (input.unsqueeze(2), weight.unsqueeze(2)) + (() if bias is None else (bias,))
    return Conv2d.apply(*inputs, stride=(1,) + stride, pads=(0, 0) + pads, dilation=(1,) + dilation,
                        groups=int(groups), out_hw=(1,) + out_size).squeeze(2)


_PAD_SIDES = {1: "left, right", 2: "top, bottom, left, right", 3: "before and after each of D, H, W"}
_LAYOUTS = {1: ("(C, L)", "(N, C, L)", "(C_out, C_in/groups, K)"),
            2: ("(C, H, W)", "(N, C, H, W)", "(C_out, C_in/groups, kH, kW)"),
            3: ("(C, D, H, W)", "(N, C, D, H, W)", "(C_out, C_in/groups, kD, kH, kW)")}


def check_convolution(op, input, weight, bias, stride, padding, dilation, groups, spatial):  # noqa: A002
    """The checked settings of a batched ``spatial``-D convolution: (stride, dilation, pads, output size), pads
    as (before, after) per spatial dim, flattened; a clear error naming ``op`` for anything wrong."""
    unbatched, batched, weight_layout = _LAYOUTS[spatial]
    if input.ndim != spatial + 2:
        raise ShapeError(f"{op}: expected {spatial + 1}-D {unbatched} or {spatial + 2}-D {batched} input, got shape "
                         f"{input.shape}")
    if weight.ndim != spatial + 2:
        raise ShapeError(f"{op}: expected {spatial + 2}-D weight {weight_layout}, got shape {weight.shape}")
    stride = pair(stride, "stride", op, arguments.positive_size, spatial)
    dilation = pair(dilation, "dilation", op, arguments.positive_size, spatial)
    channels, out_channels, per_group = input.shape[1], weight.shape[0], weight.shape[1]
    check_groups(op, groups, channels, out_channels)
    if per_group * groups != channels:
        raise ShapeError(f"{op}: weight of shape {weight.shape} with groups={groups} expects input with "
                         f"{per_group * groups} channels, but got input of shape {input.shape}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},), got {tuple(bias.shape)}")
    kernel, size = tuple(weight.shape[2:]), tuple(input.shape[2:])
    pads = _padding(padding, kernel, stride, dilation, op)
    out_size = tuple(output_size(n, k, s, pads[2 * i] + pads[2 * i + 1], d)
                     for i, (n, k, s, d) in enumerate(zip(size, kernel, stride, dilation)))
    if min(out_size) < 1:
        dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ShapeError(f"{op}: output size {out_size} is too small: input {size} with padding {pads} "
                         f"({_PAD_SIDES[spatial]}) is smaller than the "
                         f"dilated kernel {dilated}")
    return stride, dilation, pads, out_size


def check_groups(op, groups, in_channels, out_channels):
    """``groups`` must be a positive int dividing both channel counts."""
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1 or in_channels % groups \
            or out_channels % groups:
        raise ValueError(f"{op}: groups={groups} must be a positive int dividing both in_channels ({in_channels}) "
                         f"and out_channels ({out_channels})")


def _padding(padding, kernel, stride, dilation, op):
    """(before, after) zero padding per spatial dim, flattened, from a convolution's ``padding`` argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0) * len(kernel)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    return tuple(p for side in pair(padding, "padding", op, count=len(kernel)) for p in (side, side))
