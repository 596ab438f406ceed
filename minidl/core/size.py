"""``minidl.Size``: a tensor's shape, a tuple of ints as PyTorch's ``torch.Size``."""

from __future__ import annotations

import math


class Size(tuple):
    """The shape of a tensor: a tuple of ints with ``numel()``, shown as ``minidl.Size([2, 3])`` by ``repr``
    and as ``(2, 3)`` in messages."""

    __slots__ = ()

    def numel(self):
        """The number of elements a tensor of this shape holds (1 for ``Size([])``)."""
        return math.prod(self)

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __repr__(self):
        return f"minidl.Size({list(self)})"

    def __str__(self):  # in messages and f-strings a shape reads as a plain tuple: (2, 3)
        return tuple.__repr__(self)
