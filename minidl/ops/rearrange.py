"""Moving, picking and cleaning elements, as PyTorch's: roll, masked_select, take_along_dim,
swapaxes / swapdims, vstack, hstack, broadcast_tensors and nan_to_num.

Each moves or copies values without changing them, so each gradient goes back to where its value
came from:
    roll:           z = x shifted cyclically    ⇒  dL/dx = g shifted back
    masked_select:  z = x[mask] (1-D)           ⇒  dL/dx = g put back where mask is True, 0 elsewhere
    nan_to_num:     z = x with NaN/±inf replaced ⇒  dL/dx = g where x is finite, 0 where it was replaced
The others are built from cat, expand, gather and transpose, whose gradients are theirs.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import DeviceError, ShapeError
from minidl.ops.common import as_tensor, is_tensor, one_dim, tensor_argument, wrap
from minidl.ops.indexing import check_index, gather
from minidl.ops.shape import cat, expand, reshape, transpose


class Roll(Function):
    """z = x shifted cyclically by ``shifts`` along ``dims`` (all elements, flattened, when dims is None);
    dL/dx = g shifted by -shifts"""

    def forward(self, x, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return array_module(x).roll(x, shifts, axis=dims)

    def backward(self, g):
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return array_module(g).roll(g, back, axis=self.dims)


class MaskedSelect(Function):
    """z = the elements of x (broadcast with the mask) where the mask is True, in row-major order (1-D);
    dL/dx = g put back at those places, 0 elsewhere"""

    def forward(self, x, mask):
        xp = array_module(x)
        shape = np.broadcast_shapes(x.shape, mask.shape)
        mask = xp.broadcast_to(mask, shape)
        self.save(mask)
        return xp.broadcast_to(x, shape)[mask]

    def backward(self, g):
        (mask,) = self.saved
        grad = array_module(g).zeros(mask.shape, dtype=g.dtype)
        grad[mask] = g
        return grad, None


class NanToNum(Function):
    """z = x with NaN → nan, +inf → posinf, -inf → neginf;  dz/dx = 1 where x is finite, else 0"""

    def forward(self, x, nan, posinf, neginf):
        xp = array_module(x)
        self.save(xp.isfinite(x))
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        (finite,) = self.saved
        return array_module(g).where(finite, g, g.dtype.type(0))


# --- functional forms -------------------------------------------------------------

def roll(input, shifts, dims=None):  # noqa: A002 (PyTorch's names)
    """``input`` shifted cyclically by ``shifts`` along ``dims`` (ints, or tuples of one length);
    without dims, the flattened tensor is shifted and reshaped back."""
    tensor_argument(input, "roll")
    if dims is None:
        if not isinstance(shifts, numbers.Integral) and len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        shift = arguments.integer(shifts if isinstance(shifts, numbers.Integral) else shifts[0], "roll", "shifts")
        return Roll.apply(input, shifts=shift, dims=None)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts and dims must have one length, got shifts={shifts} and dims={dims}")
    shifts = tuple(arguments.integer(s, "roll", "shifts") for s in shifts)
    dims = tuple(one_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


def masked_select(input, mask):  # noqa: A002
    """The elements of ``input`` where the bool ``mask`` is True (both broadcast), as a 1-D tensor."""
    tensor_argument(input, "masked_select")
    mask = as_tensor(mask, like=input)
    if mask.array.dtype.kind != "b":
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {mask.dtype}")
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise ShapeError(f"masked_select: input of shape {tuple(input.shape)} and mask of shape "
                         f"{tuple(mask.shape)} cannot be broadcast together") from None
    return MaskedSelect.apply(input, mask)


def take_along_dim(input, indices, dim=None):  # noqa: A002
    """The values of ``input`` at ``indices`` along ``dim`` (as gather, with the other dims of both
    broadcast; negative indices count from the end); with dim None, of the flattened input (indices
    from 0, as PyTorch)."""
    tensor_argument(input, "take_along_dim")
    check_index(indices, "take_along_dim", "indices")
    if type(indices.array) is not type(input.array):
        raise DeviceError(f"take_along_dim: input is on {input.device}, indices on {indices.device}")
    scalar = dim is not None and input.ndim == indices.ndim == 0
    if dim is None or scalar:
        d = one_dim(0 if dim is None else dim, 1, "take_along_dim")
        input, indices = reshape(input, -1), reshape(indices, -1)
    else:
        d = one_dim(dim, input.ndim, "take_along_dim")
    if input.ndim != indices.ndim:
        raise ShapeError(f"take_along_dim: input and indices must have the same number of dims, got shapes "
                         f"{tuple(input.shape)} and {tuple(indices.shape)}")
    try:
        common = [np.broadcast_shapes((n,), (m,))[0]
                  for a, (n, m) in enumerate(zip(input.shape, indices.shape)) if a != d]
    except ValueError:
        raise ShapeError(f"take_along_dim: input of shape {tuple(input.shape)} and indices of shape "
                         f"{tuple(indices.shape)} cannot be broadcast outside dim {d}") from None
    size, data = input.shape[d], indices.array
    lowest = 0 if dim is None else -size  # as PyTorch: negative indices count from the end only along a dim
    if data.size and not lowest <= int(data.min()) <= int(data.max()) < size:
        bad = int(data.min()) if int(data.min()) < lowest else int(data.max())
        raise IndexError(f"take_along_dim: index {bad} is out of bounds for dim {d} with size {size}")
    xp = array_module(data)
    positions = xp.where(data < 0, data + size, data).astype(np.int64)  # negative: counted from the end
    positions = xp.broadcast_to(positions, tuple(common[:d] + [data.shape[d]] + common[d:]))
    out = gather(expand(input, *(common[:d] + [size] + common[d:])), d, wrap(positions))
    return reshape(out, ()) if scalar else out


def swapaxes(input, axis0, axis1):  # noqa: A002
    """``transpose(input, axis0, axis1)``: the two dims swapped."""
    return transpose(tensor_argument(input, "swapaxes"), axis0, axis1)


def swapdims(input, dim0, dim1):  # noqa: A002
    """``transpose(input, dim0, dim1)``: the two dims swapped."""
    return transpose(tensor_argument(input, "swapdims"), dim0, dim1)


def _tensors(tensors, op):
    if is_tensor(tensors) or not isinstance(tensors, (tuple, list)) or not tensors:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors, got {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        tensor_argument(t, op, f"tensors[{i}]")
    return tuple(tensors)


def vstack(tensors):
    """The tensors stacked as rows: each made at least 2-D ((n,) → (1, n)), then cat along dim 0."""
    tensors = _tensors(tensors, "vstack")
    return cat([reshape(t, (1,) * (2 - t.ndim) + tuple(t.shape)) if t.ndim < 2 else t for t in tensors], 0)


def hstack(tensors):
    """The tensors side by side: 1-D (and 0-d) ones joined end to end, others along dim 1."""
    tensors = _tensors(tensors, "hstack")
    tensors = [reshape(t, 1) if t.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views, as ``expand``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        tensor_argument(t, "broadcast_tensors", f"tensors[{i}]")
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ShapeError(f"broadcast_tensors: shapes {shapes} cannot be broadcast together") from None
    return tuple(expand(t, *shape) for t in tensors)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the
    largest and smallest finite values of its dtype); integer tensors are returned as they are."""
    tensor_argument(input, "nan_to_num")
    if input.array.dtype.kind not in "fc":
        return wrap(input.array.copy())
    values = [None if v is None else arguments.number(v, "nan_to_num", name)
              for v, name in ((nan, "nan"), (posinf, "posinf"), (neginf, "neginf"))]
    info = np.finfo(input.array.dtype)
    nan, posinf, neginf = (v if v is not None else default for v, default in zip(values, (0.0, info.max, info.min)))
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)

