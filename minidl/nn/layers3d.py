"""Layers over three spatial dims (volumes, videos), as PyTorch's: Conv3d, 3-D max, average and adaptive
pooling, BatchNorm3d, InstanceNorm3d and the 3-D padding layers.

Each is its 2-D counterpart with one more spatial dim: input (N, C, D, H, W) or, where PyTorch allows
it, unbatched (C, D, H, W). The functional forms are in minidl/ops/conv3d.py and minidl/ops/pool3d.py.
"""

from __future__ import annotations

from minidl.nn.conv import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, _ConvNd
from minidl.nn.instance_norm import _InstanceNorm
from minidl.nn.norm import _BatchNorm
from minidl.nn.pooling import AdaptiveMaxPool1d
from minidl.nn.padding import _ConstantPadNd, _PadNd
from minidl.ops.conv3d import conv3d
from minidl.ops.pool3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d, pool3d_arguments


class Conv3d(_ConvNd):
    """3-D convolution of (N, C_in, D, H, W) or (C_in, D, H, W) input with weight (out_channels,
    in_channels/groups, kD, kH, kW) and bias (out_channels,), initialised as PyTorch's (kaiming_uniform(a=√5),
    bias U(-1/√fan_in, 1/√fan_in)). ``padding`` is an int, a 3-tuple, 'valid' or 'same'; ``padding_mode``
    other than 'zeros' pads with F.pad first."""

    spatial = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x):
        self._check_input(x)
        x, padding = self._padded(x)
        return conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class MaxPool3d(MaxPool2d):
    """Maximum over kernel_size windows of (N, C, D, H, W) or (C, D, H, W) input; stride defaults to
    kernel_size; ``return_indices`` also gives each maximum's flat position (for MaxUnpool3d)."""

    pool = staticmethod(max_pool3d)
    check_arguments = staticmethod(pool3d_arguments)


class AvgPool3d(AvgPool2d):
    """Mean over kernel_size windows of (N, C, D, H, W) or (C, D, H, W) input; stride defaults to
    kernel_size; padding counts toward the divisor unless count_include_pad=False."""

    pool = staticmethod(avg_pool3d)
    check_arguments = staticmethod(pool3d_arguments)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) input to a fixed output size (an int, or 3 entries
    whose None keeps that input size)."""

    def forward(self, x):
        return adaptive_avg_pool3d(x, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool1d):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) input to a fixed output size."""

    def forward(self, x):
        return adaptive_max_pool3d(x, self.output_size, self.return_indices)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs, per channel over N, D, H and W."""

    expected_dims = (5,)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) input, each (sample, channel) over
    D, H, W."""

    spatial = 3


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``: padding (left, right, top, bottom, front, back)."""

    spatial = 3


class ZeroPad3d(ConstantPad3d):
    """Pads the last three dims with zeros: padding (left, right, top, bottom, front, back)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad3d(_PadNd):
    """Pads (C, D, H, W) or (N, C, D, H, W) input with the reflection of the values next to the border."""

    spatial, mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    """Pads (C, D, H, W) or (N, C, D, H, W) input with copies of the border values."""

    spatial, mode = 3, "replicate"


class CircularPad3d(_PadNd):
    """Pads (C, D, H, W) or (N, C, D, H, W) input by wrapping around in all three dims."""

    spatial, mode = 3, "circular"
