"""The error function and its inverse as differentiable ops, PyTorch's ``erf`` and ``erfinv``.

    erf x = 2/√π ∫₀ˣ e^(-t²) dt          d/dx erf x = 2/√π · e^(-x²)
    erfinv y = the x with erf x = y        d/dy erfinv y = √π/2 · e^(erfinv(y)²)   (1/erf' at x)

erf's values come from :func:`minidl.ops.special.erf` (piecewise polynomials). NumPy has no
erfinv, so minidl solves erf x = y: a closed-form first guess (Winitzki's approximation, within
about 0.2%) refined by two steps of Halley's method on f(x) = erf x - y. With f' = 2/√π e^(-x²)
and f'' = -2x f', Halley's step x ← x - 2ff'/(2f'² - ff'') becomes x ← x - f/(f' + x f); each step
cubes the relative error, so two reach the accuracy of erf itself. Near 0, where erf's small
absolute error would be a large relative one, the series erfinv y = u + u³/3 + 7u⁵/30 + 127u⁷/630,
u = √π y / 2, is used instead (|y| < 0.01: the next term is below 1e-17 of the sum).
erfinv(±1) = ±inf, and |y| > 1 gives NaN.
"""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.ops.common import quietly
from minidl.ops.elementwise_math import floating
from minidl.ops.special import erf as erf_values

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
WINITZKI_A = 0.147
HALLEY_STEPS = 2
SERIES_BELOW = 0.01


def erfinv_values(y):
    """erfinv of an array, elementwise, in its dtype (see the module's docstring)."""
    xp = array_module(y)
    inside = abs(y) < 1
    safe = xp.where(inside, y, y.dtype.type(0))
    # first guess: x² = sqrt(t² - L/a) - t, written as (-L/a) / (sqrt(t² - L/a) + t), L = ln(1 - y²) ≤ 0
    ratio = -xp.log1p(-safe * safe) / y.dtype.type(WINITZKI_A)
    t = y.dtype.type(2 / (math.pi * WINITZKI_A)) - ratio * y.dtype.type(WINITZKI_A / 2)
    x = xp.copysign(xp.sqrt(ratio / (xp.sqrt(t * t + ratio) + t)), safe)
    for _ in range(HALLEY_STEPS):
        f = erf_values(x) - safe
        slope = y.dtype.type(TWO_OVER_SQRT_PI) * xp.exp(-x * x)
        x = x - f / (slope + x * f)
    u = safe * y.dtype.type(1 / TWO_OVER_SQRT_PI)
    u2 = u * u
    series = u * (1 + u2 * (y.dtype.type(1 / 3) + u2 * (y.dtype.type(7 / 30) + u2 * y.dtype.type(127 / 630))))
    x = xp.where(abs(safe) < SERIES_BELOW, series, x)
    with quietly(y):
        edge = xp.where(abs(y) == 1, xp.copysign(y.dtype.type(math.inf), y), y.dtype.type(math.nan))
    return xp.where(inside, x, edge)


class Erf(Function):
    """z = erf x = 2/√π ∫₀ˣ e^(-t²) dt;  dz/dx = 2/√π · e^(-x²)"""

    def forward(self, x):
        self.save(x)
        return erf_values(x)

    def backward(self, g):
        (x,) = self.saved
        return g * x.dtype.type(TWO_OVER_SQRT_PI) * array_module(x).exp(-x * x)


class Erfinv(Function):
    """z = erfinv y, the x with erf x = y;  dz/dy = 1/erf'(z) = √π/2 · e^(z²)"""

    def forward(self, y):
        z = erfinv_values(y)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * z.dtype.type(1 / TWO_OVER_SQRT_PI) * array_module(z).exp(z * z)


def erf(input):  # noqa: A002 (PyTorch's names)
    """The error function, elementwise."""
    return Erf.apply(floating(input, "erf"))


def erfinv(input):  # noqa: A002
    """The inverse error function on (-1, 1), elementwise (±inf at ±1, NaN beyond)."""
    return Erfinv.apply(floating(input, "erfinv"))
