"""The activations' ``inplace=True`` forms in the catalogue: each writes into a non-leaf copy of the
input (``x * 1.0``: a leaf that requires grad is refused, as in PyTorch) and must give the values and
gradients of the out-of-place form. The dropouts' in-place forms are random: they are compared with
their out-of-place forms under one seed in tests/nn/test_inplace_arguments.py.
"""

from __future__ import annotations

import numpy as np

from minidl.testing.catalog.math_ops import SELU, elu, spread, stable_softplus
from minidl.testing.catalog.strategies import unary_case
from minidl.testing.harness import avoiding, functional


def in_place(name, *args, **options):
    """``name(x * 1.0, *args, inplace=True, **options)`` from the functional module of x's library."""
    return lambda x: getattr(functional(x), name)(x * 1.0, *args, inplace=True, **options)


CASES = [
    unary_case("relu_inplace", in_place("relu"), lambda x: np.where(x > 0, x, 0.0), make=avoiding(0)),
    unary_case("leaky_relu_inplace", in_place("leaky_relu", 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
               make=avoiding(0)),
    unary_case("silu_inplace", in_place("silu"), lambda x: x / (1 + np.exp(-x))),
    unary_case("elu_inplace", in_place("elu", 0.5), lambda x: elu(x, 0.5), make=avoiding(0)),
    unary_case("selu_inplace", in_place("selu"), lambda x: elu(x, *SELU), make=avoiding(0)),
    unary_case("celu_inplace", in_place("celu", 2.0), lambda x: elu(x, 2.0, 1.0, 0.5), make=avoiding(0)),
    unary_case("hardtanh_inplace", in_place("hardtanh", -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5),
               make=avoiding(-0.5, 1.5)),
    unary_case("relu6_inplace", in_place("relu6"), lambda x: np.clip(x, 0, 6), make=spread(4.0, 0, 6)),
    unary_case("hardsigmoid_inplace", in_place("hardsigmoid"), lambda x: np.clip(x / 6 + 0.5, 0, 1),
               make=spread(3.0, -3, 3)),
    unary_case("hardswish_inplace", in_place("hardswish"), lambda x: x * np.clip(x + 3, 0, 6) / 6,
               make=spread(3.0, -3, 3)),
    unary_case("mish_inplace", in_place("mish"), lambda x: x * np.tanh(stable_softplus(x)), make=spread(2.0)),
    unary_case("threshold_inplace", in_place("threshold", 0.5, -1.0), lambda x: np.where(x > 0.5, x, -1.0),
               make=avoiding(0.5)),
    unary_case("rrelu_eval_inplace", in_place("rrelu", 0.1, 0.3), lambda x: np.where(x >= 0, x, 0.2 * x),
               make=avoiding(0)),
]
