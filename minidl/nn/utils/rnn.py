"""``nn.utils.rnn``: batching sequences of different lengths, as in PyTorch (defined in minidl/nn/rnn_utils.py)."""

from minidl.nn.rnn_utils import (pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence,
                                 unpad_sequence)

__all__ = ["pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence", "unpad_sequence"]
