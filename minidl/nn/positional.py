"""Position information for a Transformer, which by itself ignores the order of its inputs.

* :class:`SinusoidalPositionalEncoding` (fixed, "Attention Is All You Need"):
      PE[pos, 2i] = sin(pos / 10000^(2i/d)),   PE[pos, 2i+1] = cos(pos / 10000^(2i/d))
* :class:`LearnedPositionalEmbedding` (trained, as in BERT and GPT): a table W (max_len, d) ~ N(0, 1).

Both return ``dropout(x + P[:L])`` for inputs x of shape (L, B, d), (B, L, d) with
``batch_first=True``, or unbatched (L, d).
"""

from __future__ import annotations

import numpy as np

from minidl.core import creation
from minidl.core.dtypes import get_default_dtype
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.module import Module, Parameter


def sinusoidal_table(max_len, d_model):
    """The (max_len, d_model) float64 NumPy table PE of the module docstring (any d_model, even or odd)."""
    position = np.arange(max_len)[:, None]
    angle = position / 10000.0 ** (np.arange(0, d_model, 2) / d_model)  # column i: pos / 10000^(2i/d)
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return table


class _Positional(Module):
    """Adds rows 0..L-1 of a (max_len, d_model) table to the input, then applies dropout."""

    def _add_positions(self, x, table):
        seq_dim = 1 if self.batch_first and x.ndim == 3 else 0
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ShapeError(f"{type(self).__name__}: expected input (L, B, {self.d_model}), (B, L, {self.d_model}) "
                             f"with batch_first=True, or (L, {self.d_model}), got shape {x.shape}")
        length = x.shape[seq_dim]
        if length > self.max_len:
            raise ValueError(f"{type(self).__name__}: the sequence has {length} positions (dim {seq_dim} of input "
                             f"{x.shape}) but max_len={self.max_len}; build the module with a larger max_len")
        rows = table[:length]
        if x.ndim == 3 and not self.batch_first:
            rows = rows.unsqueeze(1)  # (L, 1, d) broadcasts over the batch dim
        return F.dropout(x + rows, self.dropout_p, self.training)

    def extra_repr(self):
        return (f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.dropout_p}, "
                f"batch_first={self.batch_first}")


class SinusoidalPositionalEncoding(_Positional):
    """dropout(x + PE[:L]) with the fixed table PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(...).

    The table is a non-persistent buffer ``pe`` (max_len, d_model): it follows ``.to()``
    but is not saved in the state dict, since the arguments determine it.
    """

    def __init__(self, d_model, dropout=0.1, max_len=5000, batch_first=False, device=None, dtype=None):
        super().__init__()
        self.d_model, self.dropout_p, self.max_len, self.batch_first = d_model, dropout, max_len, batch_first
        table = creation.as_tensor(sinusoidal_table(max_len, d_model), dtype=dtype or get_default_dtype(),
                                   device=device)
        self.register_buffer("pe", table, persistent=False)

    def forward(self, x):
        return self._add_positions(x, self.pe)


class LearnedPositionalEmbedding(_Positional):
    """dropout(x + W[:L]) with a trained table ``weight`` (max_len, d_model), initialised N(0, 1).

    The argument order and the parameter name follow ``nn.Embedding(num_embeddings, embedding_dim)``.
    """

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False, device=None, dtype=None):
        super().__init__()
        self.d_model, self.dropout_p, self.max_len, self.batch_first = d_model, dropout, max_len, batch_first
        self.weight = Parameter(creation.empty(max_len, d_model, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, x):
        return self._add_positions(x, self.weight)
