"""Fixtures and helpers shared by the whole test suite (test modules import the helpers:
``from conftest import leaf, as_numpy``)."""

import os
import tempfile

import numpy as np
import pytest

# the kernels' measured choices go to a folder of this run, not the user's ~/.cache/minidl
os.environ["MINIDL_CACHE_DIR"] = tempfile.mkdtemp(prefix="minidl-tests-")

import minidl  # noqa: E402
from minidl.core.backend import to_numpy  # noqa: E402
from minidl.kernels import compiled, threads  # noqa: E402


# --- helpers -------------------------------------------------------------------------------------

def leaf(values, dtype=None):
    """A leaf tensor that requires grad: of ``dtype``, else of the values' own dtype (arrays) or
    minidl's default (lists)."""
    return minidl.tensor(values, dtype=dtype, requires_grad=True)


def as_numpy(tensor):
    """A tensor's values (minidl's on any device, or PyTorch's) as a NumPy array, detached and on the host."""
    detached = tensor.detach()
    return to_numpy(detached.array) if isinstance(detached, minidl.Tensor) else detached.numpy()


def strided(array):
    """The same values in an array whose last axis has stride 2 (not contiguous); a 0-d array as it is."""
    if not array.ndim:
        return array
    wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
    wide[..., ::2] = array
    return wide[..., ::2]


def copy_weights(theirs, ours):
    """Load PyTorch module ``theirs``'s state dict (parameters and buffers) into minidl module ``ours``;
    the keys must match one to one, in order. Returns ours."""
    state = {key: value.detach().numpy() for key, value in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict(state)
    return ours


def with_params(module, names):
    """fn(call, *tensors): runs call() with the named parameters of module (dotted names reach into
    submodules) replaced by tensors, for gradcheck."""
    slots = []
    for name in names:
        *path, attr = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        slots.append((owner, attr))

    def run(call, *tensors):
        saved = [owner._parameters[attr] for owner, attr in slots]
        for (owner, attr), tensor in zip(slots, tensors):
            owner._parameters[attr] = tensor
        try:
            return call()
        finally:
            for (owner, attr), param in zip(slots, saved):
                owner._parameters[attr] = param
    return run


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["kernels", "textbook"])
def kernels(request):
    """Run the test once with minidl's kernels and once on the textbook path."""
    with minidl.use_kernels(request.param):
        yield request.param


@pytest.fixture
def force_threads(monkeypatch):
    """Two minidl threads under the "minidl" plan, every size threshold at zero: each kernel
    takes its threaded path even on the tiny arrays of a test."""
    previous = threads.get_num_threads()
    monkeypatch.setattr(threads, "MIN_BYTES", 0)
    monkeypatch.setattr(threads, "MIN_MULTIPLY_ADDS", 0)
    threads.set_num_threads(2)
    threads.set_plan("minidl")
    yield
    threads.set_plan(None)
    threads.set_num_threads(previous)


@pytest.fixture(params=["one-thread", "shared-out"])
def thread_modes(request, monkeypatch):
    """Run the test once on one thread and once with every pass shared out over two threads."""
    previous = threads.get_num_threads()
    if request.param == "shared-out":
        monkeypatch.setattr(threads, "MIN_BYTES", 0)
        monkeypatch.setattr(threads, "MIN_MULTIPLY_ADDS", 0)
        threads.set_num_threads(2)
        threads.set_plan("minidl")
    else:
        threads.set_num_threads(1)
    yield request.param
    threads.set_plan(None)
    threads.set_num_threads(previous)


@pytest.fixture(params=["numpy", "compiled"])
def loop_modes(request):
    """Run the test once with the kernels' NumPy passes and once with their compiled loops
    (skipped, with the install command, where Numba is missing)."""
    if request.param == "compiled" and not compiled._NUMBA:
        pytest.skip('compiled loops need Numba: pip install -e ".[compiled]"')
    with compiled.use_compiled(request.param == "compiled"):
        yield request.param
