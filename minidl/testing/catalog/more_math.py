"""The remaining tensor math in the catalogue: elementwise extras, the gamma family and ``minidl.special``,
NaN-skipping reductions, covariance, quantiles, running extremes and the combinatorial builders.

References come from NumPy and ``math`` (lgamma) or from the definitions written out here (digamma and
polygamma as sums of the series Σₖ 1/(x+k)ⁿ⁺¹ completed by an integral tail, i0 from its power series).
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog.strategies import a_dim, away_from_zero, drawn_together, hnp_shape
from minidl.testing.harness import OpCase, broadcastable, distinct, examples, library, positive, single

_side = st.integers(1, 4)


# --- value makers ---------------------------------------------------------------------------------------

def off_poles(rng, shape):
    """Values in (-4, 6) at least 0.1 away from the poles 0, -1, -2, … of the gamma family."""
    values = rng.uniform(-4, 6, shape)
    nearest = np.round(values)
    close = (nearest <= 0) & (np.abs(values - nearest) < 0.1)
    return np.where(close, nearest + 0.3, values)


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def off_logit_clamps(rng, shape):
    """Values in (0.02, 0.98) away from logit's clamp points 0.2 and 0.8 (eps = 0.2)."""
    values = rng.uniform(0.02, 0.98, shape)
    return np.where(np.abs(values - 0.2) < 0.03, 0.3, np.where(np.abs(values - 0.8) < 0.03, 0.7, values))


def with_nans(rng, shape):
    """Distinct values with about a quarter NaN, the smallest value always kept."""
    values = distinct(rng, shape)
    keep = values == values.min() if values.size else values.astype(bool)
    return np.where((rng.random(shape) < 0.25) & ~keep, np.nan, values)


def _as_tensor(like, values):
    return values if np.ndim(values) == 0 else library(like).tensor(values, dtype=like.dtype)


# --- references -----------------------------------------------------------------------------------------

def polygamma_reference(n, x):
    """ψ⁽ⁿ⁾(x) from the defining series: digamma as -γ + Σₖ (1/(k+1) - 1/(x+k)), the others as
    (-1)ⁿ⁺¹ n! Σₖ 1/(x+k)ⁿ⁺¹, with the sums over k ≥ K replaced by their Euler–Maclaurin tails."""
    x = np.asarray(x, dtype=np.float64)
    k = np.arange(2000.0)
    terms_x = x[..., None] + k
    tail = x + 2000.0
    if n == 0:
        head = np.sum(1 / (k + 1) - 1 / terms_x, axis=-1)
        tail_sum = (np.log(tail) - np.log(2001.0) + (1 / 2001.0 - 1 / tail) / 2
                    - (1 / tail ** 2 - 1 / 2001.0 ** 2) / 12)
        return -np.euler_gamma + head + tail_sum
    head = np.sum(terms_x ** -(n + 1.0), axis=-1)
    tail_sum = tail ** -float(n) / n + tail ** -(n + 1.0) / 2 + (n + 1) * tail ** -(n + 2.0) / 12
    return (-1) ** (n + 1) * math.factorial(n) * (head + tail_sum)


lgamma_reference = np.vectorize(math.lgamma, otypes=[float])


def i0_reference(x):
    k = np.arange(80.0)
    log_factorial = np.array([math.lgamma(v + 1) for v in k])
    return np.sum(np.exp(2 * k * np.log(np.abs(x[..., None]) / 2 + 1e-300) - 2 * log_factorial), axis=-1)


def xlogy_reference(x, y):
    return np.where(x == 0, 0.0, x * np.log(y))


def cov_reference(x, correction=1, fweights=None, aweights=None):
    c = np.cov(x, ddof=correction, fweights=fweights, aweights=aweights)
    return np.asarray(c)


def quantile_reference(x, q, dim=None, keepdim=False, interpolation="linear", skip_nans=False):
    nan_quantile = np.nanquantile if skip_nans else np.quantile
    return nan_quantile(x, np.asarray(q), axis=dim, keepdims=keepdim, method=interpolation)


def running_extreme(x, dim, largest):
    moved = np.moveaxis(x, dim, -1)
    values = (np.maximum if largest else np.minimum).accumulate(moved, axis=-1)
    positions = np.arange(moved.shape[-1])
    indices = np.where(moved == values, positions, 0)
    indices = np.maximum.accumulate(indices, axis=-1)
    return np.moveaxis(values, -1, dim), np.moveaxis(indices, -1, dim)


def logcumsumexp_reference(x, dim):
    return np.logaddexp.accumulate(x, axis=dim) if x.ndim else x


def block_diag_reference(*blocks):
    blocks = [np.reshape(b, (1, -1)) if b.ndim < 2 else b for b in blocks]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    r = c = 0
    for b in blocks:
        out[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def combinations_reference(x, r, with_replacement):
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    return np.array([[x[i] for i in rows] for rows in choose(range(len(x)), r)]).reshape(-1, r)


def diff_reference(x, n=1, dim=-1, prepend=None, append=None):
    if n == 0:
        return x
    joined = np.concatenate([a for a in (prepend, x, append) if a is not None], axis=dim)
    return np.diff(joined, n=n, axis=dim)


# --- strategies -----------------------------------------------------------------------------------------

def _dim_and_keepdim(shapes, allow_none=True):
    ndim = len(shapes[0])
    dims = st.one_of(st.none(), a_dim(ndim)) if allow_none and ndim else (a_dim(ndim) if ndim else st.none())
    return st.fixed_dictionaries({"dim": dims, "keepdim": st.booleans()})


def _one_dim(shapes):
    return st.fixed_dictionaries({"dim": a_dim(len(shapes[0]))})


@st.composite
def _cov_examples(draw):
    variables, observations = draw(st.integers(0, 3)), draw(st.integers(3, 6))
    shape = (observations,) if variables == 0 else (variables, observations)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    params = {"correction": draw(st.sampled_from([0, 1]))}
    if draw(st.booleans()):
        params["fweights"] = rng.integers(1, 4, observations).tolist()
    return (shape,), params


#: q·(n-1) stays at least 0.004 from a whole or half number for n ≤ 64, so float32 and float64 pick the
#: same order statistics (and 'nearest' never meets a tie)
_quantile_levels = st.sampled_from([0.0, 0.1234, 0.4321, 0.5813, 0.7071, 1.0])


@st.composite
def _quantile_examples(draw, keep_dim=True):
    shape = draw(hnp_shape(min_dims=1))
    params = draw(_dim_and_keepdim((shape,))) if keep_dim else {"dim": None, "keepdim": draw(st.booleans())}
    q = draw(st.one_of(_quantile_levels, st.lists(_quantile_levels, min_size=1, max_size=3)))
    interpolation = draw(st.sampled_from(["linear", "lower", "higher", "nearest", "midpoint"]))
    return (shape,), {**params, "q": q, "interpolation": interpolation}


@st.composite
def _tensordot_examples(draw):
    contracted = draw(st.lists(_side, min_size=0, max_size=2))
    free_a, free_b = draw(st.lists(_side, max_size=2)), draw(st.lists(_side, max_size=2))
    if draw(st.booleans()):
        return (tuple(free_a + contracted), tuple(contracted + free_b)), {"dims": len(contracted)}
    order_a = draw(st.permutations(range(len(free_a) + len(contracted))))
    shape_a = [0] * len(order_a)
    sizes_a = free_a + contracted
    for position, size in zip(order_a, sizes_a):
        shape_a[position] = size
    dims_a = [order_a[len(free_a) + i] for i in range(len(contracted))]
    return (tuple(shape_a), tuple(contracted + free_b)), {"dims": (dims_a, list(range(len(contracted))))}


@st.composite
def _rot90_examples(draw):
    shape = draw(hnp_shape(min_dims=2))
    d0, d1 = draw(st.permutations(range(len(shape))))[:2]
    return (shape,), {"k": draw(st.integers(-3, 5)), "dims": (d0, d1 - draw(st.sampled_from([0, len(shape)])))}


@st.composite
def _diff_examples(draw):
    shape = list(draw(hnp_shape(min_dims=1)))
    d = draw(st.integers(0, len(shape) - 1))
    extra = [tuple(draw(_side) if a == d else s for a, s in enumerate(shape)) for _ in range(2)]
    return (tuple(shape), *extra), {"n": draw(st.integers(0, 3)), "dim": draw(st.sampled_from([d, d - len(shape)]))}


@st.composite
def _block_diag_shapes(draw):
    return tuple(tuple(draw(st.lists(_side, max_size=2))) for _ in range(draw(st.integers(1, 3))))


def _unary(name, fn, reference, make=None, **options):
    return OpCase(name, fn, reference, examples(single()), **({"make": make} if make else {}), **options)


ELEMENTWISE = [
    OpCase("hypot", lambda x, y: library(x).hypot(x, y), np.hypot, examples(broadcastable(2)), make=away_from_zero),
    _unary("logit", lambda x: x.logit(), lambda x: np.log(x / (1 - x)), probabilities),
    _unary("logit_eps", lambda x: library(x).logit(x, eps=0.2),
           lambda x: (lambda p: np.log(p / (1 - p)))(np.clip(x, 0.2, 0.8)), off_logit_clamps),
    OpCase("xlogy", lambda x, y: library(x).xlogy(x, y), xlogy_reference, examples(broadcastable(2)),
           make=(away_from_zero, positive)),
    _unary("sinc", lambda x: library(x).sinc(x), np.sinc),
    OpCase("copysign", lambda x, y: x.copysign(y), np.copysign, examples(broadcastable(2)), make=away_from_zero),
    _unary("deg2rad", lambda x: x.deg2rad(), np.deg2rad),
    _unary("rad2deg", lambda x: library(x).rad2deg(x), np.rad2deg),
    _unary("frac", lambda x: x.frac(), lambda x: x - np.trunc(x), lambda rng, s: rng.uniform(-5, 5, s)),
    OpCase("float_power", lambda x, y: library(x).float_power(x, y).to(x.dtype), np.power,
           examples(broadcastable(2)), make=(positive, lambda rng, s: rng.uniform(-2, 2, s))),
    OpCase("true_divide", lambda x, y: x.true_divide(y), np.true_divide, examples(broadcastable(2)),
           make=(away_from_zero, away_from_zero)),
]

SPECIAL = [
    _unary("lgamma", lambda x: x.lgamma(), lgamma_reference, off_poles),
    _unary("digamma", lambda x: library(x).digamma(x), lambda x: polygamma_reference(0, x), off_poles),
    OpCase("polygamma", lambda x, n: x.polygamma(n), lambda x, n: polygamma_reference(n, x), examples(
        single(), st.fixed_dictionaries({"n": st.integers(1, 3)})), make=lambda rng, s: rng.uniform(0.2, 6, s)),
    OpCase("mvlgamma", lambda x, p: x.mvlgamma(p),
           lambda x, p: p * (p - 1) / 4 * math.log(math.pi) + sum(lgamma_reference(x - i / 2) for i in range(p)),
           examples(single(), st.fixed_dictionaries({"p": st.integers(1, 3)})),
           make=lambda rng, s: rng.uniform(1.2, 5, s)),
    _unary("i0", lambda x: x.i0(), i0_reference, lambda rng, s: rng.uniform(-8, 8, s)),
    OpCase("special_xlog1py", lambda x, y: library(x).special.xlog1py(x, y), lambda x, y: x * np.log1p(y),
           examples(broadcastable(2)), make=(away_from_zero, lambda rng, s: rng.uniform(-0.5, 2, s))),
    _unary("special_entr", lambda x: library(x).special.entr(x), lambda x: -x * np.log(x), positive),
    _unary("special_erfc", lambda x: library(x).special.erfc(x), lambda x: 1 - np.vectorize(math.erf)(x)),
    _unary("special_ndtr", lambda x: library(x).special.ndtr(x),
           lambda x: 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))),
    _unary("special_log_ndtr", lambda x: library(x).special.log_ndtr(x),
           lambda x: np.log(0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2)))),
    _unary("special_ndtri", lambda x: library(x).special.ndtri(x),
           np.vectorize(NormalDist().inv_cdf), probabilities),
]

REDUCTIONS = [
    OpCase("nansum", lambda x, dim, keepdim: x.nansum(dim, keepdim),
           lambda x, dim, keepdim: np.nansum(x, axis=dim, keepdims=keepdim),
           examples(single(min_dims=1), _dim_and_keepdim), make=with_nans),
    OpCase("nanmean", lambda x, dim, keepdim: library(x).nanmean(x, dim, keepdim),
           lambda x, dim, keepdim: np.nanmean(x, axis=dim, keepdims=keepdim),
           examples(single(min_dims=1), lambda s: st.fixed_dictionaries({"dim": st.none(), "keepdim": st.booleans()})),
           make=with_nans),
    OpCase("aminmax", lambda x, dim, keepdim: tuple(x.aminmax(dim=dim, keepdim=keepdim)),
           lambda x, dim, keepdim: (np.amin(x, axis=dim, keepdims=keepdim), np.amax(x, axis=dim, keepdims=keepdim)),
           examples(single(min_dims=1), _dim_and_keepdim), make=distinct),
    OpCase("cov", lambda x, correction, fweights=None: library(x).cov(
        x, correction=correction, fweights=None if fweights is None else library(x).tensor(fweights, device=x.device)),
        cov_reference, drawn_together(_cov_examples())),
    OpCase("cov_aweights", lambda x, w: x.cov(aweights=w), lambda x, w: cov_reference(x, aweights=w),
           examples(st.tuples(_side, st.integers(3, 6)).map(lambda s: ((s[0], s[1]), (s[1],)))),
           make=(lambda rng, s: rng.standard_normal(s), positive)),
    OpCase("corrcoef", lambda x: x.corrcoef(), np.corrcoef,
           examples(st.tuples(_side, st.integers(3, 6)).map(lambda s: ((s[0], s[1]),)))),
    OpCase("quantile", lambda x, q, **p: x.quantile(_as_tensor(x, q), **p), quantile_reference,
           drawn_together(_quantile_examples()), make=distinct),
    OpCase("nanquantile", lambda x, q, **p: library(x).nanquantile(x, _as_tensor(x, q), **p),
           lambda x, q, **p: quantile_reference(x, q, **p, skip_nans=True),
           drawn_together(_quantile_examples(keep_dim=False)), make=with_nans),
]

SCANS = [
    OpCase("cummax", lambda x, dim: tuple(x.cummax(dim)), lambda x, dim: running_extreme(x, dim, True),
           examples(single(min_dims=1), _one_dim), make=distinct),
    OpCase("cummin", lambda x, dim: tuple(library(x).cummin(x, dim)), lambda x, dim: running_extreme(x, dim, False),
           examples(single(min_dims=1), _one_dim), make=distinct),
    OpCase("logcumsumexp", lambda x, dim: x.logcumsumexp(dim), logcumsumexp_reference,
           examples(single(min_dims=1), _one_dim)),
]

BUILDERS = [
    OpCase("cartesian_prod", lambda *xs: library(xs[0]).cartesian_prod(*xs),
           lambda *xs: np.stack([g.reshape(-1) for g in np.meshgrid(*xs, indexing="ij")], 1) if len(xs) > 1 else xs[0],
           examples(st.lists(_side.map(lambda n: (n,)), min_size=1, max_size=3).map(tuple))),
    OpCase("combinations", lambda x, r, with_replacement: library(x).combinations(x, r, with_replacement),
           combinations_reference, drawn_together(st.tuples(_side, st.integers(1, 3), st.booleans()).filter(
               lambda s: s[2] or s[1] <= s[0]).map(lambda s: (((s[0],),), {"r": s[1], "with_replacement": s[2]})))),
    OpCase("block_diag", lambda *xs: library(xs[0]).block_diag(*xs), block_diag_reference,
           examples(_block_diag_shapes())),
    OpCase("vander", lambda x, **p: library(x).vander(x, **p), lambda x, N=None, increasing=False: np.vander(
        x, N, increasing), examples(single(1, 1, min_side=2), st.fixed_dictionaries(
            {"increasing": st.booleans()}, optional={"N": st.integers(2, 4)})),
           torch_fn=None),  # PyTorch's vander backward trips over its own in-place edit (forward: test_more_math)
    OpCase("tensordot", lambda a, b, dims: library(a).tensordot(a, b, dims),
           lambda a, b, dims: np.tensordot(a, b, dims), drawn_together(_tensordot_examples())),
    OpCase("rot90", lambda x, k, dims: x.rot90(k, dims), lambda x, k, dims: np.rot90(x, k, dims),
           drawn_together(_rot90_examples())),
    OpCase("diff", lambda x, p, a, n, dim: x.diff(n, dim, p, a), lambda x, p, a, n, dim: diff_reference(
        x, n, dim, p, a), drawn_together(_diff_examples())),
    OpCase("diff_plain", lambda x, n, dim: library(x).diff(x, n, dim), lambda x, n, dim: diff_reference(x, n, dim),
           drawn_together(_diff_examples().map(lambda e: (e[0][:1], e[1])))),
]

CASES = ELEMENTWISE + SPECIAL + REDUCTIONS + SCANS + BUILDERS
