"""Adam (L2 weight decay in the gradient) and AdamW (decoupled weight decay), as in PyTorch."""

from __future__ import annotations

import math

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False)``.

    Per parameter θ with gradient ∇, at step t = 1, 2, ... (PyTorch's update)::

        g ← ∇ + wd·θ                      (g ← −∇ + wd·θ with maximize=True)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        v̂ ← max(v̂, v) if amsgrad else v
        θ ← θ − lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + ε)

    State per parameter: ``"step"`` (int), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v)
    and, with amsgrad, ``"max_exp_avg_sq"`` (v̂).
    """

    _decoupled = False  # AdamW: weight decay on θ directly instead of in g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_options(self, options):
        name = type(self).__name__
        check_option(name, "lr", options["lr"], options["lr"] >= 0, ">= 0")
        check_option(name, "eps", options["eps"], options["eps"] >= 0, ">= 0")
        betas = options["betas"]
        check_option(name, "betas", betas, len(betas) == 2, "a pair (beta1, beta2)")
        for index, beta in enumerate(betas):
            check_option(name, f"betas[{index}]", beta, 0 <= beta < 1, "in [0, 1)")
        check_option(name, "weight_decay", options["weight_decay"], options["weight_decay"] >= 0, ">= 0")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_avg_sq"] = xp.zeros_like(param)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]

        if self._decoupled:
            if weight_decay:
                xp.multiply(param, 1 - lr * weight_decay, out=param)
            weight_decay = 0
        g = self._gradient(param, grad, weight_decay, group["maximize"])
        work = self._work(param, 1)

        xp.subtract(g, m, out=work)          # m ← m + (1 − β1)(g − m), PyTorch's lerp
        xp.multiply(work, 1 - beta1, out=work)
        xp.add(m, work, out=m)
        xp.multiply(g, 1 - beta2, out=work)  # v ← β2·v + (1 − β2)·g·g
        xp.multiply(work, g, out=work)
        xp.multiply(v, beta2, out=v)
        xp.add(v, work, out=v)
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]

        step_size = lr / (1 - beta1 ** step)
        xp.sqrt(v, out=work)                 # denominator √v̂ / √(1 − β2ᵗ) + ε
        xp.divide(work, math.sqrt(1 - beta2 ** step), out=work)
        xp.add(work, eps, out=work)
        xp.divide(m, work, out=work)
        xp.multiply(work, step_size, out=work)
        xp.subtract(param, work, out=param)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False)``.

    Adam with decoupled weight decay: first θ ← θ·(1 − lr·wd), then the Adam
    update above with g = ∇ (or −∇), so the decay never enters m and v.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
