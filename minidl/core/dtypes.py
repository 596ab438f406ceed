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
