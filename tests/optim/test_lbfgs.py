"""LBFGS follows PyTorch's trajectory (float64) with and without the strong-Wolfe line search, keeps
PyTorch's state layout, and refuses a missing closure and several parameter groups."""

import numpy as np
import pytest

import minidl
from minidl.nn import Parameter
from minidl.optim import LBFGS

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

RNG = np.random.default_rng(3)
X = RNG.standard_normal((12, 4))
LABELS = (RNG.random(12) > 0.5).astype(np.float64)
TARGETS = RNG.standard_normal(12)
W0 = RNG.standard_normal(4) * 0.3
B0 = np.array([0.1])
STATE_KEYS = {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
              "prev_loss", "al"}


def least_squares(lib, X, w, b, _labels, targets):
    return ((X @ w + b - targets) ** 2).mean()


def logistic(lib, X, w, b, labels, _targets):
    z = X @ w + b
    return (lib.log(1 + lib.exp(-z)) + (1 - labels) * z).mean() + 0.01 * (w * w).sum()


def run(framework, problem, steps, **kwargs):
    lib = torch if framework == "torch" else minidl
    make = (lambda a: torch.tensor(a.copy(), requires_grad=True)) if framework == "torch" else \
        (lambda a: Parameter(a.copy()))
    w, b = make(W0), make(B0)
    data = [lib.tensor(a) for a in (X, LABELS, TARGETS)]
    optimizer = (torch.optim.LBFGS if framework == "torch" else LBFGS)([w, b], **kwargs)

    def closure():
        optimizer.zero_grad()
        loss = problem(lib, data[0], w, b, data[1], data[2])
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = optimizer.step(closure)
        values = [p.detach().numpy().copy() if framework == "torch" else p.array.copy() for p in (w, b)]
        trajectory.append((float(loss.detach()), *values))
    return optimizer, trajectory


@pytest.mark.parametrize("problem", [least_squares, logistic])
@pytest.mark.parametrize("kwargs", [dict(), dict(line_search_fn="strong_wolfe"), dict(lr=0.5, max_iter=4),
                                    dict(history_size=2, max_iter=5, line_search_fn="strong_wolfe")])
def test_lbfgs_follows_torch(problem, kwargs):
    ours_optimizer, ours = run("minidl", problem, 4, **kwargs)
    theirs_optimizer, theirs = run("torch", problem, 4, **kwargs)
    for mine, reference in zip(ours, theirs):
        for a, b in zip(mine, reference):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    state, torch_state = ours_optimizer.state[0], next(iter(theirs_optimizer.state.values()))
    assert state["func_evals"] == torch_state["func_evals"]
    assert state["n_iter"] == torch_state["n_iter"]
    assert len(state["old_dirs"]) == len(torch_state["old_dirs"])


def test_lbfgs_state_dict_keys_and_resume():
    optimizer, _ = run("minidl", least_squares, 1, max_iter=3)
    saved = optimizer.state_dict()
    assert set(saved["state"][0]) == STATE_KEYS
    assert saved["param_groups"][0]["max_eval"] == 3 * 5 // 4
    assert saved["param_groups"][0]["params"] == [0, 1]
    _, torch_trajectory = run("torch", least_squares, 2, max_iter=3)
    w, b = Parameter(torch_trajectory[0][1].copy()), Parameter(torch_trajectory[0][2].copy())
    resumed = LBFGS([w, b], max_iter=3)
    resumed.load_state_dict(saved)

    def closure():
        resumed.zero_grad()
        loss = least_squares(minidl, minidl.tensor(X), w, b, None, minidl.tensor(TARGETS))
        loss.backward()
        return loss

    resumed.step(closure)
    np.testing.assert_allclose(w.array, torch_trajectory[1][1], rtol=1e-9, atol=1e-11)


def test_lbfgs_needs_a_closure():
    optimizer = LBFGS([Parameter(np.ones(3))])
    with pytest.raises(RuntimeError, match="closure"):
        optimizer.step()


def test_lbfgs_refuses_parameter_groups():
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [Parameter(np.ones(2))]}, {"params": [Parameter(np.ones(2))], "lr": 0.1}])
    optimizer = LBFGS([Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="parameter groups"):
        optimizer.add_param_group({"params": [Parameter(np.ones(2))]})


def test_lbfgs_refuses_unknown_line_search():
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([Parameter(np.ones(2))], line_search_fn="armijo")


def test_lbfgs_stops_at_once_when_the_gradient_is_zero():
    w = Parameter(np.zeros(3))
    optimizer = LBFGS([w])

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert float(optimizer.step(closure)) == 0.0
    assert optimizer.state[0] == {"func_evals": 1, "n_iter": 0}


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_runs_on_the_strict_device_as_on_the_cpu(line_search_fn):
    results = []
    for device in ("cpu", "strict"):
        w = Parameter(minidl.tensor(W0.copy()).to(device))
        data, targets = minidl.tensor(X).to(device), minidl.tensor(TARGETS).to(device)
        optimizer = LBFGS([w], max_iter=5, line_search_fn=line_search_fn)

        def closure():
            optimizer.zero_grad()
            loss = ((data @ w - targets) ** 2).mean()
            loss.backward()
            return loss

        for _ in range(2):
            optimizer.step(closure)
        assert w.device == device
        results.append(w.detach().to("cpu").numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)
