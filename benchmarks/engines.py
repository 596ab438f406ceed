"""The implementations a benchmark runs, and how each is set up in its own process.

* ``minidl``: minidl as users run it, its kernels on, ``set_num_threads(n)`` (minidl's own
  threads; NumPy's BLAS on one thread, since minidl shares its matrix products out itself);
* ``textbook``: minidl with ``use_kernels(False)``: every op as its formula reads. It has no
  threads of its own, so NumPy's BLAS gets the n threads: a fair n-thread run of the plain
  formulas, and ``textbook / minidl`` is what the kernels buy;
* ``pytorch``: ``torch.set_num_threads(n)``;
* ``jax``: XLA's default thread pool (it has no per-process setting); only the workloads
  ``benchmarks/jax_workloads.py`` defines.

Both minidl implementations keep freed memory in the process for reuse
(``minidl.kernels.memory.keep_freed_memory``), as a training loop should.
"""

from __future__ import annotations

import importlib
import importlib.util

IMPLEMENTATIONS = {"minidl": "minidl", "textbook": "minidl", "pytorch": "torch", "jax": "jax"}


def available(implementation):
    return importlib.util.find_spec(IMPLEMENTATIONS[implementation]) is not None


def prepare(implementation, threads):
    """Import the implementation's framework and set its threads; returns (module, a handle to keep alive)."""
    framework = importlib.import_module(IMPLEMENTATIONS[implementation])
    if implementation == "jax":
        return framework, None
    framework.set_num_threads(threads)
    if implementation == "pytorch":
        return framework, None
    framework.kernels.memory.keep_freed_memory()
    if implementation == "textbook":
        from threadpoolctl import threadpool_limits
        framework.use_kernels(False)
        return framework, threadpool_limits(threads, user_api="blas")
    return framework, None
