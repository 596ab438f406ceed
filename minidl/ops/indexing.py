"""Indexing ops, as PyTorch's: gather, index_select, scatter_add and scatter, narrow, unbind and flip.

Each picks (or places) elements by index, so its backward sends every gradient back to the
position its value came from; a position picked several times gets the sum of its gradients:
    z[..., j, ...] = x[..., index[j], ...]   ⇒   dL/dx[..., index[j], ...] += g[..., j, ...]
"""

from __future__ import annotations

import numbers

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add as add_at
from minidl.core.errors import ShapeError
from minidl.ops.common import as_tensor, is_tensor, normalize_dims, one_dim
from minidl.ops.shape import getitem


def along(index, dim):
    """The advanced index that reads ``index`` in dim ``dim`` and each other dim's own positions (an
    open grid): ``x[along(index, dim)]`` is ``gather(x, dim, index)``."""
    xp = array_module(index)
    return tuple(index if axis == dim else
                 xp.arange(size).reshape([-1 if a == axis else 1 for a in range(index.ndim)])
                 for axis, size in enumerate(index.shape))


class Gather(Function):
    """z[i][j] = x[index[i][j]][j] (dim 0; likewise along any dim);  dL/dx: g added at the indexed places"""

    def forward(self, x, index, dim):
        self.save(index)
        self.dim, self.in_shape = dim, x.shape
        return x[along(index, dim)]

    def backward(self, g):
        (index,) = self.saved
        return add_at(array_module(g).zeros(self.in_shape, dtype=g.dtype), along(index, self.dim), g), None


class IndexSelect(Function):
    """z = the slices x[..., index[j], ...] of dim ``dim``, in order;  dL/dx: each slice's g added back"""

    def forward(self, x, index, dim):
        self.save(index)
        self.dim, self.in_shape = dim, x.shape
        return array_module(x).take(x, index, axis=dim)

    def backward(self, g):
        (index,) = self.saved
        xp = array_module(g)
        rows = xp.moveaxis(g, self.dim, 0)  # dim first: whole rows are added at once (add_at's fast path)
        grad = xp.zeros((self.in_shape[self.dim],) + rows.shape[1:], dtype=g.dtype)
        return xp.moveaxis(add_at(grad, index, rows), 0, self.dim), None


class Scatter(Function):
    """z = x with src written (scatter) or added (scatter_add) at the indexed places:
    z[index[i][j]][j] (+)= src[i][j] (dim 0);  dL/dx = g (zero where scatter overwrote),
    dL/dsrc[i][j] = g[index[i][j]][j] (zero for the part of src past index's shape)"""

    def forward(self, x, src, index, dim, accumulate):
        self.save(index)
        self.dim, self.accumulate, self.src_shape = dim, accumulate, src.shape
        z, places = x.copy(), along(index, dim)
        part = src[tuple(slice(0, n) for n in index.shape)]
        if accumulate:
            add_at(z, places, part)
        else:
            z[places] = part
        return z

    def backward(self, g):
        (index,) = self.saved
        places = along(index, self.dim)
        grad_x = g
        if not self.accumulate:
            grad_x = g.copy()
            grad_x[places] = 0
        grad_src = array_module(g).zeros(self.src_shape, dtype=g.dtype)
        grad_src[tuple(slice(0, n) for n in index.shape)] = g[places]
        return grad_x, grad_src, None


class Unbind(Function):
    """(z₀, z₁, ...) = the slices x[..., k, ...] of dim ``dim``;  dL/dx: their gradients stacked back
    (zeros for a slice no gradient reached)"""

    def forward(self, x, dim):
        self.dim, self.slice_shape = dim, x.shape[:dim] + x.shape[dim + 1:]
        return tuple(x.take(k, axis=dim) for k in range(x.shape[dim]))

    def backward(self, *grads):
        known = next(g for g in grads if g is not None)
        xp = array_module(known)
        return xp.stack([xp.zeros(self.slice_shape, dtype=known.dtype) if g is None else g for g in grads],
                        axis=self.dim)


class Flip(Function):
    """z = x with the order of the elements reversed along dims;  dL/dx: g reversed the same way"""

    def forward(self, x, dims):
        self.dims = dims
        return array_module(x).flip(x, axis=dims).copy() if dims else x.copy()

    def backward(self, g):
        return array_module(g).flip(g, axis=self.dims) if self.dims else g


# --- checks of the arguments ---------------------------------------------------------------------

def check_index(index, where, name="index", ndim=None):
    """``index`` must be an integer tensor (of ``ndim`` dims when given)."""
    if not is_tensor(index):
        raise TypeError(f"{where}: {name} must be a tensor of int64 indices, got {type(index).__name__}")
    if index.array.dtype.kind not in "iu":
        raise TypeError(f"{where}: expected an int64 (or int32) {name} tensor, got {index.dtype}")
    if ndim is not None and index.ndim not in ndim:
        raise ShapeError(f"{where}: {name} must have {' or '.join(map(str, ndim))} dims, got shape {index.shape}")
    return index


def check_range(index, size, where, dim):
    """Every index must lie in [0, size): PyTorch refuses negative indices here too."""
    if not index.numel():
        return
    low, high = int(index.array.min()), int(index.array.max())
    if low < 0 or high >= size:
        raise IndexError(f"{where}: index {low if low < 0 else high} is out of bounds for dim {dim} with size {size}")


def _scalar_as_vector(x, index):
    """A 0-d input (and index) as 1-element vectors, which the ops then treat like any other."""
    return x.reshape(1) if x.ndim == 0 else x, index.reshape(1) if index.ndim == 0 else index


def _check_like(x, index, dim, where, other=None):
    """gather and scatter: index has x's dims, and is no larger than x (nor than src) apart from dim."""
    if index.ndim != x.ndim:
        raise ShapeError(f"{where}: index must have as many dims as the input, got index shape {index.shape} "
                         f"and input shape {x.shape}")
    for name, tensor in (("input", x), ("src", other)):
        if tensor is not None and any(i > s for d, (i, s) in enumerate(zip(index.shape, tensor.shape))
                                      if d != dim or name == "src"):
            raise ShapeError(f"{where}: index of shape {index.shape} must be no larger than {name} of shape "
                             f"{tensor.shape} in every dim" + (f" except dim {dim}" if name == "input" else ""))


# --- functional forms ---------------------------------------------------------------------------------

def gather(input, dim, index, *, sparse_grad=False):  # noqa: A002 (PyTorch's names)
    """out[i][j] = input[index[i][j]][j] for dim 0 (likewise for any dim); out has index's shape.
    The gradient is always dense (``sparse_grad`` is accepted for PyTorch's signature)."""
    d = one_dim(dim, input.ndim, "gather")
    check_index(index, "gather")
    x, index_ = _scalar_as_vector(input, index)
    _check_like(x, index_, d, "gather")
    check_range(index_, x.shape[d], "gather", dim)
    out = Gather.apply(x, index_, dim=d)
    return out.reshape(index.shape) if index.ndim == 0 else out


def index_select(input, dim, index):  # noqa: A002
    """The slices of ``input`` along ``dim`` at the positions in ``index`` (a vector), in that order."""
    d = one_dim(dim, input.ndim, "index_select")
    check_index(index, "index_select", ndim=(0, 1))
    x, index_ = _scalar_as_vector(input, index)
    if input.ndim == 0 and index_.numel() != 1:
        raise ShapeError(f"index_select: a 0-d input takes an index of one value, got shape {index.shape}")
    check_range(index_, x.shape[d], "index_select", dim)
    out = IndexSelect.apply(x, index_, dim=d)
    return out.reshape(()) if input.ndim == 0 else out


def scatter_add(input, dim, index, src):  # noqa: A002
    """A copy of ``input`` with out[index[i][j]][j] += src[i][j] (dim 0); repeated indices add up."""
    return _scatter(input, dim, index, src, True, "scatter_add")


def scatter(input, dim, index, src=None, *, value=None):  # noqa: A002
    """A copy of ``input`` with out[index[i][j]][j] = src[i][j] (dim 0); ``src`` may be a number
    (or pass ``value=``). Where an index repeats, which value lands is unspecified (as in PyTorch)."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor or a number) and value")
    return _scatter(input, dim, index, src if src is not None else value, False, "scatter")


def _scatter(input, dim, index, src, accumulate, where):  # noqa: A002
    d = one_dim(dim, input.ndim, where)
    check_index(index, where)
    if not is_tensor(src):
        src = as_tensor(src, like=input).expand(index.shape)
    if src.dtype != input.dtype:
        raise TypeError(f"{where}: src ({src.dtype}) must have the input's dtype ({input.dtype})")
    x, index_ = _scalar_as_vector(input, index)
    src_ = src.reshape(1) if src.ndim == 0 else src
    _check_like(x, index_, d, where, src_)
    check_range(index_, x.shape[d], where, dim)
    out = Scatter.apply(x, src_, index_, dim=d, accumulate=accumulate)
    return out.reshape(()) if input.ndim == 0 else out


def narrow(input, dim, start, length):  # noqa: A002
    """The slice ``start : start + length`` of dim ``dim`` (a view); ``start`` may be negative or a 0-d tensor."""
    d = one_dim(dim, input.ndim, "narrow")
    if input.ndim == 0:
        raise IndexError("narrow: cannot narrow a 0-d tensor")
    size = input.shape[d]
    start = start.item() if is_tensor(start) and start.numel() == 1 else start
    for name, value in (("start", start), ("length", length)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"narrow: {name} must be an int, got {value!r} ({type(value).__name__})")
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {size} "
                         f"(expected it in [{-size}, {size}])")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dim {dim} of size {size}"
                         if length >= 0 else f"narrow: length must be non-negative, got {length}")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def unbind(input, dim=0):  # noqa: A002
    """The slices of ``input`` along ``dim``, as a tuple of tensors with that dim removed.

    The slices are copies, where PyTorch's are views: editing one in place leaves ``input`` as it is."""
    if input.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dim to unbind")
    return Unbind.apply(input, dim=one_dim(dim, input.ndim, "unbind"))


def flip(input, dims):  # noqa: A002
    """A copy of ``input`` with the order of its elements reversed along each of ``dims``."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if input.ndim == 0:
        normalize_dims(dims, 0, "flip")
        return Flip.apply(input, dims=())
    return Flip.apply(input, dims=normalize_dims(dims, input.ndim, "flip"))
