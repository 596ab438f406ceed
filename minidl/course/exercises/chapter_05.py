"""Exercises of chapter 05, attention and the Transformer: attention with a padding mask, softmax's backward,
the heads of multi-head attention, the causal mask."""

from __future__ import annotations

import numpy as np

import minidl
from minidl.course.exercises.grading import Exercise, compare, numerical_gradient, random

TITLE = "Attention and the Transformer"
PREAMBLE = "import numpy as np"


def attention(q, k, v, key_padding_mask=None):
    """Attention(Q, K, V) = softmax(Q Kᵀ / √d + M) V, for one batch of sequences.

    q is (B, L, d), k is (B, S, d), v is (B, S, dᵥ); the result is (B, L, dᵥ). The softmax
    runs over the keys (the last axis of the scores). ``key_padding_mask``, when given,
    is a bool (B, S) array, True at padding keys that no query may attend to: M is −∞
    there and 0 elsewhere. Every sequence keeps at least one real key.
    (minidl: ``minidl/ops/attention.py``, ``ScaledDotProductAttention.forward``.)
    """
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    if key_padding_mask is not None:
        scores = np.where(key_padding_mask[:, None, :], -np.inf, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True) @ v


def softmax_backward(y, g):
    """dL/dx of y = softmax(x) over the last axis, given y itself and g = dL/dy.

    Row by row: dL/dx = y ⊙ (g − Σⱼ gⱼ yⱼ). A softmax's outputs depend on every input of
    their row, so the sum term is not optional.
    (minidl: ``minidl/ops/activation.py``, ``Softmax.backward``.)
    """
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


def split_heads(x, num_heads):
    """(B, T, E) → (B, h, T, E/h): the h heads of multi-head attention side by side.

    Head i takes the features i·E/h … (i + 1)·E/h − 1 of every position: reshape to
    (B, T, h, E/h), then swap the T and h axes. (minidl: ``minidl/nn/attention.py``,
    ``MultiheadAttention``.)
    """
    batch, length, features = x.shape
    return x.reshape(batch, length, num_heads, features // num_heads).transpose(0, 2, 1, 3)


def causal_mask(length):
    """The bool (T, T) causal mask of a decoder: True where query i must NOT see key j, that is j > i.

    (The convention of ``nn.MultiheadAttention`` and ``nn.Transformer``; minidl:
    ``minidl/nn/attention.py``, ``causal_mask``.)
    """
    return np.triu(np.ones((length, length), dtype=bool), k=1)


# ---------------------------------------------------------------- grading

def _reference_attention(q, k, v, padding):
    allowed = None if padding is None else minidl.tensor(~padding[:, None, :])
    return minidl.nn.functional.scaled_dot_product_attention(minidl.tensor(q), minidl.tensor(k), minidl.tensor(v),
                                                             attn_mask=allowed).numpy()


def _grade_attention(answer):
    hint = "scores = Q Kᵀ / √d (d = the last dim of q); −∞ at padding keys; softmax over the keys; then @ V"
    cases = [("no mask, L = S = d", (2, 4, 4), (2, 4, 4), (2, 4, 4), None),
             ("no mask, L ≠ S", (2, 3, 4), (2, 5, 4), (2, 5, 2), None),
             ("a padding mask", (2, 3, 4), (2, 5, 4), (2, 5, 2), np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]], bool))]
    for seed, (label, q_shape, k_shape, v_shape, padding) in enumerate(cases):
        q, k, v = random(seed, *q_shape, low=-2, high=2), random(seed + 1, *k_shape, low=-2, high=2), \
            random(seed + 2, *v_shape)
        got = answer(q.copy(), k.copy(), v.copy(), None if padding is None else padding.copy())
        compare(got, _reference_attention(q, k, v, padding),
                f"the output with {label} (F.scaled_dot_product_attention)", hint)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _grade_softmax_backward(answer):
    for seed, shape in enumerate([(3, 4), (2, 2, 5)]):
        x, g = random(seed, *shape, low=-2, high=2), random(seed + 4, *shape)
        compare(answer(_softmax(x), g.copy()), numerical_gradient(_softmax, [x], 0, g),
                f"dL/dx for x of shape {shape} (by finite differences)",
                "y ⊙ (g − Σ g·y), the sum over the last axis with keepdims=True")


def _grade_split_heads(answer):
    for seed, (shape, heads) in enumerate([((2, 4, 8), 2), ((1, 3, 12), 4), ((2, 2, 6), 1)]):
        x = random(seed, *shape)
        b, t, e = shape
        expected = np.stack([x[:, :, i * e // heads:(i + 1) * e // heads] for i in range(heads)], axis=1)
        compare(answer(x.copy(), heads), expected, f"split_heads of x {shape} into {heads} heads",
                "reshape to (B, T, h, E/h) first, THEN swap axes 1 and 2: reshaping straight to (B, h, T, E/h) "
                "mixes positions into heads")


def _grade_causal_mask(answer):
    for length in (1, 2, 5):
        compare(np.asarray(answer(length)).astype(bool), minidl.nn.causal_mask(length).numpy(),
                f"causal_mask({length}) (nn.causal_mask)", "True strictly above the diagonal (j > i), "
                "False on it: a position may see itself")


EXERCISES = [
    Exercise(attention, _grade_attention, "np.where(mask[:, None, :], -np.inf, scores) puts −∞ at padding keys"),
    Exercise(softmax_backward, _grade_softmax_backward, "(g * y).sum(axis=-1, keepdims=True)"),
    Exercise(split_heads, _grade_split_heads, "x.reshape(B, T, h, E // h).transpose(0, 2, 1, 3)"),
    Exercise(causal_mask, _grade_causal_mask, "np.triu(..., k=1)"),
]
