"""Instance normalisation (InstanceNorm1d, InstanceNorm2d and ``F.instance_norm``), as PyTorch's.

Each sample's channel is normalised over its own positions: μ_nc and σ²_nc (biased) over L, or over
H and W, then x̂ = (x - μ_nc)/√(σ²_nc + ε) and, with ``affine``, y = γ_c·x̂ + β_c. That is group
normalisation with one channel per group, so the op is ``group_norm`` (minidl/ops/norm.py, one node
with a closed-form backward). With ``track_running_stats`` the running averages of the instance
statistics are kept as in batch norm (the mean over the batch of each instance's mean and unbiased
variance) and used in evaluation instead. The defaults are affine=False and track_running_stats=False.
"""

from __future__ import annotations

import warnings

from minidl.core import no_grad
from minidl.core.arguments import number, size
from minidl.core.errors import ShapeError
from minidl.nn.module import Module
from minidl.nn.norm_state import ResetsScaleShiftAndRunningStats, add_scale_shift_and_running_stats
from minidl.ops.norm import group_norm, normalize_batch


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) of (N, C, *) input over its positions; with ``use_input_stats=False``
    use ``running_mean`` and ``running_var`` instead. When using the input's statistics and running stats are
    given, they are updated in place: running ← (1 - momentum)·running + momentum·mean over the batch of
    the instance statistics (variance unbiased)."""
    if input.ndim < 3:
        raise ShapeError(f"instance_norm: expected input of shape (N, C, *) with at least one spatial dim, got "
                         f"{tuple(input.shape)}")
    if not use_input_stats:
        return normalize_batch(input, running_mean, running_var, weight, bias, False, momentum, eps,
                               "instance_norm")
    positions = input.numel() // max(input.shape[0] * input.shape[1], 1)
    if positions <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of shape "
                         f"{tuple(input.shape)}")
    out = group_norm(input, input.shape[1], weight, bias, eps)
    if running_mean is not None and running_var is not None:
        _update_running(input, running_mean, running_var, momentum, positions)
    return out


def _update_running(input, running_mean, running_var, momentum, positions):  # noqa: A002
    with no_grad():
        values = input.array.reshape(input.shape[0], input.shape[1], -1)
        mean = values.mean(axis=2).mean(axis=0)
        unbiased = values.var(axis=2, ddof=1).mean(axis=0)
        for running, batch in ((running_mean, mean), (running_var, unbiased)):
            running.array *= 1 - momentum
            running.array += momentum * batch.astype(running.dtype, copy=False)
            running._modified()


class _InstanceNorm(ResetsScaleShiftAndRunningStats, Module):
    """What InstanceNorm1d and InstanceNorm2d share: γ (ones) and β (zeros, unless ``bias=False``) of shape
    (num_features,) when ``affine``; running_mean (zeros), running_var (ones) and num_batches_tracked buffers when
    ``track_running_stats`` (as PyTorch's; the batch count is kept but not used)."""

    spatial = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        where = type(self).__name__
        self.num_features = size(num_features, where, "num_features")
        self.eps = number(eps, where, "eps", minimum=0.0)
        self.momentum = None if momentum is None else number(momentum, where, "momentum")
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        add_scale_shift_and_running_stats(self, self.num_features, affine, bias, track_running_stats, device, dtype)

    def forward(self, x):
        where, unbatched = type(self).__name__, self.spatial + 1
        if x.ndim not in (unbatched, unbatched + 1):
            raise ShapeError(f"{where}: expected {unbatched}-D (unbatched) or {unbatched + 1}-D input, got shape "
                             f"{tuple(x.shape)}")
        channel_dim = x.ndim - unbatched
        if x.shape[channel_dim] != self.num_features:
            message = (f"{where}: expected input's size at dim={channel_dim} to match num_features "
                       f"({self.num_features}), but got input of shape {tuple(x.shape)}")
            if self.affine:
                raise ShapeError(message)
            warnings.warn(message + "; num_features is not used because affine=False", stacklevel=2)
        batch = x if x.ndim == unbatched + 1 else x.unsqueeze(0)
        out = instance_norm(batch, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return out if x.ndim == unbatched + 1 else out.squeeze(0)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) input, each (sample, channel) over L."""


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) input, each (sample, channel) over H, W."""

    spatial = 2
