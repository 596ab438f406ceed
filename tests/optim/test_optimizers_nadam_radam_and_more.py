"""NAdam, RAdam, Adamax, ASGD and Rprop follow PyTorch's parameter trajectories step by step (float64,
within 1e-10), keep PyTorch's option and state layout, resume from their state dicts, and refuse bad
hyper-parameters naming them."""

import contextlib
import pickle

import numpy as np
import pytest

import minidl
from minidl.nn import Parameter
from conftest import assert_same_trajectory, optimizer_trajectory
from minidl.optim import ASGD, Adamax, NAdam, RAdam, Rprop

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

STEPS = 30
RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 5))
W0 = RNG.standard_normal((5, 3)) * 0.5
B0 = RNG.standard_normal(3) * 0.5


def minidl_loss(W, b):
    return ((minidl.tensor(X) @ W + b).tanh() ** 2).sum()


def torch_loss(W, b):
    return ((torch.tensor(X) @ W + b).tanh() ** 2).sum()


@contextlib.contextmanager
def torch_float64_scalars():
    """PyTorch keeps NAdam's mu_product and ASGD's eta and mu in tensors of the default dtype; minidl keeps
    them as Python floats, so the comparison runs PyTorch with float64 as its default."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def run(framework, cls, kwargs, steps=STEPS, groups=None):
    """(optimizer, [(W, b) after each step]) for minidl's ``cls`` or PyTorch's optimizer of the same name."""
    with torch_float64_scalars():
        return optimizer_trajectory(torch, framework, cls, kwargs, X, (W0, B0), steps, groups)


def _flat(optimizer):
    return [p for group in optimizer.param_groups for p in group["params"]]


def _id(value):
    return value.__name__ if isinstance(value, type) else ",".join(f"{k}={x}" for k, x in value.items())


CASES = [
    (NAdam, dict()),
    (NAdam, dict(lr=0.05, betas=(0.8, 0.99), momentum_decay=0.01, eps=1e-4)),
    (NAdam, dict(lr=0.05, weight_decay=0.1, maximize=True)),
    (NAdam, dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True, foreach=True)),
    (RAdam, dict()),
    (RAdam, dict(lr=0.05, betas=(0.5, 0.9))),  # ρ_t > 5 from step 6 on: both branches
    (RAdam, dict(lr=0.05, weight_decay=0.1, maximize=True, foreach=False)),
    (RAdam, dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.3, decoupled_weight_decay=True)),
    (Adamax, dict()),
    (Adamax, dict(lr=0.05, betas=(0.7, 0.9), eps=1e-3)),
    (Adamax, dict(lr=0.05, weight_decay=0.1, maximize=True)),
    (ASGD, dict()),
    (ASGD, dict(lr=0.05, lambd=0.01, alpha=0.5, t0=10)),  # averaging starts at step 11
    (ASGD, dict(lr=0.05, t0=3, weight_decay=0.1, maximize=True)),
    (Rprop, dict()),
    (Rprop, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    (Rprop, dict(lr=0.01, maximize=True, foreach=True)),
]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=_id)
def test_trajectory_matches_pytorch(cls, kwargs, kernels):
    _, ours = run("minidl", cls, kwargs)
    _, theirs = run("torch", cls, kwargs)
    assert_same_trajectory(ours, theirs)
    assert not np.allclose(ours[-1][0], W0, atol=1e-3)  # the parameters really moved


@pytest.mark.parametrize("cls, kwargs, own", [
    (NAdam, dict(lr=0.05), {"betas": (0.5, 0.9), "decoupled_weight_decay": True, "weight_decay": 0.1}),
    (RAdam, dict(lr=0.05), {"betas": (0.6, 0.95), "weight_decay": 0.1}),
    (Adamax, dict(lr=0.05), {"eps": 1e-2}),
    (ASGD, dict(lr=0.05, t0=5), {"lambd": 0.1, "t0": 2}),
    (Rprop, dict(lr=0.02), {"etas": (0.2, 2.0)}),
], ids=_id)
def test_param_groups_with_their_own_options_match_pytorch(cls, kwargs, own):
    groups = [([0], dict(lr=kwargs["lr"] / 2)), ([1], own)]
    _, ours = run("minidl", cls, kwargs, groups=groups)
    _, theirs = run("torch", cls, kwargs, groups=groups)
    assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize("cls, kwargs", [(NAdam, dict()), (RAdam, dict()), (Adamax, dict()),
                                         (ASGD, dict(t0=1)), (Rprop, dict())], ids=_id)
def test_state_dict_layout_and_values_match_pytorch(cls, kwargs):
    ours, _ = run("minidl", cls, kwargs, steps=3)
    theirs, _ = run("torch", cls, kwargs, steps=3)
    mine, reference = ours.state_dict(), theirs.state_dict()
    for group, their_group in zip(mine["param_groups"], reference["param_groups"]):
        assert list(group) == list(their_group)  # the same option names, in PyTorch's order
        assert {k: v for k, v in group.items() if k != "params"} == \
            {k: v for k, v in their_group.items() if k != "params"}
    for index in (0, 1):
        assert list(mine["state"][index]) == list(reference["state"][index])
        for key, value in reference["state"][index].items():
            np.testing.assert_allclose(mine["state"][index][key], value.numpy(), rtol=1e-12, atol=1e-14,
                                       err_msg=key)
        assert mine["state"][index]["step"] == 3


@pytest.mark.parametrize("cls, kwargs", CASES, ids=_id)
def test_state_dict_round_trip_continues_the_same_trajectory(cls, kwargs):
    _, full = run("minidl", cls, kwargs, steps=14)
    optimizer, first = run("minidl", cls, kwargs, steps=6)
    saved = pickle.loads(pickle.dumps(optimizer.state_dict()))
    W, b = (Parameter(a.copy()) for a in first[-1])
    resumed = cls([W, b], **{**kwargs, "lr": 123.0})
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    for step in range(6, 14):
        resumed.zero_grad()
        minidl_loss(W, b).backward()
        resumed.step()
        np.testing.assert_array_equal(W.array, full[step][0])
        np.testing.assert_array_equal(b.array, full[step][1])


@pytest.mark.parametrize("cls", [NAdam, RAdam, ASGD])
def test_a_pytorch_state_dict_resumes_pytorch_s_trajectory(cls):
    kwargs = dict(lr=0.05, t0=2) if cls is ASGD else dict(lr=0.05)
    theirs, _ = run("torch", cls, kwargs, steps=5)
    saved = theirs.state_dict()
    as_numpy = {"state": {index: {key: value.numpy() for key, value in entry.items()}
                          for index, entry in saved["state"].items()}, "param_groups": saved["param_groups"]}
    W, b = (Parameter(p.detach().numpy().copy()) for p in _flat(theirs))
    ours = cls([W, b], **kwargs)
    ours.load_state_dict(as_numpy)
    _, reference = run("torch", cls, kwargs, steps=12)
    for step in range(5, 12):
        ours.zero_grad()
        minidl_loss(W, b).backward()
        ours.step()
        np.testing.assert_allclose(W.array, reference[step][0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("cls, option, value", [
    (NAdam, "lr", -0.1), (NAdam, "eps", -1e-8), (NAdam, "weight_decay", -0.1), (NAdam, "momentum_decay", -1.0),
    (NAdam, "betas", (1.0, 0.9)), (RAdam, "betas", (0.9, -0.1)), (RAdam, "lr", -1.0), (Adamax, "eps", -1.0),
    (Adamax, "betas", (0.9, 1.0)), (ASGD, "lr", -0.1), (ASGD, "weight_decay", -1.0), (Rprop, "lr", -0.1),
    (Rprop, "etas", (1.5, 2.0)), (Rprop, "etas", (0.5, 0.9)), (Rprop, "step_sizes", (1e-6, 1.0, 2.0)),
])
def test_invalid_options_name_the_optimizer_and_the_option(cls, option, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid {option}"):
        cls([Parameter(W0.copy())], **{option: value})
    if option != "step_sizes":  # PyTorch refuses the same values
        with pytest.raises(ValueError):
            getattr(torch.optim, cls.__name__)([torch.zeros(2, requires_grad=True)], **{option: value})


@pytest.mark.parametrize("cls", [NAdam, RAdam, Adamax, ASGD, Rprop])
def test_implementation_keywords_are_accepted_and_differentiable_is_refused(cls):
    _, plain = run("minidl", cls, dict(lr=0.05), steps=4)
    _, switched = run("minidl", cls, dict(lr=0.05, foreach=True, capturable=True), steps=4)
    assert_same_trajectory(switched, plain, tol=0)
    with pytest.raises(NotImplementedError, match=f"{cls.__name__}: differentiable=True"):
        cls([Parameter(W0.copy())], differentiable=True)


@pytest.mark.parametrize("cls", [NAdam, RAdam, Adamax, ASGD, Rprop])
def test_maximize_climbs_instead_of_descending(cls):
    _, down = run("minidl", cls, dict(lr=0.05), steps=5)
    _, up = run("minidl", cls, dict(lr=0.05, maximize=True), steps=5)
    assert minidl_loss(*(minidl.tensor(a) for a in up[-1])).item() > \
        minidl_loss(*(minidl.tensor(a) for a in down[-1])).item()


@pytest.mark.parametrize("cls, kwargs", [(NAdam, dict(weight_decay=0.1, decoupled_weight_decay=True)),
                                         (RAdam, dict(betas=(0.5, 0.9))), (Adamax, dict(maximize=True)),
                                         (ASGD, dict(t0=1)), (Rprop, dict())], ids=_id)
def test_updates_run_on_the_strict_device_as_on_the_cpu(cls, kwargs):
    trajectories = []
    for device in ("cpu", "strict"):
        W = Parameter(minidl.tensor(W0.copy()).to(device))
        optimizer = cls([W], lr=0.1, **kwargs)
        for step in range(8):
            W.grad = minidl.tensor(np.cos(W0 * (step + 1))).to(device)
            optimizer.step()
        assert W.device == device
        trajectories.append(W.detach().to("cpu").numpy())
    np.testing.assert_array_equal(trajectories[1], trajectories[0])


def test_float32_parameters_keep_their_dtype():
    for cls in (NAdam, RAdam, Adamax, ASGD, Rprop):
        W = Parameter(W0.astype(np.float32))
        optimizer = cls([W], lr=0.1)
        for _ in range(3):
            W.grad = minidl.tensor(np.sin(W0).astype(np.float32))
            optimizer.step()
        assert W.array.dtype == np.float32, cls.__name__
        assert all(getattr(v, "dtype", np.float32) == np.float32 for v in optimizer.state[0].values()), cls.__name__
