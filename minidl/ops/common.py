"""Helpers shared by the ops: turning arguments into tensors, and reading dim arguments."""

from __future__ import annotations

import contextlib
import numbers

import numpy as np

from minidl.core.backend import array_module
from minidl.core.creation import tensor
from minidl.core.dtypes import get_default_dtype
from minidl.core.tensor import Tensor


def is_tensor(value):
    return isinstance(value, Tensor)


def tensor_argument(value, op, name="input"):
    """``value`` itself when it is a tensor; else a TypeError naming the function and the argument."""
    if not is_tensor(value):
        raise TypeError(f"{op}: {name} must be a tensor, got {type(value).__name__}")
    return value


def wrap(array):
    """A Tensor (not recorded in any graph) around a raw array."""
    return Tensor(array)


def as_tensor(value, like=None):
    """``value`` as a Tensor; Python/NumPy scalars become constants on ``like``'s device.

    A scalar takes the dtype of ``like`` when that keeps its value (so ``x * 2.0``
    stays float32), an integer scalar on a bool tensor becomes int64, and a float
    scalar on an integer tensor takes the default float dtype, as in PyTorch.
    """
    if is_tensor(value):
        return value
    if like is not None and isinstance(value, (numbers.Number, np.generic)):
        if isinstance(value, np.generic):
            value = value.item()
        kind = like.array.dtype.kind
        if isinstance(value, bool) or (isinstance(value, numbers.Integral) and kind != "b"):
            dtype = like.array.dtype
        elif isinstance(value, numbers.Integral):
            dtype = np.int64
        elif isinstance(value, numbers.Real):
            dtype = like.array.dtype if kind == "f" else get_default_dtype()
        else:
            dtype = np.complex128
        return wrap(array_module(like.array).asarray(value, dtype=dtype))
    return tensor(value, device=None if like is None else like.device)


def binary_operands(a, b):
    """Both operands of a binary op as Tensors on one device, with PyTorch's scalar promotion."""
    if type(a) is type(b) is Tensor and a.array.dtype == b.array.dtype:
        return a, b  # the common case, kept fast
    for operand in (a, b):
        if isinstance(operand, (tuple, list, dict, str)):
            raise TypeError(f"unsupported operand type {type(operand).__name__} for a tensor operation "
                            "(use a tensor, an array or a number; max(dim=...) returns (values, indices))")
    if not is_tensor(a):
        a = as_tensor(a, like=b if is_tensor(b) else None)
    if not is_tensor(b):
        b = as_tensor(b, like=a)
    kind_a, kind_b = a.array.dtype.kind, b.array.dtype.kind
    if kind_a != kind_b and "f" in (kind_a, kind_b):
        # an integer or bool tensor meets a float one: compute in the float dtype (PyTorch's rule)
        float_dtype = a.array.dtype if kind_a == "f" else b.array.dtype
        a, b = (t if t.array.dtype.kind == "f" else t.to(float_dtype) for t in (a, b))
    return a, b


def normalize_dims(dim, ndim, op):
    """A reduction's dims as a sorted tuple of non-negative ints (None means all dims)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, numbers.Integral):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)) and all(isinstance(d, numbers.Integral) for d in dim):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r} ({type(dim).__name__})")
    result = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dimension {d} is out of range for a tensor with {ndim} dims")
        result.append(d % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: dim {dim} repeats a dimension")
    return tuple(sorted(result)) if ndim else ()


def one_dim(dim, ndim, op):
    """A single ``dim`` argument (an int, negative too) as a non-negative int; a 0-d tensor takes 0 and -1."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {dim!r} ({type(dim).__name__})")
    dims = normalize_dims(dim, ndim, op)
    return dims[0] if dims else 0


def pick_dim(dim, axis, default=None):
    """Accept NumPy's ``axis`` as an alias of PyTorch's ``dim``."""
    if axis is not None:
        if dim is not None and dim != axis:
            raise TypeError("pass either dim or its alias axis, not both")
        return axis
    return default if dim is None else dim


def pick_keepdim(keepdim, keepdims):
    """Accept NumPy's ``keepdims`` as an alias of PyTorch's ``keepdim``."""
    return bool(keepdim or keepdims)


def expand_dims_like(grad, in_shape, dims, keepdim):
    """Reinsert reduced dims (as size 1) so that a reduction's gradient broadcasts to its input."""
    if keepdim or not dims:
        return grad
    shape = list(in_shape)
    for d in dims:
        shape[d] = 1
    return grad.reshape(shape)


def product(shape):
    result = 1
    for size in shape:
        result *= size
    return result


@contextlib.contextmanager
def quietly(array):
    """Silence divide-by-zero and invalid-value warnings inside a block (a no-op for backends without seterr)."""
    seterr = getattr(array_module(array), "seterr", None)
    state = seterr(divide="ignore", invalid="ignore") if seterr else None
    try:
        yield
    finally:
        if state is not None:
            seterr(**state)
