"""Element types. minidl's dtypes are NumPy's; the default floating type is float32."""

import numpy as np

float16 = half = np.float16
float32 = float = np.float32
float64 = double = np.float64
int8 = np.int8
int16 = np.int16
int32 = np.int32
int64 = long = np.int64
uint8 = np.uint8
bool_ = np.bool_

_default_dtype = [np.dtype(np.float32)]


def get_default_dtype():
    """The dtype of tensors created from Python floats (float32 unless changed)."""
    return _default_dtype[0]


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
    try:
        dtype = np.dtype(value) if value is not None else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in _KINDS:
        raise TypeError(f"{where}: {name} must be a numeric or bool dtype such as minidl.float32, minidl.int64 "
                        f"or minidl.bool_, got {value!r}")
    return dtype
