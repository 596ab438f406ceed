"""minidl's compute threads: an op's work shared out over the machine's cores.

NumPy runs every elementwise pass and every reduction on one core; only its BLAS
(the matrix products) uses more. In a CNN step most of the time goes to such
passes over 8 MiB activations (batch norm, ReLU, pooling, im2col), so on a
2-core laptop half the machine sat idle. minidl therefore keeps a small pool of
threads (``set_num_threads``, as ``torch.set_num_threads``) and splits the big
passes of its heavy ops into independent slices, usually of the batch:

    threads.map(lambda rows: np.maximum(x[rows], 0, out=y[rows]), threads.slices(len(x), x))

NumPy releases the interpreter lock inside each call, so the slices really run
at the same time. Matrix products are split the same way (``threads.matmul``:
rows, the stack of a batched product, or the inner dimension), each part one
single-threaded BLAS call, and NumPy's BLAS itself is set to one thread: an
OpenBLAS worker keeps spinning on its core for a while after each product it
helped with, so two pools on the same cores would fight over them.

Results do not depend on timing: every slice writes its own part of the output,
and partial sums are added in slice order. They can differ in the last bits from
a one-thread run where a sum is split (batch-norm statistics, weight gradients).
"""

from __future__ import annotations

import os
import queue
import threading

import numpy as np

#: below this many bytes an array's pass is not worth a hand-off to another thread (~20-50 µs)
MIN_BYTES = 2 * 2**20
#: matrix products of fewer multiply-adds than this run in one BLAS call
MIN_MULTIPLY_ADDS = 2 * 2**20


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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


_threads = _usable_cores()
_pool = None
_lock = threading.Lock()          # one parallel section at a time; others (and nested ones) run serially
_inside = threading.local()       # .active in worker threads
_blas = None                      # threadpoolctl's handles on NumPy's BLAS libraries, once loaded
_blas_before = None               # their thread counts before minidl first limited them


def set_num_threads(count):
    """Use ``count`` threads for minidl's ops (default: the usable cores), as ``torch.set_num_threads``.

    minidl then owns the process's BLAS threads, as PyTorch owns MKL's: NumPy's BLAS runs on one
    thread (minidl shares out its matrix products over its own threads), for the whole process,
    until :func:`restore_blas`. Without an explicit call the same happens at minidl's first
    threaded op. Without threadpoolctl minidl's ops run on one thread and BLAS keeps its own.
    """
    global _threads, _pool
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {count!r}")
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None
        _threads = count
    _limit_blas()


def restore_blas():
    """Give NumPy's BLAS back the thread counts it had before minidl limited it to one.

    minidl's next threaded op takes it again, unless ``set_num_threads(1)`` is in force...
    which itself limits BLAS: call this after it to let NumPy code outside minidl use every core.
    """
    global _blas_before
    if _blas_before is not None:
        for library, count in zip(_blas, _blas_before):
            library.set_num_threads(count)
        _blas_before = None


def get_num_threads():
    """The number of threads minidl's ops use (``torch.get_num_threads``)."""
    return _threads


def _limit_blas():
    """Keep NumPy's BLAS on one thread (checked each time: other code may have changed it);
    False when threadpoolctl is missing."""
    global _blas, _blas_before
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return False
        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    if _blas_before is None:
        _blas_before = [library.get_num_threads() for library in _blas]
    for library in _blas:
        if library.get_num_threads() != 1:
            library.set_num_threads(1)
    return True


def _active():
    return _threads > 1 and not getattr(_inside, "active", False)


def slices(count, array=None):
    """``range(count)`` cut into one contiguous slice per thread (one slice when ``array``, the
    data the slices index, is not a NumPy array or is too small to be worth sharing)."""
    parts = min(_threads, count)
    if parts <= 1 or not _active() or (array is not None and (type(array) is not np.ndarray
                                                               or array.nbytes < MIN_BYTES)):
        return [slice(0, count)]
    bounds = [count * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def batch_slices(array):
    """``slices`` of an array's first axis; ``[...]`` (the whole array) for a 0-d one."""
    return slices(array.shape[0], array) if array.ndim else [...]


def ufunc(function, a, b, out):
    """function(a, b, out=out) for a binary ufunc, ``out``'s first axis shared out over the threads:
    an operand is cut along with ``out`` where it runs along that axis, and broadcast whole where
    that axis is 1 or missing."""
    def rows(part):
        def cut(operand):
            return operand[part] if getattr(operand, "ndim", 0) == out.ndim and operand.shape[0] == out.shape[0] \
                else operand
        function(cut(a), cut(b), out=out[part])
    map(rows, batch_slices(out))
    return out


def map(function, items):  # noqa: A001  (the builtin's name, the builtin's meaning)
    """[function(item) for item in items], the items shared out over the threads in turn.

    Runs serially with one thread, one item, inside another parallel section, or when
    NumPy's BLAS cannot be limited. The first error raised by any item is raised here.
    """
    items = list(items)
    if len(items) <= 1 or not _active() or not _lock.acquire(blocking=False):
        return [function(item) for item in items]
    try:
        if not _limit_blas():
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


def matmul(a, b):
    """a @ b (NumPy's rules), shared out over the threads when it is big enough.

    2-D: the rows of ``a`` are split when there are enough of them, else (a small product
    over a long inner dimension, like a convolution's weight gradient) the inner dimension,
    whose partial products are added in order. Stacks of equal batch shape: the stack.
    """
    if not _active() or type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim < 2 or b.ndim < 1 \
            or a.size == 0 or b.size == 0:
        return a @ b
    m, k = a.shape[-2:]
    n = b.shape[-1] if b.ndim > 1 else 1
    batch, count = a.shape[:-2], int(np.prod(a.shape[:-2]))
    enough = MIN_BYTES // a.itemsize if n == 1 else MIN_MULTIPLY_ADDS  # a matrix-vector product only streams a
    if b.ndim > 2 and batch != b.shape[:-2] or _multiply_adds(a, b) < enough:
        return a @ b
    if count == 1 and b.ndim > 2:  # a stack of one: its matrix
        return matmul(a.reshape(m, k), b.reshape(k, n)).reshape(batch + (m, n))
    if batch and b.ndim > 2:  # a stack of products: share out the stack
        a3, b3 = a.reshape(count, m, k), b.reshape(count, k, n)
        out = np.empty((count, m, n), dtype=np.result_type(a, b))
        map(lambda part: np.matmul(a3[part], b3[part], out=out[part]), slices(count))
        return out.reshape(batch + (m, n))
    rows = a.reshape(-1, k)
    if len(rows) >= 16 * _threads:
        out = np.empty((len(rows),) + b.shape[1:], dtype=np.result_type(a, b))
        map(lambda part: np.matmul(rows[part], b, out=out[part]), slices(len(rows)))
        return out.reshape(a.shape[:-1] + b.shape[1:])
    if k >= 64 * _threads:
        partials = map(lambda part: rows[:, part] @ b[part], slices(k))
        return sum(partials[1:], partials[0]).reshape(a.shape[:-1] + b.shape[1:])
    return a @ b


def _multiply_adds(a, b):
    """The multiply-adds of a @ b when a's leading dims are rows or a stack matching b's."""
    return a.size * (b.shape[-1] if b.ndim > 1 else 1)


def matmuls(pairs):
    """[a @ b for each (a, b) pair, None for None]: two or more big products run side by side,
    one on each thread (one hand-off instead of one per product); otherwise each is ``matmul``."""
    pairs = list(pairs)
    big = [pair is not None and type(pair[0]) is np.ndarray and _multiply_adds(*pair) >= MIN_MULTIPLY_ADDS
           for pair in pairs]
    if sum(big) >= _threads and _active():
        return map(lambda pair: None if pair is None else pair[0] @ pair[1], pairs)
    return [None if pair is None else matmul(*pair) for pair in pairs]
