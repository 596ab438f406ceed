"""The functions of ``minidl.linalg`` (as ``torch.linalg``): argument checks, result tuples and norms.

The matrix functions themselves (inverse, det, solve, cholesky, eigh, svd, qr) are the ops of
``minidl.ops.matrix_functions``; this module checks what users pass and shapes the results as PyTorch does.
Norms are built from existing ops (their gradients follow):

    vector_norm(x, ord)         (Σᵢ |xᵢ|^ord)^(1/ord)  (max |xᵢ| for inf, min for -inf, nonzero count for 0)
    matrix_norm(A, 'fro')       √(Σᵢⱼ Aᵢⱼ²)
    matrix_norm(A, 1 / -1)      max / min over columns of Σᵢ |Aᵢⱼ|
    matrix_norm(A, inf / -inf)  max / min over rows of Σⱼ |Aᵢⱼ|
    matrix_norm(A, 2 / -2)      the largest / smallest singular value;  'nuc': the sum of singular values
"""

from __future__ import annotations

import math
import numbers
from collections import namedtuple

from minidl.core.creation import zeros
from minidl.core.errors import ShapeError
from minidl.ops.common import is_tensor, normalize_dims
from minidl.ops.linalg import matmul
from minidl.ops.matrix_functions import QR, Cholesky, Det, Eigh, Inverse, SlogDet, Solve, Svd, SvdVals
from minidl.ops.vector_norm import norm as p_norm

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])

MATRIX_ORDERS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _floating(a, op, name="A"):
    if not is_tensor(a):
        raise TypeError(f"{op}: {name} must be a tensor, got {type(a).__name__}")
    if a.array.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor as {name}, got {a.dtype} (use .float() first)")
    return a


def _matrices(a, op, name="A"):
    """``a`` checked to be a float tensor of at least 2 dims."""
    _floating(a, op, name)
    if a.ndim < 2:
        raise ShapeError(f"{op}: {name} must have at least 2 dimensions, got shape {tuple(a.shape)}")
    return a


def _square(a, op, name="A"):
    """``a`` checked to be a float stack of square matrices (..., n, n)."""
    _matrices(a, op, name)
    if a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{op}: {name} must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices (shape {tuple(a.shape)})")
    return a


def inv(A):  # noqa: N803 (PyTorch's names)
    """The inverse of each square matrix of ``A`` (..., n, n); a singular matrix raises LinAlgError."""
    return Inverse.apply(_square(A, "linalg.inv"))


def det(A):  # noqa: N803
    """The determinant of each square matrix of ``A`` (..., n, n), shape (...)."""
    return Det.apply(_square(A, "linalg.det"))


def slogdet(A):  # noqa: N803
    """(sign, logabsdet) of the determinant of each square matrix: det = sign · exp(logabsdet)."""
    return SlogdetResult(*SlogDet.apply(_square(A, "linalg.slogdet")))


def solve(A, B, *, left=True):  # noqa: N803
    """X with A X = B (``left=False``: X A = B). ``B`` is a stack of matrices (..., n, k), or of vectors
    (n,) or (..., n) when it has one dim less than ``A``; batch dims broadcast."""
    _square(A, "linalg.solve")
    _floating(B, "linalg.solve", "B")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if not left:  # X A = B is Aᵀ Xᵀ = Bᵀ
        if vector:
            raise ShapeError(f"linalg.solve: with left=False (X A = B), B must be a stack of matrices (..., k, "
                             f"{A.shape[-1]}), got a vector B of shape {tuple(B.shape)} for A {tuple(A.shape)}")
        return solve(A.mT, B.mT).mT
    matrix_b = B.unsqueeze(-1) if vector else B
    if matrix_b.ndim < 2 or matrix_b.shape[-2] != A.shape[-1]:
        raise ShapeError(f"linalg.solve: incompatible shapes of A and B for the equation AX = B: A {tuple(A.shape)}, "
                         f"B {tuple(B.shape)} (B needs {A.shape[-1]} rows)")
    if A.dtype != B.dtype:
        raise TypeError(f"linalg.solve: A and B must have the same dtype, got {A.dtype} and {B.dtype}")
    x = Solve.apply(A, matrix_b)
    return x.squeeze(-1) if vector else x


def cholesky(A, *, upper=False):  # noqa: N803
    """L with A = L Lᵀ, lower triangular, read from A's lower triangle (``upper=True``: U = Lᵀ with A = UᵀU,
    read from A's upper triangle); A must be symmetric positive-definite, else LinAlgError."""
    _square(A, "linalg.cholesky")
    return Cholesky.apply(A.mT).mT if upper else Cholesky.apply(A)


def _uplo(UPLO, op):  # noqa: N803
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def eigh(A, UPLO="L"):  # noqa: N803
    """(eigenvalues, eigenvectors) of each symmetric matrix of ``A``, read from its ``UPLO`` triangle:
    eigenvalues ascending, eigenvectors the columns of an orthogonal matrix V with A = V diag(λ) Vᵀ."""
    return EighResult(*Eigh.apply(_square(A, "linalg.eigh"), uplo=_uplo(UPLO, "linalg.eigh")))


def eigvalsh(A, UPLO="L"):  # noqa: N803
    """The eigenvalues (ascending) of each symmetric matrix of ``A``."""
    return Eigh.apply(_square(A, "linalg.eigvalsh"), uplo=_uplo(UPLO, "linalg.eigvalsh"))[0]


def svdvals(A):  # noqa: N803
    """The singular values (descending) of each matrix of ``A`` (..., m, n), shape (..., min(m, n))."""
    return SvdVals.apply(_matrices(A, "linalg.svdvals"))


def svd(A, full_matrices=True):  # noqa: N803
    """(U, S, Vh) with A = U diag(S) Vh; U (..., m, m) and Vh (..., n, n) when ``full_matrices``, else
    (..., m, k) and (..., k, n), k = min(m, n). Only S is differentiable (see linalg.svdvals)."""
    return SVDResult(*Svd.apply(_matrices(A, "linalg.svd"), full_matrices=bool(full_matrices)))


def qr(A, mode="reduced"):  # noqa: N803
    """(Q, R) with A = QR, Q with orthonormal columns, R upper triangular. ``mode``: 'reduced' (Q (..., m, k),
    R (..., k, n)), 'complete' (Q (..., m, m)) or 'r' (R only; Q is empty)."""
    _matrices(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if mode == "r":
        r = QR.apply(A, mode="reduced")[1]
        return QRResult(zeros(0, dtype=A.dtype, device=A.device), r)
    return QRResult(*QR.apply(A, mode=mode))


# --- norms -------------------------------------------------------------------------------------

def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 (PyTorch's names)
    """The ``ord``-norm of ``x`` over ``dim`` (all dims when None, as one flattened vector); ``ord``: any
    number, inf, -inf or 0."""
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg.vector_norm: ord must be a number (inf, -inf and 0 included), got {ord!r}")
    if dtype is not None:
        x = x.to(dtype)
    _floating(x, "linalg.vector_norm", "x")
    return p_norm(x, float(ord), dim, keepdim)


def _matrix_dims(dim, ndim, op):
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"{op}: dim must be a pair of dims, got {dim!r}")
    first, second = (normalize_dims(d, ndim, op)[0] for d in dim)
    if first == second:
        raise ValueError(f"{op}: dim must name two different dims, got {dim!r}")
    return first, second


def _drop(result, dims, keepdim):
    """A result reduced with keepdim=True over ``dims``, with those dims removed unless ``keepdim``."""
    if keepdim:
        return result
    return result.reshape(tuple(n for d, n in enumerate(result.shape) if d not in dims))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002, N803
    """The ``ord``-norm of the matrices of ``A`` in dims ``dim``: 'fro', 'nuc', 1, -1, 2, -2, inf or -inf."""
    op = "linalg.matrix_norm"
    if dtype is not None:
        A = A.to(dtype)  # noqa: N806
    _matrices(A, op)
    if isinstance(ord, bool) or ord not in MATRIX_ORDERS:
        raise ValueError(f"{op}: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf, got {ord!r}")
    rows, columns = _matrix_dims(dim, A.ndim, op)
    if ord == "fro":
        return p_norm(A, 2.0, (rows, columns), keepdim)
    if ord in ("nuc", 2, -2):
        others = [d for d in range(A.ndim) if d not in (rows, columns)]
        values = svdvals(A.permute(*others, rows, columns))
        result = values.sum(-1) if ord == "nuc" else (values.amax(-1) if ord == 2 else values.amin(-1))
        for d in sorted((rows, columns)) if keepdim else ():
            result = result.unsqueeze(d)
        return result
    summed, reduced = (rows, columns) if abs(ord) == 1 else (columns, rows)
    sums = A.abs().sum(summed, keepdim=True)
    extreme = sums.amax(reduced, keepdim=True) if ord > 0 else sums.amin(reduced, keepdim=True)
    return _drop(extreme, (rows, columns), keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002, N803
    """A vector norm or a matrix norm, chosen as PyTorch does: an int ``dim`` (or one dim) gives a vector
    norm, a pair a matrix norm; without ``dim``, a 1-D input gives a vector norm and a 2-D input a matrix
    norm, and without ``ord`` either the 2-norm of the flattened input."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims[0], keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise ValueError(f"linalg.norm: dim must be an int or a pair of ints, got {dim!r}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ShapeError(f"linalg.norm: if dim is not given but ord is, the input must be 1-D or 2-D, "
                     f"got shape {tuple(A.shape)}")


__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eigh", "eigvalsh", "inv",
           "matmul", "matrix_norm", "norm", "qr", "slogdet", "solve", "svd", "svdvals", "vector_norm"]
