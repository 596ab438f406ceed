"""unfold and fold: the sliding blocks of an image as columns, and back.

``unfold`` is im2col (im2col.py) per image: for a kernel kh×kw, stride s, padding and dilation d,
block (i, j) of channel c is the kh·kw values padded[n, c, i·s + p·d, j·s + q·d], and the output
(N, C·kh·kw, L), L = Ho·Wo, holds one block per column, channel-major as PyTorch's. A convolution
is then ``weight.reshape(O, -1) @ unfold(x)``. ``fold`` is its adjoint: each column entry is added
back where it was read (overlapping blocks sum), so the backward of one is the forward of the other.
"""

from __future__ import annotations

from minidl.core import Function
from minidl.core.arguments import positive_size
from minidl.core.errors import ShapeError
from minidl.ops.conv import output_size, pair
from minidl.ops.im2col import col2im, im2col


def _images_to_columns(x, geometry):
    """im2col of x (N, C, H, W) as (N, C·kh·kw, L)."""
    kernel, stride, pads, dilation, out_hw = geometry
    cols = im2col(x, kernel, stride, pads, dilation, out_hw)                  # (C·kh·kw, N·L)
    return cols.reshape(cols.shape[0], x.shape[0], -1).transpose(1, 0, 2).copy()


def _columns_to_images(cols, image_shape, geometry):
    """col2im of cols (N, C·kh·kw, L) into (N, C, H, W), overlapping entries added."""
    kernel, stride, pads, dilation, out_hw = geometry
    flat = cols.transpose(1, 0, 2).reshape(cols.shape[1], -1)                 # (C·kh·kw, N·L)
    return col2im(flat, image_shape, kernel, stride, pads, dilation, out_hw)


class Unfold(Function):
    """cols[n, (c, p, q), (i, j)] = padded x[n, c, i·s + p·d, j·s + q·d];  dL/dx = fold(G): each gradient added
    back where its value was read"""

    def forward(self, x, geometry):
        self.x_shape, self.geometry = x.shape, geometry
        return _images_to_columns(x, geometry)

    def backward(self, g):
        return _columns_to_images(g, self.x_shape, self.geometry)


class Fold(Function):
    """x[n, c, i·s + p·d, j·s + q·d] += cols[n, (c, p, q), (i, j)] (the adjoint of unfold);  dL/dcols = unfold(G)"""

    def forward(self, cols, image_shape, geometry):
        self.geometry = geometry
        return _columns_to_images(cols, image_shape, geometry)

    def backward(self, g):
        return _images_to_columns(g, self.geometry)


def _geometry(image_hw, kernel_size, dilation, padding, stride, op):
    """(kernel, stride, pads, dilation, (Ho, Wo)) for an image of size image_hw, with checked arguments."""
    kernel = pair(kernel_size, "kernel_size", op, positive_size)
    dilation = pair(dilation, "dilation", op, positive_size)
    padding = pair(padding, "padding", op)
    stride = pair(stride, "stride", op, positive_size)
    out_hw = tuple(output_size(n, k, s, 2 * p, d) for n, k, s, p, d in zip(image_hw, kernel, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ShapeError(f"{op}: the kernel_size={kernel} (dilation={dilation}) does not fit into the padded "
                         f"image of size {tuple(image_hw)} with padding={padding}: no sliding blocks")
    pads = (padding[0], padding[0], padding[1], padding[1])
    return kernel, stride, pads, dilation, out_hw


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002  (PyTorch's names)
    """The sliding kh×kw blocks of (N, C, H, W) (or unbatched (C, H, W)) input as columns:
    (N, C·kh·kw, L) with L = Ho·Wo blocks, as PyTorch's."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"unfold: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    image = input if input.ndim == 4 else input.unsqueeze(0)
    geometry = _geometry(image.shape[2:], kernel_size, dilation, padding, stride, "unfold")
    out = Unfold.apply(image, geometry=geometry)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """The adjoint of unfold: columns (N, C·kh·kw, L) (or unbatched (C·kh·kw, L)) summed into an
    (N, C, *output_size) image, each entry added where unfold would have read it."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"fold: expected 2-D (C·kh·kw, L) or 3-D (N, C·kh·kw, L) input, got shape "
                         f"{tuple(input.shape)}")
    columns = input if input.ndim == 3 else input.unsqueeze(0)
    size = pair(output_size, "output_size", "fold", positive_size)
    geometry = _geometry(size, kernel_size, dilation, padding, stride, "fold")
    kernel, out_hw = geometry[0], geometry[4]
    block = kernel[0] * kernel[1]
    if columns.shape[1] % block:
        raise ShapeError(f"fold: expected size of input's dim {input.ndim - 2} to be divisible by the product "
                         f"of kernel_size {kernel}, but got input of shape {tuple(input.shape)}")
    if columns.shape[2] != out_hw[0] * out_hw[1]:
        raise ShapeError(f"fold: expected input's size at dim -1 to match the calculated number of sliding "
                         f"blocks {out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, but got input of shape "
                         f"{tuple(input.shape)}")
    image_shape = (columns.shape[0], columns.shape[1] // block) + size
    out = Fold.apply(columns, image_shape=image_shape, geometry=geometry)
    return out if input.ndim == 3 else out.squeeze(0)
