"""Padding layers, as PyTorch's: each one ``F.pad`` with a fixed padding and mode.

``padding`` is an int (the same on every side) or a tuple, last dim first: (left, right) for the
1-D layers, (left, right, top, bottom) for the 2-D ones. Modes (see ``F.pad``): constant (ZeroPad,
ConstantPad; negative widths crop), reflect (the border value itself not repeated: ... 2 1 [0 1 2]
1 0 ...), replicate (the border value repeated) and circular (wrapping around).
"""

from __future__ import annotations

from minidl.core.arguments import integer, number
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn.module import Module


def _padding(padding, sides, where):
    """An int as ``sides`` equal widths, or a tuple of ``sides`` ints."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * sides
    if not isinstance(padding, (tuple, list)) or len(padding) != sides:
        raise ValueError(f"{where}: padding must be an int or a tuple of {sides} ints, got {padding!r}")
    return tuple(integer(p, where, "padding") for p in padding)


class _PadNd(Module):
    """F.pad(x, padding, mode) over the last ``spatial`` dims."""

    spatial = 1
    mode = "constant"
    value = 0.0  # the fill of constant padding

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, 2 * self.spatial, type(self).__name__)

    def forward(self, x):
        dims = (self.spatial + 1, self.spatial + 2)
        if self.mode != "constant" and x.ndim not in dims:
            raise ShapeError(f"{type(self).__name__}: expected {dims[0]}-D or {dims[1]}-D (batched) input, got "
                             f"shape {tuple(x.shape)}")
        return F.pad(x, self.padding, self.mode, self.value)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = number(value, type(self).__name__, "value")

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: padding (left, right)."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``: padding (left, right, top, bottom)."""

    spatial = 2


class ZeroPad1d(ConstantPad1d):
    """Pads the last dim with zeros: padding (left, right)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dims with zeros: padding (left, right, top, bottom)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pads (C, W) or (N, C, W) input with the reflection of the values next to the border."""

    mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pads (C, H, W) or (N, C, H, W) input with the reflection of the values next to the border."""

    spatial, mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads (C, W) or (N, C, W) input with copies of the border value."""

    mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pads (C, H, W) or (N, C, H, W) input with copies of the border values."""

    spatial, mode = 2, "replicate"


class CircularPad1d(_PadNd):
    """Pads (C, W) or (N, C, W) input by wrapping around: the left padding repeats the right end."""

    mode = "circular"


class CircularPad2d(_PadNd):
    """Pads (C, H, W) or (N, C, H, W) input by wrapping around in both dims."""

    spatial, mode = 2, "circular"
