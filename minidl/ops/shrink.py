"""Shrinkage activations, as PyTorch's: hardshrink and softshrink.

Both zero the band |x| ≤ λ. Hardshrink keeps everything outside it as it is; softshrink moves it
toward zero by λ (the proximal step of λ·|x|, used in sparse coding). At the band's edges
x = ±λ both output 0 with gradient 0, as PyTorch's.
"""

from __future__ import annotations

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.ops.common import is_tensor


class HardShrink(Function):
    """z = x if |x| > λ else 0;  dz/dx = 1 if |x| > λ else 0"""

    def forward(self, x, lambd):
        outside = abs(x) > lambd
        self.save(outside)
        return x * outside

    def backward(self, g):
        (outside,) = self.saved
        return g * outside


class SoftShrink(Function):
    """z = x - λ if x > λ, x + λ if x < -λ, else 0;  dz/dx = 1 if |x| > λ else 0"""

    def forward(self, x, lambd):
        xp = array_module(x)
        outside = abs(x) > lambd
        self.save(outside)
        return xp.where(outside, x - xp.sign(x) * x.dtype.type(lambd), x * 0)  # x·0 keeps NaN, as PyTorch

    def backward(self, g):
        (outside,) = self.saved
        return g * outside


def _floating(input, op):  # noqa: A002
    if not is_tensor(input):
        raise TypeError(f"{op}: expected a tensor, got {type(input).__name__}")
    if input.dtype.kind not in "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {input.dtype}")
    return input


def hardshrink(input, lambd=0.5):  # noqa: A002 (PyTorch's names)
    """x where |x| > lambd, else 0, as ``torch.nn.functional.hardshrink``."""
    lambd = arguments.number(lambd, "hardshrink", "lambd")
    return HardShrink.apply(_floating(input, "hardshrink"), lambd=lambd)


def softshrink(input, lambd=0.5):  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, else 0; lambd must be ≥ 0, as in PyTorch."""
    lambd = arguments.number(lambd, "softshrink", "lambd")
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be greater or equal to 0, but found to be {lambd}")
    return SoftShrink.apply(_floating(input, "softshrink"), lambd=lambd)
