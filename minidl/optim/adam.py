"""Adam (L2 weight decay in the gradient) and AdamW (decoupled weight decay), as in PyTorch."""

from __future__ import annotations

import math

from minidl.core.backend import array_module
from minidl.core.dispatch import register
from minidl.kernels import optim as fused
from minidl.optim.optimizer import Optimizer, check_option


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None,
    maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False)``.

    Per parameter θ with gradient ∇, at step t = 1, 2, ... (PyTorch's update)::

        g ← ∇ + wd·θ                      (g ← −∇ + wd·θ with maximize=True)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        v̂ ← max(v̂, v) if amsgrad else v
        θ ← θ − lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + ε)

    State per parameter: ``"step"`` (int), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v)
    and, with amsgrad, ``"max_exp_avg_sq"`` (v̂). ``decoupled_weight_decay=True`` makes it AdamW
    (one setting for the whole optimizer in minidl). ``foreach``, ``capturable`` and ``fused`` only
    choose between PyTorch's implementations of this update: accepted and ignored
    (``differentiable=True`` is refused; see minidl.optim.optimizer.IMPLEMENTATION_OPTIONS).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=bool(decoupled_weight_decay)))

    @property
    def _decoupled(self):
        """AdamW: weight decay on θ directly instead of in g (the same for every group)."""
        return self.defaults["decoupled_weight_decay"]

    def _check_options(self, options):
        name = type(self).__name__
        check_option(name, "lr", options["lr"], options["lr"] >= 0, ">= 0")
        check_option(name, "eps", options["eps"], options["eps"] >= 0, ">= 0")
        betas = options["betas"]
        check_option(name, "betas", betas, len(betas) == 2, "a pair (beta1, beta2)")
        for index, beta in enumerate(betas):
            check_option(name, f"betas[{index}]", beta, 0 <= beta < 1, "in [0, 1)")
        check_option(name, "weight_decay", options["weight_decay"], options["weight_decay"] >= 0, ">= 0")
        decoupled = options.get("decoupled_weight_decay", self.defaults["decoupled_weight_decay"])
        check_option(name, "decoupled_weight_decay", decoupled, decoupled == self.defaults["decoupled_weight_decay"],
                     f"{self.defaults['decoupled_weight_decay']} in every group (it is set for the whole optimizer)")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        if self._decoupled:  # AdamW: decay θ itself, outside the moments
            param *= 1 - lr * weight_decay
            weight_decay = 0
        g = -grad if group["maximize"] else grad
        if weight_decay:
            g = g + weight_decay * param
        m, v = state["exp_avg"], state["exp_avg_sq"]  # updated in place: they stay arrays (0-d too)
        m[...] = beta1 * m + (1 - beta1) * g
        v[...] = beta2 * v + (1 - beta2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"]
            v[...] = xp.maximum(v, state["exp_avg_sq"])
        param -= lr / (1 - beta1 ** t) * m / (xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps)


register(Adam._update, fused.adam_update)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
    maximize=False, foreach=None, capturable=False, differentiable=False, fused=None)``.

    Adam with decoupled weight decay: first θ ← θ·(1 − lr·wd), then the Adam
    update above with g = ∇ (or −∇), so the decay never enters m and v. Its groups
    hold ``decoupled_weight_decay=True``, as PyTorch's.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
