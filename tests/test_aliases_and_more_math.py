"""PyTorch's second names, the small non-differentiable functions and the extra dtypes (the differentiable
ops, acosh ... scatter_reduce, are checked through the op catalogue)."""

import numpy as np
import pytest

import minidl
from minidl.core.errors import ShapeError


def _values(x):
    return x.detach().numpy()


@pytest.mark.parametrize("alias, original", [
    ("subtract", "sub"), ("multiply", "mul"), ("negative", "neg"), ("absolute", "abs"), ("arccos", "acos"),
    ("arcsin", "asin"), ("arctan", "atan"), ("arctan2", "atan2"), ("not_equal", "ne"), ("greater", "gt"),
    ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"), ("row_stack", "vstack"),
    ("arccosh", "acosh"), ("arcsinh", "asinh"), ("arctanh", "atanh"),
])
def test_aliases_are_the_same_functions(alias, original):
    assert getattr(minidl, alias) is getattr(minidl, original)


def test_tensor_methods_of_the_aliases_match_the_originals():
    x = minidl.tensor([[0.5, -0.25], [0.125, 0.75]])
    y = minidl.tensor([[0.25, 0.5], [-0.5, 0.75]])
    for alias, original in [("negative", x.neg()), ("absolute", x.abs()), ("arccos", x.acos()),
                            ("arcsin", x.asin()), ("arctan", x.atan()), ("positive", x), ("ravel", x.reshape(-1))]:
        np.testing.assert_array_equal(_values(getattr(x, alias)()), _values(original))
    for alias, original in [("subtract", x - y), ("multiply", x * y), ("divide", x / y), ("arctan2", x.atan2(y)),
                            ("greater", x > y), ("less_equal", x <= y), ("not_equal", x != y)]:
        np.testing.assert_array_equal(_values(getattr(x, alias)(y)), _values(original))
    np.testing.assert_array_equal(_values(x.subtract(y, alpha=2)), _values(x - 2 * y))


def test_conjugation_of_real_tensors():
    x = minidl.tensor([1.0, -2.0])
    assert minidl.conj(x) is x and minidl.resolve_conj(x) is x and minidl.resolve_neg(x) is x
    copy = minidl.conj_physical(x)
    assert copy is not x and np.array_equal(_values(copy), _values(x))
    np.testing.assert_array_equal(_values(minidl.ones(2, 3).adjoint()), np.ones((3, 2)))


@pytest.mark.filterwarnings("ignore:torch.(cholesky|qr|svd) is deprecated")
def test_matches_pytorch_on_aliases_and_linear_algebra():
    torch = pytest.importorskip("torch")
    data = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    a, t = minidl.tensor(data), torch.tensor(data)
    for name in ("det", "logdet", "inverse", "msort", "ravel"):
        np.testing.assert_allclose(_values(getattr(minidl, name)(a)), getattr(torch, name)(t).numpy(), atol=1e-10)
    for upper in (False, True):
        np.testing.assert_allclose(_values(minidl.cholesky(a, upper)), torch.cholesky(t, upper).numpy(), atol=1e-10)
    U, S, V = minidl.svd(a)
    np.testing.assert_allclose(_values(U @ minidl.diag(S) @ V.mT), data, atol=1e-10)
    Q, R = minidl.qr(a[:, :2], some=False)
    assert Q.shape == (3, 3) and R.shape == (3, 2)
    np.testing.assert_allclose(_values(Q @ R), data[:, :2], atol=1e-10)
    U, S, V = minidl.svd(a[:2], compute_uv=False)
    assert U.shape == (2, 2) and V.shape == (3, 3) and not _values(U).any()
    for mode in ("trunc", "floor", None):
        for left, right in ((np.array([7, -7, 5]), 2), (np.array([7.5, -7.5, 1.0]), -2.0)):
            np.testing.assert_array_equal(_values(minidl.divide(minidl.tensor(left), right, rounding_mode=mode)),
                                          torch.divide(torch.tensor(left), right, rounding_mode=mode).numpy())


def test_logdet_of_a_negative_determinant_is_nan():
    assert np.isnan(minidl.logdet(minidl.tensor([[0.0, 1.0], [1.0, 0.0]])).item())


def test_divide_names_a_bad_rounding_mode():
    with pytest.raises(ValueError, match="divide: rounding_mode"):
        minidl.divide(minidl.ones(2), 2, rounding_mode="round")


def test_value_tests_and_frexp():
    x = minidl.tensor([1.0, float("inf"), -float("inf"), float("nan")])
    assert minidl.isposinf(x).tolist() == [False, True, False, False]
    assert minidl.isneginf(x).tolist() == [False, False, True, False]
    assert minidl.isreal(x).tolist() == [True] * 4 and minidl.isposinf(minidl.tensor([1, 2])).tolist() == [False] * 2
    mantissa, exponent = minidl.frexp(minidl.tensor([8.0, 0.3, 0.0]))
    assert exponent.dtype is minidl.int32 and exponent.tolist() == [4, -1, 0]
    np.testing.assert_allclose(_values(mantissa * 2.0 ** exponent.to(minidl.float32)), [8.0, 0.3, 0.0], rtol=1e-6)
    with pytest.raises(TypeError, match="frexp"):
        minidl.frexp(minidl.tensor([1, 2]))


def test_poisson_draws_counts_from_the_generator():
    rates = minidl.full((2000,), 3.0)
    first = minidl.poisson(rates, generator=minidl.Generator().manual_seed(1))
    again = minidl.poisson(rates, generator=minidl.Generator().manual_seed(1))
    assert first.dtype is minidl.float32 and np.array_equal(_values(first), _values(again))
    assert abs(first.mean().item() - 3.0) < 0.2 and (_values(first) == np.round(_values(first))).all()
    with pytest.raises(ValueError, match="poisson: rates"):
        minidl.poisson(minidl.tensor([-1.0]))


def test_tensor_makers():
    s = minidl.scalar_tensor(3)
    assert s.shape == () and s.dtype is minidl.float32 and s.item() == 3.0
    assert minidl.scalar_tensor(2, dtype=minidl.int64).dtype is minidl.int64
    array = np.arange(3.0)
    shared = minidl.asarray(array)
    array[0] = 9.0
    assert shared[0].item() == 9.0 and minidl.asarray(shared) is shared
    copied = minidl.asarray(array, copy=True)
    array[1] = 7.0
    assert copied[1].item() == 1.0 and minidl.asarray([1, 2]).dtype is minidl.int64
    assert minidl.asarray(array, dtype=minidl.float32).dtype is minidl.float32
    with pytest.raises(ValueError, match="asarray: copy=False"):
        minidl.asarray(array, dtype=minidl.float32, copy=False)
    assert minidl.asarray(array, requires_grad=True).requires_grad
    buffer = bytearray(np.arange(4, dtype=np.int16).tobytes())
    view = minidl.frombuffer(buffer, dtype=minidl.int16, count=2, offset=2)
    assert view.tolist() == [1, 2]
    buffer[2] = 5
    assert view.tolist() == [5, 2]
    with pytest.raises(ValueError, match="frombuffer"):
        minidl.frombuffer(bytearray(3), dtype=minidl.int16)
    assert minidl.empty_strided((2, 3), (3, 1), dtype=minidl.float64).shape == (2, 3)
    with pytest.raises(ValueError, match="empty_strided: stride"):
        minidl.empty_strided((2, 3), (1,))


def test_splits_match_numpy():
    x = minidl.arange(24.0).reshape(2, 4, 3)
    data = _values(x)
    for ours, theirs in ((minidl.hsplit(x, 2), np.hsplit(data, 2)), (x.vsplit([1]), np.vsplit(data, [1])),
                         (minidl.dsplit(x, 3), np.dsplit(data, 3)),
                         (minidl.hsplit(x[0, 0], 3), np.hsplit(data[0, 0], 3))):
        assert len(ours) == len(theirs)
        for part, expected in zip(ours, theirs):
            np.testing.assert_array_equal(_values(part), expected)
    with pytest.raises(ValueError, match="hsplit: dim 1 of size 4"):
        minidl.hsplit(x, 3)
    with pytest.raises(ValueError, match="dsplit: expected a tensor of at least 3 dims"):
        minidl.dsplit(x[0], 1)


def test_queries():
    assert minidl.typename(minidl.ones(1)) == "minidl.FloatTensor" and minidl.typename(3) == "int"
    assert minidl.typename(minidl.nn.Linear(1, 1)).endswith("Linear")
    assert minidl.is_autocast_enabled() is False and minidl.get_autocast_dtype("cuda") is minidl.float16
    assert not minidl.is_warn_always_enabled()
    minidl.set_warn_always(True)
    try:
        assert minidl.is_warn_always_enabled()
    finally:
        minidl.set_warn_always(False)


def test_dtypes():
    assert minidl.int is minidl.int32 and minidl.short is minidl.int16
    assert minidl.tensor([1], dtype=minidl.int).dtype is minidl.int32
    for name in ("uint16", "uint32", "uint64"):
        assert minidl.zeros(2, dtype=getattr(minidl, name)).dtype is getattr(minidl, name)


def test_index_writes_in_place_and_their_errors():
    x = minidl.zeros(2, 3)
    x.index_put_((minidl.tensor([0, 0]), minidl.tensor([1, 1])), minidl.tensor(2.0), accumulate=True)
    x.put_(minidl.tensor([-1]), minidl.tensor([5.0]))
    assert x.tolist() == [[0.0, 4.0, 0.0], [0.0, 0.0, 5.0]]
    x.scatter_reduce_(1, minidl.tensor([[0, 0]]), minidl.tensor([[3.0, 1.0]]), "mean", include_self=False)
    assert x[0].tolist() == [2.0, 4.0, 0.0]
    with pytest.raises(IndexError, match="put: index out of range"):
        x.put(minidl.tensor([6]), minidl.tensor([1.0]))
    with pytest.raises(ValueError, match="put: source"):
        x.put(minidl.tensor([0, 1]), minidl.tensor([1.0]))
    with pytest.raises(ValueError, match="scatter_reduce: reduce"):
        x.scatter_reduce(0, minidl.tensor([[0]]), minidl.ones(1, 1), "median")
    with pytest.raises(ShapeError, match="scatter_reduce"):
        x.scatter_reduce(0, minidl.tensor([0]), minidl.ones(1), "amax")


def test_scatter_reduce_amax_shares_the_gradient_among_ties():
    x = minidl.tensor([1.0, 0.0], requires_grad=True)
    src = minidl.tensor([1.0, 1.0, -3.0], requires_grad=True)
    x.scatter_reduce(0, minidl.tensor([0, 0, 1]), src, "amax").sum().backward()
    assert x.grad.tolist() == pytest.approx([1 / 3, 1.0]) and src.grad.tolist() == pytest.approx([1 / 3, 1 / 3, 0.0])


def test_functional_forms_at_the_top_level():
    x = minidl.randn(4, 3)
    assert minidl.dropout(x, 0.5, False) is x and minidl.alpha_dropout(x, 0.5, False) is x
    assert minidl.pdist(x).shape == (6,)
    y = minidl.randn(4, 3)
    target = minidl.tensor([1, -1, 1, -1])
    loss = minidl.nn.functional.cosine_embedding_loss(x, y, target, reduction="none")
    np.testing.assert_allclose(_values(minidl.cosine_embedding_loss(x, y, target)), _values(loss))
    np.testing.assert_allclose(minidl.cosine_embedding_loss(x, y, target, 0.0, 2).item(), loss.sum().item(),
                               rtol=1e-6)
    with pytest.raises(TypeError, match="cosine_embedding_loss: reduction"):
        minidl.cosine_embedding_loss(x, y, target, reduction="mean")
