"""The encoder-decoder Transformer, with PyTorch's classes, arguments and parameter names.

Encoder layer, post-norm (``norm_first=False``, the original paper) and pre-norm:

    x = norm1(x + SelfAttention(x))              x = x + SelfAttention(norm1(x))
    x = norm2(x + FeedForward(x))                x = x + FeedForward(norm2(x))

    FeedForward(x) = linear2(dropout(activation(linear1(x))))

The decoder layer puts cross-attention to the encoder's output (``memory``) between them:
``x = norm2(x + CrossAttention(x, memory))`` (and the feed-forward block uses norm3).
Every sub-block's output passes a dropout before it is added to the residual stream.

    Encoder(X) = norm(layer_N(... layer_1(X)))
    Decoder(Y, E, S) = norm(layer_N(... layer_1(Y, E, S)))    (E: memory, S: masks)

Masks follow ``MultiheadAttention`` (bool True = masked, float = added); see
``minidl.nn.attention`` for helpers, and :meth:`Transformer.generate_square_subsequent_mask`.
"""

from __future__ import annotations

import copy

import numpy as np

from minidl.core import creation
from minidl.core.dtypes import get_default_dtype
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.attention import MultiheadAttention, check_attn_mask
from minidl.nn.containers import ModuleList
from minidl.nn.layers import Dropout, Linear
from minidl.nn.module import Module
from minidl.nn.norm import LayerNorm


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """Float (sz, sz) causal mask: -inf above the diagonal (future positions), 0 elsewhere."""
    mask = np.triu(np.full((sz, sz), -np.inf), k=1).astype(dtype or get_default_dtype())
    return creation.as_tensor(mask, device=device)


def _activation_fn(activation, where):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ValueError(f"{where}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")


class _Layer(Module):
    """What encoder and decoder layers share: the feed-forward and attention blocks."""

    def _ff_block(self, x, dropout):
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    @staticmethod
    def _attention_block(attention, x, memory, mask, key_padding_mask, is_causal, dropout):
        out = attention(x, memory, memory, attn_mask=mask, key_padding_mask=key_padding_mask,
                        need_weights=False, is_causal=is_causal)[0]
        return dropout(out)

    def _check_mask(self, name, mask, x, source):
        """A mask this layer hands to attention (as attn_mask), checked under the name the user gave it:
        (L, S) or (batch·nhead, L, S), L and S the lengths of ``x`` and ``source``."""
        if mask is None or not hasattr(mask, "shape") or x.ndim not in (2, 3) or source.ndim != x.ndim:
            return  # no mask, or inputs that attention itself refuses with a clear error
        seq_dim = 1 if self.self_attn.batch_first and x.ndim == 3 else 0
        batch = x.shape[1 - seq_dim] if x.ndim == 3 else 1
        check_attn_mask(mask, x.shape[seq_dim], source.shape[seq_dim], batch, self.self_attn.num_heads,
                        type(self).__name__, name)

    def _build_feed_forward(self, d_model, dim_feedforward, dropout, bias, factory):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)


class TransformerEncoderLayer(_Layer):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **factory)
        self._build_feed_forward(d_model, dim_feedforward, dropout, bias, factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation_fn(activation, type(self).__name__)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        self._check_mask("src_mask", src_mask, src, src)

        def self_attention(x):
            return self._attention_block(self.self_attn, x, x, src_mask, src_key_padding_mask, is_causal,
                                         self.dropout1)

        x = src
        if self.norm_first:
            x = x + self_attention(self.norm1(x))
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self_attention(x))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Layer):
    """Self-attention, cross-attention to the encoder's memory and a feed-forward block."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **factory)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, **factory)
        self._build_feed_forward(d_model, dim_feedforward, dropout, bias, factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation_fn(activation, type(self).__name__)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        self._check_mask("tgt_mask", tgt_mask, tgt, tgt)
        self._check_mask("memory_mask", memory_mask, tgt, memory)

        def self_attention(x):
            return self._attention_block(self.self_attn, x, x, tgt_mask, tgt_key_padding_mask, tgt_is_causal,
                                         self.dropout1)

        def cross_attention(x):
            return self._attention_block(self.multihead_attn, x, memory, memory_mask, memory_key_padding_mask,
                                         memory_is_causal, self.dropout2)

        x = tgt
        if self.norm_first:
            x = x + self_attention(self.norm1(x))
            x = x + cross_attention(self.norm2(x))
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self_attention(x))
        x = self.norm2(x + cross_attention(x))
        return self.norm3(x + self._ff_block(x, self.dropout3))


def _clones(layer, num_layers):
    """num_layers independent deep copies of layer (each with its own parameter arrays)."""
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """Encoder(X) = norm(layer_N(... layer_1(X))) with N deep copies of ``encoder_layer``.

    ``enable_nested_tensor`` and ``mask_check`` (PyTorch's fast-path switches) are accepted and ignored.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return self.norm(output) if self.norm is not None else output


class TransformerDecoder(Module):
    """Decoder(Y, E, S) = norm(layer_N(... layer_1(Y, E, S))) with N deep copies of ``decoder_layer``."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(output) if self.norm is not None else output


class Transformer(Module):
    """The encoder-decoder Transformer: ``Decoder(tgt, Encoder(src), masks)``.

    As in PyTorch, every parameter with more than one dim is re-initialised with
    xavier_uniform after construction, and the encoder and the decoder end with a LayerNorm.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*layer_args, **factory), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*layer_args, **factory), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self):
        for param in self.parameters():
            if param.ndim > 1:
                init.xavier_uniform_(param)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise ShapeError(f"Transformer: src {src.shape} and tgt {tgt.shape} must have the same batch size in "
                             f"dim {batch_dim} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: the last dim of src {src.shape} and tgt {tgt.shape} must be "
                             f"d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)
