"""A miniature GPT: a decoder-only Transformer trained to predict the next token.

    X⁰ = TokenEmb[ids] + PosEmb[0..T-1]                         (dropout applied)
    Xˡ = Layerˡ(Xˡ⁻¹, causal mask)       pre-norm: x = x + Attn(LN(x)); x = x + FF(LN(x))
    logits = LN_f(Xᴸ) Wᵀ + b                                    (B, T, V)

The causal mask lets position t attend to positions ≤ t only, so the logits at t
are a distribution p(x_{t+1} | x_{≤t}), and one forward pass trains every position:

    loss = -(1/BT) Σ_{b,t} log softmax(logits[b, t])[ids[b, t+1]]

"Decoder-only" layers have no cross-attention, which makes them encoder layers with a
causal mask: here ``nn.TransformerEncoderLayer(norm_first=True)``. As in GPT-2 the
output matrix W is the token embedding (``tie_weights=True``) and embeddings start as
N(0, 0.02²).

:meth:`MiniGPT.generate` samples autoregressively: x_{t+1} ~ softmax(logits_t / τ), keeping
only the ``top_k`` largest logits when asked, and taking the argmax when τ = 0.
"""

from __future__ import annotations

import numpy as np

from minidl.core import creation
from minidl import nn
from minidl.core import no_grad
from minidl.core.backend import to_numpy
from minidl.models.bert import as_ids, check_ids, small_normal_
from minidl.nn import functional as F
from minidl.nn import init
from minidl.core.tensor import Tensor


class MiniGPT(nn.Module):
    """Decoder-only causal language model: ``forward(ids) -> logits`` (B, T, V)."""

    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=2, dim_feedforward=512, max_len=128,
                 dropout=0.1, tie_weights=True):
        super().__init__()
        self.vocab_size, self.d_model, self.max_len, self.tie_weights = vocab_size, d_model, max_len, tie_weights
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.LearnedPositionalEmbedding(max_len, d_model, dropout=dropout, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(d_model)
        if tie_weights:
            self.lm_bias = nn.Parameter(creation.zeros(vocab_size))
        else:
            self.lm_head = nn.Linear(d_model, vocab_size)
        small_normal_(self.token_embedding)
        init.normal_(self.position_embedding.weight, std=0.02)
        self._masks = {}

    def causal_mask(self, length, device=None):
        """The bool (T, T) mask, True above the diagonal (cached per length and device)."""
        key = (length, str(device))
        if key not in self._masks:
            self._masks[key] = nn.causal_mask(length, device=device)
        return self._masks[key]

    def forward(self, ids):
        """Next-token logits (B, T, V) for ids (B, T), T ≤ max_len."""
        ids = as_ids(ids, self.token_embedding.weight.device)
        check_ids(self, ids)
        x = self.position_embedding(self.token_embedding(ids))
        x = self.final_norm(self.layers(x, mask=self.causal_mask(ids.shape[1], ids.device), is_causal=True))
        if self.tie_weights:
            return F.linear(x, self.token_embedding.weight, self.lm_bias)
        return self.lm_head(x)

    def loss(self, ids):
        """Mean next-token cross-entropy: position t predicts ids[:, t+1] (ids: (B, T+1))."""
        ids = as_ids(ids, self.token_embedding.weight.device)
        logits = self(ids[:, :-1])
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), ids[:, 1:].reshape(-1))

    def generate(self, prompt_ids, max_new_tokens, temperature=1.0, top_k=None, rng=None):
        """Append ``max_new_tokens`` sampled tokens to ``prompt_ids`` (B, T₀) or (T₀,); returns int64 NumPy ids.

        Each step feeds the last ``max_len`` tokens, takes the logits z of the last position and
        samples from softmax(z / temperature) restricted to the ``top_k`` largest z (all when
        None). ``temperature=0`` is greedy decoding (argmax, no randomness). ``rng`` is a
        ``numpy.random.Generator`` or a seed (default: a fresh unseeded generator).
        """
        prompt = _check_generate_arguments(prompt_ids, max_new_tokens, temperature, top_k, self.vocab_size)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        ids = prompt if prompt.ndim == 2 else prompt[None]
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    logits = to_numpy(self(ids[:, -self.max_len:])[:, -1].array).astype(np.float64)
                    ids = np.concatenate([ids, next_tokens(logits, temperature, top_k, rng)[:, None]], axis=1)
        finally:
            self.train(was_training)
        return ids if prompt.ndim == 2 else ids[0]


def next_tokens(logits, temperature, top_k, rng):
    """One token per row of logits (B, V): argmax for τ = 0, else a draw from softmax(top-k(z) / τ)."""
    if temperature == 0:
        return logits.argmax(axis=-1)
    z = logits / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(p.shape[-1], p=row) for row in p], dtype=np.int64)


def _check_generate_arguments(prompt_ids, max_new_tokens, temperature, top_k, vocab_size):
    """The prompt as an int64 NumPy array, after checking every argument of generate()."""
    prompt = np.asarray(to_numpy(prompt_ids.array) if isinstance(prompt_ids, Tensor) else prompt_ids)
    if prompt.ndim not in (1, 2) or prompt.shape[-1] == 0:
        raise ValueError(f"generate: prompt_ids must be a non-empty (T,) or (B, T) array of ids, got shape "
                         f"{prompt.shape}")
    if prompt.dtype.kind not in "iu":
        raise TypeError(f"generate: prompt_ids must be integer token ids, got dtype {prompt.dtype}")
    prompt = prompt.astype(np.int64)
    if prompt.min() < 0 or prompt.max() >= vocab_size:
        raise ValueError(f"generate: prompt ids must lie in [0, {vocab_size}), got values in "
                         f"[{prompt.min()}, {prompt.max()}]")
    if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    if not isinstance(temperature, (int, float)) or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"generate: temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"generate: top_k must be None or an integer >= 1, got {top_k!r}")
    return prompt
