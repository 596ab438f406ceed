"""minidl.profiler: per-op times of forward and backward, grouped and printed as torch.profiler does."""

import time

import numpy as np
import pytest

import minidl
from minidl.core import Function
from minidl.profiler import profile


class SlowSquare(Function):
    """y = x² with a forward that takes 20 ms and a backward that takes 10 ms."""

    def forward(self, x):
        time.sleep(0.02)
        self.save(x)
        return x * x

    def backward(self, g):
        time.sleep(0.01)
        (x,) = self.saved
        return 2 * x * g


def step(x):
    SlowSquare.apply(minidl.relu(x)).sum().backward()


def test_every_op_forward_and_backward_is_counted_with_its_time():
    x = minidl.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    with profile() as prof:
        for _ in range(3):
            step(x)
    ops = {event.key: event for event in prof.key_averages()}
    assert {"relu", "relu_backward", "slow_square", "slow_square_backward", "sum", "sum_backward"} <= set(ops)
    assert all(event.count == 3 for event in ops.values())
    assert ops["slow_square"].seconds >= 3 * 0.02 and ops["slow_square"].cpu_time >= 0.02 * 1e6
    assert 3 * 0.01 <= ops["slow_square_backward"].seconds < ops["slow_square"].seconds
    assert prof.total_seconds() == pytest.approx(sum(event.seconds for event in ops.values()))


def test_nothing_is_recorded_outside_the_profile_and_the_inner_profile_records():
    x = minidl.tensor(np.ones(3), requires_grad=True)
    with profile() as outer:
        step(x)
        with profile() as inner:
            minidl.relu(x)
        assert minidl.profiler.active() is outer
    assert minidl.profiler.active() is None
    step(x)
    assert {event.key for event in inner.key_averages()} == {"relu"}
    assert next(e for e in outer.key_averages() if e.key == "relu").count == 1


def test_group_by_input_shape_splits_one_op_by_its_input_shapes():
    with profile() as prof:
        for shape in ((2, 3), (2, 3), (4,)):
            minidl.relu(minidl.ones(*shape))
    (merged,) = prof.key_averages()
    assert (merged.key, merged.count, merged.input_shapes) == ("relu", 3, ())
    by_shape = {event.input_shapes: event.count for event in prof.key_averages(group_by_input_shape=True)}
    assert by_shape == {((2, 3),): 2, ((4,),): 1}


def test_profile_works_as_a_decorator():
    prof = profile()

    @prof
    def run():
        minidl.relu(minidl.ones(2))
    run()
    run()
    assert [(e.key, e.count) for e in prof.key_averages()] == [("relu", 2)]


def test_table_lists_ops_slowest_first_with_calls_share_and_shapes():
    x = minidl.tensor(np.ones(4), requires_grad=True)
    with profile() as prof:
        step(x)
    lines = prof.key_averages().table().splitlines()
    assert lines[0].split() == ["op", "calls", "total", "ms", "ms/call", "share"]
    assert lines[2].split()[0] == "slow_square" and lines[3].split()[0] == "slow_square_backward"
    assert lines[-1].startswith("total: ") and lines[-1].endswith("in 6 calls")
    assert len(prof.key_averages().table(row_limit=2).splitlines()) == 2 + 2 + 1
    by_count = prof.key_averages().table(sort_by="count")
    assert "slow_square" in by_count
    shaped = prof.key_averages(group_by_input_shape=True).table()
    assert "input shapes" in shaped.splitlines()[0] and "  4" in shaped


def test_table_rejects_an_unknown_sort_key():
    with pytest.raises(ValueError, match="sort_by must be one of .*'count'.*got 'time'"):
        profile().key_averages().table(sort_by="time")


def test_on_a_gpu_each_op_waits_for_queued_work_before_and_its_own_after(monkeypatch):
    """CuPy runs kernels asynchronously: the profiler synchronises the stream when an op starts
    and when it stops, so that each op is charged with its own work. Checked with a stand-in
    for cupy that counts the synchronisations."""
    import sys
    import types

    from minidl import profiler as profiler_module
    calls = []
    stream = types.SimpleNamespace(synchronize=lambda: calls.append("sync"))
    fake_cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(get_current_stream=lambda: stream))
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    DeviceArray = type("ndarray", (), {"__module__": "cupy._core.core"})
    prof = profile()
    started = prof.start((DeviceArray(),))
    prof.stop(started, "op", ((2,),), DeviceArray())
    prof.stop(prof.start([np.ones(2)]), "host_op", ((2,),), (np.ones(2), None))
    assert calls == ["sync", "sync"]
    assert {e.key for e in prof.key_averages()} == {"op", "host_op"}
    assert profiler_module.active() is None
