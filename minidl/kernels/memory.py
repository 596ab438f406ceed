"""Allocator tuning for training loops (opt-in, process-wide, reversible).

A training step allocates and frees the same large arrays again and again. By default
glibc returns freed heap memory to the operating system (and maps big blocks
freshly), so the next step pays a page fault for every 4 KiB page it touches:
thousands per step, about half the time of the mini-Transformer step on a 2-core
machine. :func:`keep_freed_memory` raises glibc's mmap and trim thresholds so that
memory stays in the process for reuse, at the cost of a peak resident size that
does not shrink. It changes the allocator of the whole process, so minidl never
does it on its own: the chapters (through their ``Chapter``) and the benchmarks
call it, and a training script may too. ``keep_freed_memory(False)`` restores glibc's defaults.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
GLIBC_DEFAULT_THRESHOLD = 128 * 1024   # both thresholds start here (glibc then adapts them)
KEPT_MMAP_THRESHOLD = 32 * 1024 * 1024  # blocks below 32 MiB come from the heap and are reused
KEPT_TRIM_THRESHOLD = 2 ** 31 - 1       # never hand the heap's free top back


def keep_freed_memory(enabled=True):
    """Keep freed memory in the process for reuse (True) or restore glibc's defaults (False).

    Returns True when the allocator was changed; False where it cannot be (not glibc).
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mmap_threshold = KEPT_MMAP_THRESHOLD if enabled else GLIBC_DEFAULT_THRESHOLD
    trim_threshold = KEPT_TRIM_THRESHOLD if enabled else GLIBC_DEFAULT_THRESHOLD
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
