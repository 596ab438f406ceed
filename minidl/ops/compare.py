"""Comparisons and tests of values. They return bool tensors and have no gradient."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.ops.common import binary_operands, wrap


def _compare(x, y, test):
    x, y = binary_operands(x, y)
    return wrap(test(x.data, y.data))


def eq(x, y):
    return _compare(x, y, lambda a, b: a == b)


def ne(x, y):
    return _compare(x, y, lambda a, b: a != b)


def lt(x, y):
    return _compare(x, y, lambda a, b: a < b)


def le(x, y):
    return _compare(x, y, lambda a, b: a <= b)


def gt(x, y):
    return _compare(x, y, lambda a, b: a > b)


def ge(x, y):
    return _compare(x, y, lambda a, b: a >= b)


def isfinite(x):
    return wrap(array_module(x.data).isfinite(x.data))


def isnan(x):
    return wrap(array_module(x.data).isnan(x.data))


def isinf(x):
    return wrap(array_module(x.data).isinf(x.data))


def logical_not(x):
    return wrap(~x.data.astype(bool))


def equal(x, y):
    """True when both tensors have the same shape and elements."""
    return x.shape == y.shape and bool((x.data == y.data).all())


def allclose(x, y, rtol=1e-5, atol=1e-8):
    return bool(array_module(x.data).allclose(x.data, y.data, rtol=rtol, atol=atol))
