"""The fused optimizer updates (minidl/kernels/optim.py) equal the textbook updates of minidl.optim,
step after step, for every option, and the two paths share one state layout."""

import numpy as np
import pytest

import minidl
from minidl.core import dispatch
from minidl.kernels import optim as fused
from minidl.optim import SGD, Adam, AdamW

OPTIONS = [
    (SGD, dict(lr=0.05)),
    (SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    (Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (Adam, dict(lr=0.01, betas=(0.8, 0.9), maximize=True)),
    (AdamW, dict(lr=0.01, weight_decay=0.1)),
    (AdamW, dict(lr=0.01, amsgrad=True, maximize=True)),
]
SHAPES = [(3, 4), (), (1,), (2, 1, 3)]
STEPS = 60
#: per dtype: the fused update adds the same terms in another order (m + (1-β1)(g - m) for β1·m + (1-β1)·g)
TOLERANCES = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=2e-5, atol=1e-7)}


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [minidl.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True) for shape in SHAPES]


def _gradients(dtype, step):
    """The same gradients for both runs; the first one a non-contiguous view."""
    rng = np.random.default_rng(1000 + step)
    grads = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    wide = np.zeros((3, 8), dtype=dtype)
    wide[:, ::2] = grads[0]
    grads[0] = wide[:, ::2]
    return grads


def _step(optimizer, params, grads, kernels):
    for param, grad in zip(params, grads):
        param.grad = minidl.Tensor(grad)
    with minidl.use_kernels(kernels):
        optimizer.step()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cls, options", OPTIONS, ids=lambda v: v.__name__ if isinstance(v, type) else str(v))
def test_fused_update_equals_the_textbook_update_step_by_step(cls, options, dtype):
    textbook_params, fused_params = _params(dtype), _params(dtype)
    textbook, fast = cls(textbook_params, **options), cls(fused_params, **options)
    for step in range(STEPS):
        grads = _gradients(dtype, step)
        _step(textbook, textbook_params, grads, kernels=False)
        _step(fast, fused_params, grads, kernels=True)
        for index, (mine, theirs) in enumerate(zip(fused_params, textbook_params)):
            assert mine.dtype == theirs.dtype == dtype
            np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), **TOLERANCES[dtype],
                                       err_msg=f"{cls.__name__} {options}: parameter {index} at step {step}")
            state_mine, state_theirs = fast.state[index], textbook.state[index]
            assert state_mine.keys() == state_theirs.keys()
            for key in state_theirs:
                np.testing.assert_allclose(state_mine[key], state_theirs[key], **TOLERANCES[dtype],
                                           err_msg=f"{cls.__name__}: state {key!r} of parameter {index}")


@pytest.mark.parametrize("cls, options", [OPTIONS[2], OPTIONS[5], OPTIONS[7]], ids=["SGD", "Adam", "AdamW"])
def test_a_state_dict_moves_between_the_two_paths(cls, options):
    first_params, second_params = _params(np.float64), _params(np.float64)
    first = cls(first_params, **options)
    for step in range(5):
        _step(first, first_params, _gradients(np.float64, step), kernels=True)
    second = cls(second_params, **options)
    for mine, theirs in zip(second_params, first_params):
        mine.array[...] = theirs.array
    second.load_state_dict(first.state_dict())
    for step in range(5, 15):  # the fused run goes on; the textbook one takes over from its state
        _step(first, first_params, _gradients(np.float64, step), kernels=True)
        _step(second, second_params, _gradients(np.float64, step), kernels=False)
    for mine, theirs in zip(second_params, first_params):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, kernel", [(SGD, fused.sgd_update), (Adam, fused.adam_update), (AdamW, fused.adam_update)])
def test_each_path_runs_its_own_update(cls, kernel, monkeypatch):
    assert dispatch.choose(cls._update) is kernel
    calls = []
    monkeypatch.setitem(dispatch._kernels, cls._update, lambda *args: calls.append("fused") or kernel(*args))
    params = _params(np.float64)
    optimizer = cls(params, lr=0.01)
    _step(optimizer, params, _gradients(np.float64, 0), kernels=True)
    assert calls == ["fused"] * len(params)
    _step(optimizer, params, _gradients(np.float64, 1), kernels=False)
    assert calls == ["fused"] * len(params)  # the textbook update ran


def test_a_subclass_with_its_own_update_is_not_replaced():
    class Halving(SGD):
        def _update(self, param, grad, state, group):
            param *= 0.5
    assert dispatch.choose(Halving._update) is Halving._update
    params = _params(np.float64)
    before = params[0].detach().numpy().copy()
    _step(Halving(params, lr=0.1), params, _gradients(np.float64, 0), kernels=True)
    np.testing.assert_array_equal(params[0].detach().numpy(), before * 0.5)


@pytest.mark.parametrize("cls, options", [OPTIONS[1], OPTIONS[5]], ids=["SGD", "Adam"])
def test_a_0d_parameter_keeps_array_state_through_both_paths_and_a_state_dict(cls, options):
    """Arithmetic on 0-d arrays gives NumPy scalars: the state must stay arrays the fused update can write into."""
    param = minidl.tensor(np.array(0.5), requires_grad=True)
    optimizer = cls([param], **options)
    for step, kernels in enumerate([False, True, False]):
        _step(optimizer, [param], [np.array(0.1 * (step + 1))], kernels)
        assert all(isinstance(value, np.ndarray) for key, value in optimizer.state[0].items() if key != "step")
    again = cls([param], **options)
    again.load_state_dict(optimizer.state_dict())
    _step(again, [param], [np.array(0.3)], kernels=True)  # a fused step on the loaded state
    assert all(isinstance(value, np.ndarray) for key, value in again.state[0].items() if key != "step")
