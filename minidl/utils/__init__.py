"""``minidl.utils``: PyTorch's layout for the data utilities (``minidl.utils.data``)."""

from minidl.utils import data  # noqa: F401
from minidl.utils import checkpoint  # noqa: F401  (activation checkpointing)
