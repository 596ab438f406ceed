"""The process group: which process this is (its rank) among how many (the world size).

``init_process_group(backend="mpi")`` takes both from the MPI launch (``mpiexec -n 4
python train.py`` or ``minidl launch -n 4 train.py``) through mpi4py, which is imported
only here and only when needed. Without mpi4py, a process that was not launched by
``mpiexec`` becomes a world of one (rank 0 of 1, every collective a no-op), so a
data-parallel script also runs unchanged on one process with nothing extra installed.

A world of more than one process installs :func:`minidl.distributed.failure.install`:
an exception that reaches the top of any rank prints that rank's traceback and aborts
every rank through MPI, instead of leaving the others waiting forever in a collective.
"""

from __future__ import annotations

import os

from minidl.distributed import failure

#: the command that installs what the MPI backend needs (also: pip install "minidl[distributed]")
INSTALL = "pip install mpi4py mpich"

#: environment variables that MPI launchers set to the number of processes (MPICH/Hydra, Open MPI)
LAUNCH_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "minidl.distributed.init_process_group()")

_default = {"group": None}


class ProcessGroup:
    """The processes that take part in collectives: this one's rank, their number, and the MPI
    communicator that connects them (None for a world of one without MPI)."""

    def __init__(self, rank, size, comm=None):
        self._rank, self._size, self.comm = rank, size, comm

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def __repr__(self):
        return f"ProcessGroup(rank={self._rank}, size={self._size}, backend={'mpi' if self.comm else 'one process'})"


def mpi():
    """mpi4py's ``MPI`` module (the first import starts MPI), or an ImportError naming what to install."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"minidl.distributed: the MPI backend needs mpi4py and an MPI library; install them "
                          f"with `{INSTALL}` (the import failed: {error})") from None
    return MPI


def is_mpi_available():
    """True when mpi4py (and the MPI library under it) can be imported."""
    try:
        mpi()
    except ImportError:
        return False
    return True


def launched_size():
    """The number of processes an MPI launcher started (from its environment variables); 1 if none did."""
    for name in LAUNCH_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def is_available():
    """True: minidl.distributed always works (a world of one needs nothing extra; more processes need
    mpi4py, see :func:`is_mpi_available`)."""
    return True


def is_initialized():
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _default["group"] is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the default process group; rank and world size come from the MPI launch.

    ``backend`` must be ``"mpi"`` (or None). ``world_size`` and ``rank``, when given, must agree with
    the launch. ``init_method`` may only be None or ``"env://"`` and ``store`` only None: with MPI the
    launcher connects the processes. ``timeout``, ``group_name``, ``pg_options`` and ``device_id``
    are accepted for PyTorch's signature and change nothing.
    """
    if is_initialized():
        raise RuntimeError("init_process_group: trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend must be 'mpi' (minidl runs on MPI through mpi4py), "
                         f"got {backend!r}")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("init_process_group: with the MPI backend the launcher (mpiexec) connects the processes; "
                         f"pass no init_method or store (got init_method={init_method!r}, store={store!r})")
    group = _mpi_group() if is_mpi_available() or launched_size() > 1 else ProcessGroup(0, 1)
    for name, wanted, actual in (("world_size", world_size, group.size()), ("rank", rank, group.rank())):
        if wanted not in (-1, None) and wanted != actual:
            raise ValueError(f"init_process_group: {name}={wanted} was given, but the MPI launch says "
                             f"{name} {actual}; start the processes with `minidl launch -n N script.py`")
    _default["group"] = group
    if group.size() > 1:
        failure.install(group.comm)
    return group


def _mpi_group():
    MPI = mpi()  # launched by mpiexec without mpi4py: the ImportError says what to install
    comm = MPI.COMM_WORLD.Dup()  # minidl's own communicator: no clash with the script's own MPI messages
    return ProcessGroup(comm.Get_rank(), comm.Get_size(), comm)


def current_group():
    """The default process group, or None outside one."""
    return _default["group"]


def default_group(group=None, where="minidl.distributed"):
    """``group``, or the default group; a ValueError (as PyTorch's) when there is none."""
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"{where}: group must be a ProcessGroup or None, got {type(group).__name__}")
        return group
    if _default["group"] is None:
        raise ValueError(f"{where}: {_NOT_INITIALIZED}")
    return _default["group"]


def get_rank(group=None):
    """This process's rank in ``group`` (default: the default group): 0 .. world size - 1."""
    return default_group(group, "get_rank").rank()


def get_world_size(group=None):
    """The number of processes in ``group`` (default: the default group)."""
    return default_group(group, "get_world_size").size()


def get_backend(group=None):
    """The backend's name: ``'mpi'``."""
    default_group(group, "get_backend")
    return "mpi"


def destroy_process_group(group=None):
    """Leave the default process group (release minidl's communicator, remove the failure hook)."""
    group = default_group(group, "destroy_process_group")
    if group is not _default["group"]:
        raise ValueError("destroy_process_group: only the default process group exists in minidl")
    if group.comm is not None:
        group.comm.Free()
    failure.uninstall()
    _default["group"] = None
