"""PyTorch's switches for matmul precision and deterministic algorithms, answered truthfully.

minidl's float32 matmuls always run at full float32 precision (NumPy's and CuPy's GEMMs; no TF32
or bfloat16 shortcuts), and its CPU ops give the same result for the same input every time. So
these functions remember what they were told, for programs that read it back, and change nothing.
"""

from __future__ import annotations

from minidl.core.arguments import choice

MATMUL_PRECISIONS = ("highest", "high", "medium")

_state = {"matmul_precision": "highest", "deterministic": False, "warn_only": False}


def set_float32_matmul_precision(precision):
    """Accepts PyTorch's 'highest', 'high' or 'medium' and remembers it. minidl's float32 matmuls are
    always computed at full float32 precision ('highest'), whatever is set: 'high' and 'medium' let
    PyTorch use faster TF32 or bfloat16 arithmetic, which minidl does not have."""
    _state["matmul_precision"] = choice(precision, "set_float32_matmul_precision", "precision",
                                        MATMUL_PRECISIONS)


def get_float32_matmul_precision():
    """The precision last set with :func:`set_float32_matmul_precision` ('highest' until then)."""
    return _state["matmul_precision"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Records the request. minidl's ops are deterministic on the CPU already (no atomics, fixed
    summation order), so nothing changes."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be True or False, got {mode!r}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms: warn_only must be True or False, got {warn_only!r}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """True after ``use_deterministic_algorithms(True)``."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """True after ``use_deterministic_algorithms(True, warn_only=True)``."""
    return _state["deterministic"] and _state["warn_only"]
