"""``minidl.cuda``: PyTorch's device checks, answered truthfully from CuPy.

minidl runs on an NVIDIA GPU through CuPy (``pip install -e ".[gpu]"``); these names let PyTorch
programs ask about it unchanged: ``minidl.cuda.is_available()`` is True only when CuPy is
installed and sees a GPU. Random numbers are drawn on the host by one generator (so a seed
gives the same values on every device): ``manual_seed`` seeds that generator. minidl computes
in float32 or float64; there is no bfloat16 and no mixed precision, so ``amp.GradScaler`` is
PyTorch's disabled scaler (it passes losses and steps through unchanged).
"""

from __future__ import annotations

import importlib.util

from minidl.core import backend
from minidl.core.creation import manual_seed as _seed
from minidl.core.errors import DeviceError


def is_available():
    """True when CuPy is installed and a GPU is usable."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        backend._load_cupy()
    except DeviceError:
        return False
    return True


def device_count():
    """The number of GPUs CuPy sees (0 without CuPy or a GPU)."""
    return backend._load_cupy().cuda.runtime.getDeviceCount() if is_available() else 0


def current_device():
    if not is_available():
        raise DeviceError("cuda.current_device: no GPU is usable (minidl.cuda.is_available() is False)")
    return backend._load_cupy().cuda.runtime.getDevice()


def manual_seed(seed):
    """Seed minidl's one generator (GPU tensors draw from it too)."""
    _seed(seed)


manual_seed_all = manual_seed


def is_bf16_supported(including_emulation=True):
    """False: minidl has no bfloat16 (it computes in float32 or float64)."""
    return False


def synchronize(device=None):
    """Wait for the GPU's queued work (nothing to wait for without one)."""
    if is_available():
        backend._load_cupy().cuda.Device().synchronize()


def empty_cache():
    """Free CuPy's cached GPU memory blocks (nothing without a GPU)."""
    if is_available():
        backend._load_cupy().get_default_memory_pool().free_all_blocks()


class _Amp:
    """``minidl.cuda.amp``: GradScaler (disabled: minidl has no float16 training to scale)."""

    class GradScaler:
        """PyTorch's GradScaler with ``enabled=False``: scale() returns the loss, step() steps."""

        def __init__(self, *args, enabled=True, **options):  # PyTorch's arguments, all accepted
            self._enabled = False

        def scale(self, outputs):
            return outputs

        def unscale_(self, optimizer):
            pass

        def step(self, optimizer, *args, **kwargs):
            return optimizer.step(*args, **kwargs)

        def update(self, new_scale=None):
            pass

        def is_enabled(self):
            return self._enabled

        def get_scale(self):
            return 1.0

        def state_dict(self):
            return {}

        def load_state_dict(self, state_dict):
            pass


amp = _Amp()


def set_device(device):
    """Make GPU ``device`` (an index or ``"cuda:N"``) the current one."""
    if not is_available():
        raise DeviceError("cuda.set_device: no GPU is usable (minidl.cuda.is_available() is False)")
    index = device if isinstance(device, int) else (backend.Device(device).index or 0)
    backend._load_cupy().cuda.Device(index).use()
