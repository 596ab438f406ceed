"""The machine minidl runs on: processor, usable cores, caches and NumPy's BLAS.

Speed depends on all of these, so benchmark results and the kernels' measured choices
(``minidl/kernels/tuning.py``) name them.
"""

from __future__ import annotations

import os
import platform


def usable_cores():
    """The cores this process may run on (its CPU affinity), else every core."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_model():
    """The processor's model name ('AMD EPYC 9R14', 'Intel(R) Xeon(R) ...'), or the platform's word for it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cache_sizes():
    """{'L1d': bytes, 'L2': bytes, 'L3': bytes} of one core's caches, as far as Linux tells."""
    sizes = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return sizes
    for entry in entries:
        try:
            with open(f"{base}/{entry}/level") as level, open(f"{base}/{entry}/type") as kind, \
                    open(f"{base}/{entry}/size") as size:
                name = f"L{level.read().strip()}" + ("d" if kind.read().strip() == "Data" else "")
                text = size.read().strip()
        except OSError:
            continue
        if name != "L1" and text[:-1].isdigit():  # skip the instruction cache
            sizes[name] = int(text[:-1]) * {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1], 1)
    return sizes


def blas_libraries():
    """threadpoolctl's description of each BLAS NumPy loaded (internal_api, version, architecture,
    num_threads, threading_layer, filepath); [] without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return [{key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads", "threading_layer", "filepath")}
            for pool in numpys(pools, lambda pool: pool.get("filepath") or "")]


def numpys(libraries, filepath):
    """The BLAS libraries among ``libraries`` that NumPy runs: those shipped inside NumPy's own
    install (``numpy.libs``), which other packages (SciPy, loaded by Numba) may load beside
    theirs; all of them where none is (a NumPy linked to the system's BLAS)."""
    import numpy
    own = os.path.dirname(os.path.abspath(numpy.__file__))
    shipped = [library for library in libraries if os.path.abspath(filepath(library)).startswith(own)]
    return shipped or list(libraries)


def describe():
    """One dict naming the machine, for result files."""
    import numpy
    return {"cpu": cpu_model(), "cores": usable_cores(), "caches": cache_sizes(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": numpy.__version__, "blas": blas_libraries()}
