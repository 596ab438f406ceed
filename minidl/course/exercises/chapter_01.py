"""Exercises of chapter 01, neural networks and autograd: the activations' backward, the dense layer's backward."""

from __future__ import annotations

import numpy as np

from minidl.course.exercises.grading import Exercise, compare, numerical_gradient, parts, random

TITLE = "Neural networks and autograd"
PREAMBLE = "import numpy as np"


def sigmoid_backward(x, g):
    """dL/dx for y = σ(x) = 1 / (1 + e⁻ˣ), element by element, given g = dL/dy.

    Use σ'(x) = σ(x)·(1 − σ(x)). (minidl: ``minidl/ops/activation.py``, ``Sigmoid.backward``.)
    """
    s = 1 / (1 + np.exp(-x))
    return g * s * (1 - s)


def tanh_backward(x, g):
    """dL/dx for y = tanh(x), element by element, given g = dL/dy.

    Use tanh'(x) = 1 − tanh²(x). (minidl: ``minidl/ops/activation.py``, ``Tanh.backward``.)
    """
    t = np.tanh(x)
    return g * (1 - t * t)


def linear_backward(x, weight, g):
    """The gradients ``(dL/dx, dL/dW, dL/db)`` of the dense layer z = x Wᵀ + b, given g = dL/dz.

    Shapes as in PyTorch's ``nn.Linear``: x is (N, in), W is (out, in), b is (out,), z and g
    are (N, out). Row n of z is W aₙ + b, the book's z = W a + b for one example. Each
    gradient has the shape of its own input: dL/dx = g W, dL/dW = gᵀ x (the book's
    δ aᵀ summed over the batch), dL/db = g summed over the batch.
    (minidl: ``minidl/ops/linalg.py``, ``Linear.backward``.)
    """
    return g @ weight, g.T @ x, g.sum(axis=0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _grade_activation(answer, forward, name, hint):
    for seed, shape in enumerate([(4, 4), (2, 3, 5)]):
        x, g = random(seed, *shape, low=-4, high=4), random(seed + 7, *shape)
        compare(answer(x.copy(), g.copy()), numerical_gradient(forward, [x], 0, g),
                f"dL/dx of {name} for x of shape {shape} (by finite differences)", hint)


def _grade_sigmoid_backward(answer):
    _grade_activation(answer, _sigmoid, "sigmoid", "σ'(x) = σ(x)(1 − σ(x)) with σ(x) = 1/(1 + e⁻ˣ), times g")


def _grade_tanh_backward(answer):
    _grade_activation(answer, np.tanh, "tanh", "tanh'(x) = 1 − tanh(x)², times g")


def _grade_linear_backward(answer):
    hint = ("dL/dx = g W, dL/dW = gᵀ x, dL/db = Σₙ g: check which factor is transposed (with N = in = out "
            "a missing transpose still gives the right shape)")
    for seed, (n, inputs, outputs) in enumerate([(3, 3, 3), (5, 4, 2)]):  # square first: a slip shows in values
        x, weight, bias, g = random(seed, n, inputs), random(seed + 1, outputs, inputs), random(seed + 2, outputs), \
            random(seed + 3, n, outputs)
        result = parts(answer(x.copy(), weight.copy(), g.copy()), 3, f"linear_backward for N={n}, in={inputs}, "
                       f"out={outputs}", hint)
        for index, name in enumerate(("dL/dx", "dL/dW", "dL/db")):
            expected = numerical_gradient(lambda a, w, b: a @ w.T + b, [x, weight, bias], index, g)
            compare(result[index], expected, f"{name} for N={n}, in={inputs}, out={outputs} (by finite differences)",
                    hint)


EXERCISES = [
    Exercise(sigmoid_backward, _grade_sigmoid_backward, "compute s = 1/(1 + np.exp(-x)) first, then g * s * (1 - s)"),
    Exercise(tanh_backward, _grade_tanh_backward, "compute t = np.tanh(x) first, then g * (1 - t**2)"),
    Exercise(linear_backward, _grade_linear_backward, "return a tuple of three arrays: g @ W, g.T @ x, g.sum(axis=0)"),
]
