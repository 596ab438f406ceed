"""Run one rank of a script: ``python -m minidl.distributed.run script.py [args]``.

``minidl launch -n N script.py`` starts N copies of this runner under ``mpiexec``. The
runner runs the script as ``python script.py [args]`` would (``__name__ == "__main__"``,
``sys.argv``, the script's folder first on the import path), and when the script raises, or
exits with a code other than 0, it reports which rank failed and aborts every rank through
MPI. (A rank that calls ``sys.exit(1)`` would otherwise wait forever in MPI's shutdown for
ranks that are still waiting for it.)
"""

from __future__ import annotations

import os
import runpy
import sys

from minidl.distributed import failure, world


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print("usage: python -m minidl.distributed.run script.py [args]", file=sys.stderr)
        return 2
    script = argv[0]
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python script.py` does
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        if exit_.code in (None, 0):
            return 0
        code = exit_.code if isinstance(exit_.code, int) else 1
        failure.abort(world.mpi().COMM_WORLD, reason=f"{script} exited with {exit_.code!r}", code=code)
    except BaseException:  # noqa: BLE001 (every failure of a rank must stop the others)
        kind, value, tb = sys.exc_info()
        failure.abort(world.mpi().COMM_WORLD, (kind, value, _from_script(tb, script)))
    return 0


def _from_script(tb, script):
    """The traceback from the script's first frame on (the runner's own frames left out)."""
    path, start = os.path.abspath(script), tb
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != path:
        tb = tb.tb_next
    return tb if tb is not None else start


if __name__ == "__main__":
    sys.exit(main())
