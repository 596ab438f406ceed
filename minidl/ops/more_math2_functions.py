"""PyTorch's small non-differentiable functions: value tests (isposinf, isneginf, isreal), frexp, Poisson
samples, tensor makers (scalar_tensor, asarray, frombuffer, empty_strided), the h/v/d splits, and the
queries typename, is_autocast_enabled, get_autocast_dtype and set_warn_always/is_warn_always_enabled.
"""

from __future__ import annotations

from collections import namedtuple
import numbers

import numpy as np

from minidl.core import Tensor
from minidl.core.backend import array_module
from minidl.core.creation import empty, tensor
from minidl.core.dtypes import as_dtype, bfloat16, float16
from minidl.core.random import numpy_stream
from minidl.ops.common import is_tensor, tensor_argument, wrap
from minidl.ops.tensor_functions_extra import tensor_split

FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])
_warn_always = [False]


def isposinf(input):  # noqa: A002
    """True where an element is +inf."""
    array = tensor_argument(input, "isposinf").array
    return wrap(array == array_module(array).inf if array.dtype.kind in "fc" else array != array)


def isneginf(input):  # noqa: A002
    """True where an element is -inf."""
    array = tensor_argument(input, "isneginf").array
    return wrap(array == -array_module(array).inf if array.dtype.kind in "fc" else array != array)


def isreal(input):  # noqa: A002
    """True where an element has no imaginary part: everywhere, for minidl's real tensors."""
    array = tensor_argument(input, "isreal").array
    return wrap(array_module(array).ones(array.shape, dtype=bool))


def frexp(input):  # noqa: A002
    """(mantissa, exponent) with input = mantissa · 2^exponent, |mantissa| in [0.5, 1) (int32 exponents)."""
    array = tensor_argument(input, "frexp").array
    if array.dtype.kind != "f":
        raise TypeError(f"frexp: expected a floating tensor, got {input.dtype}")
    mantissa, exponent = array_module(array).frexp(array)
    return FrexpResult(wrap(mantissa), wrap(exponent.astype(np.int32)))


def poisson(input, generator=None):  # noqa: A002
    """Samples of Poisson(rate) for each rate of ``input`` (non-negative), in its dtype and on its device;
    no gradient reaches the rates."""
    rates = tensor_argument(input, "poisson").array
    if rates.size and float(rates.min()) < 0:
        raise ValueError(f"poisson: rates must be non-negative, got a minimum of {float(rates.min())}")
    host = np.asarray(rates.get() if hasattr(rates, "get") else rates, dtype=np.float64)
    samples = numpy_stream(generator, "poisson").poisson(host).astype(rates.dtype)
    return Tensor(samples).to(input.device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s`` (the default float dtype unless ``dtype`` is given)."""
    if is_tensor(s):
        s = s.item()
    if not isinstance(s, (numbers.Number, np.generic)):
        raise TypeError(f"scalar_tensor: s must be a number, got {type(s).__name__}")
    return tensor(float(s), dtype=dtype, device=device, requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor: a tensor or NumPy array of the asked dtype and device is shared, not copied,
    unless ``copy=True``; ``copy=False`` refuses when a copy is needed."""
    same_dtype = dtype is None or as_dtype(dtype, "asarray") == getattr(obj, "dtype", None)
    if is_tensor(obj):
        shareable = same_dtype and (device is None or str(obj.device) == str(device))
        result = obj if shareable and not copy else None
    elif isinstance(obj, np.ndarray):
        shareable = same_dtype and device in (None, "cpu")
        result = Tensor(obj) if shareable and not copy else None
    else:
        shareable, result = False, None
    if result is None:
        if copy is False:
            raise ValueError(f"asarray: copy=False, but {type(obj).__name__} can't be used without a copy "
                             f"(dtype {dtype}, device {device})")
        result = tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        result.requires_grad_(True)
    return result


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor of ``count`` elements (all, for -1) of ``dtype`` read from ``buffer`` after ``offset``
    bytes; shares the memory of a writable buffer (a read-only one, such as bytes, is copied)."""
    try:
        array = np.frombuffer(buffer, dtype=as_dtype(dtype, "frombuffer"), count=count, offset=offset)
    except ValueError as error:
        raise ValueError(f"frombuffer: {error} (buffer of {len(memoryview(buffer).cast('B'))} bytes, "
                         f"count={count}, offset={offset})") from None
    result = Tensor(array if array.flags.writeable else array.copy())
    return result.requires_grad_(True) if requires_grad else result


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``size``; ``stride`` is checked for length but not used (minidl's
    tensors are laid out by their array module)."""
    if len(tuple(stride)) != len(tuple(size)):
        raise ValueError(f"empty_strided: stride {tuple(stride)} must have one entry per dim of size {tuple(size)}")
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _split(input, indices_or_sections, dim, op, min_dims):  # noqa: A002
    if tensor_argument(input, op).ndim < min_dims:
        raise ValueError(f"{op}: expected a tensor of at least {min_dims} dims, got shape {tuple(input.shape)}")
    if isinstance(indices_or_sections, numbers.Integral) and (
            indices_or_sections == 0 or input.shape[dim] % indices_or_sections):
        raise ValueError(f"{op}: dim {dim} of size {input.shape[dim]} can't be split into {indices_or_sections} "
                         "equal parts")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):  # noqa: A002
    """Split along the columns: dim 1 (dim 0 for a 1-D tensor)."""
    return _split(input, indices_or_sections, 1 if tensor_argument(input, "hsplit").ndim > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):  # noqa: A002
    """Split along the rows: dim 0 of a tensor of at least 2 dims."""
    return _split(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):  # noqa: A002
    """Split along the depth: dim 2 of a tensor of at least 3 dims."""
    return _split(input, indices_or_sections, 2, "dsplit", 3)


def typename(obj):
    """The type's name: ``'minidl.FloatTensor'`` style for tensors, ``module.Class`` for other objects."""
    if is_tensor(obj):
        return obj.type()
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def is_autocast_enabled(device_type=None):
    """Always False: minidl's autocast never lowers the precision."""
    return False


def get_autocast_dtype(device_type):
    """The dtype PyTorch's autocast would use on ``device_type``: float16 on "cuda", bfloat16 elsewhere
    (minidl's autocast keeps float32, so this only answers the question)."""
    return float16 if str(device_type) == "cuda" else bfloat16


def set_warn_always(b):
    """Record whether warnings that PyTorch shows once should show every time (minidl's warnings
    follow Python's warning filters either way)."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled():
    """What :func:`set_warn_always` last set (False at first)."""
    return _warn_always[0]
