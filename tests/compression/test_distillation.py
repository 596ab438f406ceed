"""kl_div and the distillation loss: PyTorch's semantics (reductions, log_target, zero targets, the
'mean' warning), gradchecks, parity with the distillation formula written in PyTorch, and a student
that learns from a teacher. (The catalogue cases in minidl/testing/catalog/compression.py add
hypothesis-drawn forward, gradient and parity checks through tests/test_ops.py.)"""

import warnings

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.compression import distill, distillation_loss
from minidl.data import DataLoader, TensorDataset
from minidl.nn import functional as F
from minidl.testing import gradcheck
from conftest import as_numpy

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
TF = torch.nn.functional


def pair(rng, shape, target_zeros=False):
    x = np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    t = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if target_zeros:
        t[..., 0] = 0.0
        t /= t.sum(-1, keepdims=True)
    return x, t


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("target_zeros", [False, True])
def test_kl_div_matches_pytorch_forward_and_gradients(reduction, log_target, target_zeros):
    rng = np.random.default_rng(0)
    x, t = pair(rng, (4, 5), target_zeros and not log_target)
    t = np.log(t) if log_target else t
    ours = [minidl.tensor(a, requires_grad=True) for a in (x, t)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, t)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        mine = F.kl_div(*ours, reduction=reduction, log_target=log_target)
        expected = TF.kl_div(*theirs, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(as_numpy(mine), as_numpy(expected), rtol=1e-12, atol=1e-14)
    upstream = rng.standard_normal(expected.shape)
    mine.backward(minidl.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):  # NaN where PyTorch gives NaN: the target's gradient at t = 0
        np.testing.assert_allclose(as_numpy(a.grad), as_numpy(b.grad), rtol=1e-10, atol=1e-12, equal_nan=True)
    if target_zeros and not log_target:
        assert np.isnan(as_numpy(ours[1].grad)[:, 0]).all() and np.isfinite(as_numpy(ours[1].grad)[:, 1:]).all()


def test_kl_div_zero_target_terms_count_zero_even_against_minus_infinity_free_inputs():
    x = minidl.tensor([[-1.0, -2.0, -0.5]])
    t = minidl.tensor([[0.0, 0.25, 0.75]])
    pointwise = F.kl_div(x, t, reduction="none").numpy()
    assert pointwise[0, 0] == 0.0
    np.testing.assert_allclose(pointwise[0, 1:], [0.25 * (np.log(0.25) + 2), 0.75 * (np.log(0.75) + 0.5)], rtol=1e-6)


def test_batchmean_is_the_mean_kl_of_the_rows_and_mean_divides_by_every_element():
    rng = np.random.default_rng(1)
    x, t = pair(rng, (3, 4))
    rows = (t * (np.log(t) - x)).sum(-1)
    kl = F.kl_div(minidl.tensor(x), minidl.tensor(t), reduction="batchmean").item()
    assert kl == pytest.approx(rows.mean(), rel=1e-12)
    with pytest.warns(UserWarning, match="batchmean"):
        mean = F.kl_div(minidl.tensor(x), minidl.tensor(t)).item()
    assert mean == pytest.approx(rows.sum() / 12, rel=1e-12)
    assert F.kl_div(minidl.tensor(x[0, 0]), minidl.tensor(t[0, 0]), reduction="batchmean").item() == pytest.approx(
        t[0, 0] * (np.log(t[0, 0]) - x[0, 0]))  # 0-d: no batch to divide by, as in PyTorch


def test_kl_div_gradcheck_both_inputs():
    rng = np.random.default_rng(2)
    x, t = pair(rng, (3, 4))
    for log_target in (False, True):
        target = np.log(t) if log_target else t
        assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target),
                         [minidl.tensor(x, requires_grad=True), minidl.tensor(target, requires_grad=True)])


def test_kl_div_bad_arguments_are_named():
    x, t = minidl.zeros(2, 3), minidl.ones(2, 3)
    with pytest.raises(ValueError, match="kl_div: reduction must be one of .*'batchmean'.*got 'average'"):
        F.kl_div(x, t, reduction="average")
    with pytest.raises(ValueError, match=r"kl_div: input shape \(2, 3\) and target shape \(3,\) differ"):
        F.kl_div(x, minidl.ones(3), reduction="sum")
    with pytest.raises(ValueError, match="KLDivLoss: reduction"):
        nn.KLDivLoss(reduction="elementwise")


def test_kl_div_loss_module_matches_pytorch():
    rng = np.random.default_rng(3)
    x, t = pair(rng, (2, 6))
    for options in ({"reduction": "batchmean"}, {"reduction": "sum", "log_target": True}):
        target = np.log(t) if options.get("log_target") else t
        mine = nn.KLDivLoss(**options)(minidl.tensor(x), minidl.tensor(target)).item()
        theirs = torch.nn.KLDivLoss(**options)(torch.tensor(x), torch.tensor(target)).item()
        assert mine == pytest.approx(theirs, rel=1e-12)
    assert repr(nn.KLDivLoss(reduction="batchmean")) == "KLDivLoss(reduction='batchmean')"


# --- the distillation loss --------------------------------------------------------------------------------

def torch_distillation(s, t, y, temperature, alpha):
    soft = TF.kl_div(TF.log_softmax(s / temperature, -1), TF.softmax(t / temperature, -1), reduction="batchmean")
    return alpha * temperature ** 2 * soft + (1 - alpha) * TF.cross_entropy(s, y)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (2.0, 0.9), (4.0, 0.1), (3.0, 1.0), (0.5, 0.0)])
def test_distillation_loss_matches_the_formula_in_pytorch(temperature, alpha):
    rng = np.random.default_rng(4)
    s, t = rng.standard_normal((8, 5)) * 3, rng.standard_normal((8, 5)) * 3
    y = rng.integers(0, 5, 8)
    mine_s = minidl.tensor(s, requires_grad=True)
    theirs_s = torch.tensor(s, requires_grad=True)
    mine = distillation_loss(mine_s, minidl.tensor(t), minidl.tensor(y), temperature, alpha)
    theirs = torch_distillation(theirs_s, torch.tensor(t), torch.tensor(y), temperature, alpha)
    assert mine.item() == pytest.approx(theirs.item(), rel=1e-12)
    mine.backward()
    theirs.backward()
    np.testing.assert_allclose(as_numpy(mine_s.grad), theirs_s.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_distillation_loss_gradcheck_and_the_teacher_gets_no_gradient():
    rng = np.random.default_rng(5)
    s = minidl.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = minidl.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = minidl.tensor([0, 2, 1, 2])
    assert gradcheck(lambda a: distillation_loss(a, t, y, temperature=3.0, alpha=0.7), [s])
    distillation_loss(s, t, y).backward()
    assert t.grad is None


def test_distillation_loss_ends_are_the_kl_and_the_cross_entropy():
    rng = np.random.default_rng(6)
    s, t = minidl.tensor(rng.standard_normal((5, 4))), minidl.tensor(rng.standard_normal((5, 4)))
    y = minidl.tensor([0, 1, 2, 3, 0])
    assert distillation_loss(s, t, y, 2.0, alpha=0.0).item() == pytest.approx(F.cross_entropy(s, y).item())
    kl = F.kl_div(F.log_softmax(s / 2, -1), F.softmax(t / 2, -1), reduction="batchmean").item()
    assert distillation_loss(s, t, y, 2.0, alpha=1.0).item() == pytest.approx(4 * kl)
    assert distillation_loss(t, t, y, 2.0, alpha=1.0).item() == pytest.approx(0.0, abs=1e-6)


def test_distillation_loss_bad_arguments():
    s = minidl.zeros(2, 3)
    with pytest.raises(ValueError, match="distillation_loss: temperature must be greater than 0"):
        distillation_loss(s, s, minidl.tensor([0, 1]), temperature=0)
    with pytest.raises(ValueError, match="distillation_loss: alpha must be between 0 and 1"):
        distillation_loss(s, s, minidl.tensor([0, 1]), alpha=1.5)
    with pytest.raises(ValueError, match=r"distillation_loss: .*\(2, 3\) and \(2, 4\)"):
        distillation_loss(s, minidl.zeros(2, 4), minidl.tensor([0, 1]))


def test_a_student_learns_the_teacher_s_function_from_the_soft_targets_alone():
    """The teacher knows the rule (class = argmax of 3 fixed projections); the labels are random. With
    alpha = 1 the student learns the rule from the teacher alone; with alpha = 0 (labels only) it cannot."""
    rng = np.random.default_rng(7)
    projection = rng.standard_normal((6, 3)).astype(np.float32)
    x = rng.standard_normal((512, 6)).astype(np.float32)
    truth = (x @ projection).argmax(1)
    random_labels = rng.integers(0, 3, 512)

    class Teacher(nn.Module):
        def forward(self, inputs):
            return inputs @ minidl.tensor(projection) * 3.0

    accuracies = {}
    for alpha in (1.0, 0.0):
        minidl.manual_seed(0)
        student = nn.Linear(6, 3)
        loader = DataLoader(TensorDataset(x, random_labels), batch_size=64, shuffle=True, seed=0)
        losses = distill(student, Teacher(), loader, minidl.optim.Adam(student.parameters(), lr=0.05), epochs=15,
                         temperature=2.0, alpha=alpha, progress=False)
        accuracies[alpha] = (as_numpy(student(minidl.tensor(x))).argmax(1) == truth).mean()
        assert losses[-8:].mean() < losses[:8].mean()
    assert accuracies[1.0] > 0.9 and accuracies[0.0] < 0.6
