"""The max-pooling kernel: no copied windows, and 2×2 pooling on the window corners, on minidl's threads.

The textbook op (``minidl/ops/pool.py``) stacks the kh·kw values of every window and
takes the argmax. Here the maximum runs over the strided views in place (one pass per
kernel offset) and the winners are found again in the backward; 2×2 windows with stride 2
(the usual CNN pooling) compare the four window corners pairwise after one transposing
copy, remembering only which side won, over slices of the batch on minidl's threads.
Same ties and NaN rules as the textbook op.
"""

from __future__ import annotations

import numpy as np

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import threads
from minidl.ops import pool as textbook
from minidl.ops.im2col import offsets
from minidl.ops.pool import padded_input


@replaces(textbook.MaxPool2d)
class MaxPool2d(textbook.MaxPool2d):
    """The textbook max pooling without copying the windows, and 2×2 pooling on minidl's threads.

    The windows are never copied: the maximum runs over the kh·kw strided views
    padded[..., p·d : : s, q·d : : s], one per kernel offset (2×2 windows with stride 2
    take a pairwise path over the four window corners, ``_forward_2x2``). Backward walks the offsets
    in row-major order and hands each window's gradient to the first offset that holds
    the maximum (the single-index rule for ties, as PyTorch's CPU kernel). NaN counts as
    larger than any number: a window holding NaN has the maximum NaN, and its gradient and
    index go to the window's last NaN in row-major order, as in PyTorch.
    """

    def forward(self, x, kernel, stride, padding, dilation, out_hw, extent, return_indices=False):
        xp = array_module(x)
        self.geometry = (x.shape, kernel, stride, padding, dilation, out_hw)
        self.two_by_two = (kernel, stride, padding, dilation) == ((2, 2), (2, 2), (0, 0), (1, 1)) and \
            (2 * out_hw[0], 2 * out_hw[1]) == x.shape[2:]
        if self.two_by_two:
            best = self._forward_2x2(x, out_hw)
        else:
            padded = padded_input(x, padding, extent, -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min)
            views = [padded[:, :, rows, cols] for _, _, rows, cols in offsets(kernel, stride, dilation, out_hw)]
            best = views[0].copy()
            for values in views[1:]:
                xp.maximum(best, values, out=best)
            self.save(padded, best)
        return (best, self.indices()) if return_indices else best

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
        threads.split(images, x)
        self.save(*right_wins, bottom_wins)  # all the backward needs: the output's values are not saved
        return best

    def _backward_2x2(self, g):
        """Each window's gradient to the winner of _forward_2x2."""
        xp = array_module(g)
        right_top, right_bottom, bottom_wins = self.saved
        right_wins = (right_top, right_bottom)
        x_shape, out_hw = self.geometry[0], self.geometry[-1]
        grad = xp.empty(x_shape, dtype=g.dtype)
        tiles = grad.reshape(x_shape[0], x_shape[1], out_hw[0], 2, out_hw[1], 2)

        def images(part):  # slices of the batch, on minidl's threads
            for p, row_wins in ((0, ~bottom_wins[part]), (1, bottom_wins[part])):
                right = row_wins & right_wins[p][part]
                xp.multiply(g[part], right, out=tiles[part, :, :, p, :, 1])
                xp.greater(row_wins, right_wins[p][part], out=right)  # the row wins and its left column does
                xp.multiply(g[part], right, out=tiles[part, :, :, p, :, 0])
        threads.split(images, grad)
        return grad

    def _corner_2x2(self):
        """Which corner (p, q) of each 2×2 window holds the maximum that _forward_2x2 chose."""
        right_top, right_bottom, bottom_wins = self.saved
        xp = array_module(bottom_wins)
        return bottom_wins.astype(xp.int64), xp.where(bottom_wins, right_bottom, right_top).astype(xp.int64)

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

    def backward(self, g, g_indices=None):
        if self.two_by_two:
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
        if self.two_by_two:
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
