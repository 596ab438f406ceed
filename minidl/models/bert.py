"""A miniature BERT: a Transformer encoder pretrained by masked language modelling, then fine-tuned.

    E = dropout(LayerNorm(TokenEmb[ids] + PosEmb[0..T-1]))         (no segment embeddings)
    H = Encoder(E, key_padding_mask = (ids == pad_id))             (post-norm layers, GELU)

Two heads read H:

* masked-LM (pretraining):  logits = LayerNorm(GELU(H W₁ + b₁)) Eᵀ + b   over the vocabulary;
  by default the output matrix is the token embedding E itself (weight tying, as in BERT), so
  the input and output representations of a character are one vector and the head adds
  only d² + 3d + V parameters. ``tie_weights=False`` gives it its own ``Linear(d, V)``.
* classification (fine-tuning):  pooled = tanh(H[:, 0] W_p + b_p) at the [CLS] position,
  logits = dropout(pooled) W_c + b_c.

Embeddings start as N(0, 0.02²) (BERT's initialiser, and small enough that the tied
output layer starts with logits near zero); the [PAD] row starts at zero.
"""

from __future__ import annotations

from minidl.core import creation
from minidl import nn
from minidl.nn import functional as F
from minidl.nn import init
from minidl.core.tensor import Tensor


def as_ids(ids, device=None):
    """Token ids as an integer tensor: lists and NumPy arrays become a tensor on ``device``;
    a tensor is used as it is (so a tensor on another device than the model's is an error)."""
    ids = ids if isinstance(ids, Tensor) else creation.as_tensor(ids, device=device)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"expected integer token ids, got dtype {ids.dtype}")
    return ids


def check_ids(model, ids):
    """Raise a clear error for ids that are not (batch, length) with length ≤ max_len."""
    if ids.ndim != 2:
        raise ValueError(f"{type(model).__name__}: expected token ids of shape (batch, length), got {ids.shape}")
    if ids.shape[1] > model.max_len:
        raise ValueError(f"{type(model).__name__}: sequences of length {ids.shape[1]} exceed max_len="
                         f"{model.max_len}")


def small_normal_(embedding, std=0.02):
    """Re-initialise an Embedding as N(0, std²), keeping its padding row at zero."""
    init.normal_(embedding.weight, std=std)
    if getattr(embedding, "padding_idx", None) is not None:
        embedding.weight.array[embedding.padding_idx] = 0


class MiniBERT(nn.Module):
    """BERT-style encoder with a masked-LM head and a [CLS] classification head.

    ``forward(ids) -> H`` (B, T, d); ``mlm_logits(ids)`` (B, T, V); ``classify(ids)`` (B, num_classes).
    ``ids`` is (B, T) with T ≤ max_len; [PAD] positions are hidden from attention as keys.
    """

    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=2, dim_feedforward=512, max_len=128,
                 dropout=0.1, pad_id=0, num_classes=2, tie_weights=True):
        super().__init__()
        self.vocab_size, self.d_model, self.max_len, self.pad_id = vocab_size, d_model, max_len, pad_id
        self.tie_weights = tie_weights
        self.token_embedding = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.position_embedding = nn.LearnedPositionalEmbedding(max_len, d_model, batch_first=True)
        self.embedding_norm = nn.LayerNorm(d_model)
        self.embedding_dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.mlm_transform = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.LayerNorm(d_model))
        if tie_weights:
            self.mlm_bias = nn.Parameter(creation.zeros(vocab_size))
        else:
            self.mlm_decoder = nn.Linear(d_model, vocab_size)
        self.pooler = nn.Linear(d_model, d_model)
        self.classifier_dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(d_model, num_classes)
        small_normal_(self.token_embedding)
        init.normal_(self.position_embedding.weight, std=0.02)

    def embed(self, ids):
        """E = dropout(LayerNorm(TokenEmb[ids] + PosEmb[:T]))."""
        return self.embedding_dropout(self.embedding_norm(self.position_embedding(self.token_embedding(ids))))

    def forward(self, ids):
        """Hidden states H (B, T, d) of the encoder."""
        ids = as_ids(ids, self.token_embedding.weight.device)
        check_ids(self, ids)
        return self.encoder(self.embed(ids), src_key_padding_mask=ids == self.pad_id)

    def mlm_logits(self, ids, hidden=None):
        """Masked-LM logits (B, T, V) = LayerNorm(GELU(H W₁ + b₁)) Wᵀ + b (W = token embedding if tied)."""
        hidden = self(ids) if hidden is None else hidden
        features = self.mlm_transform(hidden)
        if self.tie_weights:
            return F.linear(features, self.token_embedding.weight, self.mlm_bias)
        return self.mlm_decoder(features)

    def pooled(self, ids, hidden=None):
        """tanh(H[:, 0] W_p + b_p): the pooled [CLS] vector (B, d)."""
        hidden = self(ids) if hidden is None else hidden
        return F.tanh(self.pooler(hidden[:, 0]))

    def classify(self, ids, hidden=None):
        """Class logits (B, num_classes) from the pooled [CLS] vector."""
        return self.classifier(self.classifier_dropout(self.pooled(ids, hidden)))

    def mlm_loss(self, inputs, labels):
        """Mean cross-entropy of the masked-LM logits over the positions whose label is not -100."""
        logits = self.mlm_logits(inputs)
        labels = as_ids(labels, logits.device)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), labels.reshape(-1))
