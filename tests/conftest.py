"""Fixtures and helpers shared by the whole test suite (test modules import the helpers:
``from conftest import leaf, as_numpy``)."""

import os
import tempfile

import numpy as np
import pytest

from hypothesis import settings  # noqa: E402
from hypothesis.database import InMemoryExampleDatabase  # noqa: E402

# the kernels' measured choices go to a folder of this run, not the user's ~/.cache/minidl
os.environ["MINIDL_CACHE_DIR"] = tempfile.mkdtemp(prefix="minidl-tests-")

# Hypothesis's pytest plugin gives each parameter set of a parametrized test a settings object
# whose parent is the previous set's; a settings object remembers its database only when that is
# not None, so under a profile without one (hypothesis's "ci" profile, loaded wherever CI is set)
# every lookup walks the whole chain, and the op catalogue's tests (over 1,000 parameter sets
# each) overflow the stack. An in-memory database keeps each lookup one step deep and, like
# that profile, writes nothing to disk.
if settings.default.database is None:
    settings.register_profile("no-database-on-disk", parent=settings.default, database=InMemoryExampleDatabase())
    settings.load_profile("no-database-on-disk")

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


def layer_pair(torch, name, *args, **options):
    """(ours, theirs): layer ``name`` built alike in both frameworks, float64, PyTorch's parameters and
    buffers copied into ours."""
    theirs = getattr(torch.nn, name)(*args, **options).double()
    ours = getattr(minidl.nn, name)(*args, **options)
    if list(theirs.parameters()) or list(theirs.buffers()):
        ours = getattr(minidl.nn, name)(*args, dtype=np.float64, **options)
        copy_weights(theirs, ours)
    return ours, theirs


def check_layer_parity(torch, ours, theirs, *arrays, seed=0, tol=1e-10):
    """Same inputs and upstream gradient through both layers: output, input gradients and parameter gradients."""
    mine = [minidl.tensor(a, requires_grad=True) for a in arrays]
    their = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_ours, out_theirs = ours(*mine), theirs(*their)
    np.testing.assert_allclose(as_numpy(out_ours), out_theirs.detach().numpy(), rtol=tol, atol=tol)
    upstream = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    out_ours.backward(minidl.tensor(upstream))
    out_theirs.backward(torch.tensor(upstream))
    for a, b in zip(mine, their):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), theirs_params[name].grad.numpy(), rtol=tol, atol=tol)


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


# --- schedulers side by side with PyTorch's -----------------------------------------------------------

def optimizer_pair(torch, optimizer_name, **options):
    """The same two-group optimizer (lr 0.1, and 0.05 for the second group) in minidl and in PyTorch."""
    def groups(library):
        return [{"params": [library.nn.Parameter(library.zeros(2))]},
                {"params": [library.nn.Parameter(library.zeros(2))], "lr": 0.05}]
    return (getattr(minidl.optim, optimizer_name)(groups(minidl), lr=0.1, **options),
            getattr(torch.optim, optimizer_name)(groups(torch), lr=0.1, **options))


def schedule_rates(torch, build_ours, build_theirs, optimizer_name="SGD", steps=25, metrics=None, **options):
    """Every group's lr, then group 0's momentum and β1, before each of ``steps`` steps, for the scheduler
    ``build_ours(optimizer)`` on minidl and ``build_theirs(optimizer)`` on PyTorch; ``metrics`` are passed
    to ``step`` (ReduceLROnPlateau)."""
    ours_opt, theirs_opt = optimizer_pair(torch, optimizer_name, **options)
    schedulers = {"ours": (ours_opt, build_ours(ours_opt)), "theirs": (theirs_opt, build_theirs(theirs_opt))}
    seen = {"ours": [], "theirs": []}
    for step in range(steps):
        for key, (optimizer, scheduler) in schedulers.items():
            group = optimizer.param_groups[0]
            seen[key].append([g["lr"] for g in optimizer.param_groups] + [group.get("momentum", 0.0),
                                                                           group.get("betas", (0.0,))[0]])
            optimizer.step()  # no gradients: nothing moves, but PyTorch sees the order it expects
            if metrics is None:
                scheduler.step()
            else:
                scheduler.step(metrics[step])
    return np.array(seen["ours"]), np.array(seen["theirs"])


# --- optimizers side by side with PyTorch's -----------------------------------------------------------

def optimizer_trajectory(torch, framework, cls, kwargs, x, start, steps, groups=None):
    """(optimizer, [parameters after each step]) of minidl's optimizer ``cls`` (framework "minidl") or
    PyTorch's of the same name ("torch"), minimising sum(tanh(x @ W + b)²) from ``start`` = (W, b);
    ``groups``: None, or (indices, options) pairs that make parameter groups."""
    library = torch if framework == "torch" else minidl
    params = ([torch.tensor(a.copy(), requires_grad=True) for a in start] if framework == "torch"
              else [minidl.nn.Parameter(a.copy()) for a in start])
    if groups is not None:
        params = [dict(options, params=[params[i] for i in indices]) for indices, options in groups]
    optimizer = (getattr(torch.optim, cls.__name__) if framework == "torch" else cls)(params, **kwargs)
    flat = [p for group in optimizer.param_groups for p in group["params"]]
    data = library.tensor(x)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        weight, bias = flat
        ((data @ weight + bias).tanh() ** 2).sum().backward()
        optimizer.step()
        trajectory.append(tuple(p.detach().numpy().copy() for p in flat))
    return optimizer, trajectory


def assert_same_trajectory(ours, theirs, tol=1e-10):
    """Two runs of ``optimizer_trajectory`` agree to ``tol`` after every step."""
    assert len(ours) == len(theirs)
    for step, (mine, reference) in enumerate(zip(ours, theirs)):
        for name, a, b in zip("Wb", mine, reference):
            np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=f"{name} after step {step + 1}")
