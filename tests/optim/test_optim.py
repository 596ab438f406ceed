"""Optimizers follow PyTorch's parameter trajectories; groups, state dicts, errors, in-place updates."""

import pickle

import numpy as np
import pytest

import minidl
from minidl.nn import Parameter
from minidl.optim import SGD, Adam, AdamW, Optimizer

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch, which is not installed")

STEPS = 20
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
W0 = RNG.standard_normal((5, 3)) * 0.5
B0 = RNG.standard_normal(3) * 0.5


def minidl_loss(W, b, x=None):
    x = minidl.tensor(X) if x is None else x
    return ((x @ W + b).tanh() ** 2).sum()


def torch_loss(W, b):
    return ((torch.tensor(X) @ W + b).tanh() ** 2).sum()


def groups_for(params, groups):
    """``None``: a plain parameter list; else a list of (indices, options) -> param-group dicts."""
    if groups is None:
        return params
    return [dict(options, params=[params[i] for i in indices]) for indices, options in groups]


def minidl_trajectory(cls, kwargs, steps=STEPS, groups=None):
    W, b = Parameter(W0.copy()), Parameter(B0.copy())
    optimizer = cls(groups_for([W, b], groups), **kwargs)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        minidl_loss(W, b).backward()
        optimizer.step()
        trajectory.append((W.array.copy(), b.array.copy()))
    return trajectory


def torch_trajectory(cls, kwargs, steps=STEPS, groups=None):
    W = torch.tensor(W0.copy(), requires_grad=True)
    b = torch.tensor(B0.copy(), requires_grad=True)
    optimizer = getattr(torch.optim, cls.__name__)(groups_for([W, b], groups), **kwargs)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        torch_loss(W, b).backward()
        optimizer.step()
        trajectory.append((W.detach().numpy().copy(), b.detach().numpy().copy()))
    return trajectory


def assert_same_trajectory(ours, theirs, tol=1e-10):  # float64 agrees to ~1e-15; the brief asks 1e-6
    assert len(ours) == len(theirs)
    for step, ((W, b), (tW, tb)) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(W, tW, rtol=0, atol=tol, err_msg=f"W after step {step + 1}")
        np.testing.assert_allclose(b, tb, rtol=0, atol=tol, err_msg=f"b after step {step + 1}")


CASES = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9)),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (SGD, dict(lr=0.1, weight_decay=0.1)),
    (SGD, dict(lr=0.1, momentum=0.8, weight_decay=0.1)),
    (SGD, dict(lr=0.05, maximize=True)),
    (SGD, dict(lr=0.05, momentum=0.5, weight_decay=0.2, nesterov=True, maximize=True)),
    (Adam, dict(lr=0.05)),
    (Adam, dict(lr=0.05, weight_decay=0.1)),
    (Adam, dict(lr=0.05, amsgrad=True)),
    (Adam, dict(lr=0.05, maximize=True)),
    (Adam, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1, amsgrad=True, maximize=True)),
    (AdamW, dict(lr=0.05)),
    (AdamW, dict(lr=0.05, weight_decay=0.3)),
    (AdamW, dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True)),
]


@needs_torch
@pytest.mark.parametrize("cls, kwargs", CASES, ids=lambda v: v.__name__ if isinstance(v, type) else
                         ",".join(f"{k}={x}" for k, x in v.items()))
def test_trajectory_matches_pytorch(cls, kwargs, kernels):
    ours = minidl_trajectory(cls, kwargs)
    assert_same_trajectory(ours, torch_trajectory(cls, kwargs))
    assert not np.allclose(ours[-1][0], W0)  # the parameters really moved


@needs_torch
@pytest.mark.parametrize("cls, kwargs", [(SGD, dict(lr=0.01, momentum=0.9)), (Adam, dict(lr=0.01)),
                                         (AdamW, dict(lr=0.01, weight_decay=0.5))])
def test_param_groups_with_their_own_options_match_pytorch(cls, kwargs, kernels):
    groups = [([0], dict(lr=0.1)), ([1], {"weight_decay": 0.2} if cls is not SGD else {"momentum": 0.5})]
    ours = minidl_trajectory(cls, kwargs, groups=groups)
    assert_same_trajectory(ours, torch_trajectory(cls, kwargs, groups=groups))


def test_param_groups_fill_in_defaults_and_add_param_group():
    a, b, c = (Parameter(np.zeros(2)) for _ in range(3))
    optimizer = SGD([{"params": [a], "lr": 0.5}, {"params": (b,)}], lr=0.1, momentum=0.9)
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.1]
    assert all(group["momentum"] == 0.9 for group in optimizer.param_groups)
    assert optimizer.param_groups[1]["params"] == [b]
    optimizer.add_param_group({"params": c, "momentum": 0.0})
    assert optimizer.param_groups[2]["params"] == [c] and optimizer.param_groups[2]["momentum"] == 0.0
    assert optimizer.param_groups[2]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [a]})


def test_module_parameters_generator_is_accepted():
    model = minidl.nn.Linear(3, 2)
    optimizer = Adam(model.parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 2
    model(minidl.randn(4, 3)).sum().backward()
    before = [p.array.copy() for p in model.parameters()]
    optimizer.step()
    assert all(not np.allclose(p.array, old) for p, old in zip(model.parameters(), before))


def test_zero_grad_sets_none_by_default_and_zeros_in_place_on_request():
    W, b = Parameter(W0.copy()), Parameter(B0.copy())
    optimizer = SGD([W, b], lr=0.1)
    minidl_loss(W, b).backward()
    grad_array = W.grad.array
    optimizer.zero_grad(set_to_none=False)
    assert W.grad.array is grad_array and not grad_array.any() and not b.grad.array.any()
    optimizer.zero_grad()
    assert W.grad is None and b.grad is None


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_parameters_without_grad_are_skipped(cls):
    W, b, unused = Parameter(W0.copy()), Parameter(B0.copy()), Parameter(np.ones(2))
    optimizer = cls([W, unused, b], lr=0.1, **({"momentum": 0.9} if cls is SGD else {}))
    minidl_loss(W, b).backward()
    version = unused._version[0]
    optimizer.step()
    np.testing.assert_array_equal(unused.array, np.ones(2))
    assert unused._version[0] == version
    assert set(optimizer.state) == {0, 2}  # state keyed by position: W is 0, unused 1, b 2
    # a parameter whose grad disappears later keeps its state and is not moved
    W.grad = None
    w_before = W.array.copy()
    optimizer.step()
    np.testing.assert_array_equal(W.array, w_before)


@needs_torch
def test_adam_state_matches_pytorch_layout_and_values(kernels):
    W, b = Parameter(W0.copy()), Parameter(B0.copy())
    optimizer = Adam([W, b], lr=0.05, amsgrad=True)
    tW, tb = torch.tensor(W0.copy(), requires_grad=True), torch.tensor(B0.copy(), requires_grad=True)
    torch_optimizer = torch.optim.Adam([tW, tb], lr=0.05, amsgrad=True)
    for _ in range(3):
        optimizer.zero_grad(), torch_optimizer.zero_grad()
        minidl_loss(W, b).backward(), torch_loss(tW, tb).backward()
        optimizer.step(), torch_optimizer.step()
    ours, theirs = optimizer.state_dict(), torch_optimizer.state_dict()
    assert set(ours["state"]) == set(theirs["state"]) == {0, 1}
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    for index in (0, 1):
        assert set(ours["state"][index]) == set(theirs["state"][index])
        assert ours["state"][index]["step"] == theirs["state"][index]["step"].item() == 3
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_allclose(ours["state"][index][key], theirs["state"][index][key].numpy(),
                                       rtol=1e-12, atol=1e-15)


def _only_plain_values(value):
    if isinstance(value, dict):
        return all(_only_plain_values(k) and _only_plain_values(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_only_plain_values(item) for item in value)
    return isinstance(value, (np.ndarray, int, float, bool, str, type(None)))


@pytest.mark.parametrize("cls, kwargs", [(SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         (SGD, dict(lr=0.1)),
                                         (Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
                                         (AdamW, dict(lr=0.05))])
def test_state_dict_round_trip_continues_the_same_trajectory(cls, kwargs, kernels):
    full = minidl_trajectory(cls, kwargs, steps=12)

    W, b = Parameter(W0.copy()), Parameter(B0.copy())
    optimizer = cls([{"params": [W]}, {"params": [b], "lr": kwargs["lr"]}], **kwargs)
    for _ in range(5):
        optimizer.zero_grad()
        minidl_loss(W, b).backward()
        optimizer.step()
    saved = pickle.loads(pickle.dumps(optimizer.state_dict()))
    assert _only_plain_values(saved)

    W2, b2 = Parameter(W.array.copy()), Parameter(b.array.copy())
    resumed = cls([{"params": [W2]}, {"params": [b2], "lr": 123.0}], **kwargs)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == kwargs["lr"]  # group options come from the state dict
    for step in range(5, 12):
        resumed.zero_grad()
        minidl_loss(W2, b2).backward()
        resumed.step()
        np.testing.assert_array_equal(W2.array, full[step][0])
        np.testing.assert_array_equal(b2.array, full[step][1])


def test_state_dict_is_a_snapshot_and_load_copies():
    W = Parameter(np.ones(3))
    optimizer = SGD([W], lr=0.1, momentum=0.9)
    W.grad = minidl.tensor(np.ones(3))
    optimizer.step()
    saved = optimizer.state_dict()
    buf = saved["state"][0]["momentum_buffer"]
    assert isinstance(buf, np.ndarray) and buf is not optimizer.state[0]["momentum_buffer"]
    optimizer.step()
    np.testing.assert_array_equal(buf, np.ones(3))  # unchanged by the later step
    other = SGD([Parameter(np.ones(3))], lr=0.1, momentum=0.9)
    other.load_state_dict(saved)
    other.state[0]["momentum_buffer"][...] = 7
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], np.ones(3))


def test_load_state_dict_casts_to_the_parameter_dtype():
    W = Parameter(np.ones(3))
    optimizer = Adam([W], lr=0.1)
    W.grad = minidl.tensor(np.ones(3))
    optimizer.step()
    W32 = Parameter(np.ones(3, dtype=np.float32))
    other = Adam([W32], lr=0.1)
    other.load_state_dict(optimizer.state_dict())
    assert other.state[0]["exp_avg"].dtype == np.float32 and other.state[0]["step"] == 1


def test_load_state_dict_validates_groups_and_shapes():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(3))
    source = SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = minidl.tensor(np.ones(2)), minidl.tensor(np.ones(3))
    source.step()
    saved = source.state_dict()
    with pytest.raises(ValueError, match="1 parameter groups.*2"):
        SGD([{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros(3))]}], lr=0.1
            ).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters.*1"):
        SGD([Parameter(np.zeros(2))], lr=0.1).load_state_dict(saved)
    swapped = SGD([Parameter(np.zeros(3)), Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        swapped.load_state_dict(saved)
    assert swapped.state == {}  # nothing was changed by the failed load


@pytest.mark.parametrize("cls, kwargs, name", [
    (SGD, dict(lr=-0.1), "lr"),
    (SGD, dict(momentum=-0.5), "momentum"),
    (SGD, dict(weight_decay=-1), "weight_decay"),
    (SGD, dict(nesterov=True), "nesterov"),
    (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening"),
    (Adam, dict(lr=-1e-3), "lr"),
    (Adam, dict(eps=-1.0), "eps"),
    (Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    (Adam, dict(betas=(0.9,)), "betas"),
    (Adam, dict(weight_decay=-0.1), "weight_decay"),
    (AdamW, dict(weight_decay=-0.1), "weight_decay"),
])
def test_bad_arguments_raise_value_errors_naming_them(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([Parameter(np.zeros(2))], **kwargs)


def test_a_grad_of_the_wrong_shape_or_device_is_a_clear_error():
    W = Parameter(np.zeros(3))
    optimizer = SGD([Parameter(np.zeros(2)), W], lr=0.1)
    W.grad = minidl.tensor(np.ones(4))
    with pytest.raises(minidl.ShapeError, match=r"parameter 1 has shape \(3,\) but its grad has shape \(4,\)"):
        optimizer.step()
    W.grad = minidl.tensor(np.ones(3), device="strict")
    with pytest.raises(minidl.DeviceError, match="parameter 1 lives on cpu but its grad on strict"):
        optimizer.step()


def test_bad_arguments_in_a_param_group_are_caught_too():
    with pytest.raises(ValueError, match="lr"):
        SGD([{"params": [Parameter(np.zeros(2))], "lr": -1.0}], lr=0.1)


def test_bad_params():
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam(iter([]))
    with pytest.raises(TypeError, match="iterable"):
        SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        SGD([p, np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        SGD([{"params": {p}}], lr=0.1)


@pytest.mark.parametrize("cls, kwargs", [(SGD, dict(lr=0.1)), (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         (SGD, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)),
                                         (Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
                                         (AdamW, dict(lr=0.1))])
def test_step_updates_arrays_in_place_and_leaves_grads_alone(cls, kwargs, kernels):
    W, b = Parameter(W0.copy()), Parameter(B0.copy())
    optimizer = cls([W, b], **kwargs)
    arrays = (W.array, b.array)
    versions = (W._version[0], b._version[0])
    for _ in range(3):
        optimizer.zero_grad()
        minidl_loss(W, b).backward()
        grads = (W.grad.array, W.grad.array.copy())
        optimizer.step()
        assert W.grad.array is grads[0]
        np.testing.assert_array_equal(W.grad.array, grads[1])  # weight decay / maximize never touch .grad
    assert W.array is arrays[0] and b.array is arrays[1]
    assert (W._version[0], b._version[0]) == (versions[0] + 3, versions[1] + 3)  # one bump per step


def test_float32_parameters_stay_float32(kernels):
    W, b = Parameter(W0.astype(np.float32)), Parameter(B0.astype(np.float32))
    for optimizer in (SGD([W, b], lr=0.1, momentum=0.9, weight_decay=0.1), AdamW([W, b], lr=0.1)):
        for _ in range(2):
            optimizer.zero_grad()
            minidl_loss(W, b, minidl.tensor(X.astype(np.float32))).backward()
            optimizer.step()
        assert W.array.dtype == np.float32 and b.array.dtype == np.float32
        assert all(value.dtype == np.float32 for entry in optimizer.state.values() for value in entry.values()
                   if isinstance(value, np.ndarray))


@pytest.mark.parametrize("cls, kwargs", [(SGD, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
                                         (Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
                                         (AdamW, dict(lr=0.05))])
def test_strict_device_gives_the_cpu_trajectory(cls, kwargs, kernels):
    """The strict device refuses NumPy mixing, as CuPy does: the updates use the parameter's array module."""
    cpu = minidl_trajectory(cls, kwargs, steps=4)
    W = Parameter(minidl.tensor(W0, device="strict"))
    b = Parameter(minidl.tensor(B0, device="strict"))
    x = minidl.tensor(X, device="strict")
    optimizer = cls([W, b], **kwargs)
    for step in range(4):
        optimizer.zero_grad()
        minidl_loss(W, b, x).backward()
        optimizer.step()
        np.testing.assert_allclose(W.array.get(), cpu[step][0], rtol=0, atol=1e-12)
    saved = optimizer.state_dict()
    assert _only_plain_values(saved)
    resumed = cls([Parameter(minidl.tensor(W0, device="strict")), Parameter(minidl.tensor(B0, device="strict"))],
                  **kwargs)
    resumed.load_state_dict(saved)
    assert all(type(value) is type(W.array) for entry in resumed.state.values() for value in entry.values()
               if not isinstance(value, (int, float)))


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    W, b = Parameter(W0.copy()), Parameter(B0.copy())
    optimizer = SGD([W, b], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = minidl_loss(W, b)
        loss.backward()
        return loss

    with minidl.no_grad():
        loss = optimizer.step(closure)
    assert float(loss) == pytest.approx(float(((np.tanh(X @ W0 + B0)) ** 2).sum()))


def test_custom_optimizer_subclass():
    class SignSGD(Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def _update(self, param, grad, state, group):
            param -= group["lr"] * np.sign(grad)

    W = Parameter(np.zeros(3))
    optimizer = SignSGD([W])
    W.grad = minidl.tensor(np.array([2.0, -3.0, 0.0]))
    optimizer.step()
    np.testing.assert_array_equal(W.array, [-0.1, 0.1, 0.0])
    assert "SignSGD" in repr(optimizer) and "lr: 0.1" in repr(optimizer)
