"""Parameter initialisation, matching PyTorch's functions and default schemes.

All functions fill a tensor in place (under no_grad) from minidl's generator
(``minidl.manual_seed``) and return it.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.core import no_grad
from minidl.core.backend import to_device
from minidl.core.creation import default_generator
from minidl.core.random import numpy_stream
from minidl.ops.special import erf


def _fill(tensor, values):
    with no_grad():
        tensor.array[...] = to_device(np.asarray(values, dtype=tensor.dtype), tensor.device)
        tensor._modified()
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b)."""
    return _fill(tensor, default_generator().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std²)."""
    return _fill(tensor, default_generator().normal(mean, std, tensor.shape))


def constant_(tensor, value):
    return _fill(tensor, np.full(tensor.shape, value))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (PyTorch's rule)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 dims "
                         f"(shape {tensor.shape})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b) with b = gain·√(3 / fan) (He); Linear and Conv2d use a = √5.
    A tensor with no elements (a zero-size layer) is left as it is, as in PyTorch."""
    if 0 in tensor.shape:
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    if 0 in tensor.shape:  # nothing to fill (and no fan to divide by), as in PyTorch
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


# --- truncated normal, orthogonal, identity-like and sparse schemes -----------------------------------

def _normal_cdf(x):
    """Φ(x) = (1 + erf(x/√2)) / 2, the standard normal distribution function."""
    return (1.0 + erf(x / math.sqrt(2.0))) / 2.0


def _normal_quantile(u, low, high, steps=64):
    """Φ⁻¹(u) for u in [Φ(low), Φ(high)], by bisection on [low, high] (Φ increases, so halving the interval
    around the root 64 times pins it to float64 precision)."""
    low, high = np.full_like(u, low), np.full_like(u, high)
    for _ in range(steps):
        middle = (low + high) / 2
        below = _normal_cdf(middle) < u
        low, high = np.where(below, middle, low), np.where(below, high, middle)
    return (low + high) / 2


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) truncated to [a, b] (a and b are values, not multiples of std), by the
    inverse distribution function: x = mean + std·Φ⁻¹(u), u ~ U(Φ(α), Φ(β)), α = (a - mean)/std,
    β = (b - mean)/std."""
    if not a < b or not std > 0:
        raise ValueError(f"trunc_normal_: needs a < b and std > 0, got a={a}, b={b}, std={std}")
    alpha, beta = (max(min((v - mean) / std, 40.0), -40.0) for v in (a, b))  # Φ is 0 or 1 beyond ±40
    u = numpy_stream(generator, "trunc_normal_").uniform(_normal_cdf(np.float64(alpha)),
                                                         _normal_cdf(np.float64(beta)), tensor.shape)
    return _fill(tensor, np.clip(mean + std * _normal_quantile(u, alpha, beta), a, b))


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain``: the Q of the QR decomposition of a standard normal
    (rows, numel/rows) matrix (its transpose when wider than tall), with the signs of R's diagonal moved into
    Q so that Q is uniformly distributed. Trailing dims are flattened; rows or columns are orthonormal,
    whichever are fewer (Qᵀ Q = I or Q Qᵀ = I)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = numpy_stream(generator, "orthogonal_").standard_normal((rows, cols))
    wide = rows < cols
    q, r = np.linalg.qr(flattened.T if wide else flattened)
    q = q * np.sign(np.diag(r))
    return _fill(tensor, gain * (q.T if wide else q).reshape(tensor.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, also when it is not square)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *kernel) with the Dirac delta: a convolution with it
    copies input channel d to output channel d (in each of ``groups`` groups) at the kernel's centre."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups, got groups={groups!r}")
    values = np.zeros(tensor.shape)
    per_group = tensor.shape[0] // groups
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1.0
    return _fill(tensor, values)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor with N(0, std²) values, then set ⌈sparsity·rows⌉ randomly chosen entries of every
    column to zero."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    stream = numpy_stream(generator, "sparse_")
    rows, cols = tensor.shape
    values = stream.normal(0.0, std, (rows, cols))
    zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        values[stream.permutation(rows)[:zeros], col] = 0.0
    return _fill(tensor, values)
