"""Batch normalisation and layer normalisation, each one node with a closed-form backward.

Both normalise x over some axes A (m values per group):
    μ = mean_A(x),  σ² = mean_A((x - μ)²),  x̂ = (x - μ)/√(σ² + ε),  y = γ·x̂ + β
and share the backward, with dx̂ = g·γ:
    dL/dx = (1/√(σ²+ε)) · (dx̂ - mean_A(dx̂) - x̂·mean_A(dx̂·x̂)),
    dL/dγ = Σ g·x̂,  dL/dβ = Σ g   (summed over everything but γ's axis).
BatchNorm normalises each channel over (N, H, W); LayerNorm each row over its
trailing ``normalized_shape`` dims. In eval mode BatchNorm uses fixed running
statistics instead, so μ and σ² are constants and dL/dx = g·γ/√(σ²+ε).
"""

from __future__ import annotations

from minidl.kernels import threads as parallel
from minidl.core import Function, no_grad
from minidl.core.backend import array_module
from minidl.kernels.reduction import fast_dot_sum, fast_sum
from minidl.ops.common import product


class Normalize(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β with statistics over ``axes`` (or given fixed ``mean``/``var``)."""

    def forward(self, x, weight=None, bias=None, axes=(), param_shape=(), eps=1e-5, mean=None, var=None):
        xp = array_module(x)
        self.fixed = mean is not None
        count = x.dtype.type(product(x.shape[i] for i in axes))
        if not self.fixed:
            mean = fast_sum(x, axes) / count
        centered = parallel.ufunc(xp.subtract, x, mean, out=xp.empty_like(x))
        if not self.fixed:
            var = fast_dot_sum(centered, centered, axes) / count
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
        self.axes, self.param_shape, self.count, self.inv_std, self.weight = axes, param_shape, count, inv_std, weight
        self.batch_mean, self.batch_var = mean, var
        # batch norm: γ and 1/√(σ²+ε) are both per channel, so y = (x - μ)·(γ/√(σ²+ε)) + β in one
        # product, and x - μ is kept (x̂ = (x - μ)/√(σ²+ε) is never built)
        self.per_channel = self._reduce_axes(x.ndim) == axes
        if self.per_channel:
            self.centered = centered
            scale = inv_std if weight is None else inv_std * weight.reshape(param_shape)
            y = xp.empty_like(x)

            def images(part):  # slices of the batch, on minidl's threads
                xp.multiply(centered[part], scale, out=y[part])
                if bias is not None:
                    y[part] += bias.reshape(param_shape)
            parallel.map(images, parallel.batch_slices(x))
            return y
        self.x_hat = centered
        self.x_hat *= inv_std
        y = self.x_hat * weight.reshape(param_shape) if weight is not None else self.x_hat.copy()
        if bias is not None:
            y += bias.reshape(param_shape)
        return y

    def _reduce_axes(self, ndim):
        """The axes γ and β are constant over: dL/dγ and dL/dβ sum over these."""
        return tuple(i for i in range(ndim) if i >= len(self.param_shape) or self.param_shape[i] == 1)

    def backward(self, g):
        axes, reduce_axes = self.axes, self._reduce_axes(g.ndim)
        weight = 1 if self.weight is None else self.weight.reshape(self.param_shape)
        bias_grad = fast_sum(g, reduce_axes, keepdims=False).reshape(-1)        # dL/dβ = Σ g
        if self.per_channel:  # Σ g·x̂ = Σ g·(x - μ) / √(σ²+ε), per channel
            weight_grad = (fast_dot_sum(g, self.centered, reduce_axes) * self.inv_std).reshape(-1)
        else:
            weight_grad = fast_dot_sum(g, self.x_hat, reduce_axes, keepdims=False).reshape(-1)  # Σ g·x̂
        x_grad = None
        if self.needs_grad[0] and self.fixed:
            x_grad = g * (self.inv_std * weight)
        elif self.needs_grad[0] and self.per_channel:
            # γ is constant over the statistics' axes, so mean(dx̂) = γ·Σg/m and
            # mean(dx̂·x̂) = γ·Σg·x̂/m are the bias and weight gradients already computed
            xp, count, centered = array_module(g), self.count, self.centered
            mean_g = bias_grad.reshape(self.param_shape) / count
            slope = self.inv_std * weight_grad.reshape(self.param_shape) / count
            scale = self.inv_std * weight
            x_grad = xp.empty_like(g)

            def images(part):  # x_grad = (g - mean_g - (x - μ)·slope)·scale, slices of the batch on minidl's threads
                xp.subtract(g[part], mean_g, out=x_grad[part])
                x_grad[part] -= centered[part] * slope
                x_grad[part] *= scale
            parallel.map(images, parallel.batch_slices(g))
        elif self.needs_grad[0]:
            x_hat, count = self.x_hat, self.count
            d_hat = g * weight
            projection_mean = fast_dot_sum(d_hat, x_hat, axes) / count
            x_grad = d_hat - fast_sum(d_hat, axes) / count  # dx̂ - mean(dx̂)
            x_grad -= x_hat * projection_mean               # - x̂ · mean(dx̂ · x̂)
            x_grad *= self.inv_std
        return (x_grad, weight_grad, bias_grad)[:len(self.needs_grad)]


def _apply(x, weight, bias, **params):
    inputs = [x] + ([weight] if weight is not None or bias is not None else [])
    if bias is not None:
        inputs.append(bias)
    if weight is None and bias is not None:
        raise ValueError("normalisation with a bias but no weight is not supported; pass both or neither")
    return Normalize.apply(*inputs, **params)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Batch normalisation of (N, C) or (N, C, ...) over every dim but C.

    Training: normalise with the batch mean and biased variance, then update the running
    stats in place: running = (1 - momentum)·running + momentum·batch, with the unbiased
    variance (n/(n-1)). Evaluation: normalise with the running stats.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    for name, tensor in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                         ("running_var", running_var)):
        if tensor is not None and tuple(tensor.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input {input.shape}, "
                             f"got {tuple(tensor.shape)}")
    count = input.data.size // max(channels, 1)
    if training:
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        out = _apply(input, weight, bias, axes=axes, param_shape=param_shape, eps=eps)
        if running_mean is not None and running_var is not None:
            node_stats = _batch_stats(out, input, axes)
            _update_running(running_mean, running_var, *node_stats, count, momentum)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    shape = param_shape
    return _apply(input, weight, bias, axes=axes, param_shape=param_shape, eps=eps,
                  mean=running_mean.data.reshape(shape).astype(input.dtype, copy=False),
                  var=running_var.data.reshape(shape).astype(input.dtype, copy=False))


def _batch_stats(out, input, axes):
    node = out._node
    if node is not None:
        return node.batch_mean.reshape(-1), node.batch_var.reshape(-1)
    data = input.data  # no graph was recorded (no_grad): compute them again
    mean = data.mean(axis=axes)
    return mean, data.var(axis=axes)


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """running ← (1 - momentum)·running + momentum·batch, with the unbiased batch variance."""
    with no_grad():
        unbiased = var * (count / (count - 1))
        running_mean.data *= 1 - momentum
        running_mean.data += momentum * mean.astype(running_mean.dtype, copy=False)
        running_var.data *= 1 - momentum
        running_var.data += momentum * unbiased.astype(running_var.dtype, copy=False)
        running_mean._modified()
        running_var._modified()


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise over the trailing ``normalized_shape`` dims (biased variance), then scale and shift."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or k == 0:
        raise ValueError(f"layer_norm: normalized_shape {normalized_shape} must match the trailing dims of "
                         f"input shape {input.shape}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != normalized_shape:
            raise ValueError(f"layer_norm: {name} must have shape {normalized_shape}, got {tuple(tensor.shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    param_shape = (1,) * (input.ndim - k) + normalized_shape
    if weight is not None:
        weight = weight.reshape(-1) if k > 1 else weight
    if bias is not None:
        bias = bias.reshape(-1) if k > 1 else bias
    return _apply(input, weight, bias, axes=axes, param_shape=param_shape, eps=eps)
