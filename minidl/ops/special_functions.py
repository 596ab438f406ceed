"""The gamma family and other special functions, computed from their series (NumPy has none of them).

    lgamma x = ln|Γ(x)|                          d/dx = ψ(x)
    ψ(x) = digamma x = Γ'(x)/Γ(x)                d/dx = ψ⁽¹⁾(x)
    ψ⁽ⁿ⁾(x) = polygamma(n, x) = dⁿψ/dxⁿ         d/dx = ψ⁽ⁿ⁺¹⁾(x)
    mvlgamma(x, p) = p(p-1)/4 · ln π + Σ_{i<p} lgamma(x - i/2)
    xlog1py(x, y) = x ln(1 + y) (0 where x = 0):   ∂/∂x = ln(1 + y),   ∂/∂y = x / (1 + y)
    entr x = -x ln x (0 at 0, -inf below):        d/dx = -(ln x + 1)
    i0 x = Σₖ (x/2)²ᵏ / (k!)²                     d/dx = i1 x = Σₖ (x/2)²ᵏ⁺¹ / (k! (k+1)!)

How they are computed: each function is moved up to x ≥ 10 by its recurrence
(Γ(x+1) = x Γ(x), so lgamma x = lgamma(x+m) - ln(x(x+1)…(x+m-1)); ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) - (-1)ⁿ n!/xⁿ⁺¹)
and evaluated there (in float64) by its asymptotic (Stirling) series in Bernoulli numbers, whose first neglected
term is below 1e-16. Below 1/2, lgamma and digamma use the reflection formulas
Γ(x)Γ(1-x) = π / sin(πx) and ψ(1-x) - ψ(x) = π cot(πx).
"""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.ops.arithmetic import add
from minidl.ops.common import quietly
from minidl.ops.elementwise_math import floating, floating_pair

ASYMPTOTIC_FROM = 10.0
#: Bernoulli numbers B₂, B₄, …, B₁₆
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _climb(x, step, threshold=ASYMPTOTIC_FROM):
    """(y, total): y = x + m, the first of x, x+1, … at or above ``threshold`` (x ≥ 0), and the sum of
    ``step(x + j)`` over the m values passed on the way."""
    xp = array_module(x)
    y, total = x, xp.zeros_like(x)
    while True:
        moving = y < threshold
        if not bool(moving.any()):
            return y, total
        total = total + xp.where(moving, step(xp.where(moving, y, y.dtype.type(1))), y.dtype.type(0))
        y = xp.where(moving, y + 1, y)


def in_float64(values, x):
    """``values(x)`` computed in float64 (the recurrences cancel digits) and returned in x's dtype."""
    return values(x.astype("float64")).astype(x.dtype, copy=False)


def _pole(x):
    """True at 0, -1, -2, …"""
    return (x <= 0) & (x == array_module(x).floor(x))


def lgamma_values(x):
    """ln|Γ(x)| elementwise (inf at the poles 0, -1, -2, …)."""
    xp = array_module(x)
    pi = x.dtype.type(math.pi)
    with quietly(x):
        negative = x < 0
        y, log_product = _climb(xp.where(negative, 1 - x, x), lambda v: xp.log(v))
        series = (y - x.dtype.type(0.5)) * xp.log(y) - y + x.dtype.type(0.5 * math.log(2 * math.pi))
        inverse_square, power = 1 / (y * y), 1 / y
        for k, b in enumerate(BERNOULLI, start=1):
            series = series + x.dtype.type(b / (2 * k * (2 * k - 1))) * power
            power = power * inverse_square
        direct = series - log_product
        reflected = xp.log(pi / abs(xp.sin(pi * x))) - direct
        return xp.where(_pole(x) & negative, x.dtype.type(math.inf), xp.where(negative, reflected, direct))


def digamma_values(x):
    """ψ(x) elementwise (-inf at +0, +inf at -0, NaN at -1, -2, …)."""
    xp = array_module(x)
    pi = x.dtype.type(math.pi)
    with quietly(x):
        negative = x < 0
        y, reciprocals = _climb(xp.where(negative, 1 - x, x), lambda v: 1 / v)
        series = xp.log(y) - 1 / (2 * y)
        inverse_square, power = 1 / (y * y), 1 / (y * y)
        for k, b in enumerate(BERNOULLI, start=1):
            series = series - x.dtype.type(b / (2 * k)) * power
            power = power * inverse_square
        direct = series - reciprocals
        reflected = direct - pi / xp.tan(pi * x)
        return xp.where(_pole(x) & negative, x.dtype.type(math.nan), xp.where(negative, reflected, direct))


def polygamma_values(n, x):
    """ψ⁽ⁿ⁾(x) elementwise, for an integer n ≥ 0 (n ≥ 1: the recurrence alone, for every x)."""
    if n == 0:
        return digamma_values(x)
    sign = x.dtype.type((-1) ** (n + 1))
    with quietly(x):
        y, terms = _climb(x, lambda v: 1 / v ** (n + 1), ASYMPTOTIC_FROM + n)
        series = math.factorial(n - 1) / y ** n + math.factorial(n) / (2 * y ** (n + 1))
        inverse_square, power = 1 / (y * y), 1 / y ** (n + 2)
        for k, b in enumerate(BERNOULLI, start=1):
            coefficient = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
            series = series + x.dtype.type(coefficient) * power
            power = power * inverse_square
        return sign * (series + x.dtype.type(math.factorial(n)) * terms)


def bessel_i0_i1(x):
    """(I₀(x), I₁(x)) from their power series, summed until the terms stop mattering."""
    xp = array_module(x)
    quarter_square = (x / 2) * (x / 2)
    term0, term1 = xp.ones_like(x), x / 2
    i0, i1 = term0, term1
    k = 0
    while True:
        k += 1
        term0 = term0 * quarter_square / (k * k)
        term1 = term1 * quarter_square / (k * (k + 1))
        i0, i1 = i0 + term0, i1 + term1
        if not bool((term0 > i0 * x.dtype.type(1e-17)).any()) or k > 1000:
            return i0, i1


class LogGamma(Function):
    """z = ln|Γ(x)|;  dz/dx = ψ(x)"""

    def forward(self, x):
        self.save(x)
        return in_float64(lgamma_values, x)

    def backward(self, g):
        (x,) = self.saved
        return g * in_float64(digamma_values, x)


class Polygamma(Function):
    """z = ψ⁽ⁿ⁾(x);  dz/dx = ψ⁽ⁿ⁺¹⁾(x)"""

    def forward(self, x, n):
        self.n = n
        self.save(x)
        return in_float64(lambda wide: polygamma_values(n, wide), x)

    def backward(self, g):
        (x,) = self.saved
        return g * in_float64(lambda wide: polygamma_values(self.n + 1, wide), x)


class XLog1PY(Function):
    """z = x ln(1 + y), 0 where x = 0;  dz/dx = ln(1 + y),  dz/dy = x / (1 + y)"""

    def forward(self, x, y):
        self.save(x, y)
        xp = array_module(x)
        with quietly(x):
            return xp.where((x == 0) & ~xp.isnan(y), x.dtype.type(0), x * xp.log1p(y))

    def backward(self, g):
        x, y = self.saved
        xp = array_module(x)
        with quietly(g):
            return g * xp.log1p(y), g * x / (1 + y)


class Entropy(Function):
    """z = -x ln x (0 at 0, -inf for x < 0);  dz/dx = -(ln x + 1)"""

    def forward(self, x):
        self.save(x)
        xp = array_module(x)
        with quietly(x):
            inside = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, x.dtype.type(1))), x.dtype.type(0))
            return xp.where(x < 0, x.dtype.type(-math.inf), xp.where(xp.isnan(x), x, inside))

    def backward(self, g):
        (x,) = self.saved
        with quietly(g):
            return -g * (array_module(x).log(x) + 1)


class BesselI0(Function):
    """z = I₀(x) = Σₖ (x/2)²ᵏ / (k!)²;  dz/dx = I₁(x)"""

    def forward(self, x):
        self.save(x)
        return bessel_i0_i1(x)[0]

    def backward(self, g):
        (x,) = self.saved
        return g * bessel_i0_i1(x)[1]


# --- functional forms -------------------------------------------------------------

def lgamma(input):  # noqa: A002 (PyTorch's names)
    """ln|Γ(x)| elementwise."""
    return LogGamma.apply(floating(input, "lgamma"))


def digamma(input):  # noqa: A002
    """ψ(x) = d/dx ln Γ(x) elementwise."""
    return Polygamma.apply(floating(input, "digamma"), n=0)


def polygamma(n, input):  # noqa: A002
    """ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function, elementwise."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    return Polygamma.apply(floating(input, "polygamma"), n=n)


def mvlgamma(input, p):  # noqa: A002
    """The multivariate log-gamma of dimension p: p(p-1)/4 · ln π + Σ_{i<p} lgamma(x - i/2)."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"mvlgamma: p must be an int ≥ 1, got {p!r}")
    x = floating(input, "mvlgamma")
    if x.numel() and not bool((x.array > (p - 1) / 2).all()):
        raise ValueError(f"mvlgamma: all elements of input must be greater than (p-1)/2 = {(p - 1) / 2}")
    total = lgamma(x)
    for i in range(1, p):
        total = add(total, lgamma(add(x, -i / 2)))
    return add(total, p * (p - 1) / 4 * math.log(math.pi))


def xlog1py(input, other):  # noqa: A002
    """input · ln(1 + other), with 0 where input is 0 (unless other is NaN)."""
    return XLog1PY.apply(*floating_pair(input, other, "xlog1py"))


def entr(input):  # noqa: A002
    """The elementwise entropy term -x ln x (0 at 0, -inf for x < 0)."""
    return Entropy.apply(floating(input, "entr"))


def i0(input):  # noqa: A002
    """The modified Bessel function of the first kind of order 0, elementwise."""
    return BesselI0.apply(floating(input, "i0"))
