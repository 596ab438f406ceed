"""Grad mode and anomaly detection: whether new operations are recorded for backward.

Both live in ``contextvars`` (not in class attributes), so a ``with no_grad():``
block affects only its own thread or task.
"""

from __future__ import annotations

import contextlib
import contextvars

grad_enabled = contextvars.ContextVar("minidl_grad_enabled", default=True)
anomaly_enabled = contextvars.ContextVar("minidl_anomaly_enabled", default=False)


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return grad_enabled.get()


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode for a ``with`` block or a decorated function, then restores the previous mode."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._tokens = []  # a stack, so one object can be entered again while in use

    def __enter__(self):
        self._tokens.append(grad_enabled.set(self.mode))

    def __exit__(self, *exc):
        grad_enabled.reset(self._tokens.pop())
        return False

    def _recreate_cm(self):
        return _GradMode(self.mode)  # a fresh one per call: decorated functions may recurse or run in threads


class no_grad(_GradMode):
    """``with minidl.no_grad():`` (or ``@minidl.no_grad``) runs ops without recording them."""

    def __new__(cls, function=None):
        self = super().__new__(cls)
        self.__init__()
        return self(function) if callable(function) else self  # also usable as a bare decorator

    def __init__(self, function=None):
        super().__init__(False)


class enable_grad(no_grad):
    """Turns recording back on inside a ``no_grad`` block."""

    def __init__(self, function=None):
        _GradMode.__init__(self, True)


class inference_mode(_GradMode):
    """``with minidl.inference_mode():`` (or ``@minidl.inference_mode()``, or bare ``@minidl.inference_mode``):
    as :class:`no_grad` (PyTorch also marks the tensors made inside as inference tensors to save
    bookkeeping; minidl has no such tensors, so this is exactly no_grad). ``inference_mode(False)``
    records as usual."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        self.__init__(mode if not callable(mode) else True)
        return self(mode) if callable(mode) else self

    def __init__(self, mode=True):
        super().__init__(not mode)


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off now; as ``with`` or a decorator it does so
    for that block only and then restores the previous mode (PyTorch semantics)."""

    def __init__(self, mode):
        super().__init__(mode)
        self._previous = grad_enabled.get()
        grad_enabled.set(self.mode)

    def __call__(self, function):
        grad_enabled.set(self._previous)  # decorating a function does not change the mode now
        return super().__call__(function)

    def __exit__(self, *exc):
        grad_enabled.set(self._previous)
        return False


class detect_anomaly(contextlib.ContextDecorator):
    """Report the op whose backward produced NaN or Inf, with the traceback of its forward call.

    Slow: every op records its Python stack. Use it to hunt a NaN, not to train.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self._tokens = []

    def __enter__(self):
        self._tokens.append(anomaly_enabled.set(self.check_nan))

    def __exit__(self, *exc):
        anomaly_enabled.reset(self._tokens.pop())
        return False
