"""Scaled dot-product attention, Attention(Q, K, V) = softmax(QKᵀ/√d_k)V, as one node.

Forward, for queries Q (..., L, E), keys K (..., S, E), values V (..., S, Eᵥ):
    S = Q Kᵀ · scale + M          (M: 0 / -inf from a bool mask, or a float mask)
    P = softmax(S) row-wise       (a row with every key masked gives P = 0)
    O = P V
Backward, with G = dL/dO:
    dV = Pᵀ G,   dP = G Vᵀ,   dS = P ⊙ (dP - rowsum(dP ⊙ P)),
    dQ = dS K · scale,   dK = dSᵀ Q · scale,   dM = dS (for a float mask that requires grad).
With dropout, P is replaced by P ⊙ D/(1-p) in O and the same mask scales dP.
The node returns the weights too (after dropout, as PyTorch's MultiheadAttention
reports them): a gradient reaching them is added to dP. The kernel in
``minidl/kernels/attention.py`` computes the same with threaded products and
fewer passes.
"""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.backend import array_module, to_device
from minidl.core.creation import default_generator
from minidl.core.errors import DeviceError, ShapeError
from minidl.ops.common import as_tensor


class ScaledDotProductAttention(Function):
    """(O, P) = (softmax(Q Kᵀ·scale + M) V, the weights P);  see the module docstring for the backward"""

    def forward(self, q, k, v, learned_mask=None, mask=None, scale=1.0, keep=None, mask_from_bool=False):
        xp = array_module(q)
        mask = learned_mask if learned_mask is not None else mask
        scores = (q @ k.swapaxes(-1, -2)) * q.dtype.type(scale)
        if mask is not None:
            scores = scores + mask
        if scores.size:
            row_max = scores.max(axis=-1, keepdims=True)
            e = xp.exp(scores - xp.where(xp.isfinite(row_max), row_max, 0))  # a row masked entirely: all zeros
            totals = e.sum(axis=-1, keepdims=True)
            weights = e / xp.where(totals == 0, 1, totals)
        else:  # no queries or no keys: no weights, and zeros for queries without keys (as in PyTorch)
            weights = xp.zeros(scores.shape, dtype=scores.dtype)
        used = weights if keep is None else weights * keep
        self.save(q, k, v, weights, keep)
        self.scale = scale
        return used @ v, used

    def backward(self, g, g_weights):
        q, k, v, weights, keep = self.saved
        xp = array_module(q)
        scale = q.dtype.type(self.scale)
        used = weights if keep is None else weights * keep
        d_used = xp.zeros_like(weights) if g is None else g @ v.swapaxes(-1, -2)
        if g_weights is not None:
            d_used = d_used + g_weights
        d_weights = d_used if keep is None else d_used * keep
        d_scores = weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True))
        grad_v = xp.zeros_like(v) if g is None else used.swapaxes(-1, -2) @ g
        grads = (d_scores @ k * scale, d_scores.swapaxes(-1, -2) @ q * scale, grad_v)
        return grads + (d_scores,) if len(self.needs_grad) > 3 else grads


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None):
    """softmax(Q Kᵀ/√E + mask) V with PyTorch's arguments (see :func:`attention_with_weights`)."""
    return attention_with_weights(query, key, value, attn_mask, dropout_p, is_causal, scale)[0]


def attention_with_weights(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """(softmax(Q Kᵀ/√E + mask) V, the attention weights after dropout), both differentiable.

    ``attn_mask``: a bool mask where True means *take part in attention* (PyTorch's SDPA
    convention; note MultiheadAttention's is the opposite), or a float mask added to the
    scores; it broadcasts to (..., L, S). ``is_causal`` lets query i see keys j ≤ i.
    A query whose keys are all masked gets zeros (and zero gradients), not NaN.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise ShapeError(f"scaled_dot_product_attention: {name} needs at least 2 dims (..., length, features), "
                             f"got shape {t.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
                         f"{value.shape} do not fit: need query[-1] == key[-1] and key[-2] == value[-2]")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}")
    length, source = query.shape[-2], key.shape[-2]
    xp = array_module(query.array)
    mask_tensor = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
        attn_mask = as_tensor(xp.tril(xp.ones((length, source), dtype=bool)))
    mask = None
    if attn_mask is not None:
        attn_mask = as_tensor(attn_mask)
        if attn_mask.device != query.device:
            raise DeviceError(f"scaled_dot_product_attention: query is on {query.device} but attn_mask on "
                              f"{attn_mask.device}; move the mask with .to({str(query.device)!r})")
        _check_mask(attn_mask, query.shape[:-2] + (length, source))
        if attn_mask.dtype.kind == "b":
            mask = xp.where(attn_mask.array, query.dtype.type(0), query.dtype.type(-math.inf))
        else:
            mask = attn_mask.array.astype(query.dtype, copy=False)
            mask_tensor = attn_mask if attn_mask.requires_grad else None
    keep = None
    if dropout_p > 0:
        shape = query.shape[:-2] + (length, source)
        keep = to_device((default_generator().random(shape) >= dropout_p) / (1 - dropout_p), query.device)
        keep = keep.astype(query.dtype)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if mask_tensor is not None:  # a float mask that is learned gets a gradient too
        return ScaledDotProductAttention.apply(query, key, value, mask_tensor, scale=scale, keep=keep)
    return ScaledDotProductAttention.apply(query, key, value, mask=mask, scale=scale, keep=keep,
                                           mask_from_bool=attn_mask is not None and attn_mask.dtype.kind == "b")


def _check_mask(mask, scores_shape):
    if mask.dtype.kind not in "bf":
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool or float, got dtype {mask.dtype}")
    shape = tuple(mask.shape)
    padded = (1,) * (len(scores_shape) - len(shape)) + shape
    if len(shape) > len(scores_shape) or any(m not in (1, s) for m, s in zip(padded, scores_shape)):
        raise ShapeError(f"scaled_dot_product_attention: attn_mask of shape {shape} does not broadcast to the "
                         f"attention scores' shape {scores_shape}")
