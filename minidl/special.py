"""``minidl.special``: PyTorch's ``torch.special`` namespace.

Most names are the ops of ``minidl.ops`` under SciPy-style names (expit is sigmoid, gammaln is lgamma,
psi is digamma, multigammaln is mvlgamma). The normal distribution's functions are composites of erf
and erfinv, so their gradients follow:

    ndtr x = Φ(x) = ½ erfc(-x/√2)        ndtri p = Φ⁻¹(p) = √2 erfinv(2p - 1)        log_ndtr x = ln Φ(x)
    erfc x = 1 - erf x

erfc and log_ndtr are computed from erf, so they lose relative accuracy far out in the tail where
erf x rounds to ±1 (erfc beyond x ≈ 6, log_ndtr below x ≈ -8).
"""

from __future__ import annotations

import math

from minidl.ops import (digamma, entr, erf, erfinv, exp2, expm1, i0, lgamma, log1p, logit, mvlgamma, polygamma,
                        round, sinc, xlog1py, xlogy)
from minidl.ops import log as _log
from minidl.ops import log_softmax as _log_softmax
from minidl.ops import mul as _mul
from minidl.ops import sigmoid as expit
from minidl.ops import softmax as _softmax
from minidl.ops import sub as _sub
from minidl.ops.elementwise_math import floating as _floating

gammaln = lgamma
psi = digamma
multigammaln = mvlgamma

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "log1p",
           "log_ndtr", "log_softmax", "logit", "multigammaln", "mvlgamma", "ndtr", "ndtri", "polygamma", "psi",
           "round", "sinc", "softmax", "xlog1py", "xlogy"]


def erfc(input):  # noqa: A002 (PyTorch's names)
    """The complementary error function 1 - erf x."""
    return _sub(1.0, erf(_floating(input, "erfc")))


def ndtr(input):  # noqa: A002
    """The standard normal distribution function Φ(x) = ½ erfc(-x/√2)."""
    return _mul(erfc(_mul(_floating(input, "ndtr"), -1 / math.sqrt(2))), 0.5)


def ndtri(input):  # noqa: A002
    """The inverse of Φ: the x with Φ(x) = p, for p in [0, 1] (±inf at the ends)."""
    return _mul(erfinv(_sub(_mul(_floating(input, "ndtri"), 2.0), 1.0)), math.sqrt(2))


def log_ndtr(input):  # noqa: A002
    """ln Φ(x)."""
    return _log(ndtr(input))


def softmax(input, dim, *, dtype=None):  # noqa: A002
    """softmax along ``dim``, after casting to ``dtype`` when given."""
    return _softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim, *, dtype=None):  # noqa: A002
    """log_softmax along ``dim``, after casting to ``dtype`` when given."""
    return _log_softmax(input if dtype is None else input.to(dtype), dim)
