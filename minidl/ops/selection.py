"""Functions that test, find or count elements, as PyTorch's: logical_and/or/xor, isclose,
count_nonzero, nonzero, unique, searchsorted, bucketize, tril_indices and triu_indices; numel and
is_floating_point.

Their results are bool or integer tensors (positions, counts), so none of them has a gradient.
"""

from __future__ import annotations

import numpy as np

from minidl.core.arguments import choice, integer, number
from minidl.core.backend import array_module, to_device
from minidl.core.dtypes import as_dtype
from minidl.core.errors import DeviceError, ShapeError
from minidl.core.tensor import Tensor
from minidl.ops.common import as_tensor, normalize_dims, one_dim, tensor_argument, wrap


def _pair(input, other, op):  # noqa: A002 (PyTorch's names)
    """The arrays of ``input`` and ``other`` (a tensor or a number), on one device and broadcastable."""
    tensor_argument(input, op)
    other = as_tensor(other, like=input)
    if type(other.array) is not type(input.array):
        raise DeviceError(f"{op}: expected all tensors on the same device, got tensors on {input.device} and "
                          f"{other.device}")
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise ShapeError(f"{op}: shapes {tuple(input.shape)} and {tuple(other.shape)} cannot be broadcast "
                         "together") from None
    return input.array, other.array


def logical_and(input, other):  # noqa: A002
    """True where both elements are nonzero."""
    a, b = _pair(input, other, "logical_and")
    return wrap(array_module(a).logical_and(a, b))


def logical_or(input, other):  # noqa: A002
    """True where either element is nonzero."""
    a, b = _pair(input, other, "logical_or")
    return wrap(array_module(a).logical_or(a, b))


def logical_xor(input, other):  # noqa: A002
    """True where exactly one of the two elements is nonzero."""
    a, b = _pair(input, other, "logical_xor")
    return wrap(array_module(a).logical_xor(a, b))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """True where |input - other| ≤ atol + rtol·|other| (equal infinities are close; NaNs only with
    ``equal_nan``)."""
    rtol, atol = number(rtol, "isclose", "rtol", minimum=0.0), number(atol, "isclose", "atol", minimum=0.0)
    a, b = _pair(input, other, "isclose")
    if a.dtype != b.dtype:
        raise TypeError(f"isclose: input and other must have one dtype, got {input.dtype} and {b.dtype}")
    return wrap(array_module(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan)))


def count_nonzero(input, dim=None):  # noqa: A002
    """The number of nonzero elements over ``dim`` (an int, a tuple of ints, or None: all), as int64."""
    data = tensor_argument(input, "count_nonzero").array
    dims = normalize_dims(dim, data.ndim, "count_nonzero")
    return wrap((data != 0).sum(axis=dims).astype(np.int64))


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """The indices of the nonzero elements: an int64 tensor of shape (count, input.ndim), one row per
    element in row-major order; with ``as_tuple``, one 1-D index tensor per dim (a 0-d input counts as 1-D)."""
    data = tensor_argument(input, "nonzero").array
    xp = array_module(data)
    flat = data.reshape(-1) if data.ndim == 0 else data
    found = tuple(index.astype(np.int64) for index in xp.nonzero(flat))
    if as_tuple:
        return tuple(wrap(index) for index in found)
    if data.ndim == 0:
        return wrap(xp.zeros((found[0].shape[0], 0), dtype=np.int64))
    return wrap(xp.stack(found, axis=1))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (``dim`` None) or distinct slices along ``dim``, in ascending order; with
    ``return_inverse`` also where each element (slice) of ``input`` went, with ``return_counts`` how often
    each occurs. minidl always sorts (``sorted=False`` leaves the order open in PyTorch too)."""
    data = tensor_argument(input, "unique").array
    xp = array_module(data)
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(data.shape)
    else:
        d = one_dim(dim, data.ndim, "unique")
        if data.ndim == 0:
            raise IndexError("unique: dim given for a 0-d tensor, which has no dims to take slices along")
        values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    outputs = [wrap(values)]
    if return_inverse:
        outputs.append(wrap(inverse.astype(np.int64)))
    if return_counts:
        outputs.append(wrap(counts.astype(np.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _side(right, side, op):
    if side is None:
        return "right" if right else "left"
    choice(side, op, "side", ("left", "right"))
    if right and side == "left":
        raise ValueError(f"{op}: side and right can't be set to opposites, got side of left while right was True")
    return side


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):  # noqa: A002
    """For each value of ``input``, the index where it would go in ``sorted_sequence`` (its last dim
    sorted ascending) to keep it sorted: before equal values (side 'left', the default) or after them
    ('right'). A 1-D sequence serves every value; an N-D one is searched row by row, its leading dims
    equal to those of ``input``. ``sorter`` holds the indices that sort an unsorted sequence."""
    side = _side(right, side, "searchsorted")
    sequence = tensor_argument(sorted_sequence, "searchsorted", "sorted_sequence")
    values = as_tensor(input, like=sequence)
    if type(values.array) is not type(sequence.array):
        raise DeviceError(f"searchsorted: sorted_sequence is on {sequence.device}, input on {values.device}")
    if sequence.ndim == 0:
        raise ShapeError("searchsorted: sorted_sequence must have at least 1 dim, got a 0-d tensor")
    boundaries = sequence.array
    if sorter is not None:
        sorter = tensor_argument(sorter, "searchsorted", "sorter")
        if tuple(sorter.shape) != tuple(sequence.shape) or sorter.array.dtype.kind not in "iu":
            raise ShapeError(f"searchsorted: sorter must be an integer tensor of sorted_sequence's shape "
                             f"{tuple(sequence.shape)}, got {sorter.dtype} of shape {tuple(sorter.shape)}")
        boundaries = array_module(boundaries).take_along_axis(boundaries, sorter.array, axis=-1)
    xp = array_module(boundaries)
    if sequence.ndim == 1:
        found = xp.searchsorted(boundaries, values.array, side=side)
    else:
        if values.ndim != sequence.ndim or tuple(values.shape[:-1]) != tuple(sequence.shape[:-1]):
            raise ShapeError(f"searchsorted: an N-D sorted_sequence of shape {tuple(sequence.shape)} needs input "
                             f"with the same leading dims {tuple(sequence.shape[:-1])}, got shape "
                             f"{tuple(values.shape)}")
        v, b = values.array[..., :, None], boundaries[..., None, :]
        found = ((b <= v) if side == "right" else (b < v)).sum(axis=-1)  # how many boundaries come before
    return wrap(found.astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of each value of ``input`` between the ascending 1-D ``boundaries``: i with
    boundaries[i-1] < x ≤ boundaries[i] (``right=True``: boundaries[i-1] ≤ x < boundaries[i])."""
    boundaries = tensor_argument(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be a 1-D tensor, got shape {tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _triangle_indices(row, col, offset, dtype, device, op, lower):
    row, col = (integer(v, op, name) for v, name in ((row, "row"), (col, "col")))
    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be non-negative, got row={row}, col={col}")
    offset = integer(offset, op, "offset")
    dtype = as_dtype(np.int64 if dtype is None else dtype, op)
    if dtype.kind not in "iu":
        raise TypeError(f"{op}: dtype must be an integer dtype, got {dtype}")
    rows, cols = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return Tensor(to_device(np.stack([rows, cols]).astype(dtype), device or "cpu"))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the lower triangle of a row × col matrix (on and below diagonal
    ``offset``), as a 2 × N tensor in row-major order."""
    return _triangle_indices(row, col, offset, dtype, device, "tril_indices", lower=True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the upper triangle (on and above diagonal ``offset``), 2 × N."""
    return _triangle_indices(row, col, offset, dtype, device, "triu_indices", lower=False)


def numel(input):  # noqa: A002
    """The number of elements of ``input``."""
    return tensor_argument(input, "numel").numel()


def is_floating_point(input):  # noqa: A002
    """True for a tensor of a floating dtype (float16, float32, float64)."""
    return tensor_argument(input, "is_floating_point").array.dtype.kind == "f"
