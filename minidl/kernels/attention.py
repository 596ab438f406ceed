"""The attention kernel: the textbook's scaled dot-product attention with its products on every core,
a shared softmax shift where safe, BLAS row sums and in-place passes; softmax's backward as one
compiled loop over rows where Numba is installed (``loops``)."""

from __future__ import annotations

from minidl.core.backend import array_module
from minidl.core.dispatch import replaces
from minidl.kernels import compiled, loops, products, threads
from minidl.kernels.reduction import fast_sum, softmax_shift
from minidl.ops import attention as textbook


@replaces(textbook.ScaledDotProductAttention)
class ScaledDotProductAttention(textbook.ScaledDotProductAttention):
    """(O, P) as the textbook op; a bool mask (0 / -inf) lets the shift be taken before adding it."""

    def forward(self, q, k, v, learned_mask=None, mask=None, scale=1.0, keep=None, mask_from_bool=False):
        if not (q.shape[-2] and k.shape[-2]):  # no queries or no keys: the textbook op handles sizes 0
            return super().forward(q, k, v, learned_mask, mask, scale, keep, mask_from_bool)
        xp = array_module(q)
        mask = learned_mask if learned_mask is not None else mask
        scores = products.matmul(q, k.swapaxes(-1, -2))
        scores *= q.dtype.type(scale)
        shift = softmax_shift(scores, -1) if mask is None or mask_from_bool else None
        if mask is not None and getattr(shift, "ndim", 0):
            shift = None  # per-row maxima of unmasked scores could sit far above every allowed one
        if mask is not None:
            scores = scores + mask
        if shift is None:  # a float mask: shift after adding it; a row masked entirely has shift -inf
            shift = softmax_shift(scores, -1)
            shift = xp.where(xp.isfinite(shift), shift, 0)
        weights = xp.exp(scores - shift)
        totals = fast_sum(weights, (weights.ndim - 1,))
        weights /= xp.where(totals == 0, 1, totals)  # a row masked entirely gets zeros
        used = weights if keep is None else weights * keep
        self.save(q, k, v, weights, keep)
        self.scale = scale
        return products.matmul(used, v), used

    def backward(self, g, g_weights):
        q, k, v, weights, keep = self.saved
        if not weights.size:
            return super().backward(g, g_weights)
        xp = array_module(g if g is not None else g_weights)
        scale = q.dtype.type(self.scale)
        used = weights if keep is None else weights * keep
        grad_v = None
        if g is not None:
            grad_v = products.matmul(used.swapaxes(-1, -2), g) if self.needs_grad[2] else None
            d_weights = products.matmul(g, v.swapaxes(-1, -2))
            if g_weights is not None:
                d_weights += g_weights
        else:
            d_weights = g_weights.copy()
            grad_v = xp.zeros_like(v)
        if keep is not None:
            d_weights *= keep
        d_scores = _softmax_backward(weights, d_weights)
        grad_q = products.matmul(d_scores, k) * scale if self.needs_grad[0] else None
        grad_k = products.matmul(d_scores.swapaxes(-1, -2), q) * scale if self.needs_grad[1] else None
        grads = (grad_q, grad_k, grad_v)
        if len(self.needs_grad) > 3:
            grads += (d_scores if self.needs_grad[3] else None,)
        return grads


def _softmax_backward(weights, d_weights):
    """dL/ds = p·(dL/dp - Σ p·dL/dp) over each row; a compiled loop in place where available."""
    if not (compiled.runs(weights, d_weights) and weights.flags.c_contiguous and d_weights.flags.c_contiguous):
        return weights * (d_weights - fast_sum(d_weights * weights, (weights.ndim - 1,)))
    weight_rows, grad_rows = weights.reshape(-1, weights.shape[-1]), d_weights.reshape(-1, weights.shape[-1])
    threads.split(lambda part: loops.softmax_rows_backward(weight_rows[part], grad_rows[part]), weight_rows)
    return d_weights
