"""Array backends and devices.

minidl computes on raw arrays: NumPy on the CPU, CuPy on an NVIDIA GPU, and a
*strict* CPU array type (``minidl.core.strict``) that, like CuPy, refuses implicit
conversion to NumPy, so device bugs show up on machines without a GPU.

This is the only module that imports CuPy, and it does so lazily: ``import
minidl`` never needs a GPU. Everything else asks :func:`array_module` for the
module that works on a given array.
"""

from __future__ import annotations

import numpy as np

from minidl.core import strict
from minidl.core.errors import DeviceError

DEVICE_TYPES = ("cpu", "strict", "cuda")

_cupy = None  # the cupy module once loaded


def _load_cupy():
    """Import CuPy and check that a GPU is visible; clear errors otherwise."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError as error:
        raise DeviceError(
            "device 'cuda' needs CuPy, which is not installed: "
            "pip install cupy-cuda12x for a CUDA 12 driver or cupy-cuda13x for CUDA 13 (the extras "
            "\".[gpu]\" and \".[gpu-cuda13]\"; `minidl info` says which one fits)") from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDA driver missing or broken
        raise DeviceError(f"device 'cuda': CuPy is installed but no GPU is usable ({error})") from error
    if count == 0:
        raise DeviceError("device 'cuda': CuPy is installed but no GPU was found")
    _cupy = cupy
    _MODULES[cupy.ndarray] = cupy
    _DEVICE_OF_TYPE[cupy.ndarray] = "cuda"
    return cupy


class Device:
    """Where a tensor's array lives: ``Device("cpu")``, ``Device("cuda:0")``, ``Device("strict")``.

    Compares equal to its string form, so ``x.device == "cpu"`` works.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
        kind, _, number = spec.partition(":")
        if kind not in DEVICE_TYPES:
            raise DeviceError(f"device: unknown device {spec!r}; expected one of {', '.join(DEVICE_TYPES)}")
        if number:
            if kind != "cuda" or not number.isdigit():
                raise DeviceError(f"device: invalid device string {spec!r}")
            index = int(number)
        self.type = kind
        self.index = index if kind == "cuda" else None

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except (DeviceError, TypeError):
                return False
        if not isinstance(other, Device):
            return NotImplemented
        same_index = self.index is None or other.index is None or self.index == other.index
        return self.type == other.type and same_index

    def __hash__(self):
        return hash(self.type)

    @property
    def xp(self):
        """The array module of this device (numpy, cupy or minidl.core.strict)."""
        if self.type == "cpu":
            return np
        if self.type == "strict":
            return strict
        return _load_cupy()


CPU = Device("cpu")

# array type -> array module and device type; cupy's are added when it is first loaded
_MODULES = {np.ndarray: np, strict.StrictArray: strict}
_DEVICE_OF_TYPE = {np.ndarray: "cpu", strict.StrictArray: "strict"}




def array_module(array):
    """The module (numpy, cupy or minidl.core.strict) whose functions work on ``array``."""
    try:
        return _MODULES[type(array)]
    except KeyError:
        if isinstance(array, (np.generic, int, float, bool)):
            return np
        raise TypeError(f"minidl works on numpy, cupy or strict arrays, not {type(array).__name__}") from None


def device_of(array):
    """The :class:`Device` an array lives on."""
    kind = _DEVICE_OF_TYPE.get(type(array), "cpu")
    if kind == "cuda":
        return Device("cuda", int(array.device.id))
    return Device(kind)


def to_device(array, device):
    """Copy ``array`` to ``device`` (a no-op when it already lives there)."""
    device = Device(device)
    source = device_of(array)
    if source == device and (device.type != "cuda" or device.index is None):
        return array
    host = to_numpy(array)
    if device.type == "cpu":
        return host
    if device.type == "strict":
        return strict.asarray(host)
    cupy = _load_cupy()
    with cupy.cuda.Device(device.index or 0):
        return cupy.asarray(host)


def to_numpy(array):
    """An explicit copy to host memory as a NumPy array (the only sanctioned device->host path)."""
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):
        return np.asarray(array)
    return array.get()


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices accumulated (np.add.at on every backend).

    Rows picked by one integer array (an embedding's gradient) take a faster route on the
    host: NumPy's ``add.at`` is several times quicker on a flat 1-D index than on whole rows.
    """
    xp = array_module(target)
    if xp.__name__ == "cupy" and not hasattr(xp.add, "at"):  # CuPy before 13
        import cupyx
        cupyx.scatter_add(target, index, values)
    elif xp.__name__ != "cupy" and _is_row_index(index) and target.ndim > 1 and target.flags.c_contiguous:
        if type(index) is not type(target):
            index = xp.asarray(index)  # a host index for a device array: copy it over, as CuPy does
        row = target[0].size
        flat = (index.reshape(-1, 1) * row + xp.arange(row)).reshape(-1)
        xp.add.at(target.reshape(-1), flat, xp.broadcast_to(values, index.shape + target.shape[1:]).reshape(-1))
    else:
        xp.add.at(target, index, values)
    return target


def is_writeable(array):
    """False for a read-only array: NumPy's flag (broadcast views are read-only); CuPy has no such
    flag, so there an array is read-only when it is broadcast (a stride 0 along an axis longer than 1),
    where one write would land on many elements."""
    flags = array.flags
    if hasattr(flags, "writeable"):
        return bool(flags.writeable)
    return all(stride != 0 or size == 1 for stride, size in zip(array.strides, array.shape))


def _is_row_index(index):
    return hasattr(index, "dtype") and index.dtype.kind in "iu"


# --- NumPy's floating-point warnings ----------------------------------------------------------
#: What NumPy says when IEEE arithmetic meets 0, inf or nan (log(0) = -inf, inf - inf = nan ...).
FLOAT_WARNINGS = (r"(divide by zero|invalid value|overflow|underflow) encountered|Mean of empty slice"
                  r"|Degrees of freedom <= 0")


def silence_float_warnings():
    """Keep NumPy's floating-point RuntimeWarnings raised inside minidl's own modules from users, as
    PyTorch is silent there: the results (inf, nan) are the IEEE ones either way. A warnings filter,
    so it costs nothing on the normal path and leaves warnings from the user's own NumPy code alone."""
    import warnings
    warnings.filterwarnings("ignore", message=FLOAT_WARNINGS, category=RuntimeWarning, module=r"minidl(\.|$)")
