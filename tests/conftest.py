"""Fixtures and helpers shared by the whole test suite."""

import pytest

import minidl
from minidl.kernels import threads


@pytest.fixture(params=[True, False], ids=["kernels", "textbook"])
def kernels(request):
    """Run the test once with minidl's kernels and once on the textbook path."""
    with minidl.use_kernels(request.param):
        yield request.param


@pytest.fixture
def force_threads(monkeypatch):
    """Two minidl threads, and every size threshold at zero: each kernel takes its threaded path
    even on the tiny arrays of a test."""
    previous = threads.get_num_threads()
    monkeypatch.setattr(threads, "MIN_BYTES", 0)
    monkeypatch.setattr(threads, "MIN_MULTIPLY_ADDS", 0)
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(previous)


@pytest.fixture(params=["one-thread", "shared-out"])
def thread_modes(request, monkeypatch):
    """Run the test once on one thread and once with every pass shared out over two threads."""
    previous = threads.get_num_threads()
    if request.param == "shared-out":
        monkeypatch.setattr(threads, "MIN_BYTES", 0)
        monkeypatch.setattr(threads, "MIN_MULTIPLY_ADDS", 0)
        threads.set_num_threads(2)
    else:
        threads.set_num_threads(1)
    yield request.param
    threads.set_num_threads(previous)
