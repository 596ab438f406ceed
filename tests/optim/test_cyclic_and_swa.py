"""MultiplicativeLR, CyclicLR and SWALR follow PyTorch's rates (and momenta) step by step; the weight
averaging rules of swa_utils compute what PyTorch's compute."""

import pickle

import numpy as np
import pytest

import minidl
from minidl.optim import lr_scheduler as ours_module
from minidl.optim import swa_utils
from conftest import optimizer_pair, schedule_rates

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


def _optimizers(optimizer_name, **options):
    return optimizer_pair(torch, optimizer_name, **options)


def _schedules(make, optimizer_name="SGD", steps=40, **options):
    """Every group's lr, then group 0's momentum and β1, before each of ``steps`` steps, in both libraries."""
    return schedule_rates(torch, lambda o: make(ours_module, swa_utils, o),
                          lambda o: make(torch.optim.lr_scheduler, torch.optim.swa_utils, o),
                          optimizer_name, steps, **options)


def _halving(t):
    return 0.5 if t % 3 == 0 else 1.0


class Scale:
    """A callable object: its attributes travel in a scheduler's state dict."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, x):
        return self.factor ** x


CASES = {
    "MultiplicativeLR": lambda L, S, o: L.MultiplicativeLR(o, lambda t: 0.95),
    "MultiplicativeLRPerGroup": lambda L, S, o: L.MultiplicativeLR(o, [lambda t: 0.9, _halving]),
    "MultiplicativeThenStep": lambda L, S, o: L.ChainedScheduler([L.MultiplicativeLR(o, lambda t: 0.97),
                                                                  L.StepLR(o, step_size=5, gamma=0.5)]),
    "CyclicTriangular": lambda L, S, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicTriangular2": lambda L, S, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3,
                                                    step_size_down=5, mode="triangular2"),
    "CyclicExpRange": lambda L, S, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                                                 gamma=0.95, base_momentum=0.7, max_momentum=0.95),
    "CyclicScaleFnCycle": lambda L, S, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=2, scale_fn=lambda x: 1 / x),
    "CyclicScaleFnIterations": lambda L, S, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=3, scale_fn=Scale(0.9),
                                                          scale_mode="iterations", cycle_momentum=False),
    "SWALRCos": lambda L, S, o: S.SWALR(o, swa_lr=0.02, anneal_epochs=7),
    "SWALRLinearPerGroup": lambda L, S, o: S.SWALR(o, swa_lr=[0.5, 0.01], anneal_epochs=4, anneal_strategy="linear"),
    "SWALRNoAnnealing": lambda L, S, o: S.SWALR(o, swa_lr=0.3, anneal_epochs=0),
    "SWALRChainedWithExponential": lambda L, S, o: L.ChainedScheduler([L.ExponentialLR(o, gamma=0.9),
                                                                      S.SWALR(o, swa_lr=0.05, anneal_epochs=6)]),
    # at the milestone SWALR restarts without counting a step(), as in PyTorch
    "ExponentialThenSWALR": lambda L, S, o: L.SequentialLR(o, [L.ExponentialLR(o, gamma=0.9),
                                                              S.SWALR(o, swa_lr=0.05, anneal_epochs=6)],
                                                          milestones=[5]),
}


@pytest.mark.parametrize("name", CASES)
def test_rates_and_momenta_follow_pytorch(name):
    ours, theirs = _schedules(CASES[name], momentum=0.9)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    if name != "SWALRNoAnnealing":  # that one sets swa_lr at once
        assert len(np.unique(ours[:, 0])) > 2  # the rate really moved


def test_cyclic_lr_moves_adams_beta1():
    make = lambda L, S, o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=4, mode="triangular2")  # noqa
    ours, theirs = _schedules(make, "Adam")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert ours[:, 3].min() == pytest.approx(0.8) and ours[0, 3] == pytest.approx(0.9)


def test_cyclic_lr_refuses_bad_arguments_naming_them():
    optimizer = _optimizers("SGD", momentum=0.9)[0]
    with pytest.raises(ValueError, match="CyclicLR: invalid mode 'sawtooth'"):
        ours_module.CyclicLR(optimizer, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="expected 2 values for max_lr"):
        ours_module.CyclicLR(optimizer, 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="CyclicLR: invalid step_size_up"):
        ours_module.CyclicLR(optimizer, 0.01, 0.1, step_size_up=0)
    plain = minidl.optim.Adagrad([minidl.nn.Parameter(minidl.zeros(1))])
    with pytest.raises(ValueError, match="momentum or beta1"):
        ours_module.CyclicLR(plain, 0.01, 0.1)
    ours_module.CyclicLR(plain, 0.01, 0.1, cycle_momentum=False)  # fine without momentum


def test_multiplicative_lr_refuses_bad_lambdas():
    optimizer = _optimizers("SGD")[0]
    with pytest.raises(ValueError, match="MultiplicativeLR: expected 2 lr_lambdas"):
        ours_module.MultiplicativeLR(optimizer, [lambda t: 1.0])
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda must be callable"):
        ours_module.MultiplicativeLR(optimizer, 0.9)


@pytest.mark.parametrize("name", ["MultiplicativeLRPerGroup", "CyclicTriangular2", "CyclicScaleFnIterations",
                                  "SWALRCos"])
def test_state_dict_round_trip_continues_the_same_rates(name):
    make = CASES[name]
    optimizer = _optimizers("SGD", momentum=0.9)[0]
    scheduler = make(ours_module, swa_utils, optimizer)
    for _ in range(7):
        scheduler.step()
    saved = pickle.loads(pickle.dumps(scheduler.state_dict()))
    again_optimizer = _optimizers("SGD", momentum=0.9)[0]
    again = make(ours_module, swa_utils, again_optimizer)
    again_optimizer.load_state_dict(optimizer.state_dict())
    again.load_state_dict(saved)
    for _ in range(10):
        scheduler.step()
        again.step()
        assert again.get_last_lr() == scheduler.get_last_lr()
        assert again_optimizer.param_groups[0]["momentum"] == optimizer.param_groups[0]["momentum"]


def test_a_callable_scale_fn_keeps_its_attributes_in_the_state_dict():
    optimizer = _optimizers("SGD", momentum=0.9)[0]
    scheduler = ours_module.CyclicLR(optimizer, 0.01, 0.1, scale_fn=Scale(0.5))
    assert scheduler.state_dict()["_scale_fn_custom"] == {"factor": 0.5}
    other = ours_module.CyclicLR(_optimizers("SGD", momentum=0.9)[0], 0.01, 0.1, scale_fn=Scale(0.9))
    other.load_state_dict(scheduler.state_dict())
    assert other._scale_fn_custom.factor == 0.5


def test_swalr_refuses_bad_arguments_naming_them():
    optimizer = _optimizers("SGD")[0]
    with pytest.raises(ValueError, match="SWALR: invalid anneal_strategy 'cosine'"):
        swa_utils.SWALR(optimizer, 0.1, anneal_strategy="cosine")
    with pytest.raises(ValueError, match="SWALR: invalid anneal_epochs -1"):
        swa_utils.SWALR(optimizer, 0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="expected 2 values for swa_lr"):
        swa_utils.SWALR(optimizer, [0.1, 0.2, 0.3])


# --- the averaging rules -----------------------------------------------------------------------------------------

RNG = np.random.default_rng(3)
SNAPSHOTS = [RNG.standard_normal((3, 2)) for _ in range(5)]


@pytest.mark.parametrize("name, args", [("get_swa_avg_fn", ()), ("get_ema_avg_fn", ()), ("get_ema_avg_fn", (0.7,))])
def test_single_tensor_averages_match_pytorch(name, args):
    ours_fn, theirs_fn = getattr(swa_utils, name)(*args), getattr(torch.optim.swa_utils, name)(*args)
    ours, theirs = minidl.tensor(SNAPSHOTS[0]), torch.tensor(SNAPSHOTS[0])
    for n, snapshot in enumerate(SNAPSHOTS[1:], start=1):
        ours = ours_fn(ours, minidl.tensor(snapshot), minidl.tensor(n))
        theirs = theirs_fn(theirs, torch.tensor(snapshot), torch.tensor(n))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, args", [("get_swa_multi_avg_fn", ()), ("get_ema_multi_avg_fn", (0.8,))])
def test_multi_tensor_averages_match_pytorch_in_place(name, args):
    ours_fn, theirs_fn = getattr(swa_utils, name)(*args), getattr(torch.optim.swa_utils, name)(*args)
    ours = [minidl.tensor(SNAPSHOTS[0]), minidl.tensor(SNAPSHOTS[0][0])]
    theirs = [torch.tensor(SNAPSHOTS[0]), torch.tensor(SNAPSHOTS[0][0])]
    for n, snapshot in enumerate(SNAPSHOTS[1:], start=1):
        ours_fn(ours, [minidl.tensor(snapshot), minidl.tensor(snapshot[0])], n)
        theirs_fn(theirs, [torch.tensor(snapshot), torch.tensor(snapshot[0])], n)  # a float32 weight for a tensor n
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12)


def test_the_ema_of_an_integer_tensor_truncates_as_pytorch():
    ours, theirs = [minidl.tensor([10, 3])], [torch.tensor([10, 3])]
    swa_utils.get_ema_multi_avg_fn(0.5)(ours, [minidl.tensor([1, 4])], 1)
    torch.optim.swa_utils.get_ema_multi_avg_fn(0.5)(theirs, [torch.tensor([1, 4])], 1)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())


@pytest.mark.parametrize("name", ["get_ema_avg_fn", "get_ema_multi_avg_fn"])
def test_an_ema_decay_outside_zero_to_one_is_refused(name):
    with pytest.raises(ValueError, match=f"{name}: invalid decay 1.5"):
        getattr(swa_utils, name)(1.5)
