"""Matrix products and reductions in the catalogue."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minidl
from minidl.testing.catalog import references as ref
from minidl.testing.catalog.strategies import MATMUL_FORMS, matmul_shapes, reduce_dims, std_shapes, var_params, wide
from minidl.testing.harness import OpCase, dim_of, distinct, examples, single


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

CASES = MATMUL + REDUCTIONS
