"""``minidl.utils``: PyTorch's layout for the data utilities (``minidl.utils.data``)."""

from minidl.utils import data  # noqa: F401
