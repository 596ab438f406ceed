"""minidl's compute threads: who runs on the machine's cores, and the pool minidl shares work over.

NumPy runs every elementwise pass and every reduction on one core; only its BLAS (the
matrix products) uses more. In a CNN step most of the time goes to such passes over 8 MiB
activations (batch norm, ReLU, pooling, im2col), so minidl keeps a small pool of threads
(``set_num_threads``, as ``torch.set_num_threads``) and splits the big passes of its heavy
ops into independent slices, usually of the batch:

    threads.split(lambda rows: np.maximum(x[rows], 0, out=y[rows]), x)

NumPy releases the interpreter lock inside each call, so the slices really run at the same
time. A hand-off costs tens of microseconds (more on some machines than others), so only
passes over at least ``split_bytes()`` are shared out: a threshold measured on this machine
(``calibrate``) and remembered (kernels/tuning.py).

Two pools on the same cores fight: an OpenBLAS worker keeps spinning on its core for a while
after each product it helped with, and a minidl worker woken there runs slowly. So at any
time one of three **plans** is in force:

* ``"minidl"``: minidl's threads run everything, BLAS runs on one thread: passes are shared
  out and so are big products (kernels/products.py), each part one single-thread BLAS call;
* ``"blas"``: BLAS's own threads run the products and every pass runs on one thread;
* ``"one thread"``: everything on one thread (what an added thread must beat).

Which plan is fastest depends on the workload (a CNN full of passes, an MLP that is all
products) and the machine, so it is measured on the first training steps of each model and
remembered (kernels/plans.py); ``set_plan`` or ``MINIDL_THREAD_PLAN`` fixes it.

Results do not depend on timing: every slice writes its own part of the output, and partial
sums are added in slice order. They can differ in the last bits between plans and thread
counts where a sum is split (batch-norm statistics, weight gradients).
"""

from __future__ import annotations

import os
import queue
import threading
import time

import numpy as np

from minidl.core import machine
from minidl.core.machine import usable_cores
from minidl.kernels import tuning

#: passes over fewer bytes than this stay on one thread; None: measured on this machine (split_bytes)
MIN_BYTES = None
#: matrix products of fewer multiply-adds stay one BLAS call; None: measured (split_multiply_adds)
MIN_MULTIPLY_ADDS = None
#: the ways the cores can be used (see above); the first is the default
PLANS = ("minidl", "blas", "one thread")


class _Pool:
    """Worker threads that each take callables from their own queue and report to ``done``."""

    def __init__(self, workers):
        self.inboxes = [queue.SimpleQueue() for _ in range(workers)]
        self.done = queue.SimpleQueue()
        for inbox in self.inboxes:
            threading.Thread(target=self._work, args=(inbox,), daemon=True, name="minidl-worker").start()

    def _work(self, inbox):
        _inside.active = True
        while (task := inbox.get()) is not None:
            try:
                task()
                self.done.put(None)
            except BaseException as error:  # noqa: BLE001  (handed to the caller, which re-raises it)
                self.done.put(error)

    def close(self):
        for inbox in self.inboxes:
            inbox.put(None)


_threads = usable_cores()
_plan = os.environ.get("MINIDL_THREAD_PLAN") if os.environ.get("MINIDL_THREAD_PLAN") in PLANS else PLANS[0]
_plan_fixed = False               # set_plan was called: no plan is chosen by timing (kernels/plans.py)
_pool = None
_lock = threading.Lock()          # one parallel section at a time; others (and nested ones) run serially
_inside = threading.local()       # .active in worker threads
_blas = None                      # threadpoolctl's handles on NumPy's BLAS libraries, once loaded
_blas_before = None               # their thread counts before minidl first set them


def set_num_threads(count):
    """Use ``count`` threads for minidl's ops (default: the usable cores), as ``torch.set_num_threads``.

    minidl then owns the process's BLAS threads, as PyTorch owns MKL's: NumPy's BLAS gets
    ``count`` threads under the ``"blas"`` plan and one otherwise, for the whole process,
    until :func:`restore_blas`. Without threadpoolctl minidl's ops run on one thread and
    BLAS keeps its own.
    """
    global _threads, _pool
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {count!r}")
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None
        _threads = count
    _own_blas()


def get_num_threads():
    """The number of threads minidl's ops use (``torch.get_num_threads``)."""
    return _threads


def set_plan(plan):
    """Fix the thread plan: ``"minidl"``, ``"blas"`` or ``"one thread"``; ``None`` returns to the
    default plan, chosen by timing each model's first training steps (kernels/plans.py)."""
    global _plan_fixed
    if plan is not None and plan not in PLANS:
        raise ValueError(f"set_plan: plan must be one of {', '.join(map(repr, PLANS))} or None, got {plan!r}")
    _plan_fixed = plan is not None
    _use_plan(plan or PLANS[0])


def _use_plan(plan):
    global _plan
    _plan = plan
    _own_blas()


def get_plan():
    """The plan in force (one of PLANS)."""
    return _plan


def restore_blas():
    """Give NumPy's BLAS back the thread counts it had before minidl first set them.

    minidl takes BLAS's threads again at its next ``set_num_threads``, ``set_plan`` or parallel section.
    """
    global _blas_before
    if _blas_before is not None:
        for library, count in zip(_blas, _blas_before):
            library.set_num_threads(count)
        _blas_before = None


def _own_blas():
    """Give NumPy's BLAS the plan's thread count (checked each time: other code may have changed
    it); False when threadpoolctl is missing."""
    global _blas, _blas_before
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return False
        _blas = machine.numpys(ThreadpoolController().select(user_api="blas").lib_controllers,
                               lambda library: library.filepath or "")
    if _blas_before is None:
        _blas_before = [library.get_num_threads() for library in _blas]
    count = _threads if _plan == "blas" else 1
    for library in _blas:
        if library.get_num_threads() != count:
            library.set_num_threads(count)
    return True


def _active():
    """True where minidl shares work out: more than one thread, the "minidl" plan, not in a worker."""
    return _threads > 1 and _plan == "minidl" and not getattr(_inside, "active", False)


def slices(count, array=None):
    """``range(count)`` cut into one contiguous slice per thread (one slice when ``array``, the
    data the slices index, is not a NumPy array or is too small to be worth sharing)."""
    parts = min(_threads, count)
    if parts <= 1 or not _active() or (array is not None and (type(array) is not np.ndarray
                                                               or array.nbytes < split_bytes())):
        return [slice(0, count)]
    bounds = [count * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def split(function, array, count=None):
    """[function(part) for each part of range(count)] (default: ``array``'s first axis;
    ``function(...)`` once for a 0-d array), one slice per thread when the array is big enough."""
    if array.ndim == 0:
        return [function(...)]
    return map(function, slices(array.shape[0] if count is None else count, array))


def split_bytes():
    """The smallest pass (in bytes of its array) worth sharing out: MIN_BYTES, or measured."""
    return MIN_BYTES if MIN_BYTES is not None else calibrate()["split_bytes"]


def split_multiply_adds():
    """The smallest matrix product (in multiply-adds) worth sharing out: MIN_MULTIPLY_ADDS, or measured."""
    return MIN_MULTIPLY_ADDS if MIN_MULTIPLY_ADDS is not None else calibrate()["split_multiply_adds"]


_calibration = {}  # thread count -> its thresholds, once measured or remembered


def calibrate():
    """This machine's thresholds for the current thread count, measured once and remembered:

    * a hand-off: the median time of handing an empty task to every thread and back;
    * a slow pass: e^x over 1 MiB of float32 on one thread (passes run from that speed to
      ten times faster); a product: one 256³ float32 product on one BLAS thread.

    Sharing a pass out over n threads saves at most (1 - 1/n) of its time and costs a
    hand-off, so passes are shared from twice the size where that evens out for the slow
    pass, products from twice the size where it evens out for them; both rounded up to a
    power of two, so that a rerun's measurement lands on the same value.
    """
    if _threads in _calibration:
        return _calibration[_threads]
    key = ("thresholds", _threads)
    found = tuning.remembered(key)
    if not (isinstance(found, dict) and {"split_bytes", "split_multiply_adds"} <= found.keys()):
        found = _measure_thresholds()
        if tuning.measuring() and _threads > 1:
            tuning.remember(key, found)
    _calibration[_threads] = found
    return found


def _measure_thresholds():
    if _threads < 2 or not tuning.measuring() or not _own_blas() or not _lock.acquire(blocking=False):
        return {"split_bytes": 2 * 2**20, "split_multiply_adds": 2 * 2**20}  # what a typical laptop measures
    try:
        _set_blas(1)
        hand_off = _median_seconds(lambda: _run(lambda item: None, list(range(_threads))), 31)
        x = np.ones(2**18, dtype=np.float32)
        y = np.empty_like(x)
        pass_seconds = _median_seconds(lambda: np.exp(x, out=y), 15)
        a = np.ones((256, 256), dtype=np.float32)
        product_seconds = _median_seconds(lambda: a @ a, 7)
    finally:
        _own_blas()
        _lock.release()
    even = hand_off / (1 - 1 / _threads)  # the time a pass must take before sharing it out can pay
    return {"split_bytes": _power_of_two(2 * even * x.nbytes / pass_seconds),
            "split_multiply_adds": _power_of_two(2 * even * a.size * 256 / product_seconds)}


def _set_blas(count):
    for library in _blas:
        library.set_num_threads(count)


def _median_seconds(function, runs):
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return sorted(times)[runs // 2]


def _power_of_two(value):
    return 1 << max(16, int(np.ceil(np.log2(max(value, 1)))))


def ufunc(function, a, b, out):
    """function(a, b, out=out) for a binary ufunc, ``out``'s first axis shared out over the threads:
    an operand is cut along with ``out`` where it runs along that axis, and broadcast whole where
    that axis is 1 or missing."""
    def rows(part):
        def cut(operand):
            return operand[part] if getattr(operand, "ndim", 0) == out.ndim and operand.shape[0] == out.shape[0] \
                else operand
        function(cut(a), cut(b), out=out[part])
    split(rows, out)
    return out


def map(function, items):  # noqa: A001  (the builtin's name, the builtin's meaning)
    """[function(item) for item in items], the items shared out over the threads in turn.

    Runs serially with one thread, one item, inside another parallel section, under a plan
    other than "minidl", or when NumPy's BLAS cannot be limited. The first error raised by
    any item is raised here.
    """
    items = list(items)
    if len(items) <= 1 or not _active() or not _lock.acquire(blocking=False):
        return [function(item) for item in items]
    try:
        if not _own_blas():
            return [function(item) for item in items]
        return _run(function, items)
    finally:
        _lock.release()


def _run(function, items):
    global _pool
    if _pool is None:
        _pool = _Pool(_threads - 1)
    results = [None] * len(items)

    def share(first):
        def task():
            for index in range(first, len(items), _threads):
                results[index] = function(items[index])
        return task
    for worker, inbox in enumerate(_pool.inboxes[:len(items) - 1], start=1):
        inbox.put(share(worker))
    handed_out = min(len(_pool.inboxes), len(items) - 1)
    errors = []
    _inside.active = True
    try:
        share(0)()
    except BaseException as error:  # noqa: BLE001  (wait for the workers before raising)
        errors.append(error)
    finally:
        _inside.active = False
    errors += [error for error in (_pool.done.get() for _ in range(handed_out)) if error is not None]
    if errors:
        raise errors[0]
    return results
