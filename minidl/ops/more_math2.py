"""Inverse hyperbolic functions, logaddexp2, ldexp, scatter_reduce and the index writes put/index_put,
with PyTorch's names.

    acosh x = ln(x + √(x²-1)):  ' = 1/√(x²-1)        asinh x = ln(x + √(x²+1)):  ' = 1/√(x²+1)
    atanh x = ½ ln((1+x)/(1-x)):  ' = 1/(1-x²)
    logaddexp2(a, b) = log₂(2ᵃ + 2ᵇ):  ∂/∂a = 2ᵃ/(2ᵃ + 2ᵇ) = σ((a - b) ln 2),  ∂/∂b = 1 - ∂/∂a
    ldexp(x, e) = x · 2ᵉ  (a composite of mul and exp2, so both gradients follow)

scatter_reduce combines the src values that an index sends to one place with ``reduce``; "sum" and
"mean" are composites of scatter_add (the counts of arrivals divide for the mean), "amax"/"amin" are
:class:`ScatterExtreme`, whose gradient is shared evenly among the values that tie for the extreme
(the input's own value too, when ``include_self``), as in PyTorch.
"""

from __future__ import annotations

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add as add_at
from minidl.ops.activation import stable_sigmoid
from minidl.ops.arithmetic import clamp, mul, where
from minidl.ops.common import as_tensor, is_tensor, one_dim
from minidl.ops.elementwise_math import exp2, floating, floating_pair
from minidl.ops.indexing import _check_like, _scalar_as_vector, along, check_index, check_range, scatter, scatter_add
from minidl.ops.rounding import floor_divide

SCATTER_REDUCTIONS = ("sum", "mean", "amax", "amin")


class Acosh(Function):
    """z = acosh x (x ≥ 1);  dz/dx = 1/√(x² - 1)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).arccosh(x)

    def backward(self, g):
        (x,) = self.saved
        return g / array_module(x).sqrt(x * x - 1)


class Asinh(Function):
    """z = asinh x;  dz/dx = 1/√(x² + 1)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).arcsinh(x)

    def backward(self, g):
        (x,) = self.saved
        return g / array_module(x).sqrt(x * x + 1)


class Atanh(Function):
    """z = atanh x (|x| < 1);  dz/dx = 1/(1 - x²)"""

    def forward(self, x):
        self.save(x)
        return array_module(x).arctanh(x)

    def backward(self, g):
        (x,) = self.saved
        return g / (1 - x * x)


class LogAddExp2(Function):
    """z = log₂(2ᵃ + 2ᵇ);  dz/da = σ((a - b) ln 2),  dz/db = 1 - dz/da"""

    def forward(self, a, b):
        self.save(a, b)
        return array_module(a).logaddexp2(a, b)

    def backward(self, g):
        a, b = self.saved
        share = stable_sigmoid((a - b) * a.dtype.type(0.6931471805599453))
        return g * share, g * (1 - share)


class ScatterExtreme(Function):
    """z = x with z[index[i][j]][j] = max (or min) of itself (when include_self) and the src values sent
    there (dim 0);  dL/dx and dL/dsrc: g shared evenly among the values equal to the result there
    (x's own value counted among the ties even when not included, as PyTorch counts it)"""

    def forward(self, x, src, index, dim, reduce, include_self):
        xp = array_module(x)
        self.dim, self.include_self, self.src_shape = dim, include_self, src.shape
        z, places = x.copy(), along(index, dim)
        part = src[tuple(slice(0, n) for n in index.shape)]
        if not include_self:
            z[places] = part  # the src values alone take part at the places they reach
        (xp.maximum if reduce == "amax" else xp.minimum).at(z, places, part)
        self.save(x, part, index, z)
        return z

    def backward(self, g):
        x, part, index, z = self.saved
        xp, places = array_module(g), along(index, self.dim)
        self_ties = (x == z).astype(g.dtype)
        src_ties = (part == z[places]).astype(g.dtype)
        count = self_ties.copy()  # an input value equal to the result counts even when left out (PyTorch's rule)
        add_at(count, places, src_ties)
        share = g / xp.maximum(count, 1)
        if not self.include_self:
            self_ties[places] = 0
        grad_src = xp.zeros(self.src_shape, dtype=g.dtype)
        grad_src[tuple(slice(0, n) for n in index.shape)] = share[places] * src_ties
        return share * self_ties, grad_src, None


# --- functional forms -------------------------------------------------------------

def acosh(input):  # noqa: A002 (PyTorch's names)
    return Acosh.apply(floating(input, "acosh"))


def asinh(input):  # noqa: A002
    return Asinh.apply(floating(input, "asinh"))


def atanh(input):  # noqa: A002
    return Atanh.apply(floating(input, "atanh"))


def logaddexp2(input, other):  # noqa: A002
    """log₂(2^input + 2^other), without overflow for large arguments."""
    return LogAddExp2.apply(*floating_pair(input, other, "logaddexp2"))


def ldexp(input, other):  # noqa: A002
    """input · 2^other (a floating result, as in PyTorch)."""
    input = floating(as_tensor(input) if not is_tensor(input) else input, "ldexp")
    other = as_tensor(other, like=input)
    power = exp2(other)
    return mul(input, power if power.dtype == input.dtype else power.to(input.dtype))


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """A copy of ``input`` where each src[i][j] is combined into out[index[i][j]][j] (dim 0) by ``reduce``
    ("sum", "mean", "amax" or "amin"); ``include_self=False`` leaves the input's own values out of the places
    any src value reaches (places none reaches keep the input's value)."""
    if reduce not in SCATTER_REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(map(repr, SCATTER_REDUCTIONS))}, "
                         f"got {reduce!r}" + (" ('prod' is not provided by minidl)" if reduce == "prod" else ""))
    if not is_tensor(input) or not is_tensor(src):
        raise TypeError("scatter_reduce: input and src must be tensors, got "
                        f"{type(input).__name__} and {type(src).__name__}")
    if src.dtype != input.dtype:
        raise TypeError(f"scatter_reduce: src ({src.dtype}) must have the input's dtype ({input.dtype})")
    if reduce in ("amax", "amin"):
        d = one_dim(dim, input.ndim, "scatter_reduce")
        check_index(index, "scatter_reduce")
        x, index_ = _scalar_as_vector(input, index)
        src_ = src.reshape(1) if src.ndim == 0 else src
        _check_like(x, index_, d, "scatter_reduce", src_)
        check_range(index_, x.shape[d], "scatter_reduce", dim)
        out = ScatterExtreme.apply(x, src_, index_, dim=d, reduce=reduce, include_self=bool(include_self))
        return out.reshape(()) if input.ndim == 0 else out
    arrivals = scatter_add(input.detach() * 0, dim, index, as_tensor(1, like=input).expand(index.shape))
    base = input if include_self else where(arrivals > 0, as_tensor(0, like=input), input)
    total = scatter_add(base, dim, index, src)
    if reduce == "sum":
        return total
    count = clamp(arrivals + 1 if include_self else arrivals, min=1)
    return floor_divide(total, count) if input.array.dtype.kind in "biu" else total / count


def _flat_positions(input, indices, op):  # noqa: A002
    """The flat positions (an int64 tensor) that ``input[indices]`` reads."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of tensors, got {type(indices).__name__}")
    positions = as_tensor(array_module(input.array).arange(input.numel()).reshape(input.shape))
    return positions[tuple(indices)]


def _write_flat(input, positions, values, accumulate):  # noqa: A002
    """``input`` with ``values`` written (or added, when ``accumulate``) at flat ``positions``."""
    values = as_tensor(values, like=input)
    values = values.expand(positions.shape).reshape(-1)
    if values.dtype != input.dtype:
        values = values.to(input.dtype)
    flat = input.reshape(-1)
    write = scatter_add if accumulate else scatter
    return write(flat, 0, positions.reshape(-1), values).reshape(input.shape)


def index_put(input, indices, values, accumulate=False):  # noqa: A002
    """A copy of ``input`` with ``input[indices] = values`` (``+=`` when ``accumulate``, repeated places
    adding up); ``indices`` a tuple of index tensors. Differentiable through scatter/scatter_add."""
    return _write_flat(input, _flat_positions(input, indices, "index_put"), values, accumulate)


def put(input, index, source, accumulate=False):  # noqa: A002
    """A copy of ``input`` where the elements at flat positions ``index`` (as if ``input`` were 1-D,
    negative counting from the end) become ``source``'s (or add them, when ``accumulate``)."""
    if not is_tensor(index) or index.array.dtype.kind not in "iu":
        raise TypeError(f"put: index must be an integer tensor, got {getattr(index, 'dtype', type(index).__name__)}")
    if not is_tensor(source) or source.numel() != index.numel():
        raise ValueError(f"put: source must be a tensor with as many elements as index ({index.numel()}), got "
                         f"{getattr(source, 'shape', type(source).__name__)}")
    size = input.numel()
    if index.numel() and not -size <= int(index.array.min()) <= int(index.array.max()) < size:
        raise IndexError(f"put: index out of range for a tensor of {size} elements (valid: {-size} to {size - 1}), "
                         f"got values from {int(index.array.min())} to {int(index.array.max())}")
    positions = as_tensor(index.array % max(size, 1))
    return _write_flat(input, positions, source.reshape(index.shape), accumulate)
