"""``WeightedRandomSampler``: index i drawn with probability weights[i] / sum(weights), as in PyTorch
(over-sampling rare classes of an unbalanced data set)."""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core.backend import to_numpy
from minidl.core.tensor import Tensor
from minidl.data.sampler import Sampler, _stream


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, drawn anew each epoch in proportion to ``weights``
    (with ``replacement=False`` each index at most once)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, "
                             f"but got replacement={replacement!r}")
        weights = np.asarray(to_numpy(weights.array) if isinstance(weights, Tensor) else weights,
                             dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                             f"shape {weights.shape}")
        if weights.size == 0 or (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement from "
                             f"{np.count_nonzero(weights)} non-zero weights")
        self.weights, self.num_samples, self.replacement = weights, int(num_samples), replacement
        self._rng = _stream(generator, "WeightedRandomSampler")

    def __iter__(self):
        drawn = self._rng.choice(self.weights.size, self.num_samples, replace=self.replacement,
                                 p=self.weights / self.weights.sum())
        return iter(drawn.tolist())

    def __len__(self):
        return self.num_samples
