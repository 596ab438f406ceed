"""A declarative op-test harness: each op is declared as data, the harness writes the tests.

An :class:`OpCase` says how to draw input shapes (a hypothesis strategy), how
to fill them with values, what the op computes in plain NumPy, and optionally
the same op in PyTorch. From that the harness checks, on any device:

* the forward against the NumPy reference, in float64 and in float32 (whose
  result must stay float32);
* the gradient with :func:`minidl.testing.gradcheck` in float64, on contiguous
  and non-contiguous inputs, with size-1 and broadcast dims from the strategy;
* forward and gradients against PyTorch with the same inputs and upstream
  gradient, when PyTorch is installed.

Usage, in a test module::

    @pytest.mark.parametrize("case", CASES, ids=str)
    @given(example=st.data())
    def test_gradient(case, example):
        check_gradient(case, example.draw(case.examples), device="cpu")

Requires hypothesis (``pip install -e ".[dev]"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl
from minidl.core.backend import to_device, to_numpy
from minidl.core.dispatch import use_kernels
from minidl.core.function import Function
from minidl.core.tensor import Tensor
from minidl.testing.gradients import gradcheck


@dataclass(frozen=True)
class Example:
    """One drawn example: input shapes, op parameters, a seed for values, and memory layout."""

    shapes: tuple
    params: dict = field(default_factory=dict)
    seed: int = 0
    noncontiguous: bool = False


def normal(rng, shape):
    """Standard normal values (the default)."""
    return rng.standard_normal(shape)


def positive(rng, shape, low=0.5, high=2.0):
    """Values in [low, high): for log, sqrt, and bases of powers."""
    return rng.uniform(low, high, shape)


def avoiding(*points, gap=0.05):
    """Normal values kept at least ``gap`` away from each point (the kinks of abs, relu, clamp)."""
    def make(rng, shape):
        values = rng.standard_normal(shape)
        for point in points:
            close = np.abs(values - point) < gap
            values = np.where(close, point + np.where(values >= point, gap, -gap) * 2, values)
        return values
    return make


def distinct(rng, shape, spacing=0.05):
    """Shuffled values at least ``spacing`` apart: no ties for max, min and sorting. The grid is
    whole multiples of ``spacing`` for every size, so inputs of different sizes shifted by half a
    spacing (``shifted(distinct, spacing / 2)``) never come closer than a quarter spacing either."""
    size = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(size) - size // 2) * spacing + rng.uniform(0, spacing / 4, size)
    return values.reshape(shape)


#: ``OpCase.torch_fn``'s default: run the case's own ``fn`` on PyTorch tensors
SAME_AS_FN = "same as fn"


def library(tensor):
    """The framework a tensor belongs to, ``minidl`` or ``torch``: lets one ``fn`` serve both
    (``library(x).cat([x, y])``)."""
    if type(tensor).__module__.startswith("torch"):
        import torch  # only ever reached with a torch tensor in hand: torch is installed
        return torch
    return minidl


def functional(tensor):
    """``nn.functional`` of the framework a tensor belongs to (``functional(x).conv2d(x, w)``)."""
    return library(tensor).nn.functional


@dataclass
class OpCase:
    """An op declared as data.

    ``fn(*tensors, **params)`` is the minidl op, ``reference(*arrays, **params)``
    the same in plain NumPy (float64), ``torch_fn(*torch_tensors, **params)``
    the same in PyTorch: by default ``fn`` itself (written with methods, operators,
    :func:`library` and :func:`functional`, it runs on both); None when PyTorch has no
    such op. ``examples`` is a hypothesis strategy of
    :class:`Example`; ``make`` (one function, or one per input) fills inputs
    with values. Only the inputs listed in ``grad_inputs`` (default: all)
    require grad.
    """

    name: str
    fn: Callable
    reference: Callable
    examples: st.SearchStrategy
    make: Callable | tuple = normal
    torch_fn: Callable | str | None = SAME_AS_FN
    grad_inputs: tuple | None = None
    differentiable: bool = True
    rtol: float = 1e-6
    atol: float = 1e-6

    def __str__(self):
        return self.name

    def arrays(self, example):
        """Input values (float64 NumPy arrays), the same for every device and framework."""
        rng = np.random.default_rng(example.seed)
        makers = self.make if isinstance(self.make, tuple) else (self.make,) * len(example.shapes)
        return [np.asarray(make(rng, shape), dtype=np.float64) for make, shape in zip(makers, example.shapes)]

    def torch_call(self):
        """The call to run on PyTorch tensors (None: no parity check)."""
        return self.fn if self.torch_fn == SAME_AS_FN else self.torch_fn

    def requires_grad(self, index):
        return self.differentiable and (self.grad_inputs is None or index in self.grad_inputs)


# --- strategies --------------------------------------------------------------------

def examples(shapes, params=None, noncontiguous=True):
    """Combine a strategy of shape tuples (and of params, maybe depending on shapes) into Examples."""
    def build(draw):
        drawn = tuple(draw(shapes))
        drawn_params = draw(params(drawn)) if callable(params) else (draw(params) if params is not None else {})
        seed = draw(st.integers(0, 2**32 - 1))
        layout = draw(st.booleans()) if noncontiguous else False
        return Example(drawn, drawn_params, seed, layout)
    return st.composite(lambda draw: build(draw))()


def broadcastable(count, min_dims=0, max_dims=3, max_side=4):
    """``count`` mutually broadcastable shapes, size-1 dims included."""
    return hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=min_dims, max_dims=max_dims,
                                             min_side=1, max_side=max_side).map(lambda s: s.input_shapes)


def single(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """One shape."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).map(lambda s: (s,))


def dim_of(shapes, keepdim=True, multiple=False, allow_none=False):
    """Params strategy: a valid ``dim`` (negative too) of the first shape, and maybe ``keepdim``."""
    ndim = len(shapes[0])
    choices = []
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        if multiple:
            choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    if allow_none or not ndim:
        choices.append(st.none())
    dims = st.one_of(*choices)
    return st.fixed_dictionaries({"dim": dims, **({"keepdim": st.booleans()} if keepdim else {})})


# --- building inputs ------------------------------------------------------------------------

def _layout(array, noncontiguous):
    """The same values, stored every other element of a larger buffer when asked (a strided view)."""
    if not noncontiguous or array.ndim == 0:
        return array
    buffer = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
    buffer[..., ::2] = array
    return buffer[..., ::2]


def _tensors(case, example, dtype, device):
    tensors = []
    for index, array in enumerate(case.arrays(example)):
        data = to_device(_layout(array.astype(dtype), example.noncontiguous), device)
        tensors.append(Tensor(data, requires_grad=case.requires_grad(index)))
    return tensors


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


# --- the checks ------------------------------------------------------------------------------

def check_forward(case, example, device="cpu"):
    """The op's output equals the NumPy reference, in float64 and float32 (which stays float32)."""
    expected = [np.asarray(e) for e in _as_tuple(case.reference(*case.arrays(example), **example.params))]
    for dtype, rtol, atol in ((np.float64, case.rtol, case.atol), (np.float32, 1e-4, 1e-5)):
        outputs = _as_tuple(case.fn(*_tensors(case, example, dtype, device), **example.params))
        assert len(outputs) == len(expected), f"{case}: {len(outputs)} outputs, reference gives {len(expected)}"
        for output, reference in zip(outputs, expected):
            assert isinstance(output, Tensor), f"{case}: returned {type(output).__name__}, not a Tensor"
            assert output.device == device, f"{case}: output on {output.device}, input on {device}"
            assert output.shape == reference.shape, f"{case}: shape {output.shape}, reference {reference.shape}"
            if reference.dtype.kind == "f":
                assert output.dtype == dtype, f"{case}: {np.dtype(dtype)} input gave a {output.dtype} output"
            np.testing.assert_allclose(to_numpy(output.array), reference, rtol=rtol, atol=atol,
                                       err_msg=f"{case} forward ({np.dtype(dtype)}, {device}, {example})")


def check_gradient(case, example, device="cpu", **gradcheck_options):
    """gradcheck in float64 on ``device``, with the example's layout; and every node of the graph
    keeps its arrays in ``saved`` only (:func:`check_saves`)."""
    inputs = _tensors(case, example, np.float64, device)
    check_saves(_as_tuple(case.fn(*inputs, **example.params)), case)
    gradcheck(lambda *xs: case.fn(*xs, **example.params), inputs, **gradcheck_options)


def graph_nodes(outputs):
    """Every node that produced ``outputs`` (tensors), each once."""
    seen, stack = {}, [t._node for t in outputs if isinstance(t, Tensor) and t._node is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(parent for parent, _ in node.parents if parent is not None)
    return list(seen.values())


#: what Function.apply itself keeps on a node; everything else is the op's own
_ENGINE_ATTRIBUTES = {"inputs", "parents", "needs_grad", "saved", "outputs", "_saved_versions", "_stack", "_freed"}


def _holds_array(value):
    if isinstance(value, (tuple, list)):
        return any(_holds_array(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_array(v) for v in value.values())
    return hasattr(value, "__array_function__") or hasattr(value, "__cuda_array_interface__")


def check_saves(outputs, case=""):
    """Arrays kept for backward go through ``save()`` only: no node holds an array in a plain attribute
    (where it would escape the in-place check and ``release()``)."""
    for node in graph_nodes(outputs):
        stray = sorted(name for name, value in vars(node).items()
                       if name not in _ENGINE_ATTRIBUTES and _holds_array(value))
        assert not stray, (f"{case}: {type(node).__module__}.{type(node).__qualname__} keeps arrays outside "
                           f"save(): {', '.join(stray)}")


#: tolerances of a kernel against its textbook op, per dtype: both compute the same formula,
#: but may add in another order (BLAS row sums, threads' partial sums, a shared softmax shift)
KERNEL_TOLERANCES = {np.float64: (1e-10, 1e-12), np.float32: (2e-5, 2e-6)}


def _run_path(fn, arrays, requires_grad, enabled, seed):
    """Outputs, input gradients (for random upstream gradients) and node classes of one run of fn."""
    with use_kernels(enabled):
        inputs = [Tensor(a, requires_grad=flag)
                  for a, flag in zip(arrays, requires_grad)]
        outputs = _as_tuple(fn(*inputs))
        classes = {type(node) for node in graph_nodes(outputs)}
        rng = np.random.default_rng(seed)
        for output in outputs:
            if output.requires_grad:
                upstream = rng.standard_normal(output.shape).astype(output.dtype)
                output.backward(Tensor(to_device(upstream, output.device)), retain_graph=True)
    grads = [None if t.grad is None else to_numpy(t.grad.array) for t in inputs]
    return [to_numpy(o.array) for o in outputs], grads, classes


def compare_paths(fn, arrays, requires_grad=None, rtol=0.0, atol=0.0, seed=0, what="fn"):
    """Run ``fn`` on tensors of ``arrays`` with kernels off and on; outputs and input gradients (for the
    same random upstream gradients) must agree within rtol/atol (0, 0: exactly). Returns the kernel
    Function classes that ran."""
    requires_grad = [a.dtype.kind == "f" for a in arrays] if requires_grad is None else requires_grad
    textbook = _run_path(fn, arrays, requires_grad, False, seed)
    fast = _run_path(fn, arrays, requires_grad, True, seed)
    for kind, theirs, ours in (("output", textbook[0], fast[0]), ("gradient", textbook[1], fast[1])):
        for index, (expected, got) in enumerate(zip(theirs, ours)):
            if expected is None or got is None:
                assert expected is got, f"{what}: {kind} {index} is None on one path only"
                continue
            assert got.dtype == expected.dtype, f"{what}: {kind} {index} is {got.dtype} with kernels"
            assert got.shape == expected.shape, f"{what}: {kind} {index} has shape {got.shape} with kernels"
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=(
                f"{what}: {kind} {index} differs between kernels and textbook"))
    return {k for k in fast[2] - textbook[2] if issubclass(k, Function)}


def check_kernels(case, example):
    """Kernels on and off give the same outputs and gradients, in float64 and float32, within
    KERNEL_TOLERANCES (exactly, where a kernel adds in the textbook's order). Returns the kernel
    classes the case ran."""
    kernels_run = set()
    for dtype, (rtol, atol) in KERNEL_TOLERANCES.items():
        arrays = [_layout(a.astype(dtype), example.noncontiguous) for a in case.arrays(example)]
        kernels_run |= compare_paths(lambda *xs: case.fn(*xs, **example.params), arrays,
                                     [case.requires_grad(i) for i in range(len(arrays))], rtol, atol,
                                     example.seed + 1, f"{case} ({np.dtype(dtype)}, {example})")
    return kernels_run


def check_torch(case, example, torch, rtol=1e-7, atol=1e-9):
    """Forward and every input gradient agree with PyTorch for the same inputs and upstream gradients."""
    arrays = case.arrays(example)
    ours = [Tensor(a.copy(), requires_grad=case.requires_grad(i)) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=case.requires_grad(i)) for i, a in enumerate(arrays)]
    our_outputs = _as_tuple(case.fn(*ours, **example.params))
    their_outputs = _as_tuple(case.torch_call()(*theirs, **example.params))
    rng = np.random.default_rng(example.seed + 1)
    for mine, reference in zip(our_outputs, their_outputs):
        expected = reference.detach().numpy()
        np.testing.assert_allclose(to_numpy(mine.array), expected, rtol=rtol, atol=atol,
                                   err_msg=f"{case}: forward differs from PyTorch ({example})")
        if mine.requires_grad:
            upstream = rng.standard_normal(expected.shape)
            mine.backward(Tensor(upstream.astype(mine.dtype)), retain_graph=True)
            reference.backward(torch.tensor(upstream, dtype=reference.dtype), retain_graph=True)
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        if not case.requires_grad(index):
            continue
        expected = np.zeros(arrays[index].shape) if reference.grad is None else reference.grad.numpy()
        got = np.zeros(arrays[index].shape) if mine.grad is None else to_numpy(mine.grad.array)
        np.testing.assert_allclose(got, expected, rtol=rtol * 10, atol=atol * 10,
                                   err_msg=f"{case}: gradient of input {index} differs from PyTorch ({example})")
