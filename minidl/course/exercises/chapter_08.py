"""Exercises of chapter 08, speed and devices: a stable softmax, layer norm's fused backward, an in-place
optimizer update."""

from __future__ import annotations

import numpy as np

import minidl
from minidl.course.exercises.grading import Exercise, compare, expect, numerical_gradient, parts, random

TITLE = "Speed and devices"
PREAMBLE = "import numpy as np"


def stable_softmax(x):
    """softmax over the last axis that never overflows: e^(x − m) / Σ e^(x − m), m = the row maximum.

    The result is the same as with m = 0, but exp never sees a value above 0, so rows
    like [1000, 0] work. (minidl: ``minidl/ops/activation.py``, ``Softmax.forward``;
    its kernel shares one shift where that is safe: ``minidl/kernels/reduction.py``.)
    """
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layer_norm_backward(x, gamma, g, eps=1e-5):
    """The gradients ``(dL/dx, dL/dγ, dL/dβ)`` of layer norm over the last axis, as ONE fused formula.

    Forward, per row of x (…, D): μ and σ² its mean and biased variance, x̂ = (x − μ)/√(σ² + ε),
    y = γ x̂ + β with γ, β of shape (D,). With ĝ = γ g and bars for means over the row:

        dL/dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) / √(σ² + ε)
        dL/dγ = Σ g x̂ over every axis but the last,   dL/dβ = Σ g likewise

    One node with this backward replaces a chain of a dozen small ones.
    (minidl: ``minidl/kernels/norm.py``, ``Normalize.backward``.)
    """
    mean = x.mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    g_hat = g * gamma
    dx = (g_hat - g_hat.mean(axis=-1, keepdims=True) - x_hat * (g_hat * x_hat).mean(axis=-1, keepdims=True)) * inv_std
    rows = tuple(range(x.ndim - 1))
    return dx, (g * x_hat).sum(axis=rows), g.sum(axis=rows)


def sgd_momentum_in_place(param, grad, buffer, lr, momentum):
    """One step of SGD with momentum that writes into ``param`` and ``buffer`` and returns nothing.

    b ← μ·b + ∇, then θ ← θ − lr·b (``buffer`` already holds the previous steps). A fused
    kernel allocates nothing per step: write with ``out=`` or in-place operators
    (``buffer *= momentum``, ``np.subtract(param, ..., out=param)``), never ``param = ...``,
    which only rebinds the local name. (minidl: ``minidl/kernels/optim.py``, ``sgd_update``.)
    """
    buffer *= momentum
    buffer += grad
    param -= lr * buffer


# ---------------------------------------------------------------- grading

def _grade_stable_softmax(answer):
    hint = "subtract each row's maximum (keepdims=True) before np.exp"
    x = random(8, 3, 5, low=-3, high=3)
    compare(answer(x.copy()), minidl.nn.functional.softmax(minidl.tensor(x), dim=-1).numpy(),
            "softmax of ordinary values (F.softmax)", "divide by the sum over the last axis, keepdims=True")
    big = np.array([[1000.0, 0.0, -5.0], [-1000.0, -999.0, -1001.0], [710.0, 710.0, 0.0]])
    compare(answer(big.copy()), minidl.nn.functional.softmax(minidl.tensor(big), dim=-1).numpy(),
            "softmax of values near ±1000 (F.softmax)", hint)


def _layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps) + beta


def _grade_layer_norm_backward(answer):
    hint = "the means run over the LAST axis (keepdims=True); γ multiplies g before the means"
    for seed, shape in enumerate([(3, 4), (2, 3, 5)]):
        x, gamma, beta = random(seed, *shape, low=-2, high=2), random(seed + 1, shape[-1], low=0.5, high=2), \
            random(seed + 2, shape[-1])
        g = random(seed + 3, *shape)
        result = parts(answer(x.copy(), gamma.copy(), g.copy()), 3, "layer_norm_backward", hint)
        for index, name in enumerate(("dL/dx", "dL/dγ", "dL/dβ")):
            compare(result[index], numerical_gradient(_layer_norm, [x, gamma, beta], index, g),
                    f"{name} for x of shape {shape} (by finite differences)", hint)


def _grade_sgd_momentum_in_place(answer):
    hint = "write into the arrays (buffer *= μ; buffer += grad; param -= lr * buffer): `param = ...` changes nothing"
    param, buffer = np.linspace(-1.0, 1.0, 6).reshape(2, 3), random(1, 2, 3)
    mine_param, mine_buffer = param.copy(), buffer.copy()
    for step in range(1, 3):
        grad = random(step + 1, 2, 3)
        result = answer(mine_param, grad.copy(), mine_buffer, 0.5, 0.9)
        expect(result is None, f"what step {step} returned", "None (the update is in place)",
               f"a {type(result).__name__}", hint)
        buffer = 0.9 * buffer + grad
        param = param - 0.5 * buffer
        compare(mine_buffer, buffer, f"the buffer after step {step}, changed in place", hint)
        compare(mine_param, param, f"θ after step {step}, changed in place", hint)


EXERCISES = [
    Exercise(stable_softmax, _grade_stable_softmax, "x - x.max(axis=-1, keepdims=True) before np.exp"),
    Exercise(layer_norm_backward, _grade_layer_norm_backward, "return a tuple (dx, dgamma, dbeta)"),
    Exercise(sgd_momentum_in_place, _grade_sgd_momentum_in_place, "use in-place operators such as *=, += and -="),
]

