"""A failure leaves the model, the optimizer and the files as they were."""

import os
import time

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.data import DataLoader, TensorDataset
from minidl.training import fit


def values(module):
    return {key: np.array(value.tolist()) for key, value in module.state_dict().items()}


def assert_unchanged(before, module):
    after = values(module)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


BAD_STATES = {
    "a string array in a later key": lambda state: {**state, "2.bias": np.array(["a", "b"])},
    "an object array": lambda state: {**state, "2.bias": np.array([None, None])},
    "a list value": lambda state: {**state, "2.bias": [1.0, 2.0]},
    "a wrong shape in a later key": lambda state: {**state, "2.weight": np.zeros((2, 5))},
    "a missing key": lambda state: {key: value for key, value in state.items() if key != "2.bias"},
    "an unexpected key": lambda state: {**state, "extra": np.zeros(1)},
}


@pytest.mark.parametrize("corrupt", BAD_STATES.values(), ids=list(BAD_STATES))
def test_a_failed_model_load_changes_nothing_and_names_the_key(corrupt):
    source, target = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), \
        nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    good = {key: value.detach().numpy() + 1.0 for key, value in source.state_dict().items()}
    before = values(target)
    with pytest.raises(RuntimeError) as info:
        target.load_state_dict(corrupt(good))
    assert_unchanged(before, target)
    assert any(key in str(info.value) for key in ("2.bias", "2.weight", "extra"))


def test_a_failed_optimizer_load_changes_nothing():
    model = nn.Linear(2, 2)
    optimizer = minidl.optim.Adam(model.parameters(), lr=0.01)
    model(minidl.ones(1, 2)).sum().backward()
    optimizer.step()
    state = optimizer.state_dict()
    state["param_groups"][0]["lr"] = "fast"
    before_state, before_lr = optimizer.state_dict(), optimizer.param_groups[0]["lr"]
    with pytest.raises(TypeError, match=r"Adam: lr must be a number, got 'fast'"):
        optimizer.load_state_dict(state)
    assert optimizer.param_groups[0]["lr"] == before_lr
    np.testing.assert_array_equal(optimizer.state_dict()["state"][0]["exp_avg"], before_state["state"][0]["exp_avg"])


def _training(seed=0):
    minidl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = TensorDataset(minidl.randn(8, 3), minidl.randint(0, 2, (8,)))
    return model, optimizer, DataLoader(data, batch_size=4)


def test_resume_checks_model_and_optimizer_before_touching_either(tmp_path):
    checkpoint = tmp_path / "run.npz"
    model, optimizer, loader = _training()
    fit(model, loader, optimizer, epochs=1, checkpoint=checkpoint, progress=False)
    other_model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other_optimizer = minidl.optim.Adam(other_model.parameters())  # Adam cannot take SGD's state
    other_optimizer.param_groups[0]["params"].pop()                 # nor a different parameter count
    before = values(other_model)
    with pytest.raises(RuntimeError, match=r"fit: cannot resume from .*run\.npz; nothing was changed"):
        fit(other_model, loader, other_optimizer, epochs=2, checkpoint=checkpoint, resume=True, progress=False)
    assert_unchanged(before, other_model)
    assert other_optimizer.state == {}


def test_save_leaves_no_temporary_file_and_names_the_users_path_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    minidl.save({"a": minidl.ones(2)}, path)

    def disk_full(*args, **kwargs):
        raise OSError(27, "File too large")
    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match=r"save: cannot write .*model\.npz: File too large \(the disk"):
        minidl.save({"a": minidl.zeros(2)}, path)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert minidl.load(path)["a"].tolist() == [1.0, 1.0]  # the previous checkpoint is intact


def test_save_removes_stale_temporary_files_of_its_own(tmp_path):
    path = tmp_path / "model.npz"
    stale, fresh, foreign = (tmp_path / ".model.npz.0123abcd.tmp", tmp_path / ".model.npz.89abcdef.tmp",
                             tmp_path / ".other.npz.0123abcd.tmp")
    for leftover in (stale, fresh, foreign):
        leftover.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    minidl.save({"a": minidl.ones(1)}, path)
    assert not stale.exists()                  # left by a save that crashed an hour ago
    assert fresh.exists() and foreign.exists()  # maybe a save in progress; another file's


def test_loading_a_corrupt_file_closes_it(tmp_path):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(5):
        with pytest.raises(ValueError, match=r"load: .*corrupt\.npz"):
            minidl.load(path)
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
