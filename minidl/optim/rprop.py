"""Rprop: a step size per weight that grows while the gradient keeps its sign and shrinks when it flips
(PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class Rprop(Optimizer):
    """``Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
    maximize=False, differentiable=False)``.

    Only the sign of the gradient is used. Per weight, with the previous gradient p (from 0) and the step
    size Δ (from lr), at each step (PyTorch's update)::

        g ← ±∇,   s = sign(g·p)
        Δ ← clip(Δ·η₊ if s > 0,  Δ·η₋ if s < 0,  Δ if s = 0;   Δ_min, Δ_max)
        g ← 0 where s < 0                 (after a sign flip: no step, and no flip counted next time)
        θ ← θ − sign(g)·Δ,   p ← g

    with ``etas = (η₋, η₊)`` and ``step_sizes = (Δ_min, Δ_max)``. State per parameter, named as
    PyTorch's: ``"step"``, ``"prev"`` (p), ``"step_size"`` (Δ). ``foreach`` and ``capturable`` are
    accepted and ignored.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _check_options(self, options):
        check_option("Rprop", "lr", options["lr"], options["lr"] >= 0, ">= 0")
        etas, step_sizes = options["etas"], options["step_sizes"]
        check_option("Rprop", "etas", etas, len(etas) == 2 and 0 < etas[0] < 1 < etas[1],
                     "a pair (etaminus, etaplus) with 0 < etaminus < 1 < etaplus")
        check_option("Rprop", "step_sizes", step_sizes, len(step_sizes) == 2, "a pair (step_size_min, step_size_max)")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        (eta_minus, eta_plus), (smallest, largest) = group["etas"], group["step_sizes"]
        if not state:
            state.update(step=0, prev=xp.zeros_like(param), step_size=xp.full_like(param, group["lr"]))
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        previous, step_size = state["prev"], state["step_size"]  # updated in place: they stay arrays
        sign = xp.sign(g * previous)
        factor = xp.where(sign > 0, eta_plus, xp.where(sign < 0, eta_minus, 1.0)).astype(param.dtype, copy=False)
        step_size[...] = xp.clip(step_size * factor, smallest, largest)
        g = xp.where(sign < 0, 0, g).astype(param.dtype, copy=False)
        param -= xp.sign(g) * step_size
        previous[...] = g
