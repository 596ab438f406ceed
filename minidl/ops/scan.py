"""Scans: the running sum along one dim, as PyTorch's ``cumsum``.

    zᵢ = Σ_{j ≤ i} xⱼ    ⇒    dL/dxⱼ = Σ_{i ≥ j} gᵢ

so the gradient is the running sum of g taken from the other end (flip, cumsum, flip back).
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.ops.common import one_dim


class CumSum(Function):
    """zᵢ = Σ_{j≤i} xⱼ along dim;  dL/dxⱼ = Σ_{i≥j} gᵢ (the reversed running sum of g)"""

    name = "cumsum"

    def forward(self, x, dim):
        self.dim = dim
        return x.cumsum(axis=dim)

    def backward(self, g):
        xp = array_module(g)
        return xp.flip(xp.flip(g, axis=self.dim).cumsum(axis=self.dim), axis=self.dim)


def cumsum(input, dim, *, dtype=None):  # noqa: A002 (PyTorch's names)
    """The running sum of ``input`` along ``dim``; bool and integer tensors sum as int64 unless ``dtype``."""
    if dtype is not None:
        input = input.to(dtype)
    elif input.array.dtype.kind in "biu":
        input = input.to(np.int64)  # as PyTorch, and as sum
    d = one_dim(dim, input.ndim, "cumsum")
    if input.ndim == 0:
        return CumSum.apply(input.reshape(1), dim=0).reshape(())
    return CumSum.apply(input, dim=d)
