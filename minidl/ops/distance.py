"""Vector products and distances, as PyTorch's: cross, dist, cdist, cosine_similarity and
pairwise_distance.

    cross:   z = a × b = (a₂b₃ - a₃b₂, a₃b₁ - a₁b₃, a₁b₂ - a₂b₁)  ⇒  dL/da = b × g,  dL/db = g × a
             (from g·(a × b) = a·(b × g) = b·(g × a))
    dist(a, b, p) = ‖a - b‖_p over all elements
    cdist(X, Y, p)[i, j] = ‖Xᵢ - Yⱼ‖_p, between every row of X and every row of Y
    cosine_similarity(a, b) = Σ âᵢ b̂ᵢ with â = a / max(‖a‖, eps): the cosine of the angle between them
    pairwise_distance(a, b, p) = ‖a - b + eps‖_p along the last dim
The distances are the p-norm op (minidl/ops/vector_norm.py) of differences, so they share its
gradient, 0 where a distance is 0.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.common import binary_operands, is_tensor, one_dim
from minidl.ops.rearrange import broadcast_tensors
from minidl.ops.shape import unsqueeze
from minidl.ops.vector_norm import norm, normalize


class Cross(Function):
    """z = a × b along dim (vectors of 3 elements);  dL/da = b × g,  dL/db = g × a"""

    def forward(self, a, b, dim):
        self.save(a, b)
        self.dim = dim
        return array_module(a).cross(a, b, axis=dim)

    def backward(self, g):
        a, b = self.saved
        xp = array_module(g)
        return xp.cross(b, g, axis=self.dim), xp.cross(g, a, axis=self.dim)


def _tensors(op, **tensors):
    for name, tensor in tensors.items():
        if not is_tensor(tensor):
            raise TypeError(f"{op}: {name} must be a tensor, got {type(tensor).__name__}")


def _broadcast_shape(op, a, b):
    try:
        return np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ShapeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together") from None


def cross(input, other, dim=None):  # noqa: A002 (PyTorch's names)
    """The cross product of 3-element vectors along ``dim`` of two tensors with the same number of dims
    (the other dims broadcast); without dim, along the first dim of size 3 (``torch.cross``'s default)."""
    _tensors("cross", input=input, other=other)
    input, other = binary_operands(input, other)
    if input.ndim != other.ndim:
        raise ShapeError(f"cross: input and other must have the same number of dims, got shapes "
                         f"{tuple(input.shape)} and {tuple(other.shape)}")
    shape = _broadcast_shape("cross", input, other)
    if dim is None:
        if 3 not in shape:
            raise ShapeError(f"cross: no dim of size 3 in the shapes {tuple(input.shape)} and {tuple(other.shape)}; "
                             "pass dim")
        d = shape.index(3)
    else:
        d = one_dim(dim, len(shape), "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ShapeError(f"cross: dim {d} must have 3 elements in both inputs, got shapes {tuple(input.shape)} "
                         f"and {tuple(other.shape)}")
    return Cross.apply(input, other, dim=d)


def dist(input, other, p=2):  # noqa: A002
    """‖input - other‖_p over all elements (the two broadcast)."""
    _tensors("dist", input=input, other=other)
    _broadcast_shape("dist", input, other)
    return norm(input - other, arguments.number(p, "dist", "p"))


CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M): (..., P, R),
    batch dims broadcast. minidl always takes the norms of the differences (``compute_mode`` is accepted
    for PyTorch's signature)."""
    _tensors("cdist", x1=x1, x2=x2)
    arguments.choice(compute_mode, "cdist", "compute_mode", CDIST_MODES)
    p = arguments.number(p, "cdist", "p", minimum=0.0)
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(f"cdist: expected x1 and x2 of at least 2 dims (rows, columns), got shapes "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: x1 and x2 must have the same number of columns, got shapes {tuple(x1.shape)} "
                         f"and {tuple(x2.shape)}")
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise ShapeError(f"cdist: the batch dims of shapes {tuple(x1.shape)} and {tuple(x2.shape)} cannot be "
                         "broadcast together") from None
    return norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, dim=-1)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ x̂1·x̂2 along ``dim``, x̂ = x / max(‖x‖₂, eps): the cosine of the angle between the vectors
    (the two inputs broadcast)."""
    _tensors("cosine_similarity", x1=x1, x2=x2)
    eps = arguments.number(eps, "cosine_similarity", "eps", minimum=0.0)
    x1, x2 = broadcast_tensors(*binary_operands(x1, x2))
    d = one_dim(dim, x1.ndim, "cosine_similarity")
    return (normalize(x1, 2.0, d, eps) * normalize(x2, 2.0, d, eps)).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x1 - x2 + eps‖_p along the last dim (the two broadcast); ``eps`` keeps equal vectors off the
    norm's kink at 0."""
    _tensors("pairwise_distance", x1=x1, x2=x2)
    _broadcast_shape("pairwise_distance", x1, x2)
    p = arguments.number(p, "pairwise_distance", "p")
    eps = arguments.number(eps, "pairwise_distance", "eps")
    difference = x1 - x2 + eps
    return norm(difference, p, dim=-1 if difference.ndim else None, keepdim=bool(keepdim))
