"""RMSprop, Adagrad and Adadelta follow PyTorch's parameter trajectories (float64, within 1e-10), keep
PyTorch's state and group layout, resume from state dicts (their own and PyTorch's); SGD, Adam and AdamW
accept PyTorch's implementation keywords; lazy parameters are refused until a dry run gave them shapes."""

import pickle

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.nn import Parameter
from conftest import assert_same_trajectory, optimizer_trajectory
from minidl.optim import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

STEPS = 25
RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 5))
W0 = RNG.standard_normal((5, 3)) * 0.5
B0 = RNG.standard_normal(3) * 0.5


def minidl_loss(W, b):
    return ((minidl.tensor(X) @ W + b).tanh() ** 2).sum()


def torch_loss(W, b):
    return ((torch.tensor(X) @ W + b).tanh() ** 2).sum()


def run(framework, cls, kwargs, steps=STEPS, groups=None, start=(W0, B0)):
    """(optimizer, [(W, b) after each step]) for minidl's ``cls`` or PyTorch's optimizer of the same name."""
    return optimizer_trajectory(torch, framework, cls, kwargs, X, start, steps, groups)


CASES = [
    (RMSprop, dict()),
    (RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-6)),
    (RMSprop, dict(lr=0.005, momentum=0.9)),
    (RMSprop, dict(lr=0.01, centered=True)),
    (RMSprop, dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    (Adagrad, dict()),
    (Adagrad, dict(lr=0.1, lr_decay=0.05)),
    (Adagrad, dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-3)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, maximize=True)),
    (Adadelta, dict()),
    (Adadelta, dict(lr=0.5, rho=0.5, eps=1e-3)),
    (Adadelta, dict(lr=2.0, weight_decay=0.2, maximize=True)),
    (SGD, dict(lr=0.1, momentum=0.9, foreach=True, fused=None)),
    (SGD, dict(lr=0.1, fused=True, maximize=True)),
    (Adam, dict(lr=0.05, amsgrad=True, foreach=False, fused=None)),
    (Adam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    (AdamW, dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True, fused=True)),
    (AdamW, dict(lr=0.05, foreach=True)),
]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=lambda v: v.__name__ if isinstance(v, type) else
                         ",".join(f"{k}={x}" for k, x in v.items()))
def test_trajectory_matches_pytorch(cls, kwargs, kernels):
    _, ours = run("minidl", cls, kwargs)
    _, theirs = run("torch", cls, kwargs)
    assert_same_trajectory(ours, theirs)
    assert not np.allclose(ours[-1][0], W0, atol=1e-3)  # the parameters really moved


@pytest.mark.parametrize("cls, kwargs, own", [
    (RMSprop, dict(lr=0.01, momentum=0.5), {"centered": True, "alpha": 0.8}),
    (Adagrad, dict(lr=0.1, initial_accumulator_value=0.5), {"lr_decay": 0.1, "initial_accumulator_value": 1.0}),
    (Adadelta, dict(lr=1.0), {"rho": 0.5, "weight_decay": 0.1}),
])
def test_param_groups_with_their_own_options_match_pytorch(cls, kwargs, own):
    groups = [([0], dict(lr=kwargs["lr"] / 2)), ([1], own)]
    _, ours = run("minidl", cls, kwargs, groups=groups)
    _, theirs = run("torch", cls, kwargs, groups=groups)
    assert_same_trajectory(ours, theirs)


LAYOUT_CASES = [
    (RMSprop, dict(momentum=0.9, centered=True)), (RMSprop, dict()), (Adagrad, dict(initial_accumulator_value=0.5)),
    (Adadelta, dict()), (SGD, dict(lr=0.1, momentum=0.5)), (Adam, dict(amsgrad=True)), (AdamW, dict()),
]


@pytest.mark.parametrize("cls, kwargs", LAYOUT_CASES, ids=lambda v: v.__name__ if isinstance(v, type) else
                         ",".join(f"{k}={x}" for k, x in v.items()))
def test_state_dict_layout_and_values_match_pytorch(cls, kwargs):
    ours, _ = run("minidl", cls, kwargs, steps=3)
    theirs, _ = run("torch", cls, kwargs, steps=3)
    mine, reference = ours.state_dict(), theirs.state_dict()
    for group, their_group in zip(mine["param_groups"], reference["param_groups"]):
        assert list(group) == list(their_group)  # the same option names, in PyTorch's order
        assert {k: v for k, v in group.items() if k != "params"} == \
            {k: v for k, v in their_group.items() if k != "params"}
    assert set(mine["state"]) == set(reference["state"]) == {0, 1}
    for index in (0, 1):
        assert set(mine["state"][index]) == set(reference["state"][index])
        for key, value in reference["state"][index].items():
            if key == "step":
                assert mine["state"][index][key] == value.item() == 3
            else:
                np.testing.assert_allclose(mine["state"][index][key], value.numpy(), rtol=1e-12, atol=1e-14,
                                           err_msg=key)


def test_adagrad_makes_its_state_when_built_as_pytorch():
    W = Parameter(W0.copy())
    ours = Adagrad([W], initial_accumulator_value=0.25).state_dict()["state"]
    theirs = torch.optim.Adagrad([torch.tensor(W0.copy(), requires_grad=True)],
                                 initial_accumulator_value=0.25).state_dict()["state"]
    assert set(ours) == set(theirs) == {0} and set(ours[0]) == set(theirs[0]) == {"step", "sum"}
    assert ours[0]["step"] == 0
    np.testing.assert_array_equal(ours[0]["sum"], np.full(W0.shape, 0.25))
    # a parameter added later gets its state at its first step
    optimizer = Adagrad([Parameter(W0.copy())], lr=0.1, initial_accumulator_value=0.25)
    later = Parameter(B0.copy())
    optimizer.add_param_group({"params": [later]})
    later.grad = minidl.ones(3, dtype=np.float64)
    optimizer.step()
    np.testing.assert_allclose(later.array, B0 - 0.1 / (np.sqrt(1.25) + 1e-10))


def _only_plain_values(value):
    if isinstance(value, dict):
        return all(_only_plain_values(k) and _only_plain_values(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_only_plain_values(item) for item in value)
    return isinstance(value, (np.ndarray, int, float, bool, str, type(None)))


@pytest.mark.parametrize("cls, kwargs", CASES[:12], ids=lambda v: v.__name__ if isinstance(v, type) else
                         ",".join(f"{k}={x}" for k, x in v.items()))
def test_state_dict_round_trip_continues_the_same_trajectory(cls, kwargs):
    _, full = run("minidl", cls, kwargs, steps=12)
    optimizer, first = run("minidl", cls, kwargs, steps=5)
    saved = pickle.loads(pickle.dumps(optimizer.state_dict()))
    assert _only_plain_values(saved)
    W, b = (Parameter(a.copy()) for a in first[-1])
    resumed = cls([W, b], **{**kwargs, "lr": 123.0})
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] != 123.0  # options come from the dict
    for step in range(5, 12):
        resumed.zero_grad()
        minidl_loss(W, b).backward()
        resumed.step()
        np.testing.assert_array_equal(W.array, full[step][0])
        np.testing.assert_array_equal(b.array, full[step][1])


@pytest.mark.parametrize("cls, kwargs", [(RMSprop, dict(momentum=0.9, centered=True)), (Adagrad, dict(lr=0.1)),
                                         (Adadelta, dict(weight_decay=0.1))], ids=lambda v: getattr(v, "__name__", ""))
def test_a_pytorch_state_dict_resumes_pytorch_s_trajectory(cls, kwargs):
    theirs, _ = run("torch", cls, kwargs, steps=5)
    saved = theirs.state_dict()
    as_numpy = {"state": {index: {key: (value.numpy() if hasattr(value, "numpy") else value)
                                  for key, value in entry.items()} for index, entry in saved["state"].items()},
                "param_groups": saved["param_groups"]}
    W, b = (Parameter(p.detach().numpy().copy()) for p in theirs.param_groups[0]["params"])
    ours = cls([W, b], **kwargs)
    ours.load_state_dict(as_numpy)
    _, reference = run("torch", cls, kwargs, steps=12)
    for step in range(5, 12):
        ours.zero_grad()
        minidl_loss(W, b).backward()
        ours.step()
        np.testing.assert_allclose(W.array, reference[step][0], rtol=0, atol=1e-10)


# --- PyTorch's implementation keywords ------------------------------------------------------------------------

@pytest.mark.parametrize("cls, keywords", [
    (SGD, dict(foreach=True)), (SGD, dict(fused=True)), (Adam, dict(fused=True, capturable=True)),
    (Adam, dict(foreach=True)), (AdamW, dict(fused=True)), (AdamW, dict(foreach=False, capturable=True)),
    (RMSprop, dict(foreach=True, capturable=True)), (Adagrad, dict(fused=True)), (Adadelta, dict(foreach=True)),
])
def test_implementation_keywords_are_accepted_and_change_nothing(cls, keywords):
    """(PyTorch itself refuses capturable=True for CPU tensors at the first step; minidl ignores it.)"""
    base = dict(lr=0.05, momentum=0.9) if cls is SGD else dict(lr=0.05)
    _, plain = run("minidl", cls, base, steps=6)
    optimizer, switched = run("minidl", cls, {**base, **keywords}, steps=6)
    assert_same_trajectory(switched, plain, tol=0)
    assert all(optimizer.param_groups[0][key] == value for key, value in keywords.items())


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta])
def test_differentiable_updates_are_refused(cls):
    with pytest.raises(NotImplementedError, match=f"{cls.__name__}: differentiable=True"):
        cls([Parameter(W0.copy())], lr=0.1, differentiable=True)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, Adagrad])
def test_fused_and_foreach_together_are_refused(cls):
    with pytest.raises(ValueError, match="fused=True and foreach=True"):
        cls([Parameter(W0.copy())], lr=0.1, fused=True, foreach=True)


def test_adam_with_decoupled_weight_decay_is_adamw_and_is_one_setting():
    _, adam = run("minidl", Adam, dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True), steps=8)
    _, adamw = run("minidl", AdamW, dict(lr=0.05, weight_decay=0.2), steps=8)
    assert_same_trajectory(adam, adamw, tol=0)
    assert AdamW([Parameter(W0.copy())]).param_groups[0]["decoupled_weight_decay"] is True
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        Adam([{"params": [Parameter(W0.copy())], "decoupled_weight_decay": True}])


@pytest.mark.parametrize("cls, option, value", [
    (RMSprop, "lr", -0.1), (RMSprop, "alpha", -0.5), (RMSprop, "momentum", -1.0), (RMSprop, "eps", -1e-8),
    (Adagrad, "lr_decay", -0.1), (Adagrad, "initial_accumulator_value", -1.0), (Adagrad, "weight_decay", -0.1),
    (Adadelta, "rho", 1.5), (Adadelta, "lr", -1.0), (Adadelta, "eps", -1e-6),
])
def test_invalid_options_name_the_optimizer_and_the_option(cls, option, value):
    with pytest.raises(ValueError, match=f"{cls.__name__}: invalid {option}"):
        cls([Parameter(W0.copy())], **{option: value})


def test_maximize_climbs_instead_of_descending():
    for cls in (RMSprop, Adagrad, Adadelta):
        _, down = run("minidl", cls, dict(lr=0.1), steps=3)
        _, up = run("minidl", cls, dict(lr=0.1, maximize=True), steps=3)
        assert minidl_loss(*(minidl.tensor(a) for a in up[-1])).item() > \
            minidl_loss(*(minidl.tensor(a) for a in down[-1])).item()


# --- lazy modules need a dry run before the optimizer --------------------------------------------------------------

@pytest.mark.parametrize("cls", [SGD, Adam, RMSprop, Adagrad])
def test_an_uninitialized_parameter_is_refused_naming_its_module(cls):
    model = nn.Sequential(nn.Linear(3, 4), nn.LazyLinear(2))
    with pytest.raises(ValueError, match=f"{cls.__name__}: parameter LazyLinear.weight is still uninitialized"):
        cls(model.parameters(), lr=0.1)
    model(minidl.randn(5, 3))  # the dry run
    optimizer = cls(model.parameters(), lr=0.1)
    model(minidl.randn(5, 3)).sum().backward()
    before = model[1].weight.array.copy()
    optimizer.step()
    assert model[1].weight.shape == (2, 4) and not np.allclose(model[1].weight.array, before)


@pytest.mark.parametrize("cls, kwargs", [(RMSprop, dict(momentum=0.9, centered=True, weight_decay=0.1)),
                                         (Adagrad, dict(lr_decay=0.1)), (Adadelta, dict(maximize=True))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_updates_run_on_the_strict_device_as_on_the_cpu(cls, kwargs):
    trajectories = []
    for device in ("cpu", "strict"):
        W = Parameter(minidl.tensor(W0.copy()).to(device))
        optimizer = cls([W], lr=0.1, **kwargs)
        for step in range(4):
            W.grad = minidl.tensor(np.cos(W0 * (step + 1))).to(device)
            optimizer.step()
        assert W.device == device and all(getattr(v, "shape", None) in (None, W.shape)
                                          for v in optimizer.state[0].values())
        trajectories.append(W.detach().to("cpu").numpy())
    np.testing.assert_array_equal(trajectories[1], trajectories[0])
