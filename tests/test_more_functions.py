"""The functions without a gradient of minidl/ops/selection.py (logic, counting, finding, triangle
indices), the integer paths and edge values of the new elementwise ops, the new activation, distance
and loss modules, finfo / iinfo, print options and the matmul-precision and determinism switches:
each against a plain-NumPy reference and, where torch is installed, against PyTorch.

The differentiable ops themselves are in the op catalogue (minidl/testing/catalog/math_ops.py)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import as_numpy, copy_weights

SETTINGS = settings(max_examples=25, deadline=None)
small_ints = hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                        elements=st.integers(-2, 2))


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


# --- logic and closeness ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@SETTINGS
@given(pair=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=st.integers(0, 99))
def test_logical_ops_match_numpy_and_pytorch(name, pair, seed):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    rng = np.random.default_rng(seed)
    a = rng.integers(-1, 2, pair.input_shapes[0]).astype(np.float32)
    b = rng.random(pair.input_shapes[1]) < 0.5
    ours = getattr(minidl, name)(minidl.tensor(a), minidl.tensor(b))
    assert ours.dtype == minidl.bool and ours.shape == pair.result_shape
    np.testing.assert_array_equal(as_numpy(ours), getattr(np, name)(a, b))
    np.testing.assert_array_equal(as_numpy(getattr(minidl.tensor(a), name)(minidl.tensor(b))),
                                  getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())


def test_isclose_matches_pytorch(torch):
    a = np.array([1.0, 1.0 + 1e-9, 1.1, np.nan, np.inf, -np.inf, 0.0, 1e-9])
    b = np.array([1.0, 1.0, 1.0, np.nan, np.inf, np.inf, 1e-9, 0.0])
    for options in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 1e-8, "rtol": 0.0}):
        ours = minidl.isclose(minidl.tensor(a), minidl.tensor(b), **options)
        expected = torch.isclose(torch.tensor(a), torch.tensor(b), **options).numpy()
        np.testing.assert_array_equal(as_numpy(ours), expected)
    assert minidl.tensor(a).isclose(minidl.tensor(a)).tolist()[:3] == [True, True, True]
    assert minidl.isclose(minidl.tensor([1.0, 2.0]), 2.0).tolist() == [False, True]


# --- counting and finding ------------------------------------------------------------------------

@SETTINGS
@given(values=small_ints, data=st.data())
def test_count_nonzero_and_nonzero_match_numpy(values, data):
    x = minidl.tensor(values)
    assert minidl.count_nonzero(x).item() == np.count_nonzero(values) and minidl.count_nonzero(x).dtype == np.int64
    if values.ndim:
        dim = data.draw(st.integers(-values.ndim, values.ndim - 1))
        np.testing.assert_array_equal(as_numpy(x.count_nonzero(dim)), np.count_nonzero(values, axis=dim))
        np.testing.assert_array_equal(as_numpy(x.nonzero()), np.argwhere(values))
        for ours, expected in zip(minidl.nonzero(x, as_tuple=True), np.nonzero(values)):
            np.testing.assert_array_equal(as_numpy(ours), expected)


def test_nonzero_and_count_nonzero_match_pytorch(torch):
    for values in ([[0, 1], [2, 0]], 5.0, 0.0, [], [[0.0, 0.0]]):
        ours, theirs = minidl.tensor(values), torch.tensor(values)
        assert as_numpy(ours.nonzero()).tolist() == theirs.nonzero().tolist()
        assert as_numpy(ours.nonzero()).shape == tuple(theirs.nonzero().shape)
        assert [t.tolist() for t in ours.nonzero(as_tuple=True)] == [t.tolist() for t in theirs.nonzero(as_tuple=True)]
        assert minidl.count_nonzero(ours).item() == torch.count_nonzero(theirs).item()
    x = [[0, 1, 3], [2, 0, 0]]
    assert minidl.count_nonzero(minidl.tensor(x), dim=(0, 1)).item() == 3
    expected = torch.count_nonzero(torch.tensor(x), dim=1).tolist()
    assert minidl.count_nonzero(minidl.tensor(x), dim=1).tolist() == expected


@SETTINGS
@given(values=small_ints)
def test_unique_matches_numpy(values):
    x = minidl.tensor(values)
    uniques, inverse, counts = minidl.unique(x, return_inverse=True, return_counts=True)
    expected, expected_inverse, expected_counts = np.unique(values, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(as_numpy(uniques), expected)
    np.testing.assert_array_equal(as_numpy(inverse), expected_inverse.reshape(values.shape))
    np.testing.assert_array_equal(as_numpy(counts), expected_counts)
    np.testing.assert_array_equal(as_numpy(uniques)[as_numpy(inverse)], values)  # the inverse rebuilds the input
    np.testing.assert_array_equal(as_numpy(x.unique()), expected)


def test_unique_matches_pytorch(torch):
    rows = [[1, 2], [1, 2], [0, 5]]
    for values, options in (([[3, 2], [1, 2]], {"return_inverse": True}), (rows, {"dim": 0, "return_inverse": True,
                                                                              "return_counts": True}),
                            (rows, {"dim": 1, "return_counts": True}), ([2.5, -1.0, 2.5], {"return_counts": True})):
        ours = minidl.unique(minidl.tensor(values), **options)
        theirs = torch.unique(torch.tensor(values), **options)
        for mine, reference in zip(ours, theirs):
            assert as_numpy(mine).tolist() == reference.tolist() and as_numpy(mine).dtype == reference.numpy().dtype


@pytest.mark.parametrize("right", [False, True])
@SETTINGS
@given(boundaries=st.lists(st.integers(-5, 5), min_size=1, max_size=6).map(sorted),
       values=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), elements=st.integers(-6, 6)))
def test_searchsorted_and_bucketize_match_numpy(right, boundaries, values):
    side = "right" if right else "left"
    expected = np.searchsorted(np.array(boundaries), values, side=side)
    ours = minidl.searchsorted(minidl.tensor(boundaries), minidl.tensor(values), right=right)
    np.testing.assert_array_equal(as_numpy(ours), expected)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(as_numpy(minidl.searchsorted(minidl.tensor(boundaries), minidl.tensor(values),
                                                               side=side)), expected)
    np.testing.assert_array_equal(as_numpy(minidl.bucketize(minidl.tensor(values), minidl.tensor(boundaries),
                                                            right=right)), expected)


def test_searchsorted_of_rows_sorter_and_scalars_match_pytorch(torch):
    rows = [[1, 3, 5, 7], [2, 4, 4, 8]]
    values = [[3, 6, 0], [4, 9, 2]]
    for right in (False, True):
        ours = minidl.searchsorted(minidl.tensor(rows), minidl.tensor(values), right=right)
        assert ours.tolist() == torch.searchsorted(torch.tensor(rows), torch.tensor(values), right=right).tolist()
    shuffled, sorter = [5, 1, 7, 3], [1, 3, 0, 2]
    ours = minidl.searchsorted(minidl.tensor(shuffled), minidl.tensor([4, 7]), sorter=minidl.tensor(sorter))
    assert ours.tolist() == torch.searchsorted(torch.tensor(shuffled), torch.tensor([4, 7]),
                                               sorter=torch.tensor(sorter)).tolist()
    assert minidl.searchsorted(minidl.tensor([1, 3, 5]), 3, right=True).item() == 2
    assert minidl.searchsorted(minidl.tensor([1, 3, 5]), minidl.tensor([4]), out_int32=True).dtype == np.int32
    assert minidl.bucketize(minidl.tensor([1, 3, 5]), minidl.tensor([1, 3, 5]), right=True).tolist() == \
        torch.bucketize(torch.tensor([1, 3, 5]), torch.tensor([1, 3, 5]), right=True).tolist()


@pytest.mark.parametrize("row, col, offset", [(3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 2, 0), (2, 5, -3), (3, 3, 5)])
def test_triangle_indices_match_numpy_and_pytorch(row, col, offset, torch):
    lower, upper = minidl.tril_indices(row, col, offset), minidl.triu_indices(row, col, offset)
    np.testing.assert_array_equal(as_numpy(lower), np.stack(np.tril_indices(row, offset, col)))
    np.testing.assert_array_equal(as_numpy(upper), np.stack(np.triu_indices(row, offset, col)))
    assert lower.tolist() == torch.tril_indices(row, col, offset).tolist() and lower.dtype == np.int64
    assert upper.tolist() == torch.triu_indices(row, col, offset).tolist()
    assert minidl.tril_indices(3, 3, dtype=minidl.int32, device="strict").device == "strict"


STRICT_CALLS = [
    ("logical_and", lambda x, y: minidl.logical_and(x, y > 0)), ("logical_or", lambda x, y: x.logical_or(y)),
    ("logical_xor", lambda x, y: minidl.logical_xor(x, 0.0)), ("isclose", lambda x, y: x.isclose(y)),
    ("count_nonzero", lambda x, y: minidl.count_nonzero(x, 1)), ("nonzero", lambda x, y: x.nonzero()),
    ("nonzero_tuple", lambda x, y: x.nonzero(as_tuple=True)),
    ("unique", lambda x, y: minidl.unique(x, return_inverse=True, return_counts=True)),
    ("unique_dim", lambda x, y: x.unique(dim=0, return_inverse=True)),
    ("searchsorted", lambda x, y: minidl.searchsorted(x.sort(-1)[0], y)),
    ("bucketize", lambda x, y: minidl.bucketize(y, x.reshape(-1).sort()[0])),
    ("floor_divide", lambda x, y: x // (y.abs() + 1)), ("remainder", lambda x, y: x % (y.abs() + 1)),
]


@pytest.mark.parametrize("name, call", STRICT_CALLS, ids=[name for name, _ in STRICT_CALLS])
def test_functions_without_gradient_run_on_the_strict_device(name, call):
    """The strict array type refuses implicit conversion to NumPy, as CuPy does: the same results there."""
    rng = np.random.default_rng(4)
    x, y = rng.integers(-2, 3, (3, 4)).astype(np.float32), rng.integers(-2, 3, (3, 4)).astype(np.float32)
    on_cpu = call(minidl.tensor(x), minidl.tensor(y))
    on_strict = call(minidl.tensor(x).to("strict"), minidl.tensor(y).to("strict"))
    for cpu, strict in zip(on_cpu if isinstance(on_cpu, tuple) else (on_cpu,),
                           on_strict if isinstance(on_strict, tuple) else (on_strict,)):
        assert strict.device == "strict" and strict.dtype == cpu.dtype
        np.testing.assert_array_equal(as_numpy(strict), as_numpy(cpu))


def test_numel_and_is_floating_point():
    x = minidl.zeros(2, 3)
    assert minidl.numel(x) == 6 and minidl.numel(minidl.tensor(1.0)) == 1
    assert minidl.is_floating_point(x) and x.is_floating_point() and x.double().is_floating_point()
    assert not minidl.is_floating_point(minidl.tensor([1])) and not minidl.tensor([True]).is_floating_point()


# --- integer paths and edge values of the elementwise ops --------------------------------------------

def test_integer_tensors_as_pytorch(torch):
    values = [-7, -2, 0, 3, 8]
    x, t = minidl.tensor(values), torch.tensor(values)
    for name in ("floor", "ceil", "round", "trunc", "sign", "square"):
        ours, theirs = getattr(x, name)(), getattr(t, name)()
        assert ours.tolist() == theirs.tolist() and ours.dtype == minidl.int64, name
    for name in ("tan", "atan", "erf", "expm1", "log1p", "exp2", "reciprocal"):
        ours, theirs = getattr(minidl, name)(x), getattr(torch, name)(t)
        assert ours.dtype == minidl.float32, name
        np.testing.assert_allclose(as_numpy(ours), theirs.numpy(), rtol=1e-6, err_msg=name)
    divisors = [3, -3, 2, -5, 4]
    for name in ("remainder", "fmod", "floor_divide"):
        ours = getattr(minidl, name)(x, minidl.tensor(divisors))
        assert ours.tolist() == getattr(torch, name)(t, torch.tensor(divisors)).tolist() and ours.dtype == np.int64
    assert (x % 3).tolist() == (t % 3).tolist() and (x // -3).tolist() == (t // -3).tolist()
    assert (17 % minidl.tensor([5, -5])).tolist() == (17 % torch.tensor([5, -5])).tolist()
    assert (17 // minidl.tensor([5, -5])).tolist() == (17 // torch.tensor([5, -5])).tolist()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NumPy reference divides by zero
def test_float_division_edge_values_match_pytorch(torch):
    a = [5.0, -5.0, 0.0, 1.0, np.inf, np.nan, 7.5]
    b = [0.0, 0.0, 0.0, np.inf, 2.0, 1.0, -2.0]
    for name in ("remainder", "fmod", "floor_divide"):
        ours = getattr(minidl, name)(minidl.tensor(a), minidl.tensor(b))
        np.testing.assert_array_equal(as_numpy(ours), getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())


def test_round_with_decimals_matches_pytorch(torch):
    values = [1.25, 2.5, 0.125, -3.75, 1234.5678, 0.5, 1.5]
    for decimals in (0, 1, 2, -1, -2):
        ours = minidl.round(minidl.tensor(values, dtype=minidl.float64), decimals=decimals)
        theirs = torch.round(torch.tensor(values, dtype=torch.float64), decimals=decimals)
        np.testing.assert_allclose(as_numpy(ours), theirs.numpy(), rtol=1e-15, err_msg=str(decimals))


def test_step_functions_pass_back_zeros_and_floor_divide_too():
    x = minidl.tensor([0.3, -1.7, 2.5], requires_grad=True)
    for name in ("sign", "floor", "ceil", "round", "trunc"):
        x.grad = None
        getattr(x, name)().backward(minidl.ones(3))
        assert x.grad.tolist() == [0.0, 0.0, 0.0], name
    y = minidl.tensor([2.0, 0.5, -2.0], requires_grad=True)
    x.grad = None
    (x // y).backward(minidl.ones(3))  # PyTorch has no derivative here; a step function's slope is 0
    assert x.grad.tolist() == [0.0] * 3 and y.grad.tolist() == [0.0] * 3


def test_erfinv_edges_and_inverse(torch):
    edges = minidl.erfinv(minidl.tensor([1.0, -1.0, 1.5, -2.0, 0.0], dtype=minidl.float64))
    np.testing.assert_array_equal(as_numpy(edges), [np.inf, -np.inf, np.nan, np.nan, 0.0])
    y = np.concatenate([np.linspace(-0.9999, 0.9999, 2001), [1e-300, -1e-12, 0.009999, 0.010001]])
    ours = as_numpy(minidl.erfinv(minidl.tensor(y)))
    np.testing.assert_allclose(ours, torch.erfinv(torch.tensor(y)).numpy(), rtol=1e-11, atol=0)
    np.testing.assert_allclose(np.vectorize(math.erf)(ours), y, rtol=1e-14, atol=1e-15)
    y32 = y.astype(np.float32)
    np.testing.assert_allclose(as_numpy(minidl.erfinv(minidl.tensor(y32))), torch.erfinv(torch.tensor(y32)).numpy(),
                               rtol=2e-4)


def test_prod_gradient_with_zeros_is_the_product_of_the_others(torch):
    values = [[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, -2.0, 4.0]]
    for dim in (None, 0, 1):
        x, t = minidl.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        (x.prod() if dim is None else x.prod(dim)).sum().backward()
        (t.prod() if dim is None else t.prod(dim)).sum().backward()
        assert x.grad.tolist() == t.grad.tolist(), dim
    x = minidl.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]  # the zero's slope is the product of the others
    assert minidl.prod(minidl.tensor([[1, 2], [3, 4]])).item() == 24
    assert minidl.prod(minidl.tensor([True])).dtype == np.int64


# --- the modules -------------------------------------------------------------------------------------

MODULES = [("ELU", (), {}), ("ELU", (0.5,), {}), ("CELU", (), {"alpha": 2.0}), ("SELU", (), {}), ("GLU", (), {}),
           ("GLU", (0,), {}), ("Hardtanh", (-0.5, 2.0), {}), ("ReLU6", (), {}), ("Hardsigmoid", (), {}),
           ("Hardswish", (), {}), ("LogSigmoid", (), {}), ("Mish", (), {}), ("Softplus", (), {"beta": 2.0}),
           ("Softsign", (), {}), ("Tanhshrink", (), {}), ("Softmin", (1,), {}), ("PReLU", (), {}),
           ("PReLU", (4,), {"init": 0.1}), ("ELU", (), {"inplace": True}), ("ReLU6", (), {"inplace": True})]


@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_activation_modules_match_pytorch(name, args, kwargs, torch):
    mine, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mine) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in mine.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    copy_weights(theirs, mine)
    values = (np.random.default_rng(0).standard_normal((2, 4, 6)) * 3).astype(np.float32)
    x, t = minidl.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours, expected = mine(x * 1.0), theirs(t * 1.0)  # * 1.0: inplace modules may not edit a leaf
    np.testing.assert_allclose(as_numpy(ours), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    upstream = np.random.default_rng(1).standard_normal(ours.shape).astype(np.float32)
    ours.backward(minidl.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(as_numpy(x.grad), t.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (n, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(as_numpy(p.grad), q.grad.numpy(), rtol=1e-5, err_msg=n)


def test_inplace_activation_writes_into_its_input():
    x = minidl.tensor([-1.0, 2.0, 7.0])
    assert F.relu6(x, inplace=True) is x and x.tolist() == [0.0, 2.0, 6.0]
    leaf = minidl.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(minidl.AutogradError, match="leaf"):
        F.elu(leaf, inplace=True)
    y = leaf * 2.0
    F.elu(y, inplace=True).sum().backward()
    np.testing.assert_allclose(as_numpy(leaf.grad), [2 * math.exp(-2.0), 2.0], rtol=1e-6)


LOSS_MODULES = [("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}), ("HuberLoss", {}),
                ("HuberLoss", {"delta": 2.0, "reduction": "none"}), ("SmoothL1Loss", {"reduce": False})]


@pytest.mark.parametrize("name, kwargs", LOSS_MODULES)
def test_loss_modules_match_pytorch(name, kwargs, torch):
    mine, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(mine) == repr(theirs)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4))
    np.testing.assert_allclose(as_numpy(mine(minidl.tensor(a), minidl.tensor(b))),
                               theirs(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-12)


def test_distance_modules_match_pytorch(torch):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    target = [1, -1, 1]
    for mine, theirs, args in (
            (nn.CosineSimilarity(), torch.nn.CosineSimilarity(), (a, b)),
            (nn.CosineSimilarity(dim=0, eps=1e-3), torch.nn.CosineSimilarity(dim=0, eps=1e-3), (a, b)),
            (nn.PairwiseDistance(), torch.nn.PairwiseDistance(), (a, b)),
            (nn.PairwiseDistance(p=1.0, keepdim=True), torch.nn.PairwiseDistance(p=1.0, keepdim=True), (a, b)),
            (nn.CosineEmbeddingLoss(margin=0.2), torch.nn.CosineEmbeddingLoss(margin=0.2), (a, b, target))):
        assert repr(mine) == repr(theirs)
        ours = mine(*(minidl.tensor(v) for v in args))
        np.testing.assert_allclose(as_numpy(ours), theirs(*(torch.tensor(v) for v in args)).numpy(), rtol=1e-12)
    one = F.cosine_embedding_loss(minidl.tensor(a[0]), minidl.tensor(b[0]), minidl.tensor(-1))
    expected = torch.nn.functional.cosine_embedding_loss(torch.tensor(a[0]), torch.tensor(b[0]), torch.tensor(-1))
    np.testing.assert_allclose(one.item(), expected.item(), rtol=1e-12)


def test_cosine_similarity_of_a_zero_vector_is_zero_not_nan():
    zero, other = minidl.zeros(1, 3, requires_grad=True), minidl.tensor([[1.0, 2.0, 2.0]])
    result = F.cosine_similarity(zero, other)
    result.backward(minidl.ones(1))
    assert result.tolist() == [0.0] and np.isfinite(as_numpy(zero.grad)).all()


def test_cdist_and_dist_of_equal_points_have_zero_gradients():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    distances = minidl.cdist(x, x.detach())
    distances.sum().backward()
    assert np.allclose(np.diag(as_numpy(distances)), 0) and np.isfinite(as_numpy(x.grad)).all()
    y = minidl.tensor([1.0, 2.0], requires_grad=True)
    minidl.dist(y, y.detach()).backward()
    assert y.grad.tolist() == [0.0, 0.0]


# --- number types, printing, switches -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_pytorch(name, torch):
    ours, theirs = minidl.finfo(getattr(minidl, name)), torch.finfo(getattr(torch, name))
    for attribute in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        assert type(getattr(ours, attribute)) is type(getattr(theirs, attribute)), attribute
    assert ours.dtype == theirs.dtype == name and repr(ours) == repr(theirs)


def test_finfo_default_and_iinfo_match_pytorch(torch):
    assert minidl.finfo().eps == torch.finfo().eps == np.finfo(np.float32).eps
    for name in ("int8", "int16", "int32", "int64", "uint8"):
        ours, theirs = minidl.iinfo(getattr(minidl, name)), torch.iinfo(getattr(torch, name))
        assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
        assert repr(ours) == repr(theirs)
    assert minidl.finfo(minidl.zeros(1).dtype).max == np.finfo(np.float32).max


@pytest.fixture
def print_options():
    yield
    minidl.set_printoptions(profile="default")


def test_set_printoptions_changes_repr(print_options):
    minidl.set_printoptions(precision=2)
    assert repr(minidl.tensor([1.23456, 2.5])) == "tensor([1.23, 2.5 ])"
    minidl.set_printoptions(threshold=5, edgeitems=2)
    assert repr(minidl.arange(10)) == "tensor([0, 1, ..., 8, 9])"
    minidl.set_printoptions(profile="full")
    assert "..." not in repr(minidl.arange(2000))
    minidl.set_printoptions(profile="default", sci_mode=True)
    assert repr(minidl.tensor([1.5, 20.0])) == "tensor([1.5000e+00, 2.0000e+01])"
    minidl.set_printoptions(profile="default")
    assert repr(minidl.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    minidl.set_printoptions(linewidth=20)
    assert repr(minidl.arange(30)).count("\n") >= 4 and max(map(len, repr(minidl.arange(30)).split("\n"))) <= 20


def test_float32_matmul_precision_and_determinism_are_remembered():
    assert minidl.get_float32_matmul_precision() == "highest"
    try:
        minidl.set_float32_matmul_precision("medium")
        assert minidl.get_float32_matmul_precision() == "medium"
        a = minidl.randn(8, 8)
        np.testing.assert_array_equal(as_numpy(a @ a), as_numpy(a) @ as_numpy(a))  # still full float32
    finally:
        minidl.set_float32_matmul_precision("highest")
    assert not minidl.are_deterministic_algorithms_enabled()
    try:
        minidl.use_deterministic_algorithms(True, warn_only=True)
        assert minidl.are_deterministic_algorithms_enabled() and minidl.is_deterministic_algorithms_warn_only_enabled()
    finally:
        minidl.use_deterministic_algorithms(False)
    assert not minidl.are_deterministic_algorithms_enabled()


METHODS = [("tan", ()), ("asin", ()), ("acos", ()), ("atan", ()), ("atan2", ("y",)), ("erf", ()), ("erfinv", ()),
           ("expm1", ()), ("log1p", ()), ("log2", ("abs",)), ("log10", ("abs",)), ("exp2", ()), ("rsqrt", ("abs",)),
           ("reciprocal", ()), ("square", ()), ("logaddexp", ("y",)), ("lerp", ("y", 0.25)), ("clamp_min", (0.1,)),
           ("clamp_max", (0.1,)), ("sign", ()), ("floor", ()), ("ceil", ()), ("trunc", ()), ("remainder", ("y",)),
           ("fmod", ("y",)), ("floor_divide", ("y",)), ("logical_and", ("y",)), ("logical_or", ("y",)),
           ("logical_xor", ("y",)), ("isclose", ("y",)), ("count_nonzero", (1,)), ("nonzero", ()), ("unique", ()),
           ("prod", (1, True)), ("cumprod", (0,)), ("median", (1,)), ("mm", ("yT",)), ("kron", ("y",)),
           ("trace", ()), ("diag", (1,)), ("diagonal", (1, 1, 0)), ("roll", (1, 0)), ("masked_select", ("mask",)),
           ("swapaxes", (0, 1)), ("swapdims", (1, 0)), ("nan_to_num", (0.5,)), ("dist", ("y", 3))]


@pytest.mark.parametrize("name, args", METHODS, ids=[name for name, _ in METHODS])
def test_each_tensor_method_is_its_function(name, args):
    rng = np.random.default_rng(5)
    x, y = (minidl.tensor(rng.uniform(-0.9, 0.9, (3, 3)).astype(np.float32)) for _ in range(2))
    named = {"y": y, "yT": y.T, "abs": None, "mask": x > 0}
    arguments = [named[a] if isinstance(a, str) else a for a in args if a != "abs"]
    if "abs" in args:
        x = x.abs() + 0.5
    method, function = getattr(x, name)(*arguments), getattr(minidl, name)(x, *arguments)
    for ours, expected in zip(method if isinstance(method, tuple) else (method,),
                              function if isinstance(function, tuple) else (function,)):
        np.testing.assert_array_equal(as_numpy(ours), as_numpy(expected))


def test_product_and_picking_methods():
    assert minidl.tensor([1.0, 2.0]).dot(minidl.tensor([3.0, 4.0])).item() == 11.0
    assert minidl.tensor([1.0, 2.0]).outer(minidl.tensor([3.0])).tolist() == [[3.0], [6.0]]
    assert minidl.ones(2).addmm(minidl.ones(2, 3), minidl.ones(3, 2), beta=2, alpha=0.5).tolist() == [[3.5, 3.5]] * 2
    assert minidl.ones(2, 3).take_along_dim(minidl.tensor([[2], [0]]), 1).tolist() == [[1.0], [1.0]]
    assert minidl.tensor([[1.0, 0.0, 0.0]]).cross(minidl.tensor([[0.0, 1.0, 0.0]])).tolist() == [[0.0, 0.0, 1.0]]
    assert minidl.ones(1, 2, 2).baddbmm(minidl.ones(1, 2, 3), minidl.ones(1, 3, 2), beta=0).tolist() == [[[3.0] * 2] * 2]
    assert minidl.tensor([0.5, -1.5]).round().tolist() == [0.0, -2.0] and minidl.ones(2).is_floating_point()


# --- results by name, as PyTorch's return types -------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda x: minidl.sort(x, 1), lambda x: x.sort(descending=True), lambda x: minidl.topk(x, 2),
    lambda x: x.topk(1, dim=0, largest=False), lambda x: x.max(dim=1), lambda x: minidl.min(x, 0),
    lambda x: x.median(1), lambda x: minidl.kthvalue(x, 2, 1), lambda x: minidl.cummax(x, 1),
], ids=["sort", "Tensor.sort", "topk", "Tensor.topk", "Tensor.max", "min", "Tensor.median", "kthvalue", "cummax"])
def test_values_and_indices_are_named_as_pytorchs(call):
    x = minidl.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
    result = call(x)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert indices.dtype == minidl.int64 and values.dtype == x.dtype
