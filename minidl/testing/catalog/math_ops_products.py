"""Products, statistics, diagonals, rearranging and distances in the catalogue (part of ``math_ops``).

Products of elements are drawn with exact zeros among the values (``with_zeros``): their gradient
is the product of the other elements, which must come out right there too.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import (a_dim, an_int_dim, drawn_together, hnp_shape, matmul_shapes,
                                               reduce_dims, std_shapes, var_params, with_specials)
from minidl.testing.harness import OpCase, broadcastable, distinct, examples, functional, library, single

_side = st.integers(1, 4)


def with_zeros(rng, shape):
    """Normal values with about a third of them exactly 0."""
    return np.where(rng.random(shape) < 0.35, 0.0, rng.standard_normal(shape))


def _on_device(like, values, dtype=None):
    """``values`` (nested lists) as a tensor of ``like``'s framework and device."""
    return library(like).tensor(values, dtype=dtype, device=like.device)


def lower_median(x, dim=None, keepdim=False):
    """(values, indices) of the value at position ⌊(n-1)/2⌋ of each sorted row."""
    if dim is None:
        return np.sort(x.reshape(-1))[(x.size - 1) // 2]
    order = np.argsort(x, axis=dim, kind="stable")
    index = np.take(order, [(x.shape[dim] - 1) // 2], axis=dim)
    values = np.take_along_axis(x, index, axis=dim)
    return (values, index) if keepdim else (values.squeeze(dim), index.squeeze(dim))


def _prod_reference(x, dim, keepdim):
    return np.prod(x) if dim is None else np.prod(x, axis=ref.np_dim(dim, x.ndim), keepdims=keepdim)


def _cosine(x, y, dim):
    return np.sum(x * y, axis=dim) / np.sqrt(np.sum(x * x, axis=dim) * np.sum(y * y, axis=dim))


def _epsilon_cosine(x, y, epsilon=1e-12):
    """The cosine of cosine_embedding_loss (as PyTorch's): ε added to each squared norm, so near-zero
    rows give slightly less than ±1."""
    return np.sum(x * y, 1) / np.sqrt((np.sum(x * x, 1) + epsilon) * (np.sum(y * y, 1) + epsilon))


def _cdist_reference(x, y, p):
    difference = np.abs(x[..., :, None, :] - y[..., None, :, :])
    return np.max(difference, axis=-1) if p == np.inf else np.sum(difference ** p, axis=-1) ** (1 / p)


@st.composite
def _cross_shapes(draw):
    """Two broadcastable shapes of one length with a dim of 3 in both, and that dim (negative too)."""
    first, second = draw(broadcastable(2, min_dims=1))
    ndim = max(len(first), len(second))
    d = draw(st.integers(-ndim, -1))
    first, second = [1] * (ndim - len(first)) + list(first), [1] * (ndim - len(second)) + list(second)
    first[d], second[d] = 3, 3
    return (tuple(first), tuple(second)), {"dim": draw(st.sampled_from([d, d + ndim]))}


@st.composite
def _mask_examples(draw):
    """An input shape and a bool mask (nested lists) whose shape broadcasts with it."""
    shape, mask_shape = draw(broadcastable(2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return (shape,), {"mask": (rng.random(mask_shape) < 0.5).tolist()}


@st.composite
def _take_examples(draw):
    """An input shape, indices whose other dims broadcast with it (negative too, when along a dim), and dim
    (or None)."""
    shape = draw(hnp_shape(min_dims=1))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if draw(st.booleans()):
        size = int(np.prod(shape))
        return (shape,), {"indices": rng.integers(0, size, draw(st.integers(1, 5))).tolist(), "dim": None}
    d = draw(st.integers(0, len(shape) - 1))
    index_shape = [draw(st.integers(1, 3)) if a == d else draw(st.sampled_from([1, n])) for a, n in enumerate(shape)]
    return (shape,), {"indices": rng.integers(-shape[d], shape[d], index_shape).tolist(),
                      "dim": draw(st.sampled_from([d, d - len(shape)]))}


def _take_reference(x, indices, dim):
    indices = np.asarray(indices)
    if dim is None:
        return np.take_along_axis(x.reshape(-1), indices.reshape(-1), 0)
    target = [max(n, m) for n, m in zip(x.shape, indices.shape)]
    x_shape = list(target)
    x_shape[dim % x.ndim] = x.shape[dim % x.ndim]
    index_shape = list(target)
    index_shape[dim % x.ndim] = indices.shape[dim % x.ndim]
    return np.take_along_axis(np.broadcast_to(x, x_shape), np.broadcast_to(indices, index_shape), dim)


def _stack_shapes(vertical):
    """2 or 3 shapes that vstack (rows of one width) or hstack (1-D, or 2-D of one height) accepts."""
    @st.composite
    def build(draw):
        count, side = draw(st.integers(2, 3)), draw(_side)
        if draw(st.booleans()):
            return tuple((side,) if vertical else (draw(_side),) for _ in range(count))
        return tuple((draw(_side), side) if vertical else (side, draw(_side)) for _ in range(count))
    return build()


PRODUCTS = [
    OpCase("prod", lambda x, dim, keepdim: x.prod() if dim is None else x.prod(dim, keepdim), _prod_reference,
           examples(single(), lambda s: reduce_dims(s, multiple=False)), make=with_zeros),
    OpCase("prod_functional", lambda x: library(x).prod(x), lambda x: np.prod(x), examples(single())),
    OpCase("cumprod", lambda x, dim: x.cumprod(dim), lambda x, dim: np.cumprod(x, axis=dim) if x.ndim else x,
           examples(single(), lambda s: st.fixed_dictionaries({"dim": an_int_dim(len(s[0]))})), make=with_zeros),
    OpCase("dot", lambda x, y: library(x).dot(x, y), np.dot, examples(matmul_shapes("1d@1d"))),
    OpCase("mm", lambda x, y: x.mm(y), np.matmul, examples(matmul_shapes("2d@2d"))),
    OpCase("outer", lambda x, y: library(x).outer(x, y), np.outer,
           examples(st.tuples(_side, _side).map(lambda s: ((s[0],), (s[1],))))),
    OpCase("addmm", lambda i, a, b: library(i).addmm(i, a, b, beta=0.5, alpha=2.0),
           lambda i, a, b: 0.5 * i + 2.0 * a @ b, examples(st.tuples(_side, _side, _side, st.booleans()).map(
               lambda s: ((s[0], s[2]) if s[3] else (s[2],), (s[0], s[1]), (s[1], s[2]))))),
    OpCase("baddbmm", lambda i, a, b: i.baddbmm(a, b, alpha=0.5),
           lambda i, a, b: i + 0.5 * a @ b, examples(st.tuples(_side, _side, _side, _side).map(
               lambda s: ((s[0], s[1], s[3]), (s[0], s[1], s[2]), (s[0], s[2], s[3]))))),
    OpCase("kron", lambda x, y: library(x).kron(x, y), np.kron,
           examples(st.tuples(single(min_dims=1, max_dims=2, max_side=3), single(max_dims=2, max_side=3)).map(
               lambda s: s[0] + s[1]))),
]

STATISTICS = [
    OpCase("var_mean", lambda x, **p: library(x).var_mean(x, **p),
           lambda x, **p: (ref.var(x, **p), np.mean(x, axis=ref.np_dim(p["dim"], x.ndim), keepdims=p["keepdim"])),
           examples(single(), lambda s: var_params(s, "correction"))),
    OpCase("std_mean", lambda x, **p: library(x).std_mean(x, **p),
           lambda x, **p: (np.sqrt(ref.var(x, **p)),
                           np.mean(x, axis=ref.np_dim(p["dim"], x.ndim), keepdims=p["keepdim"])),
           examples(std_shapes(), lambda s: var_params(s, "correction", std=True))),
    OpCase("median_all", lambda x: x.median(), lower_median, examples(single()), make=distinct),
    OpCase("median_dim", lambda x, dim, keepdim: tuple(x.median(dim, keepdim)), lower_median,
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)), make=distinct),
]

DIAGONALS = [
    OpCase("trace", lambda x: x.trace(), np.trace, examples(st.tuples(_side, _side).map(lambda s: (s,)))),
    OpCase("diag", lambda x, diagonal: library(x).diag(x, diagonal), lambda x, diagonal: np.diag(x, diagonal),
           examples(single(min_dims=1, max_dims=2), lambda s: st.integers(-2, 2).map(lambda k: {"diagonal": k}))),
    OpCase("diagonal", lambda x, **p: x.diagonal(**p), lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2),
           examples(single(min_dims=2), lambda s: st.tuples(st.integers(-2, 2), st.permutations(
               range(len(s[0])))).map(lambda p: {"offset": p[0], "dim1": p[1][0], "dim2": p[1][1] - len(s[0])}))),
]

REARRANGING = [
    OpCase("roll", lambda x, shifts, dims: x.roll(shifts, dims), lambda x, shifts, dims: np.roll(x, shifts, dims),
           examples(single(min_dims=1), lambda s: st.one_of(
               st.fixed_dictionaries({"shifts": st.integers(-5, 5), "dims": st.none()}),
               st.lists(a_dim(len(s[0])), min_size=1, max_size=2).flatmap(lambda dims: st.fixed_dictionaries({
                   "shifts": st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)).map(tuple),
                   "dims": st.just(tuple(dims))}))))),
    OpCase("masked_select", lambda x, mask: x.masked_select(_on_device(x, mask)),
           lambda x, mask: np.broadcast_to(x, np.broadcast_shapes(x.shape, np.shape(mask)))[
               np.broadcast_to(mask, np.broadcast_shapes(x.shape, np.shape(mask)))],
           drawn_together(_mask_examples())),
    OpCase("take_along_dim", lambda x, indices, dim: library(x).take_along_dim(x, _on_device(x, indices), dim),
           _take_reference, drawn_together(_take_examples())),
    OpCase("swapaxes", lambda x, axis0, axis1: x.swapaxes(axis0, axis1),
           lambda x, axis0, axis1: np.swapaxes(x, axis0, axis1),
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries(
               {"axis0": an_int_dim(len(s[0])), "axis1": an_int_dim(len(s[0]))}))),
    OpCase("swapdims", lambda x, dim0, dim1: library(x).swapdims(x, dim0, dim1),
           lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries(
               {"dim0": an_int_dim(len(s[0])), "dim1": an_int_dim(len(s[0]))}))),
    OpCase("vstack", lambda *xs: library(xs[0]).vstack(xs), lambda *xs: np.vstack(xs), examples(_stack_shapes(True))),
    OpCase("hstack", lambda *xs: library(xs[0]).hstack(xs), lambda *xs: np.hstack(xs), examples(_stack_shapes(False))),
    OpCase("broadcast_tensors", lambda *xs: library(xs[0]).broadcast_tensors(*xs),
           lambda *xs: tuple(np.broadcast_arrays(*xs)), examples(broadcastable(3))),
    OpCase("nan_to_num", lambda x: x.nan_to_num(0.5, 3.0, -4.0), lambda x: np.nan_to_num(x, nan=0.5, posinf=3.0,
                                                                                              neginf=-4.0),
           examples(single()), make=with_specials),
]

DISTANCES = [
    OpCase("cross", lambda x, y, dim: library(x).cross(x, y, dim=dim), lambda x, y, dim: np.cross(x, y, axis=dim),
           drawn_together(_cross_shapes())),
    OpCase("dist", lambda x, y, p: x.dist(y, p), lambda x, y, p: ref.p_norm(x - y, p),
           examples(broadcastable(2), lambda s: st.sampled_from([1, 1.5, 2, 3, np.inf]).map(lambda p: {"p": p}))),
    OpCase("cdist", lambda x, y, p: library(x).cdist(x, y, p=p), _cdist_reference,
           examples(st.tuples(st.lists(_side, max_size=1), _side, _side, _side).map(
               lambda s: (tuple(s[0]) + (s[1], s[3]), (s[2], s[3]))),
               lambda s: st.sampled_from([1.0, 2.0, 3.0, np.inf]).map(lambda p: {"p": p}))),
    OpCase("cosine_similarity", lambda x, y, dim: functional(x).cosine_similarity(x, y, dim),
           lambda x, y, dim: _cosine(*np.broadcast_arrays(x, y), dim),
           examples(broadcastable(2, min_dims=1), lambda s: st.fixed_dictionaries(
               {"dim": an_int_dim(max(len(s[0]), len(s[1])))}))),
    OpCase("pairwise_distance", lambda x, y, **p: functional(x).pairwise_distance(x, y, **p),
           lambda x, y, p, keepdim: np.expand_dims(ref.p_norm(x - y + 1e-6, p, -1), -1) if keepdim else
           ref.p_norm(x - y + 1e-6, p, -1),
           examples(broadcastable(2, min_dims=1), lambda s: st.fixed_dictionaries(
               {"p": st.sampled_from([1.0, 2.0, 3.0]), "keepdim": st.booleans()}))),
    OpCase("cosine_embedding_loss", lambda x, y, margin: functional(x).cosine_embedding_loss(
               x, y, _on_device(x, [(1, -1, 0)[i % 3] for i in range(x.shape[0])]), margin=margin),
           lambda x, y, margin: np.mean(np.where(
               np.arange(len(x)) % 3 == 0, 1 - _epsilon_cosine(x, y),
               np.where(np.arange(len(x)) % 3 == 1, np.maximum(_epsilon_cosine(x, y) - margin, 0), 0))),
           examples(st.tuples(_side, _side).map(lambda s: (s, s)),
                    lambda s: st.sampled_from([-0.5, 0.0, 0.3]).map(lambda m: {"margin": m}))),
]

CASES = PRODUCTS + STATISTICS + DIAGONALS + REARRANGING + DISTANCES
