"""Exercises of chapter 03, batch normalisation: the forward in training mode, its backward, the running statistics."""

from __future__ import annotations

import numpy as np

import minidl
from minidl.course.exercises.grading import Exercise, compare, numerical_gradient, parts, random

TITLE = "Batch normalisation"
PREAMBLE = "import numpy as np"


def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm in training mode for x of shape (N, C): returns y, shape (N, C).

    Per channel c, over the batch: μ = mean of x, σ² = mean of (x − μ)² (the biased
    variance, divided by N), x̂ = (x − μ) / √(σ² + ε), y = γ x̂ + β. ``gamma`` and ``beta``
    have shape (C,). (minidl: ``minidl/ops/norm.py``, ``Normalize.forward``.)
    """
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def batch_norm_backward(x, gamma, g, eps=1e-5):
    """The gradients ``(dL/dx, dL/dγ, dL/dβ)`` of batch_norm_forward, given g = dL/dy of shape (N, C).

    With x̂ and σ² as in the forward and ĝ = γ g (per channel, means over the batch):

        dL/dβ = Σₙ g        dL/dγ = Σₙ g x̂
        dL/dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) / √(σ² + ε)

    The last two terms are there because μ and σ² depend on every x in the batch.
    (minidl: ``minidl/ops/norm.py``, ``Normalize.backward``.)
    """
    mean = x.mean(axis=0)
    inv_std = 1 / np.sqrt(((x - mean) ** 2).mean(axis=0) + eps)
    x_hat = (x - mean) * inv_std
    g_hat = g * gamma
    dx = (g_hat - g_hat.mean(axis=0) - x_hat * (g_hat * x_hat).mean(axis=0)) * inv_std
    return dx, (g * x_hat).sum(axis=0), g.sum(axis=0)


def running_stats_update(running_mean, running_var, x, momentum=0.1):
    """The running statistics after one training batch x (N, C): returns ``(new_mean, new_var)``.

    PyTorch's rule: running ← (1 − momentum)·running + momentum·batch statistic, where
    the batch variance used here is the *unbiased* one (divided by N − 1), although the
    forward normalises with the biased one. (minidl: ``minidl/nn/norm.py``.)
    """
    n = x.shape[0]
    mean = x.mean(axis=0)
    unbiased = ((x - mean) ** 2).sum(axis=0) / (n - 1)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * unbiased


# ---------------------------------------------------------------- grading

def _reference_forward(x, gamma, beta):
    return minidl.nn.functional.batch_norm(minidl.tensor(x), None, None, minidl.tensor(gamma), minidl.tensor(beta),
                                           training=True).numpy()


def _inputs(seed, n, channels):
    return random(seed, n, channels, low=-2, high=3), random(seed + 1, channels, low=0.5, high=2), \
        random(seed + 2, channels)


def _grade_batch_norm_forward(answer):
    for seed, (n, channels) in enumerate([(4, 3), (7, 2)]):
        x, gamma, beta = _inputs(seed, n, channels)
        compare(answer(x.copy(), gamma.copy(), beta.copy()), _reference_forward(x, gamma, beta),
                f"y for x of shape ({n}, {channels}) (F.batch_norm, training=True)",
                "normalise each column (channel) over the rows (the batch), with the variance divided by N")


def _grade_batch_norm_backward(answer):
    hint = "μ and σ² depend on every x: dL/dx = (ĝ − mean(ĝ) − x̂·mean(ĝx̂))/√(σ²+ε) with ĝ = γg, means per channel"
    for seed, (n, channels) in enumerate([(4, 3), (6, 2)]):
        x, gamma, beta = _inputs(seed, n, channels)
        g = random(seed + 3, n, channels)
        result = parts(answer(x.copy(), gamma.copy(), g.copy()), 3, "batch_norm_backward", hint)
        for index, (name, at) in enumerate([("dL/dx", 0), ("dL/dγ", 1), ("dL/dβ", 2)]):
            expected = numerical_gradient(batch_norm_forward, [x, gamma, beta], at, g)
            compare(result[index], expected, f"{name} for x of shape ({n}, {channels}) (by finite differences)", hint)


def _grade_running_stats_update(answer):
    hint = "running_var takes the unbiased batch variance (divide by N − 1), the mean takes the plain batch mean"
    layer = minidl.nn.BatchNorm1d(3, momentum=0.1, dtype=minidl.float64)
    mean, var = np.zeros(3), np.ones(3)
    for step in range(1, 3):
        x = random(step, 5, 3, low=-2, high=3)
        layer(minidl.tensor(x))
        mean, var = parts(answer(mean.copy(), var.copy(), x.copy(), 0.1), 2, f"running_stats_update at step {step}",
                          hint)
        compare(mean, layer.running_mean.numpy(), f"running_mean after batch {step} (nn.BatchNorm1d)", hint)
        compare(var, layer.running_var.numpy(), f"running_var after batch {step} (nn.BatchNorm1d)", hint)


EXERCISES = [
    Exercise(batch_norm_forward, _grade_batch_norm_forward, "x.mean(axis=0) and the mean of squares per channel"),
    Exercise(batch_norm_backward, _grade_batch_norm_backward, "return a tuple (dx, dgamma, dbeta)"),
    Exercise(running_stats_update, _grade_running_stats_update, "return a tuple (new_mean, new_var)"),
]
