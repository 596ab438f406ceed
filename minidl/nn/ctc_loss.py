"""The CTC loss module, as ``torch.nn.CTCLoss``: it stores its options and calls ``F.ctc_loss``
(``minidl/ops/ctc.py``, where the recursion and its gradient are written out)."""

from __future__ import annotations

from minidl.core.arguments import integer
from minidl.nn import functional as F
from minidl.nn.distances import _Loss


class CTCLoss(_Loss):
    """-log p(target | log_probs), summed over every alignment of the target (with blanks) to the frames;
    'mean' divides each sample's loss by its target length before averaging over the batch."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = integer(blank, "CTCLoss", "blank")
        self.zero_infinity = bool(zero_infinity)

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                          reduction=self.reduction, zero_infinity=self.zero_infinity)
