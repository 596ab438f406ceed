"""Margin, ranking and likelihood loss modules, as ``torch.nn``'s: each stores its options and calls the
functional form (``minidl.nn.functional``), where the formulas are written out."""

from __future__ import annotations

from minidl.core.arguments import number
from minidl.nn import functional as F
from minidl.nn.distances import _Loss


class MarginRankingLoss(_Loss):
    """max(0, -y·(x1 - x2) + margin): x1 should rank above x2 where y = 1, below where y = -1."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = number(margin, "MarginRankingLoss", "margin")

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = number(margin, "HingeEmbeddingLoss", "margin")

    def forward(self, input, target):  # noqa: A002 (PyTorch's names)
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """ln(1 + exp(-y·x)), the logistic loss of ±1 labels."""

    def forward(self, input, target):  # noqa: A002
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """Per-class logistic losses of 0/1 targets, weighted by ``weight`` and averaged over the classes."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """(1/C) Σ_{i≠y} w_y·max(0, margin - x_y + x_i)^p, the multi-class hinge loss (p = 1 or 2)."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be one-dimensional, got shape {tuple(weight.shape)}")
        self.p, self.margin = int(p), number(margin, "MultiMarginLoss", "margin")
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """(1/C) Σ_{j ∈ y} Σ_{i ∉ y} max(0, 1 - x_j + x_i), y the target classes listed before the first -1."""

    def forward(self, input, target):  # noqa: A002
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, margin + d(a, p) - d(a, n)), d the pairwise p-norm distance (``swap``: the smaller of d(a, n)
    and d(p, n))."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = number(margin, "TripletMarginLoss", "margin", above=0.0)
        self.p, self.eps = number(p, "TripletMarginLoss", "p", minimum=0.0), number(eps, "TripletMarginLoss", "eps")
        self.swap = bool(swap)

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """The triplet margin loss with any ``distance_function(x1, x2)`` (default: pairwise_distance)."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if distance_function is not None and not callable(distance_function):
            raise TypeError("TripletMarginWithDistanceLoss: distance_function must be callable, got "
                            f"{type(distance_function).__name__}")
        self.margin = number(margin, "TripletMarginWithDistanceLoss", "margin", above=0.0)
        self.distance_function, self.swap = distance_function, bool(swap)

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative,
                                                   distance_function=self.distance_function, margin=self.margin,
                                                   swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """exp(x) - y·x (``log_input``) or x - y·ln(x + eps), plus Stirling's ln y! for y > 1 with ``full``."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full = bool(log_input), bool(full)
        self.eps = number(eps, "PoissonNLLLoss", "eps")

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """½(ln v + (x - y)²/v) with v = max(var, eps) (+ ½ ln 2π with ``full``)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = bool(full), number(eps, "GaussianNLLLoss", "eps", minimum=0.0)

    def forward(self, input, target, var):  # noqa: A002
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)
