"""Kernels of the activations: ReLU on minidl's threads, softmax and log-softmax with fast row sums.

* ReLU: the batch is cut into slices, one per thread, each written into preallocated
  outputs (``out=``): one pass for the mask and one for the values, on every core.
* Softmax, log-softmax: the shift is the global maximum when the values' range allows
  (``softmax_shift``: NumPy computes the per-row max of short rows slowly), the row sums
  go through BLAS (``fast_sum``), and the passes work in place.
"""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import threads
from minidl.kernels.reduction import fast_sum, softmax_shift
from minidl.ops import activation as textbook


@replaces(textbook.ReLU)
class ReLU(textbook.ReLU):
    """relu on minidl's threads: slices of the batch, written into preallocated outputs."""

    def forward(self, x):
        xp = array_module(x)
        positive, y = xp.empty(x.shape, dtype=bool), xp.empty_like(x)

        def rows(part):
            xp.greater(x[part], 0, out=positive[part])
            xp.maximum(x[part], 0, out=y[part])
        threads.split(rows, x)
        self.save(positive)
        return y

    def backward(self, g):
        xp = array_module(g)
        (positive,) = self.saved
        grad = xp.empty_like(g)
        threads.split(lambda part: xp.multiply(g[part], positive[part], out=grad[part]), g)
        return grad


@replaces(textbook.Softmax)
class Softmax(textbook.Softmax):
    """softmax with a shared shift where safe, BLAS row sums, and in-place passes."""

    def forward(self, x, dim):
        xp = array_module(x)
        e = x - softmax_shift(x, dim)
        xp.exp(e, out=e)
        e *= 1 / fast_sum(e, (dim,))                # multiplying by the reciprocal: faster than dividing
        self.save(e)
        self.dim = dim
        return e

    def backward(self, g):
        (y,) = self.saved
        grad = g * y
        total = fast_sum(grad, (self.dim,))
        array_module(g).subtract(g, total, out=grad)
        grad *= y
        return grad


@replaces(textbook.LogSoftmax)
class LogSoftmax(textbook.LogSoftmax):
    """log-softmax with a shared shift where safe, BLAS row sums, and in-place passes."""

    def forward(self, x, dim):
        xp = array_module(x)
        shifted = x - softmax_shift(x, dim)
        y = xp.exp(shifted)
        shifted -= xp.log(fast_sum(y, (dim,)))
        self.save(shifted)
        self.dim = dim
        return shifted

    def backward(self, g):
        (y,) = self.saved
        grad = array_module(y).exp(y)
        grad *= fast_sum(g, (self.dim,))
        return g - grad
