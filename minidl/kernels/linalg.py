"""Kernels of the matrix products: matmul and the dense layer on every core.

The products are the textbook's, each run by ``products.matmul`` on BLAS's threads or split
over minidl's, whichever measures faster for its shape, and, in a backward, by
``products.matmuls`` (the two products side by side, or one after the other).
"""

from __future__ import annotations

from minidl.core.dispatch import replaces
from minidl.kernels import products
from minidl.ops import linalg as textbook


@replaces(textbook.MatMul)
class MatMul(textbook.MatMul):
    """matmul with its products on every core; (..., n) @ (n, m) as one GEMM."""

    def forward(self, a, b):
        self.save(a, b)
        if a.ndim > 2 and b.ndim == 2:  # (..., n) @ (n, m): one GEMM over all rows
            return products.matmul(textbook.as_rows(a), b).reshape(a.shape[:-1] + (b.shape[1],))
        return products.matmul(a, b)

    def backward(self, g):
        a, b = self.saved
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
            return (g * b if self.needs_grad[0] else None), (g * a if self.needs_grad[1] else None)
        if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
            g2 = g[..., None, :]
            ga = products.matmul(g2, b.swapaxes(-1, -2)).reshape(-1, a.shape[0]) if self.needs_grad[0] else None
            gb = a[:, None] * g2 if self.needs_grad[1] else None
            return (ga.sum(axis=0) if ga is not None else None), gb
        if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
            g2 = g[..., None]
            ga = g2 * b if self.needs_grad[0] else None
            gb = products.matmul(a.swapaxes(-1, -2), g2)[..., 0].reshape(-1, b.shape[0]).sum(axis=0) if self.needs_grad[1] else None
            return ga, gb
        if a.ndim > 2 and b.ndim == 2:
            rows, grows = textbook.as_rows(a), textbook.as_rows(g)
            ga, gb = products.matmuls([(grows, b.T) if self.needs_grad[0] else None,
                                       (rows.T, grows) if self.needs_grad[1] else None])
            return (ga.reshape(a.shape) if ga is not None else None), gb
        return tuple(products.matmuls([(g, b.swapaxes(-1, -2)) if self.needs_grad[0] else None,
                                       (a.swapaxes(-1, -2), g) if self.needs_grad[1] else None]))


@replaces(textbook.Linear)
class Linear(textbook.Linear):
    """the dense layer with its GEMMs on every core."""

    def forward(self, x, weight, bias=None):
        self.save(x, weight)
        rows = textbook.as_rows(x)
        z = products.matmul(rows, weight.T)
        if bias is not None:
            z += bias
        return z.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        x, weight = self.saved
        g_rows = textbook.as_rows(g)
        gx, gw = products.matmuls([(g_rows, weight) if self.needs_grad[0] else None,
                                   (g_rows.T, textbook.as_rows(x)) if self.needs_grad[1] else None])
        gx = gx.reshape(x.shape) if gx is not None else None
        if len(self.needs_grad) == 2:
            return gx, gw
        gb = g_rows.sum(axis=0) if self.needs_grad[2] else None
        return gx, gw, gb
