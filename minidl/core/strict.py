"""A strict CPU array type that behaves like a GPU array.

CuPy arrays refuse to turn into NumPy arrays behind your back: ``np.asarray``,
mixing with a NumPy array in an operation, or passing one to a NumPy function
raises ``TypeError``. Code that works on NumPy may therefore still break on a
GPU. :class:`StrictArray` wraps a NumPy array and refuses the same things, so
the whole op test suite can run on device ``"strict"`` and catch such bugs on
any machine.

This module doubles as the array module of the strict device
(``xp = minidl.core.strict``): ``xp.zeros``, ``xp.exp``, ``xp.where``,
``xp.lib.stride_tricks.as_strided`` ... all return strict arrays.
Allowed, as in CuPy: explicit transfers (``xp.asarray(numpy_array)``,
``strict_array.get()``), NumPy scalars, and NumPy integer or boolean arrays as
indices.
"""

from __future__ import annotations

import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_REFUSED = ("Implicit conversion of a strict (device) array to a NumPy array is not allowed; "
            "use .get() to copy it to the host explicitly")


class StrictArray(NDArrayOperatorsMixin):
    """A NumPy array that refuses implicit conversion to NumPy, like ``cupy.ndarray``."""

    __slots__ = ("_array",)
    __array_priority__ = 100

    def __init__(self, array):
        self._array = array

    # --- refused conversions -------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_REFUSED)

    def __iter__(self):
        return (wrap(row) for row in self._array)

    # --- dispatch: unwrap, run NumPy, wrap ------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "at":  # ufunc.at(target, indices, values): indices may live on the host
            inputs = (unwrap(inputs[0], ufunc.__name__), unwrap_index(inputs[1])) + \
                tuple(unwrap(inputs[2:], ufunc.__name__))
        else:
            inputs = unwrap(inputs, ufunc.__name__)
        if "out" in kwargs:
            kwargs["out"] = unwrap(kwargs["out"], ufunc.__name__)
        return wrap(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        return wrap(func(*unwrap(args, func.__name__), **unwrap(kwargs, func.__name__)))

    # --- the ndarray interface ------------------------------------------------
    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    strides = property(lambda self: self._array.strides)
    itemsize = property(lambda self: self._array.itemsize)
    nbytes = property(lambda self: self._array.nbytes)
    flags = property(lambda self: self._array.flags)
    T = property(lambda self: StrictArray(self._array.T))
    mT = property(lambda self: StrictArray(self._array.mT))

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):  # never __array_interface__, __array_struct__ ...
            raise AttributeError(name)
        attribute = getattr(self._array, name)
        if callable(attribute):
            def method(*args, **kwargs):
                return wrap(attribute(*unwrap(args, name), **unwrap(kwargs, name)))
            return method
        return wrap(attribute)

    def __getitem__(self, index):
        return wrap(self._array[unwrap_index(index)])

    def __setitem__(self, index, value):
        self._array[unwrap_index(index)] = unwrap(value, "__setitem__")

    def __len__(self):
        return len(self._array)

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __bool__(self):
        return bool(self._array)

    def __index__(self):
        raise TypeError("a strict (device) array cannot be used as a Python index; call int() on it")

    def __repr__(self):
        return "strict_" + repr(self._array)

    __hash__ = None

    def get(self):
        """Copy to a NumPy array (the explicit device -> host transfer, as in CuPy)."""
        return self._array.copy()

    def item(self):
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def __copy__(self):
        return StrictArray(self._array.copy())

    def __deepcopy__(self, memo):
        return StrictArray(self._array.copy())


def wrap(value):
    """Wrap NumPy arrays and scalars (also inside tuples and lists) as strict arrays.

    Reductions return 0-d device arrays in CuPy, never host scalars; so do these.
    """
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(item) for item in value)
    if isinstance(value, list):
        return [wrap(item) for item in value]
    return value


def unwrap(value, where):
    """Unwrap strict arrays for NumPy; refuse plain NumPy arrays, as CuPy does."""
    if isinstance(value, StrictArray):
        return value._array
    if isinstance(value, np.ndarray):
        raise TypeError(f"{where}: a NumPy array cannot be mixed with strict (device) arrays; "
                        "move it to the device first")
    if isinstance(value, (tuple, list)):
        return type(value)(unwrap(item, where) for item in value)
    if isinstance(value, dict):
        return {key: unwrap(item, where) for key, item in value.items()}
    return value


def unwrap_index(index):
    """Indices may be strict arrays or host integer/boolean arrays (CuPy copies those to the device)."""
    if isinstance(index, StrictArray):
        return index._array
    if isinstance(index, tuple):
        return tuple(unwrap_index(item) for item in index)
    return index


# --- the module interface: ``minidl.core.strict`` used like ``numpy`` or ``cupy`` ---

_TRANSFERS = {"asarray", "array", "ascontiguousarray", "asanyarray"}


def _wrapped_function(name, function):
    def call(*args, **kwargs):
        if name in _TRANSFERS and args and isinstance(args[0], np.ndarray):
            args = (args[0],) + tuple(unwrap(args[1:], name))  # explicit host -> device copy
        else:
            args = unwrap(args, name)
        return wrap(function(*args, **unwrap(kwargs, name)))
    call.__name__ = name
    return call


class _Namespace(types.ModuleType):
    """Mirror of a NumPy (sub)module whose functions take and return strict arrays."""

    def __init__(self, source):
        super().__init__(source.__name__.replace("numpy", "minidl.core.strict"))
        self._source = source

    def __getattr__(self, name):
        attribute = getattr(self._source, name)
        if isinstance(attribute, types.ModuleType):
            attribute = _Namespace(attribute)
        elif isinstance(attribute, (type, np.ufunc)) or not callable(attribute):
            pass  # dtypes, ufuncs (they dispatch through __array_ufunc__) and constants
        else:
            attribute = _wrapped_function(name, attribute)
        setattr(self, name, attribute)
        return attribute


_numpy_mirror = _Namespace(np)


def __getattr__(name):
    """Module-level attribute access: ``minidl.core.strict.zeros`` mirrors ``numpy.zeros``."""
    return getattr(_numpy_mirror, name)


def asarray(value, dtype=None):
    """Copy host data (NumPy array, list, scalar) to the strict device."""
    if isinstance(value, StrictArray):
        return value if dtype is None else value.astype(dtype, copy=False)
    return StrictArray(np.asarray(value, dtype=dtype))
