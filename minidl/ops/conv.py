"""2-D convolution as im2col plus one matrix product.

The source text's convolution (f*g)(x) = Σ_y f(y) g(x - y) is, in deep
learning, computed as cross-correlation: output pixel (o, i, j) is

    out[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x[n, c, i·s + p·d, j·s + q·d]

(s = stride, d = dilation, x zero-padded). Laying every receptive field out
as a column (im2col, a strided *view* of x made by ``as_strided`` and copied
once, see im2col.py) turns the sum into one matrix product per group:
``out = W (O, C·kh·kw) @ cols (C·kh·kw, N·Ho·Wo)``. The backward is two more
products, dW = G @ colsᵀ and dcols = Wᵀ @ G, and col2im: dcols is added back
onto the padded input, one slice per kernel offset (kh·kw adds, never
``np.add.at``). All of it runs over chunks of a few images, so each chunk's
columns are multiplied while they are still in cache (``Conv2d``).
"""

from __future__ import annotations

import numbers

from minidl.kernels import threads as parallel
from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.kernels.reduction import fast_sum
from minidl.ops.im2col import layout


def pair(value, name, op):
    """An int or a pair of ints as a pair."""
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, numbers.Integral) for v in value):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(value[0]), int(value[1])


def output_size(size, kernel, stride, pad_total, dilation, ceil_mode=False, pad_left=None):
    """floor((size + pads - d(k-1) - 1)/s) + 1 (ceil with ceil_mode, dropping a last window
    that would start inside the right padding)."""
    span = size + pad_total - dilation * (kernel - 1) - 1  # negative: the kernel overhangs the input
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and count > 0 and (count - 1) * stride >= size + (pad_total // 2 if pad_left is None else pad_left):
        count -= 1
    return max(count, 0)


#: im2col columns are built for a few images at a time, about this many bytes of columns per
#: chunk: small enough to stay in the processor's cache between being written and being
#: multiplied, large enough that each chunk's matrix product runs at full speed.
CHUNK_BYTES = 6 * 2**20
#: the forward keeps up to this many bytes of columns (the first chunks') for the backward, which
#: needs them for dW; the other chunks' columns are rebuilt there, so memory stays bounded.
KEEP_COLUMNS_BYTES = 32 * 2**20


def image_chunks(layout, n, itemsize):
    """Consecutive slices of the batch, of equal size, whose im2col columns take at most about
    CHUNK_BYTES each (equal, so that no small last chunk runs its matrix products slowly)."""
    per_image = layout.columns_bytes(itemsize) // max(layout.x_shape[0], 1)
    count = -(-n // max(1, CHUNK_BYTES // max(per_image, 1)))
    size = max(1, -(-n // max(count, 1)))
    return [slice(first, min(first + size, n)) for first in range(0, n, size)]


class Conv2d(Function):
    """out = W ⋆ x + b (cross-correlation, see the module docstring);
    dL/dW = G @ colsᵀ,  dL/dx = col2im(Wᵀ @ G),  dL/db = Σ_{n,i,j} G

    The batch is processed in chunks of a few images (``image_chunks``): each chunk's
    columns are written and multiplied while still in cache. The forward keeps the columns
    of as many chunks as fit in KEEP_COLUMNS_BYTES for the backward, which rebuilds the rest
    rather than keeping the whole batch's columns (kh·kw times the input) alive in between.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1,
                out_hw=None):
        xp = array_module(x)
        self.layout = layout(x.shape, weight.shape[2:], stride, pads, dilation, out_hw)
        self.weight = weight.reshape(groups, weight.shape[0] // groups, -1)
        self.weight_shape = weight.shape
        self.save(x)
        out = xp.empty((x.shape[0], weight.shape[0]) + tuple(out_hw), dtype=x.dtype)
        self.chunks = image_chunks(self.layout, x.shape[0], x.dtype.itemsize)
        needs_columns = len(self.needs_grad) > 1 and self.needs_grad[1]     # only dL/dW reads the columns
        chunk_images = self.chunks[0].stop - self.chunks[0].start  # no chunk is larger than the first
        chunk_bytes = self.layout.columns_bytes(x.dtype.itemsize) * chunk_images // max(x.shape[0], 1)
        kept = min(len(self.chunks), KEEP_COLUMNS_BYTES // max(chunk_bytes, 1)) if needs_columns else 0

        def forward_chunk(index):  # chunks are independent: they run on minidl's threads
            chunk = self.chunks[index]
            cols = self._columns(x[chunk])
            wide = self._matmul(self.weight, cols).reshape(weight.shape[0], -1)  # one GEMM per group
            if bias is not None:  # one long row per output channel: far faster than adding it to out
                wide += bias.reshape(-1, 1)
            out[chunk] = self.layout.to_output(wide.reshape(weight.shape[0], -1, self.layout.run))
            return cols if index < kept else None  # the first chunks' columns are kept

        self.kept = parallel.map(forward_chunk, range(len(self.chunks)))[:kept]
        return out

    def _matmul(self, a, b):
        """A chunk's matrix product: shared out over the threads when there is a single chunk."""
        return parallel.matmul(a, b) if len(self.chunks) == 1 else array_module(a).matmul(a, b)

    def _columns(self, x):
        """im2col of a chunk of images as (groups, C/groups·kh·kw, n·M)."""
        cols = self.layout.columns(x)                                       # (C, kh·kw, n, M)
        return cols.reshape(self.weight.shape[0], -1, cols.shape[2] * cols.shape[3])

    def backward(self, g):
        xp = array_module(g)
        (x,) = self.saved
        groups, per_group = self.weight.shape[:2]
        grads = [None] * len(self.needs_grad)
        if len(grads) > 2 and self.needs_grad[2]:
            grads[2] = fast_sum(g, (0, 2, 3), keepdims=False)
        d_x = xp.empty(x.shape, dtype=g.dtype) if self.needs_grad[0] else None

        def backward_chunk(index):  # returns the chunk's part of dL/dW; writes its part of dL/dx
            chunk = self.chunks[index]
            g_wide = self.layout.from_output(g[chunk]).reshape(groups, per_group, -1)
            if d_x is not None:
                d_cols = self._matmul(self.weight.transpose(0, 2, 1), g_wide)
                d_x[chunk] = self.layout.scatter(d_cols.reshape(x.shape[1], -1, g_wide.shape[2] // self.layout.run,
                                                                self.layout.run))
            if self.needs_grad[1]:  # dWᵀ = cols Gᵀ: BLAS runs this order faster than G colsᵀ
                cols = self.kept[index] if index < len(self.kept) else self._columns(x[chunk])
                return self._matmul(cols, g_wide.transpose(0, 2, 1))
            return None

        d_weights = parallel.map(backward_chunk, range(len(self.chunks)))
        self.kept = []
        grads[0] = d_x
        if self.needs_grad[1]:  # the chunks' parts, added in chunk order
            grads[1] = sum(d_weights[1:], d_weights[0]).transpose(0, 2, 1).reshape(self.weight_shape)
        return tuple(grads)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (cross-correlation) of (N, C, H, W) or unbatched (C, H, W) input with
    weight (C_out, C_in/groups, kH, kW), as ``torch.nn.functional.conv2d``.

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size;
    stride 1 only; odd totals put the extra zero on the bottom/right, as PyTorch does).
    """
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 4:
        raise ShapeError(f"conv2d: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: expected 4-D weight (C_out, C_in/groups, kH, kW), got shape {weight.shape}")
    stride, dilation = pair(stride, "stride", "conv2d"), pair(dilation, "dilation", "conv2d")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    n, c, h, w = input.shape
    out_channels, c_per_group, kh, kw = weight.shape
    if not isinstance(groups, numbers.Integral) or groups < 1 or c % groups or out_channels % groups:
        raise ValueError(f"conv2d: groups={groups} must be a positive int dividing both in_channels ({c}) and "
                         f"out_channels ({out_channels})")
    if c_per_group * groups != c:
        raise ShapeError(f"conv2d: weight of shape {weight.shape} with groups={groups} expects input with "
                         f"{c_per_group * groups} channels, but got input of shape {input.shape}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"conv2d: bias must have shape ({out_channels},), got {tuple(bias.shape)}")
    pads = _padding(padding, (kh, kw), stride, dilation)
    out_hw = (output_size(h, kh, stride[0], pads[0] + pads[1], dilation[0]),
              output_size(w, kw, stride[1], pads[2] + pads[3], dilation[1]))
    if min(out_hw) < 1:
        raise ShapeError(f"conv2d: output size {out_hw} is too small: input {(h, w)} with padding {pads} "
                         f"(top, bottom, left, right) is smaller than the dilated kernel "
                         f"{(dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)}")
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return Conv2d.apply(*inputs, stride=stride, pads=pads, dilation=dilation, groups=int(groups), out_hw=out_hw)


def _padding(padding, kernel, stride, dilation):
    """(top, bottom, left, right) zero padding from conv2d's ``padding`` argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions (stride={stride})")
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    ph, pw = pair(padding, "padding", "conv2d")
    if ph < 0 or pw < 0:
        raise ValueError(f"conv2d: padding must be non-negative, got {(ph, pw)}")
    return (ph, ph, pw, pw)
