"""Matrix functions of ``minidl.linalg``: inverse, determinant, solve, Cholesky, eigh and singular values.

Every op works on a stack of matrices (..., m, n) (square where the function needs it), batched over
the leading dims. With G the
gradient of the output and Aᵀ the transpose of the last two dims, the backward formulas are:

    Z = A⁻¹                 dL/dA = -Zᵀ G Zᵀ
    d = det A               dL/dA = g·d·A⁻ᵀ
    (s, l) = slogdet A      dL/dA = g_l·A⁻ᵀ             (the sign s is piecewise constant)
    X = A⁻¹B                dL/dB = A⁻ᵀ G,  dL/dA = -(dL/dB) Xᵀ
    L = cholesky A          dL/dA = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹)   (Murray 2016; Φ: lower triangle, diagonal halved)
    (λ, V) = eigh A         dL/dA = sym(V (diag(g_λ) + F∘(Vᵀ G_V)) Vᵀ),  F_ij = 1/(λ_j - λ_i), F_ii = 0
    σ = svdvals A           dL/dA = U diag(g_σ) Vᵀ          (A = U diag(σ) Vᵀ, reduced)
    (Q, R) = qr A           dL/dA = (G_Q + Q copyltu(M)) R⁻ᵀ,  M = R G_Rᵀ - G_Qᵀ Q   (m ≥ n)

where sym(X) = ½(X + Xᵀ): eigh and cholesky read one triangle of a symmetric matrix, so their
gradient is the symmetric one. eigh's gradient needs distinct eigenvalues (F is 1/0 otherwise);
cholesky's and det's need an invertible A.

A singular matrix (inv, solve) or one not positive-definite (cholesky) raises LinAlgError naming the
batch element, as PyTorch does; on CUDA, CuPy does not report these failures, and the results hold
inf or nan instead.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import MinidlError


class LinAlgError(MinidlError, RuntimeError):
    """A matrix function failed on its input: a singular matrix, a matrix not positive-definite."""


def transposed(a):
    """The matrices of a stack, transposed (the last two dims swapped)."""
    return a.swapaxes(-1, -2)


def symmetric_part(a):
    return (a + transposed(a)) * a.dtype.type(0.5)


def _is_linalg_error(error):
    return type(error).__name__ == "LinAlgError"  # NumPy's and CuPy's are different classes


def _failing_element(solver, a):
    """The index (in the flattened batch) of the first matrix of ``a`` that ``solver`` rejects."""
    matrices = a.reshape((-1,) + a.shape[-2:])
    for index in range(matrices.shape[0]):
        try:
            solver(matrices[index])
        except Exception as error:  # noqa: BLE001
            if _is_linalg_error(error):
                return index
            raise
    return 0


def _guarded(solver, a, op, problem, solver_of_one=None):
    """``solver(a)``, raising LinAlgError naming ``op`` and the batch element (found with ``solver_of_one``,
    by default ``solver``) when a matrix of ``a`` is ``problem``."""
    try:
        return solver(a)
    except Exception as error:  # noqa: BLE001
        if not _is_linalg_error(error):
            raise
        where = f"(Batch element {_failing_element(solver_of_one or solver, a)}): " if a.ndim > 2 else ""
        raise LinAlgError(f"{op}: {where}the input matrix of shape {tuple(a.shape[-2:])} is {problem}") from None


class Inverse(Function):
    """Z = A⁻¹;  dL/dA = -Zᵀ G Zᵀ"""

    name = "linalg.inv"

    def forward(self, a):
        z = _guarded(array_module(a).linalg.inv, a, self.name, "singular (not invertible)")
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        zt = transposed(z)
        return -(zt @ g @ zt)


class Det(Function):
    """d = det A;  dL/dA = g·d·A⁻ᵀ  (A invertible)"""

    name = "linalg.det"

    def forward(self, a):
        d = array_module(a).linalg.det(a)
        self.save(a, d)
        return d

    def backward(self, g):
        a, d = self.saved
        inverse = _guarded(array_module(a).linalg.inv, a, "linalg.det backward", "singular (not invertible)")
        return (g * d)[..., None, None] * transposed(inverse)


class SlogDet(Function):
    """(s, l) = (sign det A, log |det A|);  dL/dA = g_l·A⁻ᵀ (s carries no gradient)"""

    name = "linalg.slogdet"
    non_differentiable = (0,)

    def forward(self, a):
        sign, logabsdet = array_module(a).linalg.slogdet(a)
        self.save(a)
        return sign, logabsdet

    def backward(self, g_sign, g_logabsdet):
        (a,) = self.saved
        inverse = _guarded(array_module(a).linalg.inv, a, "linalg.slogdet backward", "singular (not invertible)")
        return g_logabsdet[..., None, None] * transposed(inverse)


class Solve(Function):
    """X = A⁻¹B (B a stack of matrices; batch dims broadcast);  dL/dB = A⁻ᵀ G,  dL/dA = -(dL/dB) Xᵀ"""

    name = "linalg.solve"

    def forward(self, a, b):
        xp = array_module(a)
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))  # host-side shape math
        a, b = xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])
        x = _guarded(lambda m: xp.linalg.solve(m, b), a, self.name, "singular (not invertible)",
                     xp.linalg.inv)
        self.save(a, x)
        return x

    def backward(self, g):
        a, x = self.saved
        grad_b = array_module(g).linalg.solve(transposed(a), g)
        return -(grad_b @ transposed(x)), grad_b


class Cholesky(Function):
    """L = cholesky A (lower, A = L Lᵀ, read from A's lower triangle);  dL/dA = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹),
    Φ(X) = the lower triangle of X with its diagonal halved"""

    name = "linalg.cholesky"

    def forward(self, a):
        lower = _guarded(array_module(a).linalg.cholesky, a, self.name, "not positive-definite")
        self.save(lower)
        return lower

    def backward(self, g):
        (lower,) = self.saved
        xp = array_module(g)
        n = lower.shape[-1]
        phi = xp.tril(transposed(lower) @ xp.tril(g)) * (1 - 0.5 * xp.eye(n, dtype=g.dtype))
        inverse = xp.linalg.inv(lower)
        return symmetric_part(transposed(inverse) @ phi @ inverse)


class Eigh(Function):
    """(λ, V) = eigh A (ascending λ, A = V diag(λ) Vᵀ);
    dL/dA = sym(V (diag(g_λ) + F∘(Vᵀ G_V)) Vᵀ),  F_ij = 1/(λ_j - λ_i), F_ii = 0 (distinct λ)"""

    name = "linalg.eigh"

    def forward(self, a, uplo):
        values, vectors = array_module(a).linalg.eigh(a, UPLO=uplo)
        self.save(values, vectors)
        return values, vectors

    def backward(self, g_values, g_vectors):
        values, vectors = self.saved
        xp = array_module(values)
        inner = xp.zeros(vectors.shape, dtype=vectors.dtype)
        if g_vectors is not None:
            off_diagonal = ~xp.eye(values.shape[-1], dtype=bool)
            gaps = xp.where(off_diagonal, values[..., None, :] - values[..., :, None], values.dtype.type(1))
            inner = xp.where(off_diagonal, (transposed(vectors) @ g_vectors) / gaps, values.dtype.type(0))
        if g_values is not None:
            inner = inner + g_values[..., None, :] * xp.eye(values.shape[-1], dtype=values.dtype)
        return symmetric_part(vectors @ inner @ transposed(vectors))


class SvdVals(Function):
    """σ = the singular values of A (descending);  dL/dA = U diag(g_σ) Vᵀ (A = U diag(σ) Vᵀ, reduced)"""

    name = "linalg.svdvals"

    def forward(self, a):
        u, s, vh = array_module(a).linalg.svd(a, full_matrices=False)
        self.save(u, vh)
        return s

    def backward(self, g):
        u, vh = self.saved
        return (u * g[..., None, :]) @ vh


class Svd(Function):
    """(U, σ, Vᵀ) = svd A;  dL/dA = U diag(g_σ) Vᵀ when only σ receives a gradient (the gradient through
    U and Vᵀ is not implemented: use svdvals, or eigh of AᵀA)"""

    name = "linalg.svd"

    def forward(self, a, full_matrices):
        u, s, vh = array_module(a).linalg.svd(a, full_matrices=full_matrices)
        self.save(u, vh)
        return u, s, vh

    def backward(self, g_u, g_s, g_vh):
        if g_u is not None or g_vh is not None:
            raise NotImplementedError("linalg.svd: the gradient through U and Vh is not implemented; only S "
                                      "(the singular values) is differentiable; use linalg.svdvals")
        u, vh = self.saved
        k = g_s.shape[-1]
        return (u[..., :, :k] * g_s[..., None, :]) @ vh[..., :k, :]


class QR(Function):
    """(Q, R) = qr A (reduced, m ≥ n);  dL/dA = (G_Q + Q copyltu(M)) R⁻ᵀ,  M = R G_Rᵀ - G_Qᵀ Q,
    copyltu(M) = tril(M) + tril(M, -1)ᵀ (the lower triangle mirrored up)"""

    name = "linalg.qr"

    def forward(self, a, mode):
        q, r = array_module(a).linalg.qr(a, mode=mode)
        self.save(q, r)
        self.mode = mode
        return q, r

    def backward(self, g_q, g_r):
        q, r = self.saved
        if self.mode != "reduced" or q.shape[-2] < r.shape[-1]:
            raise NotImplementedError(f"linalg.qr: the gradient is implemented for mode='reduced' with rows ≥ "
                                      f"columns only, got mode={self.mode!r} and A of shape "
                                      f"{(q.shape[-2], r.shape[-1])}")
        xp = array_module(q)
        g_q = xp.zeros(q.shape, dtype=q.dtype) if g_q is None else g_q
        g_r = xp.zeros(r.shape, dtype=r.dtype) if g_r is None else g_r
        m = r @ transposed(g_r) - transposed(g_q) @ q
        copyltu = xp.tril(m) + transposed(xp.tril(m, -1))
        return (g_q + q @ copyltu) @ transposed(xp.linalg.inv(r))
