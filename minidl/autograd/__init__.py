"""``minidl.autograd``: PyTorch's place for ``Function`` (custom gradients, written either as
minidl's ops are, on arrays, or in PyTorch's style with ``ctx``: see minidl/core/context_function.py),
``grad`` and ``backward`` (minidl/autograd/gradients.py), ``functional.jacobian`` and ``gradcheck``."""

from minidl.core.function import Function  # noqa: F401
from minidl.core.grad_mode import (detect_anomaly, enable_grad, inference_mode, no_grad,  # noqa: F401
                                  set_grad_enabled)
from minidl.autograd import functional  # noqa: F401
from minidl.autograd.checks import gradcheck, gradgradcheck  # noqa: F401
from minidl.autograd.gradients import backward, grad  # noqa: F401

__all__ = ["Function", "backward", "detect_anomaly", "enable_grad", "functional", "grad", "gradcheck",
           "gradgradcheck", "inference_mode", "no_grad", "set_grad_enabled"]
