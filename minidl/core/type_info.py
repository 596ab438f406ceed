"""The limits of minidl's number types, as PyTorch's ``finfo`` and ``iinfo``: NumPy's answers for the
dtype, as Python numbers, with PyTorch's attribute names.

    minidl.finfo(minidl.float32).eps    # 1.1920928955078125e-07: the gap between 1 and the next float
    minidl.iinfo(minidl.int64).max      # 9223372036854775807
"""

from __future__ import annotations

import numpy as np

from minidl.core.dtypes import UnsupportedDType, as_dtype, dtype_of, get_default_dtype


class finfo:  # noqa: N801 (PyTorch's name)
    """Limits of a floating dtype (the default dtype when none is given).

    bits, eps (1 ulp at 1.0), max, min (= -max), tiny and smallest_normal (the smallest positive
    normal number), resolution (10^-precision, the decimal digits it holds), dtype (its name).
    """

    def __init__(self, type=None):  # noqa: A002 (PyTorch's name)
        if isinstance(type, UnsupportedDType):
            raise TypeError(f"finfo: {type!r}: {type.instead}")
        dtype = np.dtype(get_default_dtype().numpy if type is None else as_dtype(type, "finfo", "type"))
        if dtype.kind != "f":
            raise TypeError(f"finfo: expects a floating dtype such as minidl.float32, got "
                            f"{dtype_of(np.empty(0, dtype))}; use minidl.iinfo for integer dtypes")
        info = np.finfo(dtype)
        self.bits = int(info.bits)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # as PyTorch computes it (NumPy rounds to the dtype)
        self.dtype = dtype.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801
    """Limits of an integer dtype: bits, max, min and dtype (its name)."""

    def __init__(self, type):  # noqa: A002
        dtype = np.dtype(as_dtype(type, "iinfo", "type"))
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: expects an integer dtype such as minidl.int64, got "
                            f"{dtype_of(np.empty(0, dtype))}; use minidl.finfo for floating dtypes")
        info = np.iinfo(dtype)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(info.min), dtype.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
