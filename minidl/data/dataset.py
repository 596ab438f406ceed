"""Datasets: indexable collections of samples, as in ``torch.utils.data``.

A dataset answers ``len(dataset)`` and ``dataset[i]`` for ``0 <= i < len``; an
:class:`IterableDataset` instead yields its samples from ``__iter__`` (lines of a file, generated
data), and a DataLoader batches it in that order (no shuffle, sampler or batch_sampler: it has no
indices). :class:`TensorDataset` wraps arrays that share their first dimension,
:class:`ConcatDataset` puts datasets one after another (``a + b``), :class:`ChainDataset` does so for
iterable ones, :class:`StackDataset` zips datasets sample by sample, :class:`Subset` selects some
indices of another dataset and :func:`random_split` cuts a dataset into random, non-overlapping subsets.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers

import numpy as np

from minidl.core.creation import default_generator, from_numpy, tensor
from minidl.core.random import numpy_stream
from minidl.core.tensor import Tensor


class Dataset:
    """Base class of map-style datasets: define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        """``a + b``: the two datasets one after the other (a ``ConcatDataset``)."""
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of stream-style datasets: define ``__iter__``; ``a + b`` chains two of them."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it, it has no indices")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of each iterable dataset in turn (chained lazily, each time it is iterated)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for position, dataset in enumerate(self.datasets):
            if not isinstance(dataset, IterableDataset):
                raise TypeError(f"ChainDataset: dataset {position} is a {type(dataset).__name__}; ChainDataset "
                                "only supports IterableDataset (use ConcatDataset for map-style datasets)")

    def __iter__(self):
        return itertools.chain.from_iterable(self.datasets)

    def __len__(self):
        return sum(len(dataset) for dataset in self.datasets)


class ConcatDataset(Dataset):
    """The datasets one after another; ``cumulative_sizes[k]`` is the number of samples in the first k + 1."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for position, dataset in enumerate(self.datasets):
            if isinstance(dataset, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {position} is an IterableDataset, which has no indices; "
                                "use ChainDataset to chain iterable datasets")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        total = len(self)
        if index < 0:
            if -index > total:
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not exceed dataset "
                                 f"length {total}")
            index += total
        if index >= total:
            raise IndexError(f"ConcatDataset: index {index} is out of range for a dataset of {total} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class StackDataset(Dataset):
    """Datasets of equal length side by side: samples are tuples (positional) or dicts (keywords)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets either positionally (tuple samples) or as keywords "
                             "(dict samples), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        self.datasets = args if args else kwargs
        lengths = {name: len(d) for name, d in (enumerate(args) if args else kwargs.items())}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths {lengths}")
        self._length = next(iter(lengths.values()))

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {name: dataset[index] for name, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)


def _as_tensor(data):
    """A Tensor for ``data``: tensors as they are, NumPy arrays shared, anything else copied."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return from_numpy(data)
    return tensor(data)


class TensorDataset(Dataset):
    """Samples are the rows of tensors (or NumPy arrays) of equal first dimension.

    ``TensorDataset(images, labels)[i]`` is ``(images[i], labels[i])``. NumPy
    arrays are wrapped without a copy; ``self.tensors`` holds the tensors.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        tensors = tuple(_as_tensor(t) for t in tensors)
        for position, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {position} is 0-dimensional; "
                                 "every tensor needs a first dimension to index samples by")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"TensorDataset: all tensors must have the same size in dim 0, "
                             f"got sizes {sizes} (shapes {shapes})")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def _split_lengths(lengths, total):
    """Integer lengths from ints or from fractions summing to 1 (PyTorch's rule)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(total * f)) for f in lengths]
        for i in range(total - sum(counts)):  # hand out the remainder round-robin
            counts[i % len(counts)] += 1
        return counts
    if any(not isinstance(n, numbers.Integral) or n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != total:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, "
                         f"but the dataset has {total} samples")
    return [int(n) for n in lengths]


def random_split(dataset, lengths, generator=None, generator_seed=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` objects of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions
    summing to 1 (``[0.8, 0.2]``): then each part gets ``floor(n * fraction)``
    samples and the remainder is dealt out one by one from the first part on.
    The permutation comes from ``generator`` (a ``minidl.Generator``, as in PyTorch), from
    ``np.random.default_rng(generator_seed)``, or from minidl's default stream (see
    ``minidl.manual_seed``) when neither is given.
    """
    counts = _split_lengths(lengths, len(dataset))
    if generator is not None and generator_seed is not None:
        raise ValueError("random_split: give either generator or generator_seed, not both")
    rng = (numpy_stream(generator, "random_split") if generator is not None else
           default_generator() if generator_seed is None else np.random.default_rng(generator_seed))
    order = rng.permutation(len(dataset))
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[start:stop].tolist()) for start, stop in zip(bounds[:-1], bounds[1:])]
