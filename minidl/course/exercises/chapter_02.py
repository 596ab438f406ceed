"""Exercises of chapter 02, losses and training: the MSE and cross-entropy gradients, SGD with momentum, Adam."""

from __future__ import annotations

import numpy as np

import minidl
from minidl.course.exercises.grading import Exercise, compare, numerical_gradient, parts, random

TITLE = "Losses and training"
PREAMBLE = "import numpy as np"


def mse_grad(prediction, target):
    """dL/dŷ of the mean squared error L = (1/n) Σ (ŷ − y)², n = the number of elements.

    ``prediction`` (ŷ) and ``target`` (y) have the same shape; return an array of that
    shape. (minidl: ``F.mse_loss`` in ``minidl/ops/loss.py``, built from ops.)
    """
    return 2 * (prediction - target) / prediction.size


def cross_entropy_grad(logits, labels):
    """dL/dz of the mean cross-entropy L = −(1/N) Σₙ log softmax(zₙ)[yₙ].

    ``logits`` z is (N, C) float64, ``labels`` y is (N,) int64 class indices. The gradient
    is (softmax(z) − onehot(y)) / N, row by row; subtract each row's maximum before exp.
    (minidl: ``minidl/ops/loss.py``, ``CrossEntropyLabels.backward``.)
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def sgd_momentum_step(param, grad, buffer, lr, momentum):
    """One step of SGD with momentum, PyTorch's rule: returns ``(new_param, new_buffer)``.

    On the first step ``buffer`` is None and the buffer starts as a copy of the gradient;
    afterwards b ← μ·b + ∇. Then θ ← θ − lr·b. Return new arrays; do not change the
    arguments. (minidl: ``minidl/optim/sgd.py``, ``SGD._update``.)
    """
    buffer = grad.copy() if buffer is None else momentum * buffer + grad
    return param - lr * buffer, buffer


def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step at step number t = 1, 2, ...: returns ``(new_param, new_m, new_v)``.

        m ← β1·m + (1 − β1)·∇            v ← β2·v + (1 − β2)·∇²
        m̂ = m / (1 − β1ᵗ)                v̂ = v / (1 − β2ᵗ)
        θ ← θ − lr · m̂ / (√v̂ + ε)

    m and v start as zeros. Return new arrays; do not change the arguments.
    (minidl: ``minidl/optim/adam.py``, ``Adam._update``.)
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# ---------------------------------------------------------------- grading

def _mean_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels].mean()


def _grade_mse_grad(answer):
    for seed, shape in enumerate([(4, 3), (6,)]):
        prediction, target = random(seed, *shape), random(seed + 5, *shape)
        expected = numerical_gradient(lambda p, y: np.mean((p - y) ** 2), [prediction, target], 0, 1.0)
        compare(answer(prediction.copy(), target.copy()), expected,
                f"dL/dŷ for ŷ of shape {shape} (by finite differences)",
                "the derivative of (ŷ − y)² is 2(ŷ − y), and the mean divides by the number of elements")


def _grade_cross_entropy_grad(answer):
    for seed, (n, classes) in enumerate([(4, 3), (5, 7)]):
        logits = random(seed, n, classes, low=-3, high=3)
        labels = np.random.default_rng(seed).integers(0, classes, n)
        expected = numerical_gradient(lambda z: _mean_cross_entropy(z, labels), [logits], 0, 1.0)
        compare(answer(logits.copy(), labels.copy()), expected,
                f"dL/dz for N={n}, C={classes} (by finite differences)",
                "softmax of each row, minus 1 at the label's column, divided by the number of rows N")
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    compare(answer(big.copy(), np.array([0, 2])), numerical_gradient(
        lambda z: _mean_cross_entropy(z, np.array([0, 2])), [big], 0, 1.0, eps=1e-3),
        "dL/dz for logits as large as 1000", "subtract each row's maximum before np.exp, or it overflows")


def _minidl_steps(optimizer_class, grads, **options):
    """The parameter after each step of a minidl optimizer (float64), and its state."""
    param = minidl.tensor(np.linspace(-1.0, 1.0, grads[0].size).reshape(grads[0].shape), dtype=minidl.float64,
                          requires_grad=True)
    optimizer = optimizer_class([param], **options)
    history = []
    for grad in grads:
        param.grad = minidl.tensor(grad)
        optimizer.step()
        state = optimizer.state[0]  # keyed by the parameter's position, as in state_dict()
        history.append((param.detach().numpy().copy(), {key: np.array(value) for key, value in state.items()}))
    return history


def _grade_sgd_momentum_step(answer):
    hint = "first step: the buffer is a copy of the gradient; later b = μ·b + ∇; then θ − lr·b"
    grads = [random(seed, 2, 3) for seed in range(3)]
    history = _minidl_steps(minidl.optim.SGD, grads, lr=0.5, momentum=0.9)
    param, buffer = np.linspace(-1.0, 1.0, 6).reshape(2, 3), None
    for step, (grad, (expected, state)) in enumerate(zip(grads, history), start=1):
        param, buffer = parts(answer(param.copy(), grad.copy(), None if buffer is None else buffer.copy(), 0.5, 0.9),
                              2, f"sgd_momentum_step at step {step}", hint)
        compare(buffer, state["momentum_buffer"], f"the buffer after step {step} (minidl.optim.SGD)", hint)
        compare(param, expected, f"θ after step {step} (minidl.optim.SGD)", hint)


def _grade_adam_step(answer):
    hint = "bias-correct both moments, m̂ = m/(1 − β1ᵗ) and v̂ = v/(1 − β2ᵗ), and add ε after the square root"
    grads = [random(seed, 2, 3) for seed in range(3)]
    history = _minidl_steps(minidl.optim.Adam, grads, lr=0.1)
    param = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    m, v = np.zeros_like(param), np.zeros_like(param)
    for step, (grad, (expected, state)) in enumerate(zip(grads, history), start=1):
        param, m, v = parts(answer(param.copy(), grad.copy(), m.copy(), v.copy(), step, lr=0.1), 3,
                            f"adam_step at step {step}", hint)
        compare(m, state["exp_avg"], f"m after step {step} (minidl.optim.Adam)", hint)
        compare(v, state["exp_avg_sq"], f"v after step {step} (minidl.optim.Adam)", hint)
        compare(param, expected, f"θ after step {step} (minidl.optim.Adam)", hint, atol=1e-9)


EXERCISES = [
    Exercise(mse_grad, _grade_mse_grad, "2 * (prediction - target) / prediction.size"),
    Exercise(cross_entropy_grad, _grade_cross_entropy_grad,
             "a softmax per row (max subtracted), then p[rows, labels] -= 1"),
    Exercise(sgd_momentum_step, _grade_sgd_momentum_step, "return (param - lr * buffer, buffer)"),
    Exercise(adam_step, _grade_adam_step, "return a tuple (param, m, v) of new arrays"),
]
