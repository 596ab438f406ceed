"""Fake quantization for quantization-aware training: round to the int8 grid, but stay in float.

    fake_quant(x) = s · (clamp(round(x/s) + z, q_min, q_max) − z)

The forward pass sees exactly the values the int8 model will compute with, so training learns
weights that survive the rounding. Rounding has gradient 0 almost everywhere, so the backward
pass uses the **straight-through estimator** (STE): the gradient passes unchanged where x lies
inside the grid's range and is 0 where it was clamped,

    d fake_quant / dx ≈ 1  if q_min ≤ round(x/s) + z ≤ q_max,  else 0,

as PyTorch's ``fake_quantize_per_tensor_affine`` does. :class:`FakeQuantize` pairs it with an
observer that keeps choosing s and z from the values seen during training.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function
from minidl.core.backend import array_module, to_device, to_numpy
from minidl.core.creation import as_tensor
from minidl.core.tensor import Tensor
from minidl.nn.module import Module
from minidl.quantization.observer import MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver
from minidl.quantization.qtensor import qint8


class FakeQuantizeAffine(Function):
    """y = s·(clamp(round(x/s) + z, q_min, q_max) − z);  STE: dy/dx = 1 where q_min ≤ round(x/s) + z ≤ q_max, else 0

    ``scale`` and ``zero_point`` are arrays that broadcast against x (one value, or one per channel).
    """

    name = "fake_quantize"

    def forward(self, x, scale, zero_point, quant_min, quant_max):
        xp = array_module(x)
        rounded = xp.rint(x * (1.0 / scale).astype(x.dtype)) + zero_point
        self.save((rounded >= quant_min) & (rounded <= quant_max))
        return ((xp.clip(rounded, quant_min, quant_max) - zero_point) * scale).astype(x.dtype)

    def backward(self, g):
        (inside,) = self.saved
        return g * inside


def _checked(input, scale, zero_point, quant_min, quant_max, where):  # noqa: A002
    if input.dtype.kind != "f":
        raise TypeError(f"{where}: expects a floating-point input, got dtype {input.dtype}")
    if not quant_min < quant_max:
        raise ValueError(f"{where}: quant_min ({quant_min}) must be less than quant_max ({quant_max})")
    scale = np.asarray(to_numpy(scale.array) if isinstance(scale, Tensor) else scale, dtype=np.float64)
    if not (scale > 0).all():
        raise ValueError(f"{where}: scale must be positive, got {scale}")
    zero_point = to_numpy(zero_point.array) if isinstance(zero_point, Tensor) else zero_point
    return scale, np.asarray(zero_point).astype(np.int64)


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):  # noqa: A002
    """Round ``input`` to the grid of one scale and zero point and back (straight-through gradient)."""
    scale, zero_point = _checked(input, scale, zero_point, quant_min, quant_max, "fake_quantize_per_tensor_affine")
    if scale.size != 1 or zero_point.size != 1:
        raise ValueError(f"fake_quantize_per_tensor_affine: expects one scale and zero point, got {scale.size} and "
                         f"{zero_point.size}")
    return FakeQuantizeAffine.apply(input, scale=to_device(scale.reshape(()).astype(input.dtype), input.device),
                                    zero_point=to_device(zero_point.reshape(()), input.device), quant_min=quant_min,
                                    quant_max=quant_max)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):  # noqa: A002
    """Round ``input`` to a grid per index along ``axis`` and back (straight-through gradient)."""
    scale, zero_point = _checked(input, scale, zero_point, quant_min, quant_max, "fake_quantize_per_channel_affine")
    if not -input.ndim <= axis < input.ndim or scale.shape != (input.shape[axis],) or zero_point.shape != scale.shape:
        raise ValueError(f"fake_quantize_per_channel_affine: expected one scale and zero point per index of axis "
                         f"{axis} of shape {tuple(input.shape)}, got {scale.shape} and {zero_point.shape}")
    shape = [1] * input.ndim
    shape[axis] = -1
    return FakeQuantizeAffine.apply(input, scale=to_device(scale.reshape(shape).astype(input.dtype), input.device),
                                    zero_point=to_device(zero_point.reshape(shape), input.device), quant_min=quant_min,
                                    quant_max=quant_max)


class FakeQuantize(Module):
    """Observe (update s and z from the values seen), then fake-quantize; each step can be switched off.

    ``observer`` is an observer class or factory; its keyword arguments follow (PyTorch's signature).
    """

    def __init__(self, observer=MovingAverageMinMaxObserver, **observer_kwargs):
        super().__init__()
        self.activation_post_process = observer(**observer_kwargs)
        self.quant_min, self.quant_max = self.activation_post_process.quant_min, self.activation_post_process.quant_max
        self.dtype, self.qscheme = self.activation_post_process.dtype, self.activation_post_process.qscheme
        self.ch_axis = getattr(self.activation_post_process, "ch_axis", -1)
        self.register_buffer("fake_quant_enabled", as_tensor(np.array([1], np.uint8)))
        self.register_buffer("observer_enabled", as_tensor(np.array([1], np.uint8)))
        self.register_buffer("scale", as_tensor(np.array([1.0], np.float32)))
        self.register_buffer("zero_point", as_tensor(np.array([0], np.int64)))

    @classmethod
    def with_args(cls, **kwargs):
        return lambda: cls(**kwargs)

    def enable_fake_quant(self, enabled=True):
        self.fake_quant_enabled.array[0] = int(enabled)
        return self

    def disable_fake_quant(self):
        return self.enable_fake_quant(False)

    def enable_observer(self, enabled=True):
        self.observer_enabled.array[0] = int(enabled)
        return self

    def disable_observer(self):
        return self.enable_observer(False)

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, x):
        if self.observer_enabled.array[0]:
            self.activation_post_process(x.detach())
            self.scale, self.zero_point = self.calculate_qparams()
        if not self.fake_quant_enabled.array[0]:
            return x
        if self.qscheme.startswith("per_channel"):
            return fake_quantize_per_channel_affine(x, self.scale, self.zero_point, self.ch_axis, self.quant_min,
                                                    self.quant_max)
        return fake_quantize_per_tensor_affine(x, self.scale, self.zero_point, self.quant_min, self.quant_max)

    def extra_repr(self):
        return (f"fake_quant_enabled={int(self.fake_quant_enabled.array[0])}, observer_enabled="
                f"{int(self.observer_enabled.array[0])}, quant_min={self.quant_min}, quant_max={self.quant_max}, "
                f"dtype={self.dtype!r}, qscheme={self.qscheme}")


#: weights: int8, symmetric, one scale per output channel (row), from the current weights' range
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, averaging_constant=1.0, dtype=qint8,
    qscheme="per_channel_symmetric", ch_axis=0)
#: activations: uint8, affine, one scale per tensor from moving averages of each batch's range
default_fake_quant = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver)
