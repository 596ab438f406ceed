"""1-D pooling layers and adaptive max pooling, as PyTorch's (the functional forms are in
minidl/ops/pool1d.py and minidl/ops/adaptive_pool.py)."""

from __future__ import annotations

from minidl.nn.module import Module
from minidl.ops.adaptive_pool import adaptive_max_pool2d
from minidl.ops.pool1d import adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d, pool1d_arguments


class MaxPool1d(Module):
    """Maximum over kernel_size windows of (N, C, L) or (C, L) input; stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        pool1d_arguments(kernel_size, stride, padding, dilation, "MaxPool1d")  # checked; kept as given
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over kernel_size windows of (N, C, L) or (C, L) input; stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        kernel, stride, padding, _ = pool1d_arguments(kernel_size, stride, padding, 1, "AvgPool1d")
        self.kernel_size, self.stride, self.padding = (kernel,), (stride,), (padding,)  # 1-tuples, as PyTorch's
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling of (N, C, L) or (C, L) input to a fixed output length."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """Max pooling of (N, C, L) or (C, L) input to a fixed output length."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return adaptive_max_pool1d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    """Max pooling of (N, C, H, W) or (C, H, W) input to a fixed output size (an int, or a pair whose None
    entries keep that input size)."""

    def forward(self, x):
        return adaptive_max_pool2d(x, self.output_size, self.return_indices)
