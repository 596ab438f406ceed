"""Measured choices, remembered per machine.

Some choices have no answer that holds on every machine: whether a pass over memory is worth
handing half of to another thread depends on how long a hand-off takes there (20 µs on one
machine, 200 µs on another); whether a training step runs faster on BLAS's threads or on
minidl's depends on the workload too. minidl measures such choices where they first arise
(kernels/threads.py, kernels/plans.py) and remembers each answer in a small JSON file per
machine (CPU, cores, NumPy and its BLAS), so that every later run makes the same choices
from its first step and computes the same bits.

The file lives in ``$MINIDL_CACHE_DIR`` (default ``~/.cache/minidl``); ``MINIDL_TUNING=off``
turns measuring off: every choice then takes its default.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from pathlib import Path

from minidl.core.atomic_write import write_atomically
from minidl.core.machine import blas_libraries, cpu_model, usable_cores

_choices = None   # key (as text) -> the remembered choice; loaded from the file at first use


def measuring():
    """False when ``MINIDL_TUNING`` is off, 0, false or no: every choice then takes its default."""
    return os.environ.get("MINIDL_TUNING", "on").strip().lower() not in ("off", "0", "false", "no")


def remembered(key):
    """The choice remembered for ``key`` on this machine, or None."""
    return _load().get(_text(key))


def remember(key, value):
    """Remember ``value`` (JSON-serialisable) for ``key`` in memory and in this machine's file."""
    choices = _load()
    choices[_text(key)] = value
    _save(choices)


def forget():
    """Forget every remembered choice, in memory and on disk (they are measured again when next needed)."""
    global _choices
    _choices = {}
    with contextlib.suppress(OSError):
        path().unlink()


def path():
    """This machine's file of remembered choices."""
    folder = Path(os.environ.get("MINIDL_CACHE_DIR") or Path.home() / ".cache" / "minidl")
    return folder / f"tuning-{hashlib.sha1(machine().encode()).hexdigest()[:12]}.json"


def machine():
    """What the choices depend on: processor, usable cores, NumPy and its BLAS, as one line."""
    import numpy
    blas = ", ".join(f"{lib['internal_api']} {lib['version']} {lib['architecture']}" for lib in blas_libraries())
    return f"{cpu_model()} | {usable_cores()} cores | {platform.machine()} | NumPy {numpy.__version__} | {blas}"


def _text(key):
    return json.dumps(key)


def _load():
    global _choices
    if _choices is None:
        try:
            _choices = json.loads(path().read_text())
            if not isinstance(_choices, dict):
                _choices = {}
        except (OSError, ValueError):
            _choices = {}
    return _choices


def _save(choices):
    """Write the file whole, through a temporary file beside it; a machine where it cannot be
    written keeps its choices for this run only."""
    target = path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, lambda file: json.dump(choices, file, indent=0, sort_keys=True), "tuning",
                         mode="w", encoding="utf-8")
    except OSError:
        pass
