"""Multi-head attention, and helpers that build the masks it takes.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) Wᴼ
    head_i = Attention(Q Wᵢ^Q, K Wᵢ^K, V Wᵢ^V),   Attention(Q, K, V) = softmax(Q Kᵀ/√d_k + M) V

with d_k = embed_dim / num_heads. As in PyTorch the h matrices Wᵢ^Q (and Wᵢ^K,
Wᵢ^V) are stacked into one ``in_proj_weight`` of shape (3E, E), so all heads are
projected by one GEMM; the heads are then a reshape to (B, h, L, d_k), and one
``F.scaled_dot_product_attention`` node computes every head of every batch element.

Masks (M above) — two conventions, both PyTorch's:

=====================================  =================================================
``MultiheadAttention`` / ``nn.Transformer``  bool: True = NOT allowed (masked); float: added
``F.scaled_dot_product_attention``     bool: True = take part; float: added
=====================================  =================================================

``attn_mask`` (L, S) or (B·h, L, S) says which keys each query may see;
``key_padding_mask`` (B, S) marks padded keys (True = ignore). :func:`causal_mask`
and :func:`padding_mask` build both in the MultiheadAttention convention, and
``nn.Transformer.generate_square_subsequent_mask`` the float (-inf) causal mask.

A query whose keys are all masked gets zeros (and zero gradients) in minidl,
where PyTorch gives NaN.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.core import creation
from minidl.core.backend import array_module, to_numpy
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.layers import Linear
from minidl.nn.module import Module, Parameter
from minidl.ops.attention import attention_with_weights
from minidl.ops.common import is_tensor, wrap


# --- masks -------------------------------------------------------------------------------------

def causal_mask(length, device=None):
    """Bool (length, length) mask, True above the diagonal: query i must not see keys j > i.

    For ``MultiheadAttention(attn_mask=...)`` and ``nn.Transformer`` (True = masked).
    ``F.scaled_dot_product_attention`` uses the opposite convention: pass
    ``is_causal=True`` there, or ``~causal_mask(length)``.

    >>> causal_mask(3).numpy()
    array([[False,  True,  True],
           [False, False,  True],
           [False, False, False]])
    """
    return creation.as_tensor(np.triu(np.ones((length, length), dtype=bool), k=1), device=device)


def padding_mask(lengths_or_ids, pad_id=None, max_len=None, device=None):
    """Bool (B, S) ``key_padding_mask``, True at padding positions.

    * from lengths: ``padding_mask([3, 1])`` -> ``[[F, F, F], [F, T, T]]``; the width is
      ``max_len`` when given, else the longest length;
    * from token ids: ``padding_mask(ids, pad_id=0)`` is ``ids == 0``.

    The mask lives on ``device`` when given, else on the device of the input tensor.
    """
    if pad_id is not None:
        if max_len is not None:
            raise ValueError("padding_mask: max_len applies to lengths only; token ids already have their width")
        ids = lengths_or_ids if is_tensor(lengths_or_ids) else creation.tensor(lengths_or_ids)
        mask = ids == pad_id
        return mask if device is None else mask.to(device)
    source_device = lengths_or_ids.device if is_tensor(lengths_or_ids) else None
    lengths = np.asarray(to_numpy(lengths_or_ids.array) if is_tensor(lengths_or_ids) else lengths_or_ids)
    if lengths.ndim != 1 or (lengths.size and lengths.dtype.kind not in "iu"):
        raise TypeError(f"padding_mask: expected a 1-D sequence of integer lengths (or token ids with pad_id=...), "
                        f"got shape {lengths.shape} and dtype {lengths.dtype}")
    if (lengths < 0).any():
        raise ValueError(f"padding_mask: lengths must be non-negative, got {lengths.tolist()}")
    width = int(lengths.max(initial=0)) if max_len is None else int(max_len)
    if (lengths > width).any():
        raise ValueError(f"padding_mask: a length {int(lengths.max())} is longer than max_len={width}")
    mask = np.arange(width)[None, :] >= lengths[:, None]
    return creation.as_tensor(mask, device=device if device is not None else source_device)


def _additive_mask(name, mask, dtype):
    """A bool (True = masked) or float mask as the float mask added to the scores (0 / -inf)."""
    mask = mask if is_tensor(mask) else creation.as_tensor(mask)
    if mask.dtype.kind == "b":
        xp = array_module(mask.array)
        return wrap(xp.where(mask.array, dtype.type(-math.inf), dtype.type(0)))
    if mask.dtype.kind == "f":
        return mask if mask.dtype == dtype else mask.to(dtype)
    raise TypeError(f"MultiheadAttention: {name} must be a bool or floating-point tensor, got dtype {mask.dtype}")


# --- the layer ---------------------------------------------------------------------------------

class NonDynamicallyQuantizableLinear(Linear):
    """A plain Linear; PyTorch's class name for ``MultiheadAttention.out_proj``, kept so reprs match."""


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) Wᴼ,  head_i = Attention(Q Wᵢ^Q, K Wᵢ^K, V Wᵢ^V).

    PyTorch's arguments and parameters: ``in_proj_weight`` (3E, E) xavier-uniform,
    ``in_proj_bias`` (3E) zeros, ``out_proj`` (a Linear: weight with Linear's default
    init, bias zeros). Inputs are (L, B, E), or (B, L, E) with ``batch_first=True``,
    or unbatched (L, E). ``add_bias_kv``, ``add_zero_attn`` and ``kdim``/``vdim``
    other than ``embed_dim`` are not supported.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        _check_arguments(embed_dim, num_heads, dropout, add_bias_kv, add_zero_attn, kdim, vdim)
        self.embed_dim, self.kdim, self.vdim = embed_dim, embed_dim, embed_dim
        self._qkv_same_embed_dim = True
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, dtype=dtype, device=device))
        for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
            self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, dtype=dtype, device=device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Returns (output, weights): output like ``query``; weights (B, L, S) averaged over heads,
        (B, h, L, S) with ``average_attn_weights=False``, or None with ``need_weights=False``.

        ``is_causal`` is only a hint that ``attn_mask`` is causal (as in PyTorch), so a mask is required.
        """
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is only a hint that attn_mask is the causal mask "
                             "(as in PyTorch), so attn_mask is required; pass attn_mask=causal_mask(L) or "
                             "nn.Transformer.generate_square_subsequent_mask(L)")
        if not batched:  # (L, E) -> (L, 1, E), as PyTorch does (batch_first does not apply)
            query, key, value = _map_once(lambda t: t.unsqueeze(1), query, key, value)
        batch_first = self.batch_first and batched
        q, k, v = self._project(query, key, value, batch_first)
        mask = self._merged_mask(attn_mask, key_padding_mask, q, k.shape[-2], batched)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = attention_with_weights(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        if not need_weights:
            weights = None
        elif average_attn_weights:
            weights = weights.mean(dim=1)
        out = self.out_proj(_merge_heads(out, batch_first))
        if not batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0) if weights is not None else None
        return out, weights

    def _check_inputs(self, query, key, value):
        """Shapes as PyTorch accepts them; returns whether the inputs are batched."""
        shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"MultiheadAttention: expected query, key and value all 3-D (batched) or all 2-D "
                             f"(unbatched), got {shapes}")
        if key.shape != value.shape:
            raise ShapeError(f"MultiheadAttention: key and value must have the same shape, got {shapes}")
        if query.shape[-1] != self.embed_dim or key.shape[-1] != self.embed_dim:
            raise ShapeError(f"MultiheadAttention: expected embed_dim={self.embed_dim} in the last dim, got {shapes}")
        batch_dim = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch_dim] != key.shape[batch_dim]:
            raise ShapeError(f"MultiheadAttention: query and key have different batch sizes in dim {batch_dim} "
                             f"(batch_first={self.batch_first}): {shapes}")
        return query.ndim == 3

    def _project(self, query, key, value, batch_first):
        """Q Wᵠ, K Wᵏ, V Wᵛ split into heads, each (B, h, length, d_k).

        Self-attention (``query is key is value``) projects with one GEMM against the whole
        (3E, E) ``in_proj_weight``; ``key is value`` with two; otherwise with its three slices.
        """
        w, b, e = self.in_proj_weight, self.in_proj_bias, self.embed_dim

        def project(x, rows=None):
            weight, bias = (w, b) if rows is None else (w[rows], None if b is None else b[rows])
            heads = _split_heads(F.linear(x, weight, bias), self.num_heads, self.head_dim, batch_first)
            return [heads[i] for i in range(heads.shape[0])]

        if query is key is value:
            return project(query)
        if key is value:
            return project(query, slice(0, e)) + project(key, slice(e, None))
        return project(query, slice(0, e)) + project(key, slice(e, 2 * e)) + project(value, slice(2 * e, None))

    def _merged_mask(self, attn_mask, key_padding_mask, q, source, batched):
        """attn_mask and key_padding_mask as one float mask (0 / -inf, or the given values) that
        broadcasts to the scores (B, h, L, S); None when there is no mask."""
        batch, heads, length = q.shape[:3]
        merged = None
        if attn_mask is not None:
            mask = _additive_mask("attn_mask", attn_mask, q.dtype)
            check_attn_mask(mask, length, source, batch, heads)
            if mask.shape == (length, source):
                mask = mask.reshape(1, 1, length, source)
            else:
                mask = mask.reshape(batch, heads, length, source)
            merged = mask
        if key_padding_mask is not None:
            mask = _additive_mask("key_padding_mask", key_padding_mask, q.dtype)
            expected = (batch, source) if batched else (source,)
            if mask.shape != expected:
                raise ShapeError(f"MultiheadAttention: key_padding_mask must have shape (batch, S) = {expected}"
                                 f"{'' if batched else ' for unbatched inputs'}, got {tuple(key_padding_mask.shape)}")
            mask = mask.reshape(batch, 1, 1, source)
            merged = mask if merged is None else merged + mask
        return merged


def check_attn_mask(mask, length, source, batch, heads, where="MultiheadAttention", name="attn_mask"):
    """An attention mask must be (L, S) or (batch·heads, L, S); ``where`` and ``name`` are the layer
    and the argument the user passed it as (a Transformer's ``tgt_mask`` reaches attention as attn_mask)."""
    shape = tuple(mask.shape)
    if shape != (length, source) and shape != (batch * heads, length, source):
        raise ShapeError(f"{where}: {name} must have shape (L, S) = {(length, source)} or "
                         f"(batch * num_heads, L, S) = {(batch * heads, length, source)}, got {shape}")


def _check_arguments(embed_dim, num_heads, dropout, add_bias_kv, add_zero_attn, kdim, vdim):
    if embed_dim <= 0 or num_heads <= 0:
        raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, "
                         f"got embed_dim={embed_dim} and num_heads={num_heads}")
    if embed_dim % num_heads:
        raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                         f"({num_heads}); each head gets embed_dim / num_heads features")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
    if add_bias_kv or add_zero_attn:
        raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported in minidl")
    for name, dim in (("kdim", kdim), ("vdim", vdim)):
        if dim is not None and dim != embed_dim:
            raise NotImplementedError(f"MultiheadAttention: {name}={dim} differs from embed_dim={embed_dim}; minidl "
                                      "supports only keys and values with embed_dim features (one in_proj_weight)")


def _map_once(fn, *tensors):
    """fn applied to each distinct tensor once, so that ``query is key is value`` still holds after."""
    results = {}
    for t in tensors:
        if id(t) not in results:
            results[id(t)] = fn(t)
    return tuple(results[id(t)] for t in tensors)


def _split_heads(x, num_heads, head_dim, batch_first):
    """(L, B, n·E) — or (B, L, n·E) — to (n, B, h, L, d_k): n stacked projections, each split into h heads."""
    seq_dim, batch_dim = (1, 0) if batch_first else (0, 1)
    x = x.reshape(x.shape[:2] + (x.shape[2] // (num_heads * head_dim), num_heads, head_dim))  # not -1: L or B may be 0
    return x.permute(2, batch_dim, 3, seq_dim, 4)


def _merge_heads(out, batch_first):
    """Concat(head_1, ..., head_h): (B, h, L, d_k) to (L, B, h·d_k), or (B, L, h·d_k)."""
    out = out.permute(0, 2, 1, 3) if batch_first else out.permute(2, 0, 1, 3)
    return out.reshape(out.shape[:2] + (out.shape[2] * out.shape[3],))
