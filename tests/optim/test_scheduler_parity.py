"""Every learning-rate scheduler follows PyTorch's rates (and momenta) step by step, alone and combined."""

import math

import numpy as np
import pytest

import minidl
from minidl.optim import lr_scheduler as ours_module
from conftest import optimizer_pair, schedule_rates

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


def _optimizers(optimizer_name, **options):
    return optimizer_pair(torch, optimizer_name, **options)


def _schedules(make, optimizer_name="SGD", steps=25, metrics=None, **options):
    """The rates (and momenta) of both libraries over ``steps`` steps."""
    return schedule_rates(torch, lambda o: make(ours_module, o), lambda o: make(torch.optim.lr_scheduler, o),
                          optimizer_name, steps, metrics, **options)


CASES = {
    "StepLR": lambda L, o: L.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.9),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=6),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=10, power=2.0),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    "WarmRestartsConstant": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=4),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda t: 1 / (1 + t)),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=25),
    "OneCycleLinearThreePhase": lambda L, o: L.OneCycleLR(o, max_lr=0.8, epochs=5, steps_per_epoch=5,
                                                          anneal_strategy="linear", three_phase=True,
                                                          pct_start=0.25),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    L.CosineAnnealingLR(o, T_max=15)], milestones=[5]),
    "SequentialThree": lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.5, total_iters=3),
                                                       L.ExponentialLR(o, gamma=0.8),
                                                       L.StepLR(o, step_size=3, gamma=0.5)], milestones=[4, 10]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=4),
                                                         L.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.parametrize("name", CASES)
def test_rates_follow_pytorch(name):
    ours, theirs = _schedules(CASES[name], momentum=0.9)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_one_cycle_moves_adams_beta1():
    ours, theirs = _schedules(lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=25), "AdamW")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[:, 3].min() == pytest.approx(0.85, abs=1e-3) and ours[0, 3] == pytest.approx(0.95)


@pytest.mark.parametrize("options", [dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                     dict(threshold_mode="abs", threshold=0.1, patience=0, min_lr=[0.01, 0.02])])
def test_reduce_on_plateau_follows_pytorch(options):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    if options.get("mode") == "max":
        metrics = [-m for m in metrics]
    ours, theirs = _schedules(lambda L, o: L.ReduceLROnPlateau(o, **options), steps=len(metrics), metrics=metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[-1, 0] < ours[0, 0]


def test_one_cycle_refuses_steps_past_the_end_and_bad_arguments():
    optimizer = _optimizers("SGD", momentum=0.9)[0]
    scheduler = ours_module.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times; the specified number of total steps is 3"):
        scheduler.step()
    with pytest.raises(ValueError, match="either total_steps OR"):
        ours_module.OneCycleLR(optimizer, max_lr=1.0)
    with pytest.raises(ValueError, match="momentum or beta1"):
        ours_module.OneCycleLR(_no_momentum_optimizer(), max_lr=1.0, total_steps=3)


def _no_momentum_optimizer():
    class Plain(minidl.optim.Optimizer):
        def step(self):
            pass
    return Plain([minidl.nn.Parameter(minidl.zeros(1))], {"lr": 0.1})


def test_sequential_scheduler_state_round_trips():
    optimizer = _optimizers("SGD")[0]
    make = CASES["SequentialLR"]
    scheduler = make(ours_module, optimizer)
    for _ in range(7):
        scheduler.step()
    state = scheduler.state_dict()
    again = make(ours_module, _optimizers("SGD")[0])
    again.load_state_dict(state)
    assert again.last_epoch == 7 and math.isclose(again.get_last_lr()[0], scheduler.get_last_lr()[0])
