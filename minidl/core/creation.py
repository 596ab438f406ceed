"""Creating tensors: from data, filled with constants, ranges and random numbers.

Random numbers come from the streams of :mod:`minidl.core.random` (the default one
seeded by :func:`manual_seed`, or a ``Generator`` passed as ``generator=``) and are
drawn on the host, then copied to the target device, so a seed gives the same
values on every device.
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np

from minidl.core.arguments import number, size as _size
from minidl.core.backend import Device, array_module, to_device
from minidl.core.errors import DeviceError
from minidl.core.dtypes import _KINDS, as_dtype, get_default_dtype
from minidl.core.random import (default_generator, get_rng_state, manual_seed, numpy_stream,  # noqa: F401
                                set_rng_state)  # the random streams live in minidl.core.random
from minidl.core.tensor import Tensor


def _shape(size, where):
    """The sizes ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros([2, 3])`` as a tuple of ints ≥ 0."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if len(size) == 1:
        return (_size(size[0], where, "size"),)
    try:
        return tuple(_size(s, where, f"size[{i}]") for i, s in enumerate(size))
    except (TypeError, ValueError) as error:
        raise type(error)(f"{error} (size: {tuple(size)})") from None


def _dtype(dtype, where):
    """``dtype`` checked (None stays None: the function picks its default)."""
    return None if dtype is None else as_dtype(dtype, where)


def _like_what(data):
    return f"a {type(data).__name__} ({reprlib.repr(data)})"


_default_device = [None]  # where factories create tensors when no device is given; None: the CPU


def set_default_device(device):
    """Make the factory functions (``zeros``, ``randn``, ``tensor``, ``arange`` ...) create on ``device``
    when they get no ``device=``; ``None`` or ``"cpu"`` goes back to the CPU. ``"cuda"`` needs a usable GPU."""
    if device is not None:
        device = Device(device)
        try:
            device.xp  # noqa: B018 (loads CuPy for "cuda": a clear error without it)
        except DeviceError as error:
            raise DeviceError(f"set_default_device: device {str(device)!r} is not usable: {error}") from None
    _default_device[0] = None if device is None or device.type == "cpu" else device


def get_default_device():
    """The device factory functions create on when given none (``device(type='cpu')`` unless set)."""
    return _default_device[0] or Device("cpu")


def _device_or_default(device):
    """``device`` itself when given, else the default device (None for the CPU)."""
    return device if device is not None else _default_device[0]


def _finish(array, dtype, device, requires_grad):
    """Cast on the host, move to the device (the default one when None), wrap (``dtype`` already checked)."""
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    device = _device_or_default(device)
    if device is not None:
        array = to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested list, array or tensor).

    Python floats become the default dtype (float32), Python ints int64, bools bool;
    NumPy and device arrays keep their dtype unless ``dtype`` is given.
    """
    dtype = _dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (list, tuple, numbers.Number, np.generic)):
        array = _from_python(data)
        if array.dtype == np.float64 and not _holds_numpy_float64(data):
            array = array.astype(dtype or get_default_dtype())
    elif isinstance(data, np.ndarray):
        _check_array_dtype(data.dtype, "tensor", "a NumPy array")
        array = data.copy()
    else:
        try:
            xp = array_module(data)
        except TypeError:
            xp = None
        if xp is None or xp is np:  # neither a device array nor an ndarray: a range, a str, None, a dict ...
            if isinstance(data, (str, bytes, dict, set, frozenset)) or data is None:
                raise TypeError(f"tensor: can't build a tensor from {_like_what(data)}; expected a number, a "
                                "(nested) list or tuple of numbers, a NumPy array or a tensor"
                                + ("; make the set a list first (sets have no order)"
                                   if isinstance(data, (set, frozenset)) else ""))
            try:
                array = np.array(data)
            except (TypeError, ValueError):
                array = np.array(None)
            if array.dtype.kind not in _KINDS:
                raise TypeError(f"tensor: can't build a tensor from {_like_what(data)}; expected a number, a "
                                "(nested) list or tuple of numbers, a NumPy array or a tensor")
        else:
            array = data.copy()
    return _finish(array, dtype, device, requires_grad)


def _check_array_dtype(dtype, where, what):
    if dtype.kind not in _KINDS:
        raise TypeError(f"{where}: can't build a tensor from {what} of dtype {dtype}; only bool, int, uint, "
                        "float and complex arrays can be converted")


def _from_python(data):
    """``data`` (numbers, bools, nested lists) as an array, or a clear error: ragged or not numbers."""
    try:
        array = np.array(data)
    except ValueError as error:
        ragged = _ragged(data)
        if ragged is None:
            raise ValueError(f"tensor: can't build a tensor from {_like_what(data)}: {error}") from None
        raise ValueError(f"tensor: the nested lists are ragged ({ragged}); every list at one depth must have "
                         "the same length, as a tensor is rectangular (pad the short ones, or keep a list of "
                         "tensors)") from None
    except TypeError as error:
        raise TypeError(f"tensor: can't build a tensor from {_like_what(data)}: {error}") from None
    if array.dtype.kind not in _KINDS:
        ragged = _ragged(data) if array.dtype.kind == "O" else None
        if ragged is not None:
            raise ValueError(f"tensor: the nested lists are ragged ({ragged}); every list at one depth must "
                             "have the same length, as a tensor is rectangular")
        leaf = _first_non_number(data)
        what = _like_what(data if leaf is _NUMBERS_ONLY else leaf)
        hint = "; convert the strings with float() or int() first" if isinstance(leaf, (str, bytes)) else ""
        raise TypeError(f"tensor: only numbers and bools can go in a tensor, got {what}{hint}")
    return array


def _ragged(data):
    """Where nested lists ``data`` are not rectangular, in words (None where they are)."""
    level, depth = [data], 0
    while True:
        lists = [item for item in level if isinstance(item, (list, tuple))]
        if not lists:
            return None
        if len(lists) != len(level):
            return f"at depth {depth} some entries are lists and others are not"
        lengths = sorted({len(item) for item in lists})
        if len(lengths) > 1:
            return f"the lists at depth {depth} have lengths {', '.join(map(str, lengths))}"
        level, depth = [item for sub in lists for item in sub], depth + 1


_NUMBERS_ONLY = object()  # what _first_non_number returns when every leaf is fine (None may be the culprit)


def _first_non_number(data):
    """The first leaf of nested lists ``data`` that is not a number, a bool, an array or a tensor."""
    if isinstance(data, (list, tuple)):
        for item in data:
            leaf = _first_non_number(item)
            if leaf is not _NUMBERS_ONLY:
                return leaf
        return _NUMBERS_ONLY
    if isinstance(data, (numbers.Number, np.bool_, Tensor)):
        return _NUMBERS_ONLY
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in _KINDS:
        return _NUMBERS_ONLY
    return data


def _holds_numpy_float64(data):
    return isinstance(data, (np.floating, np.ndarray)) and data.dtype == np.float64


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor`, but shares memory with ``data`` when no copy is needed."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray):
        _check_array_dtype(data.dtype, "as_tensor", "a NumPy array")
        return _finish(data, _dtype(dtype, "as_tensor"), device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A CPU tensor sharing memory with the NumPy array ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _check_array_dtype(array.dtype, "from_numpy", "an array")
    return Tensor(array)


def _filled(size, value, dtype, device, requires_grad, where):
    shape = _shape(size, where)
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if not isinstance(value, (numbers.Number, np.bool_)):
        raise TypeError(f"{where}: fill_value must be a number or a bool, got {value!r} ({type(value).__name__})")
    dtype = _dtype(dtype, where) if dtype is not None else (
        get_default_dtype() if isinstance(value, float) else np.asarray(value).dtype)
    xp = Device(_device_or_default(device) or "cpu").xp
    return Tensor(xp.full(shape, value, dtype=dtype), requires_grad=requires_grad)


def _sizes(shape, size, where):
    """The size given as ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``, as PyTorch takes it."""
    if size is None:
        return shape
    if shape:
        raise TypeError(f"{where}: got a size both as arguments {shape} and as size={size!r}")
    return (size,)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(_sizes(shape, size, "zeros"), 0.0, dtype, device, requires_grad, "zeros")


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(_sizes(shape, size, "ones"), 1.0, dtype, device, requires_grad, "ones")


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(_sizes(shape, size, "empty"), 0.0, dtype, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled((size,), fill_value, dtype, device, requires_grad, "full")


def _random(draw, size, dtype, device, requires_grad, where, generator=None):
    shape = _shape(size, where)
    dtype = as_dtype(dtype, where) if dtype is not None else get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{where}: random floats need a floating dtype such as minidl.float32, got {dtype}")
    stream = numpy_stream(generator, where)
    array = draw(stream, shape, dtype if dtype in (np.float32, np.float64) else np.float64)
    return _finish(array, dtype, device, requires_grad)


def randn(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of the standard normal distribution N(0, 1)."""
    return _random(lambda g, s, d: g.standard_normal(s, dtype=d), _sizes(shape, size, "randn"), dtype, device, requires_grad, "randn",
                   generator)


def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of the uniform distribution U[0, 1)."""
    return _random(lambda g, s, d: g.random(s, dtype=d), _sizes(shape, size, "rand"), dtype, device, requires_grad, "rand", generator)


def _integer(value, where, name):
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


def randint(low, high=None, size=(), *, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """Random integers in [low, high): ``randint(low, high, size)`` or ``randint(high, size)`` (low = 0)."""
    if isinstance(high, (tuple, list)):  # randint(high, size), PyTorch's short form
        if size != ():
            raise TypeError(f"randint: got a size twice: {high!r} and {size!r}")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    low, high = _integer(low, "randint", "low"), _integer(high, "randint", "high")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints such as (3,), got {size!r}")
    shape = _shape(tuple(size), "randint")
    if low >= high:
        raise ValueError(f"randint: low must be less than high, got low={low} and high={high} "
                         "(the values are drawn from [low, high))")
    if requires_grad:
        raise TypeError("randint: integer tensors cannot require grad (only floating ones can)")
    stream = numpy_stream(generator, "randint")
    return _finish(stream.integers(low, high, shape), _dtype(dtype, "randint"), device, False)


def randperm(n, *, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1."""
    if requires_grad:
        raise TypeError("randperm: integer tensors cannot require grad (only floating ones can)")
    stream = numpy_stream(generator, "randperm")
    return _finish(stream.permutation(_size(n, "randperm", "n")), _dtype(dtype, "randperm"), device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``."""
    if end is None:
        start, end = 0, start
    values = []
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        if not math.isfinite(number(value, "arange", name)):
            raise ValueError(f"arange: {name} must be finite, got {value}")
        values.append(value)
    start, end, step = values
    if step == 0:
        raise ValueError("arange: step must be nonzero, got 0")
    if (end - start) * step < 0:
        raise ValueError(f"arange: step {step} goes away from end {end} when starting at {start}; "
                         f"use a {'negative' if step > 0 else 'positive'} step to count "
                         f"{'down' if step > 0 else 'up'}")
    is_float = any(not isinstance(v, numbers.Integral) for v in values)
    dtype = _dtype(dtype, "arange") or (get_default_dtype() if is_float else np.dtype(np.int64))
    array = np.arange(start, end, step, dtype=dtype)
    return _finish(array, None, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values evenly spaced from ``start`` to ``end`` (both included)."""
    start, end = number(start, "linspace", "start"), number(end, "linspace", "end")
    steps = _size(steps, "linspace", "steps")
    array = np.linspace(start, end, steps).astype(_dtype(dtype, "linspace") or get_default_dtype())
    return _finish(array, None, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n × m (n × n without m) identity matrix."""
    n = _size(n, "eye", "n")
    m = None if m is None else _size(m, "eye", "m")
    array = np.eye(n, m, dtype=_dtype(dtype, "eye") or get_default_dtype())
    return _finish(array, None, device, requires_grad)


def _like(make, other, dtype, device, requires_grad, *args):
    if not isinstance(other, Tensor):
        raise TypeError(f"{make.__name__}_like: expected a tensor, got {_like_what(other)}; "
                        f"use minidl.{make.__name__}(shape) for a shape")
    return make(other.shape, *args, dtype=dtype or other.dtype, device=device or other.device,
                requires_grad=requires_grad)


def zeros_like(other, dtype=None, device=None, requires_grad=False):
    return _like(zeros, other, dtype, device, requires_grad)


def ones_like(other, dtype=None, device=None, requires_grad=False):
    return _like(ones, other, dtype, device, requires_grad)


def empty_like(other, dtype=None, device=None, requires_grad=False):
    return _like(empty, other, dtype, device, requires_grad)


def full_like(other, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(full, other, dtype, device, requires_grad, fill_value)


def new_full(like, size, fill_value, dtype=None, device=None, requires_grad=False, where="new_full"):
    """What ``like.new_full`` (new_zeros, new_ones, new_empty: ``where``) makes: a tensor of ``size``
    filled with ``fill_value``, of ``like``'s dtype and device unless given."""
    return _filled(size, fill_value, like.dtype if dtype is None else dtype,
                   like.device if device is None else device, requires_grad, where)


def new_tensor(like, data, dtype=None, device=None, requires_grad=False):
    """What ``like.new_tensor(data)`` makes: a copy of ``data`` of ``like``'s dtype and device unless given."""
    return tensor(data, like.dtype if dtype is None else dtype, like.device if device is None else device,
                  requires_grad)


def randn_like(other, dtype=None, device=None, requires_grad=False):
    return _like(randn, other, dtype, device, requires_grad)


def rand_like(other, dtype=None, device=None, requires_grad=False):
    return _like(rand, other, dtype, device, requires_grad)
