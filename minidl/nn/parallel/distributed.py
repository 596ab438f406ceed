"""DistributedDataParallel: the same model on every rank, gradients averaged after backward.

    dist.init_process_group("mpi")
    model = DistributedDataParallel(Net())      # rank 0's weights on every rank
    for x, y in loader:                         # each rank its own shard (DistributedSampler)
        loss_fn(model(x), y).backward()         # gradients averaged over the ranks ...
        optimizer.step()                        # ... so every rank takes the same step

With the mean loss of each rank's equal shard, the average of the ranks' gradients is the
gradient of the mean loss over the whole (global) batch, so N ranks with batches of B train
exactly like one process with batches of N·B, except where a layer looks across the batch:
BatchNorm normalises with each rank's own statistics (``nn.SyncBatchNorm`` uses the global
ones), and dropout draws each rank's masks from that rank's random stream.
"""

from __future__ import annotations

import contextlib

from minidl.core.grad_mode import is_grad_enabled
from minidl.core.tensor import Tensor
from minidl.distributed import world
from minidl.distributed.collectives import broadcast_array, gather_objects
from minidl.nn.module import Module
from minidl.nn.parallel.reducer import Reducer


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group (PyTorch's signature).

    At construction: checks that every rank has the same parameter and buffer names, shapes and
    dtypes, then copies rank 0's parameters and buffers to every rank. In each backward after a
    forward in grad mode: averages the gradients over the ranks in buckets of ``bucket_cap_mb``
    (default 25) MB, started as they fill. ``no_sync()`` skips the averaging (gradients accumulate
    locally); ``broadcast_buffers`` copies rank 0's buffers (BatchNorm's running statistics) to every
    rank before each forward. ``find_unused_parameters=True`` finds, after each forward, the parameters
    its output does not depend on, so that a backward without them completes.
    ``device_ids``, ``output_device``, ``dim``, ``gradient_as_bucket_view`` and ``static_graph`` are
    accepted and change nothing. ``state_dict()`` keys start with ``module.``, as in PyTorch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a minidl Module, got {type(module).__name__}")
        group = world.default_group(process_group, "DistributedDataParallel")
        cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap_mb, bool) or not isinstance(cap_mb, (int, float)) or not cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        self.module = module
        self.process_group, self.broadcast_buffers = group, bool(broadcast_buffers)
        self.find_unused_parameters, self.bucket_cap_mb = bool(find_unused_parameters), cap_mb
        self.require_backward_grad_sync = True
        named_params = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named_params:
            raise ValueError("DistributedDataParallel: the module has no parameter that requires grad")
        check_same_model(module, group)
        if init_sync:
            for tensor in list(module.parameters()) + list(module.buffers()):
                broadcast_array(tensor.array, 0, group)
                tensor._modified()
        self.reducer = Reducer(named_params, group, int(cap_mb * 2**20))

    def forward(self, *inputs, **kwargs):
        unreduced = self.reducer.unreduced()
        if unreduced and self.require_backward_grad_sync and is_grad_enabled():
            raise RuntimeError(
                "DistributedDataParallel: the previous backward did not produce gradients for "
                f"{', '.join(unreduced[:5])}{' ...' if len(unreduced) > 5 else ''}, so they were not averaged "
                "over the ranks; pass find_unused_parameters=True if the forward does not use every parameter, "
                "and call backward() on every output before the next forward")
        if self.broadcast_buffers:
            for buffer in self.module.buffers():
                broadcast_array(buffer.array, 0, self.process_group)
        output = self.module(*inputs, **kwargs)
        if self.require_backward_grad_sync and is_grad_enabled():
            unused = unused_parameters(output, self.reducer) if self.find_unused_parameters else ()
            self.reducer.prepare(unused)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this block backward accumulates gradients locally, without averaging; the first backward
        after it averages everything accumulated (gradient accumulation over several batches)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def check_same_model(module, group):
    """Raise on every rank unless every rank's parameters and buffers have the same names, shapes and
    dtypes; the message names the first difference and the ranks."""
    layout = [(kind, name, tuple(t.shape), str(t.dtype))
              for kind, members in (("parameter", module.named_parameters()), ("buffer", module.named_buffers()))
              for name, t in members]
    layouts = gather_objects(layout, group)
    for rank, other in enumerate(layouts):
        if other != layouts[0]:
            raise ValueError("DistributedDataParallel: every rank must wrap the same model, but "
                             + _first_difference(layouts[0], other, rank))


def _first_difference(reference, other, rank):
    for index in range(max(len(reference), len(other))):
        mine = reference[index] if index < len(reference) else None
        theirs = other[index] if index < len(other) else None
        if mine == theirs:
            continue
        if mine is None:
            return f"rank {rank} has an extra {theirs[0]} {theirs[1]!r} that rank 0 does not have"
        if theirs is None:
            return f"rank {rank} lacks {mine[0]} {mine[1]!r} of rank 0"
        if mine[:2] != theirs[:2]:
            return f"{mine[0]} {index} is {mine[1]!r} on rank 0 but {theirs[0]} {theirs[1]!r} on rank {rank}"
        return (f"{mine[0]} {mine[1]!r} has shape {mine[2]} {mine[3]} on rank 0 but shape {theirs[2]} "
                f"{theirs[3]} on rank {rank}")
    return f"rank {rank} differs from rank 0"


def unused_parameters(output, reducer):
    """The reducer's parameters that no tensor in ``output`` (a tensor, or lists, tuples and dicts of them)
    depends on: the leaves its graph does not reach."""
    roots = [t._node for t in _tensors(output) if t._node is not None]
    reached, seen, stack = set(), set(), roots
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for tensor, (parent, _) in zip(node.inputs, node.parents):
            if parent is None:
                reached.add(id(tensor))
            else:
                stack.append(parent)
    return [param for bucket in reducer.buckets for param in bucket.params if id(param) not in reached]


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
