"""``minidl.linalg`` in the catalogue: inverse, determinants, solve, factorizations and norms.

Matrix functions are smooth only away from singular matrices, repeated eigenvalues and zero singular
values, so their inputs are drawn well-conditioned: a normal matrix plus n·I (``well_conditioned``),
symmetric positive-definite matrices (``positive_definite``) and symmetric matrices with eigenvalues
at least 1 apart (``separated_spectrum``). cholesky and eigh read one triangle of a symmetric matrix:
their calls symmetrize the input first, so every perturbation of gradcheck stays symmetric. An
eigenvector's sign is arbitrary: calls and references flip each one to a positive first component.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from minidl.testing.catalog.strategies import drawn_together, hnp_shape
from minidl.testing.harness import OpCase, broadcastable, distinct, examples, library, normal

_side = st.integers(1, 4)


def well_conditioned(rng, shape):
    """Normal matrices plus n·I (n the larger side), about half of them with the first row negated (so a
    negative determinant)."""
    matrices = rng.standard_normal(shape) + max(shape[-2:]) * np.eye(*shape[-2:])
    flips = np.where(rng.random(shape[:-2] + (1, 1)) < 0.5, -1.0, 1.0)
    matrices[..., :1, :] *= flips
    return matrices


def positive_definite(rng, shape):
    """Symmetric positive-definite matrices M Mᵀ + n·I."""
    m = rng.standard_normal(shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def separated_spectrum(rng, shape):
    """Symmetric matrices Q diag(λ) Qᵀ with eigenvalues of either sign at least 1 apart."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    spectrum = rng.permutation(n) - n / 2 + rng.uniform(0, 0.2, shape[:-2] + (n,))
    return (q * spectrum[..., None, :]) @ np.swapaxes(q, -1, -2)


def _square_shapes(count=1):
    """(batch..., n, n) shapes (batch of 0 to 2 dims, n from 1 to 4)."""
    return st.tuples(hnp_shape(0, 2, 3), _side).map(lambda s: (s[0] + (s[1], s[1]),) * count)


def _matrix_shapes(tall=False):
    """(batch..., m, n) shapes; ``tall``: m ≥ n."""
    return st.tuples(hnp_shape(0, 2, 3), _side, _side).map(
        lambda s: (s[0] + ((max(s[1], s[2]), min(s[1], s[2])) if tall else (s[1], s[2])),))


def _symmetrized(a):
    return (a + a.mT) * 0.5


def _positive_first(vectors, xp_sign):
    """Eigenvectors (columns) with the sign that makes each first component positive."""
    return vectors * xp_sign(vectors[..., :1, :])


def _eigh_call(a, UPLO):  # noqa: N803 (PyTorch's name)
    values, vectors = library(a).linalg.eigh(_symmetrized(a), UPLO=UPLO)
    return values, _positive_first(vectors, library(a).sign)


def _eigh_reference(a, UPLO):  # noqa: N803
    values, vectors = np.linalg.eigh((a + np.swapaxes(a, -1, -2)) / 2, UPLO=UPLO)
    return values, _positive_first(vectors, np.sign)


def _cholesky_reference(a, upper):
    lower = np.linalg.cholesky((a + np.swapaxes(a, -1, -2)) / 2)
    return np.swapaxes(lower, -1, -2) if upper else lower


@st.composite
def _solve_examples(draw):
    """A and B of one of PyTorch's forms: B a matrix (..., n, k) with broadcast batch dims, a vector (n,),
    or a batch of vectors A.shape[:-1] (vectors with ``left`` only, as PyTorch)."""
    n, k, left = draw(_side), draw(_side), draw(st.booleans())
    a_batch, b_batch = draw(broadcastable(2, max_dims=2, max_side=3))
    form = draw(st.sampled_from(["matrix", "vector", "vectors"] if left else ["matrix"]))
    if form == "vector":
        b = (n,)
    elif form == "vectors":
        b = a_batch + (n,)
    else:
        b = b_batch + ((n, k) if left else (k, n))
        if b == a_batch + (n,):  # PyTorch reads this B as a batch of vectors
            b = a_batch + b[-2:]
    return (a_batch + (n, n), b), {"left": left}


def _solve_reference(a, b, left):
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return np.linalg.solve(a, b[..., None])[..., 0]
    if left:
        return np.linalg.solve(a, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def _norm_reference(x, ord, dim, keepdim):  # noqa: A002 (PyTorch's names)
    """np.linalg.norm with PyTorch's defaults and dispatch (no dim, no ord: the flattened 2-norm)."""
    if dim is None and ord is None:
        result = np.linalg.norm(x.reshape(-1))
        return np.reshape(result, (1,) * x.ndim) if keepdim else result
    return np.linalg.norm(x, ord, axis=dim, keepdims=keepdim)


def _vector_norm_reference(x, ord, dim, keepdim):  # noqa: A002
    if dim is None:
        result = np.linalg.norm(x.reshape(-1), ord)
        return np.reshape(result, (1,) * x.ndim) if keepdim else result
    return np.linalg.norm(x, ord, axis=dim, keepdims=keepdim)


@st.composite
def _vector_norm_examples(draw):
    shape = draw(hnp_shape(1, 3))
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return (shape,), {"ord": draw(st.sampled_from([2, 1, 3.5, -1, math.inf, -math.inf])), "dim": dim,
                      "keepdim": draw(st.booleans())}


@st.composite
def _matrix_norm_examples(draw):
    shape = draw(hnp_shape(2, 3))
    rows, columns = (draw(st.sampled_from([d, d - len(shape)])) for d in draw(st.permutations(range(len(shape))))[:2])
    return (shape,), {"ord": draw(st.sampled_from(["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])),
                      "dim": (rows, columns), "keepdim": draw(st.booleans())}


@st.composite
def _norm_examples(draw):
    """linalg.norm's dispatch: no dim (flattened 2-norm, or a 1-D / 2-D input with ord), an int dim, a pair."""
    form = draw(st.sampled_from(["flat", "vector", "matrix", "dim", "pair"]))
    keepdim = draw(st.booleans())
    if form == "flat":
        return (draw(hnp_shape(1, 3)),), {"ord": None, "dim": None, "keepdim": keepdim}
    if form in ("vector", "matrix"):
        shape = draw(hnp_shape(1, 1)) if form == "vector" else draw(hnp_shape(2, 2))
        ords = [2, 1, math.inf] if form == "vector" else ["fro", "nuc", 1, 2, -math.inf]
        return (shape,), {"ord": draw(st.sampled_from(ords)), "dim": None, "keepdim": keepdim}
    shape = draw(hnp_shape(2, 3))
    if form == "dim":
        return (shape,), {"ord": draw(st.sampled_from([None, 3])), "dim": draw(st.integers(0, len(shape) - 1)),
                          "keepdim": keepdim}
    return (shape,), {"ord": draw(st.sampled_from([None, 1, "nuc"])), "dim": (0, len(shape) - 1), "keepdim": keepdim}


CASES = [
    OpCase("linalg_inv", lambda a: library(a).linalg.inv(a), np.linalg.inv, examples(_square_shapes()),
           make=well_conditioned),
    OpCase("linalg_det", lambda a: library(a).linalg.det(a), np.linalg.det, examples(_square_shapes()),
           make=well_conditioned),
    OpCase("linalg_slogdet", lambda a: tuple(library(a).linalg.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)),
           examples(_square_shapes()), make=well_conditioned),
    OpCase("linalg_solve", lambda a, b, left: library(a).linalg.solve(a, b, left=left), _solve_reference,
           drawn_together(_solve_examples()), make=(well_conditioned, normal)),
    OpCase("linalg_cholesky", lambda a, upper: library(a).linalg.cholesky(_symmetrized(a), upper=upper),
           _cholesky_reference, examples(_square_shapes(), lambda s: st.fixed_dictionaries({"upper": st.booleans()})),
           make=positive_definite),
    OpCase("linalg_eigh", _eigh_call, _eigh_reference,
           examples(_square_shapes(), lambda s: st.fixed_dictionaries({"UPLO": st.sampled_from(["L", "U"])})),
           make=separated_spectrum),
    OpCase("linalg_eigvalsh", lambda a: library(a).linalg.eigvalsh(_symmetrized(a)),
           lambda a: np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)) / 2), examples(_square_shapes()),
           make=separated_spectrum),
    OpCase("linalg_svdvals", lambda a: library(a).linalg.svdvals(a), lambda a: np.linalg.svd(a, compute_uv=False),
           examples(_matrix_shapes()), make=distinct),
    OpCase("linalg_svd_values", lambda a, full: library(a).linalg.svd(a, full_matrices=full).S,
           lambda a, full: np.linalg.svd(a, compute_uv=False),
           examples(_matrix_shapes(), lambda s: st.fixed_dictionaries({"full": st.booleans()})), make=distinct),
    OpCase("linalg_qr", lambda a: tuple(library(a).linalg.qr(a)), lambda a: tuple(np.linalg.qr(a)),
           examples(_matrix_shapes(tall=True)), make=well_conditioned),
    OpCase("linalg_vector_norm", lambda x, **p: library(x).linalg.vector_norm(x, **p), _vector_norm_reference,
           drawn_together(_vector_norm_examples()), make=distinct),
    OpCase("linalg_matrix_norm", lambda x, **p: library(x).linalg.matrix_norm(x, **p), _norm_reference,
           drawn_together(_matrix_norm_examples()), make=distinct),
    OpCase("linalg_norm", lambda x, **p: library(x).linalg.norm(x, **p), _norm_reference,
           drawn_together(_norm_examples()), make=distinct),
]
