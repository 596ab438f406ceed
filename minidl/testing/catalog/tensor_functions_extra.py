"""PyTorch's remaining top-level functions and Tensor methods in the catalogue: index and shape composites
(take, movedim, select, index_add/copy/fill, masked_scatter, atleast_*d, dstack, column_stack,
tensor_split, fliplr/flipud, diag_embed, unfold), products (inner, vdot, ger, addmv, addbmm,
chain_matmul), order statistics (kthvalue, mode, nanmedian), NaN-ignoring fmax/fmin, erfc, renorm and
numerical calculus (gradient, trapezoid). Order statistics draw ``distinct`` values (no ties: mode is then the
smallest value); mode's ties and nanmedian's NaNs are compared with PyTorch in
tests/test_tensor_functions_extra.py. fmax and fmin get NaNs in one operand."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog.strategies import a_dim, an_int_dim, drawn_together, hnp_shape, shifted
from minidl.testing.harness import OpCase, broadcastable, distinct, examples, library, single

_side = st.integers(1, 4)


def _index(like, values):
    """``values`` (nested lists of ints) as an index tensor of ``like``'s framework and device."""
    return library(like).tensor(values, device=like.device)


def _seeded(draw):
    return np.random.default_rng(draw(st.integers(0, 2**16)))


@st.composite
def _take_examples(draw):
    shape = draw(hnp_shape(min_dims=0))
    size = int(np.prod(shape))
    index_shape = draw(hnp_shape(max_dims=2))
    return (shape,), {"index": _seeded(draw).integers(-size, size, index_shape).tolist()}


@st.composite
def _index_examples(draw, with_source=True):
    """An input shape, a dim, distinct slice positions and (with_source) a source of the chosen slices."""
    shape = draw(hnp_shape(min_dims=1))
    d = draw(a_dim(len(shape)))
    index = draw(st.permutations(range(shape[d]))).copy()[:draw(st.integers(1, shape[d]))]
    source = list(shape)
    source[d] = len(index)
    return ((shape, tuple(source)) if with_source else (shape,)), {"dim": d, "index": index}


@st.composite
def _scatter_examples(draw):
    shape, mask_shape = draw(broadcastable(2))
    shape = np.broadcast_shapes(shape, mask_shape)
    mask = _seeded(draw).random(mask_shape) < 0.5
    return (shape, (int(np.prod(shape)) + draw(st.integers(0, 2)),)), {"mask": mask.tolist()}


def _masked_scatter_reference(x, source, mask):
    out = x.copy()
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), x.shape)
    out[mask] = source[:int(mask.sum())]
    return out


@st.composite
def _split_examples(draw):
    shape = draw(hnp_shape(min_dims=1))
    d = draw(a_dim(len(shape)))
    sections = draw(st.one_of(st.integers(1, 5), st.lists(st.integers(-5, 6), max_size=3)))
    return (shape,), {"indices_or_sections": sections, "dim": d}


def _split_reference(x, indices_or_sections, dim):
    if isinstance(indices_or_sections, int):
        return tuple(np.array_split(x, indices_or_sections, axis=dim))
    size = x.shape[dim]
    bounds = [0] + [min(max(i if i >= 0 else size + i, 0), size) for i in indices_or_sections] + [size]
    return tuple(np.take(x, range(a, max(a, b)), axis=dim) for a, b in zip(bounds, bounds[1:]))


def _diag_embed_reference(x, offset, dim1, dim2):
    n = x.shape[-1]
    m = n + abs(offset)
    out = np.zeros(x.shape[:-1] + (m, m))
    for i in range(n):
        out[..., i + max(-offset, 0), i + max(offset, 0)] = x[..., i]
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


@st.composite
def _unfold_examples(draw):
    shape = draw(hnp_shape(min_dims=1))
    d = draw(a_dim(len(shape)))
    return (shape,), {"dimension": d, "size": draw(st.integers(0, shape[d])), "step": draw(st.integers(1, 3))}


def _unfold_reference(x, dimension, size, step):
    dimension %= x.ndim
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dimension)
    return np.take(windows, range(0, windows.shape[dimension], step), axis=dimension)


def _kth_reference(x, k, dim, keepdim):
    order = np.argsort(x, axis=dim, kind="stable")
    index = np.take(order, [k - 1], axis=dim)
    values = np.take_along_axis(x, index, axis=dim)
    return (values, index) if keepdim else (values.squeeze(dim), index.squeeze(dim))


def _kth_params(shapes):
    d = st.integers(0, len(shapes[0]) - 1).flatmap(lambda d: st.sampled_from([d, d - len(shapes[0])]))
    return d.flatmap(lambda d: st.fixed_dictionaries({"k": st.integers(1, shapes[0][d]), "dim": st.just(d),
                                                      "keepdim": st.booleans()}))


def _with_nans(rng, shape):
    values = distinct(rng, shape)
    return np.where(rng.random(shape) < 0.3, np.nan, values)


def _nanmedian_reference(x, dim, keepdim):
    clean = np.where(np.isnan(x), np.inf, x)
    order = np.argsort(clean, axis=dim, kind="stable")
    count = np.sum(~np.isnan(x), axis=dim, keepdims=True)
    index = np.take_along_axis(order, np.maximum(count - 1, 0) // 2, axis=dim)
    values = np.take_along_axis(x, index, axis=dim)
    return (values, index) if keepdim else (values.squeeze(dim), index.squeeze(dim))


def _renorm_reference(x, p, dim, maxnorm):
    others = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    size = np.sum(np.abs(x) ** p, axis=others, keepdims=True) ** (1 / p)
    return x * np.where(size > maxnorm, maxnorm / (size + 1e-7), 1.0)


@st.composite
def _gradient_examples(draw):
    shape = tuple(draw(st.integers(3, 5)) for _ in range(draw(st.integers(1, 3))))
    dims = draw(st.one_of(st.none(), an_int_dim(len(shape)), st.lists(
        st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple)))
    count = len(shape) if dims is None else 1 if isinstance(dims, int) else len(dims)
    spacing = draw(st.one_of(st.sampled_from([1, 0.5, 2.0]),
                             st.lists(st.sampled_from([0.5, 1.5]), min_size=count, max_size=count)))
    return (shape,), {"spacing": spacing, "dim": dims, "edge_order": draw(st.sampled_from([1, 2]))}


def _gradient_reference(x, spacing, dim, edge_order):
    axes = tuple(range(x.ndim)) if dim is None else (dim,) if isinstance(dim, int) else dim
    spacings = spacing if isinstance(spacing, list) else [spacing] * len(axes)
    return tuple(np.gradient(x, h, axis=a, edge_order=edge_order) for a, h in zip(axes, spacings))


@st.composite
def _trapezoid_examples(draw):
    shape = draw(hnp_shape(min_dims=1))
    d = draw(a_dim(len(shape)))
    form = draw(st.sampled_from(["dx", "x_1d", "x_full"]))
    if form == "dx":
        return (shape,), {"dx": draw(st.sampled_from([None, 0.5, 2.0])), "dim": d}
    return (shape, (shape[d],) if form == "x_1d" else shape), {"dim": d}


def _trapezoid_reference(y, x=None, dx=None, dim=-1):
    y = np.moveaxis(y, dim, -1)
    if x is None:
        step = np.full(y.shape[-1] - 1, 1.0 if dx is None else dx)
    else:
        x = x if x.ndim == 1 else np.moveaxis(x, dim, -1)
        step = x[..., 1:] - x[..., :-1]
    return np.sum(step * (y[..., 1:] + y[..., :-1]) / 2, axis=-1)


def _erfc(x):
    return np.vectorize(math.erfc)(x)


def _trapezoid_call(y, x=None, dx=None, dim=-1):
    if x is not None:
        return library(y).trapezoid(y, x, dim=dim)
    return library(y).trapezoid(y, dim=dim) if dx is None else library(y).trapezoid(y, dx=dx, dim=dim)


CASES = [
    OpCase("take", lambda x, index: library(x).take(x, _index(x, index)),
           lambda x, index: x.reshape(-1)[np.asarray(index, dtype=np.int64)], drawn_together(_take_examples())),
    OpCase("movedim", lambda x, source, destination: x.movedim(source, destination),
           lambda x, source, destination: np.moveaxis(x, source, destination),
           examples(single(min_dims=1), lambda s: st.permutations(range(len(s[0]))).flatmap(
               lambda p: st.integers(1, len(p)).map(lambda n: {"source": tuple(p[:n]),
                                                               "destination": tuple(sorted(p[:n])[::-1])})))),
    OpCase("select", lambda x, dim, index: library(x).select(x, dim, index),
           lambda x, dim, index: np.take(x, index, axis=dim),
           examples(single(min_dims=1), lambda s: a_dim(len(s[0])).flatmap(lambda d: st.fixed_dictionaries(
               {"dim": st.just(d), "index": st.integers(-s[0][d], s[0][d] - 1)})))),
    OpCase("index_add", lambda x, source, dim, index: x.index_add(dim, _index(x, index), source, alpha=0.5),
           lambda x, source, dim, index: _put(x, source, dim, index, lambda old, new: old + 0.5 * new),
           drawn_together(_index_examples())),
    OpCase("index_copy", lambda x, source, dim, index: library(x).index_copy(x, dim, _index(x, index), source),
           lambda x, source, dim, index: _put(x, source, dim, index, lambda old, new: new),
           drawn_together(_index_examples())),
    OpCase("index_fill", lambda x, dim, index: x.index_fill(dim, _index(x, index), -1.5),
           lambda x, dim, index: _put(x, None, dim, index, lambda old, new: -1.5),
           drawn_together(_index_examples(with_source=False))),
    OpCase("masked_scatter", lambda x, source, mask: x.masked_scatter(_index(x, mask), source),
           _masked_scatter_reference, drawn_together(_scatter_examples())),
    OpCase("atleast_nd", lambda x: (library(x).atleast_1d(x), library(x).atleast_2d(x), library(x).atleast_3d(x)),
           lambda x: (np.atleast_1d(x), np.atleast_2d(x), np.atleast_3d(x)), examples(single())),
    OpCase("dstack", lambda x, y: library(x).dstack([x, y]), lambda x, y: np.dstack([x, y]),
           examples(single(max_dims=3).map(lambda s: s * 2))),
    OpCase("column_stack", lambda x, y: library(x).column_stack([x, y]), lambda x, y: np.column_stack([x, y]),
           examples(st.tuples(_side, st.integers(0, 2), _side).map(
               lambda s: ((s[0],) if s[1] == 0 else (s[0], s[2]), (s[0], s[1] + 1))))),
    OpCase("tensor_split", lambda x, indices_or_sections, dim: x.tensor_split(indices_or_sections, dim),
           _split_reference, drawn_together(_split_examples())),
    OpCase("fliplr_flipud", lambda x: (x.fliplr(), library(x).flipud(x)), lambda x: (np.fliplr(x), np.flipud(x)),
           examples(single(min_dims=2))),
    OpCase("diag_embed", lambda x, **p: x.diag_embed(**p), _diag_embed_reference,
           examples(single(min_dims=1), lambda s: st.integers(-2, 2).flatmap(lambda k: st.permutations(
               range(len(s[0]) + 1)).map(lambda p: {"offset": k, "dim1": p[0], "dim2": p[1] - len(s[0]) - 1})))),
    OpCase("unfold", lambda x, **p: x.unfold(**p), _unfold_reference, drawn_together(_unfold_examples())),
    OpCase("t_function", lambda x: library(x).t(x), lambda x: x.T, examples(single(max_dims=2))),
    OpCase("where_method", lambda x, y: x.where(x > 0, y), lambda x, y: np.where(x > 0, x, y),
           examples(broadcastable(2))),
    OpCase("inner", lambda x, y: library(x).inner(x, y), np.inner,
           examples(st.tuples(hnp_shape(max_dims=2), hnp_shape(max_dims=2), _side).map(
               lambda s: (s[0] + (s[2],), s[1] + (s[2],))))),
    OpCase("vdot_ger", lambda x, y: (library(x).vdot(x, y), library(x).ger(x, y)),
           lambda x, y: (np.vdot(x, y), np.outer(x, y)), examples(_side.map(lambda n: ((n,), (n,))))),
    OpCase("addmv", lambda i, m, v: library(i).addmv(i, m, v, beta=0.5, alpha=2.0),
           lambda i, m, v: 0.5 * i + 2.0 * m @ v, examples(st.tuples(_side, _side, st.booleans()).map(
               lambda s: ((s[0],) if s[2] else (1,), (s[0], s[1]), (s[1],))))),
    OpCase("addbmm", lambda i, a, b: library(i).addbmm(i, a, b, alpha=0.5),
           lambda i, a, b: i + 0.5 * np.sum(a @ b, axis=0), examples(st.tuples(_side, _side, _side, _side).map(
               lambda s: ((s[1], s[3]), (s[0], s[1], s[2]), (s[0], s[2], s[3]))))),
    OpCase("chain_matmul", lambda a, b, c: library(a).chain_matmul(a, b, c), lambda a, b, c: a @ b @ c,
           examples(st.tuples(_side, _side, _side, _side).map(lambda s: ((s[0], s[1]), (s[1], s[2]), (s[2], s[3])))),
           torch_fn=lambda a, b, c: library(a).linalg.multi_dot([a, b, c])),
    OpCase("kthvalue", lambda x, **p: tuple(x.kthvalue(**p)), _kth_reference, examples(single(min_dims=1), _kth_params),
           make=distinct),
    OpCase("mode", lambda x, dim, keepdim: tuple(library(x).mode(x, dim, keepdim)),
           lambda x, dim, keepdim: _kth_reference(x, 1, dim, keepdim),
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries(
               {"dim": an_int_dim(len(s[0])), "keepdim": st.booleans()})), make=distinct),
    OpCase("nanmedian", lambda x, dim, keepdim: tuple(x.nanmedian(dim, keepdim)), _nanmedian_reference,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries(
               {"dim": an_int_dim(len(s[0])), "keepdim": st.booleans()})), make=distinct),
    OpCase("nanmedian_all", lambda x: library(x).nanmedian(x),
           lambda x: np.sort(x.reshape(-1))[max(np.sum(~np.isnan(x)) - 1, 0) // 2], examples(single()),
           make=distinct),
    OpCase("fmax", lambda x, y: library(x).fmax(x, y), np.fmax, examples(broadcastable(2)),
           make=(_with_nans, shifted(distinct, 0.025))),
    OpCase("fmin", lambda x, y: x.fmin(y), np.fmin, examples(broadcastable(2)),
           make=(shifted(distinct, 0.025), _with_nans)),
    OpCase("erfc", lambda x: library(x).erfc(x), _erfc, examples(single())),
    OpCase("renorm", lambda x, **p: x.renorm(**p), _renorm_reference,
           examples(single(min_dims=2), lambda s: st.fixed_dictionaries(
               {"p": st.sampled_from([1.0, 2.0, 3.0]), "dim": an_int_dim(len(s[0])),
                "maxnorm": st.sampled_from([0.5, 1.25, 100.0])}))),
    OpCase("gradient", lambda x, **p: library(x).gradient(x, **p), _gradient_reference,
           drawn_together(_gradient_examples())),
    OpCase("trapezoid", _trapezoid_call, _trapezoid_reference, drawn_together(_trapezoid_examples())),
]


def _put(x, source, dim, index, combine):
    """``x`` with the slices ``index`` of ``dim`` set to ``combine(old slices, source)``."""
    out = x.copy()
    moved = np.moveaxis(out, dim, 0)
    new = None if source is None else np.moveaxis(source, dim, 0)
    for position, slot in enumerate(index):
        moved[slot] = combine(moved[slot], None if new is None else new[position])
    return out
