"""``minidl.backends.cudnn``: PyTorch's cuDNN switches. minidl has no cuDNN, so they are plain
settings that change nothing (defaults as in PyTorch); :func:`is_available` is False."""

from __future__ import annotations

import contextlib

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True

_SWITCHES = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")


def is_available():
    """False: minidl has no cuDNN (its GPU path is CuPy)."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the switches inside a ``with`` block and put the previous values back after it."""
    module = globals()
    saved = {name: module[name] for name in _SWITCHES}
    module.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                  deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        module.update(saved)
