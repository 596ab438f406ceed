"""The gradient reducer of DistributedDataParallel: buckets, hooks and averaging.

Every rank holds the same parameters and computes gradients on its own shard of the
batch. Averaging those gradients over the ranks gives the gradient of the whole batch.
One all-reduce per parameter would pay MPI's latency hundreds of times per step, one
all-reduce of everything would wait for the whole backward pass, so the parameters are
packed into **buckets** of about ``bucket_cap_mb`` (25 MB by default), in reverse order of
``parameters()``: roughly the order in which backward produces their gradients.

A post-accumulate hook on each parameter marks it ready when its gradient is complete;
when every parameter of a bucket is ready, the gradients are copied into the bucket's flat
buffer and a non-blocking all-reduce of it starts, while backward goes on with earlier
layers. Buckets start strictly in index order, the same order on every rank (MPI needs
that). When the last bucket has started, the reducer waits for all of them, divides by
the world size and copies the averages back into ``.grad``.
"""

from __future__ import annotations

import numpy as np

from minidl.core.backend import device_of, to_device, to_numpy
from minidl.core.tensor import Tensor
from minidl.distributed.collectives import start_sum


class Bucket:
    """Parameters whose gradients travel together in one flat host buffer."""

    def __init__(self, named_params):
        self.names = [name for name, _ in named_params]
        self.params = [param for _, param in named_params]
        sizes = [param.numel() for param in self.params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.buffer = np.zeros(int(self.offsets[-1]), dtype=self.params[0].array.dtype)
        self.waiting, self.request = set(), None

    def nbytes(self):
        return self.buffer.nbytes

    def views(self):
        """(parameter, the part of the buffer that holds its gradient, shaped like it)."""
        for param, start, stop in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            yield param, self.buffer[start:stop].reshape(param.array.shape)

    def pack(self):
        """Copy the gradients into the buffer (zeros for a parameter without one)."""
        for param, view in self.views():
            view[...] = 0 if param.grad is None else to_numpy(param.grad.array)


def build_buckets(named_params, cap_bytes):
    """Buckets of at most ``cap_bytes`` each (one parameter may exceed it alone), filled in reverse order
    of ``named_params``; a bucket holds a single dtype and device."""
    buckets, current, size, current_kind = [], [], 0, None
    for name, param in reversed(named_params):
        nbytes = param.array.nbytes
        kind = (param.array.dtype, device_of(param.array))
        if current and (size + nbytes > cap_bytes or kind != current_kind):
            buckets.append(Bucket(current))
            current, size = [], 0
        current.append((name, param))
        current_kind, size = kind, size + nbytes
    if current:
        buckets.append(Bucket(current))
    return buckets


class Reducer:
    """Averages the gradients of ``named_params`` over ``group`` after each backward pass."""

    def __init__(self, named_params, group, cap_bytes):
        self.group = group
        self.buckets = build_buckets(named_params, cap_bytes)
        self.bucket_of = {id(param): bucket for bucket in self.buckets for param in bucket.params}
        self.expecting = False  # True from a forward that will sync until its backward has been reduced
        self.started = False    # True once a gradient of that backward has arrived
        self.next_bucket = 0
        self.handles = [param.register_post_accumulate_grad_hook(self.mark_ready)
                        for bucket in self.buckets for param in bucket.params]

    def prepare(self, unused=()):
        """A forward pass that syncs has run: reduce its backward. Parameters in ``unused`` get no
        gradient in it and are ready at once."""
        for bucket in self.buckets:
            bucket.waiting, bucket.request = {id(param) for param in bucket.params}, None
        self.expecting, self.started, self.next_bucket = True, False, 0
        for param in unused:
            self.ready(param)

    def mark_ready(self, param):
        """The hook: ``param``'s gradient is complete."""
        if self.expecting:
            self.started = True
            self.ready(param)

    def ready(self, param):
        """``param`` needs nothing more: start every bucket that is now ready, in order."""
        bucket = self.bucket_of[id(param)]
        bucket.waiting.discard(id(param))
        while self.next_bucket < len(self.buckets) and not self.buckets[self.next_bucket].waiting:
            ready = self.buckets[self.next_bucket]
            ready.pack()
            ready.request = start_sum(ready.buffer, self.group)
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self.finish()

    def finish(self):
        """Wait for every bucket's sum, divide by the world size, and write the averages into ``.grad``."""
        size = self.group.size()
        for bucket in self.buckets:
            if bucket.request is not None:
                bucket.request.Wait()
            if size > 1:
                bucket.buffer /= size
            for param, view in bucket.views():
                average = view if isinstance(param.array, np.ndarray) else to_device(view, device_of(param.array))
                if param.grad is None:
                    param.grad = Tensor(average.copy())
                else:
                    param.grad.array[...] = average
        self.expecting = False

    def unreduced(self):
        """Names of the parameters still waiting for a gradient in a backward that has begun ([] if none)."""
        if not (self.expecting and self.started):
            return []
        return [name for bucket in self.buckets for name, param in zip(bucket.names, bucket.params)
                if id(param) in bucket.waiting]
