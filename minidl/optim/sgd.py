"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import register
from minidl.kernels import optim as fused
from minidl.optim.optimizer import Optimizer, check_option


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
    foreach=None, differentiable=False, fused=None)``.

    Per parameter θ with gradient ∇ (exactly PyTorch's update)::

        g ← ∇ + wd·θ                      (g ← −∇ + wd·θ with maximize=True)
        if momentum μ ≠ 0:
            b ← g                          on the first step (a copy)
            b ← μ·b + (1 − dampening)·g    afterwards
            g ← g + μ·b  if nesterov  else  b
        θ ← θ − lr·g

    State per parameter: ``"momentum_buffer"`` (only when momentum ≠ 0). ``foreach`` and ``fused``
    only choose between PyTorch's implementations of this update: accepted and ignored
    (``differentiable=True`` is refused; see minidl.optim.optimizer.IMPLEMENTATION_OPTIONS).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _check_options(self, options):
        check_option("SGD", "lr", options["lr"], options["lr"] >= 0, ">= 0")
        check_option("SGD", "momentum", options["momentum"], options["momentum"] >= 0, ">= 0")
        check_option("SGD", "weight_decay", options["weight_decay"], options["weight_decay"] >= 0, ">= 0")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got momentum="
                             f"{options['momentum']!r} and dampening={options['dampening']!r}")

    def _update(self, param, grad, state, group):
        momentum, lr, weight_decay = group["momentum"], group["lr"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        if weight_decay:
            g = g + weight_decay * param
        if momentum != 0:  # the state arrays are updated in place: they stay arrays (0-d too)
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = array_module(param).array(g, dtype=param.dtype)  # a copy
            else:
                buf[...] = momentum * buf + (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        param -= lr * g


register(SGD._update, fused.sgd_update)
