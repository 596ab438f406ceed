"""Shape ops in the catalogue: views, indexing (gather, index_select, scatter, narrow, unbind, flip), repeating
(repeat, tile, repeat_interleave, meshgrid), joining, splitting and padding, and corner cases."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import strategies as st

import minidl
from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import (a_dim, an_int_dim, cat_params, cat_shapes, chunk_params,
                                               constant_pad_params, drawn_together, expand_params, flatten_params,
                                               gather_params, index_pad_examples, index_select_params, narrow_params,
                                               permute_params, repeat_interleave_params, repeat_params,
                                               reshape_params, same_shapes, scalar_dim, scatter_examples,
                                               size_one_dim, split_params, squeeze_params, transpose_params, with_ones)
from minidl.testing.harness import OpCase, avoiding, distinct, examples, functional, library, single


# --- in-place edits inside the graph (the same code runs on minidl, PyTorch and NumPy) -----------------

def _set_slices(x, index):
    y = x * 2
    y[index] = x[index] * 3
    return y


def _edit_in_place(x):
    y = x * 1
    y[x > 0] = 0.5
    y.masked_fill_(x < -1, -2.0)
    y += x
    y *= x
    y.clamp_(max=2.0)       # y = 2 where x = -1 or x = 1.186: the values avoid both
    y -= 1
    y /= 2
    return y


def _edit_views(x):
    y = x * 2
    y[0] += x[-1]           # a view edited, then written back by setitem
    y[:, 0].mul_(3)         # a view edited alone: what it views follows
    y.reshape(-1)[:1] *= 2
    y.T[0] -= 1
    return y


# --- getitem parameters --------------------------------------------------------------------------------

def _a_slice(size):
    bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
    return st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, 3]))


def _an_item(size):
    return st.one_of(_a_slice(size), st.integers(-size, size - 1), st.just(slice(None)))


def slices_params(shapes):
    """A tuple of slices (steps 1..3, negative and out-of-range bounds) for the leading dims."""
    shape = shapes[0]
    return st.integers(1, len(shape)).flatmap(
        lambda k: st.tuples(*[_a_slice(s) for s in shape[:k]])).map(lambda index: {"index": index})


def int_index_params(shapes):
    """An int (negative too) in one dim, full slices before it; sometimes a bare int."""
    shape = shapes[0]

    def at(d):
        return st.integers(-shape[d], shape[d] - 1).map(lambda i: (slice(None),) * d + (i,) if d else i)
    return st.integers(0, len(shape) - 1).flatmap(at).map(lambda index: {"index": index})


def newaxis_ellipsis_params(shapes):
    """Per-dim slices and ints with one Ellipsis standing for some middle dims, and 0-2 None's inserted."""
    shape = shapes[0]
    ndim = len(shape)

    @st.composite
    def build(draw):
        items = [draw(_an_item(s)) for s in shape]
        start = draw(st.integers(0, ndim))
        stop = draw(st.integers(start, ndim))
        index = items[:start] + [Ellipsis] + items[stop:]
        for _ in range(draw(st.integers(0, 2))):
            index.insert(draw(st.integers(0, len(index))), None)
        return {"index": tuple(index)}
    return build()


def int_array_params(shapes, two=False, bare=False):
    """A list of ints with repeats (negative too) in one dim; or two lists in the first and last dims."""
    shape = shapes[0]
    ndim = len(shape)

    def repeated(size, length=None):
        lists = st.lists(st.integers(-size, size - 1), min_size=length or 1, max_size=length or 4)
        return lists.map(lambda l: l + [l[0]])

    if two:
        return st.integers(1, 3).flatmap(lambda n: st.tuples(repeated(shape[0], n), repeated(shape[-1], n))).map(
            lambda ab: {"index": (ab[0],) + (slice(None),) * (ndim - 2) + (ab[1],)})
    if bare:  # x[[i, j, i]] on a tensor of 2 or more dims: whole rows picked by one list
        return repeated(shape[0]).map(lambda l: {"index": l})
    return st.integers(0, ndim - 1).flatmap(lambda d: repeated(shape[d]).map(
        lambda l: {"index": (slice(None),) * d + (l,) if (d or ndim > 1) else l}))


def mask_params(shapes):
    """A bool list over dim 0."""
    return st.lists(st.booleans(), min_size=shapes[0][0], max_size=shapes[0][0]).map(lambda m: {"mask": m})




def _index_params(shapes):
    """A basic or advanced index valid for the first shape."""
    shape = shapes[0]
    first = shape[0]
    return st.sampled_from([
        {"index": (slice(None, None, 2),)},
        {"index": (slice(-1, None, -1),)},
        {"index": (first - 1,)},
        {"index": (None, Ellipsis)},
        {"index": (np.array([0, first - 1, 0]),)},
    ])



def _torch_index(x, index):
    """The same index in PyTorch, which has no negative slice steps (flip instead)."""
    import torch
    if isinstance(index[0], slice) and index[0].step == -1:
        return x.flip(0)
    return x[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)]


SHAPE = [
    OpCase("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: np.reshape(x, shape),
           examples(single(), reshape_params)),
    OpCase("view", lambda x, shape: x.view(*shape), lambda x, shape: np.reshape(x, shape),
           examples(single(), reshape_params), torch_fn=lambda x, shape: x.view(shape)),
    OpCase("transpose", lambda x, dim0, dim1: x.transpose(dim0, dim1), ref.transpose_np,
           examples(single(min_dims=1), transpose_params)),
    OpCase("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
           examples(single(), permute_params), torch_fn=lambda x, dims: x.permute(dims)),
    OpCase("permute_tuple", lambda x, dims: minidl.permute(x, dims), lambda x, dims: np.transpose(x, dims),
           examples(single(), permute_params), torch_fn=lambda x, dims: x.permute(dims)),
    OpCase("T", lambda x: x.T, lambda x: np.transpose(x), examples(single()),
           torch_fn=lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    OpCase("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), examples(single(min_dims=2))),
    OpCase("squeeze", lambda x: x.squeeze(), lambda x: np.squeeze(x), examples(with_ones())),
    OpCase("squeeze_dim", lambda x, dim: x.squeeze(dim), ref.squeeze_np, examples(with_ones(), squeeze_params)),
    OpCase("unsqueeze", lambda x, dim: x.unsqueeze(dim), ref.unsqueeze_np,
           examples(single(), lambda s: an_int_dim(len(s[0]), extra=1).map(lambda d: {"dim": d}))),
    OpCase("expand", lambda x, shape: x.expand(*shape), ref.expand_np, examples(with_ones(), expand_params),
           torch_fn=lambda x, shape: x.expand(shape)),
    OpCase("expand_tuple", lambda x, shape: minidl.expand(x, shape), ref.expand_np,
           examples(with_ones(), expand_params), torch_fn=lambda x, shape: x.expand(shape)),
    OpCase("broadcast_to", lambda x, shape: x.broadcast_to(shape), lambda x, shape: np.broadcast_to(x, shape),
           examples(with_ones(), lambda s: expand_params(s, allow_minus_one=False))),
    OpCase("flatten", lambda x, **p: x.flatten(**p), ref.flatten_np, examples(single(), flatten_params)),
    OpCase("getitem_slices", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), slices_params)),
    OpCase("getitem_int", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), int_index_params)),
    OpCase("getitem_newaxis_ellipsis", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(), newaxis_ellipsis_params)),
    OpCase("getitem_int_list_repeats", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), int_array_params)),
    OpCase("getitem_int_tensor_repeats", lambda x, index: x[minidl.tensor(index, device=x.device)],
           lambda x, index: x[np.asarray(index)],
           examples(single(min_dims=1), lambda s: int_array_params(s, bare=True)),
           torch_fn=lambda x, index: x[library(x).tensor(index)]),
    OpCase("getitem_two_int_lists", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=2), lambda s: int_array_params(s, two=True))),
    OpCase("getitem_bool_mask_of_values", lambda x: x[x > 0], lambda x: x[x > 0], examples(single()),
           make=avoiding(0)),
    OpCase("getitem_bool_list", lambda x, mask: x[mask], lambda x, mask: x[np.asarray(mask, dtype=bool)],
           examples(single(min_dims=1), mask_params), torch_fn=lambda x, mask: x[library(x).tensor(mask)]),
    OpCase("cat", lambda *xs, dim: minidl.cat(xs + xs[:1], dim),  # the first input twice: its grads add up
           lambda *xs, dim: np.concatenate(xs + xs[:1], axis=dim),
           examples(cat_shapes(), cat_params), torch_fn=lambda *xs, dim: library(xs[0]).cat(xs + xs[:1], dim)),
    OpCase("cat_axis_alias", lambda *xs, dim: minidl.concatenate(list(xs), axis=dim),
           lambda *xs, dim: np.concatenate(xs, axis=dim),
           examples(cat_shapes(), cat_params), torch_fn=lambda *xs, dim: library(xs[0]).cat(xs, dim=dim)),
    OpCase("stack", lambda *xs, dim: minidl.stack([*xs, xs[0]], dim=dim),
           lambda *xs, dim: np.stack([*xs, xs[0]], axis=dim),
           examples(st.integers(1, 3).flatmap(same_shapes),
                    lambda s: an_int_dim(len(s[0]), extra=1).map(lambda d: {"dim": d})),
           torch_fn=lambda *xs, dim: library(xs[0]).stack([*xs, xs[0]], dim=dim)),
    OpCase("split_size", lambda x, **p: x.split(**p), ref.split_np,
           examples(single(min_dims=1), lambda s: split_params(s, sections=False)),
           torch_fn=lambda x, split_size_or_sections, dim: x.split(split_size_or_sections, dim)),
    OpCase("split_sections", lambda x, split_size_or_sections, dim: minidl.split(x, split_size_or_sections, dim),
           ref.split_np, examples(single(min_dims=1), lambda s: split_params(s, sections=True)),
           torch_fn=lambda x, split_size_or_sections, dim: x.split(split_size_or_sections, dim)),
    OpCase("chunk", lambda x, chunks, dim: x.chunk(chunks, dim), ref.chunk_np,
           examples(single(min_dims=1), chunk_params)),
    OpCase("pad_constant", lambda x, pad, value: functional(x).pad(x, pad, value=value),
           lambda x, pad, value: ref.pad(x, pad, "constant", value),
           examples(single(min_dims=1), constant_pad_params)),
] + [
    OpCase(f"pad_{mode}", lambda x, pad, mode=mode: functional(x).pad(x, pad, mode=mode),
           lambda x, pad, mode=mode: ref.pad(x, pad, mode), index_pad_examples(mode))
    for mode in ("reflect", "replicate", "circular")
] + [
    OpCase("view_flatten", lambda x: x.view(x.shape[0], -1).flatten(), lambda x: x.reshape(-1),
           examples(single(min_dims=1))),
    OpCase("T_and_mT", lambda x: (x.T, x.mT), lambda x: (x.T, np.swapaxes(x, -1, -2)),
           examples(single(min_dims=2, max_dims=2))),
    OpCase("squeeze_unsqueeze", lambda x: (x.unsqueeze(-1).squeeze(), x.unsqueeze(0).squeeze(0)),
           lambda x: (np.squeeze(x[..., None]), x),
           examples(single())),
    OpCase("getitem", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=1), _index_params), torch_fn=lambda x, index: _torch_index(x, index)),
    OpCase("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], examples(single(min_dims=1)),
           make=avoiding(0)),
    OpCase("setitem_in_graph", lambda x, index: _set_slices(x, index), _set_slices,
           examples(single(min_dims=1), slices_params)),
    OpCase("inplace_edits_in_graph", lambda x: _edit_in_place(x), ref.edit_in_place_np, examples(single(min_dims=1)),
           make=avoiding(0, -1, 1.186)),
    OpCase("inplace_edits_of_views", lambda x: _edit_views(x), ref.edit_views_np,
           examples(single(min_dims=2, max_dims=2))),
    OpCase("masked_fill", lambda x: x.masked_fill(x > 0, 0.5), lambda x: np.where(x > 0, 0.5, x),
           examples(single()), make=avoiding(0)),
    OpCase("tril", lambda x, diagonal: x.tril(diagonal), lambda x, diagonal: np.tril(x, diagonal),
           examples(single(min_dims=2), lambda s: st.integers(-2, 2).map(lambda d: {"diagonal": d}))),
    OpCase("triu", lambda x, diagonal: library(x).triu(x, diagonal), lambda x, diagonal: np.triu(x, diagonal),
           examples(single(min_dims=2), lambda s: st.integers(-2, 2).map(lambda d: {"diagonal": d}))),
    OpCase("sort", lambda x, dim: x.sort(dim=dim, descending=True)[0],
           lambda x, dim: -np.sort(-x, axis=dim), examples(single(min_dims=1), lambda s: an_int_dim(len(s[0])).map(
               lambda d: {"dim": d})), make=distinct),
    OpCase("topk", lambda x, dim: library(x).topk(x, 2, dim=dim)[0] * 3,
           lambda x, dim: -np.sort(-x, axis=dim).take(np.arange(2), axis=dim) * 3,
           examples(single(min_dims=1).filter(lambda s: min(s[0]) >= 2), lambda s: an_int_dim(len(s[0])).map(
               lambda d: {"dim": d}).filter(lambda p: s[0][p["dim"]] >= 2)), make=distinct),
    OpCase("argsort_indices", lambda x: x.argsort(dim=-1).to(x.dtype), lambda x: np.argsort(x, axis=-1).astype(float),
           examples(single(min_dims=1)), make=distinct, differentiable=False),
    OpCase("t_contiguous", lambda x: x.t().contiguous() * 1, lambda x: x.T, examples(single(max_dims=2))),
    OpCase("split_chunk", lambda x: x.split(2, dim=-1) + x.chunk(2, dim=0) + x.split([1, x.shape[-1] - 1], -1),
           lambda x: tuple(np.split(x, range(2, x.shape[-1], 2), -1))
           + tuple(np.array_split(x, min(2, x.shape[0]), 0) if x.shape[0] > 1 else [x])
           + (x[..., :1], x[..., 1:]),
           examples(single(min_dims=2, max_dims=2))),
    OpCase("pad_modes", lambda x, mode: functional(x).pad(x, (1, 1), mode=mode),
           lambda x, mode: np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 1)],
                                  mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]),
           examples(single(min_dims=2, max_dims=3, min_side=2),
                    lambda s: st.fixed_dictionaries({"mode": st.sampled_from(["reflect", "replicate", "circular"])}))),
]

def _index(x, values):
    """Index values as an int64 tensor of x's framework, on x's device."""
    return library(x).tensor(values, device=x.device)


def vectors(max_count=3):
    """1..3 shapes of 0-d or 1-d tensors (meshgrid's inputs)."""
    one = st.one_of(st.just(()), st.integers(1, 4).map(lambda n: (n,)))
    return st.lists(one, min_size=1, max_size=max_count).map(tuple)


def _meshgrid_default(*xs):
    """meshgrid without indexing: 'ij', with a warning (checked in tests/test_bad_inputs.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return library(xs[0]).meshgrid(list(xs))


INDEXING = [
    OpCase("gather", lambda x, dim, index: library(x).gather(x, dim, _index(x, index)), ref.gather,
           examples(single(min_dims=1), gather_params)),
    OpCase("gather_method", lambda x, dim, index: x.gather(dim, _index(x, index)), ref.gather,
           examples(single(min_dims=1), gather_params)),
    OpCase("index_select", lambda x, dim, index: x.index_select(dim, _index(x, index)),
           lambda x, dim, index: np.take(x, index, axis=dim), examples(single(min_dims=1), index_select_params)),
    OpCase("index_select_functional", lambda x, dim, index: library(x).index_select(x, dim, _index(x, index)),
           lambda x, dim, index: np.take(x, index, axis=dim), examples(single(min_dims=1), index_select_params)),
    OpCase("scatter_add", lambda x, src, dim, index: x.scatter_add(dim, _index(x, index), src),
           lambda x, src, dim, index: ref.scatter(x, src, dim, index, accumulate=True), scatter_examples(True)),
    # PyTorch's own backward refuses a src larger than index (its gradient has index's shape): no parity here
    OpCase("scatter_add_larger_src", lambda x, src, dim, index: minidl.scatter_add(x, dim, _index(x, index), src),
           lambda x, src, dim, index: ref.scatter(x, src, dim, index, accumulate=True),
           scatter_examples(True, larger_src=True), torch_fn=None),
    OpCase("scatter", lambda x, src, dim, index: library(x).scatter(x, dim, _index(x, index), src),
           lambda x, src, dim, index: ref.scatter(x, src, dim, index, accumulate=False), scatter_examples(False)),
    OpCase("narrow", lambda x, dim, start, length: x.narrow(dim, start, length), ref.narrow,
           examples(single(min_dims=1), narrow_params)),
    OpCase("narrow_functional", lambda x, dim, start, length: library(x).narrow(x, dim, start, length) * 2,
           lambda x, dim, start, length: ref.narrow(x, dim, start, length) * 2,
           examples(single(min_dims=1), narrow_params)),
    OpCase("unbind", lambda x, dim: x.unbind(dim), lambda x, dim: tuple(np.moveaxis(x, dim, 0)),
           examples(single(min_dims=1), lambda s: a_dim(len(s[0])).map(lambda d: {"dim": d}))),
    OpCase("unbind_first_slice_only", lambda x: library(x).unbind(x)[0] * 3, lambda x: x[0] * 3,
           examples(single(min_dims=1))),
    OpCase("flip", lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, dims),
           examples(single(min_dims=1), lambda s: st.lists(a_dim(len(s[0])), min_size=1, max_size=len(s[0])).filter(
               lambda dims: len({d % len(s[0]) for d in dims}) == len(dims)).map(lambda dims: {"dims": dims}))),
    OpCase("flip_functional", lambda x: library(x).flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)),
           examples(single(min_dims=2))),
    OpCase("repeat", lambda x, sizes: x.repeat(*sizes), ref.repeat, examples(single(), repeat_params)),
    OpCase("repeat_tuple", lambda x, sizes: x.repeat(sizes), ref.repeat, examples(single(), repeat_params)),
    OpCase("tile", lambda x, dims: library(x).tile(x, dims), lambda x, dims: np.tile(x, dims),
           examples(single(), lambda s: st.lists(st.integers(0, 3), min_size=1, max_size=len(s[0]) + 1).map(
               lambda dims: {"dims": tuple(dims)}))),
    OpCase("repeat_interleave", lambda x, repeats, dim: library(x).repeat_interleave(
               x, repeats if isinstance(repeats, int) else _index(x, repeats), dim),
           lambda x, repeats, dim: np.repeat(x, repeats, axis=dim), examples(single(), repeat_interleave_params)),
    OpCase("repeat_interleave_method_one_count", lambda x: x.repeat_interleave(_index(x, [2]), dim=-1),
           lambda x: np.repeat(x, 2, axis=-1), examples(single(min_dims=1))),
    OpCase("repeat_interleave_of_counts", lambda x, counts: library(x).repeat_interleave(_index(x, counts)).to(x.dtype),
           lambda x, counts: np.repeat(np.arange(len(counts)), counts).astype(float),
           examples(single(max_dims=1), lambda s: st.fixed_dictionaries({"counts": st.lists(st.integers(0, 3),
                                                                                           min_size=1, max_size=4)})),
           differentiable=False),
    OpCase("meshgrid", lambda *xs, indexing: library(xs[0]).meshgrid(*xs, indexing=indexing),
           lambda *xs, indexing: tuple(np.meshgrid(*xs, indexing=indexing)),
           examples(vectors(), lambda s: st.fixed_dictionaries({"indexing": st.sampled_from(["ij", "xy"])}))),
    OpCase("meshgrid_default_ij", _meshgrid_default, lambda *xs: tuple(np.meshgrid(*xs, indexing="ij")),
           examples(vectors())),
    OpCase("new_tensors", lambda x: (x.new_zeros(2, 3), x.new_ones((2,)), x.new_full((1, 2), 3.5),
                                     x.new_tensor([[1, 2]]), x.new_empty(0), x.new_zeros([])),
           lambda x: (np.zeros((2, 3)), np.ones(2), np.full((1, 2), 3.5), np.array([[1.0, 2.0]]), np.empty(0),
                      np.zeros(())), examples(single()), differentiable=False),
]

EDGES = [
    OpCase("max_min_dim_0d", lambda x, dim, keepdim: tuple(x.max(dim, keepdim)) + tuple(x.min(dim, keepdim)),
           lambda x, dim, keepdim: (x, np.int64(0), x, np.int64(0)), scalar_dim()),
    OpCase("argmax_argmin_0d", lambda x, dim, keepdim: (x.argmax(dim, keepdim), x.argmin(dim, keepdim)),
           lambda x, dim, keepdim: (np.int64(0), np.int64(0)), scalar_dim(), differentiable=False),
    OpCase("transpose_0d", lambda x, dim: x.transpose(dim, 0), lambda x, dim: x, scalar_dim(keepdim=False)),
    OpCase("softmax_log_softmax_0d", lambda x, dim: (x.softmax(dim), x.log_softmax(dim)),
           lambda x, dim: (np.ones(()), np.zeros(())), scalar_dim(keepdim=False)),
    # std over n = 1 element with correction 0 is identically 0, so its gradient is 0 (PyTorch masks the 0/0)
    OpCase("std_zero_spread", lambda x, **p: x.std(**p), lambda x, **p: np.sqrt(ref.var(x, **p)),
           drawn_together(size_one_dim()), torch_fn=lambda x, **p: ref.torch_var(x, std=True, **p)),
    # x[[i, j, i]] on >= 2 dims: whole rows, which the backward scatters through a fast host-side path
    OpCase("getitem_int_list_rows", lambda x, index: x[index], lambda x, index: x[index],
           examples(single(min_dims=2), lambda s: int_array_params(s, bare=True))),
    # 0-d tensors: gather and index_select take a 0-d (or one-element) index, flip and cumsum any dim 0 / -1
    OpCase("indexing_0d", lambda x: (library(x).gather(x, 0, _index(x, 0)), x.index_select(-1, _index(x, [0])),
                                     x.flip(0), x.repeat(2, 1), x.repeat_interleave(2)),
           lambda x: (x, x, x, np.full((2, 1), x), np.full(2, x)), examples(st.just(((),)))),
]

CASES = SHAPE + INDEXING + EDGES
