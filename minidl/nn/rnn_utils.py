"""Batching sequences of different lengths for the recurrent layers, as ``torch.nn.utils.rnn``.

minidl pads and masks instead of packing: :func:`pad_sequence` makes one (T, batch, *) tensor (the
padding differentiable like any op), the recurrent layers run over every step, and the loss ignores
the padded steps (a mask, or ``ignore_index`` in cross-entropy). :func:`unpad_sequence` cuts the
padded outputs back to their lengths. Packed sequences (:func:`pack_padded_sequence`,
:func:`pack_sequence`) are not supported.
"""

from __future__ import annotations

from collections.abc import Iterable

from minidl.core.arguments import choice
from minidl.core.errors import ShapeError
from minidl.core.tensor import Tensor
from minidl.ops.padding import pad
from minidl.ops.shape import stack

PACKING_NOTE = ("minidl does not pack sequences: pad the batch with nn.utils.rnn.pad_sequence, run the recurrent "
                "layer on the padded tensor and mask the padded steps (for example in the loss); "
                "nn.utils.rnn.unpad_sequence cuts the outputs back to their lengths")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into one (T, B, *) tensor ((B, T, *) with ``batch_first``),
    T = max L_i, each filled up with ``padding_value`` on the right (or on the left with
    ``padding_side='left'``). Differentiable in every sequence."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    if not isinstance(sequences, Iterable):
        raise TypeError(f"pad_sequence: expected a list of tensors, got {type(sequences).__name__}")
    sequences = tuple(sequences)
    choice(padding_side, "pad_sequence", "padding_side", ("right", "left"))
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for index, sequence in enumerate(sequences):
        if not isinstance(sequence, Tensor):
            raise TypeError(f"pad_sequence: sequence {index} is a {type(sequence).__name__}, not a tensor")
        if sequence.ndim == 0 or sequence.shape[1:] != sequences[0].shape[1:]:
            shapes = ", ".join(str(tuple(s.shape)) for s in sequences)
            raise ShapeError(f"pad_sequence: sequences must have shapes (L_i, *) with the same trailing dims, "
                             f"got {shapes}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        sides = (0, missing) if padding_side == "right" else (missing, 0)
        padded.append(pad(sequence, (0, 0) * (sequence.ndim - 1) + sides, value=padding_value))
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of :func:`pad_sequence` (right padding): the list of sequences padded_sequences[:length_i]
    for each batch entry i."""
    lengths = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    batch_dim = 0 if batch_first else 1
    if padded_sequences.ndim < 2 or padded_sequences.shape[batch_dim] != len(lengths):
        raise ShapeError(f"unpad_sequence: expected {len(lengths)} sequences (one per length) in dim {batch_dim} "
                         f"of padded_sequences, got shape {tuple(padded_sequences.shape)}")
    longest = padded_sequences.shape[1 - batch_dim]
    if any(not 0 <= n <= longest for n in lengths):
        raise ValueError(f"unpad_sequence: lengths must be between 0 and {longest}, got {lengths}")
    entries = padded_sequences.unbind(batch_dim)
    return [entry[:n] for entry, n in zip(entries, lengths)]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Not supported (see the module's note): raises NotImplementedError saying to pad and mask."""
    raise NotImplementedError(f"pack_padded_sequence: {PACKING_NOTE}")


def pack_sequence(sequences, enforce_sorted=True):
    """Not supported (see the module's note): raises NotImplementedError saying to pad and mask."""
    raise NotImplementedError(f"pack_sequence: {PACKING_NOTE}")


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Not supported: there are no packed sequences in minidl (see the module's note)."""
    raise NotImplementedError(f"pad_packed_sequence: {PACKING_NOTE}")
