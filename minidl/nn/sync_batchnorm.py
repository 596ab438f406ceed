"""SyncBatchNorm: batch normalisation with the statistics of the global batch, over every rank.

Under data parallelism each rank sees only its shard, and plain BatchNorm normalises with
that shard's mean and variance: the ranks then compute something other than one process
on the whole batch. SyncBatchNorm sums over the ranks (M values per channel in all):

    forward:   μ = Σ_ranks Σ x / M,   σ² = Σ_ranks Σ (x - μ)² / M      (two all-reduces)
               x̂ = (x - μ)/√(σ² + ε),  y = γ·x̂ + β
    backward:  dx̂ = g·γ,  dL/dx = (dx̂ - Σ_ranks Σ dx̂ / M - x̂·Σ_ranks Σ dx̂·x̂ / M) / √(σ² + ε)

which is BatchNorm's backward with its two means taken over the global batch (one more
all-reduce). dL/dγ and dL/dβ stay each rank's own sums; DistributedDataParallel averages
them as any other gradient. In one process (or outside a process group) every all-reduce
leaves its values as they are, and SyncBatchNorm computes exactly BatchNorm.
"""

from __future__ import annotations


from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.distributed import world
from minidl.distributed.collectives import reduce_array
from minidl.nn.norm import _BatchNorm
from minidl.ops.norm import _update_running, affine, affine_grads, normalize_batch


class SyncNormalize(Function):
    """y = γ·x̂ + β, x̂ = (x - μ)/√(σ² + ε), μ and σ² over ``axes`` and over every rank of ``group``;
    returns (y, μ, σ², M).

    dx̂ = g·γ,  dL/dx = (dx̂ - ΣΣ dx̂/M - x̂·ΣΣ dx̂·x̂/M) / √(σ² + ε),  dL/dγ = Σ g·x̂,  dL/dβ = Σ g
    """

    non_differentiable = (1, 2, 3)

    def forward(self, x, weight=None, bias=None, axes=(), param_shape=(), eps=1e-5, group=None):
        xp = array_module(x)
        local = x.size // max(x.shape[1], 1)
        per_channel = x.sum(axis=axes).reshape(-1)
        sums = reduce_array(xp.concatenate([per_channel, xp.asarray([local], dtype=x.dtype)]), group=group)
        count = sums[-1]
        self.count = float(count)
        mean = (sums[:-1] / count).reshape(param_shape)
        centred = x - mean
        var = (reduce_array((centred * centred).sum(axis=axes).reshape(-1), group=group) / count).reshape(param_shape)
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
        x_hat = centred * inv_std
        self.save(x_hat, inv_std, weight)
        self.axes, self.param_shape, self.group = axes, param_shape, group
        return affine(x_hat, weight, bias, param_shape), mean, var, count

    def backward(self, g, g_mean=None, g_var=None, g_count=None):
        x_hat, inv_std, weight = self.saved
        xp, axes, shape = array_module(g), self.axes, self.param_shape
        d_hat = g if weight is None else g * weight.reshape(shape)
        local = xp.concatenate([d_hat.sum(axis=axes).reshape(-1), (d_hat * x_hat).sum(axis=axes).reshape(-1)])
        sums = reduce_array(local, group=self.group) / self.count
        channels = d_hat.shape[1]
        mean_d, mean_dx = sums[:channels].reshape(shape), sums[channels:].reshape(shape)
        x_grad = inv_std * (d_hat - mean_d - x_hat * mean_dx)
        return (x_grad,) + affine_grads(g, x_hat, shape)[:len(self.needs_grad) - 1]


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) inputs whose training statistics cover the whole batch of every rank of
    ``process_group`` (default: the default group; without one, exactly BatchNorm). PyTorch's signature."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def forward(self, x):
        if x.ndim < 2:
            raise ShapeError(f"SyncBatchNorm: expected at least 2D input, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"SyncBatchNorm: expected {self.num_features} channels in dim 1, "
                             f"got input of shape {tuple(x.shape)}")
        if not (self.training or not self.track_running_stats):
            return normalize_batch(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0,
                                   self.eps, "SyncBatchNorm")
        momentum = self._next_momentum()
        group = self.process_group if self.process_group is not None else world.current_group()
        channels = x.shape[1]
        params = [p for p in (self.weight, self.bias) if p is not None]
        out, mean, var, count = SyncNormalize.apply(x, *params, axes=(0,) + tuple(range(2, x.ndim)),
                                                 param_shape=(1, channels) + (1,) * (x.ndim - 2), eps=self.eps,
                                                 group=group)
        count = int(count.item())
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: Expected more than 1 value per channel when training, got {count} "
                             f"over every rank (input size {tuple(x.shape)} on this one)")
        if self.track_running_stats:
            _update_running(self.running_mean, self.running_var, mean.array.reshape(-1), var.array.reshape(-1), count,
                            momentum)
        return out

    def _next_momentum(self):
        """The running statistics' momentum for this batch (counting it in ``num_batches_tracked``)."""
        if not (self.training and self.track_running_stats):
            return 0.0
        self.num_batches_tracked.array += 1
        self.num_batches_tracked._modified()
        return self.momentum if self.momentum is not None else 1.0 / int(self.num_batches_tracked.item())

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d (at any depth) replaced by a SyncBatchNorm holding the same
        parameters, running statistics and mode; ``module`` itself if it is one."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                if module._parameters.get(name) is not None:
                    setattr(converted, name, module._parameters[name])
                elif name in module._parameters:
                    converted.register_parameter(name, None)
            for name, buffer in module._buffers.items():
                converted._buffers[name] = buffer
            converted.train(module.training)
            return converted
        for name, child in module.named_children():
            module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
