"""Utilities on modules and their gradients, as in ``torch.nn.utils``: gradient clipping
(:mod:`.clip_grad`) and pruning (:mod:`.prune`)."""

from minidl.nn.utils import prune
from minidl.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from minidl.nn.utils import rnn  # noqa: F401  (nn.utils.rnn: pad_sequence, as in PyTorch)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "prune"]
