"""Transposed 2-D convolution: the input-gradient of a convolution, run forwards.

Read a weight W (C_in, C_out/groups, kh, kw) as a conv2d weight: the convolution
``conv2d(y, W)`` maps y (N, C_out, Ho, Wo) to x (N, C_in, H, W). Its input-gradient maps
x-shaped arrays back to y-shaped ones, and that map *is* the transposed convolution
(also called fractionally strided convolution, or "deconvolution")::

    out[n, o, i·s + p·d - pad, j·s + q·d - pad] += Σ_c x[n, c, i, j] · w[c, o, p, q]

every input pixel spreads its values over a kh×kw window of the output, windows s apart.
With the im2col machinery of ``im2col.py`` (conv2d's matrices read the other way round):

    forward:   cols = Wᵀ @ x  (C_out·kh·kw, N·H·W),   out = col2im(cols) + b
    backward:  dL/dx = W @ im2col(g)      (that is: conv2d(g, W), a plain convolution)
               dL/dW = x @ im2col(g)ᵀ,    dL/db = Σ_{n,i,j} g

so the forward of one is the backward of the other. The output has
Ho = (H - 1)·s - 2·pad + d·(kh - 1) + output_padding + 1 rows (likewise columns):
``output_padding`` (< stride or < dilation) adds rows at the bottom/right that no
window reaches, to pick one of the several output sizes that a strided conv2d maps to H.
"""

from __future__ import annotations

import numbers

from minidl.core import Function, arguments
from minidl.core.errors import ShapeError
from minidl.ops.conv import pair
from minidl.ops.im2col import col2im, im2col


class ConvTranspose2d(Function):
    """out = col2im(Wᵀ @ x) + b (the input-gradient of conv2d, see the module docstring);
    dL/dx = W @ im2col(g) (a conv2d of g),  dL/dW = x @ im2col(g)ᵀ,  dL/db = Σ_{n,i,j} g"""

    def forward(self, x, weight, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1,
                out_hw=None):
        n, channels, h, w = x.shape
        out_channels = weight.shape[1] * groups
        self.geometry = (weight.shape, stride, pads, dilation, groups, (h, w))
        w_grouped = _grouped(weight, groups)                                   # (groups, C_in/groups, C_out/groups·kh·kw)
        x_wide = x.transpose(1, 0, 2, 3).reshape(groups, channels // groups, n * h * w)
        cols = (w_grouped.transpose(0, 2, 1) @ x_wide).reshape(-1, n * h * w)  # (C_out·kh·kw, N·H·W)
        out = col2im(cols, (n, out_channels) + tuple(out_hw), weight.shape[2:], stride, pads, dilation, (h, w))
        self.save(x, weight)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)

    def backward(self, g):
        x, weight = self.saved
        weight_shape, stride, pads, dilation, groups, in_hw = self.geometry
        n, channels = x.shape[:2]
        cols = im2col(g, weight_shape[2:], stride, pads, dilation, in_hw)     # (C_out·kh·kw, N·H·W)
        cols = cols.reshape(groups, cols.shape[0] // groups, cols.shape[1])
        w_grouped = _grouped(weight, groups)
        x_grad = (w_grouped @ cols).reshape((channels, n) + tuple(in_hw)).transpose(1, 0, 2, 3)
        x_wide = x.transpose(1, 0, 2, 3).reshape(groups, channels // groups, cols.shape[2])
        weight_grad = (x_wide @ cols.transpose(0, 2, 1)).reshape(weight_shape)
        return (x_grad, weight_grad, g.sum(axis=(0, 2, 3)))[:len(self.needs_grad)]


def _grouped(weight, groups):
    """The weight (C_in, C_out/groups, kh, kw) as (groups, C_in/groups, C_out/groups·kh·kw)."""
    in_channels, per_group, kh, kw = weight.shape
    return weight.reshape(groups, in_channels // groups, per_group * kh * kw)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """Transposed 2-D convolution of (N, C_in, H, W) or unbatched (C_in, H, W) input with weight
    (C_in, C_out/groups, kH, kW), as ``torch.nn.functional.conv_transpose2d`` (note the order of
    its arguments: ``groups`` before ``dilation``). Output size per dim:
    (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.
    """
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    op = "conv_transpose2d"
    if input.ndim != 4:
        raise ShapeError(f"{op}: expected 3-D (C_in, H, W) or 4-D (N, C_in, H, W) input, got shape {input.shape}")
    if weight.ndim != 4:
        raise ShapeError(f"{op}: expected 4-D weight (C_in, C_out/groups, kH, kW), got shape {weight.shape}")
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair of ints (no 'same' or 'valid' for transposed "
                         f"convolutions), got {padding!r}")
    stride = pair(stride, "stride", op, arguments.positive_size)
    dilation = pair(dilation, "dilation", op, arguments.positive_size)
    padding = pair(padding, "padding", op)
    output_padding = pair(output_padding, "output_padding", op)
    in_channels, per_group = weight.shape[:2]
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1 or in_channels % groups:
        raise ValueError(f"{op}: groups={groups} must be a positive int dividing in_channels ({in_channels}, "
                         f"dim 0 of weight {weight.shape})")
    if input.shape[1] != in_channels:
        raise ShapeError(f"{op}: weight of shape {weight.shape} expects input with {in_channels} channels "
                         f"(weight dim 0), but got input of shape {input.shape}")
    out_channels = per_group * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},), got {tuple(bias.shape)}")
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra >= s and extra >= d:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    out_hw = transposed_size(input.shape[2:], weight.shape[2:], stride, padding, dilation, output_padding)
    if min(out_hw) < 1:
        raise ShapeError(f"{op}: output size {out_hw} is too small: input {tuple(input.shape[2:])} with "
                         f"kernel {tuple(weight.shape[2:])}, stride {stride}, padding {padding}, dilation {dilation}")
    pads = (padding[0], padding[0], padding[1], padding[1])
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose2d.apply(*inputs, stride=stride, pads=pads, dilation=dilation, groups=int(groups),
                                 out_hw=out_hw)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """Transposed 1-D convolution of (N, C_in, L) or unbatched (C_in, L) input with weight (C_in, C_out/groups, K),
    as ``torch.nn.functional.conv_transpose1d``: the 2-D one on an image of height 1 with a kernel of height 1.
    Output length: (L - 1)·stride - 2·padding + dilation·(K - 1) + output_padding + 1."""
    op = "conv_transpose1d"
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected 2-D (C_in, L) or 3-D (N, C_in, L) input, got shape {input.shape}")
    if weight.ndim != 3:
        raise ShapeError(f"{op}: expected 3-D weight (C_in, C_out/groups, K), got shape {weight.shape}")
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a 1-tuple, got {padding!r}")
    if input.shape[-2] != weight.shape[0]:
        raise ShapeError(f"{op}: weight of shape {weight.shape} expects input with {weight.shape[0]} channels "
                         f"(weight dim 0), but got input of shape {input.shape}")
    stride, dilation = (pair(value, name, op, arguments.positive_size, 1)
                        for value, name in ((stride, "stride"), (dilation, "dilation")))
    padding, output_padding = (pair(value, name, op, count=1)
                               for value, name in ((padding, "padding"), (output_padding, "output_padding")))
    return conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1,) + stride, (0,) + padding,
                            (0,) + output_padding, groups, (1,) + dilation).squeeze(-2)


def transposed_size(size, kernel, stride, padding, dilation, output_padding):
    """(n - 1)·s - 2·p + d·(k - 1) + output_padding + 1 per spatial dim."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + extra + 1
                 for n, k, s, p, d, extra in zip(size, kernel, stride, padding, dilation, output_padding))
