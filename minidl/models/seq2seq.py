"""An encoder-decoder Transformer for sequence-to-sequence tasks, on ``nn.Transformer``.

    memory = Encoder(SrcEmb[src] + PE,  key_padding_mask = (src == pad))
    H      = Decoder(TgtEmb[tgt] + PE, memory,  causal mask, tgt and memory padding masks)
    logits = H W_outᵀ + b_out                                     (B, T, tgt_vocab)

PE is the fixed sinusoidal table PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] =
cos(pos/10000^(2i/d)). The embeddings start as N(0, 1), on the scale of PE, so they are
added to it without the paper's √d factor.

Training uses teacher forcing: the decoder reads the target shifted right,
``tgt_in = [BOS, y₁, …, y_n]``, and is scored against ``tgt_out = [y₁, …, y_n, EOS]`` with
[PAD] ignored. :meth:`Seq2SeqTransformer.greedy_decode` then produces outputs one token
at a time, always taking the most likely token.
"""

from __future__ import annotations

import numpy as np

from minidl import nn
from minidl.core import no_grad
from minidl.core.backend import to_numpy
from minidl.models.bert import as_ids
from minidl.nn import functional as F


class Seq2SeqTransformer(nn.Module):
    """``forward(src, tgt_in) -> logits``; ``encode``/``decode`` expose the two halves."""

    def __init__(self, src_vocab, tgt_vocab, d_model=128, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                 dim_feedforward=512, dropout=0.1, max_len=64, pad_id=0):
        super().__init__()
        self.src_vocab, self.tgt_vocab, self.max_len, self.pad_id = src_vocab, tgt_vocab, max_len, pad_id
        self.src_embedding = nn.Embedding(src_vocab, d_model, padding_idx=pad_id)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d_model, padding_idx=pad_id)
        self.positions = nn.SinusoidalPositionalEncoding(d_model, dropout, max_len, batch_first=True)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, batch_first=True)
        self.generator = nn.Linear(d_model, tgt_vocab)
        self._masks = {}

    def causal_mask(self, length, device=None):
        """The bool (T, T) mask, True above the diagonal (cached per length and device)."""
        key = (length, str(device))
        if key not in self._masks:
            self._masks[key] = nn.causal_mask(length, device=device)
        return self._masks[key]

    def _check(self, name, ids):
        ids = as_ids(ids, self.generator.weight.device)
        if ids.ndim != 2 or ids.shape[1] > self.max_len:
            raise ValueError(f"Seq2SeqTransformer: {name} must be (batch, length) with length <= max_len="
                             f"{self.max_len}, got shape {ids.shape}")
        return ids

    def encode(self, src):
        """(memory (B, S, d), source padding mask (B, S), True at [PAD])."""
        src = self._check("src", src)
        padding = src == self.pad_id
        memory = self.transformer.encoder(self.positions(self.src_embedding(src)), src_key_padding_mask=padding)
        return memory, padding

    def decode(self, tgt, memory, src_padding):
        """Decoder hidden states (B, T, d) for the shifted target ``tgt`` (B, T)."""
        tgt = self._check("tgt", tgt)
        return self.transformer.decoder(self.positions(self.tgt_embedding(tgt)), memory,
                                        tgt_mask=self.causal_mask(tgt.shape[1], tgt.device),
                                        tgt_key_padding_mask=tgt == self.pad_id,
                                        memory_key_padding_mask=src_padding, tgt_is_causal=True)

    def forward(self, src, tgt):
        """Logits (B, T, tgt_vocab) of the next target token at every position of ``tgt``."""
        memory, src_padding = self.encode(src)
        return self.generator(self.decode(tgt, memory, src_padding))

    def loss(self, src, tgt_in, tgt_out, label_smoothing=0.0):
        """Mean cross-entropy of the logits against ``tgt_out``, [PAD] positions ignored."""
        logits = self(src, tgt_in)
        target = as_ids(tgt_out, logits.device).reshape(-1)
        return F.cross_entropy(logits.reshape(-1, self.tgt_vocab), target, ignore_index=self.pad_id,
                               label_smoothing=label_smoothing)

    def greedy_decode(self, src, max_len, bos_id, eos_id):
        """Batched greedy decoding: int64 NumPy ids (B, n ≤ max_len) starting with ``bos_id``.

        The source is encoded once; each step runs the decoder over the prefix and appends
        argmax of the last position's logits to every row. A row that has produced
        ``eos_id`` gets [PAD] from then on, and decoding stops as soon as every row has
        produced ``eos_id`` (or the output has ``max_len`` tokens).
        """
        if not isinstance(max_len, (int, np.integer)) or not 1 <= max_len <= self.max_len:
            raise ValueError(f"greedy_decode: max_len must be an integer in [1, {self.max_len}], got {max_len!r}")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                memory, src_padding = self.encode(src)
                ys = np.full((memory.shape[0], 1), bos_id, dtype=np.int64)
                done = np.zeros(memory.shape[0], dtype=bool)
                while ys.shape[1] < max_len and not done.all():
                    hidden = self.decode(ys, memory, src_padding)
                    logits = self.generator(hidden[:, -1])
                    token = np.where(done, self.pad_id, to_numpy(logits.argmax(dim=-1).array))
                    ys = np.concatenate([ys, token[:, None].astype(np.int64)], axis=1)
                    done |= token == eos_id
        finally:
            self.train(was_training)
        return ys
