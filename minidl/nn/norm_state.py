"""The state every normalisation layer starts with, as PyTorch's: scale and shift, running statistics."""

from __future__ import annotations

from minidl.core import creation
from minidl.nn import init
from minidl.nn.module import Parameter


def add_scale_shift_and_running_stats(module, num_features, affine, bias, track_running_stats, device, dtype):
    """Give a normalisation layer PyTorch's state: γ (ones) and β (zeros; None without ``bias``) of shape
    (num_features,) when ``affine``, else both None; the buffers running_mean (zeros), running_var (ones)
    and num_batches_tracked when ``track_running_stats``, else all three None."""
    if affine:
        module.weight = Parameter(creation.ones(num_features, dtype=dtype, device=device))
        if bias:
            module.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    if track_running_stats:
        module.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
        module.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
        module.register_buffer("num_batches_tracked", creation.tensor(0, device=device))
    else:
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            module.register_buffer(name, None)


class ResetsScaleShiftAndRunningStats:
    """``reset_running_stats`` and ``reset_parameters`` for a layer given its state by
    :func:`add_scale_shift_and_running_stats` (batch norm, instance norm)."""

    def reset_running_stats(self):
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (when the layer tracks them)."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        """Running statistics reset; γ = 1 and β = 0 (the state at construction)."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)
