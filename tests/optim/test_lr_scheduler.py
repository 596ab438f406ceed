"""Learning-rate schedulers follow PyTorch's get_last_lr() sequences; state dict round trips."""

import pickle

import numpy as np
import pytest

import minidl
from minidl.nn import Parameter
from minidl.optim import SGD, lr_scheduler

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch, which is not installed")

STEPS = 30
GROUP_LRS = (0.1, 0.03)


def make_optimizers(lrs=GROUP_LRS):
    ours = SGD([{"params": [Parameter(np.zeros(2))], "lr": lr} for lr in lrs], lr=1.0)
    theirs = None if torch is None else torch.optim.SGD(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs], lr=1.0)
    return ours, theirs


def scale(t):
    return 0.95 ** t


CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=7)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=STEPS)),
    ("LambdaLR", dict(lr_lambda=scale)),
    ("LambdaLR", dict(lr_lambda=[scale, lambda t: 1.0 / (t + 1)])),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.1, total_iters=12)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


@needs_torch
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_get_last_lr_matches_pytorch(name, kwargs):
    ours, theirs = make_optimizers()
    ours_scheduler = getattr(lr_scheduler, name)(ours, **kwargs)
    theirs_scheduler = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    for step in range(STEPS + 1):
        assert ours_scheduler.last_epoch == theirs_scheduler.last_epoch == step
        np.testing.assert_allclose(ours_scheduler.get_last_lr(), theirs_scheduler.get_last_lr(), rtol=1e-12,
                                   atol=1e-15, err_msg=f"{name} at step {step}")
        assert [g["lr"] for g in ours.param_groups] == ours_scheduler.get_last_lr()
        assert [g["initial_lr"] for g in ours.param_groups] == list(GROUP_LRS)
        ours.step(), theirs.step()
        ours_scheduler.step(), theirs_scheduler.step()


@needs_torch
def test_cosine_closed_form_matches_pytorch_recursion_exactly_enough():
    ours, theirs = make_optimizers()
    ours_scheduler = lr_scheduler.CosineAnnealingLR(ours, T_max=25, eta_min=0.002)
    theirs_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=25, eta_min=0.002)
    for _ in range(25):
        ours.step(), theirs.step()
        ours_scheduler.step(), theirs_scheduler.step()
        for a, b in zip(ours_scheduler.get_last_lr(), theirs_scheduler.get_last_lr()):
            assert abs(a - b) <= 1e-12
    assert ours_scheduler.get_last_lr() == pytest.approx([0.002, 0.002], abs=1e-15)


@needs_torch
@pytest.mark.parametrize("name, kwargs", [("CosineAnnealingLR", dict(T_max=12)), ("LinearLR", dict(total_iters=8)),
                                          ("StepLR", dict(step_size=4, gamma=0.7))])
def test_scheduler_drives_training_like_pytorch(name, kwargs):
    """SGD with momentum whose lr is scheduled: the same parameters as PyTorch after every step."""
    rng = np.random.default_rng(1)
    x, w0 = rng.standard_normal((6, 4)), rng.standard_normal((4, 2))
    w = Parameter(w0.copy())
    tw = torch.tensor(w0.copy(), requires_grad=True)
    ours, theirs = SGD([w], lr=0.2, momentum=0.9), torch.optim.SGD([tw], lr=0.2, momentum=0.9)
    scheduler = getattr(lr_scheduler, name)(ours, **kwargs)
    torch_scheduler = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    for _ in range(STEPS):
        ours.zero_grad(), theirs.zero_grad()
        (minidl.tensor(x) @ w).tanh().sum().backward()
        (torch.tensor(x) @ tw).tanh().sum().backward()
        ours.step(), theirs.step()
        scheduler.step(), torch_scheduler.step()
        np.testing.assert_allclose(w.array, tw.detach().numpy(), rtol=0, atol=1e-10)


@needs_torch
def test_chained_step_and_linear_schedulers_match_pytorch():
    """StepLR and LinearLR are multiplicative, so two on one optimizer compose as in PyTorch."""
    ours, theirs = make_optimizers()
    mine = [lr_scheduler.LinearLR(ours, start_factor=0.25, total_iters=6), lr_scheduler.StepLR(ours, 5, 0.5)]
    torchs = [torch.optim.lr_scheduler.LinearLR(theirs, start_factor=0.25, total_iters=6),
              torch.optim.lr_scheduler.StepLR(theirs, 5, 0.5)]
    for _ in range(STEPS):
        ours.step(), theirs.step()
        for a, b in zip(mine, torchs):
            a.step(), b.step()
        np.testing.assert_allclose([g["lr"] for g in ours.param_groups], [g["lr"] for g in theirs.param_groups],
                                   rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_state_dict_round_trip(name, kwargs):
    ours, _ = make_optimizers()
    scheduler = getattr(lr_scheduler, name)(ours, **kwargs)
    expected = []
    for _ in range(STEPS):
        ours.step()
        scheduler.step()
        expected.append(scheduler.get_last_lr())

    ours, _ = make_optimizers()
    scheduler = getattr(lr_scheduler, name)(ours, **kwargs)
    for _ in range(11):
        ours.step()
        scheduler.step()
    saved_optimizer = pickle.loads(pickle.dumps(ours.state_dict()))
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 11
    saved = pickle.loads(pickle.dumps(saved))

    resumed_optimizer, _ = make_optimizers(lrs=(5.0, 6.0))
    resumed = getattr(lr_scheduler, name)(resumed_optimizer, **kwargs)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved)
    assert resumed.last_epoch == 11 and resumed.base_lrs == list(GROUP_LRS)
    assert resumed.get_last_lr() == expected[10]
    for step in range(11, STEPS):
        resumed_optimizer.step()
        resumed.step()
        assert resumed.get_last_lr() == expected[step]


def test_lambda_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, t):
            return self.rate ** t

    ours, _ = make_optimizers(lrs=(1.0,))
    saved = lr_scheduler.LambdaLR(ours, Decay(0.5)).state_dict()
    assert saved["lr_lambdas"] == [{"rate": 0.5}]
    other, _ = make_optimizers(lrs=(1.0,))
    scheduler = lr_scheduler.LambdaLR(other, Decay(0.9))
    scheduler.load_state_dict(saved)
    assert scheduler.lr_lambdas[0].rate == 0.5
    assert lr_scheduler.LambdaLR(other, lambda t: 1.0).state_dict()["lr_lambdas"] == [None]


def test_linear_warmup_rises_then_decays_to_zero():
    ours, _ = make_optimizers(lrs=(0.5,))
    scheduler = lr_scheduler.linear_warmup(ours, warmup_steps=4, total_steps=12)
    assert isinstance(scheduler, lr_scheduler.LambdaLR)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(14):
        ours.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    expected = [0.5 * t / 4 for t in range(4)] + [0.5 * (12 - t) / 8 for t in range(4, 12)] + [0.0] * 3
    np.testing.assert_allclose(lrs, expected, rtol=0, atol=1e-15)
    assert max(lrs) == 0.5 and lrs[4] == 0.5

    no_warmup, _ = make_optimizers(lrs=(0.5,))
    assert lr_scheduler.linear_warmup(no_warmup, 0, 10).get_last_lr() == [0.5]
    with pytest.raises(ValueError, match="warmup_steps"):
        lr_scheduler.linear_warmup(no_warmup, -1, 10)
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.linear_warmup(no_warmup, 5, 3)


@needs_torch
def test_resuming_with_last_epoch_needs_initial_lr():
    ours, _ = make_optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(ours, 3, last_epoch=4)
    theirs_optimizer = make_optimizers()[1]
    for group in ours.param_groups + theirs_optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    ours_scheduler = lr_scheduler.CosineAnnealingLR(ours, T_max=10, last_epoch=4)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(theirs_optimizer, T_max=10, last_epoch=4)
    assert ours_scheduler.last_epoch == theirs.last_epoch == 5
    np.testing.assert_allclose(ours_scheduler.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


def test_bad_scheduler_arguments():
    ours, _ = make_optimizers()
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), 3)
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(ours, 0)
    with pytest.raises(ValueError, match="T_max"):
        lr_scheduler.CosineAnnealingLR(ours, 0)
    with pytest.raises(ValueError, match="start_factor"):
        lr_scheduler.LinearLR(ours, start_factor=0)
    with pytest.raises(ValueError, match="end_factor"):
        lr_scheduler.LinearLR(ours, end_factor=1.5)
    with pytest.raises(ValueError, match="total_iters"):
        lr_scheduler.LinearLR(ours, total_iters=0)
    with pytest.raises(ValueError, match="2 lr_lambdas"):
        lr_scheduler.LambdaLR(ours, [scale])
    with pytest.raises(TypeError, match="callable"):
        lr_scheduler.LambdaLR(ours, 0.5)
