"""Students for knowledge distillation: smaller networks that start from, or learn from, a teacher.

* :func:`distilbert_student`: DistilBERT's recipe for a MiniBERT teacher: the same widths and half
  the encoder layers, each student layer initialised from every other teacher layer (0, 2, 4, ...),
  and the embeddings, the masked-LM head and the classification head copied. The student starts
  close to the teacher, so distillation only has to repair what the missing layers did.
* :class:`StudentCNN`: a small convolutional network for chapter 04's images (a few thousand
  parameters against LeNet's tens of thousands), trained from scratch against a teacher's outputs.
"""

from __future__ import annotations

import re

from minidl import nn
from minidl.models.bert import MiniBERT


def distilbert_student(teacher, num_layers=None):
    """A MiniBERT with ``num_layers`` (default: half the teacher's, at least 1) encoder layers, layer i
    initialised from teacher layer 2i, every other weight copied from the teacher."""
    if not isinstance(teacher, MiniBERT):
        raise TypeError(f"distilbert_student: expected a MiniBERT teacher, got {type(teacher).__name__}")
    teacher_layers = len(teacher.encoder.layers)
    num_layers = max(1, teacher_layers // 2) if num_layers is None else num_layers
    if not 1 <= num_layers <= (teacher_layers + 1) // 2:
        raise ValueError(f"distilbert_student: num_layers must be between 1 and {(teacher_layers + 1) // 2} (every "
                         f"other layer of the teacher's {teacher_layers}), got {num_layers}")
    layer = teacher.encoder.layers[0]
    student = MiniBERT(teacher.vocab_size, d_model=teacher.d_model, nhead=layer.self_attn.num_heads,
                       num_layers=num_layers, dim_feedforward=layer.linear1.out_features, max_len=teacher.max_len,
                       dropout=teacher.embedding_dropout.p, pad_id=teacher.pad_id,
                       num_classes=teacher.classifier.out_features, tie_weights=teacher.tie_weights)
    student.load_state_dict({_student_key(key): value for key, value in teacher.state_dict().items()
                             if _keeps(key, num_layers)})
    return student


def _layer_of(key):
    match = re.match(r"encoder\.layers\.(\d+)\.", key)
    return None if match is None else int(match.group(1))


def _keeps(key, num_layers):
    """Whether a teacher key is copied: every non-layer key, and those of layers 0, 2, ..., 2(n-1)."""
    index = _layer_of(key)
    return index is None or (index % 2 == 0 and index // 2 < num_layers)


def _student_key(key):
    index = _layer_of(key)
    return key if index is None else key.replace(f"encoder.layers.{index}.", f"encoder.layers.{index // 2}.", 1)


class StudentCNN(nn.Module):
    """conv3x3(w) → ReLU → maxpool2 → conv3x3(2w) → ReLU → maxpool2 → Linear to the classes."""

    def __init__(self, in_channels=1, num_classes=10, image_size=28, width=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        side = image_size // 4
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * side * side, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
