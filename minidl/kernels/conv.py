"""The convolution kernel: the textbook im2col + GEMM, in chunks of images, on every core.

The textbook op (``minidl/ops/conv.py``) builds the whole batch's columns, kh·kw times the
input, then multiplies once. Here the batch is processed in chunks of a few images, each
chunk's columns written (in the faster layouts of ``kernels/im2col.py``) and multiplied
while still in the processor's cache, chunks running side by side on minidl's threads or
one after another with their products on BLAS's threads, as the thread plan says
(``kernels/threads.py``).
The forward keeps as many chunks' columns as fit in KEEP_COLUMNS_BYTES for the weight
gradient; the backward rebuilds the rest.
"""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import products, threads
from minidl.kernels.im2col import layout
from minidl.kernels.reduction import fast_sum
from minidl.ops import conv as textbook


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


@replaces(textbook.Conv2d)
class Conv2d(textbook.Conv2d):
    """The textbook convolution in chunks of images, on every core, with faster column layouts.

    The batch is processed in chunks of a few images (``image_chunks``): each chunk's
    columns are written and multiplied while still in cache. The forward keeps the columns
    of as many chunks as fit in KEEP_COLUMNS_BYTES for the backward, which rebuilds the rest
    rather than keeping the whole batch's columns (kh·kw times the input) alive in between.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1,
                out_hw=None):
        self.empty = not (x.size and weight.size)
        if self.empty:  # an empty batch or layer: nothing to chunk; the textbook op handles sizes 0
            return super().forward(x, weight, bias, stride, pads, dilation, groups, out_hw)
        xp = array_module(x)
        self.layout = layout(x.shape, weight.shape[2:], stride, pads, dilation, out_hw)
        grouped = weight.reshape(groups, weight.shape[0] // groups, -1)
        self.groups = groups
        out = xp.empty((x.shape[0], weight.shape[0]) + tuple(out_hw), dtype=x.dtype)
        self.chunks = image_chunks(self.layout, x.shape[0], x.dtype.itemsize)
        needs_columns = len(self.needs_grad) > 1 and self.needs_grad[1]     # only dL/dW reads the columns
        chunk_images = self.chunks[0].stop - self.chunks[0].start  # no chunk is larger than the first
        chunk_bytes = self.layout.columns_bytes(x.dtype.itemsize) * chunk_images // max(x.shape[0], 1)
        kept = min(len(self.chunks), KEEP_COLUMNS_BYTES // max(chunk_bytes, 1)) if needs_columns else 0

        def forward_chunk(index):  # chunks are independent: they may run side by side
            chunk = self.chunks[index]
            cols = self._columns(x[chunk], groups)
            wide = self._matmul(grouped, cols).reshape(weight.shape[0], -1)  # one GEMM per group
            if bias is not None:  # one long row per output channel: far faster than adding it to out
                wide += bias.reshape(-1, 1)
            out[chunk] = self.layout.to_output(wide.reshape(weight.shape[0], -1, self.layout.run))
            return cols if index < kept else None  # the first chunks' columns are kept

        kept_columns = threads.map(forward_chunk, range(len(self.chunks)))[:kept]
        self.save(x, weight, *kept_columns)
        return out

    def _matmul(self, a, b):
        """A chunk's matrix product (on every core unless the chunks already run side by side)."""
        return products.matmul(a, b)

    def _columns(self, x, groups):
        """im2col of a chunk of images as (groups, C/groups·kh·kw, n·M)."""
        cols = self.layout.columns(x)                                       # (C, kh·kw, n, M)
        return cols.reshape(groups, -1, cols.shape[2] * cols.shape[3])

    def backward(self, g):
        if self.empty:
            return super().backward(g)
        xp = array_module(g)
        x, weight, *kept = self.saved
        groups = self.groups
        grouped = weight.reshape(groups, weight.shape[0] // groups, -1)
        per_group = grouped.shape[1]
        grads = [None] * len(self.needs_grad)
        if len(grads) > 2 and self.needs_grad[2]:
            grads[2] = fast_sum(g, (0, 2, 3), keepdims=False)
        d_x = xp.empty(x.shape, dtype=g.dtype) if self.needs_grad[0] else None

        def backward_chunk(index):  # returns the chunk's part of dL/dW; writes its part of dL/dx
            chunk = self.chunks[index]
            g_wide = self.layout.from_output(g[chunk]).reshape(groups, per_group, -1)
            if d_x is not None:
                d_cols = self._matmul(grouped.transpose(0, 2, 1), g_wide)
                d_x[chunk] = self.layout.scatter(d_cols.reshape(x.shape[1], -1, g_wide.shape[2] // self.layout.run,
                                                                self.layout.run))
            if self.needs_grad[1]:  # dWᵀ = cols Gᵀ: BLAS runs this order faster than G colsᵀ
                cols = kept[index] if index < len(kept) else self._columns(x[chunk], groups)
                return self._matmul(cols, g_wide.transpose(0, 2, 1))
            return None

        d_weights = threads.map(backward_chunk, range(len(self.chunks)))
        grads[0] = d_x
        if self.needs_grad[1]:  # the chunks' parts, added in chunk order
            grads[1] = sum(d_weights[1:], d_weights[0]).transpose(0, 2, 1).reshape(weight.shape)
        return tuple(grads)
