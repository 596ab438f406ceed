"""Tensor methods for the wider math library (trigonometry, rounding, logic, products, statistics,
distances), a mixin of :class:`minidl.Tensor` beside :class:`~minidl.core.tensor_methods.TensorMethods`.

Each is a thin call of the functional form in ``minidl.ops``, reached through the same hook
(:func:`minidl.core.tensor_methods.attach_ops`).
"""

from __future__ import annotations

from minidl.core import tensor_methods


class _AttachedOps:
    """``minidl.ops`` once attached (looked up at each call, as the hook sets it after import)."""

    def __getattr__(self, name):
        return getattr(tensor_methods.ops, name)


ops = _AttachedOps()


class MathMethods:
    """Mixin with the math-library methods of :class:`minidl.Tensor`."""

    __slots__ = ()

    # --- more elementwise math (minidl/ops/elementwise_math.py, error_function.py, rounding.py) ---------
    def tan(self):
        return ops.tan(self)

    def asin(self):
        return ops.asin(self)

    def acos(self):
        return ops.acos(self)

    def atan(self):
        return ops.atan(self)

    def atan2(self, other):
        return ops.atan2(self, other)

    def erf(self):
        return ops.erf(self)

    def erfinv(self):
        return ops.erfinv(self)

    def expm1(self):
        return ops.expm1(self)

    def log1p(self):
        return ops.log1p(self)

    def log2(self):
        return ops.log2(self)

    def log10(self):
        return ops.log10(self)

    def exp2(self):
        return ops.exp2(self)

    def rsqrt(self):
        return ops.rsqrt(self)

    def reciprocal(self):
        return ops.reciprocal(self)

    def square(self):
        return ops.square(self)

    def logaddexp(self, other):
        return ops.logaddexp(self, other)

    def lerp(self, end, weight):
        return ops.lerp(self, end, weight)

    def clamp_min(self, min):  # noqa: A002
        return ops.clamp_min(self, min)

    def clamp_max(self, max):  # noqa: A002
        return ops.clamp_max(self, max)

    def sign(self):
        return ops.sign(self)

    def floor(self):
        return ops.floor(self)

    def ceil(self):
        return ops.ceil(self)

    def round(self, decimals=0):
        return ops.round(self, decimals=decimals)

    def trunc(self):
        return ops.trunc(self)

    def remainder(self, other):
        return ops.remainder(self, other)

    def fmod(self, other):
        return ops.fmod(self, other)

    def floor_divide(self, other):
        return ops.floor_divide(self, other)

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    # --- logic, counting, finding (minidl/ops/selection.py) --------------------------------------------
    def logical_and(self, other):
        return ops.logical_and(self, other)

    def logical_or(self, other):
        return ops.logical_or(self, other)

    def logical_xor(self, other):
        return ops.logical_xor(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def count_nonzero(self, dim=None):
        return ops.count_nonzero(self, dim)

    def nonzero(self, *, as_tuple=False):
        return ops.nonzero(self, as_tuple=as_tuple)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        return ops.unique(self, sorted, return_inverse, return_counts, dim)

    def is_floating_point(self):
        return ops.is_floating_point(self)

    # --- products, statistics, diagonals, rearranging, distances ----------------------------------------
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return ops.prod(self, dim, keepdim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return ops.cumprod(self, dim, dtype=dtype)

    def median(self, dim=None, keepdim=False):
        return ops.median(self, dim, keepdim)

    def dot(self, other):
        return ops.dot(self, other)

    def mm(self, mat2):
        return ops.mm(self, mat2)

    def outer(self, vec2):
        return ops.outer(self, vec2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def kron(self, other):
        return ops.kron(self, other)

    def trace(self):
        return ops.trace(self)

    def diag(self, diagonal=0):
        return ops.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return ops.diagonal(self, offset, dim1, dim2)

    def roll(self, shifts, dims=None):
        return ops.roll(self, shifts, dims)

    def masked_select(self, mask):
        return ops.masked_select(self, mask)

    def take_along_dim(self, indices, dim=None):
        return ops.take_along_dim(self, indices, dim)

    def swapaxes(self, axis0, axis1):
        return ops.swapaxes(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        return ops.swapdims(self, dim0, dim1)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return ops.nan_to_num(self, nan, posinf, neginf)

    def cross(self, other, dim=None):
        return ops.cross(self, other, dim)

    def dist(self, other, p=2):
        return ops.dist(self, other, p)
