"""``minidl.utils.data``: the names PyTorch programs import from ``torch.utils.data``, from
:mod:`minidl.data` (where they live)."""

from minidl.data import (DataLoader, Dataset, DistributedSampler, RandomSampler, Sampler,  # noqa: F401
                         SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate, random_split)

__all__ = ["DataLoader", "Dataset", "DistributedSampler", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
           "SubsetRandomSampler", "TensorDataset", "default_collate", "random_split"]
