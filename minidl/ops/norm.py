"""Batch, layer, group and RMS normalisation, each one node with a closed-form backward.

Batch, layer and group norm normalise x over some axes A (m values per group):
    μ = mean_A(x),  σ² = mean_A((x - μ)²),  x̂ = (x - μ)/√(σ² + ε),  y = γ·x̂ + β
and share the backward, with dx̂ = g·γ:
    dL/dx = (1/√(σ²+ε)) · (dx̂ - mean_A(dx̂) - x̂·mean_A(dx̂·x̂)),
    dL/dγ = Σ g·x̂,  dL/dβ = Σ g   (summed over everything but γ's axis).
BatchNorm normalises each channel over (N, H, W); LayerNorm each row over its
trailing ``normalized_shape`` dims (both: :class:`Normalize`). In eval mode
BatchNorm uses fixed running statistics instead, so μ and σ² are constants and
dL/dx = g·γ/√(σ²+ε) (:class:`NormalizeFixed`). GroupNorm normalises each sample's
groups of channels but scales per channel (:class:`GroupNormalize`); RMSNorm divides
by the root mean square alone, x̂ = x/√(mean(x²) + ε), without centring
(:class:`RMSNormalize`). Faster forms of batch and layer norm (fewer passes, on minidl's
threads) are in ``minidl/kernels/norm.py``.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.core import Function, no_grad
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError


class Normalize(Function):
    """y = γ·x̂ + β, x̂ = (x - μ)/√(σ² + ε), with μ, σ² the mean and biased variance over ``axes``;
    returns (y, μ, σ²): the statistics are reported (for running averages), not differentiated.

    dx̂ = g·γ,  dL/dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / √(σ² + ε),  dL/dγ = Σ g·x̂,  dL/dβ = Σ g
    """

    non_differentiable = (1, 2)

    def forward(self, x, weight=None, bias=None, axes=(), param_shape=(), eps=1e-5):
        xp = array_module(x)
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
        x_hat = (x - mean) * inv_std
        self.save(x_hat, inv_std, weight)
        self.axes, self.param_shape = axes, param_shape
        y = affine(x_hat, weight, bias, param_shape)
        return y, mean, var

    def backward(self, g, g_mean=None, g_var=None):
        x_hat, inv_std, weight = self.saved
        axes = self.axes
        d_hat = g if weight is None else g * weight.reshape(self.param_shape)
        x_grad = normalized_grad(d_hat, x_hat, inv_std, axes)
        return (x_grad,) + affine_grads(g, x_hat, self.param_shape)[:len(self.needs_grad) - 1]


def normalized_grad(d_hat, x_hat, inv_std, axes):
    """dL/dx of x̂ = (x - μ)/√(σ² + ε) with μ, σ² over ``axes``, given dL/dx̂:
    (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / √(σ² + ε)."""
    return inv_std * (d_hat - d_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (d_hat * x_hat).mean(axis=axes, keepdims=True))


class NormalizeFixed(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β with given (running) μ and σ², constants here;
    dL/dx = g·γ/√(σ² + ε),  dL/dγ = Σ g·x̂,  dL/dβ = Σ g"""

    def forward(self, x, weight=None, bias=None, mean=None, var=None, param_shape=(), eps=1e-5):
        inv_std = 1 / array_module(x).sqrt(var + x.dtype.type(eps))
        x_hat = (x - mean) * inv_std
        self.save(x_hat, inv_std, weight)
        self.param_shape = param_shape
        return affine(x_hat, weight, bias, param_shape)

    def backward(self, g):
        x_hat, inv_std, weight = self.saved
        x_grad = g * inv_std if weight is None else g * (inv_std * weight.reshape(self.param_shape))
        return (x_grad,) + affine_grads(g, x_hat, self.param_shape)[:len(self.needs_grad) - 1]


def affine(x_hat, weight, bias, param_shape):
    """γ·x̂ + β (either may be missing)."""
    y = x_hat if weight is None else x_hat * weight.reshape(param_shape)
    return y if bias is None else y + bias.reshape(param_shape)


def constant_axes(ndim, param_shape):
    """The axes γ and β are constant over: their gradients sum over these."""
    return tuple(i for i in range(ndim) if i >= len(param_shape) or param_shape[i] == 1)


def affine_grads(g, x_hat, param_shape):
    """(dL/dγ, dL/dβ) = (Σ g·x̂, Σ g), summed over the axes γ and β are constant over."""
    axes = constant_axes(g.ndim, param_shape)
    return (g * x_hat).sum(axis=axes).reshape(-1), g.sum(axis=axes).reshape(-1)


def _apply(op, x, weight, bias, **params):
    inputs = [x] + ([weight] if weight is not None or bias is not None else [])
    if bias is not None:
        inputs.append(bias)
    if weight is None and bias is not None:
        raise ValueError("normalisation with a bias but no weight is not supported; pass both or neither")
    return op.apply(*inputs, **params)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Batch normalisation of (N, C) or (N, C, ...) over every dim but C.

    Training: normalise with the batch mean and biased variance, then update the running
    stats in place: running = (1 - momentum)·running + momentum·batch, with the unbiased
    variance (n/(n-1)). Evaluation: normalise with the running stats. An empty batch gives
    an empty output and leaves the running stats as they are, as in PyTorch.
    """
    return normalize_batch(input, running_mean, running_var, weight, bias, training, momentum, eps, "batch_norm")


def normalize_batch(input, running_mean, running_var, weight, bias, training, momentum, eps,  # noqa: A002
                    where="batch_norm"):
    """:func:`batch_norm`, its errors naming ``where`` (the function, or the layer that calls it)."""
    if input.ndim < 2:
        raise ShapeError(f"{where}: expected input of shape (N, C) or (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    for name, tensor in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                         ("running_var", running_var)):
        if tensor is not None and tuple(tensor.shape) != (channels,):
            raise ShapeError(f"{where}: {name} must have shape ({channels},) for input {input.shape}, "
                             f"got {tuple(tensor.shape)}")
    count = input.array.size // max(channels, 1)
    if training and count == 1:
        raise ValueError(f"{where}: Expected more than 1 value per channel when training, got input size "
                         f"{input.shape}")
    if training and count:
        out, mean, var = _apply(Normalize, input, weight, bias, axes=axes, param_shape=param_shape, eps=eps)
        if running_mean is not None and running_var is not None:
            _update_running(running_mean, running_var, mean.array.reshape(-1), var.array.reshape(-1), count, momentum)
        return out
    if training:  # an empty batch has no statistics: an empty output, the running stats untouched
        xp = array_module(input.array)
        mean, var = xp.zeros(param_shape, dtype=input.array.dtype), xp.ones(param_shape, dtype=input.array.dtype)
    elif running_mean is None or running_var is None:
        raise ValueError(f"{where}: evaluation mode needs running_mean and running_var")
    else:
        mean = running_mean.array.reshape(param_shape).astype(input.dtype, copy=False)
        var = running_var.array.reshape(param_shape).astype(input.dtype, copy=False)
    return _apply(NormalizeFixed, input, weight, bias, param_shape=param_shape, eps=eps, mean=mean, var=var)


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """running ← (1 - momentum)·running + momentum·batch, with the unbiased batch variance."""
    with no_grad():
        unbiased = var * (count / (count - 1))
        running_mean.array *= 1 - momentum
        running_mean.array += momentum * mean.astype(running_mean.dtype, copy=False)
        running_var.array *= 1 - momentum
        running_var.array += momentum * unbiased.astype(running_var.dtype, copy=False)
        running_mean._modified()
        running_var._modified()


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise over the trailing ``normalized_shape`` dims (biased variance), then scale and shift."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or k == 0:
        raise ShapeError(f"layer_norm: normalized_shape {normalized_shape} must match the trailing dims of "
                         f"input shape {input.shape}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != normalized_shape:
            raise ShapeError(f"layer_norm: {name} must have shape {normalized_shape}, got {tuple(tensor.shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    param_shape = (1,) * (input.ndim - k) + normalized_shape
    if weight is not None:
        weight = weight.reshape(-1) if k > 1 else weight
    if bias is not None:
        bias = bias.reshape(-1) if k > 1 else bias
    return _apply(Normalize, input, weight, bias, axes=axes, param_shape=param_shape, eps=eps)[0]


class GroupNormalize(Function):
    """Group norm of x (N, C, ...): the C channels in G groups, each (sample, group) normalised over its
    C/G channels and all positions, then scaled and shifted per channel:
    x̂ = (x - μ_ng)/√(σ²_ng + ε),  y = γ_c·x̂ + β_c;
    dx̂ = g·γ,  dL/dx = (dx̂ - mean_ng(dx̂) - x̂·mean_ng(dx̂·x̂)) / √(σ²_ng + ε),  dL/dγ = Σ g·x̂,  dL/dβ = Σ g
    """

    def forward(self, x, weight=None, bias=None, groups=1, eps=1e-5):
        xp = array_module(x)
        per_group = x.size // max(x.shape[0] * groups, 1)
        grouped = x.reshape(x.shape[0], groups, per_group)                 # (N, G, C/G·positions)
        count = x.dtype.type(max(per_group, 1))                            # (an empty group: no statistics)
        centered = grouped - grouped.sum(axis=2, keepdims=True) / count
        inv_std = 1 / xp.sqrt((centered * centered).sum(axis=2, keepdims=True) / count + x.dtype.type(eps))
        x_hat = centered * inv_std
        self.save(x_hat, inv_std, weight)
        self.param_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        return affine(x_hat.reshape(x.shape), weight, bias, self.param_shape)

    def backward(self, g):
        x_hat, inv_std, weight = self.saved
        d_hat = g if weight is None else g * weight.reshape(self.param_shape)
        x_grad = normalized_grad(d_hat.reshape(x_hat.shape), x_hat, inv_std, 2).reshape(g.shape)
        return (x_grad,) + affine_grads(g, x_hat.reshape(g.shape), self.param_shape)[:len(self.needs_grad) - 1]


class RMSNormalize(Function):
    """RMS norm over ``axes``: y = γ·x̂,  x̂ = x·r,  r = 1/√(mean(x²) + ε)  (no centring, no β);
    dx̂ = g·γ,  dL/dx = r·(dx̂ - x̂·mean(dx̂·x̂)),  dL/dγ = Σ g·x̂"""

    def forward(self, x, weight=None, axes=(), param_shape=(), eps=1e-6):
        xp = array_module(x)
        count = x.dtype.type(max(math.prod(x.shape[i] for i in axes), 1))
        inv_rms = 1 / xp.sqrt((x * x).sum(axis=axes, keepdims=True) / count + x.dtype.type(eps))
        x_hat = x * inv_rms
        self.save(x_hat, inv_rms, weight)
        self.axes, self.param_shape = axes, param_shape
        return affine(x_hat, weight, None, param_shape)

    def backward(self, g):
        x_hat, inv_rms, weight = self.saved
        d_hat = g if weight is None else g * weight.reshape(self.param_shape)
        x_grad = inv_rms * (d_hat - x_hat * (d_hat * x_hat).mean(axis=self.axes, keepdims=True))
        weight_grad = (g * x_hat).sum(axis=constant_axes(g.ndim, self.param_shape)).reshape(-1)
        return (x_grad, weight_grad)[:len(self.needs_grad)]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Group normalisation of (N, C, ...): each sample's channels in ``num_groups`` groups, each group
    normalised over its channels and positions (biased variance), then γ·x̂ + β per channel."""
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: expected the number of channels in the input ({channels}, input shape "
                         f"{input.shape}) to be divisible by num_groups, got num_groups={num_groups!r}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != (channels,):
            raise ShapeError(f"group_norm: {name} must have shape ({channels},) for input {input.shape}, "
                             f"got {tuple(tensor.shape)}")
    return _apply(GroupNormalize, input, weight, bias, groups=num_groups, eps=eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):  # noqa: A002
    """x/√(mean(x²) + ε)·γ over the trailing ``normalized_shape`` dims; ``eps=None`` means the machine
    epsilon of the input's dtype (``finfo(dtype).eps``), as in PyTorch."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or k == 0 or k > input.ndim:
        raise ShapeError(f"rms_norm: normalized_shape {normalized_shape} must match the trailing dims of "
                         f"input shape {input.shape}")
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise ShapeError(f"rms_norm: weight must have shape {normalized_shape}, got {tuple(weight.shape)}")
    eps = float(np.finfo(input.dtype).eps) if eps is None else eps
    axes = tuple(range(input.ndim - k, input.ndim))
    param_shape = (1,) * (input.ndim - k) + normalized_shape
    inputs = (input,) if weight is None else (input, weight.reshape(-1) if k > 1 else weight)
    return RMSNormalize.apply(*inputs, axes=axes, param_shape=param_shape, eps=eps)
