"""Samplers: the order in which a DataLoader visits a dataset's indices (PyTorch's names).

    SequentialSampler(data)           0, 1, 2, ... len(data) - 1
    RandomSampler(data)               a new permutation each epoch (or draws with replacement)
    SubsetRandomSampler(indices)      the given indices in a new random order each epoch

Random samplers draw from their own NumPy generator, seeded from minidl's default generator when
they are built, so ``minidl.manual_seed`` before building one fixes its orders.
"""

from __future__ import annotations

import numpy as np

from minidl.core.arguments import positive_size
from minidl.core.creation import default_generator
from minidl.core.random import numpy_stream


class Sampler:
    """Base class: iterating yields dataset indices; ``len`` is how many."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A permutation of the indices each epoch; with ``replacement``, ``num_samples`` independent draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, got {replacement!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = None if num_samples is None else positive_size(num_samples, "RandomSampler",
                                                                           "num_samples")
        self._rng = _stream(generator, "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:
            return iter(self._rng.integers(0, n, self.num_samples).tolist())
        rounds = -(-self.num_samples // max(n, 1))
        order = np.concatenate([self._rng.permutation(n) for _ in range(rounds)]) if n else np.arange(0)
        return iter(order[:self.num_samples].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self._rng = _stream(generator, "SubsetRandomSampler")

    def __iter__(self):
        return iter([self.indices[i] for i in self._rng.permutation(len(self.indices))])

    def __len__(self):
        return len(self.indices)


def _stream(generator, where):
    """The sampler's random stream: the given Generator's, or a new one seeded from minidl's default stream."""
    if generator is not None:
        return numpy_stream(generator, where)
    return np.random.default_rng(int(default_generator().integers(2 ** 63)))
