"""The core of the engine: Tensor, Function (a graph node), the backward pass, grad mode,
devices and array backends, dtypes, errors and tensor creation.

The core imports nothing above it. Tensor's operators reach the ops through one hook,
:func:`minidl.core.tensor_methods.attach_ops`, which ``minidl.ops`` calls when it loads;
kernels plug in through :mod:`minidl.core.dispatch`.
"""

from minidl.core.backend import Device, array_module, device_of, silence_float_warnings, to_device, to_numpy
from minidl.core.backward import run_backward, sum_to
from minidl.core.dispatch import kernels_enabled, use_kernels
from minidl.core.errors import AutogradError, DeviceError, MinidlError, ShapeError
from minidl.core.function import Function
from minidl.core.grad_mode import (detect_anomaly, enable_grad, inference_mode, is_grad_enabled, no_grad,
                                  set_grad_enabled)
from minidl.core.tensor import Tensor
from minidl.core import context_function  # noqa: F401  (PyTorch-style Functions: ctx, save_for_backward)

silence_float_warnings()

__all__ = [
    "AutogradError", "Device", "DeviceError", "Function", "MinidlError", "ShapeError", "Tensor", "array_module",
    "detect_anomaly", "device_of", "enable_grad", "inference_mode", "is_grad_enabled", "kernels_enabled", "no_grad", "run_backward",
    "set_grad_enabled", "sum_to", "to_device", "to_numpy", "use_kernels",
]
