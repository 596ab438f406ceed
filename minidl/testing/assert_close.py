"""``assert_close``: are two results the same up to floating-point error? (``torch.testing.assert_close``).

Elements a (actual) and e (expected) are close when |a − e| ≤ atol + rtol·|e| (equal NaNs count only
with ``equal_nan=True``; equal infinities are close). Default tolerances depend on the dtype:
float16 (rtol 1e-3, atol 1e-5), bfloat16 (1.6e-2, 1e-5), float32 and complex64 (1.3e-6, 1e-5),
float64, complex128 and Python floats (1e-7, 1e-7); integers and bools must be equal. Tensors,
NumPy arrays and scalars are compared with their shape, device and dtype first; sequences and
mappings element by element.
"""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from minidl.core.backend import to_numpy
from minidl.core.size import Size
from minidl.core.tensor import Tensor

_DEFAULT_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
                       np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
                       np.dtype(np.complex128): (1e-7, 1e-7)}
_BFLOAT16_TOLERANCES = (1.6e-2, 1e-5)


class NotCloseError(AssertionError):
    """Raised by :func:`assert_close` when the inputs differ (an ``AssertionError``, as PyTorch's)."""


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise :class:`NotCloseError` unless ``actual`` and ``expected`` are close (see the module docstring).

    ``rtol`` and ``atol`` go together (both or neither). ``msg``, a string, replaces the message; a
    callable gets the message and returns the one to raise. ``check_layout`` and ``check_stride`` are
    accepted for PyTorch's signature (minidl tensors are dense and contiguous).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'atol' if atol is None else 'rtol'}.")
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype)
    failure = _compare(actual, expected, (), options)
    if failure is not None:
        message, path = failure
        if path:
            message += "\n\nThe failure occurred for item " + "".join(f"[{key!r}]" for key in path)
        if callable(msg):
            message = msg(message)
        elif msg is not None:
            message = msg
        raise NotCloseError(message)


def _is_array_like(value):
    return isinstance(value, (Tensor, np.ndarray))


def _is_scalar(value):
    return isinstance(value, (numbers.Number, np.bool_)) and not _is_array_like(value)


def _compare(actual, expected, path, options):
    """None when close, else (message, path of the failing item)."""
    same_kind = isinstance(actual, Tensor) == isinstance(expected, Tensor)   # two tensors or two arrays
    if _is_array_like(actual) and _is_array_like(expected) and same_kind:
        if not options["allow_subclasses"] and type(actual) is not type(expected):
            return (f"Except for Python scalars, type equality is required if allow_subclasses=False, but got "
                    f"{type(actual)} and {type(expected)} instead.", path)
        message = _compare_arrays(actual, expected, options)
    elif _is_scalar(actual) and _is_scalar(expected):
        message = _compare_scalars(actual, expected, options)
    elif isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        if missing or extra:
            return ("The keys of the mappings do not match:\n"
                    f"Missing keys in the actual mapping: {sorted(missing, key=repr)}\n"
                    f"Additional keys in the actual mapping: {sorted(extra, key=repr)}", path)
        return _first_failure((_compare(actual[key], expected[key], path + (key,), options) for key in actual))
    elif _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            return f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path
        return _first_failure(_compare(a, e, path + (index,), options)
                              for index, (a, e) in enumerate(zip(actual, expected)))
    else:
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")
    return None if message is None else (message, path)


def _is_sequence(value):
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, (str, bytes))


def _first_failure(failures):
    return next((failure for failure in failures if failure is not None), None)


def _tolerances(dtype, options, is_bfloat16=False):
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    return _BFLOAT16_TOLERANCES if is_bfloat16 else _DEFAULT_TOLERANCES.get(np.dtype(dtype), (0, 0))


def _compare_arrays(actual, expected, options):
    for attribute in ("shape",) + (("device",) if options["check_device"] else ()) + \
            (("dtype",) if options["check_dtype"] else ()):
        mine, theirs = _attribute(actual, attribute), _attribute(expected, attribute)
        if mine != theirs:
            mine, theirs = (repr(v) if attribute == "shape" else v for v in (mine, theirs))
            return f"The values for attribute '{attribute}' do not match: {mine} != {theirs}."
    a, e = _host(actual), _host(expected)
    rtol, atol = (max(pair) for pair in zip(_tolerances(a.dtype, options, _is_bfloat16(actual)),
                                            _tolerances(e.dtype, options, _is_bfloat16(expected))))
    if a.dtype != e.dtype:
        common = _common_dtype(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    return _mismatch_message(a, e, rtol, atol, options["equal_nan"], scalars=a.ndim == 0)


def _compare_scalars(actual, expected, options):
    if isinstance(actual, np.generic):
        actual = actual.item()
    if isinstance(expected, np.generic):
        expected = expected.item()
    if options["check_dtype"] and not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        return f"The (d)types do not match: {type(actual)} != {type(expected)}."
    a, e = np.asarray(actual), np.asarray(expected)
    common = np.result_type(a, e)
    rtol, atol = (max(pair) for pair in zip(_tolerances(a.dtype, options), _tolerances(e.dtype, options)))
    return _mismatch_message(a.astype(common), e.astype(common), rtol, atol, options["equal_nan"], scalars=True)


def _common_dtype(first, second):
    """PyTorch's promotion: a floating dtype wins over an integer or bool one; else NumPy's rule."""
    if (first.kind in "fc") != (second.kind in "fc"):
        return first if first.kind in "fc" else second
    return np.result_type(first, second)


def _attribute(value, attribute):
    if attribute == "device":
        return value.device if isinstance(value, Tensor) else "cpu"
    if attribute == "shape":
        return Size(value.shape)
    return value.dtype if isinstance(value, Tensor) else f"numpy.{value.dtype}"


def _is_bfloat16(value):
    return isinstance(value, Tensor) and "bfloat16" in str(value.dtype)


def _host(value):
    array = to_numpy(value.detach().array) if isinstance(value, Tensor) else value
    return np.asarray(array)


def _mismatch_message(a, e, rtol, atol, equal_nan, scalars):
    """None when every element is close, else PyTorch's report of the mismatch."""
    if a.dtype.kind in "bui":                      # exact types: differences as signed integers
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        difference = np.abs(a - e)
        close = (a == e) | (difference <= atol + rtol * np.abs(e)) if a.dtype.kind in "fc" else a == e
        if equal_nan and a.dtype.kind in "fc":
            close |= np.isnan(a) & np.isnan(e)
        if close.all():
            return None
        float_type = np.float32 if a.dtype.kind == "i" else difference.dtype
        relative = difference.astype(float_type) / np.abs(e).astype(float_type)
    exact = rtol == 0 and atol == 0
    kind = "equal" if exact else "close"
    allowed = (lambda tolerance: "") if exact else (lambda tolerance: f" (up to {tolerance} allowed)")
    if scalars:   # differences of the Python numbers
        got, want = a.item(), e.item()
        absolute = abs(got - want)
        relative = absolute / abs(want) if want != 0 else (float("nan") if absolute != absolute else float("inf"))
        return (f"Scalars are not {kind}!\n\nExpected {want} but got {got}.\n"
                f"Absolute difference: {absolute}{allowed(atol)}\n"
                f"Relative difference: {relative}{allowed(rtol)}")
    mismatched, total = int((~close).sum()), close.size
    abs_value, abs_index = _greatest(difference)
    rel_value, rel_index = _greatest(relative)
    return (f"Tensor-likes are not {kind}!\n\nMismatched elements: {mismatched} / {total} "
            f"({100 * mismatched / total:.1f}%)\n"
            f"Greatest absolute difference: {abs_value} at index {abs_index}{allowed(atol)}\n"
            f"Greatest relative difference: {rel_value} at index {rel_index}{allowed(rtol)}")


def _greatest(values):
    """(the largest value, or the first NaN, as a Python number; its index as a tuple)."""
    flat = values.reshape(-1)
    nans = np.flatnonzero(np.isnan(flat)) if flat.dtype.kind == "f" else ()
    position = int(nans[0]) if len(nans) else int(np.argmax(flat))
    return flat[position].item(), tuple(int(i) for i in np.unravel_index(position, values.shape))

