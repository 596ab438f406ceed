"""More layer formulas with PyTorch's names: bilinear, local response norm, threshold, randomized leaky ReLU,
Gumbel-softmax and pairwise distances of rows.

    bilinear:             y_o = Σ_ij x1_i · A_oij · x2_j + b_o             (A: (out, in1, in2))
    local_response_norm:  y_c = x_c / (k + α/n · Σ_{c' near c} x_c'²)^β   (window c - n//2 … c + (n-1)//2)
    threshold:            y = x if x > t else v;          dy/dx = [x > t]
    rrelu:                y = x if x ≥ 0 else a·x;  a ~ U(lower, upper) when training, (lower+upper)/2 in eval
    gumbel_softmax:       y = softmax((logits + G)/τ),  G = -log(E), E ~ Exp(1)  (hard: one-hot(argmax y)
                          in the forward, y's gradient in the backward: the straight-through estimator)
    pdist:                d_k = ‖x_i - x_j‖_p for the rows i < j of x, in row-major order of (i, j)
upsample, upsample_nearest and upsample_bilinear are PyTorch's deprecated names for interpolate.
All but threshold are built from existing ops, which give their gradients.
"""

from __future__ import annotations

import warnings

import numpy as np

from minidl.core import Function, arguments
from minidl.core.backend import array_module, to_device
from minidl.core.errors import ShapeError
from minidl.core.random import default_generator
from minidl.ops.activation import leaky_relu, softmax
from minidl.ops.common import one_dim, wrap
from minidl.ops.elementwise_math import floating
from minidl.ops.more_activations import _result
from minidl.ops.padding import pad
from minidl.ops.resize import interpolate
from minidl.ops.vector_norm import norm


class Threshold(Function):
    """y = x where x > threshold, else value;  dy/dx = 1 where x > threshold, else 0"""

    def forward(self, x, threshold, value):
        keep = x > threshold
        self.save(keep)
        return array_module(x).where(keep, x, x.dtype.type(value))

    def backward(self, g):
        (keep,) = self.saved
        return array_module(g).where(keep, g, g.dtype.type(0))


def threshold(input, threshold, value, inplace=False):  # noqa: A002 (PyTorch's names)
    """x where x > ``threshold``, else ``value``."""
    threshold = arguments.number(threshold, "threshold", "threshold")
    value = arguments.number(value, "threshold", "value")
    x = floating(input, "threshold")
    return _result(input, Threshold.apply(x, threshold=threshold, value=value), inplace)


def threshold_(input, threshold, value):  # noqa: A002
    """In-place :func:`threshold`."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def bilinear(input1, input2, weight, bias=None):  # noqa: A002
    """y_o = Σ_ij x1_i A_oij x2_j + b_o for x1 (*, in1), x2 (*, in2), weight A (out, in1, in2), bias (out,)."""
    if weight.ndim != 3:
        raise ShapeError(f"bilinear: expected a 3-D weight (out, in1, in2), got shape {tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.ndim < 1 or input1.shape[-1] != in1 or input2.ndim < 1 or input2.shape[-1] != in2 or \
            input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"bilinear: inputs (*, {in1}) and (*, {in2}) with the same leading dims expected for "
                         f"weight {tuple(weight.shape)}, got shapes {tuple(input1.shape)} and {tuple(input2.shape)}")
    if bias is not None and tuple(bias.shape) != (out,):
        raise ShapeError(f"bilinear: bias must have shape ({out},), got {tuple(bias.shape)}")
    left = input1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)           # (*, out·in2): Σ_i x1_i A_oij
    y = (left.reshape(*input1.shape[:-1], out, in2) * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """x_c / (k + α/size · Σ x_c'²)^β over the ``size`` channels around c (zeros beyond the edges);
    input (N, C, *)."""
    size = arguments.positive_size(size, "local_response_norm", "size")
    if input.ndim < 3:
        raise ShapeError(f"local_response_norm: expected an input of 3 or more dims (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    channels = input.shape[1]
    squares = input * input
    widths = (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2)      # pad the channel dim only
    padded = pad(squares, widths)
    window = padded.narrow(1, 0, channels)
    for start in range(1, size):
        window = window + padded.narrow(1, start, channels)
    return input / (window * (alpha / size) + k) ** beta


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):  # noqa: A002
    """x for x ≥ 0, a·x below: a drawn per element from U(lower, upper) (minidl's generator) when training,
    a = (lower + upper)/2 otherwise."""
    lower, upper = arguments.number(lower, "rrelu", "lower"), arguments.number(upper, "rrelu", "upper")
    if lower > upper:
        raise ValueError(f"rrelu: lower ({lower}) must not be greater than upper ({upper})")
    x = floating(input, "rrelu")
    if not training:
        return _result(input, leaky_relu(x, (lower + upper) / 2), inplace)
    slopes = default_generator().uniform(lower, upper, x.shape).astype(x.dtype)
    xp = array_module(x.array)
    factor = xp.where(x.array >= 0, x.dtype.type(1), to_device(slopes, x.device))
    return _result(input, lambda value: value * wrap(factor), inplace)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + G)/tau) along ``dim`` with Gumbel noise G = -log(E), E ~ Exp(1) from minidl's generator;
    ``hard``: the one-hot of the largest entry, with the soft sample's gradient (straight-through)."""
    tau = arguments.number(tau, "gumbel_softmax", "tau", above=0.0)
    d = one_dim(dim, logits.ndim, "gumbel_softmax")
    noise = -np.log(default_generator().exponential(1.0, logits.shape)).astype(logits.dtype)
    soft = softmax((logits + wrap(to_device(noise, logits.device))) / tau, d)
    if not hard:
        return soft
    xp = array_module(soft.array)
    winner = xp.argmax(soft.array, axis=d) if soft.ndim else xp.zeros((), dtype="int64")
    positions = xp.arange(soft.shape[d] if soft.ndim else 1).reshape((-1,) + (1,) * (soft.ndim - d - 1))
    one_hot = (xp.expand_dims(winner, d) == positions).astype(soft.dtype) if soft.ndim else xp.ones((), soft.dtype)
    return wrap(one_hot) - soft.detach() + soft


def pdist(input, p=2):  # noqa: A002
    """‖x_i - x_j‖_p for every pair of rows i < j of an (N, M) input: N(N-1)/2 values, ordered (0,1), (0,2), …"""
    p = arguments.number(p, "pdist", "p", minimum=0.0)
    if input.ndim != 2:
        raise ShapeError(f"pdist: expected a 2-D input (N, M), got shape {tuple(input.shape)}")
    if input.shape[0] < 2:
        return norm(input.narrow(0, 0, 0), p, dim=-1)                       # no pairs: an empty result
    first, second = np.triu_indices(input.shape[0], k=1)                    # host-side index math
    rows = [wrap(to_device(index.astype(np.int64), input.device)) for index in (first, second)]
    difference = input.index_select(0, rows[0]) - input.index_select(0, rows[1])
    return norm(difference, p, dim=-1)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """Deprecated name of :func:`interpolate` (warns)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')`` (warns)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)`` (warns)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
