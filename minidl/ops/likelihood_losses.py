"""Negative log-likelihood losses of the Poisson and Gaussian distributions, as PyTorch's, composed from
existing ops (so their gradients follow).

Poisson, with rate λ = e^x (``log_input``) or λ = x, and counts y:
    -ln P(y | λ) = λ - y ln λ + ln y!
    log_input:  loss = e^x - y·x                 d/dx = e^x - y
    otherwise:  loss = x - y·ln(x + eps)         d/dx = 1 - y / (x + eps)
    ``full`` adds Stirling's ln y! ≈ y ln y - y + ½ ln(2πy), for y > 1 only (0 elsewhere).

Gaussian, with mean x, variance v (clamped at eps) and value y:
    -ln N(y | x, v) = ½ (ln v + (x - y)² / v)  (+ ½ ln 2π with ``full``)
    d/dx = (x - y) / v,   d/dv = ½ (1/v - (x - y)² / v²)
The clamp of v changes its value only: the gradient passes to v unchanged (PyTorch clamps in place
without recording it).
"""

from __future__ import annotations

import math
import numbers

from minidl.core import arguments
from minidl.core.errors import ShapeError
from minidl.ops.arithmetic import clamp, where
from minidl.ops.common import as_tensor
from minidl.ops.distance import _tensors
from minidl.ops.loss import _reduce, check_reduction
from minidl.ops.ranking_losses import broadcast_shape
from minidl.ops.robust_loss import loss_reduction


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,  # noqa: A002
                     reduce=None, reduction="mean"):
    """The Poisson negative log-likelihood of counts ``target`` at rate exp(input) (``log_input``) or input;
    ``full`` adds Stirling's approximation of ln(target!) where target > 1."""
    op = "poisson_nll_loss"
    reduction = loss_reduction(size_average, reduce, reduction, op)
    eps = arguments.number(eps, op, "eps")
    _tensors(op, input=input)
    target = as_tensor(target, like=input)
    broadcast_shape(op, input=input, target=target)
    target = target.to(input.dtype) if target.dtype != input.dtype else target
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        above_one = target > 1
        counts = where(above_one, target, 1.0)  # a safe value where the term is dropped (no log 0)
        stirling = counts * counts.log() - counts + 0.5 * (2 * math.pi * counts).log()
        loss = loss + where(above_one, stirling, 0.0)
    return _reduce(loss, reduction)


def _fitted_variance(var, input, op):  # noqa: A002
    """``var`` shaped to broadcast with ``input``: input's shape, input's shape without its last dim (one
    variance per row), or input's shape with one dim of size 1 (shared along it)."""
    if tuple(var.shape) == tuple(input.shape):
        return var
    if input.ndim and tuple(var.shape) == tuple(input.shape[:-1]):
        return var.unsqueeze(-1)
    if var.ndim == input.ndim and sum(v for n, v in zip(input.shape, var.shape) if n != v) == 1:
        return var
    raise ShapeError(f"{op}: var of shape {tuple(var.shape)} does not fit input of shape {tuple(input.shape)} "
                     "(expected the input's shape, the input's shape without its last dim, or the input's shape "
                     "with one dim of size 1)")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """½ (ln v + (input - target)² / v) with v = max(var, eps), the Gaussian negative log-likelihood of
    ``target`` given the mean ``input`` and the variance ``var``; ``full`` adds ½ ln 2π."""
    op = "gaussian_nll_loss"
    check_reduction(reduction, op)
    eps = arguments.number(eps, op, "eps", minimum=0.0)
    _tensors(op, input=input)
    target = as_tensor(target, like=input)
    broadcast_shape(op, input=input, target=target)
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative, got {var}")
        var = as_tensor(float(var), like=input)
    else:
        _tensors(op, var=var)
        if var.numel() and bool((var.array < 0).any()):
            raise ValueError(f"{op}: var has negative entries (min {float(var.array.min())})")
        var = _fitted_variance(var, input, op)
    constant = var.detach()
    var = var + (clamp(constant, min=eps) - constant)  # clamped values, unchanged gradient
    difference = input - target
    loss = 0.5 * (var.log() + difference * difference / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
