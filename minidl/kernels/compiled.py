"""Compiled loops: an optional extra (``pip install "minidl[compiled]"``, which installs Numba).

A few formulas need several NumPy passes over memory where one loop over each row would do
(layer norm: a mean, a variance, a normalisation and an affine map, each a pass). With Numba
installed, such kernels run one compiled loop instead; without it they keep their NumPy form.
Either way the result is the textbook op's (tests run both).

    available()        True when Numba is installed and compiled loops are on
    runs(*arrays)      True when they run on these arrays (NumPy float32 or float64)
    use_compiled(on)   turn them off or on (a call, or a ``with`` block); ``MINIDL_COMPILED=off`` too
    jit(function)      compile ``function`` with Numba at its first call, cached on disk, the GIL
                       released (so minidl's threads can run slices of rows side by side)

The loops may reassociate sums (so LLVM vectorises them) but keep IEEE NaN and infinity rules.
Compiled code is cached beside the module (or in ``NUMBA_CACHE_DIR``): the first run on a
machine compiles each loop once (about a second), later runs load it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os

import numpy as np

_NUMBA = importlib.util.find_spec("numba") is not None
_enabled = [_NUMBA and os.environ.get("MINIDL_COMPILED", "on").lower() not in ("off", "0", "false", "no")]
_FLAGS = {"reassoc", "contract"}  # vectorised sums and fused multiply-adds; NaN and inf still IEEE


def available():
    """True when compiled loops run: Numba is installed and they are switched on."""
    return _enabled[0]


@contextlib.contextmanager
def _restoring(previous):
    try:
        yield
    finally:
        _enabled[0] = previous


def runs(*arrays):
    """True when compiled loops run on these arrays: they are available, and every array is a
    non-empty NumPy float32 or float64 array of one dtype (the loops index rows of C-contiguous
    arrays: callers pass those)."""
    return available() and all(type(a) is np.ndarray and a.dtype in (np.float32, np.float64) and a.size
                               and a.dtype == arrays[0].dtype for a in arrays)


def use_compiled(on=True):
    """Switch compiled loops on or off for the process; returns a context manager that, used in a
    ``with`` block, restores the previous setting. Turning them on without Numba raises."""
    if on and not _NUMBA:
        raise ModuleNotFoundError('use_compiled: Numba is not installed; pip install "minidl[compiled]"')
    previous, _enabled[0] = _enabled[0], bool(on)
    return _restoring(previous)


def jit(function):
    """``function`` compiled by Numba at its first call (cached on disk); Numba itself is imported
    only then, so a process that never runs a compiled loop never loads it. Without Numba,
    ``function`` itself (never called then: kernels check :func:`available` first)."""
    if not _NUMBA:
        return function
    compiled_function = []

    @functools.wraps(function)
    def run(*args):
        if not compiled_function:
            import numba
            compiled_function.append(numba.njit(cache=True, nogil=True, fastmath=_FLAGS)(function))
        return compiled_function[0](*args)
    return run
