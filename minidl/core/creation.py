"""Creating tensors: from data, filled with constants, ranges and random numbers.

Random numbers come from one NumPy ``Generator`` seeded by :func:`manual_seed`
and are drawn on the host, then copied to the target device, so a seed gives
the same values on every device.
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core.backend import Device, array_module, to_device
from minidl.core.dtypes import get_default_dtype
from minidl.core.tensor import Tensor

_generator = [np.random.default_rng()]


def manual_seed(seed):
    """Seed minidl's random number generator (randn, rand, randint, dropout, init)."""
    _generator[0] = np.random.default_rng(int(seed))
    return _generator[0]


def default_generator():
    """The NumPy Generator behind minidl's random functions."""
    return _generator[0]


def get_rng_state():
    """The generator's state as a plain dict (JSON-compatible), for checkpoints."""
    return _generator[0].bit_generator.state


def set_rng_state(state):
    _generator[0].bit_generator.state = state


def _shape(size):
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or s < 0:
            raise ValueError(f"size: expected non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _finish(array, dtype, device, requires_grad):
    """Cast on the host, move to the device, wrap."""
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    if device is not None:
        array = to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested list, array or tensor).

    Python floats become the default dtype (float32), Python ints int64, bools bool;
    NumPy and device arrays keep their dtype unless ``dtype`` is given.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or (not isinstance(data, (list, tuple, numbers.Number, np.generic))):
        try:
            xp = array_module(data)
        except TypeError:
            xp = np
            data = np.asarray(data)
        array = xp.array(data, copy=True) if xp is np else data.copy()
    else:
        array = np.array(data)
        if array.dtype == np.float64 and not _holds_numpy_float64(data):
            array = array.astype(dtype or get_default_dtype())
        elif array.dtype == object:
            raise TypeError(f"tensor: could not build a tensor from {type(data).__name__}")
    return _finish(array, dtype, device, requires_grad)


def _holds_numpy_float64(data):
    return isinstance(data, (np.floating, np.ndarray)) and data.dtype == np.float64


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor`, but shares memory with ``data`` when no copy is needed."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray):
        return _finish(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A CPU tensor sharing memory with the NumPy array ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _filled(size, value, dtype, device, requires_grad):
    dtype = np.dtype(dtype) if dtype is not None else (
        get_default_dtype() if isinstance(value, float) else np.asarray(value).dtype)
    xp = Device(device if device is not None else "cpu").xp
    return Tensor(xp.full(_shape(size), value, dtype=dtype), requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0.0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 1.0, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0.0, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled(tuple(size), fill_value, dtype, device, requires_grad)


def _random(draw, size, dtype, device, requires_grad):
    dtype = np.dtype(dtype or get_default_dtype())
    if dtype.kind != "f":
        raise TypeError(f"random floats need a floating dtype, got {dtype}")
    array = draw(_generator[0], _shape(size), dtype if dtype in (np.float32, np.float64) else np.float64)
    return _finish(array, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Samples of the standard normal distribution N(0, 1)."""
    return _random(lambda g, s, d: g.standard_normal(s, dtype=d), size, dtype, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Samples of the uniform distribution U[0, 1)."""
    return _random(lambda g, s, d: g.random(s, dtype=d), size, dtype, device, requires_grad)


def randint(low, high=None, size=(), dtype=np.int64, device=None):
    """Random integers in [low, high) (or [0, low) when high is omitted)."""
    if high is None:
        low, high = 0, low
    return _finish(_generator[0].integers(low, high, _shape(tuple(size))), dtype, device, False)


def randperm(n, device=None):
    return _finish(_generator[0].permutation(int(n)), np.int64, device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``."""
    if end is None:
        start, end = 0, start
    is_float = any(isinstance(v, float) for v in (start, end, step))
    array = np.arange(start, end, step, dtype=dtype or (get_default_dtype() if is_float else np.int64))
    return _finish(array, None, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    array = np.linspace(start, end, int(steps)).astype(dtype or get_default_dtype())
    return _finish(array, None, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    array = np.eye(n, m, dtype=dtype or get_default_dtype())
    return _finish(array, None, device, requires_grad)


def _like(make, other, dtype, device, requires_grad, *args):
    return make(*args, dtype=dtype or other.dtype, device=device or other.device, requires_grad=requires_grad)


def zeros_like(other, dtype=None, device=None, requires_grad=False):
    return _like(zeros, other, dtype, device, requires_grad, other.shape)


def ones_like(other, dtype=None, device=None, requires_grad=False):
    return _like(ones, other, dtype, device, requires_grad, other.shape)


def empty_like(other, dtype=None, device=None, requires_grad=False):
    return _like(empty, other, dtype, device, requires_grad, other.shape)


def full_like(other, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(full, other, dtype, device, requires_grad, other.shape, fill_value)


def randn_like(other, dtype=None, device=None, requires_grad=False):
    return _like(randn, other, dtype, device, requires_grad, other.shape)


def rand_like(other, dtype=None, device=None, requires_grad=False):
    return _like(rand, other, dtype, device, requires_grad, other.shape)
