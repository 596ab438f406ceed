"""im2col and col2im: laying every receptive field of a convolution out as a column.

For a kernel of kh×kw offsets (p, q), stride s and dilation d, output position
(i, j) of image n meets the zero-padded input at row i·s + p·d, column j·s + q·d.
For one offset (p, q), those positions over all outputs form a strided slice of
the padded input (``offsets``), so im2col copies kh·kw slices::

    cols[c, p, q, n, i, j] = padded[n, c, i·s + p·d, j·s + q·d]

and stores them as a (C·kh·kw, N·Ho·Wo) matrix, channel-major: the convolution is
then one matrix product W (O, C·kh·kw) @ cols. col2im is its adjoint: each
offset's slice of the columns is *added* back onto the padded input (windows
overlap, so a position can receive from several offsets; never ``np.add.at``).
"""

from __future__ import annotations

from minidl.core.backend import array_module


def offsets(kernel, stride, dilation, out_hw):
    """For each kernel offset (p, q): the slices of padded rows and columns it meets, one per output.

    ``padded[..., rows, cols]`` is then an (…, Ho, Wo) strided view: the values that offset (p, q)
    contributes to every output position.
    """
    for p in range(kernel[0]):
        rows = slice(p * dilation[0], p * dilation[0] + stride[0] * (out_hw[0] - 1) + 1, stride[0])
        for q in range(kernel[1]):
            cols = slice(q * dilation[1], q * dilation[1] + stride[1] * (out_hw[1] - 1) + 1, stride[1])
            yield p, q, rows, cols


def pad(x, pads):
    """x (N, C, H, W) with (top, bottom, left, right) rows and columns of zeros around each image."""
    top, bottom, left, right = pads
    n, c, h, w = x.shape
    padded = array_module(x).zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def im2col(x, kernel, stride, pads, dilation, out_hw):
    """The receptive fields of x (N, C, H, W) as columns: (C·kh·kw, N·Ho·Wo), channel-major."""
    padded = pad(x, pads)
    n, c = x.shape[:2]
    cols = array_module(x).empty((c, kernel[0], kernel[1], n) + tuple(out_hw), dtype=x.dtype)
    for p, q, rows, columns in offsets(kernel, stride, dilation, out_hw):
        cols[:, p, q] = padded[:, :, rows, columns].transpose(1, 0, 2, 3)
    return cols.reshape(c * kernel[0] * kernel[1], n * out_hw[0] * out_hw[1])


def col2im(cols, x_shape, kernel, stride, pads, dilation, out_hw):
    """The adjoint of im2col: each column entry added back where it was read; returns (N, C, H, W)."""
    n, c, h, w = x_shape
    top, bottom, left, right = pads
    padded = array_module(cols).zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    values = cols.reshape((c, kernel[0], kernel[1], n) + tuple(out_hw))
    for p, q, rows, columns in offsets(kernel, stride, dilation, out_hw):
        padded[:, :, rows, columns] += values[:, p, q].transpose(1, 0, 2, 3)
    return padded[:, :, top:top + h, left:left + w]
