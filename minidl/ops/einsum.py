"""Einstein summation, as PyTorch's ``einsum(equation, *operands)``.

Each operand's dims carry labels; the output keeps the labels after ``->`` and sums over the rest:
    z[out] = Σ_(labels not in out)  Πₖ xₖ[sₖ]
so each operand's gradient is itself an einsum, of the output's gradient with the other operands:
    dL/dxₖ[sₖ] = Σ_(labels not in sₖ)  g[out] · Π_(m≠k) x_m[s_m]
A label of xₖ found nowhere else was summed away by the forward: its gradient is broadcast along it.
A label repeated within xₖ ('ii->i', a diagonal) gets its gradient on that diagonal, zeros elsewhere.

``...`` stands for the dims without labels (broadcast across operands); without ``->`` the output
is those dims followed by the labels seen exactly once, in alphabetical order (upper case first).
"""

from __future__ import annotations

import string
from collections import Counter

from minidl.core import Function
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.common import is_tensor

LETTERS = string.ascii_uppercase + string.ascii_lowercase


class Einsum(Function):
    """z[out] = Σ Πₖ xₖ[sₖ];  dL/dxₖ = Σ g[out] Π_(m≠k) x_m[s_m] (an einsum),
    broadcast along the labels only xₖ has"""

    def forward(self, *operands, subscripts, output):
        self.save(*operands)
        self.subscripts, self.output = subscripts, output
        return contract(f"{','.join(subscripts)}->{output}", operands)

    def backward(self, g):
        operands = self.saved
        return tuple(operand_gradient(g, k, operands, self.subscripts, self.output) if needed else None
                     for k, needed in enumerate(self.needs_grad))


def contract(equation, arrays):
    """The einsum of raw arrays; the contraction order is optimised (pairwise products go to BLAS)."""
    return array_module(arrays[0]).einsum(equation, *arrays, optimize=len(arrays) > 1)


def operand_gradient(g, k, operands, subscripts, output):
    """dL/dxₖ: g contracted with the other operands down to xₖ's labels."""
    xp = array_module(g)
    labels = subscripts[k]
    distinct = "".join(dict.fromkeys(labels))
    others = [s for m, s in enumerate(subscripts) if m != k]
    reached = set(output).union(*others)
    kept = "".join(label for label in distinct if label in reached)
    grad = contract(f"{','.join([output] + others)}->{kept}", [g] + [a for m, a in enumerate(operands) if m != k])
    sizes = [operands[k].shape[labels.index(label)] for label in distinct]
    grad = grad.reshape([grad.shape[kept.index(label)] if label in kept else 1 for label in distinct])
    broadcast = tuple(axis for axis, size in enumerate(sizes) if size == 1 and grad.shape[axis] != 1)
    grad = xp.broadcast_to(grad.sum(axis=broadcast, keepdims=True) if broadcast else grad, sizes)
    if distinct == labels:
        return grad
    diagonal = xp.zeros(operands[k].shape, dtype=g.dtype)  # a repeated label: write along the diagonal
    grid = [xp.arange(size).reshape([-1 if a == axis else 1 for a in range(len(sizes))])
            for axis, size in enumerate(sizes)]
    diagonal[tuple(grid[distinct.index(label)] for label in labels)] = grad
    return diagonal


# --- the equation ------------------------------------------------------------------------------

def parse(equation, shapes):
    """(one label string per operand, the output's labels), with ``...`` replaced by letters of its own."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string such as 'ij,jk->ik', got {type(equation).__name__}")
    compact = equation.replace(" ", "")
    inputs, arrow, output = compact.partition("->")
    terms = inputs.split(",")
    if any(c not in LETTERS + ".," for c in inputs) or any(c not in LETTERS + "." for c in output) or \
            any(term.count("...") > 1 or term.replace("...", "").count(".") for term in terms + [output]):
        raise ValueError(f"einsum: invalid equation {equation!r}: use letters, ',', '->' and '...'")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operand(s) but "
                         f"{len(shapes)} were given")
    ellipsis_dims = 0
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        labelled = len(term.replace("...", ""))
        if ("..." in term and labelled > len(shape)) or ("..." not in term and labelled != len(shape)):
            raise ShapeError(f"einsum: operand {k} has shape {tuple(shape)} ({len(shape)} dims) but the equation "
                             f"gives it the subscripts {term!r}")
        ellipsis_dims = max(ellipsis_dims, len(shape) - labelled if "..." in term else 0)
    spare = [c for c in LETTERS if c not in compact]
    if ellipsis_dims > len(spare):
        raise ValueError(f"einsum: too many dims under '...' in {equation!r}")
    dots = "".join(spare[:ellipsis_dims])
    subscripts = [term.replace("...", dots[len(dots) - (len(shape) - len(term) + 3):] if "..." in term else "")
                  for term, shape in zip(terms, shapes)]
    if arrow:
        output = output.replace("...", dots)
        counts = Counter(output)
        for label in output:
            if counts[label] > 1 or not any(label in s for s in subscripts):
                raise ValueError(f"einsum: output subscript {label!r} of {equation!r} "
                                 + ("appears more than once" if counts[label] > 1 else "is in no operand"))
    else:
        counts = Counter("".join(term.replace("...", "") for term in terms))
        output = dots + "".join(sorted(label for label, n in counts.items() if n == 1))
    _check_sizes(subscripts, shapes, equation)
    return subscripts, output


def _check_sizes(subscripts, shapes, equation):
    """A label has one size in all operands (or size 1 where it broadcasts); repeated in one operand, one size."""
    seen = {}
    for k, (labels, shape) in enumerate(zip(subscripts, shapes)):
        own = {}
        for label, size in zip(labels, shape):
            if own.setdefault(label, size) != size:
                raise ShapeError(f"einsum: operand {k} of shape {tuple(shape)} repeats subscript {label!r} on dims "
                                 f"of different sizes ({own[label]} and {size}) in {equation!r}")
            if size != 1 and seen.setdefault(label, size) != size:
                raise ShapeError(f"einsum: subscript {label!r} has size {size} for operand {k} (shape "
                                 f"{tuple(shape)}), which does not broadcast with the size {seen[label]} seen before "
                                 f"in {equation!r}")


def einsum(equation, *operands):
    """Sum of products over the labelled dims of the operands (given one by one or as one list)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if is_tensor(equation):
        raise TypeError("einsum: the sublist form einsum(x, [0, 1], ...) is not supported; pass an equation "
                        "string such as 'ij,jk->ik'")
    for k, operand in enumerate(operands):
        if not is_tensor(operand):
            raise TypeError(f"einsum: operand {k} must be a tensor, got {type(operand).__name__}")
        if operand.dtype != operands[0].dtype:
            raise TypeError(f"einsum: expected operands of one dtype, got {operands[0].dtype} and {operand.dtype}")
    subscripts, output = parse(equation, [operand.shape for operand in operands])
    return Einsum.apply(*operands, subscripts=tuple(subscripts), output=output)
