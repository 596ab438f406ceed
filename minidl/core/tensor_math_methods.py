"""Tensor methods for the wider math library (trigonometry, rounding, logic, products, statistics,
distances), a mixin of :class:`minidl.Tensor` beside :class:`~minidl.core.tensor_methods.TensorMethods`.

Each is a thin call of the functional form in ``minidl.ops``, reached through the same hook
(:func:`minidl.core.tensor_methods.attach_ops`).
"""

from __future__ import annotations

from minidl.core import tensor_methods
from minidl.core.tensor_methods_extra import ExtraMethods


class _AttachedOps:
    """``minidl.ops`` once attached (looked up at each call, as the hook sets it after import)."""

    def __getattr__(self, name):
        return getattr(tensor_methods.ops, name)


ops = _AttachedOps()


class MathMethods(ExtraMethods):  # the remaining methods: minidl/core/tensor_methods_extra.py
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

    def histc(self, bins=100, min=0, max=0):  # noqa: A002 (PyTorch's names)
        return ops.histc(self, bins, min, max)

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

    # --- the remaining tensor math (more_math.py, special_functions.py, scans_more.py, combinatorics.py) --
    def hypot(self, other):
        return ops.hypot(self, other)

    def logit(self, eps=None):
        return ops.logit(self, eps)

    def xlogy(self, other):
        return ops.xlogy(self, other)

    def sinc(self):
        return ops.sinc(self)

    def copysign(self, other):
        return ops.copysign(self, other)

    def deg2rad(self):
        return ops.deg2rad(self)

    def rad2deg(self):
        return ops.rad2deg(self)

    def frac(self):
        return ops.frac(self)

    def fix(self):
        return ops.fix(self)

    def sgn(self):
        return ops.sgn(self)

    def float_power(self, exponent):
        return ops.float_power(self, exponent)

    def true_divide(self, other):
        return ops.true_divide(self, other)

    def signbit(self):
        return ops.signbit(self)

    def heaviside(self, values):
        return ops.heaviside(self, values)

    def bitwise_and(self, other):
        return ops.bitwise_and(self, other)

    def bitwise_or(self, other):
        return ops.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return ops.bitwise_xor(self, other)

    def bitwise_not(self):
        return ops.bitwise_not(self)

    def bitwise_left_shift(self, other):
        return ops.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        return ops.bitwise_right_shift(self, other)

    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor
    __rand__, __ror__, __rxor__ = bitwise_and, bitwise_or, bitwise_xor
    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def lgamma(self):
        return ops.lgamma(self)

    def digamma(self):
        return ops.digamma(self)

    def polygamma(self, n):
        return ops.polygamma(n, self)

    def mvlgamma(self, p):
        return ops.mvlgamma(self, p)

    def i0(self):
        return ops.i0(self)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return ops.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return ops.nanmean(self, dim, keepdim, dtype=dtype)

    def aminmax(self, *, dim=None, keepdim=False):
        return ops.aminmax(self, dim=dim, keepdim=keepdim)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return ops.corrcoef(self)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def cummax(self, dim):
        return ops.cummax(self, dim)

    def cummin(self, dim):
        return ops.cummin(self, dim)

    def logcumsumexp(self, dim):
        return ops.logcumsumexp(self, dim)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return ops.diff(self, n, dim, prepend, append)

    def rot90(self, k=1, dims=(0, 1)):
        return ops.rot90(self, k, dims)
