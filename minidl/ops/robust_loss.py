"""Losses that grow linearly for large errors, and the cosine embedding loss, as PyTorch's.

With d = input - target, the Huber loss is quadratic near 0 and linear beyond δ, so outliers pull
on a regression with a bounded force:
    huber(d) = ½d²            if |d| < δ          d huber/dd = clamp(d, -δ, δ)
             = δ(|d| - ½δ)    otherwise
and smooth L1 is the same curve divided by β = δ (slope ±1 far out): smooth_l1 = huber / β
(β = 0 is the L1 loss |d|).

The cosine embedding loss asks pairs marked 1 to point the same way and pairs marked -1 apart:
    loss = 1 - cos(x1, x2)               where y = 1
         = max(0, cos(x1, x2) - margin)  where y = -1
with cos = Σ x1·x2 / √((Σx1² + ε)(Σx2² + ε)), ε = 1e-12 (PyTorch's formula), from existing ops.
"""

from __future__ import annotations

from minidl.core import Function, arguments
from minidl.core.backend import array_module
from minidl.core.errors import ShapeError
from minidl.ops.arithmetic import clamp, where
from minidl.ops.common import as_tensor, is_tensor
from minidl.ops.loss import _reduce, _same_shapes, check_reduction, l1_loss, loss_reduction
from minidl.ops.loss import legacy_reduction  # noqa: F401 (kept importable from here)

COSINE_EPSILON = 1e-12


class Huber(Function):
    """L = scale·(½d² if |d| < δ else δ(|d| - ½δ)), d = x - y;  dL/dx = scale·clamp(d, -δ, δ) = -dL/dy"""

    def forward(self, x, y, delta, scale, name):
        xp = array_module(x)
        d = x - y
        self.save(d)
        self.name, self.delta, self.scale = name, delta, scale
        size = xp.abs(d)
        loss = xp.where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))
        return loss if scale == 1 else loss * x.dtype.type(scale)

    def backward(self, g):
        (d,) = self.saved
        slope = array_module(d).clip(d, -self.delta, self.delta) * g
        if self.scale != 1:
            slope = slope * g.dtype.type(self.scale)
        return slope, (-slope if self.needs_grad[1] else None)


def _operands(input, target, op):  # noqa: A002 (PyTorch's names)
    if not is_tensor(input):
        raise TypeError(f"{op}: input must be a tensor, got {type(input).__name__}")
    target = as_tensor(target, like=input)
    _same_shapes(input, target, op)
    return input, target.to(input.dtype) if target.dtype != input.dtype else target


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """The Huber loss of input - target (quadratic below ``delta``, linear above); ``weight`` scales each
    element's loss before the reduction."""
    check_reduction(reduction, "huber_loss")
    delta = arguments.number(delta, "huber_loss", "delta", above=0.0)
    input, target = _operands(input, target, "huber_loss")
    loss = Huber.apply(input, target, delta=delta, scale=1.0, name="huber_loss")
    return _reduce(loss if weight is None else loss * weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """The smooth L1 loss: ½d²/β below ``beta``, |d| - ½β above (the Huber loss divided by β)."""
    reduction = loss_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    beta = arguments.number(beta, "smooth_l1_loss", "beta", minimum=0.0)
    input, target = _operands(input, target, "smooth_l1_loss")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    loss = Huber.apply(input, target, delta=beta, scale=1 / beta, name="smooth_l1_loss")
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,  # noqa: A002
                          reduction="mean"):
    """1 - cos(input1, input2) for pairs with target 1, max(0, cos - margin) for target -1 (0 for other
    targets); rows of (N, D) inputs with an (N,) target, or one pair of (D,) vectors with a 0-d target."""
    reduction = loss_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    margin = arguments.number(margin, "cosine_embedding_loss", "margin")
    for name, value in (("input1", input1), ("input2", input2), ("target", target)):
        if not is_tensor(value):
            raise TypeError(f"cosine_embedding_loss: {name} must be a tensor, got {type(value).__name__}")
    if target.ndim > 1 or input1.ndim != target.ndim + 1 or input2.shape != input1.shape or \
            (target.ndim == 1 and target.shape[0] != input1.shape[0]):
        raise ShapeError(f"cosine_embedding_loss: expected inputs (N, D) with target (N,), or (D,) with a 0-d "
                         f"target, got shapes {tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}")
    d = target.ndim
    products = (input1 * input2).sum(d)
    magnitudes = ((input1 * input1).sum(d) + COSINE_EPSILON) * ((input2 * input2).sum(d) + COSINE_EPSILON)
    cos = products / magnitudes.sqrt()
    zero = cos * 0.0
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, clamp(cos - margin, min=0.0), zero)
    return _reduce(loss, reduction)
