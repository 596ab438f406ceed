"""Comparisons and tests of values. They return bool tensors and have no gradient."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.ops.common import binary_operands, wrap


def _compare(x, y, test):
    x, y = binary_operands(x, y)
    return wrap(test(x.array, y.array))


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
    return wrap(array_module(x.array).isfinite(x.array))


def isnan(x):
    return wrap(array_module(x.array).isnan(x.array))


def isinf(x):
    return wrap(array_module(x.array).isinf(x.array))


def logical_not(x):
    return wrap(~x.array.astype(bool))


def equal(x, y):
    """True when both tensors have the same shape and elements."""
    return x.shape == y.shape and bool((x.array == y.array).all())


def allclose(x, y, rtol=1e-5, atol=1e-8):
    return bool(array_module(x.array).allclose(x.array, y.array, rtol=rtol, atol=atol))
