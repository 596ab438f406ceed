"""Max unpooling and power-average pooling layers, as PyTorch's (the functional forms are in
minidl/ops/unpool.py and minidl/ops/lp_pool.py)."""

from __future__ import annotations

from minidl.core.arguments import number
from minidl.nn.module import Module
from minidl.ops.lp_pool import lp_pool1d, lp_pool2d
from minidl.ops.unpool import max_unpool


class _MaxUnpoolNd(Module):
    """Writes each value back at the position max pooling took it from (its index), zeros elsewhere."""

    spatial = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def forward(self, input, indices, output_size=None):  # noqa: A002 (PyTorch's names)
        return max_unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size, self.spatial,
                          type(self).__name__)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d on (N, C, L) or (C, L) input."""


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d on (N, C, H, W) or (C, H, W) input."""

    spatial = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d on (N, C, D, H, W) or (C, D, H, W) input."""

    spatial = 3


class LPPool1d(Module):
    """(Σ xᵖ)^(1/p) over each kernel_size window along L; stride defaults to kernel_size."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        number(norm_type, type(self).__name__, "norm_type", above=0.0)  # checked; kept as given
        self.norm_type = norm_type
        self.kernel_size, self.stride, self.ceil_mode = kernel_size, stride, ceil_mode

    def forward(self, x):
        return lp_pool1d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool2d(LPPool1d):
    """(Σ xᵖ)^(1/p) over each kernel_size window of (N, C, H, W) or (C, H, W) input."""

    def forward(self, x):
        return lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
