"""Neural-network building blocks. ``minidl.nn.functional`` holds the functional forms."""

from minidl.nn import functional

__all__ = ["functional"]
