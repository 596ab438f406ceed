"""Rounding and division with remainder, as PyTorch's: sign, floor, ceil, round, trunc, floor_divide,
remainder and fmod.

sign, floor, ceil, round, trunc and floor_divide are step functions: flat between their jumps, so
their derivative is 0 wherever it exists, and minidl passes back 0 everywhere (at the jumps too).
PyTorch does the same for the first five; for floor_divide it has no derivative and raises at
backward, where minidl gives the same zeros.

remainder and fmod are the part of a left over after taking whole multiples of b, rounded down
(remainder: the sign of b, Python's %) or toward zero (fmod: the sign of a, C's fmod):
    remainder(a, b) = a - b·⌊a/b⌋:        ∂/∂a = 1,  ∂/∂b = -⌊a/b⌋
    fmod(a, b)      = a - b·trunc(a/b):   ∂/∂a = 1,  ∂/∂b = -trunc(a/b)
Integer tensors stay integer; an integer division by zero raises ZeroDivisionError, as in PyTorch.
"""

from __future__ import annotations

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import DeviceError
from minidl.ops.common import binary_operands, is_tensor, quietly, wrap


class Step(Function):
    """z = a step function of the inputs (sign, floor, ceil, round, trunc, floor_divide);  dz/d(each input) = 0"""

    def forward(self, *arrays, step, name):
        self.name = name
        with quietly(arrays[0]):
            return step(*arrays)

    def backward(self, g):
        zero = array_module(g).zeros_like(g)
        return (zero,) * len(self.inputs)


class Remainder(Function):
    """z = a - b·⌊a/b⌋ (the sign of b);  dz/da = 1,  dz/db = -⌊a/b⌋"""

    def forward(self, a, b):
        self.save(a, b)
        with quietly(a):
            return array_module(a).remainder(a, b)

    def backward(self, g):
        a, b = self.saved
        if not self.needs_grad[1]:
            return g, None
        with quietly(g):
            return g, -g * array_module(a).floor_divide(a, b)


class Fmod(Function):
    """z = a - b·trunc(a/b) (the sign of a);  dz/da = 1,  dz/db = -trunc(a/b)"""

    def forward(self, a, b):
        self.save(a, b)
        with quietly(a):
            return array_module(a).fmod(a, b)

    def backward(self, g):
        a, b = self.saved
        if not self.needs_grad[1]:
            return g, None
        with quietly(g):
            return g, -g * array_module(a).trunc(a / b)


# --- functional forms -------------------------------------------------------------

def _step(input, name, step):  # noqa: A002 (PyTorch's names)
    """``step`` of a floating tensor; an integer or bool tensor is its own floor, ceil, round and trunc."""
    if not is_tensor(input):
        raise TypeError(f"{name}: expected a tensor, got {type(input).__name__}")
    if input.array.dtype.kind not in "fc":
        return wrap(input.array.copy())
    return Step.apply(input, step=step, name=name)


def sign(input):  # noqa: A002
    """-1, 0 or 1 by the sign of each element (0 for 0; NaN stays NaN)."""
    if is_tensor(input) and input.array.dtype.kind in "iu":
        return wrap(array_module(input.array).sign(input.array))
    return _step(input, "sign", lambda x: array_module(x).sign(x))


def floor(input):  # noqa: A002
    return _step(input, "floor", lambda x: array_module(x).floor(x))


def ceil(input):  # noqa: A002
    return _step(input, "ceil", lambda x: array_module(x).ceil(x))


def trunc(input):  # noqa: A002
    """Each element rounded toward zero."""
    return _step(input, "trunc", lambda x: array_module(x).trunc(x))


def round(input, *, decimals=0):  # noqa: A001, A002
    """Each element rounded to ``decimals`` decimal places (negative: to tens, hundreds ...);
    halves go to the even neighbour, as in PyTorch and NumPy."""
    decimals = arguments.integer(decimals, "round", "decimals")
    if is_tensor(input) and input.array.dtype.kind in "iu" and decimals < 0:  # to tens, hundreds ... of integers
        return wrap(array_module(input.array).round(input.array, decimals))
    if decimals == 0:
        return _step(input, "round", lambda x: array_module(x).round(x))
    return _step(input, "round", lambda x: array_module(x).round(x, decimals))


def _division_operands(input, other, op):  # noqa: A002
    a, b = binary_operands(input, other)
    if type(a.array) is not type(b.array):
        raise DeviceError(f"{op}: expected all tensors on the same device, got tensors on {a.device} and "
                          f"{b.device}")
    if a.array.dtype.kind in "biu" and b.array.dtype.kind in "biu" and b.array.size and not bool((b.array != 0).all()):
        raise ZeroDivisionError(f"{op}: integer division by zero (a divisor in 'other' is 0)")
    return a, b


def floor_divide(input, other):  # noqa: A002
    """⌊input / other⌋ elementwise (rounded toward -inf, as PyTorch's floor_divide and Python's //)."""
    a, b = _division_operands(input, other, "floor_divide")
    return Step.apply(a, b, step=lambda x, y: array_module(x).floor_divide(x, y), name="floor_divide")


def remainder(input, other):  # noqa: A002
    """input - other·⌊input / other⌋: the remainder with the sign of ``other`` (Python's %)."""
    return Remainder.apply(*_division_operands(input, other, "remainder"))


def fmod(input, other):  # noqa: A002
    """input - other·trunc(input / other): the remainder with the sign of ``input`` (C's fmod)."""
    return Fmod.apply(*_division_operands(input, other, "fmod"))
