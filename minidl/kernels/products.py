"""Matrix products on every core.

Under the thread plan "blas" (kernels/threads.py) a product is one call and BLAS's own threads
share it out. Under "minidl", BLAS runs on one thread and minidl splits big products itself
into independent parts, each a one-thread BLAS call on one of its threads: the rows, the stack
of a batched product, or (a small product over a long inner dimension, like a convolution's
weight gradient) the inner dimension, whose partial products are added in order. Products
smaller than ``split_multiply_adds()`` stay one call.

Independent products (the two of a backward: ``matmuls``) run side by side on minidl's
threads under "minidl", and one after another, each on BLAS's threads, under "blas".
"""

from __future__ import annotations

import numpy as np

from minidl.kernels import threads


def _shareable(*arrays):
    return threads._active() and all(type(a) is np.ndarray for a in arrays)


def matmul(a, b):
    """a @ b (NumPy's rules), split over minidl's threads when they run products and it is big enough."""
    if not _shareable(a, b) or a.ndim < 2 or b.ndim < 1 or a.size == 0 or b.size == 0 \
            or (b.ndim > 2 and a.shape[:-2] != b.shape[:-2]) or not _big(a, b):
        return a @ b
    return split_matmul(a, b)


def split_matmul(a, b):
    """a @ b split over minidl's threads, each part one BLAS call (a must have 2 or more dims,
    and b's stack, if any, a's)."""
    m, k = a.shape[-2:]
    n = b.shape[-1] if b.ndim > 1 else 1
    batch, count = a.shape[:-2], int(np.prod(a.shape[:-2]))
    if count == 1 and b.ndim > 2:  # a stack of one: its matrix
        return split_matmul(a.reshape(m, k), b.reshape(k, n)).reshape(batch + (m, n))
    if batch and b.ndim > 2:  # a stack of products: share out the stack
        a3, b3 = a.reshape(count, m, k), b.reshape(count, k, n)
        out = np.empty((count, m, n), dtype=np.result_type(a, b))
        threads.map(lambda part: np.matmul(a3[part], b3[part], out=out[part]), threads.slices(count))
        return out.reshape(batch + (m, n))
    rows = a.reshape(-1, k)
    parts = threads.get_num_threads()
    if len(rows) >= 16 * parts:
        out = np.empty((len(rows),) + b.shape[1:], dtype=np.result_type(a, b))
        threads.map(lambda part: np.matmul(rows[part], b, out=out[part]), threads.slices(len(rows)))
        return out.reshape(a.shape[:-1] + b.shape[1:])
    if k >= 64 * parts:
        partials = threads.map(lambda part: rows[:, part] @ b[part], threads.slices(k))
        return sum(partials[1:], partials[0]).reshape(a.shape[:-1] + b.shape[1:])
    return a @ b


def _big(a, b):
    """Worth measuring: a matrix-vector product streams ``a`` once, so its size counts in bytes."""
    if b.ndim == 1 or b.shape[-1] == 1:
        return a.nbytes >= threads.split_bytes()
    return multiply_adds(a, b) >= threads.split_multiply_adds()


def multiply_adds(a, b):
    """The multiply-adds of a @ b when a's leading dims are rows or a stack matching b's."""
    return a.size * (b.shape[-1] if b.ndim > 1 else 1)


def matmuls(pairs):
    """[a @ b for each (a, b) pair, None for None]: two or more big products side by side, one per
    thread (one hand-off for all); otherwise each is ``matmul``."""
    pairs = list(pairs)
    big = [pair is not None and _shareable(*pair) and pair[1].ndim >= 1 and _big(*pair) for pair in pairs]
    if sum(big) >= 2:
        return threads.map(lambda pair: None if pair is None else pair[0] @ pair[1], pairs)
    return [None if pair is None else matmul(*pair) for pair in pairs]

