"""Elementwise ops in the catalogue: arithmetic, activations, casts, comparisons."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import (an_int_dim, away_from_zero, binary_case, coin, reduce_dims, shifted,
                                               small_integers,
                                               unary_case, wide,
                                               with_extremes,
                                               with_specials)
from minidl.testing.harness import (OpCase, avoiding, broadcastable, dim_of, distinct, examples,


                                    functional, library, normal, positive, single)

ARITHMETIC = [
    binary_case("add", lambda x, y: x + y, lambda x, y: x + y),
    binary_case("add_alpha", lambda x, y: x.add(y, alpha=2.5), lambda x, y: x + 2.5 * y),
    binary_case("sub", lambda x, y: x - y, lambda x, y: x - y),
    binary_case("sub_functional", lambda x, y: minidl.sub(x, y), lambda x, y: x - y, lambda x, y: x.sub(y)),
    binary_case("mul", lambda x, y: x * y, lambda x, y: x * y),
    binary_case("div", lambda x, y: x / y, lambda x, y: x / y, make=(normal, positive)),
    binary_case("div_signed_denominator", lambda x, y: x.div(y), lambda x, y: x / y,
            make=(normal, away_from_zero)),
    unary_case("neg", lambda x: -x, lambda x: -x),
    unary_case("neg_method", lambda x: x.neg(), lambda x: -x),
    unary_case("pow_2", lambda x: x ** 2, lambda x: x * x),
    unary_case("pow_3", lambda x: x ** 3, lambda x: x * x * x),
    unary_case("pow_0.5", lambda x: x ** 0.5, lambda x: np.sqrt(x), make=positive),
    unary_case("pow_-1.5", lambda x: x.pow(-1.5), lambda x: 1.0 / (x * np.sqrt(x)), make=positive),
    binary_case("pow_tensor_tensor", lambda x, y: x ** y, lambda x, y: np.exp(y * np.log(x)),
            make=(positive, normal)),
    unary_case("rpow_scalar_base", lambda x: 2 ** x, lambda x: np.exp(x * math.log(2.0))),
    unary_case("mul_scalar", lambda x: x * 2.0, lambda x: x + x),
    unary_case("rmul_scalar", lambda x: 2.0 * x, lambda x: x + x),
    unary_case("radd_scalar", lambda x: 1.5 + x, lambda x: x + 1.5),
    unary_case("sub_scalar", lambda x: x - 0.5, lambda x: x - 0.5),
    unary_case("rsub_scalar", lambda x: 3 - x, lambda x: 3.0 - x),
    unary_case("div_scalar", lambda x: x / 4.0, lambda x: x * 0.25),
    unary_case("rdiv_scalar", lambda x: 1 / x, lambda x: np.reciprocal(x), make=away_from_zero),
    unary_case("exp", lambda x: x.exp(), np.exp),
    unary_case("sin", lambda x: library(x).sin(x), np.sin),
    unary_case("silu", lambda x: functional(x).silu(x), lambda x: x / (1 + np.exp(-x))),
    unary_case("cos", lambda x: x.cos(), np.cos),
    unary_case("sinh", lambda x: x.sinh(), np.sinh),
    unary_case("cosh", lambda x: library(x).cosh(x), np.cosh),
    unary_case("exp_functional", lambda x: minidl.exp(x), np.exp, torch_fn=lambda x: x.exp()),
    unary_case("log", lambda x: x.log(), np.log, make=positive),
    unary_case("sqrt", lambda x: x.sqrt(), np.sqrt, make=positive),
    unary_case("abs", lambda x: x.abs(), lambda x: np.where(x < 0, -x, x), make=avoiding(0)),
    unary_case("abs_builtin", lambda x: abs(x), lambda x: np.where(x < 0, -x, x), make=avoiding(0)),
    unary_case("clamp_min", lambda x: x.clamp(min=-0.5), lambda x: np.where(x < -0.5, -0.5, x),
           make=avoiding(-0.5)),
    unary_case("clamp_max", lambda x: x.clamp(max=0.3), lambda x: np.where(x > 0.3, 0.3, x), make=avoiding(0.3)),
    unary_case("clamp_both", lambda x: x.clamp(-0.5, 0.3), lambda x: np.minimum(np.maximum(x, -0.5), 0.3),
           make=avoiding(-0.5, 0.3)),
    unary_case("clamp_functional", lambda x: minidl.clamp(x, min=-1.0, max=1.0),
           lambda x: np.where(x < -1, -1.0, np.where(x > 1, 1.0, x)), torch_fn=lambda x: x.clamp(-1.0, 1.0),
           make=avoiding(-1, 1)),
    binary_case("maximum", lambda x, y: x.maximum(y), lambda x, y: np.where(x > y, x, y),
            make=(distinct, shifted(distinct, 0.025))),
    binary_case("minimum", lambda x, y: minidl.minimum(x, y), lambda x, y: np.where(x < y, x, y),
            lambda x, y: x.minimum(y), make=(distinct, shifted(distinct, 0.025))),
    binary_case("max_of_two_tensors", lambda x, y: library(x).max(x, y), lambda x, y: np.where(x > y, x, y), make=(distinct, shifted(distinct, 0.025))),
    OpCase("where", lambda c, x, y: library(c).where(c.bool(), x, y), lambda c, x, y: np.where(c != 0, x, y),
           examples(broadcastable(3)), make=(coin, normal, normal), grad_inputs=(1, 2)),
    OpCase("where_scalar_other", lambda c, x: library(c).where(c > 0, x, 0.0), lambda c, x: np.where(c > 0, x, 0.0),
           examples(broadcastable(2)), grad_inputs=(1,)),
    OpCase("scalar_ops", lambda x: (x * 2.0, 3 - x, 1.5 / x, x + 1), lambda x: (x * 2, 3 - x, 1.5 / x, x + 1),
           examples(single()), make=positive),
    OpCase("pow_scalar", lambda x, p: x ** p, lambda x, p: x ** p,
           examples(single(), lambda s: st.fixed_dictionaries({"p": st.sampled_from([2, 3, 0.5, -1.5])})),
           make=positive),
    OpCase("pow_tensor", lambda x, y: x ** y, np.power, examples(broadcastable(2)), make=(positive, avoiding())),
    OpCase("rpow", lambda x: 2 ** x, lambda x: 2.0 ** x, examples(single())),
    OpCase("clamp", lambda x, lo, hi: x.clamp(lo, hi), lambda x, lo, hi: np.clip(x, lo, hi),
           examples(single(), lambda s: st.sampled_from([{"lo": -0.5, "hi": 0.5}, {"lo": -0.5, "hi": None},
                                                        {"lo": None, "hi": 0.3}])),
           make=avoiding(-0.5, 0.5, 0.3)),
]

ACTIVATIONS = [
    unary_case("sigmoid", lambda x: x.sigmoid(), lambda x: 1.0 / (1.0 + np.exp(-x))),
    unary_case("sigmoid_large_values", lambda x: F.sigmoid(x), ref.stable_sigmoid, torch_fn=lambda x: x.sigmoid(),
           make=with_extremes),
    unary_case("relu", lambda x: x.relu(), lambda x: np.where(x > 0, x, 0.0), make=avoiding(0)),
    unary_case("relu_functional", lambda x: functional(x).relu(x), lambda x: np.where(x > 0, x, 0.0), make=avoiding(0)),
    unary_case("tanh", lambda x: x.tanh(), lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))),
    unary_case("tanh_functional", lambda x: minidl.tanh(x), np.tanh, torch_fn=lambda x: x.tanh(),
           make=with_extremes),
    unary_case("gelu", lambda x: functional(x).gelu(x), ref.gelu),
    unary_case("gelu_tanh", lambda x: functional(x).gelu(x, approximate="tanh"), ref.gelu_tanh),
    unary_case("leaky_relu_default", lambda x: functional(x).leaky_relu(x), lambda x: np.where(x > 0, x, 0.01 * x), make=avoiding(0)),
    unary_case("leaky_relu_slope", lambda x: functional(x).leaky_relu(x, negative_slope=0.2), lambda x: np.where(x > 0, x, 0.2 * x), make=avoiding(0)),
    OpCase("softmax", lambda x, dim: x.softmax(dim), ref.softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))}))),
    OpCase("softmax_functional_wide_values", lambda x, dim: functional(x).softmax(x, dim=dim), ref.softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           make=wide),
    OpCase("softmax_axis_alias", lambda x, dim: minidl.softmax(x, axis=dim), ref.softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           torch_fn=lambda x, dim: x.softmax(dim)),
    OpCase("log_softmax", lambda x, dim: x.log_softmax(dim=dim), ref.log_softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))}))),
    OpCase("log_softmax_functional_wide_values", lambda x, dim: functional(x).log_softmax(x, dim), ref.log_softmax,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})),
           make=wide),
    OpCase("sigmoid_extreme", lambda x: (x * 50).sigmoid(), lambda x: 1 / (1 + np.exp(-50 * x)), examples(single()),
           make=avoiding(0, gap=0.3)),
    OpCase("leaky_relu", lambda x: functional(x).leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), examples(single()),
           make=avoiding(0)),
]

CASTS = [
    unary_case("double_noop", lambda x: x.double().to(x.dtype), lambda x: x),
    unary_case("to_float64_noop", lambda x: x.to(library(x).float64).to(x.dtype), lambda x: x),
    unary_case("float_round_trip", lambda x: x.float().to(x.dtype), lambda x: x.astype(np.float32).astype(np.float64), differentiable=False),
    unary_case("clone", lambda x: x.clone(), lambda x: x.copy()),
    unary_case("clone_functional", lambda x: minidl.clone(x) * 1.0, lambda x: x.copy(),
           torch_fn=lambda x: x.clone() * 1.0),
]


def _comparison(name, fn, reference):
    return OpCase(name, fn, reference, examples(broadcastable(2)), make=small_integers, torch_fn=fn,
                  differentiable=False)


NON_DIFFERENTIABLE = [
    _comparison("eq", lambda x, y: x == y, np.equal),
    _comparison("ne", lambda x, y: x != y, np.not_equal),
    _comparison("lt", lambda x, y: x < y, np.less),
    _comparison("le", lambda x, y: x.le(y), np.less_equal),
    _comparison("gt", lambda x, y: x > y, np.greater),
    _comparison("ge", lambda x, y: x >= y, np.greater_equal),
    unary_case("gt_scalar", lambda x: x > 0.5, lambda x: x > 0.5, make=small_integers, differentiable=False),
    unary_case("eq_scalar", lambda x: x == 1, lambda x: x == 1, make=small_integers, differentiable=False),
    OpCase("argmax", lambda x, dim, keepdim: x.argmax(dim=dim, keepdim=keepdim),
           lambda x, dim, keepdim: ref.extreme_along(x, dim, keepdim, True)[1],
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, differentiable=False),
    OpCase("argmin", lambda x, dim, keepdim: minidl.argmin(x, dim, keepdim),
           lambda x, dim, keepdim: ref.extreme_along(x, dim, keepdim, False)[1],
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: x.argmin(dim, keepdim), differentiable=False),
    OpCase("argmax_flat", lambda x: x.argmax(), lambda x: np.argmax(x), examples(single()), make=distinct, differentiable=False),
    unary_case("isnan", lambda x: x.isnan(), np.isnan, make=with_specials, differentiable=False),
    unary_case("isfinite", lambda x: minidl.isfinite(x), np.isfinite, torch_fn=lambda x: x.isfinite(),
           make=with_specials, differentiable=False),
    OpCase("clone_to", lambda x: (x.clone(), x.to(x.dtype), x.to("cpu").to(x.device)), lambda x: (x, x, x),
           examples(single()), torch_fn=lambda x: (x.clone(), x.to(x.dtype), x.to("cpu"))),
    OpCase("comparisons", lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y),
           lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y), examples(broadcastable(2)),
           make=distinct, differentiable=False),
    OpCase("argmax_argmin", lambda x, dim, keepdim: (x.argmax(dim, keepdim), x.argmin(dim, keepdim)),
           lambda x, dim, keepdim: (x.argmax(dim, keepdims=keepdim), x.argmin(dim, keepdims=keepdim)),
           examples(single(min_dims=1), lambda s: dim_of(s)), make=distinct, differentiable=False),
    OpCase("isnan_isfinite", lambda x: (x.log().isnan(), x.log().isfinite()),
           lambda x: (np.isnan(np.log(x)), np.isfinite(np.log(x))), examples(single()), differentiable=False),
]

CASES = ARITHMETIC + ACTIVATIONS + CASTS + NON_DIFFERENTIABLE
