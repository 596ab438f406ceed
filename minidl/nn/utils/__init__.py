"""Utilities on modules and their gradients, as in ``torch.nn.utils``: gradient clipping
(:mod:`.clip_grad`), pruning (:mod:`.prune`) and parameters as one vector (:mod:`.convert_parameters`)."""

from minidl.nn.utils import prune
from minidl.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from minidl.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from minidl.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from minidl.nn.utils.weight_norm import remove_weight_norm, weight_norm
from minidl.nn.utils import rnn  # noqa: F401  (nn.utils.rnn: pad_sequence, as in PyTorch)
from minidl.nn.utils import parametrize  # noqa: F401  (nn.utils.parametrize, as in PyTorch)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "prune", "vector_to_parameters",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]
