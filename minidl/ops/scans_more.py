"""Running maximum, minimum and log-sum-exp along one dim, as PyTorch's cummax, cummin and logcumsumexp.

    cummax: zᵢ = max_{j ≤ i} xⱼ, with kᵢ its index (the latest among ties; NaN, once met, stays)
            dL/dxⱼ = Σ_{i : kᵢ = j} gᵢ        (each gradient goes back to the position of its maximum)
    logcumsumexp: zᵢ = ln Σ_{j ≤ i} e^{xⱼ} = logaddexp(zᵢ₋₁, xᵢ)
            dL/dxⱼ = Σ_{i ≥ j} gᵢ e^{xⱼ - zᵢ} = e^{xⱼ - zⱼ} sⱼ,   sⱼ = gⱼ + e^{zⱼ - zⱼ₊₁} sⱼ₊₁

Both walk the dim one position at a time (each step vectorised over every other dim). zᵢ never
decreases, so every exponential above is at most 1: nothing overflows.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add as add_at
from minidl.core.errors import ShapeError
from minidl.ops.arithmetic import add, mul, sub, where
from minidl.ops.common import is_tensor, one_dim, quietly, wrap
from minidl.ops.elementwise_math import floating
from minidl.ops.indexing import along, gather
from minidl.ops.ordering import sort
from minidl.ops.shape import expand, permute, reshape, squeeze

CumulativeExtreme = namedtuple("CumulativeExtreme", ["values", "indices"])


class CumulativeMaxMin(Function):
    """zᵢ = max (or min) of x₀ … xᵢ along dim, kᵢ its index;  dL/dxⱼ = Σ_{i: kᵢ = j} gᵢ"""

    non_differentiable = (1,)

    def forward(self, x, dim, largest):
        self.name = "cummax" if largest else "cummin"
        self.dim, self.in_shape = dim, x.shape
        xp = array_module(x)
        values, indices = xp.moveaxis(x, dim, -1).copy(), xp.zeros(xp.moveaxis(x, dim, -1).shape, dtype=np.int64)
        with quietly(x):
            for i in range(1, values.shape[-1]):
                best, new = values[..., i - 1], values[..., i]
                takes = ((new >= best) if largest else (new <= best)) | xp.isnan(new)
                takes = takes & ~xp.isnan(best)
                values[..., i] = xp.where(takes, new, best)
                indices[..., i] = xp.where(takes, i, indices[..., i - 1])
        indices = xp.moveaxis(indices, -1, dim)
        self.save(indices)
        return xp.moveaxis(values, -1, dim), indices

    def backward(self, g, _):
        (indices,) = self.saved
        grad = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        return add_at(grad, along(indices, self.dim), g)


class LogCumSumExp(Function):
    """zᵢ = ln Σ_{j≤i} e^{xⱼ} along dim;  dL/dxⱼ = Σ_{i≥j} gᵢ e^{xⱼ - zᵢ}"""

    def forward(self, x, dim):
        self.dim = dim
        xp = array_module(x)
        z = xp.moveaxis(x, dim, -1).copy()
        for i in range(1, z.shape[-1]):
            z[..., i] = xp.logaddexp(z[..., i - 1], z[..., i])
        z = xp.moveaxis(z, -1, dim)
        self.save(x, z)
        return z

    def backward(self, g):
        x, z = self.saved
        xp = array_module(g)
        x, z, g = (xp.moveaxis(a, self.dim, -1) for a in (x, z, g))
        s = g.copy()
        with quietly(g):
            for j in range(s.shape[-1] - 2, -1, -1):
                s[..., j] = g[..., j] + xp.exp(z[..., j] - z[..., j + 1]) * s[..., j + 1]
            return xp.moveaxis(xp.exp(x - z) * s, -1, self.dim)


def _scan(input, dim, op):  # noqa: A002 (PyTorch's names)
    if not is_tensor(input):
        raise TypeError(f"{op}: expected a tensor, got {type(input).__name__}")
    return one_dim(dim, input.ndim, op)


def cummax(input, dim):  # noqa: A002
    """(values, indices): the running maximum along ``dim`` and where each was found."""
    d = _scan(input, dim, "cummax")
    if input.ndim == 0:
        values, indices = cummax(input.reshape(1), 0)
        return CumulativeExtreme(values.reshape(()), indices.reshape(()))
    return CumulativeExtreme(*CumulativeMaxMin.apply(input, dim=d, largest=True))


def cummin(input, dim):  # noqa: A002
    """(values, indices): the running minimum along ``dim`` and where each was found."""
    d = _scan(input, dim, "cummin")
    if input.ndim == 0:
        values, indices = cummin(input.reshape(1), 0)
        return CumulativeExtreme(values.reshape(()), indices.reshape(()))
    return CumulativeExtreme(*CumulativeMaxMin.apply(input, dim=d, largest=False))


def logcumsumexp(input, dim):  # noqa: A002
    """ln of the running sum of exp(input) along ``dim``, without overflow."""
    d = _scan(input, dim, "logcumsumexp")
    x = floating(input, "logcumsumexp")
    if x.ndim == 0:
        return LogCumSumExp.apply(x.reshape(1), dim=0).reshape(())
    return LogCumSumExp.apply(x, dim=d)


# --- quantiles: sort, then pick (and blend) the two order statistics around q·(n-1) -----------------

INTERPOLATIONS = ("linear", "lower", "higher", "nearest", "midpoint")


def _quantile(input, q, dim, keepdim, interpolation, op, skip_nans):  # noqa: A002
    if not is_tensor(input) or input.array.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float or double tensor, got "
                        f"{input.dtype if is_tensor(input) else type(input).__name__}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")
    xp = array_module(input.array)
    q_values = xp.asarray(q.array if is_tensor(q) else q, dtype=input.array.dtype)
    if q_values.ndim > 1:
        raise ShapeError(f"{op}: q must be a scalar or a 1-d tensor, got shape {tuple(q_values.shape)}")
    if not bool(((q_values >= 0) & (q_values <= 1)).all()):
        raise ValueError(f"{op}: q values must lie in [0, 1], got {q}")
    if input.numel() == 0:
        raise ValueError(f"{op}: input tensor must be non-empty (shape {input.shape})")
    if dim is None or input.ndim == 0:
        x = reshape(input, -1)
    else:
        d = one_dim(dim, input.ndim, op)
        x = permute(input, *[a for a in range(input.ndim) if a != d], d)  # the reduced dim last
    ordered = sort(x, -1)[0]  # NaNs sort last
    nans = xp.isnan(x.array)
    valid = (x.shape[-1] - nans.sum(axis=-1, keepdims=True)) if skip_nans else xp.full(x.shape[:-1] + (1,), x.shape[-1])
    qs = q_values.reshape((-1,) + (1,) * x.ndim)  # (Q, 1, …, 1)
    rank = qs * xp.maximum(valid - 1, 0).astype(x.array.dtype)  # (Q, …, 1); rows of no values give NaN below
    if interpolation == "nearest":
        rank = xp.round(rank)
    lower = xp.clip(xp.floor(rank), 0, None).astype(np.int64)
    upper = xp.clip(xp.ceil(rank), 0, None).astype(np.int64)
    if interpolation == "higher":
        lower = upper
    stacked = expand(reshape(ordered, 1, *ordered.shape), q_values.size or 1, *ordered.shape)
    below = gather(stacked, -1, wrap(xp.broadcast_to(lower, stacked.shape[:-1] + (1,))))
    above = gather(stacked, -1, wrap(xp.broadcast_to(upper, stacked.shape[:-1] + (1,))))
    weight = {"linear": rank - xp.floor(rank), "midpoint": xp.full_like(rank, 0.5)}.get(interpolation)
    result = below if weight is None else add(below, mul(wrap(weight.astype(x.array.dtype)), sub(above, below)))
    undefined = (valid == 0) if skip_nans else nans.any(axis=-1, keepdims=True)
    result = squeeze(where(wrap(xp.broadcast_to(undefined, result.shape)), math.nan, result), -1)
    if keepdim:
        kept = [1] * input.ndim if dim is None else list(input.shape)
        if dim is not None and input.ndim:
            kept[one_dim(dim, input.ndim, op)] = 1
        result = reshape(result, result.shape[0], *kept) if input.ndim else result
    return reshape(result, result.shape[1:]) if q_values.ndim == 0 else result


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """The q-th quantiles along ``dim`` (of all elements when None); q a number or a 1-d tensor, whose
    length becomes the first dim of the result. Rows holding NaN give NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", skip_nans=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):  # noqa: A002
    """:func:`quantile` of the elements that are not NaN (NaN where a row has none)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", skip_nans=True)
