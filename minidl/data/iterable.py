"""Stream-style datasets, as in ``torch.utils.data``: an :class:`IterableDataset` yields its samples
from ``__iter__`` (lines of a file, generated data) instead of answering ``dataset[i]``.

A DataLoader batches such a dataset in the order it yields; it has no indices, so ``shuffle``, a
``sampler`` or a ``batch_sampler`` are refused. minidl loads in the main process, so
:func:`get_worker_info` is always None (a dataset may use it to split work, as in PyTorch).
"""

from __future__ import annotations

import itertools

from minidl.data.dataset import Dataset


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


def get_worker_info():
    """Information about the loader's worker process: None, since minidl loads in the main process."""
    return None
