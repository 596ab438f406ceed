"""Kernels' im2col and col2im: two layouts of the columns, each faster than the textbook's for its case.

The textbook im2col (``minidl/ops/im2col.py``) copies kh·kw strided slices of the padded
input. These layouts do the same work with fewer, longer copies. Columns are stored
channel-major, ``cols[c, p, q, n, m]`` = the input value that kernel offset (p, q) of
channel c meets at output position m of image n, so the convolution is one matrix
product W (O, C·kh·kw) @ cols (C·kh·kw, N·M) and the input is transposed to
(C, N, H, W) once, not copied kh·kw times in small pieces.

Two layouts, chosen by stride:

* ``RowRuns`` (stride 1): flatten each zero-padded image into one long row of
  length Hp·Wp. The window of output (i, j) at offset (p, q) starts at flat
  index (i + p·d)·Wp + (j + q·d), so for fixed (p, q) all outputs read ONE
  contiguous run, shifted by p·d·Wp + q·d. im2col is then kh·kw plain slice
  copies, and col2im kh·kw plain slice adds. The price: each output row is
  computed Wp wide instead of Wo (the extra columns are dropped), a few
  percent more arithmetic for much faster memory traffic. The right padding
  of one row and the left padding of the next are the same zeros (a window
  running off the right edge reads on into the next row's left padding), so
  Wp = W + max(left, right), not W + left + right: for a 3×3 kernel with
  padding 1, one extra column per row instead of two.
* ``Windows`` (any stride): a strided view of every window (``as_strided``),
  copied once; col2im adds one strided slice per kernel offset.
"""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.ops.im2col import offsets


def windows(padded, kernel, stride, dilation, out_hw):
    """A view (A, B, kh, kw, Ho, Wo) of every window of a padded (A, B, H, W) array (NCHW or CNHW)."""
    xp = array_module(padded)
    a, b = padded.shape[:2]
    sa, sb, sh, sw = padded.strides
    shape = (a, b, kernel[0], kernel[1], out_hw[0], out_hw[1])
    strides = (sa, sb, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1])
    return xp.lib.stride_tricks.as_strided(padded, shape=shape, strides=strides)


def add_windows(target, values, kernel, stride, dilation, out_hw):
    """The adjoint of windows(): target[..., i·s + p·d, j·s + q·d] += values[..., p, q, i, j]."""
    for p, q, rows, cols in offsets(kernel, stride, dilation, out_hw):
        target[:, :, rows, cols] += values[:, :, p, q]
    return target


def _padded_cnhw(x, pads, width=None, tail=0):
    """x (N, C, H, W) as zero-padded (C, N, Hp·Wp + tail), plus the (C, N, Hp, Wp) view of its body.

    Rows are ``width`` wide (default W + left + right), x's columns start at ``left``, zeros elsewhere.
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    top, bottom, left, right = pads
    hp, wp = h + top + bottom, w + left + right if width is None else width
    flat = xp.empty((c, n, hp * wp + tail), dtype=x.dtype)
    body = flat[:, :, :hp * wp].reshape(c, n, hp, wp)
    body[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    # zero only the border and the tail, not the whole buffer
    body[:, :, :top], body[:, :, top + h:] = 0, 0
    body[:, :, top:top + h, :left], body[:, :, top:top + h, left + w:] = 0, 0
    flat[:, :, hp * wp:] = 0
    return flat, body


class Layout:
    """What both layouts share: the size of the columns."""

    def columns_bytes(self, itemsize):
        """Bytes of the whole batch's columns, C·kh·kw·N·M values."""
        n, c = self.x_shape[:2]
        return c * self.kernel[0] * self.kernel[1] * n * self.run * itemsize


class RowRuns(Layout):
    """Stride-1 layout: each kernel offset reads one contiguous run per padded image."""

    def __init__(self, x_shape, kernel, pads, dilation, out_hw):
        self.x_shape, self.kernel, self.pads, self.dilation, self.out_hw = x_shape, kernel, pads, dilation, out_hw
        # Wp: output rows are computed this wide. A window that runs off the right edge reads on into
        # the next row's left padding, so the zeros between two rows serve as both paddings.
        self.width = max(x_shape[3] + max(pads[2], pads[3]), out_hw[1])
        self.run = out_hw[0] * self.width                     # M per image
        self.tail = (kernel[1] - 1) * dilation[1]             # so the last run stays inside the buffer
        self.shifts = [p * dilation[0] * self.width + q * dilation[1]
                       for p in range(kernel[0]) for q in range(kernel[1])]

    def columns(self, x):
        xp = array_module(x)
        flat, _ = _padded_cnhw(x, self.pads, self.width, self.tail)
        c, n = flat.shape[:2]
        cols = xp.empty((c, len(self.shifts), n, self.run), dtype=x.dtype)
        for k, shift in enumerate(self.shifts):
            cols[:, k] = flat[:, :, shift:shift + self.run]
        return cols

    def to_output(self, wide):
        """(O, N, Ho·Wp) -> (N, O, Ho, Wo), dropping the extra columns."""
        o, n = wide.shape[:2]
        return wide.reshape(o, n, self.out_hw[0], self.width)[:, :, :, :self.out_hw[1]].transpose(1, 0, 2, 3)

    def from_output(self, g):
        """(N, O, Ho, Wo) -> (O, N, Ho·Wp), zeros in the extra columns."""
        xp = array_module(g)
        n, o = g.shape[:2]
        wide = xp.empty((o, n, self.out_hw[0], self.width), dtype=g.dtype)
        wide[:, :, :, :self.out_hw[1]] = g.transpose(1, 0, 2, 3)
        wide[:, :, :, self.out_hw[1]:] = 0
        return wide.reshape(o, n, self.run)

    def scatter(self, d_cols):
        """col2im: add each offset's run back at its shift; returns dL/dx as (n, C, H, W)."""
        xp = array_module(d_cols)
        _, c, h, w = self.x_shape
        n = d_cols.shape[2]
        top, bottom, left, right = self.pads
        hp = h + top + bottom
        flat = xp.empty((c, n, hp * self.width + self.tail), dtype=d_cols.dtype)
        flat[:, :, :self.run] = d_cols[:, 0]              # the first offset has shift 0: write, don't add
        flat[:, :, self.run:] = 0
        for k, shift in enumerate(self.shifts[1:], start=1):
            flat[:, :, shift:shift + self.run] += d_cols[:, k]
        body = flat[:, :, :hp * self.width].reshape(c, n, hp, self.width)
        return body[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3)


class Windows(Layout):
    """Any-stride layout: a strided view of every window, copied once."""

    def __init__(self, x_shape, kernel, stride, pads, dilation, out_hw):
        self.x_shape, self.kernel, self.stride, self.pads = x_shape, kernel, stride, pads
        self.dilation, self.out_hw = dilation, out_hw
        self.run = out_hw[0] * out_hw[1]

    def columns(self, x):
        xp = array_module(x)
        _, body = _padded_cnhw(x, self.pads)
        c, n = body.shape[:2]
        view = windows(body, self.kernel, self.stride, self.dilation, self.out_hw).transpose(0, 2, 3, 1, 4, 5)
        return xp.ascontiguousarray(view).reshape(c, self.kernel[0] * self.kernel[1], n, self.run)

    def to_output(self, wide):
        o, n = wide.shape[:2]
        return wide.reshape(o, n, *self.out_hw).transpose(1, 0, 2, 3)

    def from_output(self, g):
        n, o = g.shape[:2]
        return array_module(g).ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(o, n, self.run)

    def scatter(self, d_cols):
        xp = array_module(d_cols)
        _, c, h, w = self.x_shape
        n = d_cols.shape[2]
        top, bottom, left, right = self.pads
        body = xp.zeros((c, n, h + top + bottom, w + left + right), dtype=d_cols.dtype)
        values = d_cols.reshape(c, self.kernel[0], self.kernel[1], n, *self.out_hw).transpose(0, 3, 1, 2, 4, 5)
        add_windows(body, values, self.kernel, self.stride, self.dilation, self.out_hw)
        return body[:, :, top:top + h, left:left + w].transpose(1, 0, 2, 3)


def layout(x_shape, kernel, stride, pads, dilation, out_hw):
    """The im2col layout for this convolution: contiguous runs for stride 1, windows otherwise."""
    if stride == (1, 1):
        return RowRuns(x_shape, kernel, pads, dilation, out_hw)
    return Windows(x_shape, kernel, stride, pads, dilation, out_hw)
