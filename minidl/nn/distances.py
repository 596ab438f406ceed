"""Distance and robust-loss modules, as ``torch.nn``'s: SmoothL1Loss, HuberLoss, CosineEmbeddingLoss,
CosineSimilarity and PairwiseDistance. Each stores its options and calls the functional form."""

from __future__ import annotations

from minidl.core.arguments import number
from minidl.nn import functional as F
from minidl.nn.module import Module
from minidl.ops.loss import check_reduction
from minidl.ops.robust_loss import legacy_reduction


class _Loss(Module):
    """A loss that stores its reduction (PyTorch's repr shows none of a loss's options)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)
        check_reduction(self.reduction, type(self).__name__)


class SmoothL1Loss(_Loss):
    """½d²/β where |d| < β, |d| - ½β elsewhere (d = input - target), reduced."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = number(beta, "SmoothL1Loss", "beta", minimum=0.0)

    def forward(self, input, target):  # noqa: A002 (PyTorch's names)
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """½d² where |d| < δ, δ(|d| - ½δ) elsewhere (d = input - target), reduced."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = number(delta, "HuberLoss", "delta", above=0.0)

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for pairs marked 1, max(0, cos(x1, x2) - margin) for pairs marked -1."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = number(margin, "CosineEmbeddingLoss", "margin")

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class CosineSimilarity(Module):
    """The cosine of the angle between x1 and x2 along ``dim``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, number(eps, "CosineSimilarity", "eps", minimum=0.0)

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 - x2 + eps‖_p along the last dim."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps = number(p, "PairwiseDistance", "p"), number(eps, "PairwiseDistance", "eps")
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
