"""Shape ops: reshape, permute, expand, indexing, cat, stack, split (padding: ops/padding.py).

They move elements without changing them, so each backward moves the
gradient back: reshape it back, permute it back, sum what was broadcast,
scatter it into the indexed positions, or slice it apart.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add
from minidl.core.errors import ShapeError
from minidl.ops.common import as_tensor, is_tensor, normalize_dims


class Reshape(Function):
    """z = x viewed with a new shape;  dz/dx: the gradient reshaped back"""

    returns_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)

    def write_back(self, base, view):
        """The viewed tensor after an in-place edit of the view: the view's values, reshaped back."""
        return reshape(view, *self.in_shape)

    def shape_error(self, arrays, error):
        return ShapeError(f"reshape: a tensor of shape {arrays[0].shape} cannot be reshaped ({error})")


class Permute(Function):
    """z = x with dims reordered by p;  dz/dx: the gradient permuted by the inverse of p"""

    returns_view = True

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)

    def write_back(self, base, view):
        """The viewed tensor after an in-place edit of the view: the view's values, permuted back."""
        return permute(view, *self.inverse)


class Expand(Function):
    """z = x broadcast to a larger shape;  dz/dx: the gradient summed over the broadcast dims"""

    returns_view = True

    def forward(self, x, shape):
        return array_module(x).broadcast_to(x, shape)

    def backward(self, g):
        return g  # the engine sums it back to x's shape

    def shape_error(self, arrays, error):
        return ShapeError(f"expand: shape {arrays[0].shape} cannot be expanded to the requested shape ({error})")


class GetItem(Function):
    """z = x[index];  dz/dx: zeros with the gradient added at the indexed positions"""

    name = "getitem"

    def forward(self, x, index):
        self.in_shape = x.shape
        self.advanced = any(_is_array_index(i) for i in (index if isinstance(index, tuple) else (index,)))
        self.returns_view = not self.advanced  # basic slicing gives a view
        self.save(index)  # may hold index arrays
        self.basic_index = None if self.advanced else index  # slices and ints only
        return x[index]

    def write_back(self, base, view):
        """The viewed tensor after an in-place edit of the view: the base with the view's values set."""
        return set_item(base, self.basic_index, view)

    def backward(self, g):
        (index,) = self.saved
        grad = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        if self.advanced:
            scatter_add(grad, index, g)  # repeated indices must accumulate
        else:
            grad[index] = g
        return grad

    def shape_error(self, arrays, error):
        return type(error)(f"getitem: invalid index for a tensor of shape {arrays[0].shape}: {error}")


class SetItem(Function):
    """z = x with z[index] = v;  dz/dx: the gradient with the indexed positions zeroed,
    dz/dv: the gradient at the indexed positions (summed back to v's shape)"""

    name = "setitem"

    def forward(self, x, value, index):
        self.save(index)  # may hold index arrays
        z = x.copy()
        z[index] = value
        return z

    def backward(self, g):
        (index,) = self.saved
        grad_x = g.copy()
        grad_x[index] = 0
        return grad_x, g[index]

    def shape_error(self, arrays, error):
        return type(error)(f"setitem: cannot assign a value of shape {tuple(arrays[1].shape)} to an index of a "
                           f"tensor of shape {arrays[0].shape}: {error}")


class Cat(Function):
    """z = [x₁, x₂, ...] joined along dim;  dz/dxₖ: the k-th slice of the gradient"""

    def forward(self, *xs, dim):
        self.dim = dim
        self.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1].tolist()
        return array_module(xs[0]).concatenate(xs, axis=dim)

    def backward(self, g):
        return tuple(array_module(g).split(g, self.bounds, axis=self.dim))

    def shape_error(self, arrays, error):
        shapes = ", ".join(str(a.shape) for a in arrays)
        return ShapeError(f"cat: tensors must have the same shape except in dim {self.dim}, got {shapes}")


class Stack(Function):
    """z = [x₁, x₂, ...] stacked along a new dim;  dz/dxₖ = z's gradient at index k of that dim"""

    def forward(self, *xs, dim):
        self.dim = dim
        return array_module(xs[0]).stack(xs, axis=dim)

    def backward(self, g):
        return tuple(g.take(k, axis=self.dim) for k in range(g.shape[self.dim]))

    def shape_error(self, arrays, error):
        shapes = ", ".join(str(a.shape) for a in arrays)
        return ShapeError(f"stack: expects each tensor to be equal size, got {shapes}")


# --- index helpers -----------------------------------------------------------------

def _is_array_index(item):
    return hasattr(item, "shape") and hasattr(item, "dtype")


def as_index(index, device_xp=None):
    """Turn tensors and lists inside an index into arrays (integer or bool)."""
    if isinstance(index, tuple):
        return tuple(as_index(item, device_xp) for item in index)
    if is_tensor(index):
        if index.array.dtype.kind not in "biu":
            raise IndexError(f"getitem: tensors used as indices must be long or bool, got {index.dtype}")
        return index.array
    if isinstance(index, list):
        array = np.asarray(index)
        if array.dtype.kind not in "biu":
            raise IndexError(f"getitem: lists used as indices must hold ints or bools, got {array.dtype}")
        return array
    if isinstance(index, (numbers.Number, str, bytes)) and not isinstance(index, numbers.Integral):
        raise IndexError(f"getitem: only integers, slices (:), None, ..., and int or bool tensors are valid "
                         f"indices, got {index!r} ({type(index).__name__})")
    return index


# --- functional forms -----------------------------------------------------------------

def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def set_item(x, index, value):
    """x with ``x[index] = value``, as a new tensor (differentiable in x and value): what an
    in-place ``x[index] = value`` records."""
    return SetItem.apply(x, as_tensor(value, like=x), index=as_index(index))


def permute(x, *dims):
    dims = _shape_arg(dims)
    for d in dims:
        normalize_dims(d, x.ndim, "permute")  # IndexError for a dim out of range
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}")
    return Permute.apply(x, dims=tuple(d % max(x.ndim, 1) for d in dims))


def transpose(x, dim0, dim1):
    if x.ndim == 0:  # PyTorch allows dims 0 and -1 of a 0-d tensor: nothing to swap
        normalize_dims(dim0, 0, "transpose"), normalize_dims(dim1, 0, "transpose")
        return x
    dims = list(range(x.ndim))
    d0, d1 = (normalize_dims(d, x.ndim, "transpose")[0] for d in (dim0, dim1))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


def squeeze(x, dim=None):
    """Remove dims of size 1 (only ``dim`` when given; a dim of another size is left alone)."""
    dims = normalize_dims(dim, x.ndim, "squeeze")
    shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x, dim):
    """Insert a dim of size 1 at position ``dim`` (negative counts from the end of the result)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor with {x.ndim} dims")
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (normalize_dims(d, x.ndim, "flatten")[0] for d in (start_dim, end_dim))
    size = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, x.shape[:start] + (size,) + x.shape[end + 1:])


def unflatten(x, dim, sizes):
    (d,) = normalize_dims(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def expand(x, *shape):
    """Broadcast ``x`` to ``shape``; -1 keeps a dim's size."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the number of sizes ({len(shape)}) must be at least the number of dims "
                         f"of shape {x.shape}")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    if shape == x.shape:
        return x
    return Expand.apply(x, shape=shape)


broadcast_to = expand


def expand_as(x, other):
    return expand(x, other.shape)


def getitem(x, index):
    return GetItem.apply(x, index=as_index(index))


def cat(tensors, dim=0, *, axis=None):
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    dim = axis if axis is not None else dim
    ndim = tensors[0].ndim
    if any(t.ndim != ndim for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"cat: tensors must have the same number of dims, got {shapes}")
    (d,) = normalize_dims(dim, ndim, "cat")
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    dim = axis if axis is not None else dim
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} is out of range for the {ndim}-dim result")
    return Stack.apply(*tensors, dim=dim % ndim)


def split(x, split_size_or_sections, dim=0):
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given section sizes."""
    (d,) = normalize_dims(dim, x.ndim, "split")
    length = x.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} must sum to the size {length} of dim {dim}")
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * d + (slice(start, start + size),)
        pieces.append(GetItem.apply(x, index=index))
        start += size
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller), as PyTorch does."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    (d,) = normalize_dims(dim, x.ndim, "chunk")
    step = max(1, -(-x.shape[d] // chunks))
    return split(x, step, dim)
