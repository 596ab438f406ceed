"""More activations, as PyTorch's: the ELU family (elu, celu, selu), hard (piecewise linear) forms
(hardtanh, relu6, hardsigmoid, hardswish), smooth ones (softplus, logsigmoid, mish, softsign,
tanhshrink), prelu with a learned slope, glu and softmin.

Where a piecewise function has a kink, the gradient there is PyTorch's: hardtanh, relu6 and
hardsigmoid pass nothing at their corners (as ReLU at 0), hardswish takes the outer pieces' slopes
at ±3. The smooth ones are written so that exp never overflows: with e = e^(-|x|) ≤ 1,
softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e) and log σ(x) = min(x, 0) - ln(1 + e).
"""

from __future__ import annotations

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.activation import inplace_result as _result  # noqa: F401 (also used by more_layers_ops)
from minidl.ops.activation import sigmoid, softmax, stable_sigmoid
from minidl.ops.common import is_tensor, one_dim
from minidl.ops.elementwise_math import floating
from minidl.ops.shape import chunk, reshape

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def softplus_values(x):
    """ln(1 + eˣ) of an array, computed as max(x, 0) + ln(1 + e^(-|x|)) (no overflow)."""
    xp = array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-abs(x)))


class ELU(Function):
    """z = s·x if x > 0 else s·α(e^(c·x) - 1)  (elu: s = c = 1; selu: PyTorch's s, α; celu: c = 1/α);
    dz/dx = s if x > 0 else s·α·c·e^(c·x) = c·(z + s·α)"""

    def forward(self, x, alpha, scale, input_scale, name):
        xp = array_module(x)
        self.name, self.alpha, self.scale, self.input_scale = name, alpha, scale, input_scale
        negative = x.dtype.type(scale * alpha) * xp.expm1(x * x.dtype.type(input_scale))
        z = xp.where(x > 0, x * x.dtype.type(scale), negative)
        self.save(x > 0, z)
        return z

    def backward(self, g):
        positive, z = self.saved
        slope = g.dtype.type(self.input_scale) * (z + g.dtype.type(self.scale * self.alpha))
        return g * array_module(g).where(positive, g.dtype.type(self.scale), slope)


class HardTanh(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 where lo < x < hi, else 0 (0 at the corners, as PyTorch)"""

    def forward(self, x, min_val, max_val, name):
        self.name = name
        self.save((x > min_val) & (x < max_val))
        return array_module(x).clip(x, min_val, max_val)

    def backward(self, g):
        (inside,) = self.saved
        return g * inside


class Hardsigmoid(Function):
    """z = min(max(x/6 + ½, 0), 1) = relu6(x + 3)/6;  dz/dx = 1/6 where -3 < x < 3, else 0"""

    def forward(self, x):
        self.save((x > -3) & (x < 3))
        return array_module(x).clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1)

    def backward(self, g):
        (inside,) = self.saved
        return g * inside / g.dtype.type(6)


class Hardswish(Function):
    """z = x·relu6(x + 3)/6;  dz/dx = 0 for x ≤ -3, 1 for x ≥ 3, x/3 + ½ between"""

    def forward(self, x):
        self.save(x)
        return x * array_module(x).clip(x + 3, 0, 6) / x.dtype.type(6)

    def backward(self, g):
        (x,) = self.saved
        xp = array_module(x)
        slope = xp.where(x <= -3, x.dtype.type(0), xp.where(x >= 3, x.dtype.type(1), x / 3 + x.dtype.type(0.5)))
        return g * slope


class LogSigmoid(Function):
    """z = ln σ(x) = min(x, 0) - ln(1 + e^(-|x|));  dz/dx = 1 - σ(x) = σ(-x)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).minimum(x, 0) - array_module(x).log1p(array_module(x).exp(-abs(x)))

    def backward(self, g):
        (x,) = self.saved
        return g * stable_sigmoid(-x)


class Softplus(Function):
    """z = ln(1 + e^(βx))/β, and x itself where βx > threshold;  dz/dx = σ(βx) (1 beyond the threshold)"""

    def forward(self, x, beta, threshold):
        scaled = x * x.dtype.type(beta)
        linear = scaled > threshold
        self.save(scaled, linear)
        return array_module(x).where(linear, x, softplus_values(scaled) / x.dtype.type(beta))

    def backward(self, g):
        scaled, linear = self.saved
        return g * array_module(g).where(linear, g.dtype.type(1), stable_sigmoid(scaled))


class Mish(Function):
    """z = x·tanh(softplus x);  dz/dx = t + x(1 - t²)σ(x), t = tanh(softplus x)"""

    def forward(self, x):
        t = array_module(x).tanh(softplus_values(x))
        self.save(x, t)
        return x * t

    def backward(self, g):
        x, t = self.saved
        return g * (t + x * (1 - t * t) * stable_sigmoid(x))


class Softsign(Function):
    """z = x/(1 + |x|);  dz/dx = 1/(1 + |x|)²"""

    def forward(self, x):
        self.save(x)
        return x / (1 + abs(x))

    def backward(self, g):
        (x,) = self.saved
        return g / ((1 + abs(x)) * (1 + abs(x)))


class Tanhshrink(Function):
    """z = x - tanh x;  dz/dx = tanh² x"""

    def forward(self, x):
        t = array_module(x).tanh(x)
        self.save(t)
        return x - t

    def backward(self, g):
        (t,) = self.saved
        return g * t * t


class PReLU(Function):
    """z = x if x > 0 else a·x (a learned, per channel);  dz/dx = 1 or a,  dz/da = 0 or x"""

    name = "prelu"

    def forward(self, x, a):
        xp = array_module(x)
        self.save(x, a)
        return xp.where(x > 0, x, a * x)

    def backward(self, g):
        x, a = self.saved
        xp = array_module(g)
        zero = g.dtype.type(0)
        return xp.where(x > 0, g, a * g), (xp.where(x > 0, zero, x * g) if self.needs_grad[1] else None)


# --- functional forms -------------------------------------------------------------

def _elu(input, alpha, scale, input_scale, name, inplace):  # noqa: A002
    def function(x):
        return ELU.apply(floating(x, name), alpha=alpha, scale=scale, input_scale=input_scale, name=name)
    return _result(input, function, inplace, name)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, α(eˣ - 1) otherwise."""
    return _elu(input, arguments.number(alpha, "elu", "alpha"), 1.0, 1.0, "elu", inplace)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """max(0, x) + min(0, α(e^(x/α) - 1)): the ELU with its slope at 0 kept 1 for every α."""
    alpha = arguments.number(alpha, "celu", "alpha")
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (the formula divides by it)")
    return _elu(input, alpha, 1.0, 1.0 / alpha, "celu", inplace)


def selu(input, inplace=False):  # noqa: A002
    """scale·elu(x, alpha) with PyTorch's constants (α ≈ 1.6733, scale ≈ 1.0507), self-normalising."""
    return _elu(input, SELU_ALPHA, SELU_SCALE, 1.0, "selu", inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clamped to [min_val, max_val]."""
    return _hardtanh(input, min_val, max_val, inplace, "hardtanh")


def _hardtanh(input, min_val, max_val, inplace, name):  # noqa: A002
    min_val, max_val = arguments.number(min_val, name, "min_val"), arguments.number(max_val, name, "max_val")
    if min_val > max_val:
        raise ValueError(f"{name}: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    def function(x):
        return HardTanh.apply(floating(x, name), min_val=min_val, max_val=max_val, name=name)
    return _result(input, function, inplace, name)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return _hardtanh(input, 0.0, 6.0, inplace, "relu6")


def hardsigmoid(input, inplace=False):  # noqa: A002
    """relu6(x + 3)/6: 0 below -3, 1 above 3, linear between."""
    return _result(input, lambda x: Hardsigmoid.apply(floating(x, "hardsigmoid")), inplace, "hardsigmoid")


def hardswish(input, inplace=False):  # noqa: A002
    """x·hardsigmoid(x)."""
    return _result(input, lambda x: Hardswish.apply(floating(x, "hardswish")), inplace, "hardswish")


def logsigmoid(input):  # noqa: A002
    """ln σ(x), computed without overflow for large |x|."""
    return LogSigmoid.apply(floating(input, "logsigmoid"))


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """ln(1 + e^(βx))/β, a smooth ReLU; x itself where βx > threshold."""
    beta = arguments.number(beta, "softplus", "beta")
    if beta == 0:
        raise ValueError("softplus: beta cannot be 0 (the formula divides by it)")
    threshold = arguments.number(threshold, "softplus", "threshold")
    return Softplus.apply(floating(input, "softplus"), beta=beta, threshold=threshold)


def mish(input, inplace=False):  # noqa: A002
    """x·tanh(softplus(x))."""
    return _result(input, lambda x: Mish.apply(floating(x, "mish")), inplace, "mish")


def softsign(input):  # noqa: A002
    """x / (1 + |x|)."""
    return Softsign.apply(floating(input, "softsign"))


def tanhshrink(input):  # noqa: A002
    """x - tanh(x)."""
    return Tanhshrink.apply(floating(input, "tanhshrink"))


def prelu(input, weight):  # noqa: A002
    """x where x > 0, else weight·x: one slope (weight of 1 element) or one per channel (dim 1)."""
    if not is_tensor(input) or not is_tensor(weight):
        raise TypeError(f"prelu: input and weight must be tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if weight.ndim > 1:
        raise ShapeError(f"prelu: weight must be a 0-d or 1-D tensor, got shape {tuple(weight.shape)}")
    count = weight.numel()
    if count == 1:
        weight = reshape(weight, ())
    else:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if count != channels:
            raise ShapeError(f"prelu: weight has {count} slopes but the input of shape {tuple(input.shape)} has "
                             f"{channels} channels (dim 1); use one slope, or one per channel")
        weight = reshape(weight, (count,) + (1,) * (input.ndim - 2))
    if weight.dtype != input.dtype:
        raise TypeError(f"prelu: weight dtype {weight.dtype} differs from the input's {input.dtype}")
    return PReLU.apply(input, weight)


def glu(input, dim=-1):  # noqa: A002
    """The gated linear unit a·σ(b), where a and b are the two halves of ``input`` along ``dim``."""
    if not is_tensor(input):
        raise TypeError(f"glu: expected a tensor, got {type(input).__name__}")
    if input.ndim == 0:
        raise ShapeError("glu: does not support a 0-d tensor (it halves a dim)")
    d = one_dim(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise ShapeError(f"glu: the halved dim must have an even size, but dim {dim} of shape "
                         f"{tuple(input.shape)} has size {input.shape[d]}")
    a, b = chunk(input, 2, d)
    return a * sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """softmax(-input) along ``dim``: the smallest values get the largest weights."""
    if not is_tensor(input):
        raise TypeError(f"softmin: expected a tensor, got {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        raise TypeError("softmin: dim is required (e.g. softmin(x, dim=-1))")
    return softmax(-input, dim)
