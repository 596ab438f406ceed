"""Shrinkage activation layers, as PyTorch's (the functional forms are in minidl/ops/shrink.py)."""

from __future__ import annotations

from minidl.core.arguments import number
from minidl.nn.module import Module
from minidl.ops.shrink import hardshrink, softshrink


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = number(lambd, "Hardshrink", "lambd")

    def forward(self, x):
        return hardshrink(x, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd above lambd, x + lambd below -lambd, else 0 (lambd ≥ 0)."""

    def __init__(self, lambd=0.5):
        super().__init__(number(lambd, "Softshrink", "lambd", minimum=0.0))

    def forward(self, x):
        return softshrink(x, self.lambd)
