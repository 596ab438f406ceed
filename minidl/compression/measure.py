"""What a smaller model saves: parameter counts, checkpoint bytes, and inference latency.

Sizes are read from the checkpoint :func:`minidl.save` writes (an uncompressed ``.npz``: the
numbers as they are stored, int8 weights at one byte each), and from the same file compressed
with zlib (DEFLATE, as a ``.zip`` would store it), where the zeros of a pruned model pay off.
Latency is the median wall-clock time of a forward pass in eval mode without a graph, after
warm-up calls; on a shared machine it is noisy, so compare medians of several repeats.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import zlib
from pathlib import Path

from minidl.core import no_grad
from minidl.io import save


def count_parameters(model, trainable_only=False):
    """The number of parameter values of ``model`` (only those that require grad with ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def nonzero_parameters(model):
    """The number of parameter values of ``model`` that are not zero (what pruning leaves)."""
    return sum(int((p.array != 0).sum()) for p in model.parameters())


def checkpoint_size(model, path=None):
    """(bytes of ``minidl.save(model.state_dict())``, bytes of that file compressed with zlib).

    The checkpoint is written to ``path`` (kept) or to a temporary file (deleted)."""
    if path is not None:
        save(model.state_dict(), path)
        return _sizes(Path(path))
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "model.npz"
        save(model.state_dict(), target)
        return _sizes(target)


def _sizes(path):
    raw = path.read_bytes()
    return os.path.getsize(path), len(zlib.compress(raw, 6))


def latency(model, inputs, repeats=20, warmup=3):
    """Median seconds of one ``model(inputs)`` call (eval mode, no graph), after ``warmup`` calls."""
    was_training = model.training
    model.eval()
    times = []
    with no_grad():
        for index in range(warmup + repeats):
            started = time.perf_counter()
            model(inputs)
            if index >= warmup:
                times.append(time.perf_counter() - started)
    model.train(was_training)
    return statistics.median(times)
