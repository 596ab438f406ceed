"""More elementwise math, with PyTorch's names: inverse trigonometry, exp and log variants, powers,
logaddexp and lerp.

    tan' = 1 + tan²        asin' = 1/√(1-x²)       acos' = -1/√(1-x²)       atan' = 1/(1+x²)
    atan2(y, x) = the angle of the point (x, y):   ∂/∂y = x/(x²+y²),   ∂/∂x = -y/(x²+y²)
    expm1 = eˣ - 1: ' = eˣ     log1p = ln(1+x): ' = 1/(1+x)     exp2 = 2ˣ: ' = 2ˣ ln 2
    log2' = 1/(x ln 2)     log10' = 1/(x ln 10)     rsqrt = x^(-1/2): ' = -½ x^(-3/2)     reciprocal' = -1/x²
    logaddexp(a, b) = ln(eᵃ + eᵇ):   ∂/∂a = σ(a - b),   ∂/∂b = σ(b - a)
    lerp(a, b, w) = a + w (b - a):   ∂/∂a = 1 - w,   ∂/∂b = w,   ∂/∂w = b - a

expm1 and log1p stay accurate near 0 where eˣ - 1 and ln(1 + x) would lose every digit. Bool and
integer inputs compute in the default float dtype, as in PyTorch.
"""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.dtypes import get_default_dtype
from minidl.core.backend import array_module
from minidl.ops.activation import stable_sigmoid
from minidl.ops.arithmetic import clamp, pow
from minidl.ops.common import as_tensor, binary_operands, is_tensor


class Tan(Function):
    """z = tan x;  dz/dx = 1 + tan² x = 1 + z²"""

    def forward(self, x):
        z = array_module(x).tan(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * (1 + z * z)


class Asin(Function):
    """z = arcsin x (|x| ≤ 1);  dz/dx = 1/√(1 - x²)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).arcsin(x)

    def backward(self, g):
        (x,) = self.saved
        return g / array_module(x).sqrt(1 - x * x)


class Acos(Function):
    """z = arccos x (|x| ≤ 1);  dz/dx = -1/√(1 - x²)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).arccos(x)

    def backward(self, g):
        (x,) = self.saved
        return -g / array_module(x).sqrt(1 - x * x)


class Atan(Function):
    """z = arctan x;  dz/dx = 1/(1 + x²)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).arctan(x)

    def backward(self, g):
        (x,) = self.saved
        return g / (1 + x * x)


class Atan2(Function):
    """z = atan2(y, x), the angle of the point (x, y) in (-π, π];  dz/dy = x/(x²+y²),  dz/dx = -y/(x²+y²)"""

    def forward(self, y, x):
        self.save(y, x)
        return array_module(y).arctan2(y, x)

    def backward(self, g):
        y, x = self.saved
        scaled = g / (x * x + y * y)
        return scaled * x, -scaled * y


class Expm1(Function):
    """z = eˣ - 1;  dz/dx = eˣ = z + 1"""

    def forward(self, x):
        z = array_module(x).expm1(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * (z + 1)


class Log1p(Function):
    """z = ln(1 + x);  dz/dx = 1/(1 + x)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).log1p(x)

    def backward(self, g):
        (x,) = self.saved
        return g / (1 + x)


class LogBase(Function):
    """z = log_b x = ln x / ln b (b = 2 or 10);  dz/dx = 1/(x ln b)"""

    def forward(self, x, base):
        xp = array_module(x)
        self.save(x)
        self.name, self.base = f"log{base}", base
        return xp.log2(x) if base == 2 else xp.log10(x)

    def backward(self, g):
        (x,) = self.saved
        return g / (x * x.dtype.type(math.log(self.base)))


class Exp2(Function):
    """z = 2ˣ;  dz/dx = 2ˣ ln 2 = z ln 2"""

    def forward(self, x):
        z = array_module(x).exp2(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * z * z.dtype.type(math.log(2))


class Rsqrt(Function):
    """z = 1/√x;  dz/dx = -½ x^(-3/2) = -½ z³"""

    def forward(self, x):
        z = 1 / array_module(x).sqrt(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * (-0.5 * z * z * z)


class Reciprocal(Function):
    """z = 1/x;  dz/dx = -1/x² = -z²"""

    def forward(self, x):
        z = 1 / x
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return -g * z * z


class LogAddExp(Function):
    """z = ln(eᵃ + eᵇ) = max(a, b) + ln(1 + e^(-|a-b|));  dz/da = σ(a - b),  dz/db = σ(b - a) = 1 - σ(a - b)"""

    def forward(self, a, b):
        self.save(a, b)
        return array_module(a).logaddexp(a, b)

    def backward(self, g):
        a, b = self.saved
        share = stable_sigmoid(a - b)
        return g * share, g * (1 - share)


class Lerp(Function):
    """z = a + w (b - a);  dz/da = 1 - w,  dz/db = w,  dz/dw = b - a"""

    def forward(self, a, b, w):
        self.save(a, b, w)
        return a + w * (b - a)

    def backward(self, g):
        a, b, w = self.saved
        return g * (1 - w), g * w, (g * (b - a) if self.needs_grad[2] else None)


# --- functional forms -------------------------------------------------------------

def floating(x, op):
    """``x`` as a floating tensor: a bool or integer tensor is converted to the default float dtype."""
    if not is_tensor(x):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    return x if x.array.dtype.kind in "fc" else x.to(get_default_dtype())


def floating_pair(x, y, op):
    """Both operands as tensors of one floating dtype (PyTorch's promotion of scalars and integers)."""
    x, y = binary_operands(x, y)
    return floating(x, op), floating(y, op)


def tan(input):  # noqa: A002 (PyTorch's names)
    return Tan.apply(floating(input, "tan"))


def asin(input):  # noqa: A002
    return Asin.apply(floating(input, "asin"))


def acos(input):  # noqa: A002
    return Acos.apply(floating(input, "acos"))


def atan(input):  # noqa: A002
    return Atan.apply(floating(input, "atan"))


def atan2(input, other):  # noqa: A002
    """The angle of the point (other, input) = (x, y): atan(input / other) put in the right quadrant."""
    return Atan2.apply(*floating_pair(input, other, "atan2"))



def expm1(input):  # noqa: A002
    return Expm1.apply(floating(input, "expm1"))


def log1p(input):  # noqa: A002
    return Log1p.apply(floating(input, "log1p"))


def log2(input):  # noqa: A002
    return LogBase.apply(floating(input, "log2"), base=2)


def log10(input):  # noqa: A002
    return LogBase.apply(floating(input, "log10"), base=10)


def exp2(input):  # noqa: A002
    return Exp2.apply(floating(input, "exp2"))


def rsqrt(input):  # noqa: A002
    return Rsqrt.apply(floating(input, "rsqrt"))


def reciprocal(input):  # noqa: A002
    return Reciprocal.apply(floating(input, "reciprocal"))


def square(input):  # noqa: A002
    """input * input (an integer tensor stays integer, as in PyTorch); the x^p rule of ``pow`` with p = 2."""
    if not is_tensor(input):
        raise TypeError(f"square: expected a tensor, got {type(input).__name__}")
    return pow(input, 2)


def logaddexp(input, other):  # noqa: A002
    """ln(e^input + e^other), without overflow for large arguments."""
    return LogAddExp.apply(*floating_pair(input, other, "logaddexp"))


def lerp(input, end, weight):  # noqa: A002
    """input + weight * (end - input); ``weight`` a number or a tensor (all three broadcast)."""
    input, end = floating_pair(input, end, "lerp")
    if input.dtype != end.dtype:
        raise TypeError(f"lerp: expected input and end of one dtype, got {input.dtype} and {end.dtype}")
    weight = as_tensor(weight, like=input)
    if weight.array.dtype != input.array.dtype:
        raise TypeError(f"lerp: expected weight of the input's dtype {input.dtype}, got {weight.dtype}")
    return Lerp.apply(input, end, weight)


def clamp_min(input, min):  # noqa: A002
    """max(input, min) elementwise: ``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """min(input, max) elementwise: ``clamp(input, max=max)``."""
    return clamp(input, max=max)
