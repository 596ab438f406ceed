"""In-place edits inside the graph, recorded as PyTorch records them: gradients equal PyTorch's.

Each program runs unchanged on minidl and (where installed) on PyTorch, with ``L`` the library;
without PyTorch the hand-derived gradients below still hold.
"""

import numpy as np
import pytest

import minidl
from minidl.core.errors import AutogradError

PROGRAMS = {
    # the report's example: x[0] = 5 cuts x[0] from w, so w.grad = [0, 8, 8] for w = 1
    "setitem_cuts_the_edge": ("w = L.tensor([1., 1., 1.], requires_grad=True); x = w * 2; x[0] = 5; "
                              "(x * x).sum().backward()", [0, 8, 8]),
    "iadd": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 2; x += 1; (x * x).sum().backward()",
             [12, 20, 28]),
    "isub_imul_itruediv": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 1; x -= 1; x *= w; x /= 2; "
                           "x.sum().backward()", [0.5, 1.5, 2.5]),
    "mask_setitem": ("w = L.tensor([1., -2., 3.], requires_grad=True); x = w * 3; x[x < 0] = 0.5; "
                     "(x * x).sum().backward()", [18, 0, 54]),
    "masked_fill_clamp": ("w = L.tensor([1., -2., 3.], requires_grad=True); x = w * 1; x.clamp_(min=0); "
                          "x.masked_fill_(L.tensor([False, False, True]), 2.); (x * w).sum().backward()", [2, 0, 2]),
    "zero_keeps_requires_grad": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 3; x.zero_(); "
                                 "(x + w).sum().backward()", [1, 1, 1]),
    "fill_with_a_tensor": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 3; x.fill_(w[1]); "
                           "x.sum().backward()", [0, 3, 0]),
    "copy_from_a_tensor": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 3; x.copy_(w * w); "
                           "x.sum().backward()", [2, 4, 6]),
    "earlier_use_keeps_the_old_values": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 2; y = x + 1; "
                                         "x += 10; (y * 3 + x * x).sum().backward()", [54, 62, 70]),
    "assign_a_tensor_into_a_plain_one": ("w = L.tensor([7., 8.], requires_grad=True); z = L.zeros(4); z[1:3] = w; "
                                         "(z * z).sum().backward()", [14, 16]),
    "augmented_index": ("w = L.tensor([1., 2., 3.], requires_grad=True); x = w * 2; x[1:] += w[:2]; "
                        "(x * x).sum().backward()", [18, 36, 32]),
    "view_edit_reaches_its_base": ("w = L.tensor([1., 2., 3., 4.], requires_grad=True); x = w * 2; "
                                   "x.reshape(2, 2)[0].mul_(3); (x * x).sum().backward()", [72, 144, 24, 32]),
    "view_of_a_view": ("w = L.tensor([[1., 2.], [3., 4.]], requires_grad=True); x = w * 2; x[0][1] = 7.; "
                       "(x * x).sum().backward()", [[8, 0], [24, 32]]),
    "transposed_view": ("w = L.tensor([[1., 2.], [3., 4.]], requires_grad=True); x = w * 2; x.T[0] += 1; "
                        "x.sum().backward()", [[2, 2], [2, 2]]),
}


def run(program, library):
    namespace = {"L": library}
    exec(program, namespace)
    return np.asarray(namespace["w"].grad.tolist())


@pytest.mark.parametrize("name", PROGRAMS)
def test_in_place_edits_give_the_derived_gradients(name):
    program, expected = PROGRAMS[name]
    np.testing.assert_allclose(run(program, minidl), expected, rtol=1e-6)


@pytest.mark.parametrize("name", PROGRAMS)
def test_in_place_edits_give_pytorchs_gradients(name):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    program, _ = PROGRAMS[name]
    np.testing.assert_allclose(run(program, minidl), run(program, torch), rtol=1e-6)


def test_x_times_equals_x_uses_the_old_values():
    # PyTorch refuses this one at backward (mul saved x, then x changed); minidl records the edit on a
    # copy of the old values, so the gradient is the derived one: d/dw Σ(2w + 10)² = 4(2w + 10)
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = w * 2
    x += 10
    x *= x
    x.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [48, 56])


def test_an_edit_of_a_leaf_that_requires_grad_is_refused_and_changes_nothing():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AutogradError, match=r"^add_: a leaf tensor that requires grad .*no_grad"):
        w += 1
    with pytest.raises(AutogradError, match=r"^mul_: a view of a leaf tensor that requires grad"):
        w[0:1].mul_(2)
    assert w.tolist() == [1.0, 2.0]


def test_an_edit_of_a_read_only_broadcast_view_is_refused_by_name():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = (w * 2).expand(3, 2)
    with pytest.raises(AutogradError, match=r"^add_: this tensor is a read-only view \(expand\)"):
        x += 1


def test_an_edit_of_a_tensor_a_node_saved_is_still_detected_at_backward():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = w * 2
    y = x * x      # mul saves x
    x += 1
    with pytest.raises(AutogradError, match=r"^mul: .*modified by an in-place operation"):
        y.sum().backward()


def test_edits_under_no_grad_are_not_recorded():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = w * 2
    node = x.grad_fn
    with minidl.no_grad():
        x[0] = 5.0
    assert x.grad_fn is node and x.tolist() == [5.0, 4.0]


def test_an_edit_keeps_the_tensors_array_so_its_detached_alias_sees_it():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = w * 2
    alias = x.detach()
    x[1] = 9.0
    assert alias.tolist() == [2.0, 9.0]


def test_a_graph_with_edits_is_freed_after_backward_without_the_cycle_collector():
    import gc
    import weakref
    w = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    gc.disable()
    try:
        hidden = w * 2
        hidden[0:2] += 1.0             # a view edited, then written back: the graph leads back to hidden
        node = weakref.ref(hidden.grad_fn)
        (hidden * hidden).sum().backward()
        del hidden
        assert node() is None          # freed by reference counting alone
    finally:
        gc.enable()
