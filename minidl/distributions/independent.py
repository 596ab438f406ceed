"""``Independent(base, n)``: the base distribution's ``n`` right-most batch dims reread as event dims,
so a batch of independent scalars becomes one vector-valued distribution:

    log p(x) = Σ over the reinterpreted dims of base.log_prob(x)        H = Σ of base.entropy()

(for example a diagonal Gaussian over D features: ``Independent(Normal(μ, σ), 1)``).
"""

from __future__ import annotations

from minidl.core.size import Size
from minidl.distributions.distribution import Distribution, sum_rightmost

__all__ = ["Independent"]


class Independent(Distribution):
    """A distribution whose ``reinterpreted_batch_ndims`` right-most batch dims are event dims."""

    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        if not isinstance(base_distribution, Distribution):
            raise ValueError(f"Independent: base_distribution must be a Distribution, got "
                             f"{type(base_distribution).__name__}")
        batch = base_distribution.batch_shape
        if not isinstance(reinterpreted_batch_ndims, int) or not 0 <= reinterpreted_batch_ndims <= len(batch):
            raise ValueError(f"Independent: expected 0 <= reinterpreted_batch_ndims <= len(base_distribution."
                             f"batch_shape) = {len(batch)}, got {reinterpreted_batch_ndims!r}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, reinterpreted_batch_ndims
        split = len(batch) - reinterpreted_batch_ndims
        super().__init__(batch[:split], batch[split:] + base_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        moved = self._event_shape[:self.reinterpreted_batch_ndims]
        return Independent(self.base_dist.expand(batch_shape + moved), self.reinterpreted_batch_ndims,
                           validate_args=self._validate_args)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self):
        return False if self.reinterpreted_batch_ndims else self.base_dist.has_enumerate_support

    @property
    def support(self):
        return self.base_dist.support

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=Size()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=Size()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
