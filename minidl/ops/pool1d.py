"""1-D pooling over (N, C, L) or unbatched (C, L): the 2-D pooling ops on a unit height.

A sequence of length L is an image of height 1 and width L: the 1-D kernel k, stride s, padding p
and dilation d become (1, k), (1, s), (0, p) and (1, d), and the 2-D op's forward and backward
(in pool.py and adaptive_pool.py) do the work; only the unit height is added and taken away
again. Max pooling's indices are then positions along L, as in PyTorch.
"""

from __future__ import annotations

from minidl.core.arguments import positive_size
from minidl.core.errors import ShapeError
from minidl.ops.adaptive_pool import adaptive_max_pool2d
from minidl.ops.conv import output_size, pair
from minidl.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d


def _as_image(input, op):  # noqa: A002
    """(N, C, L) or (C, L) input as (N, C, 1, L), and a function that takes the unit height (and the
    batch dim of an unbatched input) off a result again."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}")
    image = input.unsqueeze(-2) if input.ndim == 3 else input.unsqueeze(0).unsqueeze(-2)

    def back(out):
        if isinstance(out, tuple):
            return tuple(back(o) for o in out)
        out = out.squeeze(-2)
        return out if input.ndim == 3 else out.squeeze(0)
    return image, back


def pool1d_arguments(kernel_size, stride, padding, dilation, op):
    """kernel, stride (default: kernel_size), padding and dilation as checked ints (an int or a 1-tuple each)."""
    (kernel,) = pair(kernel_size, "kernel_size", op, positive_size, count=1)
    (stride,) = (kernel,) if stride is None or stride == () else pair(stride, "stride", op, positive_size, count=1)
    (padding,) = pair(padding, "padding", op, count=1)
    (dilation,) = pair(dilation, "dilation", op, positive_size, count=1)
    if padding > kernel // 2:
        raise ValueError(f"{op}: padding should be at most half of kernel_size, got padding={padding} for "
                         f"kernel_size={kernel}")
    return kernel, stride, padding, dilation


def _window_arguments(input, kernel_size, stride, padding, dilation, ceil_mode, op):  # noqa: A002
    """:func:`pool1d_arguments`, and a clear error when not one window fits the input."""
    kernel, stride, padding, dilation = pool1d_arguments(kernel_size, stride, padding, dilation, op)
    if output_size(input.shape[-1], kernel, stride, 2 * padding, dilation, ceil_mode, padding) < 1:
        raise ShapeError(f"{op}: output length is less than 1 for input of shape {tuple(input.shape)} with "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation}")
    return kernel, stride, padding, dilation


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Maximum over each kernel_size window along L (stride defaults to kernel_size), as in PyTorch; with
    ``return_indices`` also each maximum's position along L."""
    image, back = _as_image(input, "max_pool1d")
    k, s, p, d = _window_arguments(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool1d")
    return back(max_pool2d(image, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    """Mean over each kernel_size window along L; padding counts toward the divisor unless
    count_include_pad=False."""
    image, back = _as_image(input, "avg_pool1d")
    k, s, p, _ = _window_arguments(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool1d")
    return back(avg_pool2d(image, (1, k), (1, s), (0, p), ceil_mode, count_include_pad))


def _output_length(output_size, op):
    (length,) = pair(output_size, "output_size", op, positive_size, count=1)
    return length


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """Average pooling to a fixed output length: output i averages positions ⌊iL/out⌋ .. ⌈(i+1)L/out⌉ - 1."""
    image, back = _as_image(input, "adaptive_avg_pool1d")
    return back(adaptive_avg_pool2d(image, (1, _output_length(output_size, "adaptive_avg_pool1d"))))


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling to a fixed output length (windows as in adaptive_avg_pool1d); with ``return_indices``
    also each maximum's position along L."""
    image, back = _as_image(input, "adaptive_max_pool1d")
    return back(adaptive_max_pool2d(image, (1, _output_length(output_size, "adaptive_max_pool1d")),
                                    return_indices))
