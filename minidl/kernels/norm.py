"""Kernels of batch and layer normalisation: fewer passes over memory, on minidl's threads.

The statistics come from BLAS row sums (``fast_sum``, and ``fast_dot_sum`` for Σ(x - μ)²
without building the squares). Batch norm's γ and 1/√(σ²+ε) are both per channel, so
y = (x - μ)·(γ/√(σ²+ε)) + β is one product, x - μ is kept and x̂ is never built; the
backward reuses dL/dβ and dL/dγ for the means of dx̂ and dx̂·x̂. The passes over the
activations run over slices of the batch on minidl's threads.
"""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import threads
from minidl.kernels.reduction import fast_dot_sum, fast_sum
from minidl.ops import norm as textbook
from minidl.ops.common import product


def _scale_and_shift(centered, scale, bias, param_shape):
    """y = centered·scale + β over slices of the batch, on minidl's threads."""
    xp = array_module(centered)
    y = xp.empty_like(centered)

    def images(part):
        xp.multiply(centered[part], scale, out=y[part])
        if bias is not None:
            y[part] += bias.reshape(param_shape)
    threads.split(images, centered)
    return y


@replaces(textbook.Normalize)
class Normalize(textbook.Normalize):
    """batch or layer norm with BLAS statistics; batch norm keeps x - μ and folds γ/√(σ²+ε)."""

    def forward(self, x, weight=None, bias=None, axes=(), param_shape=(), eps=1e-5):
        xp = array_module(x)
        count = x.dtype.type(product(x.shape[i] for i in axes))
        mean = fast_sum(x, axes) / count
        centered = threads.ufunc(xp.subtract, x, mean, out=xp.empty_like(x))
        var = fast_dot_sum(centered, centered, axes) / count
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
        self.axes, self.param_shape = axes, param_shape
        # batch norm: γ and 1/√(σ²+ε) are both per channel (the statistics' axes are γ's constant axes)
        self.per_channel = textbook.constant_axes(x.ndim, param_shape) == axes
        if self.per_channel:
            scale = inv_std if weight is None else inv_std * weight.reshape(param_shape)
            self.save(centered, inv_std, weight)
            return _scale_and_shift(centered, scale, bias, param_shape), mean, var
        x_hat = centered
        x_hat *= inv_std
        self.save(x_hat, inv_std, weight)
        y = x_hat * weight.reshape(param_shape) if weight is not None else x_hat.copy()
        if bias is not None:
            y += bias.reshape(param_shape)
        return y, mean, var

    def backward(self, g, g_mean=None, g_var=None):
        kept, inv_std, weight = self.saved  # x - μ per channel (batch norm), else x̂
        axes, reduce_axes, count = self.axes, textbook.constant_axes(g.ndim, self.param_shape), \
            g.dtype.type(product(g.shape[i] for i in self.axes))
        gamma = 1 if weight is None else weight.reshape(self.param_shape)
        bias_grad = fast_sum(g, reduce_axes, keepdims=False).reshape(-1)        # dL/dβ = Σ g
        if self.per_channel:  # Σ g·x̂ = Σ g·(x - μ) / √(σ²+ε), per channel
            weight_grad = (fast_dot_sum(g, kept, reduce_axes) * inv_std).reshape(-1)
        else:
            weight_grad = fast_dot_sum(g, kept, reduce_axes, keepdims=False).reshape(-1)  # Σ g·x̂
        x_grad = None
        if self.needs_grad[0] and self.per_channel:
            # γ is constant over the statistics' axes, so mean(dx̂) = γ·Σg/m and
            # mean(dx̂·x̂) = γ·Σg·x̂/m are the bias and weight gradients already computed
            xp = array_module(g)
            mean_g = bias_grad.reshape(self.param_shape) / count
            slope = inv_std * weight_grad.reshape(self.param_shape) / count
            scale = inv_std * gamma
            x_grad = xp.empty_like(g)

            def images(part):  # x_grad = (g - mean_g - (x - μ)·slope)·scale
                xp.subtract(g[part], mean_g, out=x_grad[part])
                x_grad[part] -= kept[part] * slope
                x_grad[part] *= scale
            threads.split(images, g)
        elif self.needs_grad[0]:
            d_hat = g * gamma
            projection_mean = fast_dot_sum(d_hat, kept, axes) / count
            x_grad = d_hat - fast_sum(d_hat, axes) / count  # dx̂ - mean(dx̂)
            x_grad -= kept * projection_mean                # - x̂ · mean(dx̂ · x̂)
            x_grad *= inv_std
        return (x_grad, weight_grad, bias_grad)[:len(self.needs_grad)]


@replaces(textbook.NormalizeFixed)
class NormalizeFixed(textbook.NormalizeFixed):
    """eval-mode batch norm: y = (x - μ)·(γ/√(σ²+ε)) + β in one product, on minidl's threads;
    the backward sums through BLAS."""

    def forward(self, x, weight=None, bias=None, mean=None, var=None, param_shape=(), eps=1e-5):
        xp = array_module(x)
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
        centered = threads.ufunc(xp.subtract, x, mean, out=xp.empty_like(x))
        scale = inv_std if weight is None else inv_std * weight.reshape(param_shape)
        self.save(centered, inv_std, weight)
        self.param_shape = param_shape
        return _scale_and_shift(centered, scale, bias, param_shape)

    def backward(self, g):
        centered, inv_std, weight = self.saved
        reduce_axes = textbook.constant_axes(g.ndim, self.param_shape)
        bias_grad = fast_sum(g, reduce_axes, keepdims=False).reshape(-1)
        weight_grad = (fast_dot_sum(g, centered, reduce_axes) * inv_std).reshape(-1)
        x_grad = g * (inv_std if weight is None else inv_std * weight.reshape(self.param_shape))
        return (x_grad, weight_grad, bias_grad)[:len(self.needs_grad)]
