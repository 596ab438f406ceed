"""Collectives on minidl tensors, in place, as ``torch.distributed``'s:

    all_reduce(t, op)        every rank's t becomes op(t of rank 0, t of rank 1, ...)
    broadcast(t, src)        every rank's t becomes rank src's t
    all_gather(ts, t)        ts[i] becomes rank i's t, on every rank
    barrier()                wait until every rank has arrived

Each checks first, with one small gather, that every rank passed a tensor of the same
shape and dtype, and otherwise raises on every rank, naming the ranks and their shapes
(MPI itself would read the wrong number of bytes, or wait forever).

The reduction runs on host memory through mpi4py: a NumPy array in place, a CuPy (or
strict) array through an explicit copy to the host and back. CUDA-aware MPI, which can
read GPU memory directly, is not used. Float16 travels as float32 and bool as int64,
which MPI reduces exactly. ``async_op=True`` is accepted; the operation has then
already finished, and the returned :class:`Work` says so.
"""

from __future__ import annotations

import enum

import numpy as np

from minidl.core.backend import device_of, to_device, to_numpy
from minidl.core.errors import ShapeError
from minidl.core.tensor import Tensor
from minidl.distributed import world


class ReduceOp(enum.Enum):
    """How :func:`all_reduce` combines the ranks' values (``ReduceOp.SUM`` ... as PyTorch's)."""

    SUM = "SUM"
    AVG = "AVG"
    MAX = "MAX"
    MIN = "MIN"
    PRODUCT = "PROD"


class Work:
    """What a collective called with ``async_op=True`` returns: minidl's collectives finish before
    they return, so ``wait()`` returns at once."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` over every rank with ``op``, in place on every rank."""
    group = world.default_group(group, "all_reduce")
    _check_tensor(tensor, "all_reduce")
    if not isinstance(op, ReduceOp):
        raise ValueError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN, PRODUCT), got {op!r}")
    if op is ReduceOp.AVG and tensor.array.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got dtype {tensor.array.dtype}")
    check_same_layout(group, tensor, "all_reduce")
    reduce_array(tensor.array, op, group)
    tensor._modified()
    return Work() if async_op else None


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank."""
    group = world.default_group(group, "broadcast")
    _check_tensor(tensor, "broadcast")
    _check_rank(src, group, "broadcast", "src")
    check_same_layout(group, tensor, "broadcast")
    broadcast_array(tensor.array, src, group)
    tensor._modified()
    return Work() if async_op else None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor``, on every rank (a list of world-size tensors
    of ``tensor``'s shape and dtype)."""
    group = world.default_group(group, "all_gather")
    _check_tensor(tensor, "all_gather")
    size = group.size()
    if not isinstance(tensor_list, list) or len(tensor_list) != size:
        length = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must be a list of {size} tensors (one per rank), got {length}")
    for index, target in enumerate(tensor_list):
        _check_tensor(target, f"all_gather (tensor_list[{index}])")
        if target.shape != tensor.shape or target.dtype != tensor.dtype:
            raise ShapeError(f"all_gather: tensor_list[{index}] has shape {tuple(target.shape)} and dtype "
                             f"{target.dtype}, but the tensor to gather has shape {tuple(tensor.shape)} and dtype "
                             f"{tensor.dtype}")
    check_same_layout(group, tensor, "all_gather")
    host = _wire(tensor.array)
    gathered = np.empty((size,) + host.shape, dtype=host.dtype)
    if group.comm is None:
        gathered[0] = host
    else:
        group.comm.Allgather(host, gathered)
    for target, values in zip(tensor_list, gathered):
        _write_back(target.array, values)
        target._modified()
    return Work() if async_op else None


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of ``group`` has called barrier()."""
    group = world.default_group(group, "barrier")
    if group.comm is not None:
        group.comm.Barrier()
    return Work() if async_op else None


# ----------------------------------------------------------------- on arrays (DDP, SyncBatchNorm)

def reduce_array(array, op=ReduceOp.SUM, group=None):
    """Combine ``array`` over the ranks with ``op``, in place; no layout check (the caller knows every rank
    passes the same). Outside a process group, or in a world of one, the array is left as it is."""
    group = group if group is not None else world.current_group()
    if group is None or group.size() == 1:
        return array
    MPI = world.mpi()
    host = _wire(array)
    mpi_op = MPI.SUM if op is ReduceOp.AVG else getattr(MPI, op.value)
    group.comm.Allreduce(MPI.IN_PLACE, host, op=mpi_op)
    if op is ReduceOp.AVG:
        host /= group.size()
    _write_back(array, host)
    return array


def start_sum(array, group):
    """Start summing the contiguous host array ``array`` over the ranks, in place, without waiting;
    returns a request whose ``Wait()`` finishes it (None when there is nothing to do)."""
    if group is None or group.size() == 1:
        return None
    MPI = world.mpi()
    return group.comm.Iallreduce(MPI.IN_PLACE, array, op=MPI.SUM)


def broadcast_array(array, src=0, group=None):
    """Copy rank ``src``'s ``array`` into ``array`` on every rank; no layout check."""
    group = group if group is not None else world.current_group()
    if group is None or group.size() == 1:
        return array
    host = _wire(array)
    group.comm.Bcast(host, root=src)
    _write_back(array, host)
    return array


def gather_objects(value, group):
    """Every rank's ``value`` (a small picklable object), in rank order, on every rank."""
    if group is None or group.comm is None:
        return [value]
    return group.comm.allgather(value)


def check_same_layout(group, tensor, where):
    """Raise on every rank, naming the ranks and their shapes, unless every rank's tensor has the same
    shape and dtype."""
    layouts = gather_objects((tuple(tensor.shape), str(tensor.dtype)), group)
    if len(set(layouts)) > 1:
        by_layout = {}
        for rank, layout in enumerate(layouts):
            by_layout.setdefault(layout, []).append(rank)
        parts = [f"{'ranks' if len(ranks) > 1 else 'rank'} {', '.join(map(str, ranks))}: shape {shape} {dtype}"
                 for (shape, dtype), ranks in by_layout.items()]
        raise ShapeError(f"{where}: every rank must pass a tensor of the same shape and dtype, but "
                         + "; ".join(parts))


def _check_tensor(tensor, where):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: expected a minidl Tensor, got {type(tensor).__name__}")


def _check_rank(rank, group, where, name):
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < group.size():
        raise ValueError(f"{where}: {name} must be a rank from 0 to {group.size() - 1}, got {rank!r}")


def _wire(array):
    """``array`` itself when MPI can work on it in place (a contiguous NumPy array of a type MPI reduces
    exactly), else a contiguous host copy (float16 as float32, bool as int64)."""
    wire = {"e": np.float32, "?": np.int64}.get(array.dtype.char, array.dtype)
    if isinstance(array, np.ndarray) and array.flags.c_contiguous and array.dtype == wire:
        return array
    return np.ascontiguousarray(to_numpy(array), dtype=wire)


def _write_back(array, host):
    """Put ``host``'s values into ``array`` (unless it is the same memory), on the array's device."""
    if host is array:
        return
    values = host.astype(array.dtype, copy=False)
    array[...] = values if isinstance(array, np.ndarray) else to_device(values, device_of(array))
