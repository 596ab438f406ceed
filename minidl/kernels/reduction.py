"""Fast sums: row reductions through BLAS and threads, for the kernels of every family.

NumPy sums short contiguous rows slowly (one small reduction per row). These
helpers compute the same sums faster; kernels of every family (softmax, norms,
losses, attention, convolution's bias gradient, the reductions themselves) use them.
Below them, the kernels of sum, mean and logsumexp.
"""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import products, threads
from minidl.ops import reduction as textbook
from minidl.ops.common import product


def _row_plan(shape, axes):
    """A reduction over sorted ``axes`` that ends with the trailing axes, as rows: (lead shape,
    row width, the leading axes still to sum); None when the last axis is not reduced."""
    trailing = 0
    while trailing < len(axes) and axes[len(axes) - 1 - trailing] == len(shape) - 1 - trailing:
        trailing += 1
    if not trailing:
        return None
    lead = shape[:len(shape) - trailing]
    return lead, product(shape) // max(1, product(lead)), axes[:len(axes) - trailing]


def _from_rows(row_totals, plan, shape, axes, keepdims):
    """Finish a row-wise reduction: sum the remaining leading axes, keep dims if asked."""
    lead, _, rest = plan
    total = row_totals.reshape(lead)
    if rest:
        total = total.sum(axis=rest)
    if keepdims:
        total = total.reshape([1 if i in axes else s for i, s in enumerate(shape)])
    return total


def fast_sum(x, axes, keepdims=True):
    """Σ of a floating array over ``axes`` (non-negative ints), fast.

    NumPy sums short contiguous rows slowly (one small reduction per row); a
    matrix-vector product with a vector of ones does the same sum through BLAS,
    vectorised and multithreaded, about ten times faster. So a C-contiguous array whose
    summed axes are trailing goes through ``rows @ ones``; summed leading axes (a bias
    gradient) through ``ones @ rows``; a block of middle axes through ``ones @ x`` per
    leading index; any other axes through ``sum``.
    """
    axes = tuple(sorted(axes))
    if x.dtype.kind != "f" or not x.flags.c_contiguous or x.size == 0 or not axes:
        return x.sum(axis=axes, keepdims=keepdims)
    xp = array_module(x)
    plan = _row_plan(x.shape, axes)
    if plan is not None:
        width = plan[1]
        row_totals = products.matmul(x.reshape(-1, width), xp.ones(width, dtype=x.dtype))
        return _from_rows(row_totals, plan, x.shape, axes, keepdims)
    if axes != tuple(range(axes[0], axes[-1] + 1)):
        return x.sum(axis=axes, keepdims=keepdims)
    before, summed = product(x.shape[:axes[0]]), product(x.shape[axes[0]:axes[-1] + 1])
    blocks = x.reshape(before, summed, -1)
    total = xp.matmul(xp.ones(summed, dtype=x.dtype), blocks)  # (before, after)
    kept = [1 if i in axes else s for i, s in enumerate(x.shape)] if keepdims else \
        [s for i, s in enumerate(x.shape) if i not in axes]
    return total.reshape(kept)


def fast_dot_sum(a, b, axes, keepdims=True):
    """Σ a·b over ``axes``, without building the product a·b when ``axes`` ends with the trailing axes.

    Each contiguous row of a meets its row of b in one dot product (``vecdot``), which reads
    both once and writes nothing large: about three times faster than ``fast_sum(a * b)``.
    """
    xp = array_module(a)
    axes = tuple(sorted(axes))
    plan = _row_plan(a.shape, axes)
    usable = (plan is not None and hasattr(xp, "vecdot") and a.shape == b.shape and a.dtype == b.dtype
              and a.dtype.kind == "f" and a.flags.c_contiguous and b.flags.c_contiguous and a.size)
    if not usable:
        return fast_sum(a * b, axes, keepdims)
    width = plan[1]
    a_rows, b_rows = a.reshape(-1, width), b.reshape(-1, width)
    row_totals = xp.concatenate(threads.split(lambda rows: xp.vecdot(a_rows[rows], b_rows[rows]), a,
                                               len(a_rows)))
    return _from_rows(row_totals, plan, a.shape, axes, keepdims)


def softmax_shift(x, axis):
    """A shift c with exp(x - c) safe from overflow, for softmax and log-softmax (both shift-invariant).

    The per-row max is the textbook choice but NumPy computes it slowly over short rows. When
    every value lies within ``limit`` of the global max (80 for float32, 700 for float64), the
    global max serves just as well: nothing overflows and no row underflows to all zeros.
    """
    xp = array_module(x)
    if x.size:
        high, low = x.max(), x.min()
        if bool(xp.isfinite(high)) and bool(xp.isfinite(low)) and float(high - low) < (80 if x.dtype.itemsize <= 4 else 700):
            return high
    return x.max(axis=axis, keepdims=True)


# --- the reduction kernels -----------------------------------------------------------

@replaces(textbook.Sum)
class Sum(textbook.Sum):
    """Σ over dims through fast_sum (BLAS rows of ones)."""

    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return fast_sum(x, dims, keepdim)


@replaces(textbook.Mean)
class Mean(textbook.Mean):
    """Σ over dims through fast_sum, divided by the count."""

    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        self.count = textbook.count(x.shape, dims)
        if not self.count:  # the mean of nothing is NaN (as PyTorch), without NumPy's warning
            return textbook.mean_of_nothing(x, dims, keepdim)
        if x.dtype.kind != "f":
            return x.mean(axis=dims, keepdims=keepdim)
        return fast_sum(x, dims, keepdim) / x.dtype.type(self.count)


@replaces(textbook.LogSumExp)
class LogSumExp(textbook.LogSumExp):
    """logsumexp with a shared shift where safe and BLAS row sums."""

    def forward(self, x, dims, keepdim):
        if not x.size:
            return super().forward(x, dims, keepdim)
        xp = array_module(x)
        m = softmax_shift(x, dims)
        m = xp.where(xp.isfinite(m), m, 0)  # rows of -inf give -inf, not NaN
        z = xp.log(fast_sum(xp.exp(x - m), dims)) + m
        self.save(x, z)
        self.in_shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return z if keepdim else z.reshape([s for i, s in enumerate(x.shape) if i not in dims])
