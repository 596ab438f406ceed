"""BERT's masked-language-model corruption (Devlin et al., 2019, section 3.1).

Each token that may be predicted (not [PAD], [CLS] or [SEP]) is selected with
probability ``mask_prob`` (15%). Of the selected positions

* 80% are replaced by [MASK],
* 10% by a random ordinary token (never a special token),
* 10% are left unchanged,

and the model is trained to predict the original token at every selected
position. The labels hold that original id there and -100 (``F.cross_entropy``'s
default ``ignore_index``) everywhere else, so the loss counts selected positions only.
The 10% random and 10% unchanged cases keep the model from learning that only
[MASK] positions matter, since [MASK] never occurs when the model is fine-tuned.

**Whole-word masking** (BERT's later release; Cui et al., 2019, for Chinese) selects
words rather than tokens: given each position's word number, every word is selected
with probability ``mask_prob`` and then all its tokens are. A model can no longer
recover 济 from 经_ by knowing that the two make one word; it must read the context.
"""

from __future__ import annotations

import numpy as np

from minidl.core import creation
from minidl.core.backend import to_numpy
from minidl.core.tensor import Tensor

IGNORE_INDEX = -100


def special_ids_of(tokenizer_or_ids):
    """(mask_id, ids never selected, ids used as random replacements) of a tokenizer or a dict.

    Either a tokenizer such as ``CharTokenizer`` or a dict with the same names:
    ``mask_id``, ``pad_id``, ``cls_id``, ``sep_id``, ``vocab_size`` and optionally ``unk_id``.
    [PAD], [CLS] and [SEP] are never selected; no special id is ever a random replacement.
    """
    spec = tokenizer_or_ids
    get = spec.get if isinstance(spec, dict) else lambda name, default=None: getattr(spec, name, default)
    names = ("mask_id", "pad_id", "cls_id", "sep_id", "vocab_size")
    missing = [name for name in names if get(name) is None]
    if missing:
        raise ValueError(f"mask_tokens: expected a tokenizer or a dict with {names} (and optionally unk_id); "
                         f"missing {missing}")
    mask_id, pad_id, cls_id, sep_id, vocab_size = (int(get(name)) for name in names)
    never = {pad_id, cls_id, sep_id}
    special = never | {mask_id} | ({int(get("unk_id"))} if get("unk_id") is not None else set())
    candidates = np.array(sorted(set(range(vocab_size)) - special), dtype=np.int64)
    if candidates.size == 0:
        raise ValueError(f"mask_tokens: the vocabulary of {vocab_size} ids has no ordinary token to use as a "
                         "random replacement")
    return mask_id, np.array(sorted(never), dtype=np.int64), candidates


def mask_tokens(ids, tokenizer_or_ids, rng, mask_prob=0.15, mask_ratio=0.8, random_ratio=0.1, words=None):
    """(inputs, labels): ``ids`` corrupted by BERT's 80/10/10 rule, and the MLM targets.

    For every position, independently:  selected ~ Bernoulli(mask_prob) (never at [PAD],
    [CLS], [SEP]); then u ~ U(0, 1) picks [MASK] if u < 0.8, a random ordinary token if
    0.8 ≤ u < 0.9, the original token otherwise. ``labels = ids`` where selected, else -100.

    ``words`` (optional, whole-word masking): non-negative integers of the shape of ``ids``
    numbering the words within each row (along the last axis), equal at the positions of one
    word. Then one Bernoulli(mask_prob) draw per word selects all of its positions, and the
    80/10/10 choice is still made per position.

    ``ids``: an integer array or tensor of any shape; the results have the same kind
    (tensor or NumPy array), shape and dtype int64. ``rng``: a ``numpy.random.Generator``,
    which makes the result reproducible. A batch may end up with no selected position
    (then every label is -100 and a mean cross-entropy is NaN); with 15% of a few
    hundred tokens this is vanishingly rare.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"mask_tokens: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    if not 0.0 <= mask_prob <= 1.0:
        raise ValueError(f"mask_tokens: mask_prob must lie in [0, 1], got {mask_prob}")
    if mask_ratio < 0 or random_ratio < 0 or mask_ratio + random_ratio > 1:
        raise ValueError(f"mask_tokens: need mask_ratio, random_ratio >= 0 with a sum <= 1, got "
                         f"{mask_ratio} and {random_ratio}")
    is_tensor = isinstance(ids, Tensor)
    original = np.asarray(to_numpy(ids.array) if is_tensor else ids)
    if original.dtype.kind not in "iu":
        raise TypeError(f"mask_tokens: expected integer token ids, got dtype {original.dtype}")
    original = original.astype(np.int64)
    mask_id, never, candidates = special_ids_of(tokenizer_or_ids)

    draws = rng.random(original.shape) if words is None else _draws_per_word(words, original.shape, rng)
    selected = (draws < mask_prob) & ~np.isin(original, never)
    choice = rng.random(original.shape)
    to_mask = selected & (choice < mask_ratio)
    to_random = selected & (choice >= mask_ratio) & (choice < mask_ratio + random_ratio)
    inputs = original.copy()
    inputs[to_mask] = mask_id
    inputs[to_random] = rng.choice(candidates, size=int(to_random.sum()))
    labels = np.where(selected, original, IGNORE_INDEX)
    if is_tensor:
        return creation.as_tensor(inputs, device=ids.device), creation.as_tensor(labels, device=ids.device)
    return inputs, labels


def _draws_per_word(words, shape, rng):
    """One U(0, 1) draw per word of each row, repeated at every position of the word."""
    words = np.asarray(to_numpy(words.array) if isinstance(words, Tensor) else words)
    if words.shape != shape:
        raise ValueError(f"mask_tokens: words must have the shape of ids, {tuple(shape)}, got {words.shape}")
    if words.dtype.kind not in "iu" or (words.size and words.min() < 0):
        raise ValueError("mask_tokens: words must hold non-negative integer word numbers, got "
                         f"dtype {words.dtype}" + (f" with minimum {words.min()}" if words.size else ""))
    rows = words.reshape(-1, shape[-1]) if words.ndim else words.reshape(1, 1)
    per_word = rng.random((rows.shape[0], int(rows.max(initial=0)) + 1))
    return np.take_along_axis(per_word, rows.astype(np.int64), axis=1).reshape(shape)
