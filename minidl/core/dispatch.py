"""Two tiers, one truth: the textbook ops and the kernels that may replace them.

Every op in ``minidl/ops/`` is the plain array form of its formula. A faster way
to compute the same thing (threads, fused passes, a cache-friendly layout) lives
in ``minidl/kernels/`` and is *registered* here against the textbook op it
replaces::

    @replaces(textbook.ReLU)            # in minidl/kernels/activation.py
    class ReLU(textbook.ReLU): ...

:func:`choose` is the one place where the choice is made: ``Function.apply``
asks it which class runs a node, and an optimizer's ``step`` which update runs.
``use_kernels(False)`` turns every kernel off, so the whole engine runs on the
textbook path (a function call, or a ``with`` block that restores the previous
setting)::

    with minidl.use_kernels(False):
        loss = model(x)      # every op exactly as its formula reads
"""

from __future__ import annotations

_kernels = {}      # textbook op (a Function class or an update function) -> its kernel
_enabled = [True]  # one switch for the whole process


def register(textbook, kernel):
    """Run ``kernel`` instead of ``textbook`` while kernels are on; returns ``kernel``.

    A kernel computes what its textbook op computes (tests prove it, op by op); a Function
    kernel is a subclass of the op it replaces, so it keeps the op's name and errors.
    """
    if textbook in _kernels and _kernels[textbook] is not kernel:
        raise ValueError(f"register: {_name(textbook)} already has the kernel {_name(_kernels[textbook])}")
    if isinstance(textbook, type) and not (isinstance(kernel, type) and issubclass(kernel, textbook)):
        raise TypeError(f"register: the kernel of {_name(textbook)} must be a subclass of it, got {_name(kernel)}")
    if isinstance(textbook, type):
        kernel.name = textbook.name  # the same op: errors and profiles name it alike
    _kernels[textbook] = kernel
    return kernel


def replaces(textbook):
    """Class decorator: ``@replaces(ops.activation.ReLU)`` registers the class below as that op's kernel."""
    return lambda kernel: register(textbook, kernel)


def choose(textbook):
    """What runs for ``textbook``: its kernel while kernels are on and one is registered, else itself."""
    if _enabled[0]:
        return _kernels.get(textbook, textbook)
    return textbook


def registered():
    """{textbook op: kernel} for every registered kernel."""
    return dict(_kernels)


def kernels_enabled():
    """True when registered kernels replace their textbook ops (the default)."""
    return _enabled[0]


class use_kernels:  # noqa: N801  (used like a function)
    """``use_kernels(False)`` runs everything on the textbook path from now on; ``use_kernels(True)``
    turns the kernels back on. As a context manager it sets the switch for the block only::

        with minidl.use_kernels(False):
            ...
    """

    def __init__(self, enabled=True):
        if not isinstance(enabled, bool):
            raise TypeError(f"use_kernels: expected True or False, got {enabled!r}")
        self._previous = _enabled[0]
        _enabled[0] = enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _enabled[0] = self._previous
        return False

    def __repr__(self):
        return f"use_kernels({_enabled[0]})"


def _name(thing):
    return getattr(thing, "__qualname__", repr(thing))
