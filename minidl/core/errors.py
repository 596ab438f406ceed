"""The errors minidl raises for user mistakes, each with a message that names the op."""


class MinidlError(Exception):
    """Base class of minidl's own errors."""


class ShapeError(MinidlError, ValueError):
    """Input shapes that an op cannot work with (names the op and every shape)."""


class DeviceError(MinidlError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class AutogradError(MinidlError, RuntimeError):
    """Misuse of backward(): a freed graph, a non-scalar without a gradient, an in-place edit."""
