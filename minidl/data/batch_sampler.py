"""``BatchSampler``: a sampler's indices grouped into lists of ``batch_size``, as in PyTorch; pass it as
``DataLoader(dataset, batch_sampler=...)``."""

from __future__ import annotations

import numbers

from minidl.data.sampler import Sampler


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last may be shorter unless ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        full, rest = divmod(len(self.sampler), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1
