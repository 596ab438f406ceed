"""Continuous distributions of one real variable, each a few formulas on its parameters:

    Normal(μ, σ)         log p = −(x−μ)²/(2σ²) − log σ − ½ log 2π     x = μ + σ ε,  ε ~ N(0, 1)
                         cdf = ½ (1 + erf((x−μ)/(σ√2)))                icdf = μ + σ √2 erfinv(2p − 1)
                         H = ½ + ½ log 2π + log σ
    Uniform(a, b)        log p = −log(b − a) on [a, b)                 x = a + (b − a) u,  u ~ U[0, 1)
    Exponential(λ)       log p = log λ − λ x on x ≥ 0                  x = −log(1 − u)/λ;  H = 1 − log λ
    Laplace(μ, b)        log p = −log 2b − |x − μ|/b                   x = μ − b sign(u) log(1 − |u|), u ~ U(−1, 1)
                         H = 1 + log 2b

Every rsample is the reparametrisation trick: noise drawn without parameters, then a differentiable
map of it, so the gradient of a loss on the sample flows to the parameters.
"""

from __future__ import annotations

import math

from minidl.core.creation import full_like, rand, randn
from minidl.core.size import Size
from minidl.core.type_info import finfo
from minidl.distributions import constraints
from minidl.distributions.distribution import LOG_SQRT_2PI, Distribution, broadcast_all
from minidl.ops import abs as absolute
from minidl.ops import erf, erfinv, expm1, log, log1p, sign

__all__ = ["Normal", "Uniform", "Exponential", "Laplace"]


def _noise(draw, shape, like):
    return draw(*shape, dtype=like.dtype, device=like.device) if shape else draw((), dtype=like.dtype,
                                                                                   device=like.device)


class _LocationScale(Distribution):
    """A real distribution with a location ``loc`` (its mean and mode) and a positive ``scale``, broadcast together."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


class Normal(_LocationScale):
    """The normal (Gaussian) distribution N(loc, scale²)."""

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=Size()):
        return self.loc + _noise(randn, self._extended_shape(sample_shape), self.loc) * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - log(self.scale) - LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + LOG_SQRT_2PI + log(self.scale)


class Uniform(Distribution):
    """The uniform distribution on the half-open interval [low, high)."""

    arg_constraints = {"low": constraints.real, "high": constraints.real}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError(f"Uniform: expected low < high everywhere, got low={self.low} and high={self.high}")

    @property
    def support(self):
        return constraints.half_open_interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return full_like(self.high, math.nan)

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=Size()):
        return self.low + _noise(rand, self._extended_shape(sample_shape), self.low) * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return log(inside) - log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return log(self.high - self.low)


class Exponential(Distribution):
    """The exponential distribution with rate λ (mean 1/λ) on x ≥ 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate ** -2

    def rsample(self, sample_shape=Size()):
        uniform = _noise(rand, self._extended_shape(sample_shape), self.rate)
        return -log1p(-uniform) / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - log(self.rate)


class Laplace(_LocationScale):
    """The Laplace (double exponential) distribution with location loc and scale b."""

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=Size()):
        eps = finfo(self.loc.dtype).eps
        uniform = _noise(rand, self._extended_shape(sample_shape), self.loc) * (2 - eps) - (1 - eps)  # (−1, 1)
        return self.loc - self.scale * sign(uniform) * log1p(-absolute(uniform))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -log(2 * self.scale) - absolute(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * sign(value - self.loc) * expm1(-absolute(value - self.loc) / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * sign(term) * log1p(-2 * absolute(term))

    def entropy(self):
        return 1 + log(2 * self.scale)

