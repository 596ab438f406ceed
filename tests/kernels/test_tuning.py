"""Measured choices (minidl/kernels/tuning.py): the fastest candidate wins, is remembered per
machine, and every later call and run makes the same choice."""

import json
import time

import numpy as np
import pytest

import minidl
from minidl.kernels import plans, tuning
from minidl.kernels import threads as parallel


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An empty cache folder of the test's own, and no choice in memory."""
    monkeypatch.setenv("MINIDL_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MINIDL_TUNING", raising=False)
    monkeypatch.setattr(tuning, "_choices", None)
    return tmp_path


def test_a_choice_is_remembered_on_disk_and_read_by_a_new_process(fresh, monkeypatch):
    tuning.remember(("op", 1), "quick")
    assert json.loads(tuning.path().read_text()) == {json.dumps(["op", 1]): "quick"}
    assert tuning.path().parent == fresh and not list(fresh.glob(".tuning-*"))  # no temporary file left
    monkeypatch.setattr(tuning, "_choices", None)  # as a new process starts
    assert tuning.remembered(("op", 1)) == "quick" and tuning.remembered(("op", 2)) is None


def test_the_file_is_named_after_the_machine():
    description = tuning.machine()
    assert f"{minidl.core.machine.usable_cores()} cores" in description and "NumPy" in description
    assert tuning.path().name.startswith("tuning-") and tuning.path().suffix == ".json"


def test_a_corrupt_or_unwritable_file_costs_only_the_memory_of_choices(fresh, monkeypatch):
    tuning.path().parent.mkdir(parents=True, exist_ok=True)
    tuning.path().write_text("{not json")
    assert tuning.remembered(("op", 7)) is None
    tuning.remember(("op", 7), "quick")
    assert json.loads(tuning.path().read_text()) == {json.dumps(["op", 7]): "quick"}
    blocker = fresh / "a file"
    blocker.write_text("")
    monkeypatch.setenv("MINIDL_CACHE_DIR", str(blocker / "cache"))  # a folder that cannot be made
    monkeypatch.setattr(tuning, "_choices", None)
    tuning.remember(("op", 8), "quick")
    assert tuning.remembered(("op", 8)) == "quick"


def test_forget_measures_again(fresh):
    tuning.remember(("op", 9), "slow")
    tuning.forget()
    assert tuning.remembered(("op", 9)) is None and not tuning.path().exists()


def test_the_thresholds_are_measured_once_as_powers_of_two_and_remembered(fresh, monkeypatch):
    before = minidl.get_num_threads()
    monkeypatch.setattr(parallel, "_calibration", {})
    try:
        minidl.set_num_threads(2)
        found = parallel.calibrate()
        for value in found.values():
            assert value >= 2**16 and value & (value - 1) == 0
        assert tuning.remembered(["thresholds", 2]) == found
        assert parallel.split_bytes() == found["split_bytes"]
        monkeypatch.setattr(parallel, "MIN_BYTES", 123)
        assert parallel.split_bytes() == 123  # an explicit threshold wins
    finally:
        minidl.set_num_threads(before)


class _Steps:
    """A training loop's steps as plans.step_finished sees them: each plan's steps take their time."""

    def __init__(self, seconds):
        self.seconds, self.parameters = seconds, [np.zeros((3, 4), np.float32), np.zeros(4, np.float32)]

    def run(self, count):
        for _ in range(count):
            time.sleep(self.seconds[parallel.get_plan()])
            plans.step_finished(self.parameters)


@pytest.fixture
def two_threads(fresh, monkeypatch):
    monkeypatch.delenv("MINIDL_THREAD_PLAN", raising=False)
    monkeypatch.setattr(plans, "_trials", {})
    before = minidl.get_num_threads()
    minidl.set_num_threads(2)
    yield
    parallel.set_plan(None)
    minidl.set_num_threads(before)


def test_the_plan_whose_steps_are_fastest_is_chosen_and_remembered(two_threads):
    steps = _Steps({"minidl": 0.012, "blas": 0.007, "one thread": 0.02})
    steps.run(2 + len(parallel.PLANS) * plans.ROUNDS)
    assert parallel.get_plan() == "blas"
    remembered = [value for key, value in json.loads(tuning.path().read_text()).items() if '"plan"' in key]
    assert remembered == ["blas"]
    parallel._use_plan("minidl")  # a new run of the same model starts with the remembered plan
    steps.run(1)
    assert parallel.get_plan() == "blas"


def test_small_steps_keep_the_default_plan_without_trying_others(two_threads):
    tried = set()
    steps = _Steps({"minidl": 0.0, "blas": 0.0, "one thread": 0.0})
    for _ in range(10):
        steps.run(1)
        tried.add(parallel.get_plan())
    assert tried == {"minidl"}


@pytest.mark.parametrize("how", ["set_plan", "environment", "tuning off", "one thread"])
def test_a_fixed_plan_or_measuring_off_means_no_trial(two_threads, monkeypatch, how):
    if how == "set_plan":
        parallel.set_plan("minidl")
    elif how == "environment":
        monkeypatch.setenv("MINIDL_THREAD_PLAN", "minidl")
    elif how == "tuning off":
        monkeypatch.setenv("MINIDL_TUNING", "off")
    else:
        minidl.set_num_threads(1)
    steps = _Steps({"minidl": 0.006, "blas": 0.001, "one thread": 0.001})
    steps.run(2 + len(parallel.PLANS) * plans.ROUNDS)
    assert parallel.get_plan() == "minidl" and not tuning.path().exists()


def test_an_optimizer_step_reports_to_the_plan_trial(two_threads, monkeypatch):
    seen = []
    monkeypatch.setattr(plans, "step_finished", lambda parameters: seen.append([p.shape for p in parameters]))
    weight = minidl.nn.Parameter(minidl.zeros(3, 2))
    weight.grad = minidl.ones(3, 2)
    minidl.optim.SGD([weight], lr=0.1).step()
    assert seen == [[(3, 2)]]


def test_numpys_blas_is_the_one_shipped_in_numpys_install_else_every_one():
    import os
    own = os.path.join(os.path.dirname(np.__file__) + ".libs", "libopenblas.so")
    other = "/site-packages/scipy.libs/libscipy_openblas.so"
    assert minidl.core.machine.numpys([other, own], lambda path: path) == [own]
    assert minidl.core.machine.numpys([other], lambda path: path) == [other]  # a NumPy on the system's BLAS
