"""Embedding lookup: rows of a weight matrix picked by integer ids."""

from __future__ import annotations

import math

from minidl.core import Function
from minidl.core.arguments import number
from minidl.core.backend import array_module, scatter_add
from minidl.core.errors import ShapeError

RENORM_EPSILON = 1e-7  # PyTorch's: a renormalised row's norm ends just below max_norm


class Embedding(Function):
    """z[..., :] = W[ids[...], :];  dL/dW[k] = Σ over positions with id k of G[position]
    (the row ``padding_idx``, if given, gets no gradient). With ``scale_grad_by_freq`` each row's
    gradient is divided by n_k, the number of times id k occurs in ``ids``: dL/dW[k] = (1/n_k) Σ G."""

    def forward(self, weight, ids, padding_idx=None, scale_grad_by_freq=False):
        self.save(ids)
        self.padding_idx, self.weight_shape = padding_idx, weight.shape
        self.scale_grad_by_freq = scale_grad_by_freq
        return weight[ids]

    def backward(self, g):
        (ids,) = self.saved
        xp = array_module(g)
        flat_ids = ids.reshape(-1)
        grad = xp.zeros(self.weight_shape, dtype=g.dtype)
        scatter_add(grad, flat_ids, g.reshape(-1, self.weight_shape[1]))
        if self.scale_grad_by_freq:
            counts = xp.bincount(flat_ids, minlength=self.weight_shape[0])
            grad /= xp.maximum(counts, 1).astype(g.dtype)[:, None]
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return grad, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002 (PyTorch's names)
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (num_embeddings, dim) for the integer ids in ``input``.

    ``max_norm``: first, in place and without gradient, every looked-up row whose ``norm_type``-norm
    exceeds it is scaled by max_norm / (norm + 1e-7). ``scale_grad_by_freq``: each row's gradient is
    divided by how often its id occurs in ``input``. ``sparse=True`` is accepted for PyTorch programs;
    the gradient is the same dense tensor (minidl has no sparse gradients).
    """
    return lookup(input, weight, padding_idx, "embedding", max_norm, norm_type, scale_grad_by_freq)


def lookup(ids, weight, padding_idx=None, where="embedding", max_norm=None, norm_type=2.0,
           scale_grad_by_freq=False):
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
    if max_norm is not None:
        renorm_rows(weight, data, max_norm, norm_type, where)
    return Embedding.apply(weight, ids, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))


def renorm_rows(weight, ids, max_norm, norm_type, where="embedding"):
    """In place, without gradient: each row of ``weight`` named in ``ids`` whose ``norm_type``-norm exceeds
    ``max_norm`` becomes row · max_norm / (norm + 1e-7)."""
    max_norm = number(max_norm, where, "max_norm", minimum=0.0)
    norm_type = number(norm_type, where, "norm_type", above=0.0)
    xp = array_module(weight.array)
    rows = xp.unique(ids.reshape(-1))
    size = xp.abs(weight.array[rows])
    norms = size.max(axis=1) if math.isinf(norm_type) else (size ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + RENORM_EPSILON), 1.0).astype(weight.array.dtype)
    weight.array[rows] *= scale[:, None]
    weight._modified()
