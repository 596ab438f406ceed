"""Whole CNNs against PyTorch with the same weights, and the CNN demo on the 8x8 digits.

Each network is built layer for layer in both frameworks (in float64), PyTorch's
state_dict is copied into minidl, and then, in training mode: the logits, the
cross-entropy loss and every parameter gradient; after three SGD steps (with
momentum) every parameter and the BatchNorm running statistics; finally the
eval-mode logits, which use those running statistics.
"""

import importlib.util
from collections import OrderedDict

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.models.cnn import LeNet, SmallVGG
from minidl.nn import functional as F
from conftest import copy_weights

try:
    import torch
except ImportError:  # the parity tests need PyTorch, the demo test does not
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

TOLERANCE = {"rtol": 1e-7, "atol": 1e-9}


def workload_c(nn, image_size=8):
    """The benchmark's workload C (two conv-BN-ReLU-pool blocks, a dense head) for small images;
    ``nn`` is minidl.nn or torch.nn: the same code builds both."""
    side = image_size // 4
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * side * side, 16), nn.ReLU(), nn.Linear(16, 10))


def torch_lenet(in_channels=1, num_classes=10, image_size=8):
    """minidl.models.cnn.LeNet's layers in PyTorch, with the same names (features.*, classifier.*)."""
    n, side = torch.nn, image_size // 4
    return n.Sequential(OrderedDict(
        features=n.Sequential(n.Conv2d(in_channels, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2),
                              n.Conv2d(6, 16, 5, padding=2), n.ReLU(), n.MaxPool2d(2)),
        classifier=n.Sequential(n.Flatten(), n.Linear(16 * side * side, 120), n.ReLU(), n.Linear(120, 84),
                                n.ReLU(), n.Linear(84, num_classes))))


def torch_small_vgg(in_channels=1, num_classes=10, image_size=8, width=4, dropout=0.0):
    """minidl.models.cnn.SmallVGG's layers in PyTorch, with the same names."""
    n, side = torch.nn, image_size // 4

    def block(cin, cout):
        return [n.Conv2d(cin, cout, 3, padding=1, bias=False), n.BatchNorm2d(cout), n.ReLU(),
                n.Conv2d(cout, cout, 3, padding=1, bias=False), n.BatchNorm2d(cout), n.ReLU(), n.MaxPool2d(2)]

    return n.Sequential(OrderedDict(
        features=n.Sequential(*block(in_channels, width), *block(width, 2 * width)),
        classifier=n.Sequential(n.Flatten(), n.Dropout(dropout), n.Linear(2 * width * side * side, 128), n.ReLU(),
                                n.Dropout(dropout), n.Linear(128, num_classes))))


def batches(shape, steps, seed=0):
    """``steps`` (images, labels) pairs of float64 images and int64 labels."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape), rng.integers(0, 10, shape[0])) for _ in range(steps + 1)]


def assert_same(mine, theirs, what):
    value = mine.detach().numpy() if isinstance(mine, minidl.Tensor) else np.asarray(mine)
    np.testing.assert_allclose(value, theirs.detach().numpy(), err_msg=what, **TOLERANCE)


def sgd_step(model, optimizer, images, labels, cross_entropy):
    optimizer.zero_grad()
    cross_entropy(model(images), labels).backward()
    optimizer.step()


def check_against_pytorch(mine, theirs, input_shape):
    """Training-mode forward, loss and every gradient; three SGD steps; running stats; eval-mode logits."""
    theirs.double()
    mine.double()
    copy_weights(theirs, mine)
    data = batches(input_shape, steps=3)
    images, labels = data[0]
    mine.train(), theirs.train()
    logits, expected_logits = mine(minidl.tensor(images)), theirs(torch.tensor(images))
    assert_same(logits, expected_logits, "training-mode logits")
    loss = F.cross_entropy(logits, minidl.tensor(labels))
    expected_loss = torch.nn.functional.cross_entropy(expected_logits, torch.tensor(labels))
    assert_same(loss, expected_loss, "loss")
    loss.backward()
    expected_loss.backward()
    their_parameters = dict(theirs.named_parameters())
    assert [name for name, _ in mine.named_parameters()] == list(their_parameters)
    for name, parameter in mine.named_parameters():
        assert_same(parameter.grad, their_parameters[name].grad, f"gradient of {name}")

    ours_sgd = minidl.optim.SGD(mine.parameters(), lr=0.05, momentum=0.9)
    their_sgd = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    for step_images, step_labels in data[1:]:
        sgd_step(mine, ours_sgd, minidl.tensor(step_images), minidl.tensor(step_labels), F.cross_entropy)
        sgd_step(theirs, their_sgd, torch.tensor(step_images), torch.tensor(step_labels),
                 torch.nn.functional.cross_entropy)
    their_state = theirs.state_dict()
    for name, value in mine.state_dict().items():  # parameters, running_mean/var, num_batches_tracked
        assert_same(value, their_state[name], f"{name} after 3 SGD steps")

    mine.eval(), theirs.eval()
    with minidl.no_grad(), torch.no_grad():
        assert_same(mine(minidl.tensor(images)), theirs(torch.tensor(images)), "eval-mode logits")


@needs_torch
def test_workload_c_matches_pytorch():
    torch.manual_seed(0)
    check_against_pytorch(workload_c(nn), workload_c(torch.nn), (8, 3, 8, 8))


@needs_torch
def test_lenet_matches_pytorch():
    torch.manual_seed(1)
    check_against_pytorch(LeNet(image_size=8), torch_lenet(image_size=8), (6, 1, 8, 8))


@needs_torch
def test_small_vgg_matches_pytorch():
    torch.manual_seed(2)
    theirs = torch_small_vgg(image_size=8, width=4)
    for module in theirs.modules():  # BatchNorm's affine parameters away from their initial 1 and 0
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
            torch.nn.init.uniform_(module.bias, -0.5, 0.5)
    check_against_pytorch(SmallVGG(image_size=8, width=4, dropout=0.0), theirs, (6, 1, 8, 8))


@needs_torch
def test_small_vgg_eval_ignores_dropout():
    """With its default dropout, SmallVGG in eval mode still equals PyTorch's (dropout is the identity)."""
    torch.manual_seed(3)
    theirs, mine = torch_small_vgg(image_size=12, width=4, dropout=0.25).double(), SmallVGG(image_size=12, width=4)
    mine.double()
    copy_weights(theirs, mine)
    images = np.random.default_rng(4).standard_normal((3, 1, 12, 12))
    mine.eval(), theirs.eval()
    with minidl.no_grad(), torch.no_grad():
        assert_same(mine(minidl.tensor(images)), theirs(torch.tensor(images)), "eval-mode logits")


def test_digits_demo_reaches_97_percent(tmp_path):
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("the digits come with scikit-learn: pip install scikit-learn")
    from minidl.course.demos.cnn import run
    result = run(dataset="digits", progress=False, out_dir=tmp_path)
    assert result["test_accuracy"] >= 0.97
    assert len(result["history"]["test_accuracy"]) == len(result["history"]["epoch_loss"]) > 0
    assert set(result["figures"]) == {"loss", "filters", "feature_maps"}
    for path in result["figures"].values():
        with open(path, "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"
