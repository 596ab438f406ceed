"""Activations: sigmoid, ReLU, tanh, GELU, leaky ReLU, softmax and log-softmax.

Each backward is written in terms of the saved output where that is cheapest
(σ' = σ(1-σ), tanh' = 1 - tanh²), and softmax / log-softmax are one node each,
with the row max subtracted first for stability. Faster forms of ReLU, softmax
and log-softmax (threads, fused row sums) are in ``minidl/kernels/activation.py``.
"""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.arguments import number
from minidl.core.backend import array_module
from minidl.ops.common import normalize_dims, pick_dim
from minidl.ops.special import erf


def stable_sigmoid(x):
    """σ(x) on an array, from e = e^(-|x|) ≤ 1: 1/(1+e) for x ≥ 0, e/(1+e) for x < 0 (no overflow)."""
    xp = array_module(x)
    e = xp.exp(-abs(x))
    return xp.where(x >= 0, 1, e) / (1 + e)


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e⁻ˣ);  dσ/dx = σ(1 - σ)

    Stable for large |x| of both signs: with e = e^(-|x|) ≤ 1, σ = 1/(1+e) for
    x ≥ 0 and e/(1+e) for x < 0, so exp never overflows.
    """

    def forward(self, x):
        y = stable_sigmoid(x)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return g * y * (1 - y)


class ReLU(Function):
    """relu(x) = max(0, x);  d/dx = 1 where x > 0, else 0 (also at exactly 0)"""

    def forward(self, x):
        self.save(x > 0)
        return array_module(x).maximum(x, 0)

    def backward(self, g):
        (positive,) = self.saved
        return g * positive


class Tanh(Function):
    """tanh(x) = (eˣ - e⁻ˣ)/(eˣ + e⁻ˣ);  d/dx = 1 - tanh²(x)"""

    def forward(self, x):
        y = array_module(x).tanh(x)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return g * (1 - y * y)


class LeakyReLU(Function):
    """leaky_relu(x) = x if x > 0 else a·x;  d/dx = 1 if x > 0 else a"""

    def forward(self, x, negative_slope):
        positive = x > 0
        self.save(positive)
        self.slope = negative_slope
        return array_module(x).where(positive, x, x * x.dtype.type(negative_slope))

    def backward(self, g):
        (positive,) = self.saved
        return array_module(g).where(positive, g, g * g.dtype.type(self.slope))


class SiLU(Function):
    """silu(x) = x·σ(x) (also called swish);  d/dx = σ(x)·(1 + x·(1 - σ(x)))"""

    name = "silu"

    def forward(self, x):
        s = stable_sigmoid(x)
        self.save(x, s)
        return x * s

    def backward(self, g):
        x, s = self.saved
        return g * s * (1 + x * (1 - s))


class GELU(Function):
    """gelu(x) = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  d/dx = Φ(x) + x·φ(x), φ(x) = e^(-x²/2)/√(2π)"""

    def forward(self, x):
        cdf = 0.5 * (1 + erf(x * x.dtype.type(1 / math.sqrt(2))))
        self.save(x, cdf)
        return x * cdf

    def backward(self, g):
        x, cdf = self.saved
        pdf = array_module(x).exp(-0.5 * x * x) * x.dtype.type(1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)


class GELUTanh(Function):
    """gelu(x) ≈ ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³);
    d/dx = ½(1 + tanh u) + ½x(1 - tanh²u)·√(2/π)(1 + 3·0.044715x²)"""

    name = "gelu"
    C = math.sqrt(2 / math.pi)

    def forward(self, x):
        c = x.dtype.type(self.C)
        t = array_module(x).tanh(c * (x + x.dtype.type(0.044715) * x * x * x))
        self.save(x, t)
        return 0.5 * x * (1 + t)

    def backward(self, g):
        x, t = self.saved
        c = x.dtype.type(self.C)
        du = c * (1 + x.dtype.type(3 * 0.044715) * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


class Softmax(Function):
    """yᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m), m = max x (along dim);  dL/dxᵢ = yᵢ (gᵢ - Σⱼ gⱼ yⱼ)"""

    def forward(self, x, dim):
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        self.save(y)
        self.dim = dim
        return y

    def backward(self, g):
        (y,) = self.saved
        return y * (g - (g * y).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ - m - log Σⱼ e^(xⱼ - m), m = max x (along dim);  dL/dxᵢ = gᵢ - softmax(x)ᵢ Σⱼ gⱼ"""

    def forward(self, x, dim):
        xp = array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.save(y)
        self.dim = dim
        return y

    def backward(self, g):
        (y,) = self.saved
        return g - array_module(y).exp(y) * g.sum(axis=self.dim, keepdims=True)


# --- functional forms ----------------------------------------------------------------

def inplace_result(input, output, inplace, name="copy_"):  # noqa: A002 (PyTorch's names)
    """``output(input)``, or ``output`` itself when it is a tensor already; with ``inplace``, the result is
    written into ``input``, recorded as an in-place edit named ``name`` (so a leaf that requires grad is
    refused, as in PyTorch), and ``input`` itself is returned. Pass a function where the op saves its
    input for backward: it then runs on a copy of the old values, which the write leaves intact."""
    if not callable(output):
        return input.copy_(output) if inplace and output is not input else output
    return input._edit_with(output, f"{name}(inplace=True)") if inplace else output(input)


def sigmoid(input):  # noqa: A002
    return Sigmoid.apply(input)


def relu(input, inplace=False):  # noqa: A002
    return inplace_result(input, ReLU.apply, inplace, "relu")


def silu(input, inplace=False):  # noqa: A002
    return inplace_result(input, SiLU.apply, inplace, "silu")


def tanh(input):  # noqa: A002
    return Tanh.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    number(negative_slope, "leaky_relu", "negative_slope")
    return inplace_result(input, lambda x: LeakyReLU.apply(x, negative_slope=negative_slope), inplace, "leaky_relu")


def gelu(input, approximate="none"):  # noqa: A002
    """GELU, exact (``approximate='none'``, the default) or with the tanh formula (``'tanh'``)."""
    if approximate == "none":
        return GELU.apply(input)
    if approximate == "tanh":
        return GELUTanh.apply(input)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _softmax_input(x, dim, axis, name, stacklevel, dtype):
    """``x`` cast to ``dtype`` (when given) and the normalized ``dim``. PyTorch's functional form puts
    ``_stacklevel`` (ignored) before ``dtype``; a dtype passed there, as ``torch.softmax(x, dim, dtype)``
    does, is taken as ``dtype``."""
    if dtype is None and stacklevel is not None and not isinstance(stacklevel, int):
        dtype = stacklevel
    if dtype is not None:
        x = x.to(dtype)
    return x, _softmax_dim(x, dim, axis, name)


def _softmax_dim(x, dim, axis, name):
    dim = pick_dim(dim, axis)
    if dim is None:
        raise TypeError(f"{name}: dim is required (e.g. {name}(x, dim=-1))")
    if x.array.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating tensor, got dtype {x.dtype}")
    return normalize_dims(dim, x.ndim, name)[0] if x.ndim else None


def softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """softmax along ``dim``: exp(x) / sum(exp(x)), computed stably (on ``input`` cast to ``dtype`` if given)."""
    x, dim = _softmax_input(input, dim, axis, "softmax", _stacklevel, dtype)
    if x.ndim == 0:  # a single value: softmax 1 (through the op, so the gradient is right)
        return Softmax.apply(x.reshape(1), dim=0).reshape(())
    return Softmax.apply(x, dim=dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x) (on ``input`` cast to ``dtype`` if given)."""
    x, dim = _softmax_input(input, dim, axis, "log_softmax", _stacklevel, dtype)
    if x.ndim == 0:
        return LogSoftmax.apply(x.reshape(1), dim=0).reshape(())
    return LogSoftmax.apply(x, dim=dim)
