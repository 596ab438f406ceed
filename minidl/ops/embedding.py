"""Embedding lookup: rows of a weight matrix picked by integer ids."""

from __future__ import annotations

from minidl.core import Function
from minidl.core.backend import array_module, scatter_add
from minidl.core.errors import ShapeError


class Embedding(Function):
    """z[..., :] = W[ids[...], :];  dL/dW[k] = Σ over positions with id k of G[position]
    (the row ``padding_idx``, if given, gets no gradient)"""

    def forward(self, weight, ids, padding_idx=None):
        self.save(ids)
        self.padding_idx, self.weight_shape = padding_idx, weight.shape
        return weight[ids]

    def backward(self, g):
        (ids,) = self.saved
        grad = array_module(g).zeros(self.weight_shape, dtype=g.dtype)
        scatter_add(grad, ids.reshape(-1), g.reshape(-1, self.weight_shape[1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return grad, None


def embedding(input, weight, padding_idx=None):  # noqa: A002  (PyTorch's names)
    """Look up rows of ``weight`` (num_embeddings, dim) for the integer ids in ``input``."""
    return lookup(input, weight, padding_idx, "embedding")


def lookup(ids, weight, padding_idx=None, where="embedding"):
    """:func:`embedding`, its errors naming ``where`` (the function, or the layer that calls it)."""
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{where}: expected integer ids, got dtype {ids.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"{where}: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(weight.shape)}")
    data = ids.array
    if data.size and (int(data.min()) < 0 or int(data.max()) >= weight.shape[0]):
        raise IndexError(f"{where}: ids must lie in [0, {weight.shape[0]}), got values in "
                         f"[{int(data.min())}, {int(data.max())}]")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return Embedding.apply(weight, ids, padding_idx=padding_idx)
