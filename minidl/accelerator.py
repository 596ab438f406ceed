"""``minidl.accelerator``: PyTorch's device-neutral questions, answered from :mod:`minidl.cuda`.

minidl's only accelerator is an NVIDIA GPU through CuPy, so ``current_accelerator()`` is
``minidl.device("cuda")`` when one is usable and None otherwise.
"""

from __future__ import annotations

from minidl import cuda
from minidl.core.backend import Device
from minidl.core.errors import DeviceError


def is_available():
    """True when a GPU is usable (CuPy installed and a device seen)."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``minidl.device("cuda")`` when a GPU is usable, else None."""
    return Device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()


def current_device_index():
    """The index of the GPU in use; -1 without one, as PyTorch's."""
    return cuda.current_device() if cuda.is_available() else -1


def set_device_index(device):
    if not cuda.is_available():
        raise DeviceError("accelerator.set_device_index: no GPU is usable (minidl.accelerator.is_available() is "
                          "False)")
    index = device.index if isinstance(device, Device) else int(device)
    cuda.set_device(index)


def synchronize(device=None):
    cuda.synchronize(device)
