"""Ordering ops: sort, argsort and topk along one dim, as PyTorch's.

Sorting only moves values, so the gradient goes back to where each value came from:
    values = x[..., order],  dL/dx[..., order[j]] += g[..., j]   (order: the indices output)
The indices output carries no gradient.
"""

from __future__ import annotations

from collections import namedtuple

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.ops.common import normalize_dims

#: what sort and topk return, as PyTorch's (``result.values``, ``result.indices``, or unpacked)
Sorted = namedtuple("sort", ["values", "indices"])
TopK = namedtuple("topk", ["values", "indices"])


class Sort(Function):
    """(values, indices) of the ``k`` smallest (or largest) values along ``dim``, in order;
    dL/dx: each gradient put back at its value's index (put_along_axis)"""

    non_differentiable = (1,)

    def forward(self, x, dim, descending, k):
        xp = array_module(x)
        order = xp.argsort(-x if descending else x, axis=dim, kind="stable")
        order = xp.take(order, xp.arange(k), axis=dim)
        self.save(order)
        self.dim, self.in_shape = dim, x.shape
        return xp.take_along_axis(x, order, axis=dim), order

    def backward(self, g, g_indices=None):
        (order,) = self.saved
        grad = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        array_module(g).put_along_axis(grad, order, g, axis=self.dim)
        return grad


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim`` (ties keep their order)."""
    dim = normalize_dims(dim, x.ndim, "sort")[0] if x.ndim else 0
    return Sorted(*_sorted(x, dim, descending, x.shape[dim] if x.ndim else 1))


def argsort(x, dim=-1, descending=False, stable=False):
    return sort(x, dim, descending)[1]


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 (PyTorch's name)
    """(values, indices) of the ``k`` largest (or smallest) values along ``dim``."""
    dim = normalize_dims(dim, x.ndim, "topk")[0] if x.ndim else 0
    size = x.shape[dim] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= size:
        raise ValueError(f"topk: k must be an int in [0, {size}] for dim {dim} of shape {x.shape}, got {k!r}")
    return TopK(*_sorted(x, dim, largest, k))


def _sorted(x, dim, descending, k):
    if x.ndim == 0:
        return x.clone(), x.detach().long() * 0
    return Sort.apply(x, dim=dim, descending=descending, k=k)
