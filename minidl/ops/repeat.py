"""Repeating ops, as PyTorch's: Tensor.repeat, tile, repeat_interleave and meshgrid.

Each copy of an element passes its gradient back to that element, so the backward sums the
gradients of all the copies:
    z = x repeated  ⇒  dL/dx = Σ over the copies of g
``repeat`` is its own op (a reshape of the gradient and one sum); ``repeat_interleave`` is an
``index_select`` with each position listed as many times as it repeats; ``meshgrid`` reshapes
and expands each vector (views).
"""

from __future__ import annotations

import warnings

import numpy as np

from minidl.core import Function
from minidl.core.arguments import choice, size as a_size
from minidl.core.backend import array_module, to_numpy
from minidl.core.creation import tensor
from minidl.core.errors import DeviceError, ShapeError
from minidl.ops.common import is_tensor, one_dim
from minidl.ops.indexing import check_index, index_select
from minidl.ops.shape import expand, reshape


class Repeat(Function):
    """z = x tiled sizes[k] times along dim k (extra sizes add leading dims);
    dL/dx = g summed over the copies: g viewed as (r₀, n₀, r₁, n₁, ...) and summed over every rₖ"""

    def forward(self, x, sizes):
        self.in_shape = x.shape
        self.shape = (1,) * (len(sizes) - x.ndim) + x.shape
        self.sizes = sizes
        return array_module(x).tile(x.reshape(self.shape), sizes)

    def backward(self, g):
        pairs = [n for pair in zip(self.sizes, self.shape) for n in pair]
        return g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2))).reshape(self.in_shape)


def _sizes(sizes, where, name):
    """``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])`` as a tuple of non-negative ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(a_size(s, where, f"{name}[{i}]") for i, s in enumerate(sizes))


def repeat(input, *sizes):  # noqa: A002 (PyTorch's names)
    """Tensor.repeat: ``input`` tiled sizes[k] times along dim k; more sizes than dims add leading dims."""
    if not sizes:
        raise TypeError("repeat: missing the repeats (one size per dim, e.g. x.repeat(2, 1))")
    sizes = _sizes(sizes, "repeat", "sizes")
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: the number of repeats ({len(sizes)}) can not be smaller than the number of "
                         f"dims of the tensor (shape {input.shape}); use tile to repeat only the last dims")
    return Repeat.apply(input, sizes=sizes)


def tile(input, dims):  # noqa: A002
    """``input`` tiled dims[k] times along dim k; fewer dims than the tensor has count as leading ones."""
    dims = _sizes((dims,), "tile", "dims")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each element (slice along ``dim``; of the flattened tensor when dim is None) repeated in place:
    ``repeats`` times (an int) or repeats[i] times (a tensor). ``repeat_interleave(counts)`` alone gives
    0, 1, ... repeated counts[i] times."""
    if repeats is None:
        counts = _counts(input, None, "repeat_interleave")
        return tensor(np.repeat(np.arange(len(counts)), counts), device=input.device)
    if dim is None:
        input, d = reshape(input, -1), 0
    elif input.ndim == 0:
        raise IndexError(f"repeat_interleave: dim {dim} is out of range for a 0-d tensor (give dim=None)")
    else:
        d = one_dim(dim, input.ndim, "repeat_interleave")
    counts = _counts(repeats, input.shape[d], "repeat_interleave")
    if output_size is not None and output_size != int(counts.sum()):
        raise ValueError(f"repeat_interleave: output_size {output_size} is not the sum of the repeats "
                         f"({int(counts.sum())})")
    positions = tensor(np.repeat(np.arange(input.shape[d]), counts), device=input.device)
    return index_select(input, d, positions)


def _counts(repeats, size, where):
    """The repeats as a NumPy vector of ``size`` non-negative counts (one int or one value is broadcast)."""
    if is_tensor(repeats):
        check_index(repeats, where, "repeats", ndim=(0, 1))
        counts = to_numpy(repeats.array).reshape(-1)  # an output's size depends on them: read them on the host
    else:
        counts = np.array([a_size(repeats, where, "repeats")])
    if size is not None and len(counts) == 1:
        counts = np.repeat(counts, size)
    if size is not None and len(counts) != size:
        raise ShapeError(f"{where}: repeats must have the size of the input along dim ({size}), got "
                         f"{len(counts)} values")
    if (counts < 0).any():
        raise ValueError(f"{where}: repeats must be non-negative, got {int(counts.min())}")
    return counts


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from N vectors: output k holds vector k's values along dim k ('ij', the default)
    or with the first two dims swapped ('xy', Cartesian); each output has every vector's length."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("meshgrid: expects a non-empty list of tensors")
    if indexing is None:
        warnings.warn("meshgrid: pass indexing='ij' or indexing='xy'; without it minidl uses 'ij', as PyTorch "
                      "does while warning that it will require the argument", UserWarning, stacklevel=2)
        indexing = "ij"
    choice(indexing, "meshgrid", "indexing", ("ij", "xy"))
    for t in tensors:
        if not is_tensor(t) or t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got "
                             f"{t.shape if is_tensor(t) else type(t).__name__}")
        if t.dtype != tensors[0].dtype or t.device != tensors[0].device:
            raise (TypeError if t.dtype != tensors[0].dtype else DeviceError)(
                f"meshgrid: expects all tensors to have the same dtype and device, got {tensors[0].dtype} on "
                f"{tensors[0].device} and {t.dtype} on {t.device}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t.numel()
    return tuple(expand(reshape(t, [-1 if a == axis else 1 for a in range(len(tensors))]), shape)
                 for t, axis in zip(tensors, axes))
