"""DataLoader: batches of a dataset, optionally shuffled, collated into tensors.

The loader owns its random number generator, so shuffling never disturbs
``minidl.manual_seed``'s stream once the loader exists, and a seed reproduces
the order of every epoch. ``state_dict()`` saves the epoch counter and the
generator's state, so a run resumed from a checkpoint taken between epochs
sees exactly the batches it would have seen.
"""

from __future__ import annotations

import collections.abc
import itertools
import numbers
import warnings

import numpy as np

from minidl.core.creation import default_generator, tensor
from minidl.core.random import numpy_stream
from minidl.data.dataset import IterableDataset, Subset, TensorDataset
from minidl.ops import stack
from minidl.core.tensor import Tensor


def default_collate(batch):
    """Merge a list of samples into a batch, like PyTorch's ``default_collate``.

    Tensors are stacked along a new first dimension, NumPy arrays and NumPy
    scalars become tensors of their dtype, Python numbers follow
    ``minidl.tensor`` (floats -> float32, ints -> int64, bools -> bool);
    strings stay a list; tuples and lists are collated position by position
    (and returned as a list, as PyTorch does), dicts key by key.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_same_shapes(batch, [t.shape for t in batch])
        return stack(batch)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.hasobject or elem.dtype.kind in "USV":
            raise TypeError(f"default_collate: can't collate NumPy arrays of dtype {elem.dtype}")
        _check_same_shapes(batch, [np.shape(a) for a in batch])
        return Tensor(np.stack(batch))
    if isinstance(elem, numbers.Number):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise ValueError("default_collate: each element in list of batch should be of equal size, "
                             f"got lengths {sorted({len(sample) for sample in batch})}")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, NumPy arrays, numbers, strings, "
                    f"dicts or lists; found {type(elem).__name__}")


def _check_same_shapes(batch, shapes):
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(f"default_collate: all samples of a batch must have the same shape, "
                         f"got {sorted(set(shapes))} in a batch of {len(batch)}")


def _direct_source(dataset):
    """(tensors, index map or None) when batches can be cut from arrays directly, else None.

    That is the case for a plain TensorDataset and for Subsets of one (as made
    by random_split); a subclass that overrides ``__getitem__`` goes the slow way.
    """
    if type(dataset).__getitem__ is TensorDataset.__getitem__ and isinstance(dataset, TensorDataset):
        return dataset.tensors, None
    if type(dataset).__getitem__ is Subset.__getitem__ and isinstance(dataset, Subset):
        inner = _direct_source(dataset.dataset)
        if inner is not None:
            tensors, index_map = inner
            indices = np.asarray(dataset.indices, dtype=np.int64)
            return tensors, indices if index_map is None else index_map[indices]
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Args:
        dataset: any object with ``__len__`` and ``__getitem__``.
        batch_size: samples per batch; the last batch may be smaller.
        shuffle: draw a new random order at the start of every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        seed: seed of the loader's own ``np.random.default_rng``; with
            ``None`` the seed is drawn from minidl's default generator
            (so ``minidl.manual_seed`` before building the loader fixes it).
        generator: a ``minidl.Generator`` to shuffle with instead (PyTorch's way).
        collate_fn: merges a list of samples into a batch
            (default :func:`default_collate`).

    For a :class:`TensorDataset` (or a Subset of one) with the default collate,
    each batch is cut from the tensors with one fancy-index per tensor instead
    of a Python loop over samples; batches are lists ``[x, y, ...]`` either way
    (batches cut this way are new leaf tensors, outside any autograd graph).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, seed=None, generator=None, **worker_options):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__ (a Dataset, a list, a "
                            f"TensorDataset), got {type(dataset).__name__}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"DataLoader: {name} should be a boolean value, got {name}={flag!r}")
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value!r} (an iterable dataset has no indices to order)")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if sampler is not None and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be iterable (a Sampler), got {type(sampler).__name__}")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                             "sampler, and drop_last")
        _note_workers(num_workers, worker_options)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give either seed or generator, not both")
        if generator is not None:  # PyTorch's way to fix the order: its own stream
            self._rng = numpy_stream(generator, "DataLoader")
        else:
            if seed is None and self.shuffle:
                seed = int(default_generator().integers(2 ** 63))
            self._rng = np.random.default_rng(seed)
        self.epoch = 0

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        full, rest = divmod(len(self.dataset) if self.sampler is None else len(self.sampler), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self):
        """Start an epoch: draw its order now, then yield its batches lazily."""
        if isinstance(self.dataset, IterableDataset):
            self.epoch += 1
            return self._stream_batches()
        n = len(self.dataset)
        if self.batch_sampler is not None:
            self.epoch += 1
            return (self._batch([int(i) for i in indices]) for indices in self.batch_sampler)
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        else:
            order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order):
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _stream_batches(self):
        """Batches of an IterableDataset, in the order it yields its samples."""
        samples = iter(self.dataset)
        while batch := list(itertools.islice(samples, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield self.collate_fn(batch)

    def _batch(self, indices):
        source = _direct_source(self.dataset) if self.collate_fn is default_collate else None
        if source is None:
            return self.collate_fn([self.dataset[int(i)] for i in indices])
        return _cut(source, np.asarray(indices))

    def state_dict(self):
        """The epoch counter and the shuffling generator's state (plain Python values)."""
        return {"epoch": self.epoch, "rng_state": self._rng.bit_generator.state}

    def load_state_dict(self, state):
        """Restore a :meth:`state_dict`; the next ``iter(loader)`` continues from there."""
        missing = {"epoch", "rng_state"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        self._rng.bit_generator.state = state["rng_state"]
        self.epoch = int(state["epoch"])


_WORKER_OPTIONS = {"persistent_workers", "prefetch_factor", "worker_init_fn", "timeout",
                   "multiprocessing_context", "pin_memory_device", "in_order"}
_noted = set()


def _note_workers(num_workers, options):
    """Worker processes are not used: batches load in this process (minidl's kernels already use the
    cores). Said once per process; PyTorch's worker options are accepted and have no effect."""
    unknown = set(options) - _WORKER_OPTIONS
    if unknown:
        raise TypeError(f"DataLoader: unexpected arguments {sorted(unknown)}")
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative int, got {num_workers!r}")
    if num_workers > 0 and "workers" not in _noted:
        _noted.add("workers")
        warnings.warn(f"DataLoader: num_workers={num_workers} loads batches in this process, as num_workers=0 "
                      "does (minidl has no worker processes; its kernels already use every core)", stacklevel=3)


def _cut(source, indices):
    """One batch straight from the tensors: ``[t[indices] for t in tensors]``."""
    tensors, index_map = source
    if index_map is not None:
        indices = index_map[indices]
    return [Tensor(t.array[indices]) for t in tensors]


def get_worker_info():
    """Information about the loader's worker process: None, since minidl loads in the main process
    (a dataset may call it to split its work, as in PyTorch)."""
    return None
