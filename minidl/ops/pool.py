"""Max pooling, average pooling and adaptive average pooling over (N, C, H, W).

Pooling reads the same receptive fields as convolution but reduces each one on
its own: the maximum (the gradient goes to the single position that held it)
or the mean (the gradient is shared equally). Both walk the kh·kw kernel
offsets, each a strided view of the padded input with one value per output
position, so no window is ever copied (``offsets`` in im2col.py).

Ties in max pooling: the first maximum in row-major order inside the window
wins, the same rule as PyTorch's CPU kernel, and only it gets the gradient.
"""

from __future__ import annotations

import numpy as np

from minidl.kernels import threads as parallel
from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.conv import output_size, pair
from minidl.ops.im2col import offsets


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Kernel, stride, padding, dilation as pairs, the output size, and the extra right padding ceil_mode needs."""
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, got "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation}")
    for k, p in zip(kernel, padding):
        if p > k // 2:  # PyTorch's rule: half of kernel_size itself, dilated or not
            raise ValueError(f"{op}: padding should be at most half of kernel_size, got padding={padding} for "
                             f"kernel_size={kernel}")
    out_hw = tuple(output_size(size, k, s, 2 * p, d, ceil_mode, p)
                   for size, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ShapeError(f"{op}: output size {out_hw} is too small for input {x.shape} with kernel_size={kernel}, "
                         f"stride={stride}, padding={padding}, dilation={dilation}")
    # padded extent actually read: the last window may reach beyond the right padding in ceil_mode
    extent = tuple(max(size + 2 * p, (o - 1) * s + d * (k - 1) + 1)
                   for size, o, k, s, p, d in zip(x.shape[2:], out_hw, kernel, stride, padding, dilation))
    return kernel, stride, padding, dilation, out_hw, extent


def _padded(x, padding, extent, fill):
    xp = array_module(x)
    ph, pw = padding
    if extent == x.shape[2:] and not any(padding):
        return x
    out = xp.full(x.shape[:2] + extent, fill, dtype=x.dtype)
    out[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    return out


class MaxPool2d(Function):
    """out = max over each window;  dL/dx: the window's gradient goes to the argmax only

    The windows are never copied: the maximum runs over the kh·kw strided views
    padded[..., p·d : : s, q·d : : s], one per kernel offset (2×2 windows with stride 2
    take a pairwise path over the four window corners, ``_forward_2x2``). Backward walks the offsets
    in row-major order and hands each window's gradient to the first offset that holds
    the maximum (the single-index rule for ties, as PyTorch's CPU kernel). NaN counts as
    larger than any number: a window holding NaN has the maximum NaN, and its gradient and
    index go to the window's last NaN in row-major order, as in PyTorch.
    """

    def forward(self, x, kernel, stride, padding, dilation, out_hw, extent):
        xp = array_module(x)
        self.geometry = (x.shape, kernel, stride, padding, dilation, out_hw)
        self.pairs = None
        if (kernel, stride, padding, dilation) == ((2, 2), (2, 2), (0, 0), (1, 1)) and \
                (2 * out_hw[0], 2 * out_hw[1]) == x.shape[2:]:
            return self._forward_2x2(x, out_hw)
        padded = _padded(x, padding, extent, -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min)
        views = [padded[:, :, rows, cols] for _, _, rows, cols in offsets(kernel, stride, dilation, out_hw)]
        best = views[0].copy()
        for values in views[1:]:
            xp.maximum(best, values, out=best)
        self.save(padded, best)
        return best

    def _forward_2x2(self, x, out_hw):
        """2×2 windows tiling the input (the usual CNN pooling). One transposing copy lays the
        four corners of every window out as four contiguous arrays, corners[p, q][..., i, j] =
        x[..., 2i + p, 2j + q]; the comparisons then run over long contiguous rows instead of
        short strided ones. The larger of the two columns in each row, then the larger of the
        two rows, remembering which side won; ties keep the left column and the top row, so the
        first maximum in row-major order wins, as on the general path. A NaN beats everything
        before it, so the last NaN wins."""
        xp = array_module(x)
        n, c = x.shape[:2]
        best = xp.empty((n, c) + tuple(out_hw), dtype=x.dtype)
        right_wins, bottom_wins = [xp.empty(best.shape, dtype=bool) for _ in (0, 1)], xp.empty(best.shape, dtype=bool)

        def images(part):  # slices of the batch, on minidl's threads
            corners = xp.empty((2, 2) + best[part].shape, dtype=x.dtype)
            corners[...] = x[part].reshape(-1, c, out_hw[0], 2, out_hw[1], 2).transpose(3, 5, 0, 1, 2, 4)
            for p in (0, 1):
                xp.greater(corners[p, 1], corners[p, 0], out=right_wins[p][part])
            top, bottom = (xp.maximum(corners[p, 0], corners[p, 1]) for p in (0, 1))
            xp.greater(bottom, top, out=bottom_wins[part])
            xp.maximum(top, bottom, out=best[part])
            if bool((best[part] != best[part]).any()):  # NaN windows: the right column, then the bottom row
                for p in (0, 1):                          # win if NaN
                    right_wins[p][part] |= corners[p, 1] != corners[p, 1]
                bottom_wins[part] |= bottom != bottom
        parallel.map(images, parallel.slices(n, x))
        self.pairs = (right_wins, bottom_wins)  # all the backward needs: the output's values are not saved
        return best

    def _backward_2x2(self, g):
        """Each window's gradient to the winner of _forward_2x2."""
        xp = array_module(g)
        right_wins, bottom_wins = self.pairs
        x_shape, out_hw = self.geometry[0], self.geometry[-1]
        grad = xp.empty(x_shape, dtype=g.dtype)
        tiles = grad.reshape(x_shape[0], x_shape[1], out_hw[0], 2, out_hw[1], 2)

        def images(part):  # slices of the batch, on minidl's threads
            for p, row_wins in ((0, ~bottom_wins[part]), (1, bottom_wins[part])):
                right = row_wins & right_wins[p][part]
                xp.multiply(g[part], right, out=tiles[part, :, :, p, :, 1])
                xp.greater(row_wins, right_wins[p][part], out=right)  # the row wins and its left column does
                xp.multiply(g[part], right, out=tiles[part, :, :, p, :, 0])
        parallel.map(images, parallel.slices(x_shape[0], grad))
        return grad

    def _corner_2x2(self):
        """Which corner (p, q) of each 2×2 window holds the maximum that _forward_2x2 chose."""
        right_wins, bottom_wins = self.pairs
        xp = array_module(bottom_wins)
        return bottom_wins.astype(xp.int64), xp.where(bottom_wins, right_wins[1], right_wins[0]).astype(xp.int64)

    def _hits(self):
        """For each offset in order: where it holds the window's maximum and no earlier offset did
        (in a window whose maximum is NaN: where it holds the window's last NaN)."""
        padded, best = self.saved
        x_shape, kernel, stride, padding, dilation, out_hw = self.geometry
        xp = array_module(best)
        windows = [(rows, cols) for _, _, rows, cols in offsets(kernel, stride, dilation, out_hw)]
        last_nan = None
        if bool((best != best).any()):
            last_nan = xp.full(best.shape, -1)
            for k, (rows, cols) in enumerate(windows):
                values = padded[:, :, rows, cols]
                last_nan[values != values] = k
        free = xp.ones(best.shape, dtype=bool)
        for k, (rows, cols) in enumerate(windows):
            hit = padded[:, :, rows, cols] == best
            if last_nan is not None:
                hit |= last_nan == k
            hit &= free
            free &= ~hit
            yield rows, cols, hit

    def release(self):
        super().release()
        self.pairs = None

    def backward(self, g):
        if self.pairs is not None:
            return self._backward_2x2(g)
        xp = array_module(g)
        padded, _ = self.saved
        x_shape, kernel, stride, padding, dilation, out_hw = self.geometry
        grad = xp.zeros(padded.shape, dtype=g.dtype)
        disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        for rows, cols, hit in self._hits():
            if disjoint:  # each input position lies in one window: write, don't add
                xp.multiply(g, hit, out=grad[:, :, rows, cols])
            else:
                grad[:, :, rows, cols] += g * hit
        return grad[:, :, padding[0]:padding[0] + x_shape[2], padding[1]:padding[1] + x_shape[3]]

    def indices(self):
        """PyTorch's return_indices: the flat position of each maximum within its (H, W) plane."""
        x_shape, kernel, stride, padding, dilation, out_hw = self.geometry
        if self.pairs is not None:
            p, q = self._corner_2x2()
            xp = array_module(p)
        else:
            best = self.saved[-1]
            xp = array_module(best)
            choice = xp.zeros(best.shape, dtype=np.int64)
            for k, (_, _, hit) in enumerate(self._hits()):
                choice[hit] = k
            p, q = xp.divmod(choice, kernel[1])
        rows = xp.arange(out_hw[0])[:, None] * stride[0] + p * dilation[0] - padding[0]
        cols = xp.arange(out_hw[1])[None, :] * stride[1] + q * dilation[1] - padding[1]
        return rows * x_shape[3] + cols


class AvgPool2d(Function):
    """out = Σ window / divisor;  dL/dx: each window's gradient / divisor, added to every element of it
    (one strided view per kernel offset, as in max pooling)"""

    def forward(self, x, kernel, stride, padding, out_hw, extent, divisor):
        xp = array_module(x)
        padded = _padded(x, padding, extent, 0)
        total = xp.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
        for _, _, rows, cols in offsets(kernel, stride, (1, 1), out_hw):
            total += padded[:, :, rows, cols]
        self.divisor = xp.asarray(divisor, dtype=x.dtype)
        self.geometry = (x.shape, padded.shape, kernel, stride, padding, out_hw)
        total /= self.divisor
        return total

    def backward(self, g):
        xp = array_module(g)
        x_shape, padded_shape, kernel, stride, padding, out_hw = self.geometry
        share = g / self.divisor
        grad = xp.zeros(padded_shape, dtype=g.dtype)
        for _, _, rows, cols in offsets(kernel, stride, (1, 1), out_hw):
            grad[:, :, rows, cols] += share
        return grad[:, :, padding[0]:padding[0] + x_shape[2], padding[1]:padding[1] + x_shape[3]]


def _divisors(size, kernel, stride, padding, out_size, count_include_pad):
    """Per output position along one dim: the element count PyTorch divides by."""
    starts = np.arange(out_size) * stride - padding
    ends = np.minimum(starts + kernel, size + padding)
    if count_include_pad:
        return ends - starts
    return np.minimum(ends, size) - np.maximum(starts, 0)


def _batched(function):
    """Accept unbatched (C, H, W) input, as PyTorch does."""
    def wrapper(input, *args, **kwargs):  # noqa: A002
        if input.ndim == 3:
            out = function(input.unsqueeze(0), *args, **kwargs)
            return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
        return function(input, *args, **kwargs)
    wrapper.__doc__, wrapper.__name__ = function.__doc__, function.__name__
    return wrapper


@_batched
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Maximum over each kernel_size window (stride defaults to kernel_size), as in PyTorch."""
    kernel, stride, padding, dilation, out_hw, extent = _geometry(input, kernel_size, stride, padding, dilation,
                                                                  ceil_mode, "max_pool2d")
    out = MaxPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                          out_hw=out_hw, extent=extent)
    if not return_indices:
        return out
    node = out._node
    if node is None:  # not recorded: compute the argmax again to report indices
        node = MaxPool2d()
        node.forward(input.data, kernel, stride, padding, dilation, out_hw, extent)
    from minidl.ops.common import wrap
    return out, wrap(node.indices())


@_batched
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over each window; padding counts toward the divisor unless count_include_pad=False."""
    kernel, stride, padding, _, out_hw, extent = _geometry(input, kernel_size, stride, padding, 1, ceil_mode,
                                                           "avg_pool2d")
    if divisor_override is not None:
        if divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        divisor = np.full(out_hw, float(divisor_override))
    else:
        rows, cols = (_divisors(size, k, s, p, o, count_include_pad)
                      for size, k, s, p, o in zip(input.shape[2:], kernel, stride, padding, out_hw))
        divisor = np.outer(rows, cols).astype(np.float64)
    return AvgPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw, extent=extent,
                           divisor=divisor)


class AdaptiveAvgPool2d(Function):
    """out = Pₕ x Pᵥᵀ with averaging matrices P (row i averages input rows floor(iH/Ho) .. ceil((i+1)H/Ho));
    dL/dx = Pₕᵀ G Pᵥ"""

    def forward(self, x, rows, cols):
        xp = array_module(x)
        self.rows, self.cols = xp.asarray(rows, dtype=x.dtype), xp.asarray(cols, dtype=x.dtype)
        return xp.matmul(xp.matmul(self.rows, x), self.cols.T)

    def backward(self, g):
        xp = array_module(g)
        return xp.matmul(xp.matmul(self.rows.T, g), self.cols)


def _averaging_matrix(size, out_size):
    matrix = np.zeros((out_size, size))
    for i in range(out_size):
        start, end = (i * size) // out_size, -(-((i + 1) * size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


@_batched
def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average pooling to a fixed output size (None keeps that dim's input size)."""
    if input.ndim != 4:
        raise ShapeError(f"adaptive_avg_pool2d: expected 3-D or 4-D input, got shape {input.shape}")
    sizes = (output_size, output_size) if isinstance(output_size, int) or output_size is None else tuple(output_size)
    sizes = tuple(input.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    if len(sizes) != 2 or min(sizes) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    return AdaptiveAvgPool2d.apply(input, rows=_averaging_matrix(input.shape[2], sizes[0]),
                                   cols=_averaging_matrix(input.shape[3], sizes[1]))
