"""The cross-entropy kernel (shared shift, BLAS row sums) equals the textbook op for every target kind."""

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels import loss as kernels
from minidl.testing.harness import compare_paths

TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-13), np.float32: dict(rtol=2e-5, atol=2e-6)}


def logits(shape, dtype, spread=2.0):
    return (np.random.default_rng(2).standard_normal(shape) * spread).astype(dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (8, 5), (256, 10), (4, 3, 2, 2)], ids=str)
def test_cross_entropy_kernel_equals_textbook(shape, dtype, reduction, thread_modes):
    x = logits(shape, dtype)
    target_shape = (shape[0],) + shape[2:]
    target = np.random.default_rng(3).integers(0, shape[1], target_shape)
    target.flat[0] = -100  # one ignored target
    ran = compare_paths(lambda t: F.cross_entropy(t, minidl.tensor(target), reduction=reduction), [x],
                        **TOLERANCE[dtype], what="cross_entropy")
    assert ran == {kernels.CrossEntropyLabels}  # class indices: the gather form


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_the_gather_form_equals_the_dense_form_with_one_hot_targets(dtype, reduction):
    from minidl.ops import loss as textbook
    x = minidl.tensor(logits((7, 5), dtype), requires_grad=True)
    labels, weights = np.array([0, 4, 2, 2, 1, 3, 0]), np.array([1, 1, 0, 2, 1, 1, 0.5], dtype=dtype)
    one_hot = np.zeros((7, 5), dtype)
    one_hot[np.arange(7), labels] = weights
    g = np.random.default_rng(5).standard_normal(7 if reduction == "none" else ()).astype(dtype)
    results = []
    for op, targets in ((textbook.CrossEntropyLabels, dict(labels=labels, w=weights)),
                        (textbook.CrossEntropy, dict(q=one_hot))):
        x.grad = None
        with minidl.use_kernels(False):
            loss = op.apply(x, denominator=float(weights.sum()), reduction=reduction, **targets)
        loss.backward(minidl.tensor(g))
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for ours, dense in zip(*results):
        np.testing.assert_allclose(ours, dense, **TOLERANCE[dtype])


@pytest.mark.parametrize("options", [dict(label_smoothing=0.2), dict(weight=np.array([1.0, 2.0, 0.5, 1.0])),
                                     dict(ignore_index=1)], ids=["smoothing", "weights", "ignore"])
def test_cross_entropy_kernel_equals_textbook_with_options(options):
    x = logits((9, 4), np.float64)
    target = minidl.tensor(np.random.default_rng(4).integers(0, 4, 9))
    if "weight" in options:
        options = {**options, "weight": minidl.tensor(options["weight"])}
    compare_paths(lambda t: F.cross_entropy(t, target, **options), [x], **TOLERANCE[np.float64], what="cross_entropy")


def test_cross_entropy_kernel_equals_textbook_for_probability_targets_and_wide_logits():
    x, p = logits((5, 6), np.float64, spread=200.0), np.random.default_rng(5).dirichlet(np.ones(6), 5)
    compare_paths(lambda t: F.cross_entropy(t, minidl.tensor(p)), [x], **TOLERANCE[np.float64], what="cross_entropy")


def test_all_targets_ignored_gives_nan_on_both_paths():
    x = logits((3, 4), np.float64)
    target = minidl.tensor(np.full(3, -100))
    compare_paths(lambda t: F.cross_entropy(t, target), [x], what="cross_entropy")  # NaN equals NaN here
