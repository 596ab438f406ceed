"""Power-average pooling, as PyTorch's lp_pool1d and lp_pool2d.

Each window of k values is reduced to its p-norm, (Σ xᵖ)^(1/p): p = 1 is sum pooling, large p
approaches max pooling. It is built from existing ops, so the gradient follows from theirs:

    out = (k · avg_pool(xᵖ))^(1/p),   dout/dx = x^(p-1) · out^(1-p)  (inside each window)

No padding; stride defaults to kernel_size; ceil_mode as in average pooling (a partial last
window is averaged over what it covers and scaled by the full k, as PyTorch does).
"""

from __future__ import annotations

import math

from minidl.core import arguments
from minidl.core.arguments import positive_size
from minidl.ops.conv import pair
from minidl.ops.pool import avg_pool2d
from minidl.ops.pool1d import avg_pool1d


def _power_sum_root(average, norm_type, window):
    """(window · average)^(1/p), with PyTorch's sign(a)·relu(|a|) guard on the average."""
    return (average.sign() * average.abs().relu() * float(window)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002 (PyTorch's names)
    """p-norm over each kernel_size window along L of (N, C, L) or (C, L) input."""
    norm_type = arguments.number(norm_type, "lp_pool1d", "norm_type", above=0.0)
    (kernel,) = pair(kernel_size, "kernel_size", "lp_pool1d", positive_size, count=1)
    average = avg_pool1d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return _power_sum_root(average, norm_type, kernel)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """p-norm over each kernel_size window of (N, C, H, W) or (C, H, W) input."""
    norm_type = arguments.number(norm_type, "lp_pool2d", "norm_type", above=0.0)
    kernel = pair(kernel_size, "kernel_size", "lp_pool2d", positive_size)
    average = avg_pool2d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return _power_sum_root(average, norm_type, math.prod(kernel))
