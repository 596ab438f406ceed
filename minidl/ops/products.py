"""Products, as PyTorch's: prod and cumprod of elements; dot, mm, outer, addmm, baddbmm and kron of
vectors and matrices.

The product of elements has the product of the *others* as its derivative:
    z = Πᵢ xᵢ      ⇒  dz/dxⱼ = Π_{i≠j} xᵢ = (Π_{i<j} xᵢ)·(Π_{i>j} xᵢ)
computed from running products from both ends, never as z / xⱼ, so that it stays right when some
xᵢ are 0 (with one zero, only that element gets a nonzero gradient). The running product
zᵢ = Π_{j≤i} xⱼ (cumprod) likewise gets
    dL/dxⱼ = Σ_{i≥j} gᵢ·Π_{k≤i, k≠j} xₖ = (Π_{k<j} xₖ)·Sⱼ,   Sⱼ = gⱼ + xⱼ₊₁·Sⱼ₊₁  (S past the end = 0)
one step per position, from the end, without dividing.
The matrix products are matmul with the shape checks of their PyTorch names (dot: two vectors,
mm: two matrices, ...), so they share matmul's backward: dL/dA = G Bᵀ, dL/dB = Aᵀ G.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.common import binary_operands, is_tensor, one_dim
from minidl.ops.linalg import bmm, matmul
from minidl.ops.shape import reshape


def along(dim, part):
    """The index that takes ``part`` (a slice) of dim ``dim`` and everything of the other dims."""
    return (slice(None),) * dim + (part,)


def exclusive_cumprod(x, dim):
    """Π_{k<j} xₖ along dim for every position j (1 at the first): the running product shifted by one."""
    xp = array_module(x)
    ones = xp.ones(x.shape[:dim] + (1,) + x.shape[dim + 1:], dtype=x.dtype)
    shifted = xp.concatenate([ones, x.cumprod(axis=dim)], axis=dim)
    return shifted[along(dim, slice(0, x.shape[dim]))]


class Prod(Function):
    """z = Πᵢ xᵢ along dim;  dz/dxⱼ = (Π_{i<j} xᵢ)·(Π_{i>j} xᵢ), the product of the others (no division)"""

    def forward(self, x, dim, keepdim):
        self.save(x)
        self.dim, self.keepdim = dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(self, g):
        (x,) = self.saved
        xp = array_module(x)
        before = exclusive_cumprod(x, self.dim)
        after = xp.flip(exclusive_cumprod(xp.flip(x, axis=self.dim), self.dim), axis=self.dim)
        g = g if self.keepdim else xp.expand_dims(g, self.dim)
        return g * before * after


class CumProd(Function):
    """zᵢ = Π_{j≤i} xⱼ along dim;  dL/dxⱼ = (Π_{k<j} xₖ)·Sⱼ with Sⱼ = gⱼ + xⱼ₊₁·Sⱼ₊₁ (no division)"""

    name = "cumprod"

    def forward(self, x, dim):
        self.save(x)
        self.dim = dim
        return x.cumprod(axis=dim)

    def backward(self, g):
        (x,) = self.saved
        xp = array_module(x)
        x_rows, g_rows = xp.moveaxis(x, self.dim, 0), xp.moveaxis(g, self.dim, 0)
        sums = xp.empty_like(g_rows)
        running = xp.zeros_like(g_rows[0])
        for j in reversed(range(len(g_rows))):
            running = g_rows[j] + (x_rows[j + 1] * running if j + 1 < len(g_rows) else 0)
            sums[j] = running
        return xp.moveaxis(sums * exclusive_cumprod(x_rows, 0), 0, self.dim)


# --- functional forms -------------------------------------------------------------

def _as_reducible(input, dtype, op):  # noqa: A002 (PyTorch's names)
    if not is_tensor(input):
        raise TypeError(f"{op}: expected a tensor, got {type(input).__name__}")
    if dtype is not None:
        return input.to(dtype)
    return input.to(np.int64) if input.array.dtype.kind in "bi" else input  # as sum: bools and ints as int64


def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The product of all elements (``dim`` None: a 0-d tensor) or along the int ``dim``."""
    input = _as_reducible(input, dtype, "prod")
    if dim is None:
        return Prod.apply(reshape(input, -1), dim=0, keepdim=False)
    d = one_dim(dim, input.ndim, "prod")
    if input.ndim == 0:
        return input.clone()
    return Prod.apply(input, dim=d, keepdim=bool(keepdim))


def cumprod(input, dim, *, dtype=None):  # noqa: A002
    """The running product of ``input`` along ``dim``."""
    input = _as_reducible(input, dtype, "cumprod")
    d = one_dim(dim, input.ndim, "cumprod")
    if input.ndim == 0:
        return CumProd.apply(input.reshape(1), dim=0).reshape(())
    return CumProd.apply(input, dim=d)


def _dims(op, expected, **tensors):
    for name, tensor in tensors.items():
        if not is_tensor(tensor):
            raise TypeError(f"{op}: {name} must be a tensor, got {type(tensor).__name__}")
        if tensor.ndim != expected:
            shapes = " and ".join(f"{n} of shape {tuple(t.shape)}" for n, t in tensors.items() if is_tensor(t))
            raise ShapeError(f"{op}: expected {expected}-D tensors, got {shapes}")


def _same_dtype(op, a, b):
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: expected both tensors of one dtype, got {a.dtype} and {b.dtype}")


def dot(input, other):  # noqa: A002
    """Σᵢ input_i · other_i for two 1-D tensors of one size and dtype (a 0-d tensor)."""
    _dims("dot", 1, input=input, other=other)
    if input.shape != other.shape:
        raise ShapeError(f"dot: expected two vectors of one size, got sizes {input.shape[0]} and {other.shape[0]}")
    _same_dtype("dot", input, other)
    return matmul(input, other)


def mm(input, mat2):  # noqa: A002
    """The matrix product of (n, m) ``input`` and (m, p) ``mat2``; no broadcasting (use matmul)."""
    _dims("mm", 2, input=input, mat2=mat2)
    if input.shape[1] != mat2.shape[0]:
        raise ShapeError(f"mm: shapes {tuple(input.shape)} and {tuple(mat2.shape)} cannot be multiplied "
                         f"({input.shape[1]} != {mat2.shape[0]})")
    _same_dtype("mm", input, mat2)
    return matmul(input, mat2)


def outer(input, vec2):  # noqa: A002
    """The (n, m) matrix input_i · vec2_j of two 1-D tensors."""
    _dims("outer", 1, input=input, vec2=vec2)
    a, b = binary_operands(input, vec2)
    return reshape(a, -1, 1) * reshape(b, 1, -1)



def _scaled_sum(op, input, product, beta, alpha):  # noqa: A002
    """beta·input + alpha·product, ``input`` broadcastable to the product's shape; beta = 0 ignores input
    (its NaN and inf too), as in PyTorch."""
    if not is_tensor(input):
        raise TypeError(f"{op}: input must be a tensor, got {type(input).__name__}")
    try:
        fits = np.broadcast_shapes(tuple(input.shape), tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast to the product's shape "
                         f"{tuple(product.shape)}")
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled
    return scaled + (input if beta == 1 else input * beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """beta·input + alpha·(mat1 @ mat2), with (n, m) mat1 and (m, p) mat2."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta·input + alpha·bmm(batch1, batch2), with (b, n, m) batch1 and (b, m, p) batch2."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def kron(input, other):  # noqa: A002
    """The Kronecker product: every element a of ``input`` replaced by the block a·other. With the dims
    lined up from the right, z[i·m + k, ...] = input[i, ...]·other[k, ...]: one broadcast product of
    input with a new size-1 dim after each dim and other with one before each, then a reshape."""
    a, b = binary_operands(input, other)
    ndim = max(a.ndim, b.ndim)
    a_shape = (1,) * (ndim - a.ndim) + tuple(a.shape)
    b_shape = (1,) * (ndim - b.ndim) + tuple(b.shape)
    spread_a = reshape(a, tuple(s for n in a_shape for s in (n, 1)))
    spread_b = reshape(b, tuple(s for n in b_shape for s in (1, n)))
    return reshape(spread_a * spread_b, tuple(n * m for n, m in zip(a_shape, b_shape)))
