"""A failing rank stops every rank, with its own error, instead of a hang.

In data-parallel training every rank waits for the others in each collective. When one
rank raises and exits, the others would wait for it forever. So when a world of more than
one process starts, :func:`install` replaces ``sys.excepthook``: an exception that reaches
the top of a rank prints ``minidl.distributed: rank R of N failed`` with the traceback, and
calls ``MPI_Abort``, which ends every rank of the run within moments (mpiexec then exits
with a non-zero code). :func:`abort` does the same for the launcher's runner
(``python -m minidl.distributed.run``), which also covers ``sys.exit(code)`` with a code other
than 0.
"""

from __future__ import annotations

import sys
import time
import traceback

#: how long a failing rank waits after writing its message before aborting: mpiexec forwards the ranks'
#: output asynchronously, and an abort that comes at once can end the run before the message is out
FORWARD_SECONDS = 0.5

_installed = {"previous": None}


def report(rank, size, exc_info=None, reason=None):
    """Write (and flush) the failing rank's message to stderr: its traceback, or ``reason``."""
    lines = [f"minidl.distributed: rank {rank} of {size} failed; stopping every rank (MPI_Abort)\n"]
    if exc_info is not None:
        lines += traceback.format_exception(*exc_info)
    if reason:
        lines.append(reason + "\n")
    sys.stderr.write("".join(lines))
    sys.stderr.flush()
    sys.stdout.flush()


def abort(comm, exc_info=None, reason=None, code=1):
    """Report the failure of this rank of ``comm``'s world, then end every rank with ``code``."""
    report(comm.Get_rank(), comm.Get_size(), exc_info, reason)
    time.sleep(FORWARD_SECONDS)
    comm.Abort(code)


def install(comm):
    """Make an uncaught exception on this rank abort every rank of ``comm``'s world."""
    if _installed["previous"] is None:
        _installed["previous"] = sys.excepthook

    def abort_every_rank(kind, value, tb):
        abort(comm, (kind, value, tb))

    sys.excepthook = abort_every_rank


def uninstall():
    """Put back the exception hook that :func:`install` replaced."""
    if _installed["previous"] is not None:
        sys.excepthook = _installed["previous"]
        _installed["previous"] = None
