"""Kernels of the losses: cross-entropy with a shared shift where safe and BLAS row sums."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels.reduction import fast_sum, softmax_shift
from minidl.ops import loss as textbook


@replaces(textbook.CrossEntropy)
class CrossEntropy(textbook.CrossEntropy):
    """cross-entropy: log-softmax in place with softmax_shift, row sums through fast_sum."""

    def forward(self, x, q, denominator, reduction):
        xp = array_module(x)
        log_p = x - softmax_shift(x, 1)
        log_p -= xp.log(fast_sum(xp.exp(log_p), (1,)))
        self.save(log_p, q)
        self.denominator, self.reduction = denominator, reduction
        per_row = -fast_sum(q * log_p, (1,), keepdims=False)
        if reduction == "none":
            return per_row
        total = per_row.sum()
        if reduction == "sum":
            return total
        return total / x.dtype.type(denominator) if denominator else xp.full((), xp.nan, dtype=x.dtype)

    def backward(self, g):
        log_p, q = self.saved
        grad = array_module(g).exp(log_p)
        grad *= fast_sum(q, (1,))
        grad -= q
        if self.reduction == "none":
            return grad * g[:, None]
        if self.reduction == "mean":  # all targets ignored: nothing contributed, so no gradient
            return grad * (g / g.dtype.type(self.denominator) if self.denominator else 0 * g)
        return grad * g
