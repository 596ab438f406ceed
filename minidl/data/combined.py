"""Datasets made of other datasets, as in ``torch.utils.data``.

    ConcatDataset([a, b])        the samples of a, then those of b
    StackDataset(a, b)           sample i is (a[i], b[i]); StackDataset(x=a, y=b) gives {"x": a[i], "y": b[i]}
"""

from __future__ import annotations

import bisect
import itertools

from minidl.data.dataset import Dataset
from minidl.data.iterable import IterableDataset


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
