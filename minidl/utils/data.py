"""``minidl.utils.data``: the names PyTorch programs import from ``torch.utils.data``, from
:mod:`minidl.data` (where they live)."""

from minidl.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,  # noqa: F401
                         DistributedSampler, IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset,
                         Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                         get_worker_info, random_split)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate", "get_worker_info",
           "random_split"]
