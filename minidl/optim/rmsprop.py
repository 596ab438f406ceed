"""RMSprop: each step divided by a running root mean square of the gradients (PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
    capturable=False, foreach=None, maximize=False, differentiable=False)``.

    Per parameter θ with gradient ∇ (exactly PyTorch's update)::

        g ← ∇ + wd·θ                         (g ← −∇ + wd·θ with maximize=True)
        v ← α·v + (1 − α)·g²                 the mean square, from v = 0
        if centered:  ḡ ← ḡ + (1 − α)·(g − ḡ),  d ← √(v − ḡ²) + ε     (the variance instead)
        else:         d ← √v + ε
        if momentum μ > 0:  b ← μ·b + g/d,  θ ← θ − lr·b                (b from 0)
        else:               θ ← θ − lr·g/d

    State per parameter, named as PyTorch's: ``"step"``, ``"square_avg"`` (v), and
    ``"momentum_buffer"`` (b, with momentum) and ``"grad_avg"`` (ḡ, when centered).
    ``foreach`` and ``capturable`` are accepted and ignored (see minidl.optim.optimizer).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _check_options(self, options):
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_option("RMSprop", name, options[name], options[name] >= 0, ">= 0")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(param))
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros_like(param)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        v = state["square_avg"]                   # updated in place: the state arrays stay arrays (0-d too)
        v[...] = alpha * v + (1 - alpha) * g * g
        if group["centered"]:
            mean = state["grad_avg"]
            mean[...] = mean + (1 - alpha) * (g - mean)
            denominator = xp.sqrt(v - mean * mean) + eps
        else:
            denominator = xp.sqrt(v) + eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf[...] = momentum * buf + g / denominator
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * g / denominator
