"""``minidl launch -n N script.py [args]``: start N ranks of a script with MPI's ``mpiexec``.

The ``mpiexec`` is the one installed with this Python (the ``mpich`` wheel puts it beside
the ``python`` executable), else the first on ``PATH``. Each rank runs under
``python -m minidl.distributed.run``, so a failing rank stops them all. Like PyTorch's
``torchrun``, the launcher divides the machine's cores between the ranks: unless they are
set already, ``OMP_NUM_THREADS`` (BLAS's threads) becomes cores // N, and with one core per
rank minidl's own threads stay off (``MINIDL_THREAD_PLAN="one thread"``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from minidl.core.machine import usable_cores
from minidl.distributed import world


def find_mpiexec():
    """The path of ``mpiexec``, or a FileNotFoundError that says what to install."""
    beside_python = Path(sysconfig.get_path("scripts")) / "mpiexec"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(f"minidl launch: no mpiexec found (neither beside {sys.executable} nor on PATH); "
                                f"install MPI with `{world.INSTALL}`")
    return found


def command(processes, script, arguments=()):
    """The ``mpiexec`` command line that runs ``script`` on ``processes`` ranks."""
    return [find_mpiexec(), "-n", str(processes), sys.executable, "-m", "minidl.distributed.run", str(script),
            *map(str, arguments)]


def environment(processes, base=None):
    """The ranks' environment: ``base`` (default: this one's) with the cores divided between the ranks."""
    env = dict(os.environ if base is None else base)
    threads = max(1, usable_cores() // processes)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    if threads == 1:
        env.setdefault("MINIDL_THREAD_PLAN", "one thread")
    return env


def launch(processes, script, arguments=(), **run_options):
    """Run ``script`` on ``processes`` ranks and wait; returns the ``subprocess.CompletedProcess``.
    ``run_options`` go to ``subprocess.run`` (``capture_output``, ``timeout``, ``cwd`` ...)."""
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"minidl launch: -n must be a positive number of processes, got {processes!r}")
    if not Path(script).is_file():
        raise FileNotFoundError(f"minidl launch: no script {script}")
    if not world.is_mpi_available():
        raise FileNotFoundError(f"minidl launch: mpi4py cannot be imported; install MPI with `{world.INSTALL}`")
    env = environment(processes, run_options.pop("env", None))
    return subprocess.run(command(processes, script, arguments), env=env, **run_options)
