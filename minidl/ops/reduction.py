"""Reductions: sum, mean, max, min, var, std, logsumexp, and argmax / argmin.

``dim`` may be an int, a tuple of ints or None (all dims); NumPy's ``axis`` and
``keepdims`` are accepted as aliases of ``dim`` and ``keepdim``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.ops.arithmetic import maximum, minimum
from minidl.ops.common import expand_dims_like, is_tensor, normalize_dims, pick_dim, pick_keepdim, quietly, wrap

MaxMin = namedtuple("MaxMin", ["values", "indices"])


class Sum(Function):
    """z = Σᵢ xᵢ over dims;  dz/dxᵢ = 1 (the gradient is broadcast back)"""

    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim)

    def backward(self, g):
        g = expand_dims_like(g, self.in_shape, self.dims, self.keepdim)
        return array_module(g).broadcast_to(g, self.in_shape)


def mean_of_nothing(x, dims, keepdim):
    """The mean over dims of size 0: NaN in every place, in x's floating dtype (or the default)."""
    xp = array_module(x)
    shape = [1 if i in dims else s for i, s in enumerate(x.shape)] if keepdim else \
        [s for i, s in enumerate(x.shape) if i not in dims]
    return xp.full(shape, xp.nan, dtype=x.dtype if x.dtype.kind == "f" else xp.float64)


class Mean(Function):
    """z = (1/n) Σᵢ xᵢ over dims;  dz/dxᵢ = 1/n"""

    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        self.count = count(x.shape, dims)
        if not self.count:
            return mean_of_nothing(x, dims, keepdim)
        return x.mean(axis=dims, keepdims=keepdim)

    def backward(self, g):
        g = expand_dims_like(g, self.in_shape, self.dims, self.keepdim) / g.dtype.type(self.count)
        return array_module(g).broadcast_to(g, self.in_shape)


class Extreme(Function):
    """z = max (or min) over dims;  dz/dxᵢ = [xᵢ = z] / (number of ties), as PyTorch's amax"""

    def forward(self, x, dims, keepdim, largest, name=None):
        self.name = name or ("amax" if largest else "amin")
        if x.size == 0:
            raise ValueError(f"{'amax' if largest else 'amin'}: cannot reduce an empty tensor of shape {x.shape}")
        z = x.max(axis=dims, keepdims=True) if largest else x.min(axis=dims, keepdims=True)
        self.save(x, z)
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return z if keepdim else z.reshape([s for i, s in enumerate(x.shape) if i not in dims])

    def backward(self, g):
        x, z = self.saved
        hits = x == z
        g = expand_dims_like(g, self.in_shape, self.dims, self.keepdim)
        return g * hits / hits.sum(axis=self.dims, keepdims=True).astype(g.dtype)


class ExtremeAlongDim(Function):
    """(values, indices) = max (or min) of x along dim;  the gradient goes to that one index"""

    def forward(self, x, dim, keepdim, largest, name="max"):
        xp = array_module(x)
        self.name, self.in_shape, self.dim, self.keepdim = name, x.shape, dim, keepdim
        indices = xp.expand_dims(x.argmax(axis=dim) if largest else x.argmin(axis=dim), dim).astype("int64")
        values = xp.take_along_axis(x, indices, axis=dim)
        self.save(indices)
        return (values, indices) if keepdim else (values.squeeze(dim), indices.squeeze(dim))

    def backward(self, g, g_indices):
        xp = array_module(g)
        (indices,) = self.saved
        grad = xp.zeros(self.in_shape, dtype=g.dtype)
        xp.put_along_axis(grad, indices, g if self.keepdim else xp.expand_dims(g, self.dim), axis=self.dim)
        return grad


class Var(Function):
    """z = Σᵢ (xᵢ - x̄)² / (n - c) over dims;  dz/dxᵢ = 2 (xᵢ - x̄) / (n - c)"""

    def forward(self, x, dims, keepdim, correction):
        mean = x.mean(axis=dims, keepdims=True)
        centered = x - mean
        self.save(centered)
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        self.divisor = count(x.shape, dims) - correction
        squares = centered * centered
        with quietly(x):
            return squares.sum(axis=dims, keepdims=keepdim) / x.dtype.type(self.divisor)

    def backward(self, g):
        centered = self.saved[0]
        g = expand_dims_like(g, self.in_shape, self.dims, self.keepdim)
        return g * centered * g.dtype.type(2.0 / self.divisor if self.divisor > 0 else float("nan"))


class Std(Var):
    """s = √(Σᵢ (xᵢ - x̄)² / (n - c));  ds/dxᵢ = (xᵢ - x̄) / ((n - c)·s), taken as 0 where s = 0 (as PyTorch)"""

    def forward(self, x, dims, keepdim, correction):
        std = array_module(x).sqrt(super().forward(x, dims, keepdim, correction))
        self.save(self.saved[0], std)
        return std

    def backward(self, g):
        std = self.saved[1]
        with quietly(g):
            scaled = array_module(g).where(std == 0, g.dtype.type(0), g / (2 * std))
        return super().backward(scaled)


class LogSumExp(Function):
    """z = log Σᵢ exp(xᵢ) = m + log Σᵢ exp(xᵢ - m), m = max x;  dz/dxᵢ = exp(xᵢ - z) = softmax(x)ᵢ"""

    name = "logsumexp"

    def forward(self, x, dims, keepdim):
        xp = array_module(x)
        m = x.max(axis=dims, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, dtype=x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # rows of -inf give -inf, not NaN
        z = xp.log(xp.exp(x - m).sum(axis=dims, keepdims=True)) + m
        self.save(x, z)
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return z if keepdim else z.reshape([s for i, s in enumerate(x.shape) if i not in dims])

    def backward(self, g):
        x, z = self.saved
        g = expand_dims_like(g, self.in_shape, self.dims, self.keepdim)
        return g * array_module(x).exp(x - z)


def count(shape, dims):
    count = 1
    for d in dims:
        count *= shape[d]
    return count


# --- functional forms -------------------------------------------------------------

def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=False, dtype=None):  # noqa: A001
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x.array.dtype.kind in "bi":
        x = x.to(np.int64)  # PyTorch sums bool and int tensors as int64
    return Sum.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims))


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if x.array.dtype.kind not in "fc":
        raise TypeError(f"mean: could not infer output dtype; input dtype must be floating, got {x.dtype} "
                        "(use .float() first)")
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "mean")
    return Mean.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims))


def _extreme(x, dim, keepdim, largest, name):
    if dim is None:
        return Extreme.apply(x, dims=normalize_dims(None, x.ndim, name), keepdim=False, largest=largest, name=name)
    if not isinstance(dim, int):
        raise TypeError(f"{name}: dim must be an int (use amax/amin for several dims), got {dim!r}")
    if x.ndim == 0:  # dim 0 or -1 of a 0-d tensor: the value itself, at index 0
        normalize_dims(dim, 0, name)
        return _extreme(x.reshape(1), 0, False, largest, name)
    (d,) = normalize_dims(dim, x.ndim, name)
    if x.shape[d] == 0:
        raise ValueError(f"{name}: cannot reduce over dim {dim} of size 0 (shape {x.shape})")
    return MaxMin(*ExtremeAlongDim.apply(x, dim=d, keepdim=keepdim, largest=largest, name=name))


def _arg(data, dim, largest):
    xp = array_module(data)
    return xp.expand_dims(data.argmax(axis=dim) if largest else data.argmin(axis=dim), dim)


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=False):  # noqa: A001
    """``max(x)``: the largest element; ``max(x, dim)``: (values, indices) along dim;
    ``max(x, other_tensor)``: the elementwise maximum."""
    if is_tensor(dim):
        return maximum(x, dim)
    return _extreme(x, pick_dim(dim, axis), pick_keepdim(keepdim, keepdims), True, "max")


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=False):  # noqa: A001
    """Like :func:`max`, for the smallest element."""
    if is_tensor(dim):
        return minimum(x, dim)
    return _extreme(x, pick_dim(dim, axis), pick_keepdim(keepdim, keepdims), False, "min")


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "amax")
    return Extreme.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims), largest=True)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "amin")
    return Extreme.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims), largest=False)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
    """Variance; ``correction=1`` (default) divides by n - 1, ``unbiased=False`` or ``correction=0`` by n."""
    if unbiased is not None and correction is not None:
        raise TypeError("var: pass either unbiased or correction, not both")
    correction = (1 if unbiased is None else int(bool(unbiased))) if correction is None else correction
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "var")
    return Var.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims), correction=correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
    """Standard deviation: sqrt(var(x, ...)), with the same dim and correction arguments as var."""
    if unbiased is not None and correction is not None:
        raise TypeError("std: pass either unbiased or correction, not both")
    correction = (1 if unbiased is None else int(bool(unbiased))) if correction is None else correction
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "std")
    return Std.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims), correction=correction)


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """log(sum(exp(x), dim)), computed stably by subtracting the max first."""
    dims = normalize_dims(pick_dim(dim, axis), x.ndim, "logsumexp")
    return LogSumExp.apply(x, dims=dims, keepdim=pick_keepdim(keepdim, keepdims))


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Index of the largest element (of the flattened tensor when dim is None); no gradient."""
    return _argextreme(x, pick_dim(dim, axis), pick_keepdim(keepdim, keepdims), True)


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _argextreme(x, pick_dim(dim, axis), pick_keepdim(keepdim, keepdims), False)


def _argextreme(x, dim, keepdim, largest):
    data = x.array
    if dim is None:
        index = data.argmax() if largest else data.argmin()
        result = array_module(data).asarray(index, dtype="int64")
        return wrap(result.reshape((1,) * data.ndim) if keepdim else result)
    if data.ndim == 0:
        normalize_dims(dim, 0, "argmax" if largest else "argmin")
        return wrap(array_module(data).zeros((), dtype="int64"))
    (d,) = normalize_dims(dim, data.ndim, "argmax" if largest else "argmin")
    index = _arg(data, d, largest).astype("int64")
    return wrap(index if keepdim else index.squeeze(d))
