"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``: the Gaussian over
d-vectors with mean μ and covariance Σ = L Lᵀ (L lower triangular, the Cholesky factor):

    log p(x) = −½ (d log 2π + ‖L⁻¹(x − μ)‖²) − Σᵢ log Lᵢᵢ          x = μ + L ε,  ε ~ N(0, I)
    H = ½ d (1 + log 2π) + Σᵢ log Lᵢᵢ

L⁻¹(x − μ) is a linear solve, so every formula is differentiable in μ and L (and through the
Cholesky factorisation in Σ).
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from minidl.core.creation import randn
from minidl.core.size import Size
from minidl.core.tensor import Tensor
from minidl.distributions import constraints
from minidl.distributions.distribution import Distribution
from minidl.ops import log, matmul, tril
from minidl.ops.linalg_functions import cholesky, inv, solve

__all__ = ["MultivariateNormal"]

_MATRICES = ("covariance_matrix", "precision_matrix", "scale_tril")


class MultivariateNormal(Distribution):
    """The multivariate normal distribution N(loc, Σ), parametrised by exactly one of Σ, Σ⁻¹ or L."""

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        given = {n: m for n, m in zip(_MATRICES, (covariance_matrix, precision_matrix, scale_tril)) if m is not None}
        if not isinstance(loc, Tensor) or loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional")
        if len(given) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or precision_matrix or "
                             f"scale_tril may be specified, got {sorted(given) or 'none'}")
        (name, matrix), = given.items()
        d = loc.shape[-1]
        if not isinstance(matrix, Tensor) or matrix.ndim < 2 or tuple(matrix.shape[-2:]) != (d, d):
            shape = matrix.shape if isinstance(matrix, Tensor) else type(matrix).__name__
            raise ValueError(f"MultivariateNormal: {name} must be a tensor of shape (..., {d}, {d}) to match loc "
                             f"of shape {loc.shape}, got {shape}")
        try:
            batch_shape = Size(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        except ValueError:
            raise ValueError(f"MultivariateNormal: the batch dims of loc {loc.shape} and {name} {matrix.shape} "
                             "do not broadcast") from None
        self.__dict__[name] = matrix.expand(batch_shape + (d, d))
        self.loc = loc.expand(batch_shape + (d,))
        super().__init__(batch_shape, Size([d]), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        else:
            self._unbroadcasted_scale_tril = cholesky(matrix if name == "covariance_matrix" else inv(matrix))

    def _full(self, matrix):
        return matrix.expand(self._batch_shape + self._event_shape + self._event_shape)

    @cached_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @cached_property
    def covariance_matrix(self):
        lower = self._unbroadcasted_scale_tril
        return self._full(matmul(lower, lower.transpose(-1, -2)))

    @cached_property
    def precision_matrix(self):
        return self._full(inv(self.covariance_matrix))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(self._batch_shape + self._event_shape)

    def _whiten(self, vectors):
        """L⁻¹ v for vectors v along the last dim (only L's lower triangle is read, as a triangular solve)."""
        return solve(tril(self._unbroadcasted_scale_tril), vectors.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return log(self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1)).sum(-1)

    def rsample(self, sample_shape=Size()):
        noise = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + matmul(self._unbroadcasted_scale_tril, noise.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        mahalanobis = (self._whiten(value - self.loc) ** 2).sum(-1)
        d = self._event_shape[0]
        return -0.5 * (d * math.log(2 * math.pi) + mahalanobis) - self._half_log_det()

    def entropy(self):
        d = self._event_shape[0]
        entropy = 0.5 * d * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return entropy.expand(self._batch_shape) if self._batch_shape else entropy
