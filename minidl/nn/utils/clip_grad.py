"""Gradient utilities: clipping by global norm or by value."""

from __future__ import annotations

import math

from minidl.core.backend import array_module
from minidl.core.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients in place so that their joint norm is at most ``max_norm``; returns the norm.

    total = (Σ_p ‖g_p‖^q)^(1/q) (q = norm_type, ``inf`` for the largest |g|); if total > max_norm,
    every gradient is multiplied by max_norm / (total + 1e-6), as in PyTorch.
    """
    params = _grads(parameters)
    if not params:
        return 0.0
    norm_type = float(norm_type)
    norms = [_norm(p.grad.array, norm_type) for p in params]
    total = max(norms) if math.isinf(norm_type) else sum(n ** norm_type for n in norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    coefficient = max_norm / (total + 1e-6)
    if not coefficient >= 1:  # also when the norm is NaN: the gradients become NaN, as in PyTorch
        for p in params:
            p.grad.array *= p.grad.dtype.type(coefficient)
    return total


def _norm(array, norm_type):
    xp = array_module(array)
    if math.isinf(norm_type):
        return float(abs(array).max()) if array.size else 0.0
    return float(xp.sum(abs(array.astype(xp.float64)) ** norm_type) ** (1.0 / norm_type))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    for p in _grads(parameters):
        array_module(p.grad.array).clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)
