"""The error function erf, which exact GELU needs and NumPy lacks.

erf is odd, so only |x| matters, and erf(|x|) rounds to 1 beyond 6. On [0, 6)
minidl evaluates one polynomial per piece of width 1/2: the Chebyshev
interpolant of ``math.erf`` on that piece (degree 12 for float64, accurate to
about 1e-15; degree 6 for float32, about 3e-8), built once on first use and
evaluated with Horner's rule. It works unchanged on every array backend.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.core.backend import array_module

PIECE_WIDTH = 0.5
SATURATION = 6.0  # 1 - erf(6) < 3e-17
_tables = {}


def _power_coefficients(degree):
    """Row k: power-series coefficients of erf on piece k, in t = (|x| - centre_k) / (width / 2)."""
    rows = []
    erf = np.vectorize(math.erf)
    for k in range(int(SATURATION / PIECE_WIDTH)):
        piece = [k * PIECE_WIDTH, (k + 1) * PIECE_WIDTH]
        chebyshev = np.polynomial.Chebyshev.interpolate(erf, degree, domain=piece)
        power = chebyshev.convert(kind=np.polynomial.Polynomial, domain=piece)
        rows.append(power.coef[: degree + 1])
    return np.array(rows)


def _table(xp, dtype):
    key = (xp.__name__, np.dtype(dtype).str)
    if key not in _tables:
        degree = 6 if np.dtype(dtype).itemsize <= 4 else 12
        columns = _power_coefficients(degree).T.astype(dtype)  # (degree + 1, pieces)
        _tables[key] = [xp.asarray(np.ascontiguousarray(c)) for c in columns]
    return _tables[key]


def erf(x):
    """erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, elementwise, in x's dtype."""
    xp = array_module(x)
    magnitude = xp.minimum(abs(x), x.dtype.type(SATURATION))
    piece = xp.minimum((magnitude / PIECE_WIDTH).astype(np.int32), int(SATURATION / PIECE_WIDTH) - 1)
    t = (magnitude - (piece * PIECE_WIDTH + PIECE_WIDTH / 2).astype(x.dtype)) * x.dtype.type(2 / PIECE_WIDTH)
    columns = _table(xp, x.dtype)
    result = columns[-1][piece]
    for column in reversed(columns[:-1]):
        result = result * t + column[piece]
    result = xp.where(magnitude >= SATURATION, x.dtype.type(1), result)
    return xp.copysign(result, x)
