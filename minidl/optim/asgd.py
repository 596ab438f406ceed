"""Averaged SGD: SGD with a decaying step whose iterates are averaged from step ``t0`` on (PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class ASGD(Optimizer):
    """``ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
    differentiable=False, capturable=False)``.

    Per parameter θ with gradient ∇, at step t = 1, 2, ... (PyTorch's update)::

        g ← ±∇ + wd·θ
        θ ← θ·(1 − λ·η) − η·g                      η from the previous step (η = lr at the first)
        θ̄ ← θ  if μ = 1  else  θ̄ + μ·(θ − θ̄)        the running average of the iterates
        η ← lr / (1 + λ·lr·t)^α,   μ ← 1 / max(1, t − t0)

    State per parameter, named as PyTorch's: ``"step"``, ``"eta"`` (η), ``"mu"`` (μ) (both floats here) and
    ``"ax"`` (θ̄, the averaged parameters). ``foreach`` and ``capturable`` are accepted and ignored.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _check_options(self, options):
        for name in ("lr", "weight_decay"):
            check_option("ASGD", name, options[name], options[name] >= 0, ">= 0")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state.update(step=0, eta=float(lr), mu=1.0, ax=xp.zeros_like(param))
        state["step"] += 1
        t, eta, mu = state["step"], float(state["eta"]), float(state["mu"])
        g = -grad if group["maximize"] else grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        param *= 1 - lambd * eta
        param -= eta * g
        average = state["ax"]  # updated in place: it stays an array (0-d too)
        if mu != 1:
            average[...] = average + (param - average) * mu
        else:
            average[...] = param
        state["eta"] = lr / (1 + lambd * lr * t) ** group["alpha"]
        state["mu"] = 1 / max(1, t - group["t0"])
