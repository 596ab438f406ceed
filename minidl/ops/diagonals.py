"""Diagonals, as PyTorch's: diagonal, diag and trace.

Diagonal ``offset`` of a matrix holds the elements X[i, i + offset] (offset > 0: above the main
diagonal, < 0: below). Taking it and building a matrix from it are each other's backward:
    z = diagonal(X)      ⇒  dL/dX = the matrix with g on that diagonal, 0 elsewhere
    Z = diag(v)          ⇒  dL/dv = the diagonal of G
trace(X) = Σᵢ X[i, i] is the sum of the diagonal.
"""

from __future__ import annotations

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.common import is_tensor, one_dim
from minidl.ops.reduction import sum as total


def positions(xp, rows, columns, offset):
    """(row indices, column indices) of diagonal ``offset`` of a rows × columns matrix."""
    length = max(0, min(rows - max(-offset, 0), columns - max(offset, 0)))
    steps = xp.arange(length)
    return steps + max(-offset, 0), steps + max(offset, 0)


class Diagonal(Function):
    """z = x[..., i, i + offset] over dims dim1, dim2 (as a new last dim);
    dL/dx = g written back on that diagonal, 0 elsewhere"""

    def forward(self, x, offset, dim1, dim2):
        self.in_shape, self.offset, self.dims = x.shape, offset, (dim1, dim2)
        return array_module(x).diagonal(x, offset, dim1, dim2).copy()

    def backward(self, g):
        xp = array_module(g)
        grad = xp.zeros(self.in_shape, dtype=g.dtype)
        matrices = xp.moveaxis(grad, self.dims, (-2, -1))  # a view of grad with the two dims last
        rows, columns = positions(xp, *matrices.shape[-2:], self.offset)
        matrices[..., rows, columns] = g
        return grad


class DiagEmbed(Function):
    """Z = the square matrix with the vector x on diagonal offset, 0 elsewhere;  dL/dx = that diagonal of G"""

    name = "diag"

    def forward(self, x, offset):
        xp = array_module(x)
        size = x.shape[0] + abs(offset)
        z = xp.zeros((size, size), dtype=x.dtype)
        self.offset = offset
        z[positions(xp, size, size, offset)] = x
        return z

    def backward(self, g):
        return g[positions(array_module(g), *g.shape, self.offset)]


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002 (PyTorch's names)
    """Diagonal ``offset`` of the matrices in dims ``dim1`` and ``dim2``, as a new last dim."""
    if not is_tensor(input):
        raise TypeError(f"diagonal: expected a tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"diagonal: expected a tensor of at least 2 dims, got shape {tuple(input.shape)}")
    offset = arguments.integer(offset, "diagonal", "offset")
    d1, d2 = one_dim(dim1, input.ndim, "diagonal"), one_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must be two different dims, got {dim1} and {dim2}")
    return Diagonal.apply(input, offset=offset, dim1=d1, dim2=d2)


def diag(input, diagonal=0):  # noqa: A002
    """A 1-D input: the square matrix with it on diagonal ``diagonal``. A 2-D input: that diagonal."""
    if not is_tensor(input):
        raise TypeError(f"diag: expected a tensor, got {type(input).__name__}")
    offset = arguments.integer(diagonal, "diag", "diagonal")
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=offset)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=offset, dim1=0, dim2=1)
    raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def trace(input):  # noqa: A002
    """Σᵢ input[i, i], the sum of a matrix's main diagonal."""
    if not is_tensor(input):
        raise TypeError(f"trace: expected a tensor, got {type(input).__name__}")
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a matrix (2-D tensor), got shape {tuple(input.shape)}")
    return total(Diagonal.apply(input, offset=0, dim1=0, dim2=1))
