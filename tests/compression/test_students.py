"""The distillation students (a DistilBERT-style MiniBERT from every other teacher layer, a small CNN) and
the measurements chapter 10 reports: parameter counts, checkpoint bytes, latency."""

import os
import zlib

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.compression import checkpoint_size, count_parameters, latency
from minidl.models.bert import MiniBERT
from minidl.models.cnn import LeNet, SmallVGG
from minidl.models.distill import StudentCNN, distilbert_student
from minidl.nn.utils import prune
from conftest import as_numpy


def teacher(layers=4):
    minidl.manual_seed(0)
    return MiniBERT(40, d_model=16, nhead=2, num_layers=layers, dim_feedforward=32, max_len=10, dropout=0.0,
                    num_classes=3)


def test_the_student_has_half_the_layers_initialised_from_every_other_teacher_layer():
    big = teacher(4)
    student = distilbert_student(big)
    assert len(student.encoder.layers) == 2 and student.classifier.out_features == 3
    for i, j in ((0, 0), (1, 2)):
        for key, value in student.encoder.layers[i].state_dict().items():
            np.testing.assert_array_equal(as_numpy(value), as_numpy(big.encoder.layers[j].state_dict()[key]))
    ids = np.random.default_rng(1).integers(4, 40, size=(3, 8))
    big.eval()
    student.eval()
    hidden = big.embed(minidl.tensor(ids))  # the teacher run through its layers 0 and 2 only
    mask = minidl.tensor(ids == big.pad_id)
    for j in (0, 2):
        hidden = big.encoder.layers[j](hidden, src_key_padding_mask=mask)
    np.testing.assert_allclose(as_numpy(student(ids)), as_numpy(hidden), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(as_numpy(student.token_embedding.weight), as_numpy(big.token_embedding.weight))
    assert count_parameters(student) < count_parameters(big)


def test_student_sizes_and_errors():
    assert len(distilbert_student(teacher(2)).encoder.layers) == 1
    assert len(distilbert_student(teacher(3)).encoder.layers) == 1
    assert len(distilbert_student(teacher(3), num_layers=2).encoder.layers) == 2  # teacher layers 0 and 2
    with pytest.raises(ValueError, match="num_layers must be between 1 and 2"):
        distilbert_student(teacher(4), num_layers=3)
    with pytest.raises(TypeError, match="expected a MiniBERT teacher, got LeNet"):
        distilbert_student(LeNet())


@pytest.mark.parametrize("size, teacher_model", [(8, LeNet), (28, SmallVGG)])
def test_the_student_cnn_is_much_smaller_than_chapter_04_s_models(size, teacher_model):
    student = StudentCNN(image_size=size)
    assert as_numpy(student(minidl.zeros(2, 1, size, size))).shape == (2, 10)
    assert count_parameters(student) * 8 < count_parameters(teacher_model(image_size=size))


def test_counts_sizes_and_latency(tmp_path):
    minidl.manual_seed(2)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    assert count_parameters(model) == 64 * 64 + 64 + 64 * 10 + 10
    model[0].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 64 * 10 + 10
    raw, packed = checkpoint_size(model, tmp_path / "model.npz")
    assert raw == os.path.getsize(tmp_path / "model.npz")
    assert packed == len(zlib.compress((tmp_path / "model.npz").read_bytes(), 6))
    assert raw > 4 * count_parameters(model)  # float32 values, plus the archive's own bytes
    prune.l1_unstructured(model[0], "weight", 0.9)
    prune.remove(model[0], "weight")
    pruned_raw, pruned_packed = checkpoint_size(model)
    assert pruned_raw == raw and pruned_packed < 0.6 * packed  # the zeros take room until compressed
    model.train()
    seconds = latency(model, minidl.zeros(1, 64), repeats=3, warmup=1)
    assert 0 < seconds < 1 and model.training
