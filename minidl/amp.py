"""``minidl.amp``: PyTorch's mixed-precision names, so training loops that use them run unchanged.

minidl computes in float32 (or float64) everywhere: ``autocast`` leaves dtypes as they are and
``GradScaler`` passes losses and steps through (PyTorch's behaviour with ``enabled=False``).
"""

from __future__ import annotations

import contextlib

from minidl.cuda import amp as _cuda_amp

GradScaler = _cuda_amp.GradScaler


class autocast(contextlib.ContextDecorator):  # noqa: N801 (PyTorch's name)
    """A context (or decorator) in which PyTorch would compute in a lower precision; minidl keeps
    float32, so results are PyTorch's with autocast disabled."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
