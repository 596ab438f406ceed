"""Kernels of the losses: cross-entropy (dense targets, and class indices by a gather) with a shared
shift where safe and BLAS row sums."""

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
        return textbook._reduced_rows(xp, per_row, reduction, denominator, x.dtype)

    def backward(self, g):
        log_p, q = self.saved
        grad = array_module(g).exp(log_p)
        grad *= fast_sum(q, (1,))
        grad -= q
        return textbook._scaled_row_grads(grad, g, self.reduction, self.denominator)


@replaces(textbook.CrossEntropyLabels)
class CrossEntropyLabels(textbook.CrossEntropyLabels):
    """class-index cross-entropy: the log-softmax's row sums through fast_sum, only softmax's
    exponentials kept (log p is needed only at the labels, picked in the forward)."""

    def forward(self, x, labels, w, denominator, reduction):
        xp = array_module(x)
        shifted = x - softmax_shift(x, 1)
        p = xp.exp(shifted)
        totals = fast_sum(p, (1,))
        rows = xp.arange(len(labels))
        per_row = (xp.log(totals[:, 0]) - shifted[rows, labels]) * w
        p *= 1 / totals
        self.save(p, labels, w)
        self.denominator, self.reduction = denominator, reduction
        return textbook._reduced_rows(xp, per_row, reduction, denominator, x.dtype)

    def backward(self, g):
        p, labels, w = self.saved
        grad = p * w[:, None]
        grad[array_module(g).arange(len(labels)), labels] -= w
        return textbook._scaled_row_grads(grad, g, self.reduction, self.denominator)
