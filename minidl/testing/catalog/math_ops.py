"""More math in the catalogue: inverse trigonometry, exp/log variants, rounding and remainders, the
ELU/hard/smooth activation families, robust losses (elementwise here), and products, statistics,
diagonals, rearranging and distances (in ``math_ops_products``, whose cases are added to these).

Value makers keep inputs inside each op's domain (asin and acos in (-0.9, 0.9), logs of positive
numbers) and away from its kinks and jumps (floor and trunc away from integers, round away from
halves, remainder away from whole multiples of the divisor, hardswish away from ±3 ...).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog import math_ops_products
from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import an_int_dim, away_from_zero, binary_case, unary_case, with_extremes
from minidl.testing.harness import (OpCase, avoiding, broadcastable, examples, functional, library, normal, positive,
                                    single)


# --- value makers ---------------------------------------------------------------------------------

def uniform(low, high):
    """Values drawn uniformly from [low, high)."""
    return lambda rng, shape: rng.uniform(low, high, shape)


def spread(scale, *kinks, gap=0.05):
    """Normal values times ``scale``, kept ``gap`` away from each kink (wide enough to reach every piece)."""
    near = avoiding(*(k / scale for k in kinks), gap=gap / scale)
    return lambda rng, shape: near(rng, shape) * scale


def off_integers(rng, shape):
    """Values in -3..3 at least 0.1 away from every integer (floor, ceil, trunc jump there)."""
    return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape)


def off_halves(rng, shape):
    """Values at least 0.1 away from every half-integer (round jumps there)."""
    return rng.integers(-3, 4, shape) + rng.uniform(-0.4, 0.4, shape)


def dividends(rng, shape):
    """Values a with a / b at least 0.05 away from every integer for each divisor b of ``divisors``."""
    return rng.integers(-6, 6, shape) * 0.5 + rng.uniform(0.1, 0.4, shape)


def divisors(rng, shape):
    """Divisors ±0.5 and ±2: exact in binary, so a / b is exact too."""
    return rng.choice([-2.0, -0.5, 0.5, 2.0], size=shape)


# --- references -------------------------------------------------------------------------------------

def erfinv(y):
    """erfinv by bisection on math.erf (60 halvings of [-6, 6])."""
    def one(value):
        low, high = -6.0, 6.0
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (middle, high) if math.erf(middle) < value else (low, middle)
        return (low + high) / 2
    return np.vectorize(one, otypes=[np.float64])(y)


def stable_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return np.where(x > 0, scale * x, scale * alpha * (np.exp(x * input_scale) - 1))


SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _reduction():
    return st.sampled_from(["mean", "sum", "none"])


ELEMENTWISE = [
    unary_case("tan", lambda x: x.tan(), np.tan, make=uniform(-1.2, 1.2)),
    unary_case("asin", lambda x: library(x).asin(x), np.arcsin, make=uniform(-0.9, 0.9)),
    unary_case("acos", lambda x: x.acos(), np.arccos, make=uniform(-0.9, 0.9)),
    unary_case("atan", lambda x: library(x).atan(x), np.arctan, make=spread(3.0)),
    binary_case("atan2", lambda y, x: library(y).atan2(y, x), np.arctan2, make=(avoiding(0), normal)),
    binary_case("atan2_method", lambda y, x: y.atan2(x), np.arctan2, make=(normal, avoiding(0))),
    unary_case("erf", lambda x: x.erf(), ref.erf, make=spread(2.0)),
    unary_case("erf_functional", lambda x: library(x).erf(x), ref.erf, make=with_extremes),
    unary_case("erfinv", lambda x: library(x).erfinv(x), erfinv, make=uniform(-0.9, 0.9)),
    unary_case("expm1", lambda x: x.expm1(), lambda x: np.exp(x) - 1),
    unary_case("expm1_near_zero", lambda x: (x * 1e-6).expm1() * 1e6, lambda x: np.expm1(x * 1e-6) * 1e6),
    unary_case("log1p", lambda x: library(x).log1p(x), lambda x: np.log(1 + x), make=uniform(-0.5, 2.0)),
    unary_case("log2", lambda x: x.log2(), lambda x: np.log(x) / np.log(2), make=positive),
    unary_case("log10", lambda x: library(x).log10(x), lambda x: np.log(x) / np.log(10), make=positive),
    unary_case("exp2", lambda x: x.exp2(), lambda x: 2.0 ** x),
    unary_case("rsqrt", lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), make=positive),
    unary_case("reciprocal", lambda x: library(x).reciprocal(x), lambda x: 1 / x, make=away_from_zero),
    unary_case("square", lambda x: x.square(), lambda x: x * x),
    binary_case("logaddexp", lambda x, y: x.logaddexp(y), lambda x, y: np.log(np.exp(x) + np.exp(y))),
    binary_case("logaddexp_large", lambda x, y: library(x).logaddexp(x, y), np.logaddexp,
                make=(with_extremes, with_extremes)),
    binary_case("lerp_scalar_weight", lambda a, b: a.lerp(b, 0.3), lambda a, b: a + 0.3 * (b - a)),
    binary_case("lerp_tensor_weight", lambda a, b, w: library(a).lerp(a, b, w), lambda a, b, w: a + w * (b - a),
                count=3),
    unary_case("clamp_min_method", lambda x: x.clamp_min(-0.5), lambda x: np.maximum(x, -0.5), make=avoiding(-0.5)),
    unary_case("clamp_max_function", lambda x: library(x).clamp_max(x, 0.3), lambda x: np.minimum(x, 0.3),
               make=avoiding(0.3)),
]

ROUNDING = [
    unary_case("sign", lambda x: x.sign(), lambda x: np.where(x > 0, 1.0, -1.0), make=avoiding(0)),
    unary_case("floor", lambda x: library(x).floor(x), lambda x: x - np.mod(x, 1), make=off_integers),
    unary_case("ceil", lambda x: x.ceil(), lambda x: x - np.mod(x, 1) + 1, make=off_integers),
    unary_case("trunc", lambda x: x.trunc(), lambda x: np.sign(x) * (np.abs(x) - np.mod(np.abs(x), 1)),
               make=off_integers),
    unary_case("round", lambda x: library(x).round(x), lambda x: np.floor(x + 0.5), make=off_halves),
    unary_case("round_decimals", lambda x: x.round(decimals=1), lambda x: np.floor(x * 10 + 0.5) / 10,
               make=lambda rng, shape: off_halves(rng, shape) / 10),
    binary_case("remainder", lambda a, b: a % b, lambda a, b: a - b * np.floor(a / b), make=(dividends, divisors)),
    binary_case("remainder_functional", lambda a, b: library(a).remainder(a, b), lambda a, b: a - b * np.floor(a / b),
                make=(dividends, divisors)),
    binary_case("fmod", lambda a, b: a.fmod(b), lambda a, b: a - b * np.trunc(a / b), make=(dividends, divisors)),
    OpCase("floor_divide", lambda a, b: a // b, lambda a, b: np.floor(a / b), examples(broadcastable(2)),
           make=(dividends, divisors), differentiable=False),
]

ACTIVATIONS = [
    unary_case("elu", lambda x: functional(x).elu(x), elu, make=avoiding(0)),
    unary_case("elu_alpha", lambda x: functional(x).elu(x, alpha=0.5), lambda x: elu(x, 0.5), make=avoiding(0)),
    unary_case("celu", lambda x: functional(x).celu(x, alpha=2.0), lambda x: elu(x, 2.0, 1.0, 0.5), make=avoiding(0)),
    unary_case("selu", lambda x: functional(x).selu(x), lambda x: elu(x, *SELU), make=avoiding(0)),
    unary_case("hardtanh", lambda x: functional(x).hardtanh(x, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5),
               make=avoiding(-0.5, 1.5)),
    unary_case("relu6", lambda x: functional(x).relu6(x), lambda x: np.minimum(np.maximum(x, 0), 6),
               make=spread(4.0, 0, 6)),
    unary_case("hardsigmoid", lambda x: functional(x).hardsigmoid(x), lambda x: np.clip(x / 6 + 0.5, 0, 1),
               make=spread(3.0, -3, 3)),
    unary_case("hardswish", lambda x: functional(x).hardswish(x), lambda x: x * np.clip(x + 3, 0, 6) / 6,
               make=spread(3.0, -3, 3)),
    unary_case("logsigmoid", lambda x: functional(x).logsigmoid(x), lambda x: -stable_softplus(-x),
               make=with_extremes),
    unary_case("softplus", lambda x: functional(x).softplus(x), stable_softplus, make=spread(3.0)),
    unary_case("softplus_beta_threshold", lambda x: functional(x).softplus(x, beta=2.0, threshold=3.0),
               lambda x: np.where(2 * x > 3, x, stable_softplus(2 * x) / 2), make=spread(2.0, 1.5)),
    unary_case("mish", lambda x: functional(x).mish(x), lambda x: x * np.tanh(stable_softplus(x)), make=spread(2.0)),
    unary_case("softsign", lambda x: functional(x).softsign(x), lambda x: x / (1 + np.abs(x)), make=avoiding(0)),
    unary_case("tanhshrink", lambda x: functional(x).tanhshrink(x), lambda x: x - np.tanh(x)),
    OpCase("glu", lambda x, dim: functional(x).glu(x, dim),
           lambda x, dim: np.split(x, 2, dim)[0] / (1 + np.exp(-np.split(x, 2, dim)[1])),
           examples(single(min_dims=1).map(lambda s: (s[0][:-1] + (2 * s[0][-1],),)),
                    lambda s: st.sampled_from([-1, len(s[0]) - 1]).map(lambda d: {"dim": d}))),
    OpCase("softmin", lambda x, dim: functional(x).softmin(x, dim), lambda x, dim: ref.softmax(-x, dim),
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))}))),
    OpCase("prelu_per_channel", lambda x, w: functional(x).prelu(x, w),
           lambda x, w: np.where(x > 0, x, w.reshape((-1,) + (1,) * (x.ndim - 2)) * x),
           examples(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(0, 2)).map(
               lambda s: ((s[0], s[1]) + (2,) * s[2], (s[1],)))), make=(avoiding(0), uniform(0.05, 0.5))),
    OpCase("prelu_one_slope", lambda x, w: functional(x).prelu(x, w), lambda x, w: np.where(x > 0, x, w[0] * x),
           examples(single().map(lambda s: (s[0], (1,)))), make=(avoiding(0), uniform(0.05, 0.5))),
]

LOSSES = [
    OpCase("smooth_l1_loss", lambda x, y, **p: functional(x).smooth_l1_loss(x, y, **p),
           lambda x, y, beta, reduction: ref.reduced_loss(huber(x - y, beta) / beta, reduction),
           examples(single().map(lambda s: (s[0], s[0])), lambda s: st.fixed_dictionaries(
               {"beta": st.sampled_from([0.5, 1.0, 2.0]), "reduction": _reduction()}))),
    OpCase("smooth_l1_loss_beta_0", lambda x, y: functional(x).smooth_l1_loss(x, y, beta=0.0),
           lambda x, y: np.mean(np.abs(x - y)), examples(single().map(lambda s: (s[0], s[0])))),
    OpCase("huber_loss", lambda x, y, **p: functional(x).huber_loss(x, y, **p),
           lambda x, y, delta, reduction: ref.reduced_loss(huber(x - y, delta), reduction),
           examples(single().map(lambda s: (s[0], s[0])), lambda s: st.fixed_dictionaries(
               {"delta": st.sampled_from([0.5, 1.0, 2.0]), "reduction": _reduction()}))),
    OpCase("huber_loss_weight", lambda x, y, w: functional(x).huber_loss(x, y, delta=0.7, weight=w),
           lambda x, y, w: np.mean(huber(x - y, 0.7) * w), examples(single().map(lambda s: (s[0], s[0], s[0]))),
           make=(normal, normal, positive)),
]

CASES = ELEMENTWISE + ROUNDING + ACTIVATIONS + LOSSES + math_ops_products.CASES
