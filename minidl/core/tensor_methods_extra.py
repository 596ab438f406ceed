"""Tensor methods for PyTorch's remaining tensor functions (``x.movedim``, ``x.kthvalue``, ``x.unfold`` ...)
and a few in-place forms and random fills, a base of :class:`~minidl.core.tensor_math_methods.MathMethods`.

Each is a thin call of the functional form in ``minidl.ops`` (``minidl/ops/tensor_functions_extra*.py``),
reached through the core's one hook; the in-place ones go through ``_in_place`` of
:class:`~minidl.core.inplace_math.InPlaceMathMethods`, the random fills draw from the default stream or
``generator`` as ``normal_`` and ``exponential_`` do.
"""

from __future__ import annotations

from minidl.core import tensor_methods
from minidl.core.errors import AutogradError
from minidl.core.grad_mode import is_grad_enabled
from minidl.core.random import numpy_stream


class _AttachedOps:
    """``minidl.ops`` once attached (looked up at each call, as the hook sets it after import)."""

    def __getattr__(self, name):
        return getattr(tensor_methods.ops, name)


ops = _AttachedOps()


class ExtraMethods:
    """Mixin with the remaining tensor methods of :class:`minidl.Tensor`."""

    __slots__ = ()

    def where(self, condition, other):
        """``where(condition, self, other)``: PyTorch's method takes self first."""
        return ops.where(condition, self, other)

    def logical_not(self):
        return ops.logical_not(self)

    def argwhere(self):
        return ops.argwhere(self)

    def bincount(self, weights=None, minlength=0):
        return ops.bincount(self, weights, minlength)

    def movedim(self, source, destination):
        return ops.movedim(self, source, destination)

    moveaxis = movedim

    def select(self, dim, index):
        return ops.select(self, dim, index)

    def take(self, index):
        return ops.take(self, index)

    def tensor_split(self, indices_or_sections, dim=0):
        return ops.tensor_split(self, indices_or_sections, dim)

    def fliplr(self):
        return ops.fliplr(self)

    def flipud(self):
        return ops.flipud(self)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return ops.diag_embed(self, offset, dim1, dim2)

    def inner(self, other):
        return ops.inner(self, other)

    def unfold(self, dimension, size, step):
        """Windows of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim."""
        return ops.unfold_windows(self, dimension, size, step)

    def index_add(self, dim, index, source, *, alpha=1):
        return ops.index_add(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return ops.index_copy(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return ops.index_fill(self, dim, index, value)

    def masked_scatter(self, mask, source):
        return ops.masked_scatter(self, mask, source)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return ops.kthvalue(self, k, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        return ops.mode(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return ops.nanmedian(self, dim, keepdim)

    def renorm(self, p, dim, maxnorm):
        return ops.renorm(self, p, dim, maxnorm)

    def fmax(self, other):
        return ops.fmax(self, other)

    def fmin(self, other):
        return ops.fmin(self, other)

    def erfc(self):
        return ops.erfc(self)

    def is_complex(self):
        """Always False: minidl has no complex tensors."""
        return False

    # --- PyTorch's second names and the inverse hyperbolic functions ------------------------------------
    def subtract(self, other, *, alpha=1):
        return ops.sub(self, other, alpha=alpha)

    def multiply(self, other):
        return ops.mul(self, other)

    def divide(self, other, *, rounding_mode=None):
        return ops.divide(self, other, rounding_mode=rounding_mode)

    def negative(self):
        return ops.neg(self)

    def positive(self):
        return ops.positive(self)

    def absolute(self):
        return ops.abs(self)

    def arccos(self):
        return ops.acos(self)

    def arcsin(self):
        return ops.asin(self)

    def arctan(self):
        return ops.atan(self)

    def acosh(self):
        return ops.acosh(self)

    arccosh = acosh

    def asinh(self):
        return ops.asinh(self)

    arcsinh = asinh

    def atanh(self):
        return ops.atanh(self)

    arctanh = atanh

    def ravel(self):
        return ops.ravel(self)

    def msort(self):
        return ops.msort(self)

    def adjoint(self):
        return ops.adjoint(self)

    def conj(self):
        return ops.conj(self)

    def conj_physical(self):
        return ops.conj_physical(self)

    def resolve_conj(self):
        return ops.resolve_conj(self)

    def resolve_neg(self):
        return ops.resolve_neg(self)

    def det(self):
        return ops.det(self)

    def logdet(self):
        return ops.logdet(self)

    def inverse(self):
        return ops.inverse(self)

    def isposinf(self):
        return ops.isposinf(self)

    def isneginf(self):
        return ops.isneginf(self)

    def isreal(self):
        return ops.isreal(self)

    def frexp(self):
        return ops.frexp(self)


    def arctan2(self, other):
        return ops.atan2(self, other)

    def not_equal(self, other):
        return ops.ne(self, other)

    def greater(self, other):
        return ops.gt(self, other)

    def greater_equal(self, other):
        return ops.ge(self, other)

    def less(self, other):
        return ops.lt(self, other)

    def less_equal(self, other):
        return ops.le(self, other)

    def logaddexp2(self, other):
        return ops.logaddexp2(self, other)

    def ldexp(self, other):
        return ops.ldexp(self, other)

    def cholesky(self, upper=False):
        return ops.cholesky(self, upper)

    def svd(self, some=True, compute_uv=True):
        return ops.svd(self, some, compute_uv)

    def qr(self, some=True):
        return ops.qr(self, some)

    def hsplit(self, indices_or_sections):
        return ops.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return ops.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return ops.dsplit(self, indices_or_sections)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def index_put(self, indices, values, accumulate=False):
        return ops.index_put(self, indices, values, accumulate)

    def put(self, index, source, accumulate=False):
        return ops.put(self, index, source, accumulate)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return self._in_place("scatter_reduce_", lambda t: ops.scatter_reduce(t, dim, index, src, reduce,
                                                                              include_self=include_self), src)

    def index_put_(self, indices, values, accumulate=False):
        return self._in_place("index_put_", lambda t: ops.index_put(t, indices, values, accumulate), values)

    def put_(self, index, source, accumulate=False):
        return self._in_place("put_", lambda t: ops.put(t, index, source, accumulate), source)

    # --- in-place forms ---------------------------------------------------------------------------------
    def _reshaped_in_place(self, op, reshape):
        """Give this tensor the shape ``reshape(self)`` has (its own values, a view op); while recorded, the
        tensor moves to the end of its history as other in-place edits do."""
        source = self
        if is_grad_enabled() and self._requires_grad:
            if self._node is None:
                raise AutogradError(f"{op}: a leaf tensor that requires grad cannot change shape in place while "
                                    "gradients are recorded; use the out-of-place form")
            source = type(self)._from_op(self.array, self._node, self._output)
            source._requires_grad = True
        reshaped = reshape(source)
        if source is not self:
            self._node, self._output = reshaped._node, reshaped._output
        self.array = reshaped.array
        return self

    def squeeze_(self, dim=None):
        return self._reshaped_in_place("squeeze_", lambda t: ops.squeeze(t, dim))

    def unsqueeze_(self, dim):
        return self._reshaped_in_place("unsqueeze_", lambda t: ops.unsqueeze(t, dim))

    def index_copy_(self, dim, index, source):
        return self._in_place("index_copy_", lambda t: ops.index_copy(t, dim, index, source), source)

    def masked_scatter_(self, mask, source):
        return self._in_place("masked_scatter_", lambda t: ops.masked_scatter(t, mask, source), source)

    # --- random fills -------------------------------------------------------------------------------------
    def _filled_with(self, op, draw, generator):
        """Fill in place with ``draw(stream, shape)`` (host samples, copied to this tensor's device)."""
        stream = numpy_stream(generator, op)
        return self._in_place(op, lambda t: type(t)(draw(stream, t.shape).astype(t.array.dtype)).to(t.device))

    def geometric_(self, p, *, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        if not 0 < p < 1:
            raise ValueError(f"geometric_: p must be in (0, 1), got {p!r}")
        return self._filled_with("geometric_", lambda stream, shape: stream.geometric(p, shape), generator)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with samples of the Cauchy distribution: median + sigma · tan(π(U − 1/2))."""
        if sigma <= 0:
            raise ValueError(f"cauchy_: sigma must be positive, got {sigma!r}")
        return self._filled_with("cauchy_", lambda stream, shape: median + sigma * stream.standard_cauchy(shape),
                                 generator)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill with exp of N(mean, std²) samples."""
        if std <= 0:
            raise ValueError(f"log_normal_: std must be positive, got {std!r}")
        return self._filled_with("log_normal_", lambda stream, shape: stream.lognormal(mean, std, shape), generator)
