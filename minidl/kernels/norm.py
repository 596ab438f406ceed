"""Kernels of batch and layer normalisation: fewer passes over memory, on minidl's threads.

Layer norm runs as compiled loops over rows where Numba is installed (``loops``: one
pass for the statistics, one for the output); otherwise, and for batch norm, as below.

The statistics come from BLAS row sums (``fast_sum``, and ``fast_dot_sum`` for Σ(x - μ)²
without building the squares). Batch norm's γ and 1/√(σ²+ε) are both per channel, so
y = (x - μ)·(γ/√(σ²+ε)) + β is one product, x - μ is kept and x̂ is never built; the
backward reuses dL/dβ and dL/dγ for the means of dx̂ and dx̂·x̂. The passes over the
activations run over slices of the batch on minidl's threads.
"""

from __future__ import annotations

import numpy as np

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import compiled, loops, products, threads
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
        self.axes, self.param_shape = axes, param_shape
        self.compiled_rows = _by_rows(x.ndim, axes, param_shape) and compiled.runs(x)
        if self.compiled_rows:
            return self._compiled_forward(x, weight, bias, eps)
        xp = array_module(x)
        count = x.dtype.type(product(x.shape[i] for i in axes))
        mean = fast_sum(x, axes) / count
        centered = threads.ufunc(xp.subtract, x, mean, out=xp.empty_like(x))
        var = fast_dot_sum(centered, centered, axes) / count
        inv_std = 1 / xp.sqrt(var + x.dtype.type(eps))
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

    def _compiled_forward(self, x, weight, bias, eps):
        """Layer norm by compiled loops over rows, slices of rows on minidl's threads."""
        rows = np.ascontiguousarray(x).reshape(-1, product(x.shape[i] for i in self.axes))
        weight_row, bias_row = _affine_rows(weight, bias, rows)
        y, mean, inv_std = np.empty_like(rows), np.empty(len(rows), rows.dtype), np.empty(len(rows), rows.dtype)
        threads.split(lambda part: loops.layer_norm_rows(rows[part], weight_row, bias_row, rows.dtype.type(eps),
                                                              y[part], mean[part], inv_std[part]), rows)
        self.save(rows, mean, inv_std, weight)
        stats_shape = x.shape[:x.ndim - len(self.axes)] + (1,) * len(self.axes)
        var = 1 / (inv_std * inv_std) - rows.dtype.type(eps)  # reported, not differentiated
        return y.reshape(x.shape), mean.reshape(stats_shape), var.reshape(stats_shape)

    def _compiled_backward(self, g):
        rows, mean, inv_std, weight = self.saved
        g_rows = np.ascontiguousarray(g).reshape(rows.shape)
        weight_row, _ = _affine_rows(weight, None, rows)
        x_grad = np.empty_like(rows)

        def block(part):
            sums = np.zeros((2, rows.shape[1]), rows.dtype)  # this block's Σ g·x̂ and Σ g
            loops.layer_norm_rows_backward(g_rows[part], rows[part], weight_row, mean[part], inv_std[part],
                                                x_grad[part], sums[0], sums[1])
            return sums
        weight_grad, bias_grad = sum(threads.split(block, rows))
        return (x_grad.reshape(g.shape), weight_grad, bias_grad)[:len(self.needs_grad)]

    def backward(self, g, g_mean=None, g_var=None):
        if self.compiled_rows:
            return self._compiled_backward(g)
        kept, inv_std, weight = self.saved  # x - μ per channel (batch norm), else x̂
        axes, reduce_axes, count = self.axes, textbook.constant_axes(g.ndim, self.param_shape), \
            g.dtype.type(product(g.shape[i] for i in self.axes))
        if _by_rows(g.ndim, axes, self.param_shape):
            return _layer_norm_backward(g, kept, inv_std, weight, count)[:len(self.needs_grad)]
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


def _by_rows(ndim, axes, param_shape):
    """Layer norm's layout: the statistics' axes are trailing and γ varies along exactly those,
    so the work is rows (the leading axes) of n values (the trailing ones)."""
    leading = ndim - len(axes)
    return axes == tuple(range(leading, ndim)) and textbook.constant_axes(ndim, param_shape) == tuple(range(leading))


def _affine_rows(weight, bias, rows):
    """γ and β as flat rows of the input's dtype (ones and zeros where absent)."""
    n, dtype = rows.shape[1], rows.dtype
    weight_row = np.ones(n, dtype) if weight is None else np.ascontiguousarray(weight.reshape(-1), dtype=dtype)
    bias_row = np.zeros(n, dtype) if bias is None else np.ascontiguousarray(bias.reshape(-1), dtype=dtype)
    return weight_row, bias_row


def _layer_norm_backward(g, x_hat, inv_std, weight, count):
    """Layer norm's backward on rows of ``count`` values, its sums as BLAS matrix-vector products:
    g·x̂ is built once and gives both dL/dγ (its column sums) and mean(dx̂·x̂) = (g·x̂)γ/m;
    mean(dx̂) = gγ/m, and dx̂ = g·γ is built only as the start of dL/dx."""
    xp = array_module(g)
    g_rows = xp.ascontiguousarray(g).reshape(-1, int(count))
    x_hat_rows, inv_std_rows = x_hat.reshape(g_rows.shape), inv_std.reshape(-1, 1)
    g_x_hat = g_rows * x_hat_rows
    bias_grad, weight_grad = fast_sum(g_rows, (0,), keepdims=False), fast_sum(g_x_hat, (0,), keepdims=False)
    if weight is None:
        mean_d_hat, projection = fast_sum(g_rows, (1,)) / count, fast_sum(g_x_hat, (1,)) / count
        x_grad = g_rows.copy()
    else:
        gamma = weight.reshape(-1)
        mean_d_hat = (products.matmul(g_rows, gamma) / count).reshape(-1, 1)
        projection = (products.matmul(g_x_hat, gamma) / count).reshape(-1, 1)
        x_grad = g_rows * gamma
    x_grad -= mean_d_hat                                     # dx̂ - mean(dx̂)
    x_grad -= xp.multiply(x_hat_rows, projection, out=g_x_hat)  # - x̂·mean(dx̂·x̂)
    x_grad *= inv_std_rows
    return x_grad.reshape(g.shape), weight_grad, bias_grad


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
