"""``minidl.autograd``: PyTorch's place for ``Function`` (custom gradients, written either as
minidl's ops are, on arrays, or in PyTorch's style with ``ctx``: see minidl/core/context_function.py)."""

from minidl.core.function import Function  # noqa: F401
from minidl.core.grad_mode import (detect_anomaly, enable_grad, inference_mode, no_grad,  # noqa: F401
                                  set_grad_enabled)

__all__ = ["Function", "detect_anomaly", "enable_grad", "inference_mode", "no_grad", "set_grad_enabled"]
