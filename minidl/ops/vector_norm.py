"""Vector norms, as PyTorch's ``norm`` and ``F.normalize``.

    ‖x‖_p = (Σᵢ |xᵢ|^p)^(1/p)          (p = 2: the Euclidean length; 'fro' is p = 2 over the dims)
    ‖x‖_∞ = maxᵢ |xᵢ|,  ‖x‖_-∞ = minᵢ |xᵢ|,  ‖x‖_0 = the number of nonzero xᵢ

    d‖x‖_p/dxᵢ = sign(xᵢ) (|xᵢ| / ‖x‖_p)^(p-1)      (p = 2: xᵢ / ‖x‖, p = 1: sign(xᵢ))

Where the norm (or xᵢ) is 0 that formula is 0/0 or 1/0: the gradient there is 0, the subgradient
PyTorch picks, so the norm of a zero vector has gradient 0, not NaN. The ∞-norms share their
gradient among tied largest (smallest) values; the 0-"norm" counts and has gradient 0.
"""

from __future__ import annotations

import math

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.ops.arithmetic import clamp, div
from minidl.ops.common import expand_dims_like, normalize_dims, quietly


class VectorNorm(Function):
    """z = (Σᵢ |xᵢ|^p)^(1/p) over dims (max |xᵢ| for p = ∞, min for -∞, the nonzero count for 0);
    dz/dxᵢ = sign(xᵢ) (|xᵢ|/z)^(p-1), 0 where xᵢ = 0 or z = 0 (∞-norms: sign(xᵢ) split among the ties)"""

    name = "norm"

    def forward(self, x, p, dims, keepdim):
        xp = array_module(x)
        size = xp.abs(x)
        with quietly(x):
            if p == math.inf or p == -math.inf:
                z = size.max(axis=dims, keepdims=True) if p > 0 else size.min(axis=dims, keepdims=True)
            elif p == 0:
                z = (size != 0).sum(axis=dims, keepdims=True).astype(x.dtype)
            elif p == 2:
                z = xp.sqrt((x * x).sum(axis=dims, keepdims=True))
            else:
                z = (size ** x.dtype.type(p)).sum(axis=dims, keepdims=True) ** x.dtype.type(1 / p)
        self.save(x, z)
        self.p, self.dims, self.keepdim, self.in_shape = p, dims, keepdim, x.shape
        return z if keepdim else z.reshape([n for d, n in enumerate(x.shape) if d not in dims])

    def backward(self, g):
        x, z = self.saved
        xp = array_module(g)
        g = expand_dims_like(g, self.in_shape, self.dims, self.keepdim)
        size, zero = xp.abs(x), g.dtype.type(0)
        if self.p == 0:
            return xp.zeros(self.in_shape, dtype=g.dtype)
        if math.isinf(self.p):
            ties = size == z
            return g * xp.sign(x) * ties / ties.sum(axis=self.dims, keepdims=True).astype(g.dtype)
        with quietly(g):
            slope = xp.sign(x) * (size / z) ** g.dtype.type(self.p - 1)
        return g * xp.where((size == 0) | (z == 0), zero, slope)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):  # noqa: A002 (PyTorch's names)
    """The p-norm of ``input`` over ``dim`` (all dims when None: the flattened tensor's vector norm).

    ``p``: a number (inf, -inf and 0 included) or 'fro' (the 2-norm over at most 2 dims).
    """
    if out is not None:
        raise TypeError("norm: out= is not supported; use the returned tensor")
    if dtype is not None:
        input = input.to(dtype)
    if input.array.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating point tensor, got {input.dtype} (use .float() first)")
    dims = normalize_dims(dim, input.ndim, "norm")
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm: the nuclear norm (p='nuc') needs singular values, which minidl does "
                                      "not compute; use p='fro' or a number")
        if p != "fro":
            raise ValueError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
        if dim is not None and len(dims) > 2:
            raise ValueError(f"norm: p='fro' takes at most 2 dims, got dim={dim}; use p=2 for more")
        p = 2.0
    p = arguments.number(p, "norm", "p")
    if math.isinf(p) and any(input.shape[d] == 0 for d in dims):
        raise ValueError(f"norm: the {p} norm of an empty dim is undefined (shape {input.shape}, dim {dim})")
    return VectorNorm.apply(input, p=p, dims=dims, keepdim=bool(keepdim))


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002
    """``input`` divided by its p-norm along ``dim``: x / max(‖x‖_p, eps) (as F.normalize)."""
    normalize_dims(dim, input.ndim, "normalize")
    return div(input, clamp(norm(input, p, dim, keepdim=True), min=eps))
