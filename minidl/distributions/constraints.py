"""``minidl.distributions.constraints``: the sets a parameter or a sample must lie in, as PyTorch's
``torch.distributions.constraints``.

A constraint's ``check(value)`` returns a bool tensor, one entry per value (``event_dim`` trailing
dims are reduced: a simplex is checked per probability vector). Distributions use them to validate
their parameters and, with ``validate_args``, the values given to ``log_prob``.
"""

from __future__ import annotations

from minidl.core.creation import full
from minidl.ops import tril
from minidl.ops.linalg_functions import cholesky
from minidl.ops.matrix_functions import LinAlgError


class Constraint:
    """A set of values: ``check(value)`` is True where ``value`` lies in it."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    def check(self, value):
        return value == value  # False for NaN only


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound, inclusive=False):
        self.lower_bound, self.inclusive = lower_bound, inclusive

    def check(self, value):
        return value >= self.lower_bound if self.inclusive else value > self.lower_bound

    def __repr__(self):
        return f"GreaterThan{'Eq' if self.inclusive else ''}(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    """[lower, upper], or [lower, upper) with ``half_open``."""

    def __init__(self, lower_bound, upper_bound, half_open=False):
        self.lower_bound, self.upper_bound, self.half_open = lower_bound, upper_bound, half_open

    def check(self, value):
        below_upper = value < self.upper_bound if self.half_open else value <= self.upper_bound
        return (value >= self.lower_bound) & below_upper

    def __repr__(self):
        return f"{'HalfOpen' if self.half_open else ''}Interval(lower_bound={self.lower_bound}, " \
               f"upper_bound={self.upper_bound})"


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & super().check(value)


class _IndependentReal(Constraint):
    """Real vectors (``event_dim`` 1): every entry not NaN."""

    event_dim = 1

    def check(self, value):
        return (value == value).all(-1)


class _Simplex(Constraint):
    """Non-negative vectors along the last dim that sum to one."""

    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value):
        lower = (tril(value) == value).all(-1).all(-1)
        return lower & (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    """Symmetric matrices whose Cholesky factor exists (every eigenvalue > 0)."""

    event_dim = 2

    def check(self, value):
        symmetric = (value == value.transpose(-1, -2)).all(-1).all(-1)
        try:
            cholesky(value.detach())
        except LinAlgError:
            return full(symmetric.shape, False, dtype=symmetric.dtype, device=symmetric.device)
        return symmetric


real = _Real()
real_vector = _IndependentReal()
boolean = _Boolean()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThan(0.0, inclusive=True)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
one_hot = _OneHot()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
interval = _Interval
greater_than = _GreaterThan
integer_interval = _IntegerInterval


def half_open_interval(lower_bound, upper_bound):
    """[lower_bound, upper_bound)."""
    return _Interval(lower_bound, upper_bound, half_open=True)


def greater_than_eq(lower_bound):
    """[lower_bound, ∞)."""
    return _GreaterThan(lower_bound, inclusive=True)
