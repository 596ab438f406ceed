"""Sine, cosine and their hyperbolic forms: positional encodings and rotary embeddings use them.

    sin' = cos,  cos' = -sin,  sinh' = cosh,  cosh' = sinh
"""

from __future__ import annotations

from minidl.core import Function
from minidl.core.backend import array_module


class Sin(Function):
    """z = sin x;  dz/dx = cos x"""

    def forward(self, x):
        self.save(x)
        return array_module(x).sin(x)

    def backward(self, g):
        (x,) = self.saved
        return g * array_module(x).cos(x)


class Cos(Function):
    """z = cos x;  dz/dx = -sin x"""

    def forward(self, x):
        self.save(x)
        return array_module(x).cos(x)

    def backward(self, g):
        (x,) = self.saved
        return -g * array_module(x).sin(x)


class Sinh(Function):
    """z = sinh x = (eˣ - e⁻ˣ)/2;  dz/dx = cosh x"""

    def forward(self, x):
        self.save(x)
        return array_module(x).sinh(x)

    def backward(self, g):
        (x,) = self.saved
        return g * array_module(x).cosh(x)


class Cosh(Function):
    """z = cosh x = (eˣ + e⁻ˣ)/2;  dz/dx = sinh x"""

    def forward(self, x):
        self.save(x)
        return array_module(x).cosh(x)

    def backward(self, g):
        (x,) = self.saved
        return g * array_module(x).sinh(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def sinh(x):
    return Sinh.apply(x)


def cosh(x):
    return Cosh.apply(x)
