"""Inverse hyperbolic functions, logaddexp2, ldexp, scatter_reduce and the index writes index_put/put in
the catalogue (their NumPy aliases, arccosh and the like, are called through some of the cases).

Values keep inside each domain (acosh above 1, atanh inside (-1, 1)); scatter_reduce's values are
``distinct`` so that amax and amin never meet a tie (their gradient jumps there); the index writes
that overwrite use distinct places (which value lands on a repeated place is unspecified).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog.math_ops import uniform
from minidl.testing.catalog.strategies import binary_case, drawn_together, hnp_shape, scatter_examples, unary_case
from minidl.testing.harness import OpCase, distinct, library

SCATTER_REDUCTIONS = ("sum", "mean", "amax", "amin")


def _index(x, values):
    """Index values as an int64 tensor of x's framework, on x's device."""
    return library(x).tensor(values, device=x.device)


def scatter_reduce_reference(x, src, dim, index, reduce, include_self):
    """Each place gets the sum, mean, max or min of the src values sent there (and of its own value)."""
    index, out, arrivals = np.asarray(index), x.copy(), {}
    for where in np.ndindex(index.shape):
        place = list(where)
        place[dim] = index[where]
        arrivals.setdefault(tuple(place), []).append(src[where])
    combine = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
    for place, values in arrivals.items():
        out[place] = combine(([x[place]] if include_self else []) + values)
    return out


def _with_reduction(example):
    """A scatter example with ``reduce`` and ``include_self`` drawn too."""
    return st.tuples(st.sampled_from(SCATTER_REDUCTIONS), st.booleans()).map(lambda choice: type(example)(
        example.shapes, {**example.params, "reduce": choice[0], "include_self": choice[1]}, example.seed,
        example.noncontiguous))


@st.composite
def _row_writes(draw, accumulate):
    """An input shape, rows to write (repeated only when accumulating) and the values' shape."""
    shape = draw(hnp_shape(min_dims=1))
    count = draw(st.integers(1, 4 if accumulate else shape[0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    rows = rng.integers(-shape[0], shape[0], count) if accumulate else rng.permutation(shape[0])[:count]
    return (shape, (count,) + tuple(shape[1:])), {"rows": rows.tolist(), "accumulate": accumulate}


@st.composite
def _flat_writes(draw, accumulate):
    """An input shape, flat positions to write (negative too; repeated only when accumulating)."""
    shape = draw(hnp_shape(min_dims=0))
    size = int(np.prod(shape, dtype=np.int64))
    count = draw(st.integers(1, 4 if accumulate else size))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    places = rng.integers(0, size, count) if accumulate else rng.permutation(size)[:count]
    places = np.where(rng.random(count) < 0.3, places - size, places)
    return (shape, (count,)), {"index": places.tolist(), "accumulate": accumulate}


def index_put_reference(x, values, rows, accumulate):
    out = x.copy()
    if accumulate:
        np.add.at(out, np.asarray(rows), values)
    else:
        out[np.asarray(rows)] = values
    return out


def put_reference(x, source, index, accumulate):
    out = x.copy().reshape(-1)
    if accumulate:
        np.add.at(out, np.asarray(index), source)
    else:
        out[np.asarray(index)] = source
    return out.reshape(x.shape)


CASES = [
    unary_case("acosh", lambda x: x.acosh(), np.arccosh, make=uniform(1.2, 3.0)),
    unary_case("arccosh_functional", lambda x: library(x).arccosh(x), np.arccosh, make=uniform(1.2, 3.0)),
    unary_case("asinh", lambda x: library(x).asinh(x), np.arcsinh, make=uniform(-3.0, 3.0)),
    unary_case("arcsinh_method", lambda x: x.arcsinh(), np.arcsinh),
    unary_case("atanh", lambda x: x.atanh(), np.arctanh, make=uniform(-0.8, 0.8)),
    unary_case("arctanh_functional", lambda x: library(x).arctanh(x), np.arctanh, make=uniform(-0.8, 0.8)),
    binary_case("logaddexp2", lambda x, y: x.logaddexp2(y), np.logaddexp2),
    binary_case("logaddexp2_large", lambda x, y: library(x).logaddexp2(x, y), np.logaddexp2,
                make=uniform(-60.0, 60.0)),
    binary_case("ldexp", lambda x, y: library(x).ldexp(x, y), lambda x, y: x * 2.0 ** y),
    OpCase("scatter_reduce", lambda x, src, dim, index, reduce, include_self: x.scatter_reduce(
        dim, _index(x, index), src, reduce, include_self=include_self),
        lambda x, src, dim, index, reduce, include_self: scatter_reduce_reference(
            x, src, dim % x.ndim, index, reduce, include_self),
        scatter_examples(True).flatmap(_with_reduction), make=distinct),
    OpCase("scatter_reduce_functional", lambda x, src, dim, index: library(x).scatter_reduce(
        x, dim, _index(x, index), src, "amax"),
        lambda x, src, dim, index: scatter_reduce_reference(x, src, dim % x.ndim, index, "amax", True),
        scatter_examples(True), make=distinct),
    OpCase("index_put", lambda x, values, rows, accumulate: library(x).index_put(
        x, (_index(x, rows),), values, accumulate), index_put_reference, drawn_together(
            st.booleans().flatmap(_row_writes))),
    OpCase("put", lambda x, source, index, accumulate: x.put(_index(x, index), source, accumulate),
           put_reference, drawn_together(st.booleans().flatmap(_flat_writes))),
]
