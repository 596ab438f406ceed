"""More layers, as ``torch.nn``'s: Bilinear, PixelShuffle, PixelUnshuffle, ChannelShuffle, LocalResponseNorm,
Threshold, Softmax2d and RReLU. Each stores its options and calls the functional form in
``minidl.nn.functional``; parameter names, shapes and initialisation follow PyTorch, so state dicts match.
"""

from __future__ import annotations

import math

from minidl.core import creation
from minidl.core.arguments import number, positive_size, size
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module, Parameter


class Bilinear(Module):
    """y_o = x1ᵀ A_o x2 + b_o with weight A (out_features, in1_features, in2_features) and bias (out_features,),
    both initialised U(-1/√in1_features, 1/√in1_features) as in PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features = size(in1_features, "Bilinear", "in1_features")
        self.in2_features = size(in2_features, "Bilinear", "in2_features")
        self.out_features = size(out_features, "Bilinear", "out_features")
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(self.out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class PixelShuffle(Module):
    """(*, C·r², H, W) → (*, C, H·r, W·r) with r = upscale_factor."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = positive_size(upscale_factor, "PixelShuffle", "upscale_factor")

    def forward(self, input):  # noqa: A002 (PyTorch's names)
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) → (*, C·r², H, W) with r = downscale_factor (the inverse of PixelShuffle)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = positive_size(downscale_factor, "PixelUnshuffle", "downscale_factor")

    def forward(self, input):  # noqa: A002
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Channels of (N, C, *) read as a (groups, C/groups) grid and transposed."""

    def __init__(self, groups):
        super().__init__()
        self.groups = positive_size(groups, "ChannelShuffle", "groups")

    def forward(self, input):  # noqa: A002
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class LocalResponseNorm(Module):
    """x_c / (k + α/size · Σ x_c'²)^β over the ``size`` neighbouring channels of (N, C, *) inputs."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = positive_size(size, "LocalResponseNorm", "size")
        self.alpha, self.beta = number(alpha, "LocalResponseNorm", "alpha"), number(beta, "LocalResponseNorm", "beta")
        self.k = number(k, "LocalResponseNorm", "k")

    def forward(self, input):  # noqa: A002
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = number(threshold, "Threshold", "threshold"), number(value, "Threshold", "value")
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) inputs (dim -3)."""

    def forward(self, input):  # noqa: A002
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        return F.softmax(input, -3)


class RReLU(Module):
    """x for x ≥ 0, a·x below: a ~ U(lower, upper) per element in training, (lower + upper)/2 in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper = number(lower, "RReLU", "lower"), number(upper, "RReLU", "upper")
        if self.lower > self.upper:
            raise ValueError(f"RReLU: lower ({lower}) must not be greater than upper ({upper})")
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")
