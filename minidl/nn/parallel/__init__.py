"""Data parallelism over processes: ``DistributedDataParallel`` (as ``torch.nn.parallel``'s)."""

from minidl.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
