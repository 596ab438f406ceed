"""Layers that only rearrange values, as PyTorch's: Unflatten (the inverse of Flatten), and Unfold and Fold
(sliding blocks as columns and back, minidl/ops/fold.py)."""

from __future__ import annotations

import math

from minidl.core.arguments import integer
from minidl.core.errors import ShapeError
from minidl.nn.module import Module
from minidl.ops.common import normalize_dims
from minidl.ops.fold import fold, unfold
from minidl.ops.shape import unflatten


class Unflatten(Module):
    """Expands dim ``dim`` into the dims ``unflattened_size`` (a tuple or list of ints whose product is that
    dim's size; one entry may be -1), e.g. Unflatten(1, (C, H, W)) after a Linear, the inverse of Flatten."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = integer(dim, "Unflatten", "dim")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__}")
        sizes = tuple(integer(s, "Unflatten", "unflattened_size") for s in unflattened_size)
        if sum(s == -1 for s in sizes) > 1 or any(s < -1 for s in sizes):
            raise ValueError(f"Unflatten: unflattened_size may hold one -1 and otherwise sizes >= 0, got "
                             f"{unflattened_size!r}")
        self.unflattened_size = unflattened_size

    def forward(self, x):
        (dim,) = normalize_dims(self.dim, x.ndim, "Unflatten")
        sizes = tuple(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        length = x.shape[dim]
        if (-1 not in sizes and known != length) or (-1 in sizes and (known == 0 or length % known)):
            raise ShapeError(f"Unflatten: unflattened_size {sizes} does not fit dim {self.dim} of size {length} "
                             f"(input of shape {tuple(x.shape)})")
        return unflatten(x, dim, sizes)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Unfold(Module):
    """The sliding kernel_size blocks of (N, C, H, W) or (C, H, W) input as columns: (N, C·kh·kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        return unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns (N, C·kh·kw, L) or (C·kh·kw, L) summed back into (N, C, *output_size) images (Unfold's adjoint)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x):
        return fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
