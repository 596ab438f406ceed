"""Elementwise arithmetic: + - * / ** and exp, log, sqrt, abs, clamp, maximum, minimum, where.

Binary ops broadcast like NumPy; the engine sums each gradient back to its
input's shape, so the backward formulas below are written for equal shapes.
"""

from __future__ import annotations

from minidl.core import Function
from minidl.core.backend import array_module, device_of, to_device
from minidl.core.dtypes import get_default_dtype
from minidl.ops.common import as_tensor, binary_operands, is_tensor, quietly


class Add(Function):
    """z = x + y;  dz/dx = 1,  dz/dy = 1"""

    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1"""

    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, (-g if self.needs_grad[1] else None)


class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x"""

    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        return (g * y if self.needs_grad[0] else None), (g * x if self.needs_grad[1] else None)


class Div(Function):
    """z = x / y;  dz/dx = 1/y,  dz/dy = -x/y² = -z/y"""

    def forward(self, x, y):
        z = x / y
        self.save(y, z)
        return z

    def backward(self, g):
        y, z = self.saved
        gx = g / y
        return gx, (-gx * z if self.needs_grad[1] else None)


class Neg(Function):
    """z = -x;  dz/dx = -1"""

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class PowScalar(Function):
    """z = x^p for a constant p;  dz/dx = p·x^(p-1)"""

    name = "pow"

    def forward(self, x, exponent):
        self.save(x)
        self.exponent = exponent
        return x ** exponent

    def backward(self, g):
        (x,) = self.saved
        p = self.exponent
        if p == 2:
            return g * (2 * x)
        return g * (p * x ** (p - 1))


class Pow(Function):
    """z = x^y;  dz/dx = y·x^(y-1),  dz/dy = z·ln(x)  (taken as 0 where x = 0, as in PyTorch)"""

    def forward(self, x, y):
        z = x ** y
        self.save(x, y, z)
        return z

    def backward(self, g):
        x, y, z = self.saved
        xp = array_module(x)
        gx = g * y * x ** (y - 1) if self.needs_grad[0] else None
        gy = None
        if self.needs_grad[1]:
            with quietly(g):
                gy = g * xp.where(x == 0, 0, z * xp.log(xp.where(x == 0, 1, x)))
        return gx, gy


class Exp(Function):
    """z = eˣ;  dz/dx = eˣ = z"""

    def forward(self, x):
        z = array_module(x).exp(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * z


class Log(Function):
    """z = ln x;  dz/dx = 1/x"""

    def forward(self, x):
        self.save(x)
        return array_module(x).log(x)

    def backward(self, g):
        (x,) = self.saved
        return g / x


class Sqrt(Function):
    """z = √x;  dz/dx = 1/(2√x) = 1/(2z)"""

    def forward(self, x):
        z = array_module(x).sqrt(x)
        self.save(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g / (2 * z)


class Abs(Function):
    """z = |x|;  dz/dx = sign(x)  (0 at x = 0)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).abs(x)

    def backward(self, g):
        (x,) = self.saved
        return g * array_module(x).sign(x)


class Clamp(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 where lo ≤ x ≤ hi, else 0 (PyTorch passes the boundary)"""

    def forward(self, x, min=None, max=None):
        self.save(x)
        self.bounds = (min, max)
        return array_module(x).clip(x, min, max)

    def backward(self, g):
        (x,) = self.saved
        lo, hi = self.bounds
        inside = (x >= lo) if lo is not None else None
        if hi is not None:
            inside = (x <= hi) if inside is None else inside & (x <= hi)
        return g * inside


class Maximum(Function):
    """z = max(x, y);  dz/dx = [x > y] + ½[x = y],  dz/dy = [y > x] + ½[x = y]"""

    def forward(self, x, y):
        self.save(x, y)
        return array_module(x).maximum(x, y)

    def backward(self, g):
        x, y = self.saved
        share = (x > y) + 0.5 * (x == y)
        return g * share.astype(g.dtype), g * (1 - share).astype(g.dtype)


class Minimum(Function):
    """z = min(x, y);  dz/dx = [x < y] + ½[x = y],  dz/dy = [y < x] + ½[x = y]"""

    def forward(self, x, y):
        self.save(x, y)
        return array_module(x).minimum(x, y)

    def backward(self, g):
        x, y = self.saved
        share = (x < y) + 0.5 * (x == y)
        return g * share.astype(g.dtype), g * (1 - share).astype(g.dtype)


class Where(Function):
    """z = x where c else y;  dz/dx = [c],  dz/dy = [not c]  (c is not differentiable)"""

    def forward(self, condition, x, y):
        self.save(condition)
        return array_module(x).where(condition, x, y)

    def backward(self, g):
        (condition,) = self.saved
        zero = g.dtype.type(0)
        xp = array_module(g)
        return None, xp.where(condition, g, zero), xp.where(condition, zero, g)


class Cast(Function):
    """z = x converted to another dtype;  dz/dx = 1 (the gradient is converted back)"""

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtype) if self.dtype.kind == "f" else None


class Transfer(Function):
    """z = x copied to another device;  dz/dx = 1 (the gradient is copied back)"""

    def forward(self, x, device):
        self.source = device_of(x)
        return to_device(x, device)

    def backward(self, g):
        return to_device(g, self.source)


class Clone(Function):
    """z = a copy of x;  dz/dx = 1"""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


# --- functional forms -------------------------------------------------------------

def add(x, y, alpha=1):
    if alpha != 1:
        y = mul(y, alpha)
    return Add.apply(*binary_operands(x, y))


def sub(x, y, alpha=1):
    if alpha != 1:
        y = mul(y, alpha)
    return Sub.apply(*binary_operands(x, y))


def mul(x, y):
    return Mul.apply(*binary_operands(x, y))


def div(x, y):
    x, y = binary_operands(x, y)
    if x.array.dtype.kind in "biu" and y.array.dtype.kind in "biu":  # true division gives floats
        x, y = x.to(get_default_dtype()), y.to(get_default_dtype())
    return Div.apply(x, y)


def neg(x):
    return Neg.apply(x)


def pow(x, exponent):
    """``x ** exponent``; a constant exponent uses the cheaper x^p rule."""
    if not is_tensor(exponent) and is_tensor(x):
        exponent = exponent.item() if hasattr(exponent, "item") else exponent
        if x.array.dtype.kind in "biu" and isinstance(exponent, float):
            x = x.to(get_default_dtype())
        return PowScalar.apply(x, exponent=exponent)
    return Pow.apply(*binary_operands(x, exponent))


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):  # noqa: A001  (PyTorch's name)
    return Abs.apply(x)


def clamp(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, min=_scalar(min), max=_scalar(max))


clip = clamp


def _scalar(value):
    return value.item() if hasattr(value, "item") else value


def maximum(x, y):
    return Maximum.apply(*binary_operands(x, y))


def minimum(x, y):
    return Minimum.apply(*binary_operands(x, y))


def where(condition, x, y):
    """Elements of ``x`` where ``condition`` is true, else of ``y``."""
    x, y = binary_operands(x, y)
    condition = as_tensor(condition, like=x)
    if condition.array.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    return Where.apply(condition, x, y)


def masked_fill(x, mask, value):
    """``x`` with ``value`` where the bool ``mask`` (broadcast to x's shape) is true."""
    mask = as_tensor(mask, like=x)
    if mask.array.dtype.kind != "b":
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    value = as_tensor(value, like=x)
    if value.ndim:
        raise ValueError(f"masked_fill: value must be a number or a 0-dim tensor, got a tensor of shape {value.shape}")
    return Where.apply(mask, value.to(x.dtype) if value.dtype != x.dtype else value, x)


def cast(x, dtype):
    return Cast.apply(x, dtype=dtype)


def transfer(x, device):
    return Transfer.apply(x, device=device)


def clone(x):
    return Clone.apply(x)
