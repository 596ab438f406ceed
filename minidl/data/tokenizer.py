"""A character-level tokenizer for Chinese and English text, with BERT's special tokens.

Every character is a token (Chinese text needs no word segmentation this way;
English spaces are tokens too). The vocabulary is built from a corpus: the
special tokens first, then characters seen at least ``min_freq`` times, most
frequent first (ties in character order, so the same corpus always gives the
same ids). Unknown characters map to [UNK]. Saved and loaded as JSON.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from minidl.core.atomic_write import write_atomically

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)


class CharTokenizer:
    """Maps text to integer ids and back, one id per character."""

    def __init__(self, tokens, lowercase=False):
        tokens = list(tokens)
        if tokens[:len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS):
            raise ValueError(f"CharTokenizer: the vocabulary must start with the special tokens {SPECIAL_TOKENS}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("CharTokenizer: the vocabulary has repeated tokens")
        self.tokens, self.lowercase = tokens, lowercase
        self.ids = {token: index for index, token in enumerate(tokens)}
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (self.ids[t] for t in SPECIAL_TOKENS)

    @classmethod
    def from_corpus(cls, texts, min_freq=1, max_size=None, lowercase=False):
        """Build the vocabulary from an iterable of strings."""
        if min_freq < 1:
            raise ValueError(f"CharTokenizer.from_corpus: min_freq must be at least 1, got {min_freq}")
        counts = Counter()
        for text in texts:
            counts.update(text.lower() if lowercase else text)
        counts.pop("\n", None)
        kept = sorted((c for c, n in counts.items() if n >= min_freq), key=lambda c: (-counts[c], c))
        if max_size is not None:
            kept = kept[:max(0, max_size - len(SPECIAL_TOKENS))]
        return cls(list(SPECIAL_TOKENS) + kept, lowercase=lowercase)

    def __len__(self):
        return len(self.tokens)

    @property
    def vocab_size(self):
        return len(self.tokens)

    def encode(self, text, add_special_tokens=False, max_length=None):
        """Ids of ``text``; with ``add_special_tokens`` wrapped as [CLS] text [SEP]; cut to ``max_length``."""
        if self.lowercase:
            text = text.lower()
        ids = [self.ids.get(character, self.unk_id) for character in text]
        if add_special_tokens:
            if max_length is not None:
                ids = ids[:max(0, max_length - 2)]
            return [self.cls_id] + ids + [self.sep_id]
        return ids if max_length is None else ids[:max_length]

    def decode(self, ids, skip_special_tokens=True):
        """Text of ``ids`` (a list, array or tensor); special tokens dropped unless asked for."""
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        special = set(range(len(SPECIAL_TOKENS))) if skip_special_tokens else set()
        return "".join(self.tokens[i] for i in ids if i not in special)

    def batch_encode(self, texts, max_length, add_special_tokens=True):
        """(ids, attention_mask) as int64 arrays of shape (len(texts), max_length), padded with [PAD].

        ``attention_mask`` is 1 for real tokens and 0 for padding, as in BERT.
        """
        ids = np.full((len(texts), max_length), self.pad_id, dtype=np.int64)
        for row, text in enumerate(texts):
            encoded = self.encode(text, add_special_tokens=add_special_tokens, max_length=max_length)
            ids[row, :len(encoded)] = encoded
        return ids, (ids != self.pad_id).astype(np.int64)

    def save(self, path):
        """Write the vocabulary as JSON (atomically: a temporary file, then a rename)."""
        content = {"type": "CharTokenizer", "lowercase": self.lowercase, "tokens": self.tokens}
        write_atomically(path, lambda file: json.dump(content, file, ensure_ascii=False), "CharTokenizer.save",
                         mode="w", encoding="utf-8")

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding="utf-8") as file:
                content = json.load(file)
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"CharTokenizer.load: cannot read a tokenizer from {path}: {error}") from None
        if not isinstance(content, dict) or content.get("type") != "CharTokenizer":
            raise ValueError(f"CharTokenizer.load: {path} does not hold a CharTokenizer vocabulary")
        return cls(content["tokens"], lowercase=content.get("lowercase", False))

    def __repr__(self):
        return f"CharTokenizer(vocab_size={len(self)}, lowercase={self.lowercase})"
