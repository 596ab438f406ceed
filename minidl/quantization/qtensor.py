"""Quantized numbers: an 8-bit integer q stands for the real value r = s · (q − z).

    quantize:    q = clamp(round(r / s) + z, q_min, q_max)        (round half to even)
    dequantize:  r̂ = s · (q − z)

s (the scale) is the real size of one integer step, z (the zero point) the integer that stands
for 0.0, so real zeros (padding, ReLU outputs) are exact. *Affine* quantization fits any range
[min, max] (activations: quint8, 0..255); *symmetric* quantization fixes z = 0 and fits
[−max|r|, max|r|] (weights: qint8, −128..127), which keeps the integer product simple. A scale may
be one per tensor or one per channel (a weight's output rows): per-channel scales follow each
row's own range. Within the range the error |r − r̂| is at most s/2, half a step.

The integer matrix product (:func:`int_matmul`) multiplies 8-bit values and sums the products in
int32, as int8 hardware instructions do; NumPy has no int8 BLAS, so it runs its generic integer
loops, far slower than float32 BLAS (chapter 10 measures it).
"""

from __future__ import annotations

import numbers

import numpy as np

from minidl.core.backend import array_module
from minidl.core.creation import as_tensor
from minidl.core.errors import ShapeError
from minidl.core.tensor import Tensor


class QDType:
    """An 8-bit quantized type: its storage dtype and integer range (PyTorch's ``torch.qint8``, ``torch.quint8``)."""

    def __init__(self, name, storage, quant_min, quant_max):
        self.name, self.storage, self.quant_min, self.quant_max = name, np.dtype(storage), quant_min, quant_max

    def __repr__(self):
        return f"minidl.quantization.{self.name}"


qint8 = QDType("qint8", np.int8, -128, 127)
quint8 = QDType("quint8", np.uint8, 0, 255)
QSCHEMES = ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric")
per_tensor_affine, per_tensor_symmetric, per_channel_affine, per_channel_symmetric = QSCHEMES


def as_qdtype(value, where):
    """qint8 or quint8 (minidl.int8 / minidl.uint8 and NumPy's int8 / uint8 name them too)."""
    if isinstance(value, QDType):
        return value
    try:
        storage = np.dtype(getattr(value, "dtype", value))
    except TypeError:
        storage = None
    if storage == np.int8:
        return qint8
    if storage == np.uint8:
        return quint8
    raise TypeError(f"{where}: dtype must be minidl.quantization.qint8 or quint8, got {value!r}")


def quant_range(dtype, reduce_range=False, quant_min=None, quant_max=None, where="quantization"):
    """(q_min, q_max): the dtype's range, one bit narrower with ``reduce_range``, or a custom sub-range."""
    low, high = dtype.quant_min, dtype.quant_max
    if reduce_range:
        low, high = (low // 2, high // 2) if dtype is qint8 else (0, 127)
    if quant_min is not None or quant_max is not None:
        if quant_min is None or quant_max is None or not dtype.quant_min <= quant_min < quant_max <= dtype.quant_max:
            raise ValueError(f"{where}: quant_min and quant_max must both be given with {dtype.quant_min} <= "
                             f"quant_min < quant_max <= {dtype.quant_max}, got {quant_min} and {quant_max}")
        low, high = int(quant_min), int(quant_max)
    return low, high


def _along(values, axis, ndim):
    """Per-channel values shaped to broadcast along ``axis`` of an ``ndim``-dim array."""
    shape = [1] * ndim
    shape[axis] = -1
    return values.reshape(shape)


def quantize_array(r, scale, zero_point, quant_min, quant_max, storage, axis=None):
    """q = clamp(round(r · (1/s)) + z, q_min, q_max) as ``storage`` integers; s, z per channel along ``axis``."""
    xp = array_module(r)
    scale, zero_point = xp.asarray(scale, dtype=np.float64), xp.asarray(zero_point, dtype=np.int64)
    if axis is not None:
        scale, zero_point = _along(scale, axis, r.ndim), _along(zero_point, axis, r.ndim)
    q = xp.rint(r * (1.0 / scale).astype(r.dtype)) + zero_point
    return xp.clip(q, quant_min, quant_max).astype(storage)


def dequantize_array(q, scale, zero_point, axis=None, dtype=np.float32):
    """r̂ = s · (q − z), as ``dtype``."""
    xp = array_module(q)
    scale, zero_point = xp.asarray(scale, dtype=dtype), xp.asarray(zero_point, dtype=np.int32)
    if axis is not None:
        scale, zero_point = _along(scale, axis, q.ndim), _along(zero_point, axis, q.ndim)
    return ((q.astype(np.int32) - zero_point) * scale).astype(dtype)


def int_matmul(a, b):
    """a @ b for 8-bit integer matrices (a: (..., K), b: (K, N)), every product summed in int32.

    A product of two 8-bit values has at most 16 bits, so K ≤ 65,793 of them always fit in int32.
    """
    if a.dtype not in (np.int8, np.uint8) or b.dtype not in (np.int8, np.uint8):
        raise TypeError(f"int_matmul: expects int8 or uint8 matrices, got {a.dtype} and {b.dtype}")
    if a.shape[-1] != b.shape[0]:
        raise ShapeError(f"int_matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                         f"({a.shape[-1]} != {b.shape[0]})")
    if a.shape[-1] > (2 ** 31 - 1) // (255 * 128):
        raise ValueError(f"int_matmul: {a.shape[-1]} products per sum could overflow int32")
    return a.astype(np.int32) @ b.astype(np.int32)


class QuantizedTensor:
    """Integers and the (scale, zero point) they are read with; PyTorch's quantized tensor methods."""

    def __init__(self, int_values, scale, zero_point, dtype, axis=None):
        self._q, self._scale, self._zero_point = int_values, scale, zero_point
        self.dtype, self._axis = dtype, axis

    shape = property(lambda self: tuple(self._q.shape))

    def int_repr(self):
        """The stored integers, as an int8 / uint8 tensor."""
        return as_tensor(self._q)

    def qscheme(self):
        symmetric = self.dtype is qint8 and not np.any(np.asarray(self._zero_point))
        return ("per_channel_" if self._axis is not None else "per_tensor_") + (
            "symmetric" if symmetric else "affine")

    def q_scale(self):
        self._per_tensor("q_scale")
        return float(self._scale)

    def q_zero_point(self):
        self._per_tensor("q_zero_point")
        return int(self._zero_point)

    def q_per_channel_scales(self):
        return as_tensor(np.asarray(self._scale, dtype=np.float64))

    def q_per_channel_zero_points(self):
        return as_tensor(np.asarray(self._zero_point, dtype=np.int64))

    def q_per_channel_axis(self):
        return self._axis

    def dequantize(self):
        return as_tensor(dequantize_array(self._q, self._scale, self._zero_point, self._axis))

    def _per_tensor(self, method):
        if self._axis is not None:
            raise RuntimeError(f"{method}: this tensor is quantized per channel; use q_per_channel_scales() and "
                               "q_per_channel_zero_points()")

    def __repr__(self):
        return (f"QuantizedTensor(shape={self.shape}, dtype={self.dtype!r}, qscheme={self.qscheme()}, "
                f"scale={self._scale}, zero_point={self._zero_point})")


def _values(input, where):  # noqa: A002
    data = input.array if isinstance(input, Tensor) else np.asarray(input)
    if data.dtype.kind != "f":
        raise TypeError(f"{where}: expects a floating-point tensor, got dtype {data.dtype}")
    return data


def quantize_per_tensor(input, scale, zero_point, dtype):  # noqa: A002
    """``input`` as integers of ``dtype`` (qint8 / quint8) with one scale and zero point."""
    dtype = as_qdtype(dtype, "quantize_per_tensor")
    if not isinstance(scale, numbers.Real) or not scale > 0:
        raise ValueError(f"quantize_per_tensor: scale must be a positive number, got {scale!r}")
    q = quantize_array(_values(input, "quantize_per_tensor"), scale, zero_point, dtype.quant_min, dtype.quant_max,
                       dtype.storage)
    return QuantizedTensor(q, float(scale), int(zero_point), dtype)


def quantize_per_channel(input, scales, zero_points, axis, dtype):  # noqa: A002
    """``input`` as integers of ``dtype`` with one scale and zero point per index along ``axis``."""
    dtype = as_qdtype(dtype, "quantize_per_channel")
    data = _values(input, "quantize_per_channel")
    scales = np.asarray(scales.array if isinstance(scales, Tensor) else scales, dtype=np.float64)
    zero_points = np.asarray(zero_points.array if isinstance(zero_points, Tensor) else zero_points, dtype=np.int64)
    if not -data.ndim <= axis < data.ndim:
        raise IndexError(f"quantize_per_channel: axis {axis} is out of range for a tensor of shape {tuple(data.shape)}")
    if scales.shape != (data.shape[axis],) or zero_points.shape != scales.shape:
        raise ShapeError(f"quantize_per_channel: expected {data.shape[axis]} scales and zero points for axis {axis} "
                         f"of shape {tuple(data.shape)}, got shapes {scales.shape} and {zero_points.shape}")
    if not (scales > 0).all():
        raise ValueError("quantize_per_channel: every scale must be positive")
    axis %= data.ndim
    q = quantize_array(data, scales, zero_points, dtype.quant_min, dtype.quant_max, dtype.storage, axis)
    return QuantizedTensor(q, scales, zero_points, dtype, axis)
