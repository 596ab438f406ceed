"""Fused optimizer updates: the textbook updates of ``minidl/optim/`` in place, pass by pass.

The textbook ``_update`` of SGD and Adam reads as the formula and builds a new array for
each term. These do the same arithmetic with every pass written into the parameter, its
state or a scratch array reused across parameters and steps (``out=``), so a step
allocates nothing. ``minidl.optim`` registers each against the textbook update it replaces.
"""

from __future__ import annotations

import math

from minidl.core.backend import array_module, device_of


def scratch_array(optimizer, like, slot=0):
    """A scratch array shaped like ``like``, kept in the optimizer's ``_scratch`` and reused across
    parameters and steps (contents undefined)."""
    scratch = optimizer._scratch
    key = (type(like), str(device_of(like)), tuple(like.shape), like.dtype.str, slot)
    array = scratch.get(key)
    if array is None:
        array = scratch[key] = array_module(like).empty_like(like)
    return array


def _gradient(optimizer, param, grad, weight_decay, maximize):
    """``g = ±grad + weight_decay·param`` (− when maximizing); ``grad`` itself when neither applies.

    ``param.grad`` is never changed: a modified gradient goes to scratch slot 0.
    """
    if not weight_decay and not maximize:
        return grad
    xp, g = array_module(param), scratch_array(optimizer, param, 0)
    if weight_decay:
        xp.multiply(param, weight_decay, out=g)
        (xp.subtract if maximize else xp.add)(g, grad, out=g)
    else:
        xp.negative(grad, out=g)
    return g


def sgd_update(optimizer, param, grad, state, group):
    """SGD's update (minidl.optim.SGD._update), in place."""
    xp = array_module(param)
    momentum = group["momentum"]
    g = _gradient(optimizer, param, grad, group["weight_decay"], group["maximize"])
    work = scratch_array(optimizer, param, 1)
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


def adam_update(optimizer, param, grad, state, group):
    """Adam's and AdamW's update (minidl.optim.Adam._update), in place."""
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

    if optimizer._decoupled:
        if weight_decay:
            xp.multiply(param, 1 - lr * weight_decay, out=param)
        weight_decay = 0
    g = _gradient(optimizer, param, grad, weight_decay, group["maximize"])
    work = scratch_array(optimizer, param, 1)

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
