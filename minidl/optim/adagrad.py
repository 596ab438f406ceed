"""Adagrad: each coordinate's step divided by the root of its summed squared gradients (PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
    foreach=None, *, maximize=False, differentiable=False, fused=None)``.

    Per parameter θ with gradient ∇, at step t = 1, 2, ... (exactly PyTorch's update)::

        g ← ∇ + wd·θ                       (g ← −∇ + wd·θ with maximize=True)
        η ← lr / (1 + (t − 1)·lr_decay)
        s ← s + g²                         s starts at initial_accumulator_value
        θ ← θ − η·g / (√s + ε)

    State per parameter, named as PyTorch's and, as there, made when the optimizer is built:
    ``"step"`` (0) and ``"sum"`` (s), from the constructor's ``initial_accumulator_value`` (as in
    PyTorch, a group's own value only counts for parameters added later with add_param_group). ``foreach`` and ``fused`` are accepted and ignored
    (see minidl.optim.optimizer).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for index, _, param in self._indexed_params():  # the constructor's value, also in groups of their own
            self.state[index] = self._initial_state(param.array, initial_accumulator_value)

    @staticmethod
    def _initial_state(param, value):
        return {"step": 0, "sum": array_module(param).full_like(param, value)}

    def _check_options(self, options):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_option("Adagrad", name, options[name], options[name] >= 0, ">= 0")

    def _update(self, param, grad, state, group):
        if not state:  # a parameter added with add_param_group after the optimizer was built
            state.update(self._initial_state(param, group["initial_accumulator_value"]))
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        rate = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]                       # updated in place: the state arrays stay arrays (0-d too)
        total += g * g
        param -= rate * g / (array_module(param).sqrt(total) + group["eps"])
