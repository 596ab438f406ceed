"""Adadelta: steps scaled by running averages of squared gradients and squared updates (PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
    maximize=False, differentiable=False)``.

    Per parameter θ with gradient ∇ (exactly PyTorch's update)::

        g ← ∇ + wd·θ                         (g ← −∇ + wd·θ with maximize=True)
        v ← ρ·v + (1 − ρ)·g²                 running mean of squared gradients, from 0
        Δ ← √(u + ε) / √(v + ε) · g          the update, in the units of θ
        u ← ρ·u + (1 − ρ)·Δ²                 running mean of squared updates, from 0
        θ ← θ − lr·Δ

    State per parameter, named as PyTorch's: ``"step"``, ``"square_avg"`` (v) and ``"acc_delta"`` (u).
    ``foreach`` and ``capturable`` are accepted and ignored (see minidl.optim.optimizer).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _check_options(self, options):
        for name in ("lr", "eps", "weight_decay"):
            check_option("Adadelta", name, options[name], options[name] >= 0, ">= 0")
        check_option("Adadelta", "rho", options["rho"], 0 <= options["rho"] <= 1, "in [0, 1]")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(param), acc_delta=xp.zeros_like(param))
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        v, u = state["square_avg"], state["acc_delta"]   # updated in place: they stay arrays (0-d too)
        v[...] = rho * v + (1 - rho) * g * g
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u[...] = rho * u + (1 - rho) * delta * delta
        param -= group["lr"] * delta
