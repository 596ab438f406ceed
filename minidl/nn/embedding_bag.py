"""EmbeddingBag and ``F.embedding_bag``: the sum, mean or maximum of the embeddings of each bag of ids.

Bags are given as PyTorch gives them: a 2-D (B, N) input holds B bags of N ids; a 1-D input holds
the ids of all bags one after another, and ``offsets`` (B,) says where each bag starts (with
``include_last_offset``, offsets (B + 1,) also holds the end of the last bag). Ids equal to
``padding_idx`` are left out of their bag. An empty bag gives zeros.

The bags are laid out as a (B, longest bag) table of ids with a mask of the real entries: one
embedding lookup fetches every row, and the reduction over the table's second dim, with the
masked slots weighted 0 (sum, mean) or -inf (max), gives every bag at once. For 'sum',
``per_sample_weights`` (one per id) scale the rows first; gradients reach them too.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.core import creation
from minidl.core.arguments import choice, size
from minidl.core.backend import array_module, to_device
from minidl.core.errors import ShapeError
from minidl.nn import init
from minidl.nn.module import Module, Parameter
from minidl.ops.common import wrap
from minidl.ops.embedding import lookup
from minidl.ops.shape import cat

MODES = ("sum", "mean", "max")


def _bag_table(ids, offsets, include_last_offset):
    """For 1-D ids (M,) and offsets: (positions, valid), both (B, longest): positions[b, k] is the place in ids
    of bag b's k-th id (M, one past the end, in the slots past the bag's end), valid marks the real slots."""
    xp = array_module(offsets)
    total = ids.shape[0]
    starts = offsets[:-1] if include_last_offset else offsets
    ends = offsets[1:] if include_last_offset else xp.concatenate([offsets[1:], xp.asarray([total])])
    lengths = ends - starts
    slot = xp.arange(max(int(lengths.max()) if lengths.size else 0, 1))
    valid = slot[None, :] < lengths[:, None]
    return xp.where(valid, starts[:, None] + slot, total), valid


def _check_offsets(offsets, total, include_last_offset):
    if offsets is None or offsets.ndim != 1:
        raise ShapeError(f"embedding_bag: a 1-D input needs 1-D offsets (where each bag starts), got "
                         f"{'None' if offsets is None else f'shape {tuple(offsets.shape)}'}")
    if offsets.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: offsets must be integers, got dtype {offsets.dtype}")
    values = offsets.tolist()
    if include_last_offset and not values:
        raise ValueError("embedding_bag: with include_last_offset=True, offsets must hold at least the end of "
                         "the last bag")
    if values and values[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0 (the first bag starts at position 0), got "
                         f"{values[0]}")
    if any(b < a for a, b in zip(values, values[1:])) or (values and values[-1] > total):
        raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the input's length "
                         f"{total}, got {values}")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,  # noqa: A002
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of the rows of ``weight`` picked by each bag of ids in ``input``: (B, embedding_dim).

    max_norm, scale_grad_by_freq and sparse gradients are not supported (NotImplementedError)."""
    for name, value, default in (("max_norm", max_norm, None), ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise NotImplementedError(f"embedding_bag: {name}={value!r} is not supported by minidl")
    choice(mode, "embedding_bag", "mode", MODES)
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    if per_sample_weights is not None and per_sample_weights.shape != input.shape:
        raise ShapeError(f"embedding_bag: per_sample_weights must have the shape of input {tuple(input.shape)}, "
                         f"got {tuple(per_sample_weights.shape)}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: a 2-D input is a batch of bags of equal length, so offsets must be "
                             "None")
        xp = array_module(input.array)
        offsets_array = xp.arange(input.shape[0]) * input.shape[1]
        include_last_offset = False
    elif input.ndim == 1:
        _check_offsets(offsets, input.shape[0], include_last_offset)
        offsets_array = offsets.array
    else:
        raise ShapeError(f"embedding_bag: expected 1-D (with offsets) or 2-D input, got shape {tuple(input.shape)}")
    ids = input.reshape(-1)
    xp = array_module(ids.array)
    positions, valid = _bag_table(ids.array, offsets_array.astype(np.int64), include_last_offset)
    table = xp.concatenate([ids.array, xp.zeros(1, dtype=ids.array.dtype)])[positions]   # slot past the end: id 0
    if padding_idx is not None:
        padding_idx = padding_idx % weight.shape[0]
        valid = valid & (table != padding_idx)
    rows = lookup(wrap(table), weight, None, "embedding_bag")                         # (B, longest, D)
    if mode == "max":
        best = rows.masked_fill(wrap(~valid[:, :, None]), -math.inf).amax(dim=1)
        return best.masked_fill(wrap(~valid.any(axis=1)[:, None]), 0.0)
    slot_weights = wrap(valid.astype(rows.dtype))
    if per_sample_weights is not None:
        extended = cat([per_sample_weights.reshape(-1), creation.zeros(1, dtype=rows.dtype, device=rows.device)])
        slot_weights = extended[wrap(positions)] * slot_weights
    total = (rows * slot_weights.unsqueeze(-1)).sum(dim=1)
    if mode == "sum":
        return total
    counts = xp.maximum(valid.sum(axis=1, keepdims=True), 1).astype(rows.dtype)
    return total / wrap(counts)


class EmbeddingBag(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim`` (``weight``, N(0, 1); the row
    ``padding_idx`` zero), reduced per bag: ``forward(input, offsets=None, per_sample_weights=None)``
    returns (B, embedding_dim), see :func:`embedding_bag`."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings = size(num_embeddings, "EmbeddingBag", "num_embeddings")
        self.embedding_dim = size(embedding_dim, "EmbeddingBag", "embedding_dim")
        self.mode = choice(mode, "EmbeddingBag", "mode", MODES)
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"EmbeddingBag: padding_idx must be within num_embeddings ({num_embeddings}), got "
                             f"{padding_idx}")
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.sparse, self.include_last_offset = sparse, include_last_offset
        if _weight is None:
            self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"EmbeddingBag: _weight must have shape ({num_embeddings}, {embedding_dim}), got "
                                 f"{tuple(_weight.shape)}")
            self.weight = Parameter(to_device(_weight.array, device) if device is not None else _weight.array)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):  # noqa: A002
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        text += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
