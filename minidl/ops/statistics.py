"""Statistics built from other ops, as PyTorch's: var_mean, std_mean and median.

var_mean and std_mean return (var, mean) and (std, mean) from the ``var``, ``std`` and ``mean``
ops, with the same dim, correction and unbiased arguments. The median of n values is the lower
one of the middle two, the value at position ⌊(n-1)/2⌋ once sorted (PyTorch's choice, never an
average), so it is ``sort`` followed by picking that position: its gradient goes, through sort's,
to the element it came from.
"""

from __future__ import annotations

import math
from collections import namedtuple

from minidl.core.backend import array_module
from minidl.ops.common import is_tensor, one_dim, wrap
from minidl.ops.ordering import sort
from minidl.ops.reduction import mean, std, var
from minidl.ops.shape import getitem, reshape, squeeze

Median = namedtuple("Median", ["values", "indices"])


def _spread_and_mean(spread, input, dim, unbiased, keepdim, correction):  # noqa: A002 (PyTorch's names)
    if not is_tensor(input):
        raise TypeError(f"{spread.__name__}_mean: expected a tensor, got {type(input).__name__}")
    if isinstance(dim, bool):  # var_mean(x, True): the unbiased flag in dim's place, as PyTorch accepts
        dim, unbiased = None, dim
    return (spread(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(var, mean) of ``input`` over ``dim``; ``correction`` (default 1) or ``unbiased`` as in ``var``."""
    return _spread_and_mean(var, input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(std, mean) of ``input`` over ``dim``; ``correction`` (default 1) or ``unbiased`` as in ``std``."""
    return _spread_and_mean(std, input, dim, unbiased, keepdim, correction)


def median(input, dim=None, keepdim=False):  # noqa: A002
    """``median(x)``: the lower median of all elements (a 0-d tensor; NaN when empty).
    ``median(x, dim)``: (values, indices) of the lower median along ``dim``."""
    if not is_tensor(input):
        raise TypeError(f"median: expected a tensor, got {type(input).__name__}")
    if dim is None:
        flat = reshape(input, -1)
        if not flat.numel():
            xp = array_module(flat.array)
            return wrap(xp.full((), math.nan, dtype=flat.array.dtype if flat.array.dtype.kind == "f" else "float32"))
        return getitem(sort(flat)[0], (flat.numel() - 1) // 2)
    d = one_dim(dim, input.ndim, "median")
    if input.ndim == 0:
        return Median(input.clone(), wrap(input.array.astype("int64") * 0))
    size = input.shape[d]
    if size == 0:
        raise IndexError(f"median: dim {dim} of shape {tuple(input.shape)} has size 0, which has no median")
    values, indices = sort(input, d)
    middle = (slice(None),) * d + (slice((size - 1) // 2, (size - 1) // 2 + 1),)
    values, indices = getitem(values, middle), getitem(indices, middle)
    return Median(values, indices) if keepdim else Median(squeeze(values, d), squeeze(indices, d))
