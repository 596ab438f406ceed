"""Operators and methods of Tensor that call the differentiable ops.

``Tensor`` inherits these from :class:`TensorMethods`; each one is a thin call
of the functional form in ``minidl.ops`` (so ``x.exp()`` and ``minidl.exp(x)``
are the same op), with PyTorch's names and arguments.

The core imports nothing above it, so it cannot import ``minidl.ops``. Instead
the ops package, once loaded, hands itself to the one hook here,
:func:`attach_ops`, and the methods call the ops through the module variable
``ops``. Until then (only while ``minidl.ops`` itself is being imported) a
method raises a clear error.
"""

from __future__ import annotations


class _NotAttached:
    """Stands in for ``minidl.ops`` until it is attached."""

    def __getattr__(self, name):
        raise RuntimeError(f"Tensor.{name}: the ops are not attached yet; import minidl first")


#: the ``minidl.ops`` package, set by :func:`attach_ops`
ops = _NotAttached()


def attach_ops(module):
    """The hook: make Tensor's operators and methods call the ops of ``module`` (``minidl.ops``)."""
    global ops
    ops = module


class TensorMethods:
    """Mixin with the differentiable methods and operators of :class:`minidl.Tensor`."""

    __slots__ = ()

    # --- arithmetic operators -------------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __rpow__(self, base):
        return ops.pow(ops.as_tensor(base, like=self), self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # --- comparisons (no gradient; bool tensors) ----------------------------------
    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    def __invert__(self):
        return ops.logical_not(self)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # --- named arithmetic ---------------------------------------------------------
    def add(self, other, alpha=1):
        return ops.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other):
        return ops.div(self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def matmul(self, other):
        return ops.matmul(self, other)

    def neg(self):
        return ops.neg(self)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def clamp(self, min=None, max=None):  # noqa: A002
        return ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def clone(self):
        return ops.clone(self)

    def masked_fill(self, mask, value):
        return ops.masked_fill(self, mask, value)

    def sin(self):
        return ops.sin(self)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.sort(self, dim, descending)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.argsort(self, dim, descending)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 (PyTorch's name)
        return ops.topk(self, k, dim, largest, sorted)

    def cos(self):
        return ops.cos(self)

    def sinh(self):
        return ops.sinh(self)

    def cosh(self):
        return ops.cosh(self)

    def tril(self, diagonal=0):
        return ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return ops.triu(self, diagonal)

    def t(self):
        """The transpose of a matrix (a vector or scalar as it is), as PyTorch's ``t()``."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; use transpose(-2, -1)")
        return self if self.ndim < 2 else ops.transpose(self, 0, 1)

    def contiguous(self, memory_format=None):
        """This tensor (minidl's arrays need no re-layout before view or reshape)."""
        return self

    def nelement(self):
        return self.numel()

    # --- reductions -------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, **aliases):
        return ops.sum(self, dim, keepdim, **aliases)

    def mean(self, dim=None, keepdim=False, **aliases):
        return ops.mean(self, dim, keepdim, **aliases)

    def max(self, dim=None, keepdim=False, **aliases):
        return ops.max(self, dim, keepdim, **aliases)

    def min(self, dim=None, keepdim=False, **aliases):
        return ops.min(self, dim, keepdim, **aliases)

    def amax(self, dim=None, keepdim=False, **aliases):
        return ops.amax(self, dim, keepdim, **aliases)

    def amin(self, dim=None, keepdim=False, **aliases):
        return ops.amin(self, dim, keepdim, **aliases)

    def var(self, dim=None, unbiased=None, keepdim=False, **options):
        return ops.var(self, dim, unbiased, keepdim, **options)

    def std(self, dim=None, unbiased=None, keepdim=False, **options):
        return ops.std(self, dim, unbiased, keepdim, **options)

    def logsumexp(self, dim=None, keepdim=False, **aliases):
        return ops.logsumexp(self, dim, keepdim, **aliases)

    def argmax(self, dim=None, keepdim=False, **aliases):
        return ops.argmax(self, dim, keepdim, **aliases)

    def argmin(self, dim=None, keepdim=False, **aliases):
        return ops.argmin(self, dim, keepdim, **aliases)

    # --- shape ------------------------------------------------------------------------
    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view(self, *shape):
        return ops.reshape(self, *shape)

    def view_as(self, other):
        return ops.reshape(self, other.shape)

    def reshape_as(self, other):
        return ops.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return ops.permute(self, *dims)

    @property
    def T(self):  # noqa: N802  (PyTorch's name)
        """All dims reversed."""
        return ops.permute(self, tuple(range(self.ndim))[::-1])

    @property
    def mT(self):  # noqa: N802
        """The last two dims swapped (a batch of transposed matrices)."""
        return ops.transpose(self, -2, -1)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.unsqueeze(self, dim)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return ops.unflatten(self, dim, sizes)

    def expand(self, *shape):
        return ops.expand(self, *shape)

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def broadcast_to(self, shape):
        return ops.expand(self, shape)

    def split(self, split_size_or_sections, dim=0):
        return ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return ops.chunk(self, chunks, dim)

    def flip(self, *dims):
        return ops.flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def narrow(self, dim, start, length):
        return ops.narrow(self, dim, start, length)

    def unbind(self, dim=0):
        return ops.unbind(self, dim)

    def repeat(self, *sizes):
        return ops.repeat(self, *sizes)

    def tile(self, *dims):
        return ops.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    # --- indexing, scans, products, norms ----------------------------------------------------
    def gather(self, dim, index, *, sparse_grad=False):
        return ops.gather(self, dim, index, sparse_grad=sparse_grad)

    def index_select(self, dim, index):
        return ops.index_select(self, dim, index)

    def scatter_add(self, dim, index, src):
        return ops.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src=None, *, value=None):
        return ops.scatter(self, dim, index, src, value=value)

    def cumsum(self, dim, *, dtype=None):
        return ops.cumsum(self, dim, dtype=dtype)

    def bmm(self, mat2):
        return ops.bmm(self, mat2)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return ops.p_norm(self, p, dim, keepdim, dtype=dtype)

    # --- new tensors with this one's dtype and device (unless given) -------------------------
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return ops.new_tensor(self, data, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full: size must be a tuple of ints such as (2, 3), got {size!r}")
        return ops.new_full(self, (size,), fill_value, dtype, device, requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return ops.new_full(self, _size_given(size, "new_zeros"), 0, dtype, device, requires_grad, "new_zeros")

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return ops.new_full(self, _size_given(size, "new_ones"), 1, dtype, device, requires_grad, "new_ones")

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return ops.new_full(self, _size_given(size, "new_empty"), 0, dtype, device, requires_grad, "new_empty")

    # --- activations ----------------------------------------------------------------------
    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def tanh(self):
        return ops.tanh(self)

    def softmax(self, dim=None, **aliases):
        return ops.softmax(self, dim, **aliases)

    def log_softmax(self, dim=None, **aliases):
        return ops.log_softmax(self, dim, **aliases)

    # --- tests of values ---------------------------------------------------------------------
    def isnan(self):
        return ops.isnan(self)

    def isfinite(self):
        return ops.isfinite(self)

    def equal(self, other):
        return ops.equal(self, other)

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        return ops.allclose(self, other, rtol=rtol, atol=atol)


def _size_given(size, where):
    if not size:
        raise TypeError(f"{where}: missing the size, e.g. x.{where}(2, 3) or x.{where}((2, 3))")
    return size
