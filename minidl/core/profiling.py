"""The core's hook for ``minidl.profiler``: the profile currently recording, if any.

``Function.apply`` and the backward pass look it up once per op (the whole cost
of profiling when it is off); ``minidl.profiler.profile`` sets it.
"""

from __future__ import annotations

import contextvars

current = contextvars.ContextVar("minidl_profiler", default=None)


def active():
    """The profile currently recording, or None."""
    return current.get()
