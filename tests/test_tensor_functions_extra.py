"""PyTorch's remaining top-level functions and Tensor methods (minidl/ops/tensor_functions_extra*.py):
the non-differentiable ones against PyTorch, shape results, in-place forms, random fills and bad inputs.
The differentiable ones are in the op catalogue (minidl/testing/catalog/tensor_functions_extra.py)."""

import numpy as np
import pytest

import minidl
from minidl.core.errors import AutogradError, ShapeError

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

RNG = np.random.default_rng(3)


def pair(array):
    return minidl.tensor(array), torch.tensor(array)


def name(dtype):
    return str(dtype).split(".")[-1]


def same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert name(ours.dtype) == name(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.all(x > 0), lambda lib, x: lib.any(x > 0, 1, keepdim=True), lambda lib, x: lib.argwhere(x > 0),
    lambda lib, x: (x > 0).logical_not(), lambda lib, x: x.argwhere(), lambda lib, x: lib.t(x),
    lambda lib, x: lib.atleast_1d(x[0, 0]), lambda lib, x: lib.atleast_2d(x[0]), lambda lib, x: lib.atleast_3d(x),
    lambda lib, x: lib.atleast_3d(x[0]), lambda lib, x: lib.atleast_3d(x[0, 0]), lambda lib, x: lib.atleast_2d(x[0], x),
    lambda lib, x: lib.atleast_1d([x[0, 0], x]), lambda lib, x: lib.dstack([x, x]),
    lambda lib, x: lib.column_stack([x[0], x[1], x.t()]), lambda lib, x: lib.tensor_split(x, 3, dim=1),
    lambda lib, x: x.tensor_split([1, 3, 9], 1), lambda lib, x: lib.tensor_split(x, [-1, 2]),
    lambda lib, x: lib.movedim(x[None], (0, 1), (2, 0)), lambda lib, x: lib.moveaxis(x, 0, -1),
    lambda lib, x: lib.select(x, 1, -2), lambda lib, x: lib.diag_embed(x, 1, 0, 2).shape and lib.diag_embed(x, 1, 0, 2),
    lambda lib, x: lib.fliplr(x), lambda lib, x: lib.flipud(x[0]), lambda lib, x: lib.inner(x, x[1:]),
    lambda lib, x: lib.erfc(x), lambda lib, x: lib.kthvalue(x, 2, 0), lambda lib, x: tuple(x.kthvalue(1, keepdim=True)),
    lambda lib, x: lib.detach(x), lambda lib, x: lib.histogram(x, 4),
    lambda lib, x: lib.histogram(x, bins=lib.tensor([-1.0, 0.0, 2.0], dtype=lib.float64), weight=x.abs(), density=True),
    lambda lib, x: lib.histogram(x, 3, range=(-1.0, 1.0)),
])
def test_matches_torch(call):
    ours, theirs = pair(RNG.standard_normal((3, 5)))
    same(call(minidl, ours), call(torch, theirs))


def test_mode_nanmedian_unique_consecutive_bincount():
    values = np.array([[1.0, 2, 2, 3, 3], [5, 5, 1, 1, 1], [4, np.nan, 0, np.nan, 7]])
    ours, theirs = pair(values)
    same(tuple(minidl.mode(ours[:2])), tuple(torch.mode(theirs[:2])))
    same(tuple(ours[:2].mode(0, keepdim=True)), tuple(theirs[:2].mode(0, keepdim=True)))
    same(tuple(minidl.nanmedian(ours, 1)), tuple(torch.nanmedian(theirs, 1)))
    same(ours.nanmedian(), theirs.nanmedian())
    all_nan = np.full((2, 2), np.nan)
    same(tuple(minidl.tensor(all_nan).nanmedian(0)), tuple(torch.tensor(all_nan).nanmedian(0)))
    runs = [1, 1, 2, 2, 3, 1, 1, 2]
    for flags in ((False, False), (True, False), (False, True), (True, True)):
        flags = dict(zip(("return_inverse", "return_counts"), flags))
        same(minidl.unique_consecutive(minidl.tensor(runs), **flags),
             torch.unique_consecutive(torch.tensor(runs), **flags))
    counts, weights = [0, 1, 1, 3], [1.0, 2.0, 3.0, 4.0]
    same(minidl.tensor(counts).bincount(), torch.tensor(counts).bincount())
    same(minidl.bincount(minidl.tensor(counts), minidl.tensor(weights), minlength=6),
         torch.bincount(torch.tensor(counts), torch.tensor(weights), minlength=6))
    same(minidl.bincount(minidl.tensor(counts), minidl.tensor(counts)),
         torch.bincount(torch.tensor(counts), torch.tensor(counts)))


def test_types_and_shapes():
    assert minidl.broadcast_shapes((2, 1), (3, 1, 4), 4) == torch.broadcast_shapes((2, 1), (3, 1, 4), 4)
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            ours, theirs = (getattr(minidl, a), getattr(minidl, b)), (getattr(torch, a), getattr(torch, b))
            assert name(minidl.promote_types(*ours)) == name(torch.promote_types(*theirs)), (a, b)
            assert minidl.can_cast(*ours) == torch.can_cast(*theirs), (a, b)
    operands = [lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor(1.0),
                lambda lib: lib.tensor([1], dtype=lib.int8),
                lambda lib: lib.tensor([1.0], dtype=lib.float16), lambda lib: lib.tensor(1.0, dtype=lib.float64),
                lambda lib: 500, lambda lib: 2.5, lambda lib: True]
    for first in operands:
        for second in operands:
            assert name(minidl.result_type(first(minidl), second(minidl))) == name(torch.result_type(
                first(torch), second(torch)))


def test_take_select_index_functions_match_torch():
    ours, theirs = pair(RNG.standard_normal((3, 4)))
    same(minidl.take(ours, minidl.tensor([[-1, 0], [5, 11]])), torch.take(theirs, torch.tensor([[-1, 0], [5, 11]])))
    index, source = [2, 0], RNG.standard_normal((3, 2))
    for name in ("index_add", "index_copy"):
        same(getattr(minidl, name)(ours, 1, minidl.tensor(index), minidl.tensor(source)),
             getattr(torch, name)(theirs, 1, torch.tensor(index), torch.tensor(source)))
    same(minidl.index_fill(ours, 0, minidl.tensor([1]), -3.0), torch.index_fill(theirs, 0, torch.tensor([1]), -3.0))
    mask = RNG.random((3, 4)) < 0.5
    same(minidl.masked_scatter(ours, minidl.tensor(mask), minidl.tensor(source * 7)),
         torch.masked_scatter(theirs, torch.tensor(mask), torch.tensor(source * 7)))
    ours_copy, theirs_copy = ours.clone(), theirs.clone()
    same(ours_copy.index_copy_(1, minidl.tensor(index), minidl.tensor(source)),
         theirs_copy.index_copy_(1, torch.tensor(index), torch.tensor(source)))
    same(ours_copy.masked_scatter_(minidl.tensor(mask), minidl.tensor(source)),
         theirs_copy.masked_scatter_(torch.tensor(mask), torch.tensor(source)))
    same(ours.where(ours > 0, minidl.tensor(-1.0)), theirs.where(theirs > 0, torch.tensor(-1.0)))
    same(minidl.chain_matmul(ours, ours.t(), ours), torch.linalg.multi_dot([theirs, theirs.t(), theirs]))
    same(minidl.vdot(ours[0], ours[1]), torch.vdot(theirs[0], theirs[1]))
    same(minidl.ger(ours[0], ours[1]), torch.outer(theirs[0], theirs[1]))


def test_in_place_shape_changes():
    x = minidl.zeros(3, 1, 2)
    assert x.squeeze_().shape == (3, 2) and x.shape == (3, 2)
    assert x.unsqueeze_(0).shape == (1, 3, 2)
    leaf = minidl.ones(2, requires_grad=True)
    y = leaf * 2
    y.unsqueeze_(0)
    (y * minidl.tensor([[1.0, 3.0]])).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), [2.0, 6.0])
    with pytest.raises(AutogradError, match="unsqueeze_"):
        leaf.unsqueeze_(0)


def test_random_fills_follow_the_seed():
    for fill, check in (("geometric_", lambda v: np.all(v >= 1) and np.all(v == np.round(v))),
                        ("cauchy_", lambda v: np.all(np.isfinite(v))), ("log_normal_", lambda v: np.all(v > 0))):
        args = (0.3,) if fill == "geometric_" else ()
        minidl.manual_seed(5)
        first = getattr(minidl.empty(100), fill)(*args).numpy()
        minidl.manual_seed(5)
        again = getattr(minidl.empty(100), fill)(*args).numpy()
        generator = minidl.Generator().manual_seed(5)
        other = getattr(minidl.empty(100), fill)(*args, generator=generator).numpy()
        np.testing.assert_array_equal(first, again)
        assert check(first) and other.shape == (100,)
    assert minidl.empty(10000).log_normal_(0.0, 0.5).log().std().item() == pytest.approx(0.5, rel=0.05)


def test_small_functions():
    assert minidl.is_nonzero(minidl.tensor([[0.5]])) and not minidl.is_nonzero(minidl.tensor(0))
    x = minidl.randint_like(minidl.zeros(2, 3), 5)
    assert x.shape == (2, 3) and x.dtype == minidl.float32 and x.min().item() >= 0 and x.max().item() < 5
    y = minidl.randint_like(minidl.zeros(4, dtype=minidl.int32), 2, 4)
    assert y.dtype == minidl.int32 and set(y.tolist()) <= {2, 3}
    assert minidl.ones(2).is_complex() is False


@pytest.mark.parametrize("call, error, words", [
    (lambda: minidl.is_nonzero(minidl.ones(2)), RuntimeError, "more than one value"),
    (lambda: minidl.is_nonzero(minidl.ones(0)), RuntimeError, "no values"),
    (lambda: minidl.take(minidl.ones(2, 2), minidl.tensor([4])), IndexError, "take"),
    (lambda: minidl.take(minidl.ones(2, 2), minidl.tensor([1.0])), TypeError, "integer"),
    (lambda: minidl.movedim(minidl.ones(2, 2), (0, 1), 0), ValueError, "movedim"),
    (lambda: minidl.select(minidl.ones(2, 3), 1, 3), IndexError, "select"),
    (lambda: minidl.masked_scatter(minidl.ones(3), minidl.tensor([True, True, True]), minidl.ones(2)), ShapeError,
     "masked_scatter"),
    (lambda: minidl.masked_scatter(minidl.ones(3), minidl.ones(3), minidl.ones(3)), TypeError, "bool"),
    (lambda: minidl.tensor_split(minidl.ones(3), 0), ValueError, "sections"),
    (lambda: minidl.fliplr(minidl.ones(3)), ValueError, "fliplr"),
    (lambda: minidl.diag_embed(minidl.ones(3), 0, 0, -2), ValueError, "diag_embed"),
    (lambda: minidl.inner(minidl.ones(3), minidl.ones(2)), ShapeError, "inner"),
    (lambda: minidl.addmv(minidl.ones(2), minidl.ones(2, 3), minidl.ones(2, 3)), ShapeError, "addmv"),
    (lambda: minidl.chain_matmul(minidl.ones(2)), ShapeError, "chain_matmul"),
    (lambda: minidl.kthvalue(minidl.ones(3), 4), IndexError, "kthvalue"),
    (lambda: minidl.bincount(minidl.tensor([-1, 2])), ValueError, "non-negative"),
    (lambda: minidl.bincount(minidl.tensor([1.0])), ValueError, "integral"),
    (lambda: minidl.histogram(minidl.tensor([1, 2]), 3), TypeError, "floating"),
    (lambda: minidl.unique_consecutive(minidl.ones(3), dim=0), NotImplementedError, "dim"),
    (lambda: minidl.broadcast_shapes((2,), (3,)), ShapeError, "broadcast_shapes"),
    (lambda: minidl.renorm(minidl.ones(3), 2, 0, 1.0), ValueError, "renorm"),
    (lambda: minidl.gradient(minidl.ones(1, 3)), ValueError, "gradient"),
    (lambda: minidl.gradient(minidl.ones(3), spacing=[1.0, 2.0]), TypeError, "spacing"),
    (lambda: minidl.trapezoid(minidl.ones(3), minidl.ones(2)), ShapeError, "trapezoid"),
    (lambda: minidl.fmax(minidl.ones(3), 2.0), TypeError, "fmax"),
    (lambda: minidl.ones(3).unfold(0, 4, 1), ShapeError, "unfold"),
    (lambda: minidl.ones(3).unfold(0, 2, 0), ValueError, "step"),
    (lambda: minidl.ones(3).geometric_(1.5), ValueError, "geometric_"),
])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_recorded_in_place_edits_match_torch_gradients():
    values, source, mask = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 2)), RNG.random((3, 4)) < 0.5
    grads = []
    for lib in (minidl, torch):
        x, s = lib.tensor(values, requires_grad=True), lib.tensor(source, requires_grad=True)
        y = x * 2
        y.index_copy_(1, lib.tensor([3, 1]), s)
        y.masked_scatter_(lib.tensor(mask), s * 3)
        (y * lib.tensor(values)).sum().backward()
        grads.append((x.grad, s.grad))
    same(grads[0], grads[1])
