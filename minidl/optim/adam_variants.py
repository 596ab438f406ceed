"""Three variants of Adam, as in PyTorch: NAdam (Nesterov momentum), RAdam (a rectified variance
estimate early on) and Adamax (the infinity norm instead of the mean square)."""

from __future__ import annotations

import math

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


def check_adam_like_options(name, options):
    """The checks Adam's relatives share: lr, eps and weight_decay >= 0, betas two numbers in [0, 1)."""
    for key in ("lr", "eps", "weight_decay"):
        check_option(name, key, options[key], options[key] >= 0, ">= 0")
    betas = options["betas"]
    check_option(name, "betas", betas, len(betas) == 2, "a pair (beta1, beta2)")
    for index, beta in enumerate(betas):
        check_option(name, f"betas[{index}]", beta, 0 <= beta < 1, "in [0, 1)")


def _decayed_gradient(param, grad, group):
    """g = ±∇ + wd·θ, or g = ±∇ after θ ← θ·(1 − lr·wd) when the group decouples the weight decay."""
    g = -grad if group["maximize"] else grad
    weight_decay = group["weight_decay"]
    if weight_decay and group.get("decoupled_weight_decay"):
        param *= 1 - group["lr"] * weight_decay
    elif weight_decay:
        g = g + weight_decay * param
    return g


def _update_moments(state, g, beta1, beta2):
    """m ← β1·m + (1 − β1)·g and v ← β2·v + (1 − β2)·g², in place (the state arrays stay arrays)."""
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    return m, v


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False)``.

    Adam with Nesterov momentum and a momentum schedule μ_t (PyTorch's update), at step t = 1, 2, ...::

        g ← ±∇ + wd·θ        (or θ ← θ·(1 − lr·wd) first, with decoupled_weight_decay=True)
        μ_t = β1·(1 − 0.5·0.96^(t·ψ)),  μ_{t+1} likewise, ψ = momentum_decay;   Π_t = μ_1·…·μ_t
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   d = √(v / (1 − β2ᵗ)) + ε
        θ ← θ − lr·(1 − μ_t)/(1 − Π_t) · g/d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d

    State per parameter, named as PyTorch's: ``"step"``, ``"mu_product"`` (Π_t, a float here),
    ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v). ``foreach`` and ``capturable`` are accepted and ignored.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _check_options(self, options):
        check_adam_like_options("NAdam", options)
        check_option("NAdam", "momentum_decay", options["momentum_decay"], options["momentum_decay"] >= 0, ">= 0")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, (beta1, beta2), eps, psi = group["lr"], group["betas"], group["eps"], group["momentum_decay"]
        if not state:
            state.update(step=0, mu_product=1.0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
        state["step"] += 1
        t = state["step"]
        g = _decayed_gradient(param, grad, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] = mu_product = float(state["mu_product"]) * mu
        m, v = _update_moments(state, g, beta1, beta2)
        denominator = xp.sqrt(v / (1 - beta2 ** t)) + eps
        param -= lr * (1.0 - mu) / (1.0 - mu_product) * g / denominator
        param -= lr * mu_next / (1.0 - mu_product * mu_next) * m / denominator


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False)``.

    Adam whose adaptive step is switched on only once the variance of v̂ is tractable (PyTorch's update)::

        g ← ±∇ + wd·θ        (or θ ← θ·(1 − lr·wd) first, with decoupled_weight_decay=True)
        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   m̂ = m / (1 − β1ᵗ)
        ρ∞ = 2/(1 − β2) − 1,   ρ_t = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)
        if ρ_t > 5:  r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)),
                     θ ← θ − lr·m̂·r·√(1 − β2ᵗ)/(√v + ε)
        else:        θ ← θ − lr·m̂                                     (plain momentum SGD)

    State per parameter: ``"step"``, ``"exp_avg"``, ``"exp_avg_sq"``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _check_options(self, options):
        check_adam_like_options("RAdam", options)

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
        state["step"] += 1
        t = state["step"]
        g = _decayed_gradient(param, grad, group)
        m, v = _update_moments(state, g, beta1, beta2)
        correction2 = 1 - beta2 ** t
        m_hat = m / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / correction2
        if rho_t > 5.0:
            rectification = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            param -= m_hat * lr * (math.sqrt(correction2) / (xp.sqrt(v) + eps)) * rectification
        else:
            param -= m_hat * lr


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False,
    differentiable=False, capturable=False)``.

    Adam with the infinity norm in place of the mean square (PyTorch's update)::

        g ← ±∇ + wd·θ
        m ← β1·m + (1 − β1)·g
        u ← max(β2·u, |g| + ε)
        θ ← θ − lr/(1 − β1ᵗ) · m/u

    State per parameter, named as PyTorch's: ``"step"``, ``"exp_avg"`` (m), ``"exp_inf"`` (u).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _check_options(self, options):
        check_adam_like_options("Adamax", options)

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param), exp_inf=xp.zeros_like(param))
        state["step"] += 1
        g = _decayed_gradient(param, grad, group)
        m, u = state["exp_avg"], state["exp_inf"]
        m[...] = beta1 * m + (1 - beta1) * g
        u[...] = xp.maximum(beta2 * u, xp.abs(g) + eps)
        param -= lr / (1 - beta1 ** state["step"]) * m / u
