"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm and RMSNorm (PyTorch's parameters and
buffers)."""

from __future__ import annotations

from collections.abc import Iterable

from minidl.core import creation
from minidl.core.arguments import number, positive_size, size
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module, Parameter
from minidl.nn.norm_state import ResetsScaleShiftAndRunningStats, add_scale_shift_and_running_stats
from minidl.ops.norm import normalize_batch


class _BatchNorm(ResetsScaleShiftAndRunningStats, Module):
    """γ·(x - μ)/√(σ² + ε) + β per channel; batch statistics in training, running statistics in eval.

    Buffers as in PyTorch: ``running_mean`` (starts at 0), ``running_var`` (starts at 1),
    ``num_batches_tracked``. ``momentum=None`` makes the running stats a cumulative average.
    """

    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        where = type(self).__name__
        num_features = size(num_features, where, "num_features")
        number(eps, where, "eps", minimum=0.0)
        if momentum is not None:
            number(momentum, where, "momentum")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        add_scale_shift_and_running_stats(self, num_features, affine, bias, track_running_stats, device, dtype)

    def forward(self, x):
        where = type(self).__name__
        if x.ndim not in self.expected_dims:
            raise ShapeError(f"{where}: expected {' or '.join(f'{d}D' for d in self.expected_dims)} "
                             f"input, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{where}: expected {self.num_features} channels in dim 1, "
                             f"got input of shape {tuple(x.shape)}")
        momentum = self.momentum if self.momentum is not None else 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            self.num_batches_tracked._modified()
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or not self.track_running_stats
        return normalize_batch(x, self.running_mean if not use_batch_stats or self.training else None,
                               self.running_var if not use_batch_stats or self.training else None,
                               self.weight, self.bias, use_batch_stats, momentum, self.eps, where)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel over N, H and W."""

    expected_dims = (4,)


class LayerNorm(Module):
    """γ·(x - μ)/√(σ² + ε) + β over the trailing ``normalized_shape`` dims of each sample."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        shape = _normalized_shape(normalized_shape, "LayerNorm")
        number(eps, "LayerNorm", "eps", minimum=0.0)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.zeros(*shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


def _normalized_shape(normalized_shape, where):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple of checked sizes."""
    if isinstance(normalized_shape, Iterable) and not isinstance(normalized_shape, str):
        return tuple(size(n, where, "normalized_shape") for n in normalized_shape)
    return (size(normalized_shape, where, "normalized_shape"),)


class GroupNorm(Module):
    """Group normalisation of (N, C, ...) inputs: the C channels split into ``num_groups`` groups, each
    sample's group normalised over its channels and positions (biased variance), then γ·x̂ + β per channel.
    ``weight`` (γ, ones) and ``bias`` (β, zeros) have shape (num_channels,) when ``affine``; ``bias=False``
    leaves β out (no shift)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, bias=True):
        super().__init__()
        num_groups = positive_size(num_groups, "GroupNorm", "num_groups")
        num_channels = size(num_channels, "GroupNorm", "num_channels")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        number(eps, "GroupNorm", "eps", minimum=0.0)
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(creation.ones(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(creation.zeros(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: expected input (N, {self.num_channels}, ...) with num_channels="
                             f"{self.num_channels}, got shape {tuple(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class RMSNorm(Module):
    """x/√(mean(x²) + ε)·γ over the trailing ``normalized_shape`` dims of each sample (no centring, no β).
    ``eps=None`` uses the machine epsilon of the input's dtype, as PyTorch; ``weight`` (γ) starts at ones."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        shape = _normalized_shape(normalized_shape, "RMSNorm")
        if eps is not None:
            number(eps, "RMSNorm", "eps", minimum=0.0)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
