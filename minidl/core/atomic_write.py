"""Writing a file whole or not at all: a temporary file beside it, fsync, then a rename over it.

A reader never sees a half-written file, and a failure (a full disk, an error while the
content is produced, a killed process) leaves the old file as it was. Checkpoints
(``minidl.save``), tokenizer vocabularies and the kernels' tuning file are written this way.
"""

from __future__ import annotations

import errno
import os
import secrets
import time

TEMPORARY_SUFFIX = ".tmp"
STALE_SECONDS = 300  # a temporary file untouched this long is left from a write that was killed


def write_atomically(path, write, where, mode="wb", encoding=None):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    On any failure the temporary file is removed; an ``OSError`` is raised again naming
    ``where`` (the caller, e.g. ``"save"``), ``path`` and the cause, with a hint when the disk
    or the quota is full.
    """
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(directory, os.path.basename(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, mode, encoding=encoding) as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
    except OSError as error:
        cause = error.strerror or str(error)
        if error.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
            cause += " (the disk or your quota may be full; nothing was written)"
        raise type(error)(error.errno, f"{where}: cannot write {path}: {cause}") from error
    _fsync_directory(directory)


def _remove_stale_temporaries(directory, name):
    """Remove the temporary files earlier writes of ``name`` left behind when they were killed."""
    try:
        candidates = [entry for entry in os.scandir(directory) if entry.name.startswith(f".{name}.")
                      and entry.name.endswith(TEMPORARY_SUFFIX) and len(entry.name) == len(name) + 14]
    except OSError:
        return  # a missing folder: the write reports it
    now = time.time()
    for entry in candidates:
        try:
            if now - entry.stat().st_mtime > STALE_SECONDS:
                os.remove(entry.path)
        except OSError:
            pass


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX; skipped where directories can't be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
