"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm (PyTorch's parameters and buffers)."""

from __future__ import annotations

from collections.abc import Iterable

from minidl.core import creation
from minidl.core.arguments import number, size
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn.module import Module, Parameter
from minidl.ops.norm import normalize_batch


class _BatchNorm(Module):
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
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", creation.tensor(0, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

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
            self.num_batches_tracked.data += 1
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
        if isinstance(normalized_shape, Iterable) and not isinstance(normalized_shape, str):
            shape = tuple(size(n, "LayerNorm", "normalized_shape") for n in normalized_shape)
        else:
            shape = (size(normalized_shape, "LayerNorm", "normalized_shape"),)
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
