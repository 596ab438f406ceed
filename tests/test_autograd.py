"""Autograd semantics: accumulation, broadcasting, reused nodes, retain_graph, grad mode,
version counters, detect_anomaly and the engine's central checks of custom Functions.

Per-op gradient math lives in tests/test_ops.py; these tests are about the engine.
"""

import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl
from minidl.core import Function, sum_to
from minidl.core.errors import AutogradError, ShapeError
from conftest import leaf


def as_list(t):
    return t.detach().tolist()


# --- accumulation -------------------------------------------------------------------------

def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    assert as_list(x.grad) == [2.0, 4.0, 6.0]
    (x * x).sum().backward()
    assert as_list(x.grad) == [4.0, 8.0, 12.0]
    x.grad = None
    (3 * x).sum().backward()
    assert as_list(x.grad) == [3.0, 3.0, 3.0]


def test_accumulation_of_read_only_broadcast_gradient():
    # sum's backward hands out a broadcast view; accumulating into .grad twice must still work
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    x.sum().backward()
    x.mean().backward()
    assert as_list(x.grad) == [[1.25, 1.25], [1.25, 1.25]]


@settings(max_examples=20, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                         elements=st.floats(-3, 3)))
def test_two_backward_calls_give_twice_the_gradient(values):
    x = minidl.tensor(values, requires_grad=True)
    y = (x * x.exp()).sum()
    y.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * once, rtol=1e-12)


# --- broadcasting -------------------------------------------------------------------------

def test_broadcast_gradients_summed_to_operand_shapes():
    a = leaf(np.arange(3.0).reshape(3, 1))
    b = leaf(np.arange(4.0).reshape(1, 4))
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    assert as_list(a.grad) == [[6.0], [6.0], [6.0]]        # sum of b
    assert as_list(b.grad) == [[3.0, 3.0, 3.0, 3.0]]        # sum of a

    c = leaf([1.0, 2.0, 3.0, 4.0])
    d = leaf(np.ones((2, 3, 4)))
    (c + d).sum().backward()
    assert c.grad.shape == (4,)
    assert as_list(c.grad) == [6.0, 6.0, 6.0, 6.0]
    assert as_list(d.grad) == np.ones((2, 3, 4)).tolist()


def test_broadcast_scalar_tensor_operand():
    s = leaf(2.0)
    m = leaf(np.arange(6.0).reshape(2, 3))
    (s * m).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 15.0


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
def test_sum_to_undoes_broadcasting(shapes):
    (shape_a, _), result = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(0)
    g = rng.standard_normal(result)
    reduced = sum_to(g, shape_a)
    assert reduced.shape == tuple(shape_a)
    # reference: sum every broadcast axis explicitly
    lead = len(result) - len(shape_a)
    expected = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, n in enumerate(shape_a) if n == 1 and expected.shape[i] != 1)
    expected = expected.sum(axis=axes, keepdims=True) if axes else expected
    np.testing.assert_allclose(reduced, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcast_gradients_match_pytorch(shapes):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    rng = np.random.default_rng(1)
    a0, b0 = (rng.standard_normal(s) for s in shapes.input_shapes)
    g0 = rng.standard_normal(shapes.result_shape)
    a, b = minidl.tensor(a0, requires_grad=True), minidl.tensor(b0, requires_grad=True)
    (a * b + a).backward(minidl.tensor(g0))
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    (ta * tb + ta).backward(torch.tensor(g0))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-12)


# --- reused nodes ---------------------------------------------------------------------------

def test_diamond_node_gets_sum_of_both_paths():
    a = leaf([1.0, 2.0])
    b = a + a
    c = b * b                 # c = 4a², dc/da = 8a
    c.sum().backward()
    assert as_list(a.grad) == [8.0, 16.0]


def test_leaf_used_by_two_ops_with_fresh_gradients():
    a = leaf([1.0, 2.0])
    (a * 3 + a * 4).sum().backward()
    assert as_list(a.grad) == [7.0, 7.0]


def test_node_used_by_two_outputs():
    a = leaf([0.0, 1.0])
    b = a.exp()
    c = b.sum()
    d = (b * 3).sum()
    c.backward(retain_graph=True)
    d.backward()
    np.testing.assert_allclose(a.grad.numpy(), 4 * np.exp([0.0, 1.0]), rtol=1e-6)


def test_node_used_by_two_outputs_summed():
    a = leaf([0.5, -1.0])
    b = a * a
    (b.sum() + (b * a).sum()).backward()   # d/da (a² + a³) = 2a + 3a²
    np.testing.assert_allclose(a.grad.numpy(), [2 * 0.5 + 3 * 0.25, -2.0 + 3.0], rtol=1e-6)


def test_tangled_graph_matches_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    values = [0.3, -1.2, 2.0]

    def graph(a, exp):
        b = a * 2
        c = b + a
        d = c * b
        e = d + exp(c) * b - a * d
        return (e * e).sum() + b.sum()

    a = minidl.tensor(np.array(values), requires_grad=True)  # float64 (see test_tensor for lists)
    graph(a, lambda t: t.exp()).backward()
    ta = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    graph(ta, torch.exp).backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)


# --- retain_graph and backward misuse ------------------------------------------------------

def test_retain_graph_allows_second_backward_and_accumulates():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert as_list(x.grad) == [4.0, 8.0]


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(AutogradError, match="retain_graph=True"):
        y.backward()


def test_backward_of_non_scalar_needs_gradient_and_names_shape():
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(AutogradError, match=r"scalar.*\(3,\)"):
        y.backward()


def test_backward_with_gradient_of_wrong_shape_raises():
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        y.backward(minidl.ones(2))


def test_backward_with_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(minidl.tensor([1.0, 0.0, -1.0]))
    assert as_list(x.grad) == [2.0, 0.0, -6.0]
    y = leaf([1.0, 2.0])
    (y * 3).backward([1.0, 2.0])  # a list is accepted too
    assert as_list(y.grad) == [3.0, 6.0]


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(AutogradError, match="requires_grad"):
        (minidl.tensor([1.0]) * 2).sum().backward()


def test_backward_on_a_scalar_leaf():
    x = leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0


# --- gradients at kinks and ties (the values PyTorch uses) --------------------------------

def test_relu_grad_at_zero_is_zero():
    x = leaf([-1.0, 0.0, 2.0])
    x.relu().sum().backward()
    assert as_list(x.grad) == [0.0, 0.0, 1.0]


def test_clamp_grad_at_boundary_is_one_like_pytorch():
    values = [-1.0, 0.0, 0.5, 1.0, 2.0]
    x = leaf(values)
    x.clamp(0.0, 1.0).sum().backward()
    assert as_list(x.grad) == [0.0, 1.0, 1.0, 1.0, 0.0]
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    t = torch.tensor(values, requires_grad=True)
    t.clamp(0.0, 1.0).sum().backward()
    assert t.grad.tolist() == as_list(x.grad)


def test_abs_grad_at_zero_is_zero():
    x = leaf([-2.0, 0.0, 3.0])
    x.abs().sum().backward()
    assert as_list(x.grad) == [-1.0, 0.0, 1.0]


def test_maximum_ties_split_half_half_like_pytorch():
    a0, b0 = [1.0, 2.0, 5.0], [1.0, 3.0, 4.0]
    a, b = leaf(a0), leaf(b0)
    minidl.maximum(a, b).sum().backward()
    assert as_list(a.grad) == [0.5, 0.0, 1.0]
    assert as_list(b.grad) == [0.5, 1.0, 0.0]
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    assert ta.grad.tolist() == as_list(a.grad) and tb.grad.tolist() == as_list(b.grad)


def test_full_max_ties_split_evenly_like_pytorch():
    values = [3.0, 1.0, 3.0, 3.0]
    x = leaf(values)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 0.0, 1 / 3, 1 / 3], rtol=1e-6)
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    t = torch.tensor(values, requires_grad=True)
    t.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_max_along_dim_sends_gradient_to_one_index():
    x = leaf([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    values, indices = x.max(dim=1)
    values.sum().backward()
    grad = x.grad.numpy()
    assert grad.sum(axis=1).tolist() == [1.0, 1.0]
    assert (grad != 0).sum() == 2
    for row, index in enumerate(indices.tolist()):
        assert grad[row, index] == 1.0


# --- graph structure ----------------------------------------------------------------------------

def test_long_chain_does_not_hit_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)
    del y  # freeing a 10,000-node graph must not overflow either


def test_retain_grad_on_non_leaf():
    a = leaf([1.0, 2.0])
    b = a * 2
    b.retain_grad()
    (b * b).sum().backward()
    assert as_list(b.grad) == [4.0, 8.0]
    assert as_list(a.grad) == [8.0, 16.0]


def test_retain_grad_on_non_leaf_used_twice():
    # b feeds two ops: b.grad is the sum of both, and a's gradient must not count b twice
    a = leaf([1.0, 2.0])
    b = a * 2
    b.retain_grad()
    (b * 3 + b * 4).sum().backward()
    assert as_list(b.grad) == [7.0, 7.0]
    assert as_list(a.grad) == [14.0, 14.0]


def test_retain_grad_on_the_root():
    a = leaf([1.0, 2.0])
    b = (a * 2).sum()
    b.retain_grad()
    b.backward()
    assert b.grad is not None and b.grad.item() == 1.0   # PyTorch: tensor(1.)


def test_non_leaf_grad_is_not_kept_without_retain_grad():
    a = leaf([1.0, 2.0])
    b = a * 2
    (b * b).sum().backward()
    assert b.grad is None


def test_leaf_grads_do_not_share_memory():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    with minidl.no_grad():
        x.grad.mul_(2)
    assert as_list(x.grad) == [2.0, 2.0]
    assert as_list(y.grad) == [1.0, 1.0]


def test_leaf_grad_does_not_alias_the_given_gradient():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = minidl.ones(2)
    (x + y).backward(g)
    with minidl.no_grad():
        x.grad.mul_(5)
    assert as_list(g) == [1.0, 1.0]
    z = leaf([1.0, 2.0])
    z.backward(g)          # a leaf root
    with minidl.no_grad():
        z.grad.mul_(5)
    assert as_list(g) == [1.0, 1.0]


def test_is_leaf_and_grad_fn_names():
    x = leaf([1.0, 2.0])
    c = minidl.tensor([1.0, 2.0])
    assert x.is_leaf and x.grad_fn is None
    assert c.is_leaf and not c.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    assert y.grad_fn.name == "mul"
    assert (x + 1).grad_fn.name == "add"
    assert x.exp().grad_fn.name == "exp"
    assert x.sum().grad_fn.name == "sum"
    assert (c * 2).grad_fn is None and (c * 2).is_leaf


@pytest.mark.parametrize("call, name", [
    (lambda x: x @ x.T, "matmul"), (lambda x: x.logsumexp(dim=1), "logsumexp"), (lambda x: x[0], "getitem"),
    (lambda x: x.max(), "max"), (lambda x: x.min(dim=1).values, "min"), (lambda x: x.amax(dim=0), "amax"),
    (lambda x: x.reshape(6), "reshape"), (lambda x: x.softmax(dim=1), "softmax"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_grad_fn_names_are_the_public_op_names(call, name):
    # these names appear in in-place, anomaly and device errors: they must be the names users call
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert call(x).grad_fn.name == name


def test_inplace_error_after_max_names_max():
    x = leaf([1.0, 3.0, 2.0])
    y = x.max()
    with minidl.no_grad():
        x.mul_(2.0)
    with pytest.raises(AutogradError, match=r"^max: .*in-place"):
        y.backward()


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    y = (x * d).sum()
    y.backward()
    assert as_list(x.grad) == [2.0, 4.0]   # d treated as a constant
    e = x.detach()
    e.array[0] = 10.0
    assert x.array[0] == 10.0


def test_requires_grad_on_int_tensor_raises():
    with pytest.raises(AutogradError, match="floating"):
        minidl.tensor([1, 2, 3]).requires_grad_()
    with pytest.raises(AutogradError, match="floating"):
        minidl.tensor([1, 2, 3], requires_grad=True)


def test_requires_grad_false_on_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(AutogradError, match="leaf"):
        y.requires_grad_(False)


def test_requires_grad_setter_and_method_return_self():
    x = minidl.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad


# --- grad mode -------------------------------------------------------------------------------------

def test_no_grad_ops_do_not_record():
    x = leaf([1.0, 2.0])
    with minidl.no_grad():
        y = x * 2
        assert not minidl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert minidl.is_grad_enabled()


def test_ops_on_constants_do_not_record():
    y = minidl.tensor([1.0]) * 2
    assert not y.requires_grad and y.grad_fn is None


def test_grad_mode_nesting():
    x = leaf([1.0])
    with minidl.no_grad():
        with minidl.enable_grad():
            assert minidl.is_grad_enabled()
            assert (x * 2).requires_grad
            with minidl.set_grad_enabled(False):
                assert not minidl.is_grad_enabled()
            assert minidl.is_grad_enabled()
        assert not minidl.is_grad_enabled()
        with minidl.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert minidl.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with minidl.no_grad():
            1 / 0
    assert minidl.is_grad_enabled()


def test_reused_context_manager_object_nests():
    off = minidl.no_grad()
    with off:
        with minidl.enable_grad():
            with off:
                assert not minidl.is_grad_enabled()
            assert minidl.is_grad_enabled()
        assert not minidl.is_grad_enabled()
    assert minidl.is_grad_enabled()


def test_grad_mode_decorators():
    @minidl.no_grad()
    def off():
        return minidl.is_grad_enabled()

    @minidl.enable_grad()
    def on():
        return minidl.is_grad_enabled()

    @minidl.set_grad_enabled(False)
    def off_too(depth):
        return minidl.is_grad_enabled() if depth == 0 else off_too(depth - 1)  # recursion reuses the object

    assert off() is False
    assert minidl.is_grad_enabled()
    with minidl.no_grad():
        assert on() is True
        assert not minidl.is_grad_enabled()
    assert off_too(3) is False
    assert minidl.is_grad_enabled()


def test_no_grad_as_bare_decorator_like_pytorch():
    # PyTorch 2.x accepts @torch.no_grad without parentheses
    @minidl.no_grad
    def off():
        return minidl.is_grad_enabled()

    assert off() is False
    assert minidl.is_grad_enabled()


def test_set_grad_enabled_as_a_function_like_pytorch():
    # torch.set_grad_enabled(False) called as a plain function switches grad mode off
    try:
        minidl.set_grad_enabled(False)
        assert not minidl.is_grad_enabled()
    finally:
        minidl.set_grad_enabled(True)
    assert minidl.is_grad_enabled()


def test_grad_mode_is_per_context_new_thread_starts_enabled():
    seen = {}

    def worker():
        seen["start"] = minidl.is_grad_enabled()
        with minidl.no_grad():
            seen["inside"] = minidl.is_grad_enabled()
            main_ready.wait(5)

    main_ready = threading.Event()
    with minidl.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        main_ready.set()
        thread.join(5)
    assert seen == {"start": True, "inside": False}

    # a thread switching grad off does not affect this thread
    inside = threading.Event()
    release = threading.Event()

    def holder():
        with minidl.no_grad():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    inside.wait(5)
    assert minidl.is_grad_enabled()
    release.set()
    thread.join(5)


# --- version counters -----------------------------------------------------------------------------

INPLACE_EDITS = {
    "add_": lambda t: t.add_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "copy_": lambda t: t.copy_(minidl.zeros(*t.shape)),
    "zero_": lambda t: t.zero_(),
    "setitem": lambda t: t.__setitem__(0, 5.0),
}


@pytest.mark.parametrize("edit", INPLACE_EDITS.values(), ids=list(INPLACE_EDITS))
def test_inplace_edit_of_saved_input_detected(edit):
    w, x = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    loss = (w * x).sum()
    with minidl.no_grad():
        edit(w)
    with pytest.raises(AutogradError, match=r"^mul: .*in-place"):
        loss.backward()


@pytest.mark.parametrize("edit", INPLACE_EDITS.values(), ids=list(INPLACE_EDITS))
def test_inplace_edit_of_saved_output_detected(edit):
    x = leaf([1.0, 2.0])
    e = x.exp()              # exp saves its result
    loss = e.sum()
    with minidl.no_grad():
        edit(e)
    with pytest.raises(AutogradError, match=r"^exp: .*in-place"):
        loss.backward()


def test_inplace_edit_of_saved_constant_detected_even_with_grad_mode_on():
    w, c = leaf([1.0, 2.0]), minidl.tensor([3.0, 4.0])
    loss = (w * c).sum()
    c.add_(1.0)              # c does not require grad: allowed, but it was saved by mul
    with pytest.raises(AutogradError, match="in-place"):
        loss.backward()


def test_inplace_edit_of_unsaved_tensor_is_fine():
    w, x = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    loss = (w + x).sum()     # add saves nothing
    with minidl.no_grad():
        w.add_(1.0)
        x.zero_()
    loss.backward()
    assert as_list(w.grad) == [1.0, 1.0] and as_list(x.grad) == [1.0, 1.0]


def test_inplace_on_leaf_requiring_grad_with_grad_mode_on_raises():
    w = leaf([1.0, 2.0])
    for edit in INPLACE_EDITS.values():
        with pytest.raises(AutogradError, match="no_grad"):
            edit(w)
    assert as_list(w) == [1.0, 2.0]


VIEWS = {
    "reshape": lambda t: t.reshape(2, 1),
    "view": lambda t: t.view(1, 2),
    "slice": lambda t: t[0:1],
    "transpose": lambda t: t.reshape(1, 2).T,
    "detach": lambda t: t.detach(),
}


@pytest.mark.parametrize("make_view", VIEWS.values(), ids=list(VIEWS))
def test_inplace_edit_through_a_view_of_saved_tensor_detected(make_view):
    x = leaf([1.0, 2.0])
    e = x.exp()
    loss = (e * 2).sum() + e.sum()
    with minidl.no_grad():
        make_view(e).mul_(3.0)
    with pytest.raises(AutogradError, match="in-place"):
        loss.backward()


def test_view_taken_before_saving_shares_the_counter():
    w = leaf([1.0, 2.0])
    v = w.reshape(2, 1)
    loss = (v * v).sum()
    with minidl.no_grad():
        w.mul_(2.0)
    with pytest.raises(AutogradError, match="in-place"):
        loss.backward()


def test_inplace_after_backward_is_fine():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward()
    with minidl.no_grad():
        w.sub_(w.grad, alpha=0.1)
    assert as_list(w) == pytest.approx([0.8, 1.6])


# --- detect_anomaly ----------------------------------------------------------------------------------

def test_detect_anomaly_names_op_and_forward_traceback():
    x = leaf([0.0, 1.0])
    with minidl.detect_anomaly():
        y = (x.sqrt() * 0).sum()    # d sqrt at 0 is inf; inf * 0 = nan
        with pytest.raises(AutogradError) as info, np.errstate(all="ignore"):
            y.backward()
    message = str(info.value)
    assert message.startswith("sqrt:") and "NaN" in message
    assert os.path.basename(__file__) in message
    assert "y = (x.sqrt() * 0).sum()" in message


def test_detect_anomaly_with_log_of_zero():
    x = leaf([0.0, 2.0])
    with minidl.detect_anomaly():
        with np.errstate(all="ignore"):
            y = (x.log() * 0).sum()
        with pytest.raises(AutogradError, match=r"^log: .*NaN or Inf"), np.errstate(all="ignore"):
            y.backward()


def test_without_detect_anomaly_nan_passes_silently():
    x = leaf([0.0, 1.0])
    y = (x.sqrt() * 0).sum()
    with np.errstate(all="ignore"):
        y.backward()
    assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.0


def test_detect_anomaly_lets_finite_backward_pass_and_restores():
    @minidl.detect_anomaly()
    def run():
        x = leaf([1.0, 4.0])
        x.sqrt().sum().backward()
        return as_list(x.grad)

    assert run() == [0.5, 0.25]
    x = leaf([0.0])
    y = (x.sqrt() * 0).sum()
    with np.errstate(all="ignore"):
        y.backward()  # anomaly mode is off again: no error


# --- central checks on custom Functions ------------------------------------------------------------

class DoubleWrongShape(minidl.Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g[:1] * 2


class DoubleWrongDtype(minidl.Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return (g * 2).astype(np.float32)


class DoubleTooManyGrads(minidl.Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g * 2, g * 2


class AddTooFewGrads(minidl.Function):
    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g


class ScaleByTwo(minidl.Function):
    """z = 2x;  dz/dx = 2"""

    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g * 2


def test_custom_function_works_and_gets_snake_case_name():
    x = leaf([1.0, 2.0])
    y = ScaleByTwo.apply(x)
    assert y.grad_fn.name == "scale_by_two"
    y.sum().backward()
    assert as_list(x.grad) == [2.0, 2.0]
    with minidl.no_grad():
        assert ScaleByTwo.apply(x).grad_fn is None


def test_custom_backward_wrong_shape_names_op_and_shapes():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"^double_wrong_shape: .*\(1,\).*\(3,\)"):
        DoubleWrongShape.apply(x).sum().backward()


def test_custom_backward_wrong_dtype_names_op():
    x = leaf([1.0, 2.0], dtype=minidl.float64)
    with pytest.raises(AutogradError, match=r"^double_wrong_dtype: .*float32.*float64"):
        DoubleWrongDtype.apply(x).sum().backward()


def test_custom_backward_wrong_number_of_gradients():
    x = leaf([1.0, 2.0])
    with pytest.raises(AutogradError, match=r"^double_too_many_grads: .*2 gradients for 1 input"):
        DoubleTooManyGrads.apply(x).sum().backward()
    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(AutogradError, match=r"^add_too_few_grads: .*1 gradients for 2 inputs"):
        AddTooFewGrads.apply(a, b).sum().backward()


def test_mixed_float32_float64_promotes_and_grads_keep_input_dtype():
    a = leaf([1.0, 2.0])                          # float32
    b = leaf([3.0, 4.0], dtype=minidl.float64)
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert as_list(a.grad) == [3.0, 4.0] and as_list(b.grad) == [1.0, 2.0]


def test_cast_backward_returns_gradient_in_source_dtype():
    x = leaf([1.0, 2.0])
    y = x.double() * 3
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and as_list(x.grad) == [3.0, 3.0]


def test_forward_sees_which_inputs_need_a_gradient():
    """needs_grad is set before forward when the node is recorded, and empty when it is not."""
    seen = []

    class Probe(Function):
        def forward(self, a, b):
            seen.append(list(self.needs_grad))
            return a + b

        def backward(self, g):
            return g, g

    a, b = minidl.tensor([1.0], requires_grad=True), minidl.tensor([2.0])
    Probe.apply(a, b)
    with minidl.no_grad():
        Probe.apply(a, b)
    Probe.apply(b, b)
    assert seen == [[True, False], [], []]
