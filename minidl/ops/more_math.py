"""More elementwise math with PyTorch's names: hypot, logit, xlogy, sinc, copysign, angle units, frac,
float_power, and the integer functions (bitwise logic and shifts, signbit, heaviside).

    hypot(x, y) = √(x² + y²):          ∂/∂x = x / z,   ∂/∂y = y / z
    logit(p) = ln(p / (1 - p)):         d/dp = 1 / (p (1 - p))          (with eps: p clamped to [eps, 1-eps])
    xlogy(x, y) = x ln y  (0 where x = 0):   ∂/∂x = ln y,   ∂/∂y = x / y
    sinc(x) = sin(πx) / (πx), sinc(0) = 1:   d/dx = (cos(πx) - sinc x) / x   (0 at x = 0)
    copysign(a, b) = |a| with b's sign:      ∂/∂a = z / a (0 where a = 0),   ∂/∂b = 0
    frac(x) = x - trunc(x):                  d/dx = 1
    deg2rad(x) = x π/180,  rad2deg(x) = x 180/π,  float_power(a, b) = a^b computed in float64

Bitwise functions take integer or bool tensors only; signbit and heaviside have no gradient.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.arithmetic import clamp, div, mul, pow, sqrt, sub, where
from minidl.ops.compare import isnan, logical_not
from minidl.ops.diagonals import diagonal
from minidl.ops.linalg import matmul
from minidl.ops.reduction import amax, amin
from minidl.ops.reduction import sum as reduce_sum
from minidl.ops.shape import reshape, transpose
from minidl.ops.common import as_tensor, binary_operands, is_tensor, quietly, wrap
from minidl.ops.elementwise_math import floating, floating_pair
from minidl.ops.rounding import sign, trunc


class Hypot(Function):
    """z = √(x² + y²);  dz/dx = x / z,  dz/dy = y / z"""

    def forward(self, x, y):
        z = array_module(x).hypot(x, y)
        self.save(x, y, z)
        return z

    def backward(self, g):
        x, y, z = self.saved
        with quietly(g):
            return g * x / z, g * y / z


class Logit(Function):
    """z = ln(p / (1 - p));  dz/dp = 1 / (p (1 - p))"""

    def forward(self, p):
        self.save(p)
        xp = array_module(p)
        with quietly(p):
            return xp.log(p) - xp.log1p(-p)

    def backward(self, g):
        (p,) = self.saved
        with quietly(g):
            return g / (p * (1 - p))


class XLogY(Function):
    """z = x ln y, and 0 where x = 0;  dz/dx = ln y,  dz/dy = x / y"""

    def forward(self, x, y):
        self.save(x, y)
        xp = array_module(x)
        with quietly(x):
            return xp.where((x == 0) & ~xp.isnan(y), x.dtype.type(0), x * xp.log(y))

    def backward(self, g):
        x, y = self.saved
        xp = array_module(x)
        with quietly(g):
            return g * xp.log(y), g * x / y


class Sinc(Function):
    """z = sin(πx) / (πx), 1 at 0;  dz/dx = (cos(πx) - z) / x, 0 at 0"""

    def forward(self, x):
        xp = array_module(x)
        safe = xp.where(x == 0, x.dtype.type(1), x) * x.dtype.type(math.pi)
        z = xp.where(x == 0, x.dtype.type(1), xp.sin(safe) / safe)
        self.save(x, z)
        return z

    def backward(self, g):
        x, z = self.saved
        xp = array_module(x)
        safe = xp.where(x == 0, x.dtype.type(1), x)
        return xp.where(x == 0, x.dtype.type(0), g * (xp.cos(safe * x.dtype.type(math.pi)) - z) / safe)


class CopySign(Function):
    """z = |a| with the sign of b;  dz/da = z / a (0 where a = 0),  dz/db = 0"""

    def forward(self, a, b):
        z = array_module(a).copysign(a, b)
        self.save(a, z)
        return z

    def backward(self, g):
        a, z = self.saved
        xp = array_module(a)
        return xp.where(a == 0, a.dtype.type(0), g * z / xp.where(a == 0, a.dtype.type(1), a)), xp.zeros_like(g)


# --- functional forms -------------------------------------------------------------

def hypot(input, other):  # noqa: A002 (PyTorch's names)
    """√(input² + other²) elementwise, without overflow for large values."""
    return Hypot.apply(*floating_pair(input, other, "hypot"))


def logit(input, eps=None):  # noqa: A002
    """ln(p / (1 - p)); with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    p = floating(input, "logit")
    if eps is not None:
        if not 0 <= eps <= 0.5:
            raise ValueError(f"logit: eps must lie in [0, 0.5], got {eps}")
        p = clamp(p, eps, 1 - eps)
    return Logit.apply(p)


def xlogy(input, other):  # noqa: A002
    """input · ln(other), with 0 where input is 0 (unless other is NaN)."""
    return XLogY.apply(*floating_pair(input, other, "xlogy"))


def sinc(input):  # noqa: A002
    """The normalised sinc, sin(πx) / (πx), with sinc(0) = 1."""
    return Sinc.apply(floating(input, "sinc"))


def copysign(input, other):  # noqa: A002
    """The magnitude of ``input`` with the sign (sign bit, so -0.0 counts as negative) of ``other``."""
    return CopySign.apply(*floating_pair(input, other, "copysign"))


def deg2rad(input):  # noqa: A002
    return mul(floating(input, "deg2rad"), math.pi / 180)


def rad2deg(input):  # noqa: A002
    return mul(floating(input, "rad2deg"), 180 / math.pi)


def frac(input):  # noqa: A002
    """The fractional part x - trunc(x), with the sign of x."""
    if not is_tensor(input) or input.array.dtype.kind not in "fc":
        raise TypeError(f"frac: expected a floating tensor, got {_describe(input)}")
    return sub(input, trunc(input))


def float_power(input, exponent):  # noqa: A002
    """input ** exponent computed in float64, whatever the dtypes."""
    if is_tensor(exponent):
        exponent = exponent.to(np.float64)
    if is_tensor(input):
        return pow(input.to(np.float64), exponent if is_tensor(exponent) else float(exponent))
    if is_tensor(exponent):
        return pow(as_tensor(float(input), like=exponent), exponent)
    raise TypeError("float_power: input or exponent must be a tensor")


def true_divide(dividend, divisor):
    """dividend / divisor with true (floating) division: the same as ``div``."""
    return div(dividend, divisor)


fix = trunc
sgn = sign  # minidl tensors are real: sgn is sign


# --- no gradient: sign bits, steps and bitwise logic -----------------------------------------

def _describe(value):
    return f"a tensor of dtype {value.dtype}" if is_tensor(value) else type(value).__name__


def signbit(input):  # noqa: A002
    """True where the sign bit is set (negative numbers and -0.0)."""
    if not is_tensor(input):
        raise TypeError(f"signbit: expected a tensor, got {_describe(input)}")
    return wrap(array_module(input.array).signbit(input.array))


def heaviside(input, values):  # noqa: A002
    """0 where input < 0, 1 where input > 0, and ``values`` where input == 0 (no gradient)."""
    if not is_tensor(input) or not is_tensor(values):
        raise TypeError(f"heaviside: input and values must be tensors, got {_describe(input)} and "
                        f"{_describe(values)}")
    if input.dtype != values.dtype:
        raise TypeError(f"heaviside: input ({input.dtype}) and values ({values.dtype}) must have the same dtype")
    x, v = input.array, values.array
    xp = array_module(x)
    return wrap(xp.where(x == 0, v, (x > 0).astype(x.dtype)).astype(x.dtype))


def _integer_operands(input, other, op):  # noqa: A002
    a, b = binary_operands(input, other)
    for name, t in (("input", a), ("other", b)):
        if t.array.dtype.kind not in "biu":
            raise TypeError(f"{op}: {name} must be an integer or bool tensor, got dtype {t.dtype}")
    return a.array, b.array


def _bitwise(name, ufunc, meaning):
    """A binary bitwise function of integer or bool tensors: ``ufunc`` of the array module."""
    def function(input, other):  # noqa: A002
        a, b = _integer_operands(input, other, name)
        return wrap(getattr(array_module(a), ufunc)(a, b))
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{meaning}, elementwise, of integer or bool tensors (no gradient)."
    return function


bitwise_and = _bitwise("bitwise_and", "bitwise_and", "input AND other, bit by bit")
bitwise_or = _bitwise("bitwise_or", "bitwise_or", "input OR other, bit by bit")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", "input XOR other, bit by bit")
bitwise_left_shift = _bitwise("bitwise_left_shift", "left_shift", "input shifted left by other bits")
bitwise_right_shift = _bitwise("bitwise_right_shift", "right_shift", "input shifted right by other bits")


def bitwise_not(input):  # noqa: A002
    if not is_tensor(input) or input.array.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: input must be an integer or bool tensor, got {_describe(input)}")
    return wrap(array_module(input.array).invert(input.array))


# --- NaN-skipping reductions, both extremes, covariance (composites: the gradients follow) -------------

AMinMax = namedtuple("aminmax", ["min", "max"])


def _without_nans(input, op):  # noqa: A002
    if not is_tensor(input):
        raise TypeError(f"{op}: expected a tensor, got {_describe(input)}")
    if input.array.dtype.kind not in "fc":
        return input
    return where(isnan(input), 0.0, input)


def nansum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The sum over ``dim`` treating NaN as 0 (those elements get no gradient)."""
    return reduce_sum(_without_nans(input, "nansum"), dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The mean over ``dim`` of the elements that are not NaN (NaN where all are)."""
    x = input.to(dtype) if is_tensor(input) and dtype is not None else input
    if is_tensor(x) and x.array.dtype.kind not in "fc":
        raise TypeError(f"nanmean: expected a floating tensor, got dtype {x.dtype} (pass dtype= or use .float())")
    present = reduce_sum(logical_not(isnan(x)).to(x.dtype), dim, keepdim)
    return div(nansum(x, dim, keepdim), present)


def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """(min, max) over ``dim`` (all elements when None), as a named tuple."""
    if is_tensor(input) and input.numel() == 0:
        raise ValueError(f"aminmax: cannot reduce a tensor with no elements (shape {input.shape})")
    return AMinMax(amin(input, dim, keepdim), amax(input, dim, keepdim))


def _observation_weights(weights, name, count, like, integral):
    if weights is None:
        return None
    if not is_tensor(weights) or weights.ndim > 1 or weights.numel() != count:
        shape = weights.shape if is_tensor(weights) else type(weights).__name__
        raise ShapeError(f"cov: {name} must be a 0-d or 1-d tensor with {count} observations, got {shape}")
    if integral != (weights.array.dtype.kind in "biu"):
        raise TypeError(f"cov: {name} must be {'an integer' if integral else 'a floating'} tensor, got {weights.dtype}")
    if bool((weights.array < 0).any()):
        raise ValueError(f"cov: {name} cannot be negative")
    return reshape(weights.to(like.dtype), -1)


def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """The covariance matrix of the variables in the rows of ``input`` (observations in columns):
    C = Σₖ wₖ (xₖ - x̄)(xₖ - x̄)ᵀ / (Σw - correction·Σ(w·a)/Σw), x̄ = Σ w x / Σ w, w = fweights·aweights."""
    if not is_tensor(input) or input.ndim > 2:
        raise ShapeError(f"cov: expects a tensor of at most 2 dims, got {getattr(input, 'shape', input)!r}")
    x = reshape(floating(input, "cov"), 1, -1) if input.ndim < 2 else floating(input, "cov")
    count = x.shape[1]
    frequency = _observation_weights(fweights, "fweights", count, x, integral=True)
    accuracy = _observation_weights(aweights, "aweights", count, x, integral=False)
    weights = frequency if accuracy is None else (accuracy if frequency is None else mul(frequency, accuracy))
    if weights is None:
        total, mean = count, reduce_sum(x, 1, True) / count
        factor = count - correction
    else:
        total = reduce_sum(weights)
        mean = reduce_sum(x * weights, 1, True) / total
        factor = total - (correction if accuracy is None else correction * reduce_sum(weights * accuracy) / total)
    centred = sub(x, mean)
    products = matmul(centred * weights if weights is not None else centred, transpose(centred, 0, 1))
    c = div(products, clamp(factor, min=0.0) if is_tensor(factor) else max(factor, 0))
    return reshape(c, ()) if x.shape[0] == 1 else c  # one variable: its variance, as a 0-d tensor


def corrcoef(input):  # noqa: A002
    """Pearson's correlation coefficients of the rows: cov(x)ᵢⱼ / √(cov(x)ᵢᵢ cov(x)ⱼⱼ), clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return div(c, c)
    spread = sqrt(diagonal(c))
    return clamp(div(div(c, reshape(spread, -1, 1)), reshape(spread, 1, -1)), -1.0, 1.0)
