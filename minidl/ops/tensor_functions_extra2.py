"""Order statistics, counting, numerical calculus and type promotion of PyTorch's top level, built from
existing ops.

- kthvalue, nanmedian: ``sort`` then the value at a position (k − 1; ⌊(c − 1)/2⌋ of the c non-NaN
  values); mode: the smallest most frequent value, at its last position. Gradients reach the element
  picked, through sort's or gather's.
- fmax, fmin: max/min that ignore a NaN (the other operand wins); the gradient goes to the operand
  picked (to ``input`` on ties). erfc(x) = 1 − erf(x), d/dx = −2/√π·e^(−x²).
- renorm: each slice along ``dim`` whose p-norm exceeds ``maxnorm`` is scaled by maxnorm/(norm + 1e-7).
- gradient: (f[i+1] − f[i−1]) / 2h inside, one-sided differences at the edges (edge_order 1 or 2).
- trapezoid: Σ_i (x[i+1] − x[i]) · (y[i+1] + y[i]) / 2 along ``dim``.
- bincount, histogram, unique_consecutive: counts and positions, no gradient.
"""

from __future__ import annotations

import builtins
import numbers
from collections import namedtuple

import numpy as np

from minidl.core import arguments
from minidl.core.backend import array_module, device_of, to_device, to_numpy
from minidl.core.dtypes import as_dtype, dtype_of, get_default_dtype
from minidl.core.errors import ShapeError
from minidl.core.size import Size
from minidl.core.tensor import Tensor
from minidl.ops.arithmetic import where
from minidl.ops.common import is_tensor, one_dim, tensor_argument, wrap
from minidl.ops.compare import isnan
from minidl.ops.error_function import erf
from minidl.ops.indexing import gather, narrow
from minidl.ops.ordering import sort
from minidl.ops.shape import cat, reshape, squeeze
from minidl.ops.vector_norm import norm

KthValue = namedtuple("kthvalue", ["values", "indices"])
Mode = namedtuple("mode", ["values", "indices"])
NanMedian = namedtuple("nanmedian", ["values", "indices"])
Histogram = namedtuple("histogram", ["hist", "bin_edges"])


def _picked(values, indices, position, d, keepdim):
    """(values, indices) at ``position`` (an int tensor, keepdim-shaped) along ``d``."""
    picked_values, picked_indices = gather(values, d, position), gather(indices, d, position)
    if keepdim:
        return picked_values, picked_indices
    return squeeze(picked_values, d), squeeze(picked_indices, d)


def kthvalue(input, k, dim=-1, keepdim=False):  # noqa: A002 (PyTorch's names)
    """(values, indices) of the k-th smallest element along ``dim`` (k counts from 1)."""
    d = one_dim(dim, tensor_argument(input, "kthvalue").ndim, "kthvalue")
    size = input.shape[d] if input.ndim else 1
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= size:
        raise IndexError(f"kthvalue: k ({k!r}) must be between 1 and the size {size} of dim {dim}")
    if input.ndim == 0:
        return KthValue(input.clone(), wrap(array_module(input.array).zeros((), dtype=np.int64)))
    values, indices = sort(input, d, stable=True)
    shape = list(input.shape)
    shape[d] = 1
    position = wrap(array_module(input.array).full(shape, k - 1, dtype=np.int64))
    return KthValue(*_picked(values, indices, position, d, keepdim))


def nanmedian(input, dim=None, keepdim=False):  # noqa: A002
    """The lower median of the non-NaN values (NaN where all are NaN): a 0-d tensor without ``dim``,
    (values, indices) along ``dim``."""
    tensor_argument(input, "nanmedian")
    if dim is None:
        flat = reshape(input, -1)
        if not flat.numel():
            return wrap(array_module(flat.array).full((), np.nan, dtype=flat.array.dtype))
        values, _ = sort(flat, 0, stable=True)
        count = int(to_numpy((~isnan(flat).array).sum()))
        return values[max(count - 1, 0) // 2]
    d = one_dim(dim, input.ndim, "nanmedian")
    if input.ndim == 0:
        return NanMedian(input.clone(), wrap(array_module(input.array).zeros((), dtype=np.int64)))
    if input.shape[d] == 0:
        raise IndexError(f"nanmedian: dim {dim} of shape {tuple(input.shape)} has size 0, which has no median")
    values, indices = sort(input, d, stable=True)
    count = (~isnan(input).array).sum(axis=d, keepdims=True)
    position = wrap(((count - 1).clip(0, None) // 2).astype(np.int64))
    return NanMedian(*_picked(values, indices, position, d, keepdim))


def mode(input, dim=-1, keepdim=False):  # noqa: A002
    """(values, indices) of the most frequent value along ``dim`` (the smallest of equally frequent
    ones), its index the last position holding it."""
    d = one_dim(dim, tensor_argument(input, "mode").ndim, "mode")
    if input.ndim == 0:
        return Mode(input.clone(), wrap(array_module(input.array).zeros((), dtype=np.int64)))
    if input.shape[d] == 0:
        raise IndexError(f"mode: dim {dim} of shape {tuple(input.shape)} has size 0, which has no mode")
    rows = np.moveaxis(to_numpy(input.array), d, -1)
    frequency = (rows[..., :, None] == rows[..., None, :]).sum(-1)
    most = frequency == frequency.max(-1, keepdims=True)
    value = np.where(most, rows, rows.max(-1, keepdims=True)).min(-1, keepdims=True)
    last = rows.shape[-1] - 1 - np.argmax((rows == value)[..., ::-1], axis=-1)[..., None]
    position = wrap(to_device(np.moveaxis(last, -1, d).astype(np.int64), device_of(input.array)))
    values = gather(input, d, position)
    if keepdim:
        return Mode(values, position)
    return Mode(squeeze(values, d), squeeze(position, d))


def fmax(input, other):  # noqa: A002
    """The elementwise maximum, a NaN losing to a number (NaN only where both are NaN)."""
    tensor_argument(input, "fmax"), tensor_argument(other, "fmax", "other")
    return where((input >= other) | isnan(other), input, other)


def fmin(input, other):  # noqa: A002
    """The elementwise minimum, a NaN losing to a number (NaN only where both are NaN)."""
    tensor_argument(input, "fmin"), tensor_argument(other, "fmin", "other")
    return where((input <= other) | isnan(other), input, other)


def erfc(input):  # noqa: A002
    """The complementary error function 1 − erf(x); d/dx = −2/√π · e^(−x²) (through erf)."""
    return 1 - erf(tensor_argument(input, "erfc"))


def renorm(input, p, dim, maxnorm):  # noqa: A002
    """Each slice along ``dim`` with p-norm above ``maxnorm`` scaled to it: x · maxnorm/(‖x‖_p + 1e-7)."""
    d = one_dim(dim, tensor_argument(input, "renorm").ndim, "renorm")
    p, maxnorm = arguments.number(p, "renorm", "p", above=0), arguments.number(maxnorm, "renorm", "maxnorm",
                                                                                 minimum=0)
    if input.ndim < 2:
        raise ValueError(f"renorm: input needs at least 2 dims, got shape {tuple(input.shape)}")
    others = tuple(i for i in range(input.ndim) if i != d)
    size = norm(input, p, others, keepdim=True)
    return input * where(size > maxnorm, maxnorm / (size + 1e-7), 1.0).to(input.dtype)


def _differences(f, d, h, edge_order):
    """The numerical derivative of ``f`` along ``d`` with spacing ``h``."""
    n = f.shape[d]
    inside = (narrow(f, d, 2, n - 2) - narrow(f, d, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (narrow(f, d, 1, 1) - narrow(f, d, 0, 1)) / h
        last = (narrow(f, d, n - 1, 1) - narrow(f, d, n - 2, 1)) / h
    else:
        first = (-3 * narrow(f, d, 0, 1) + 4 * narrow(f, d, 1, 1) - narrow(f, d, 2, 1)) / (2 * h)
        last = (3 * narrow(f, d, n - 1, 1) - 4 * narrow(f, d, n - 2, 1) + narrow(f, d, n - 3, 1)) / (2 * h)
    return cat([first, inside, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):  # noqa: A002
    """The numerical derivatives of ``input`` along each dim of ``dim`` (all when None), a tuple:
    central differences inside, one-sided ones (of order ``edge_order``) at the two edges."""
    tensor_argument(input, "gradient")
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, numbers.Integral) else list(dim)
    dims = [one_dim(x, input.ndim, "gradient") for x in dims]
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    spacings = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(spacings) != len(dims) or builtins.any(is_tensor(h) for h in spacings):
        raise TypeError(f"gradient: spacing must be a number or one number per dim ({len(dims)}), got {spacing!r}"
                        " (coordinate tensors are not supported)")
    for x in dims:
        if input.shape[x] < edge_order + 1:
            raise ValueError(f"gradient: each dim needs at least edge_order + 1 = {edge_order + 1} elements, "
                             f"got shape {tuple(input.shape)} (dim {x})")
    f = input if input.array.dtype.kind == "f" else input.to(get_default_dtype())
    return tuple(_differences(f, x, h, edge_order) for x, h in zip(dims, spacings))


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y along ``dim`` by the trapezoid rule: Σ (x[i+1] − x[i])(y[i+1] + y[i]) / 2, with sample points
    ``x`` (1-D along dim, or y's shape) or an even spacing ``dx`` (default 1)."""
    d = one_dim(dim, tensor_argument(y, "trapezoid", "y").ndim, "trapezoid")
    if x is not None and dx is not None:
        raise TypeError("trapezoid: pass either x or dx, not both")
    n = y.shape[d]
    if n == 0:
        return y.sum(d)
    pairs = narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)
    if x is None:
        return (pairs.sum(d) * (1.0 if dx is None else dx)) / 2
    tensor_argument(x, "trapezoid", "x")
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(f"trapezoid: x of shape {tuple(x.shape)} must have {n} points (dim {dim} of y)")
        x = reshape(x, (n,) + (1,) * (y.ndim - 1 - d))
        step = narrow(x, 0, 1, n - 1) - narrow(x, 0, 0, n - 1)
    else:
        step = narrow(x, d, 1, n - 1) - narrow(x, d, 0, n - 1)
    return (step * pairs).sum(d) / 2


def _host_integers(input, op):
    values = to_numpy(tensor_argument(input, op).array)
    if values.ndim != 1 or values.dtype.kind not in "iub" or (values.size and values.min() < 0):
        raise ValueError(f"{op}: only supports 1-d non-negative integral inputs, got shape "
                         f"{tuple(input.shape)} and dtype {input.dtype}")
    return values


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-D non-negative integer tensor (or the sum of
    ``weights`` at its positions), at least ``minlength`` counts long."""
    values = _host_integers(input, "bincount")
    minlength = arguments.size(minlength, "bincount", "minlength")
    if weights is None:
        counts = np.bincount(values, minlength=minlength).astype(np.int64)
    else:
        weight = to_numpy(tensor_argument(weights, "bincount", "weights").array)
        if weight.shape != values.shape:
            raise ShapeError(f"bincount: weights of shape {weight.shape} must match input's shape {values.shape}")
        kind = weight.dtype if weight.dtype.kind == "f" else np.float64
        counts = np.bincount(values, weight, minlength=minlength).astype(kind)
    return Tensor(to_device(counts, device_of(input.array)))


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges): counts (or summed ``weight``) of ``input``'s values in ``bins`` equal bins over
    ``range`` (the data's own by default) or between given edges (a 1-D tensor); ``density`` scales the
    hist to integrate to 1."""
    if tensor_argument(input, "histogram").array.dtype.kind != "f":
        raise TypeError(f"histogram: input must be a floating tensor, got {input.dtype}")
    values = to_numpy(input.array).reshape(-1)
    edges = to_numpy(bins.array) if is_tensor(bins) else arguments.integer(bins, "histogram", "bins")
    if not is_tensor(bins) and edges <= 0:
        raise ValueError(f"histogram: bins must be > 0, got {edges}")
    weights = None if weight is None else to_numpy(tensor_argument(weight, "histogram", "weight").array).reshape(-1)
    if weights is not None and weights.shape != values.shape:
        raise ShapeError(f"histogram: weight of shape {tuple(weight.shape)} must match input's {tuple(input.shape)}")
    hist, bin_edges = np.histogram(values, edges, range=range, weights=weights, density=density)
    device = device_of(input.array)
    return Histogram(Tensor(to_device(hist.astype(values.dtype), device)),
                     Tensor(to_device(bin_edges.astype(values.dtype), device)))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The values of the flattened ``input`` with each run of equal neighbours kept once; with
    ``return_inverse`` the run of each element (input's shape), with ``return_counts`` each run's length."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: dim is not supported; use dim=None (the flattened input)")
    values = to_numpy(tensor_argument(input, "unique_consecutive").array).reshape(-1)
    starts = np.ones(values.size, dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    device = device_of(input.array)
    results = [Tensor(to_device(values[starts], device))]
    if return_inverse:
        results.append(Tensor(to_device((np.cumsum(starts) - 1).reshape(input.shape).astype(np.int64), device)))
    if return_counts:
        counts = np.diff(np.append(np.flatnonzero(starts), values.size)).astype(np.int64)
        results.append(Tensor(to_device(counts, device)))
    return results[0] if len(results) == 1 else tuple(results)


def broadcast_shapes(*shapes):
    """The shape that tensors of all ``shapes`` broadcast to."""
    shapes = [(s,) if isinstance(s, numbers.Integral) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {', '.join(map(str, shapes))} cannot be broadcast to a "
                         "single shape") from None


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to without losing their kind: a float beats an integer
    (keeping its own size), an integer beats bool, and equal kinds take the wider one."""
    a, b = as_dtype(type1, "promote_types", "type1"), as_dtype(type2, "promote_types", "type2")
    if _CATEGORY[a.kind] != _CATEGORY[b.kind]:
        return dtype_of(np.empty(0, a if _CATEGORY[a.kind] > _CATEGORY[b.kind] else b))
    return dtype_of(np.empty(0, np.promote_types(a, b)))


def _operand_dtype(value):
    if is_tensor(value):
        return value.array.dtype
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return np.dtype(get_default_dtype())
    raise TypeError(f"result_type: expected a tensor or a number, got {type(value).__name__}")


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on the two operands gives: tensors with dims decide first, then 0-d
    tensors, then Python numbers, each only when it brings a higher kind (bool < integer < float)."""
    groups = [[o for o in (tensor1, tensor2) if test(o)] for test in (
        lambda o: is_tensor(o) and o.ndim > 0, lambda o: is_tensor(o) and o.ndim == 0, lambda o: not is_tensor(o))]
    result = None
    for group in groups:
        if not group:
            continue
        dtype = _operand_dtype(group[0])
        for other in group[1:]:
            dtype = promote_types(dtype, _operand_dtype(other)).numpy
        if result is None or _CATEGORY[dtype.kind] > _CATEGORY[result.kind]:
            result = dtype
    return dtype_of(np.empty(0, result))


def can_cast(from_, to):
    """Whether PyTorch's casting rule allows ``from_`` → ``to``: never float to integer or bool, nor
    a number to bool; anything else (narrowing within a kind too) is allowed."""
    a, b = as_dtype(from_, "can_cast", "from_"), as_dtype(to, "can_cast", "to")
    if b.kind == "b":
        return a.kind == "b"
    return _CATEGORY[a.kind] <= _CATEGORY[b.kind]


__all__ = ["bincount", "broadcast_shapes", "can_cast", "erfc", "fmax", "fmin", "gradient", "histogram", "kthvalue",
           "mode", "nanmedian", "promote_types", "renorm", "result_type", "trapezoid", "unique_consecutive"]
