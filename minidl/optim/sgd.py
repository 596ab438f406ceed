"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.optim.optimizer import Optimizer, check_option


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)``.

    Per parameter θ with gradient ∇ (exactly PyTorch's update)::

        g ← ∇ + wd·θ                      (g ← −∇ + wd·θ with maximize=True)
        if momentum μ ≠ 0:
            b ← g                          on the first step (a copy)
            b ← μ·b + (1 − dampening)·g    afterwards
            g ← g + μ·b  if nesterov  else  b
        θ ← θ − lr·g

    State per parameter: ``"momentum_buffer"`` (only when momentum ≠ 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _check_options(self, options):
        check_option("SGD", "lr", options["lr"], options["lr"] >= 0, ">= 0")
        check_option("SGD", "momentum", options["momentum"], options["momentum"] >= 0, ">= 0")
        check_option("SGD", "weight_decay", options["weight_decay"], options["weight_decay"] >= 0, ">= 0")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got momentum="
                             f"{options['momentum']!r} and dampening={options['dampening']!r}")

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        momentum = group["momentum"]
        g = self._gradient(param, grad, group["weight_decay"], group["maximize"])
        work = self._work(param, 1)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                xp.multiply(buf, momentum, out=buf)
                if group["dampening"] == 0:
                    xp.add(buf, g, out=buf)
                else:
                    xp.multiply(g, 1 - group["dampening"], out=work)
                    xp.add(buf, work, out=buf)
            if group["nesterov"]:
                xp.multiply(buf, momentum, out=work)
                xp.add(g, work, out=work)
                g = work
            else:
                g = buf
        xp.multiply(g, group["lr"], out=work)
        xp.subtract(param, work, out=param)
