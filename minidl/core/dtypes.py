"""Element types. minidl's dtypes are NumPy's; the default floating type is float32."""

import builtins

import numpy as np


class DType:
    """A tensor's element type, shown as PyTorch shows it (``minidl.float32``).

    Inside is a NumPy dtype (``.numpy``); NumPy and CuPy accept a DType wherever they take a dtype (they
    read its ``dtype`` attribute), and it compares equal to the NumPy dtype, scalar type and name it stands
    for. There is one DType per element type, so ``x.dtype is minidl.float32`` holds as in PyTorch.
    """

    __slots__ = ("dtype",)
    _all: dict = {}

    def __new__(cls, value):
        dtype = np.dtype(value)
        known = cls._all.get(dtype)
        if known is None:
            known = cls._all[dtype] = object.__new__(cls)
            known.dtype = dtype
        return known

    numpy = property(lambda self: self.dtype, doc="The NumPy dtype.")
    kind = property(lambda self: self.dtype.kind)
    itemsize = property(lambda self: self.dtype.itemsize)
    name = property(lambda self: self.dtype.name)
    type = property(lambda self: self.dtype.type)
    char = property(lambda self: self.dtype.char)
    is_floating_point = property(lambda self: self.dtype.kind == "f")
    is_complex = property(lambda self: self.dtype.kind == "c")
    is_signed = property(lambda self: self.dtype.kind in "fic")

    def __eq__(self, other):
        if other is None or isinstance(other, (builtins.bool, builtins.int, builtins.float)):
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"minidl.{'bool' if self.dtype.kind == 'b' else self.dtype.name}"

    def __reduce__(self):
        return DType, (self.dtype.str,)


class UnsupportedDType:
    """A PyTorch dtype minidl does not compute in (``minidl.bfloat16``): a program may name it (in a
    table of dtypes, as autocast's argument), and using it for a tensor raises a TypeError saying so."""

    __slots__ = ("name", "instead")

    def __init__(self, name, instead):
        self.name, self.instead = name, instead

    def __repr__(self):
        return f"minidl.{self.name}"

    is_floating_point = property(lambda self: True)


def dtype_of(array):
    """The DType of a NumPy or CuPy array's elements."""
    return DType._all.get(array.dtype) or DType(array.dtype)


float16 = half = DType(np.float16)
float32 = float = DType(np.float32)
float64 = double = DType(np.float64)
int8 = DType(np.int8)
int16 = short = DType(np.int16)
int32 = int = DType(np.int32)  # noqa: A001 (PyTorch's name, minidl.int)
int64 = long = DType(np.int64)
uint8 = DType(np.uint8)
uint16 = DType(np.uint16)
uint32 = DType(np.uint32)
uint64 = DType(np.uint64)
bool_ = DType(np.bool_)
bfloat16 = UnsupportedDType("bfloat16", "minidl computes in float32 (default) or float64 and has no bfloat16; "
                            "use minidl.float32")

_default_dtype = [np.dtype(np.float32)]


def get_default_dtype():
    """The dtype of tensors created from Python floats (float32 unless changed)."""
    return DType(_default_dtype[0])


def set_default_dtype(dtype):
    """Set the dtype of new floating tensors: float32 (default) or float64."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default_dtype[0] = dtype


_KINDS = "biufc"  # bool, signed and unsigned int, float, complex: the element types a tensor can hold


def as_dtype(value, where, name="dtype"):
    """``value`` (a NumPy dtype, scalar type or name such as "float32") as a ``np.dtype`` of a kind a
    tensor can hold; a TypeError naming ``where`` and the value otherwise (strings, objects, unknown names)."""
    if isinstance(value, UnsupportedDType):
        raise TypeError(f"{where}: {name} {value!r}: {value.instead}")
    try:
        dtype = np.dtype(value) if value is not None else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in _KINDS:
        raise TypeError(f"{where}: {name} must be a numeric or bool dtype such as minidl.float32, minidl.int64 "
                        f"or minidl.bool_, got {value!r}")
    return dtype
