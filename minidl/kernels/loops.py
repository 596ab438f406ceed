"""The kernels' compiled loops over rows (minidl.kernels.compiled), where NumPy needs a pass per step.

Layer norm: one read of each row for its statistics, one for the output; the backward two
reads of each row of g and x. Per row of n values:  μ = Σx/n,  σ² = Σ(x - μ)²/n,  r = 1/√(σ² + ε),  x̂ = (x - μ)·r,  y = γ·x̂ + β
and back, with dx̂ = g·γ:  dx = r·(dx̂ - Σdx̂/n - x̂·Σ(dx̂·x̂)/n),  dγ += g·x̂,  dβ += g.
x̂ is not stored: the backward recomputes it from x, μ and r (as PyTorch does).

Softmax's backward (attention's): per row, dL/ds = p·(dL/dp - Σ p·dL/dp), in place. Its
forward stays in NumPy, whose vectorised exp is several times faster than a compiled loop's.
"""

from __future__ import annotations

import numpy as np

from minidl.kernels.compiled import jit


@jit
def layer_norm_rows(x, weight, bias, eps, y, mean, inv_std):
    """y = γ·(x - μ)/√(σ² + ε) + β for each row of the 2-D ``x``; fills ``y``, ``mean``, ``inv_std``."""
    rows, n = x.shape
    inv_n = x.dtype.type(1) / x.dtype.type(n)
    for r in range(rows):
        total = x.dtype.type(0)
        for j in range(n):
            total += x[r, j]
        mu = total * inv_n
        squares = x.dtype.type(0)
        for j in range(n):
            d = x[r, j] - mu
            squares += d * d
        mean[r] = mu
        inv_std[r] = 1 / np.sqrt(squares * inv_n + eps)
        scale = inv_std[r]
        for j in range(n):
            y[r, j] = (x[r, j] - mu) * scale * weight[j] + bias[j]


@jit
def layer_norm_rows_backward(g, x, weight, mean, inv_std, x_grad, weight_grad, bias_grad):
    """dL/dx of each row into ``x_grad``; adds this block's Σ g·x̂ and Σ g to ``weight_grad``, ``bias_grad``."""
    rows, n = x.shape
    inv_n = x.dtype.type(1) / x.dtype.type(n)
    for r in range(rows):
        mu, scale = mean[r], inv_std[r]
        d_sum = x.dtype.type(0)
        d_dot = x.dtype.type(0)
        for j in range(n):
            x_hat = (x[r, j] - mu) * scale
            d_hat = g[r, j] * weight[j]
            d_sum += d_hat
            d_dot += d_hat * x_hat
            weight_grad[j] += g[r, j] * x_hat
            bias_grad[j] += g[r, j]
        d_mean, d_projection = d_sum * inv_n, d_dot * inv_n
        for j in range(n):
            x_hat = (x[r, j] - mu) * scale
            x_grad[r, j] = (g[r, j] * weight[j] - d_mean - x_hat * d_projection) * scale


@jit
def softmax_rows_backward(p, grad):
    """grad ← p·(grad - Σ p·grad) for each row of the 2-D ``p`` (softmax's backward, in place)."""
    rows, n = p.shape
    for r in range(rows):
        projection = p.dtype.type(0)
        for j in range(n):
            projection += p[r, j] * grad[r, j]
        for j in range(n):
            grad[r, j] = p[r, j] * (grad[r, j] - projection)
