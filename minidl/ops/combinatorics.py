"""Building tensors from pieces, as PyTorch's: cartesian_prod, combinations, block_diag, vander, tensordot,
rot90, diff, logspace and isin.

All but logspace and isin are composites of differentiable ops (indexing, stacking, padding, products,
matmul, flips and transposes), so each gradient follows from theirs:

    cartesian_prod(a, b)[i·|b| + j] = (aᵢ, bⱼ)            combinations(x, r): the rows (x_{i₁}, …, x_{iᵣ}), i₁ < … < iᵣ
    block_diag(A, B) = [[A, 0], [0, B]]                   vander(x, N)[i, j] = xᵢ^(N-1-j)  (increasing: xᵢ^j)
    tensordot(a, b, dims): Σ over the paired dims of a·b  rot90(x, k, dims): k quarter turns from dims[0] to dims[1]
    diff(x)ᵢ = xᵢ₊₁ - xᵢ, applied n times (prepend/append joined first)
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from minidl.core.creation import tensor
from minidl.core.dtypes import get_default_dtype
from minidl.core.errors import ShapeError
from minidl.ops.arithmetic import clone, mul, sub
from minidl.ops.common import is_tensor, one_dim, wrap
from minidl.ops.indexing import flip, index_select, narrow
from minidl.ops.linalg import matmul
from minidl.ops.padding import pad
from minidl.ops.repeat import meshgrid
from minidl.ops.shape import cat, expand, permute, reshape, stack, transpose


def _tensors(tensors, op):
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors
    for t in tensors:
        if not is_tensor(t):
            raise TypeError(f"{op}: expected tensors, got {type(t).__name__}")
    return tensors


def cartesian_prod(*tensors):
    """Every tuple (a, b, …) of one element from each 1-D tensor, one row each, in row-major order."""
    tensors = _tensors(tensors, "cartesian_prod")
    if not tensors:
        raise ValueError("cartesian_prod: expects at least one tensor")
    for t in tensors:
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expects 1-d tensors, got a tensor of shape {t.shape}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([reshape(grid, -1) for grid in meshgrid(*tensors, indexing="ij")], dim=1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002 (PyTorch's names)
    """The length-r combinations of a 1-D tensor's elements, one per row, in lexicographic order of
    positions (with_replacement: positions may repeat)."""
    if not is_tensor(input) or input.ndim != 1:
        raise ShapeError(f"combinations: expects a 1-d tensor, got {input.shape if is_tensor(input) else input!r}")
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 0:
        raise ValueError(f"combinations: r must be a non-negative int, got {r!r}")
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(choose(range(input.shape[0]), r))
    if r == 0:
        return wrap(input.array[:0])  # PyTorch: an empty 1-d tensor
    if not rows:
        return wrap(input.array[:0].reshape(0, r))
    index = tensor(np.array(rows, dtype=np.int64).reshape(-1), device=input.device)
    return reshape(index_select(input, 0, index), len(rows), r)


def block_diag(*tensors):
    """The block-diagonal matrix of 0-, 1- or 2-d tensors (a 0-d tensor is a 1×1 block, a 1-d one a row)."""
    tensors = _tensors(tensors, "block_diag")
    if not tensors:
        return tensor(np.zeros((1, 0)))
    blocks = []
    for t in tensors:
        if t.ndim > 2:
            raise ShapeError(f"block_diag: expects tensors of at most 2 dims, got a tensor of shape {t.shape}")
        blocks.append(reshape(t, 1, -1) if t.ndim < 2 else t)
    dtype = np.result_type(*[b.array.dtype for b in blocks])
    width, left, rows = sum(b.shape[1] for b in blocks), 0, []
    for b in blocks:
        rows.append(pad(b.to(dtype) if b.array.dtype != dtype else b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, dim=0)


def vander(x, N=None, increasing=False):  # noqa: N803 (PyTorch's name)
    """The Vandermonde matrix of a 1-D tensor: columns x^(N-1), …, x, 1 (or 1, x, … when increasing)."""
    if not is_tensor(x) or x.ndim != 1:
        raise ShapeError(f"vander: x must be a 1-d tensor, got {x.shape if is_tensor(x) else x!r}")
    N = x.shape[0] if N is None else N  # noqa: N806
    if isinstance(N, bool) or not isinstance(N, numbers.Integral) or N < 0:
        raise ValueError(f"vander: N must be a non-negative int, got {N!r}")
    if x.array.dtype.kind == "b":
        x = x.to(np.int64)
    columns, power = [], None
    for _ in range(N):
        power = (x * 0 + 1) if power is None else mul(power, x)
        columns.append(power)
    if not columns:
        return wrap(x.array.reshape(-1, 1)[:, :0])
    return stack(columns if increasing else columns[::-1], dim=1)


def _dims_pair(dims, a, b):
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims must lie in [0, {min(a.ndim, b.ndim)}], got {dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if isinstance(dims, (tuple, list)) and len(dims) == 2:
        first, second = ([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)
        if len(first) != len(second):
            raise ValueError(f"tensordot: both lists in dims must have one length, got {dims}")
        return [one_dim(d, a.ndim, "tensordot") for d in first], [one_dim(d, b.ndim, "tensordot") for d in second]
    raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}")


def tensordot(a, b, dims=2, out=None):
    """Σ over the paired dims of a and b of a·b; the result has a's free dims, then b's."""
    if out is not None:
        raise TypeError("tensordot: minidl has no out= argument")
    first, second = _dims_pair(dims, a, b)
    for da, db in zip(first, second):
        if a.shape[da] != b.shape[db]:
            raise ShapeError(f"tensordot: dim {da} of a (shape {a.shape}) and dim {db} of b (shape {b.shape}) "
                             "differ in size")
    free_a = [d for d in range(a.ndim) if d not in first]
    free_b = [d for d in range(b.ndim) if d not in second]
    size = int(np.prod([a.shape[d] for d in first], dtype=np.int64))
    left = reshape(permute(a, *(free_a + first)), -1, size)
    right = reshape(permute(b, *(second + free_b)), size, -1)
    return reshape(matmul(left, right), *([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]))


def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """``input`` turned k quarter turns in the plane of ``dims``, from dims[0] toward dims[1]."""
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must hold two dims, got {dims!r}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: expects a tensor of at least 2 dims, got shape {input.shape}")
    d0, d1 = (one_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims!r}")
    k %= 4
    if k == 1:
        return transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return flip(transpose(input, d0, d1), [d1])
    return clone(input)


def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The n-th forward difference along ``dim`` (after joining prepend and append along it; n = 0
    returns input as it is)."""
    if not is_tensor(input) or input.ndim == 0:
        raise ShapeError("diff: expects a tensor of at least 1 dim"
                         + (f", got shape {input.shape}" if is_tensor(input) else ""))
    d = one_dim(dim, input.ndim, "diff")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    if n == 0:
        return input  # as PyTorch: prepend and append are ignored
    parts = []
    for name, extra in (("prepend", prepend), (None, input), ("append", append)):
        if extra is None:
            continue
        if not is_tensor(extra):
            extra = tensor(extra, dtype=input.dtype, device=input.device)
        if extra.ndim == 0:
            extra = expand(reshape(extra, *[1] * input.ndim), *[1 if a == d else s for a, s in enumerate(input.shape)])
        parts.append(extra)
    x = cat(parts, dim=d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        after, before = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = (after != before) if x.array.dtype.kind == "b" else sub(after, before)
    return x


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` values base^t for t evenly spaced from start to end (both included)."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"logspace: steps must be a non-negative int, got {steps!r}")
    values = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    return tensor(values, dtype=dtype or get_default_dtype(), device=device, requires_grad=requires_grad)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements`` (False there when invert)."""
    if not is_tensor(elements) and not is_tensor(test_elements):
        raise TypeError("isin: elements or test_elements must be a tensor")
    like = elements if is_tensor(elements) else test_elements
    a, b = (t.array if is_tensor(t) else tensor(t, device=like.device).array for t in (elements, test_elements))
    found = (a.reshape(a.shape + (1,)) == b.reshape(-1)).any(axis=-1)
    return wrap(~found if invert else found)
