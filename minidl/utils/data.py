"""``minidl.utils.data``: the names PyTorch programs import from ``torch.utils.data``, from
:mod:`minidl.data` (where they live)."""

from minidl.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split  # noqa: F401

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
