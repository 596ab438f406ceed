"""Shape, indexing and product functions of PyTorch's top level built from existing ops, plus the
one strided-window op (``Tensor.unfold``).

Each composite gets its gradient from the ops it is made of: ``take`` is ``index_select`` of the
flattened input, ``index_copy`` is ``index_fill`` then ``index_add``, ``masked_scatter`` writes the
leading elements of ``source`` into the masked positions (``set_item``), ``diag_embed`` is a product
with a 0/1 placement tensor, ``inner`` a matrix product. ``unfold`` gathers the windows
``out[..., i, ..., j] = x[..., i·step + j, ...]``; its gradient adds each window back where it came from.
"""

from __future__ import annotations

import numbers

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.creation import randint
from minidl.core.errors import ShapeError
from minidl.ops.common import as_tensor, is_tensor, one_dim, tensor_argument, wrap
from minidl.ops.indexing import flip, index_select, narrow
from minidl.ops.linalg import matmul
from minidl.ops.products import _scaled_sum, dot, mm, outer
from minidl.ops.rearrange import hstack
from minidl.ops.shape import broadcast_to, cat, getitem, permute, reshape, set_item


class Unfold(Function):
    """out[..., i, ..., j] = x[..., i·step + j, ...] along ``dim`` (windows of ``size``, a new last dim);
    dL/dx[..., i·step + j, ...] += dL/dout[..., i, ..., j] (windows that overlap add up)."""

    def forward(self, x, dim, size, step):
        self.shape, self.dim, self.size, self.step = x.shape, dim, size, step
        self.count = (x.shape[dim] - size) // step + 1
        xp = array_module(x)
        if size == 0:
            shape = x.shape[:dim] + (self.count,) + x.shape[dim + 1:] + (0,)
            return xp.zeros(shape, dtype=x.dtype)
        return xp.stack([x[self._window(j)] for j in range(size)], axis=-1)

    def _window(self, j):
        """The slice along ``dim`` holding element ``j`` of every window."""
        return (slice(None),) * self.dim + (slice(j, j + self.step * (self.count - 1) + 1, self.step),)

    def backward(self, g):
        grad = array_module(g).zeros(self.shape, dtype=g.dtype)
        for j in range(self.size):
            grad[self._window(j)] += g[..., j]
        return grad


def unfold_windows(input, dimension, size, step):  # noqa: A002 (PyTorch's names)
    """What ``Tensor.unfold(dimension, size, step)`` returns: every window of ``size`` elements along
    ``dimension``, ``step`` apart, as a new last dim (dimension shrinks to the window count)."""
    tensor_argument(input, "unfold")
    d = one_dim(dimension, input.ndim, "unfold")
    length = input.shape[d] if input.ndim else 1
    if not isinstance(size, numbers.Integral) or not 0 <= size <= length:
        raise ShapeError(f"unfold: size {size!r} must be an int between 0 and the size {length} of dim {dimension}")
    if not isinstance(step, numbers.Integral) or step <= 0:
        raise ValueError(f"unfold: step must be a positive int, got {step!r}")
    if input.ndim == 0:
        return reshape(input, 1) if size else reshape(input, -1)[0:0]
    return Unfold.apply(input, dim=d, size=int(size), step=int(step))


def t(input):  # noqa: A002
    """The transpose of a matrix; a vector or scalar as it is."""
    return tensor_argument(input, "t").t()


def all(input, dim=None, keepdim=False):  # noqa: A001, A002 (PyTorch's names)
    """True where every element (over ``dim``, or all) is nonzero."""
    return tensor_argument(input, "all").all(dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    """True where any element (over ``dim``, or all) is nonzero."""
    return tensor_argument(input, "any").any(dim, keepdim)


def argwhere(input):  # noqa: A002
    """The (n, ndim) indices of the nonzero elements, as ``nonzero``."""
    return tensor_argument(input, "argwhere").nonzero()


def take(input, index):  # noqa: A002
    """``input`` read as 1-D at ``index`` (negative counts from the end); the result has index's shape."""
    tensor_argument(input, "take"), tensor_argument(index, "take", "index")
    if index.array.dtype.kind not in "iu":
        raise TypeError(f"take: index must be an integer tensor, got dtype {index.dtype}")
    size = input.numel()
    flat = index.array.reshape(-1)
    if flat.size and (int(flat.min()) < -size or int(flat.max()) >= size):
        raise IndexError(f"take: index out of range for an input of {size} elements (shape {tuple(input.shape)})")
    positions = wrap(flat % max(size, 1))
    return reshape(index_select(reshape(input, -1), 0, positions), tuple(index.shape))


def movedim(input, source, destination):  # noqa: A002
    """``input`` with its dims ``source`` moved to positions ``destination`` (ints or sequences of ints)."""
    tensor_argument(input, "movedim")
    source = (source,) if isinstance(source, numbers.Integral) else tuple(source)
    destination = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
    if len(source) != len(destination):
        raise ValueError(f"movedim: source {source} and destination {destination} must have the same length")
    sources = [one_dim(d, input.ndim, "movedim") for d in source]
    targets = [one_dim(d, input.ndim, "movedim") for d in destination]
    if len(set(sources)) != len(sources) or len(set(targets)) != len(targets):
        raise ValueError(f"movedim: repeated dim in source {source} or destination {destination}")
    rest = iter(d for d in range(input.ndim) if d not in sources)
    placed = dict(zip(targets, sources))
    return permute(input, *[placed[i] if i in placed else next(rest) for i in range(input.ndim)])


moveaxis = movedim


def select(input, dim, index):  # noqa: A002
    """The slice at ``index`` of dim ``dim`` (that dim removed)."""
    d = one_dim(dim, tensor_argument(input, "select").ndim, "select")
    size = input.shape[d]
    if not isinstance(index, numbers.Integral) or not -size <= index < size:
        raise IndexError(f"select: index {index!r} is out of range for dim {dim} of size {size}")
    return getitem(input, (slice(None),) * d + (int(index),))


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """``input`` with ``alpha · source`` added into the slices ``index`` of dim ``dim``."""
    return tensor_argument(input, "index_add").clone().index_add_(dim, index, source, alpha=alpha)


def index_fill(input, dim, index, value):  # noqa: A002
    """``input`` with the slices ``index`` of dim ``dim`` set to ``value``."""
    return tensor_argument(input, "index_fill").clone().index_fill_(dim, index, value)


def index_copy(input, dim, index, source):  # noqa: A002
    """``input`` with the slices ``index`` of dim ``dim`` replaced by the slices of ``source``."""
    return index_add(index_fill(input, dim, index, 0), dim, index, source)


def masked_scatter(input, mask, source):  # noqa: A002
    """``input`` with its masked positions (row-major order) set to the first elements of ``source``."""
    tensor_argument(input, "masked_scatter"), tensor_argument(source, "masked_scatter", "source")
    mask = as_tensor(mask, like=input)
    if mask.array.dtype.kind != "b":
        raise TypeError(f"masked_scatter: mask must be a bool tensor, got dtype {mask.dtype}")
    try:
        mask = broadcast_to(mask, tuple(input.shape))
    except (ShapeError, ValueError):
        raise ShapeError(f"masked_scatter: mask of shape {tuple(mask.shape)} does not broadcast to the input's "
                         f"shape {tuple(input.shape)}") from None
    count = int(mask.array.sum())
    if count > source.numel():
        raise ShapeError(f"masked_scatter: mask selects {count} elements but source has only {source.numel()}")
    return set_item(input, mask, getitem(reshape(source, -1), slice(0, count)))


def _atleast(tensors, ndim, op):
    """``tensors`` (one, several, or one sequence) each with at least ``ndim`` dims."""
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    shaped = []
    for x in items:
        x = tensor_argument(x, op)
        if x.ndim < ndim:
            shape = {0: (1, 1, 1), 1: (1, x.numel(), 1), 2: tuple(x.shape) + (1,)}[x.ndim] if ndim == 3 else \
                (1,) * (ndim - x.ndim) + tuple(x.shape)
            x = reshape(x, shape)
        shaped.append(x)
    return shaped[0] if len(tensors) == 1 and is_tensor(tensors[0]) else tuple(shaped)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,))."""
    return _atleast(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (leading 1s added)."""
    return _atleast(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: () → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1)."""
    return _atleast(tensors, 3, "atleast_3d")


def dstack(tensors):
    """The tensors (made at least 3-D) joined along dim 2."""
    return cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors):
    """The tensors side by side as columns: 0-d and 1-d ones become (n, 1) columns, then ``hstack``."""
    return hstack([reshape(x, -1, 1) if tensor_argument(x, "column_stack").ndim < 2 else x for x in tensors])


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    """``input`` cut along ``dim`` into ``n`` near-equal parts (an int; the first ``size % n`` one longer),
    or at the given indices (a list or 1-D tensor); a tuple of tensors."""
    d = one_dim(dim, tensor_argument(input, "tensor_split").ndim, "tensor_split")
    if input.ndim == 0:
        raise ValueError("tensor_split: expected at least a 1-dimensional tensor")
    size = input.shape[d]
    if is_tensor(indices_or_sections):
        values = indices_or_sections.array
        indices_or_sections = int(values) if values.ndim == 0 else [int(i) for i in values.tolist()]
    if isinstance(indices_or_sections, numbers.Integral):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"tensor_split: number of sections must be larger than 0, got {sections}")
        lengths = [size // sections + (i < size % sections) for i in range(sections)]
        bounds = [sum(lengths[:i]) for i in range(sections + 1)]
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else size + int(i), 0), size) for i in indices_or_sections] + [size]
    return tuple(narrow(input, d, start, max(stop - start, 0)) for start, stop in zip(bounds, bounds[1:]))


def fliplr(input):  # noqa: A002
    """``input`` with dim 1 reversed (left and right of a matrix swapped)."""
    if tensor_argument(input, "fliplr").ndim < 2:
        raise ValueError(f"fliplr: input must have at least 2 dims, got shape {tuple(input.shape)}")
    return flip(input, (1,))


def flipud(input):  # noqa: A002
    """``input`` with dim 0 reversed (up and down swapped)."""
    if tensor_argument(input, "flipud").ndim < 1:
        raise ValueError("flipud: input must have at least 1 dim, got a 0-d tensor")
    return flip(input, (0,))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """Each last-dim vector of ``input`` (length n) placed on diagonal ``offset`` of an (m, m) matrix,
    m = n + |offset|, held by the new dims ``dim1`` and ``dim2``: out = Σ_i x_i E_i with one-hot E_i."""
    tensor_argument(input, "diag_embed")
    ndim = input.ndim + 1
    d1, d2 = (one_dim(d, ndim, "diag_embed") for d in (dim1, dim2))
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 cannot be the same dim, got {dim1} and {dim2}")
    x = reshape(input, 1) if input.ndim == 0 else input
    n = x.shape[-1]
    m = n + abs(offset)
    xp = array_module(x.array)
    placement = xp.zeros((n, m, m), dtype=x.array.dtype)
    rows = xp.arange(n)
    placement[rows, rows + max(-offset, 0), rows + max(offset, 0)] = 1
    out = reshape(matmul(x, wrap(placement.reshape(n, m * m))), tuple(x.shape[:-1]) + (m, m))
    return movedim(out, (-2, -1), (d1, d2))


def inner(input, other):  # noqa: A002
    """Σ_k input[..., k] · other[..., k] for every pair of leading indices (a product with a 0-d one)."""
    tensor_argument(input, "inner"), tensor_argument(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(f"inner: last dims must match, got shapes {tuple(input.shape)} and {tuple(other.shape)}")
    n = input.shape[-1]
    product = mm(reshape(input, -1, n), reshape(other, -1, n).t())
    return reshape(product, tuple(input.shape[:-1]) + tuple(other.shape[:-1]))


def vdot(input, other):  # noqa: A002
    """The dot product of two 1-D tensors (real tensors: no conjugation)."""
    return dot(input, other)


ger = outer


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """beta·input + alpha·(mat @ vec), with an (n, m) mat and an (m,) vec."""
    if tensor_argument(mat, "addmv", "mat").ndim != 2 or tensor_argument(vec, "addmv", "vec").ndim != 1:
        raise ShapeError(f"addmv: expected a 2-D mat and a 1-D vec, got shapes {tuple(mat.shape)} and "
                         f"{tuple(vec.shape)}")
    return _scaled_sum("addmv", input, matmul(mat, vec), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta·input + alpha·Σ_b batch1[b] @ batch2[b], with (b, n, m) and (b, m, p) batches."""
    if tensor_argument(batch1, "addbmm", "batch1").ndim != 3 or tensor_argument(batch2, "addbmm", "batch2").ndim != 3:
        raise ShapeError(f"addbmm: batch1 and batch2 must be 3-D, got shapes {tuple(batch1.shape)} and "
                         f"{tuple(batch2.shape)}")
    return _scaled_sum("addbmm", input, matmul(batch1, batch2).sum(0), beta, alpha)


def chain_matmul(*matrices):
    """The product of 2-D matrices, left to right."""
    if not matrices:
        raise ValueError("chain_matmul: expected one matrix at least")
    for i, m in enumerate(matrices):
        if tensor_argument(m, "chain_matmul", f"matrix {i}").ndim != 2:
            raise ShapeError(f"chain_matmul: matrix {i} must be 2-D, got shape {tuple(m.shape)}")
    result = matrices[0]
    for m in matrices[1:]:
        result = mm(result, m)
    return result if len(matrices) > 1 else result.clone()


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,  # noqa: A002
                 generator=None):
    """Random integers in [low, high) (``randint_like(x, high)`` too) of ``input``'s shape, dtype and device."""
    if high is None:
        low, high = 0, low
    out = randint(low, high, tuple(tensor_argument(input, "randint_like").shape), generator=generator,
                  dtype=dtype or input.dtype, device=device or input.device)
    return out.requires_grad_() if requires_grad else out


def detach(input):  # noqa: A002
    """``input``'s values cut from the graph (sharing its data)."""
    return tensor_argument(input, "detach").detach()


def is_nonzero(input):  # noqa: A002
    """Whether a one-element tensor is nonzero (a RuntimeError for none or several elements)."""
    count = tensor_argument(input, "is_nonzero").numel()
    if count != 1:
        values = "no values" if count == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {values} is ambiguous "
                           f"(shape {tuple(input.shape)})")
    return bool(input.item() != 0)


__all__ = ["addbmm", "addmv", "all", "any", "argwhere", "atleast_1d", "atleast_2d", "atleast_3d", "chain_matmul",
           "column_stack", "diag_embed", "dstack", "fliplr", "flipud", "ger", "index_add", "index_copy",
           "index_fill", "inner", "masked_scatter", "movedim", "moveaxis", "select", "t", "take", "tensor_split",
           "unfold_windows", "vdot", "randint_like", "detach", "is_nonzero"]
