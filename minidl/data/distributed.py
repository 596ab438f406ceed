"""DistributedSampler: each rank's own shard of a dataset's indices, as PyTorch's.

With ``num_replicas`` ranks, rank r takes every ``num_replicas``-th index starting at r
of one shared order (a permutation of ``seed + epoch`` when shuffling, else 0, 1, 2, ...):

    order   = permutation(len(dataset))        (the same on every rank)
    padded  = order + order[:padding]          (repeat the start until num_replicas divides it)
    shard r = padded[r::num_replicas]

so the shards are disjoint except for the padding and together cover the dataset. With
``drop_last=True`` the tail is cut instead, so that the shards hold only distinct indices.
Call ``set_epoch(epoch)`` before each epoch so that every rank shuffles alike, differently
each epoch. The permutation comes from minidl's generator (NumPy's), so shuffled orders
differ from PyTorch's; the padding, sharding and lengths are PyTorch's exactly.
"""

from __future__ import annotations

import math
import numbers

from minidl.core.random import Generator
from minidl.data.sampler import Sampler
from minidl.distributed import world


class DistributedSampler(Sampler):
    """Indices of this rank's shard of ``dataset``: ``num_replicas`` and ``rank`` default to the default
    process group's world size and rank."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = world.get_world_size()
        if rank is None:
            rank = world.get_rank()
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"DistributedSampler: {name} must be an int, got {value!r} ({type(value).__name__})")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        length = len(dataset)
        if drop_last and length % self.num_replicas:
            self.num_samples = math.ceil((length - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(length / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        length = len(self.dataset)
        if self.shuffle:
            order = Generator().manual_seed(self.seed + self.epoch).numpy.permutation(length).tolist()
        else:
            order = list(range(length))
        if self.drop_last:
            order = order[:self.total_size]
        elif order:
            padding = self.total_size - len(order)
            order += (order * math.ceil(padding / len(order)))[:padding]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch that, added to ``seed``, seeds the next shuffle (the same on every rank)."""
        self.epoch = epoch
