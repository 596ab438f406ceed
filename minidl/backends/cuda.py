"""``minidl.backends.cuda``: PyTorch's CUDA switches (``matmul.allow_tf32`` ...). minidl computes
in float32 or float64 without TF32 or reduced-precision reductions, so they change nothing."""

from __future__ import annotations

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built():
    """False: minidl is not built against CUDA (a GPU is reached through CuPy; see minidl.cuda)."""
    return False
