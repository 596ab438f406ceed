"""Matrix products (matmul, bmm, einsum), reductions, norms and running sums in the catalogue."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import minidl
from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import (MATMUL_FORMS, an_int_dim, matmul_shapes, reduce_dims, std_shapes,
                                               var_params, wide)
from minidl.testing.harness import OpCase, dim_of, distinct, examples, functional, library, single


MATMUL = [
    OpCase(f"matmul_{form}", (lambda x, y: x @ y) if i % 3 == 0 else
           ((lambda x, y: minidl.matmul(x, y)) if i % 3 == 1 else (lambda x, y: x.matmul(y))),
           lambda x, y: np.matmul(x, y), examples(matmul_shapes(form)), torch_fn=lambda x, y: x @ y)
    for i, form in enumerate(MATMUL_FORMS)
]


REDUCTIONS = [
    OpCase("sum", lambda x, dim, keepdim: x.sum(dim, keepdim), ref.reduce(np.sum), examples(single(), reduce_dims),
           torch_fn=lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim)),
    OpCase("sum_all", lambda x: x.sum(), lambda x: np.sum(x), examples(single())),
    OpCase("sum_numpy_aliases", lambda x, dim, keepdim: minidl.sum(x, axis=dim, keepdims=keepdim),
           ref.reduce(np.sum), examples(single(), reduce_dims),
           torch_fn=lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim)),
    OpCase("mean", lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim), ref.reduce(np.mean),
           examples(single(), reduce_dims)),
    OpCase("mean_numpy_aliases", lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim), ref.reduce(np.mean),
           examples(single(), reduce_dims), torch_fn=lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim)),
    OpCase("max_all", lambda x: x.max(), lambda x: np.max(x), examples(single()), make=distinct),
    OpCase("min_all", lambda x: minidl.min(x), lambda x: np.min(x), examples(single()), make=distinct,
           torch_fn=lambda x: x.min()),
    OpCase("max_dim", lambda x, dim, keepdim: tuple(x.max(dim=dim, keepdim=keepdim)),
           lambda x, dim, keepdim: ref.extreme_along(x, dim, keepdim, True),
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct),
    OpCase("min_dim", lambda x, dim, keepdim: tuple(x.min(dim, keepdim)),
           lambda x, dim, keepdim: ref.extreme_along(x, dim, keepdim, False),
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct),
    OpCase("max_dim_numpy_aliases", lambda x, dim, keepdim: tuple(x.max(axis=dim, keepdims=keepdim)),
           lambda x, dim, keepdim: ref.extreme_along(x, dim, keepdim, True),
           examples(single(min_dims=1), lambda s: reduce_dims(s, allow_none=False, multiple=False)),
           make=distinct, torch_fn=lambda x, dim, keepdim: tuple(x.max(dim=dim, keepdim=keepdim))),
    OpCase("amax", lambda x, dim, keepdim: x.amax(dim, keepdim), ref.reduce(np.max),
           examples(single(), reduce_dims), make=distinct,
           torch_fn=lambda x, dim, keepdim: x.amax(dim=() if dim is None else dim, keepdim=keepdim)),
    OpCase("amin", lambda x, dim, keepdim: minidl.amin(x, dim=dim, keepdim=keepdim), ref.reduce(np.min),
           examples(single(), reduce_dims), make=distinct,
           torch_fn=lambda x, dim, keepdim: x.amin(dim=() if dim is None else dim, keepdim=keepdim)),
    OpCase("var_unbiased", lambda x, **p: x.var(**p), ref.var, examples(single(), lambda s: var_params(s, "unbiased")),
           torch_fn=ref.torch_var),
    OpCase("var_correction", lambda x, **p: minidl.var(x, **p), ref.var,
           examples(single(), lambda s: var_params(s, "correction")), torch_fn=ref.torch_var),
    OpCase("std_unbiased", lambda x, **p: x.std(**p), lambda x, **p: np.sqrt(ref.var(x, **p)),
           examples(std_shapes(), lambda s: var_params(s, "unbiased", std=True)),
           torch_fn=lambda x, **p: ref.torch_var(x, std=True, **p)),
    OpCase("std_correction", lambda x, **p: x.std(**p), lambda x, **p: np.sqrt(ref.var(x, **p)),
           examples(std_shapes(), lambda s: var_params(s, "correction", std=True)),
           torch_fn=lambda x, **p: ref.torch_var(x, std=True, **p)),
    OpCase("var_numpy_aliases", lambda x, dim, keepdim, unbiased: x.var(axis=dim, keepdims=keepdim,
                                                                        unbiased=unbiased),
           ref.var, examples(single(), lambda s: var_params(s, "unbiased")), torch_fn=ref.torch_var),
    OpCase("logsumexp", lambda x, dim, keepdim: x.logsumexp(dim, keepdim), ref.logsumexp,
           examples(single(), reduce_dims),
           torch_fn=lambda x, dim, keepdim: x.logsumexp(dim=tuple(range(x.ndim)) if dim is None else dim,
                                                        keepdim=keepdim)),
    OpCase("logsumexp_wide_values", lambda x, dim, keepdim: minidl.logsumexp(x, dim=dim, keepdim=keepdim),
           ref.logsumexp, examples(single(), reduce_dims), make=wide,
           torch_fn=lambda x, dim, keepdim: x.logsumexp(dim=tuple(range(x.ndim)) if dim is None else dim,
                                                        keepdim=keepdim)),
    OpCase("mean_axis_alias", lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim),
           lambda x, dim, keepdim: x.mean(dim, keepdims=keepdim),
           examples(single(min_dims=1), lambda s: dim_of(s, multiple=True)),
           torch_fn=lambda x, dim, keepdim: x.mean(dim, keepdim)),
    OpCase("var", lambda x, dim, c: x.var(dim, correction=c), lambda x, dim, c: x.var(dim, ddof=c),
           examples(single(min_dims=1, min_side=2), lambda s: st.fixed_dictionaries(
               {"dim": st.integers(-len(s[0]), len(s[0]) - 1), "c": st.sampled_from([0, 1])}))),
]

def distinct_sizes(rng, shape, spacing=0.05):
    """Values of random sign whose sizes |v| are at least ``spacing`` apart and from 0: no ties for the
    ∞-norms, no kink of |v| at 0 for the others."""
    size = int(np.prod(shape, dtype=np.int64))
    sizes = (rng.permutation(size) + 1) * spacing + rng.uniform(0, spacing / 4, size)
    return (rng.choice([-1.0, 1.0], size) * sizes).reshape(shape)


def norm_params(shapes, ps=(2, 1, 3, 0.5, -1, 0, math.inf, -math.inf, "fro")):
    """``p``, and ``dim`` (None, an int, a tuple: at most 2 dims for 'fro') with ``keepdim``."""
    return st.tuples(st.sampled_from(ps), reduce_dims(shapes)).filter(
        lambda pd: pd[0] != "fro" or not isinstance(pd[1]["dim"], tuple) or len(pd[1]["dim"]) <= 2).map(
        lambda pd: {"p": pd[0], **pd[1]})


def _sides(count, low=1, high=4):
    return st.tuples(*[st.integers(low, high)] * count)


def einsum_case(name, equation, shapes, reference=None, as_list=False):
    """One equation run by einsum on operands of the drawn shapes; NumPy's einsum is the reference."""
    call = (lambda *xs: library(xs[0]).einsum(equation, list(xs))) if as_list else \
        (lambda *xs: library(xs[0]).einsum(equation, *xs))
    return OpCase(f"einsum_{name}", call, reference or (lambda *xs: np.einsum(equation, *xs)), examples(shapes))


EINSUM = [
    einsum_case("matmul", "ij,jk->ik", _sides(3).map(lambda s: ((s[0], s[1]), (s[1], s[2])))),
    einsum_case("batched_matmul_implicit", "bij,bjk",
                _sides(4).map(lambda s: ((s[0], s[1], s[2]), (s[0], s[2], s[3])))),
    einsum_case("outer", "i,j->ij", _sides(2).map(lambda s: ((s[0],), (s[1],)))),
    einsum_case("column_sums", "ij->j", _sides(2).map(lambda s: (s,))),
    einsum_case("sum_all", "ij->", _sides(2).map(lambda s: (s,))),
    einsum_case("transpose_implicit", "ba", _sides(2).map(lambda s: (s,))),
    einsum_case("upper_case_labels", "Ab,bC", _sides(3).map(lambda s: ((s[0], s[1]), (s[1], s[2])))),
    einsum_case("attention_scores", "bhqd,bhkd->bhqk", _sides(5, high=3).map(
        lambda s: ((s[0], s[1], s[2], s[3]), (s[0], s[1], s[4], s[3])))),
    einsum_case("three_operands", "ij,jk,kl->il", _sides(4).map(lambda s: ((s[0], s[1]), (s[1], s[2]), (s[2], s[3])))),
    einsum_case("list_of_operands", "i j , j k", _sides(3).map(lambda s: ((s[0], s[1]), (s[1], s[2]))), as_list=True,
                reference=lambda x, y: x @ y),
    einsum_case("diagonal", "ii->i", st.integers(1, 4).map(lambda n: ((n, n),))),
    einsum_case("trace_implicit", "ii", st.integers(1, 4).map(lambda n: ((n, n),))),
    einsum_case("diagonal_times_vector", "iij,j->ij", _sides(2).map(lambda s: ((s[0], s[0], s[1]), (s[1],)))),
    einsum_case("size_one_broadcast", "ij,ij->ij", _sides(2).map(lambda s: ((s[0], 1), (1, s[1])))),
    einsum_case("ellipsis_batch_broadcast", "...ij,...jk", _sides(4).map(
        lambda s: ((s[0], 1, s[1], s[2]), (s[3], s[2], s[1])))),
    einsum_case("ellipsis_summed_away", "...i->i", single(min_dims=1),
                reference=lambda x: x.reshape(-1, x.shape[-1]).sum(axis=0)),
]


NORMS = [
    OpCase("norm", lambda x, p, dim, keepdim: x.norm(p, dim, keepdim), ref.p_norm,
           examples(single(), norm_params), make=distinct_sizes),
    OpCase("norm_functional_fro", lambda x, dim: library(x).norm(x, dim=dim), lambda x, dim: ref.p_norm(x, 2, dim),
           examples(single(), lambda s: reduce_dims(s, keepdim=False).filter(
               lambda p: p["dim"] is None or isinstance(p["dim"], int) or len(p["dim"]) <= 2)),
           make=distinct_sizes),
    # rows of zeros: the gradient there is 0, not NaN (PyTorch's subgradient)
    OpCase("norm_of_zeros", lambda x, p, dim, keepdim: x.norm(p, dim, keepdim), ref.p_norm,
           examples(single(), lambda s: norm_params(s, ps=(2, 1, 3, math.inf))),
           make=lambda rng, shape: np.zeros(shape)),
    OpCase("normalize", lambda x, p, dim: functional(x).normalize(x, p, dim), ref.normalize,
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries(
               {"p": st.sampled_from([2.0, 1.0, 3.0]), "dim": an_int_dim(len(s[0]))})), make=distinct_sizes),
    OpCase("normalize_default_dim", lambda x: functional(x).normalize(x), lambda x: ref.normalize(x, 2.0, 1),
           examples(single(min_dims=2)), make=distinct_sizes),
    # a zero row divides by eps: the values are 0 (its gradient, 1/eps, is too steep for differences)
    OpCase("normalize_zero_rows", lambda x: functional(x).normalize(x * 0, dim=-1), lambda x: x * 0,
           examples(single(min_dims=1)), differentiable=False),
]


SCANS = [
    OpCase("cumsum", lambda x, dim: x.cumsum(dim), lambda x, dim: np.cumsum(x, axis=dim) if x.ndim else x,
           examples(single(), lambda s: an_int_dim(len(s[0])).map(lambda d: {"dim": d}))),
    OpCase("cumsum_functional", lambda x, dim: library(x).cumsum(x, dim=dim) * x,
           lambda x, dim: np.cumsum(x, axis=dim) * x, examples(single(min_dims=1), lambda s: an_int_dim(
               len(s[0])).map(lambda d: {"dim": d}))),
    OpCase("cumsum_of_ints", lambda x: (x * 3).long().cumsum(-1), lambda x: np.cumsum((x * 3).astype(np.int64), -1),
           examples(single(min_dims=1)), differentiable=False),
    OpCase("bmm", lambda x, y: library(x).bmm(x, y), np.matmul,
           examples(_sides(4).map(lambda s: ((s[0], s[1], s[2]), (s[0], s[2], s[3]))))),
    OpCase("bmm_method", lambda x, y: x.bmm(y), np.matmul,
           examples(_sides(4).map(lambda s: ((s[0], s[1], s[2]), (s[0], s[2], s[3]))))),
]

CASES = MATMUL + REDUCTIONS + EINSUM + NORMS + SCANS
