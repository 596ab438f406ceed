"""Matrix multiplication, the dense layer's W·a.

``matmul`` follows NumPy/PyTorch: 1-D operands are promoted to a row or column
vector and the extra dim dropped afterwards; leading (batch) dims broadcast.
The dense layer is one large 2-D GEMM over all rows, forward and backward, which
is what BLAS is fastest at. The kernels in ``minidl/kernels/linalg.py`` share the
products out over minidl's threads.
"""

from __future__ import annotations

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.common import binary_operands, is_tensor, product


def as_rows(a):
    """a (..., n) as the matrix of its rows, (M, n): M from the leading dims, so n may be 0."""
    return a.reshape(product(a.shape[:-1]), a.shape[-1])


class MatMul(Function):
    """Z = A @ B;  dL/dA = G @ Bᵀ,  dL/dB = Aᵀ @ G  (batch dims broadcast; the engine sums them back)"""

    name = "matmul"

    def forward(self, a, b):
        self.save(a, b)
        return a @ b

    def backward(self, g):
        a, b = self.saved
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
            return g * b, g * a
        if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m): a is a row, summed over b's batch
            g = g[..., None, :]
            return (g @ b.swapaxes(-1, -2))[..., 0, :], a[:, None] * g
        if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n): b is a column, summed over a's batch
            g = g[..., None]
            return g * b, (a.swapaxes(-1, -2) @ g)[..., 0]
        return g @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ g

    def shape_error(self, arrays, error):
        a, b = arrays
        if a.ndim == 0 or b.ndim == 0:
            return ShapeError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
        inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if inner_a != inner_b:
            return ShapeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                              f"({inner_a} != {inner_b})")
        return ShapeError(f"matmul: the batch dims of shapes {a.shape} and {b.shape} cannot be broadcast")


def matmul(a, b):
    a, b = binary_operands(a, b)
    if a.array.dtype != b.array.dtype:
        raise TypeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    return MatMul.apply(a, b)


def bmm(input, mat2):  # noqa: A002 (PyTorch's names)
    """Batched matrix product of two 3-D tensors, (b, n, m) @ (b, m, p) -> (b, n, p); no broadcasting."""
    if not is_tensor(input) or not is_tensor(mat2):
        raise TypeError(f"bmm: expected two tensors, got {type(input).__name__} and {type(mat2).__name__}")
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected two 3-D tensors (batch, rows, columns), got shapes {input.shape} and "
                         f"{mat2.shape}; use matmul to broadcast")
    batch, _, inner = input.shape
    if mat2.shape[:2] != (batch, inner):
        raise ShapeError(f"bmm: shapes {input.shape} and {mat2.shape} cannot be multiplied batch by batch "
                         f"(expected mat2 of shape ({batch}, {inner}, p))")
    return matmul(input, mat2)


class Linear(Function):
    """The dense layer z = x Wᵀ + b (the source text's W·a + b, for a batch of rows x).

    dL/dx = G W,  dL/dW = Gᵀ x,  dL/db = Σ_rows G — each one GEMM (or sum) over all
    rows at once, whatever the leading dims of x.
    """

    def forward(self, x, weight, bias=None):
        self.save(x, weight)
        z = as_rows(x) @ weight.T
        if bias is not None:
            z = z + bias
        return z.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        x, weight = self.saved
        g_rows = as_rows(g)
        x_grad = (g_rows @ weight).reshape(x.shape)
        weight_grad = g_rows.T @ as_rows(x)
        return (x_grad, weight_grad, g_rows.sum(axis=0))[:len(self.needs_grad)]

    def shape_error(self, arrays, error):
        x, weight = arrays[0], arrays[1]
        return ShapeError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                          f"(in_features {weight.shape[-1]} != {x.shape[-1] if x.ndim else 'scalar'})")


def linear(input, weight, bias=None):  # noqa: A002  (PyTorch's name)
    """y = input @ weightᵀ + bias, as one node."""
    if input.ndim == 0 or weight.ndim != 2:
        raise ShapeError(f"linear: expected input with at least 1 dim and a 2-D weight, got shapes "
                         f"{input.shape} and {weight.shape}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise TypeError(f"linear: input dtype {input.dtype}, weight dtype {weight.dtype}"
                        + ("" if bias is None else f" and bias dtype {bias.dtype}") + " must be the same")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


class Triangle(Function):
    """z = x where the matrix position (i, j) lies on the kept side of diagonal k, else 0
    (tril: j - i ≤ k, triu: j - i ≥ k);  dz/dx = the same mask"""

    def forward(self, x, diagonal, upper):
        xp = array_module(x)
        rows, columns = x.shape[-2:]
        offset = xp.arange(columns)[None, :] - xp.arange(rows)[:, None]   # j - i
        keep = offset >= diagonal if upper else offset <= diagonal
        self.save(keep)
        return xp.where(keep, x, x.dtype.type(0))

    def backward(self, g):
        (keep,) = self.saved
        return array_module(g).where(keep, g, g.dtype.type(0))


def tril(x, diagonal=0):
    """The lower triangle of the last two dims (the rest zeros): the causal mask's shape."""
    return _triangle(x, diagonal, upper=False, where="tril")


def triu(x, diagonal=0):
    """The upper triangle of the last two dims (the rest zeros)."""
    return _triangle(x, diagonal, upper=True, where="triu")


def _triangle(x, diagonal, upper, where):
    if x.ndim < 2:
        raise ShapeError(f"{where}: expected a tensor of 2 or more dims, got shape {x.shape}")
    return Triangle.apply(x, diagonal=arguments.integer(diagonal, where, "diagonal"), upper=upper)
