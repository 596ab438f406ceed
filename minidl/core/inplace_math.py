"""In-place forms of the math ops (``x.exp_()``, ``x.relu_()``, ``x.index_add_(...)`` ...), a mixin of
:class:`minidl.Tensor`.

Each is its op applied out of place and written back, through the one helper :meth:`_in_place`:
while gradients are recorded, the edit is recorded as PyTorch records it (see
:mod:`minidl.core.inplace`); otherwise the new values are written into the array.
"""

from __future__ import annotations

import numpy as np

from minidl.core.backend import to_device
from minidl.core.grad_mode import no_grad
from minidl.core.random import numpy_stream


class InPlaceMathMethods:
    """The in-place math methods of :class:`minidl.Tensor`."""

    __slots__ = ()

    def _in_place(self, op, compute, *operands):
        """Make this tensor ``compute(self)`` in place (``op`` names the method in errors)."""
        if self._records_edit(op, *operands):
            return self._record_edit(lambda old, _: compute(old).to(self.dtype))
        with no_grad():
            new = compute(self)
        self.array[...] = new.array
        return self._modified()

    def exp_(self):
        return self._in_place("exp_", lambda t: t.exp())

    def log_(self):
        return self._in_place("log_", lambda t: t.log())

    def sqrt_(self):
        return self._in_place("sqrt_", lambda t: t.sqrt())

    def pow_(self, exponent):
        return self._in_place("pow_", lambda t: t.pow(exponent), exponent)

    def abs_(self):
        return self._in_place("abs_", lambda t: t.abs())

    def neg_(self):
        return self._in_place("neg_", lambda t: -t)

    def sign_(self):
        return self._in_place("sign_", lambda t: t.sign())

    def sigmoid_(self):
        return self._in_place("sigmoid_", lambda t: t.sigmoid())

    def tanh_(self):
        return self._in_place("tanh_", lambda t: t.tanh())

    def relu_(self):
        return self._in_place("relu_", lambda t: t.relu())

    def clamp_min_(self, min):  # noqa: A002 (PyTorch's name)
        return self._in_place("clamp_min_", lambda t: t.clamp(min=min))

    def clamp_max_(self, max):  # noqa: A002 (PyTorch's name)
        return self._in_place("clamp_max_", lambda t: t.clamp(max=max))

    def lerp_(self, end, weight):
        return self._in_place("lerp_", lambda t: t + weight * (end - t), end, weight)

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._in_place("addcmul_", lambda t: t + value * tensor1 * tensor2, tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._in_place("addcdiv_", lambda t: t + value * tensor1 / tensor2, tensor1, tensor2)

    def index_add_(self, dim, index, source, *, alpha=1):
        """Add ``alpha · source`` into the slices ``index`` of dim ``dim`` (repeated indices add up):
        a scatter_add with ``index`` laid along ``dim`` of ``source``."""
        return self._in_place("index_add_", lambda t: t.scatter_add(dim, _along(index, dim, source.shape),
                                                                    source * alpha), source)

    def index_fill_(self, dim, index, value):
        """Set the slices ``index`` of dim ``dim`` to ``value``."""
        def filled(t):
            shape = list(t.shape)
            shape[dim] = index.numel()
            hits = (t * 0).scatter_add(dim, _along(index, dim, shape), t.new_ones(*shape)) > 0
            return t.masked_fill(hits, value)
        return self._in_place("index_fill_", filled, value)

    def scatter_(self, dim, index, src=None, *, value=None):
        return self._in_place("scatter_", lambda t: t.scatter(dim, index, src, value=value), src)

    def scatter_add_(self, dim, index, src):
        return self._in_place("scatter_add_", lambda t: t.scatter_add(dim, index, src), src)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Set the main diagonal (all indices equal) to ``fill_value``; ``wrap`` restarts it every
        ``columns + 1`` rows of a tall matrix, as PyTorch's."""
        def filled(t):
            return t.masked_fill(type(t)(_diagonal_mask(t, wrap)), fill_value)
        return self._in_place("fill_diagonal_", filled, fill_value)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 (probability ``p``, a number or a tensor) or 0."""
        stream = numpy_stream(generator, "bernoulli_")
        probabilities = p.array if hasattr(p, "array") else p
        return self._in_place("bernoulli_", lambda t: type(t)((stream.random(t.shape) < probabilities)
                                                               .astype(t.array.dtype)).to(t.device))

    def exponential_(self, lambd=1.0, *, generator=None):
        stream = numpy_stream(generator, "exponential_")
        return self._in_place("exponential_", lambda t: type(t)(stream.exponential(1 / lambd, t.shape)
                                                                .astype(t.array.dtype)).to(t.device))

    def random_(self, from_=0, to=None, *, generator=None):
        """Fill with integers drawn uniformly from [from_, to) (to: 2^mantissa bits for floats, as PyTorch)."""
        stream = numpy_stream(generator, "random_")
        if to is None:
            from_, to = 0, (from_ if from_ else 2 ** min(self.array.dtype.itemsize * 8 - 1, 24))
        return self._in_place("random_", lambda t: type(t)(stream.integers(from_, to, t.shape)
                                                           .astype(t.array.dtype)).to(t.device))


def _along(index, dim, shape):
    """``index`` (1-D) laid along ``dim`` of a tensor of ``shape``, as scatter_add wants it."""
    if index.ndim != 1 or index.numel() != shape[dim]:
        raise ValueError(f"index_add_/index_fill_: index must be 1-D with one entry per slice along dim {dim} "
                         f"({shape[dim]}), got shape {tuple(index.shape)}")
    view = [1] * len(shape)
    view[dim] = -1
    return index.reshape(view).expand(*shape)


def _diagonal_mask(t, wrap):
    """Where the main diagonal of ``t`` lies (wrapping down a tall matrix when ``wrap``)."""
    rows, columns = t.shape[0], t.shape[1] if t.ndim > 1 else t.shape[0]
    if t.ndim > 2 and len(set(t.shape)) != 1:
        raise ValueError(f"fill_diagonal_: all dimensions of a tensor of more than 2 dims must be equal, "
                         f"got {tuple(t.shape)}")
    mask = np.zeros(t.shape, dtype=bool)
    if t.ndim > 2:
        mask[(np.arange(rows),) * t.ndim] = True
    else:
        step = columns + 1
        positions = np.arange(0, (rows if wrap else min(rows, columns)) * columns, step)
        mask.reshape(-1)[positions[positions < rows * columns]] = True
    return to_device(mask, t.device)
