"""Training on several processes with MPI (through mpi4py), with ``torch.distributed``'s names.

    import minidl.distributed as dist
    dist.init_process_group(backend="mpi")      # rank and world size from the launch
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)    # in place, on every rank

Start N processes with ``minidl launch -n N script.py`` (or ``mpiexec -n N python script.py``);
``pip install mpi4py mpich`` (the ``distributed`` extra) installs MPI as wheels. Without them a
script still runs on one process: rank 0 of a world of one. Data-parallel training builds on
these: ``minidl.nn.parallel.DistributedDataParallel``, ``minidl.nn.SyncBatchNorm`` and
``minidl.data.DistributedSampler``. When any rank fails, every rank stops (``failure``).
"""

from minidl.distributed.collectives import ReduceOp, Work, all_gather, all_reduce, barrier, broadcast
from minidl.distributed.world import (INSTALL, ProcessGroup, destroy_process_group, get_backend, get_rank,
                                      get_world_size, init_process_group, is_available, is_initialized,
                                      is_mpi_available)

__all__ = ["INSTALL", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size", "init_process_group",
           "is_available", "is_initialized", "is_mpi_available"]
