"""Convolution (1-D, 2-D, transposed 2-D) and pooling layers with PyTorch's arguments, parameter names and
initialisation."""

from __future__ import annotations

import math

from minidl.core import creation
from minidl.core.arguments import choice, positive_size, size
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module, Parameter
from minidl.ops.conv import pair
from minidl.ops.conv_transpose import transposed_size
from minidl.ops.pool import pool_arguments

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: checked arguments, weight and bias, and PyTorch's
    initialisation: weight ~ kaiming_uniform(a=√5), bias ~ U(-1/√fan_in, 1/√fan_in), where fan_in =
    weight.shape[1]·kernel size (in_channels/groups·k for a convolution, out_channels/groups·k for a
    transposed one)."""

    spatial = 2                 # spatial dims: 1 for Conv1d
    transposed = False          # weight (in_channels, out_channels/groups, ...) instead of (out, in/groups, ...)

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 device, dtype, output_padding=0):
        super().__init__()
        name, count = type(self).__name__, self.spatial
        in_channels = self._in_channels(in_channels)
        out_channels = size(out_channels, name, "out_channels")
        groups = positive_size(groups, name, "groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        choice(padding_mode, name, "padding_mode", ("zeros",) if self.transposed else PADDING_MODES)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, positive_size, count)
        self.stride = pair(stride, "stride", name, positive_size, count)
        self.dilation = pair(dilation, "dilation", name, positive_size, count)
        if isinstance(padding, str) and not self.transposed:
            self.padding = choice(padding, name, "padding", ("valid", "same"))
        else:
            self.padding = pair(padding, "padding", name, count=count)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                             f"(stride={self.stride})")
        self.output_padding = pair(output_padding, "output_padding", name, count=count)
        self.padding_mode = padding_mode
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(creation.empty(*channels, *self.kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _in_channels(self, in_channels):
        return positive_size(in_channels, type(self).__name__, "in_channels")

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x):
        """x must be (N, C_in, *spatial) or unbatched (C_in, *spatial)."""
        name, channels = type(self).__name__, self.in_channels
        dims = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[self.spatial]
        if x.ndim not in (self.spatial + 1, self.spatial + 2) or x.shape[-self.spatial - 1] != channels:
            layout = ", ".join((str(channels),) + dims)
            raise ShapeError(f"{name}: expected input (N, {layout}) or ({layout}) with in_channels={channels}, "
                             f"got shape {tuple(x.shape)}")

    def _padded(self, x):
        """x padded by ``padding_mode`` (not 'zeros'), and the padding left for the convolution itself."""
        if self.padding_mode == "zeros" or self.padding == "valid":
            return x, self.padding
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            sides = [(t // 2, t - t // 2) for t in totals]
        else:
            sides = [(p, p) for p in self.padding]
        widths = tuple(w for side in reversed(sides) for w in side)  # F.pad: the last dim first
        return F.pad(x, widths, mode=self.padding_mode), 0

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.spatial:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.spatial:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.spatial:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution of (N, C_in, L) or (C_in, L) inputs, with weight (out_channels, in_channels/groups,
    kernel_size) and bias (out_channels,), initialised as PyTorch's. ``padding`` is an int, a 1-tuple,
    'valid' or 'same'; ``padding_mode`` other than 'zeros' pads with F.pad first."""

    spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x):
        self._check_input(x)
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution with weight (out_channels, in_channels/groups, kH, kW) and bias (out_channels,).

    Initialised as PyTorch: weight ~ kaiming_uniform(a=√5), bias ~ U(-1/√fan_in, 1/√fan_in),
    fan_in = in_channels/groups · kH · kW. ``padding_mode`` other than 'zeros' pads with F.pad first.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x):
        self._check_input(x)
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the input-gradient of a Conv2d, see minidl/ops/conv_transpose.py), with
    weight (in_channels, out_channels/groups, kH, kW) and bias (out_channels,), initialised as PyTorch's.

    Output size: (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.
    ``forward(x, output_size=None)``: an ``output_size`` (H, W) (or with N and C in front) picks the
    output_padding that gives it, as in PyTorch. Only ``padding_mode='zeros'``.
    """

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation):
            if extra >= s and extra >= d:
                raise ValueError(f"{type(self).__name__}: output_padding {self.output_padding} must be smaller than "
                                 f"either stride {self.stride} or dilation {self.dilation}")

    def forward(self, x, output_size=None):
        self._check_input(x)
        output_padding = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)

    def _output_padding(self, x, output_size):
        """The output_padding that makes the output (H, W) = output_size (one of the sizes within stride - 1)."""
        name, count = type(self).__name__, self.spatial
        wanted = tuple(output_size)[-count:]
        if len(tuple(output_size)) not in (count, x.ndim):
            raise ValueError(f"{name}: output_size must have {count} or {x.ndim} entries, got {output_size!r}")
        smallest = transposed_size(x.shape[-count:], self.kernel_size, self.stride, self.padding, self.dilation,
                                   (0,) * count)
        extras = tuple(w - s for w, s in zip(wanted, smallest))
        if any(not 0 <= e < s for e, s in zip(extras, self.stride)):
            largest = tuple(s + st - 1 for s, st in zip(smallest, self.stride))
            raise ValueError(f"{name}: requested an output size of {wanted}, but valid sizes range from "
                             f"{smallest} to {largest} (for an input of {tuple(x.shape[-count:])})")
        return extras


class ConvTranspose1d(ConvTranspose2d):
    """Transposed 1-D convolution of (N, C_in, L) or (C_in, L) inputs, with weight (in_channels,
    out_channels/groups, kernel_size) and bias (out_channels,), initialised as PyTorch's; see ConvTranspose2d.
    Output length: (L - 1)·stride - 2·padding + dilation·(K - 1) + output_padding + 1."""

    spatial = 1

    def forward(self, x, output_size=None):
        self._check_input(x)
        output_padding = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)


class MaxPool2d(Module):
    """Maximum over kernel_size windows; stride defaults to kernel_size."""

    pool = staticmethod(F.max_pool2d)              # the function a subclass for other dims replaces,
    check_arguments = staticmethod(pool_arguments)  # with its argument check

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.check_arguments(kernel_size, stride, padding, dilation, type(self).__name__)  # kept as given
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                         self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kernel_size windows; stride defaults to kernel_size."""

    pool = staticmethod(F.avg_pool2d)
    check_arguments = staticmethod(pool_arguments)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.check_arguments(kernel_size, stride, padding, 1, type(self).__name__)  # kept as given
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
