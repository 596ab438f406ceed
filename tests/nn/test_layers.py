"""Basic layers: Linear, Embedding, Dropout, Flatten, Identity and the activation modules.

Each layer is checked with ``gradcheck`` in float64 (inputs and parameters), with hypothesis
over shapes and options, and against PyTorch holding the same weights (copied with
``load_state_dict``), forward and every gradient.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.testing import gradcheck
from conftest import as_numpy, copy_weights, leaf, with_params

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)  # tiny tensors: threads only contend for the shared cores

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- helpers ------------------------------------------------------------------------------------------------

def check_parity(ours, theirs, x_array, seed=0, rtol=1e-10, atol=1e-12, x_grad=True):
    """Same input and upstream gradient through both modules: compare output, input grad, parameter grads."""
    x_ours = minidl.tensor(x_array, requires_grad=x_grad)
    x_theirs = torch.tensor(x_array, requires_grad=x_grad)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(as_numpy(out_ours), out_theirs.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    out_ours.backward(minidl.tensor(upstream.astype(out_ours.dtype)))
    out_theirs.backward(torch.tensor(upstream, dtype=out_theirs.dtype))
    if x_grad:
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=rtol, atol=atol)
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, param in theirs_params.items():
        assert ours_params[name].grad is not None, f"no gradient for {name}"
        np.testing.assert_allclose(ours_params[name].grad.numpy(), param.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")
    return out_ours


# --- Linear ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(), (3,), (2, 3)], ids=["1d", "2d", "3d"])
def test_linear_gradcheck_input_and_parameters(bias, lead):
    layer = nn.Linear(3, 2, bias=bias, dtype=np.float64)
    names = ["weight", "bias"] if bias else ["weight"]
    run = with_params(layer, names)
    x = leaf(np.random.default_rng(1).standard_normal(lead + (3,)))
    params = [leaf(as_numpy(getattr(layer, name))) for name in names]
    assert gradcheck(lambda x, *ps: run(lambda: layer(x), *ps), [x, *params])


@SETTINGS
@given(in_features=st.integers(1, 5), out_features=st.integers(1, 4), bias=st.booleans(),
       lead=st.lists(st.integers(1, 3), max_size=2).map(tuple), seed=st.integers(0, 2**16))
def test_linear_matches_torch(in_features, out_features, bias, lead, seed):
    theirs = torch.nn.Linear(in_features, out_features, bias=bias).double()
    ours = copy_weights(theirs, nn.Linear(in_features, out_features, bias=bias, dtype=np.float64))
    x = np.random.default_rng(seed).standard_normal(lead + (in_features,))
    out = check_parity(ours, theirs, x, seed)
    assert out.shape == lead + (out_features,)


def test_linear_parameters_shapes_dtype_and_state_dict_keys():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    assert list(layer.state_dict()) == list(torch.nn.Linear(4, 3).state_dict()) == ["weight", "bias"]
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None
    assert list(no_bias.state_dict()) == list(torch.nn.Linear(4, 3, bias=False).state_dict()) == ["weight"]
    assert [name for name, _ in no_bias.named_parameters()] == ["weight"]
    out = layer(minidl.randn(2, 4))
    assert out.dtype == np.float32  # float32 stays float32


def test_linear_errors_name_the_shapes():
    layer = nn.Linear(4, 3)
    with pytest.raises(ShapeError, match=r"\(2, 5\).*\(3, 4\)"):
        layer(minidl.randn(2, 5))
    with pytest.raises(TypeError, match="dtype"):
        layer(minidl.randn(2, 4).double())


def test_linear_repr_matches_torch():
    assert repr(nn.Linear(4, 3)) == repr(torch.nn.Linear(4, 3))
    assert repr(nn.Linear(4, 3, bias=False)) == repr(torch.nn.Linear(4, 3, bias=False))


# --- Embedding ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(padding_idx):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    ours = copy_weights(theirs, nn.Embedding(6, 4, padding_idx=padding_idx, dtype=np.float64))
    assert ours.padding_idx == theirs.padding_idx
    ids = np.array([[0, 1, 5, 1], [3, 3, 3, 2]])
    out = check_parity(ours, theirs, ids, x_grad=False)
    assert out.shape == (2, 4, 4)
    assert repr(ours) == repr(theirs)


@SETTINGS
@given(num=st.integers(1, 6), dim=st.integers(1, 4), ids_shape=st.lists(st.integers(1, 3), max_size=3).map(tuple),
       padding=st.booleans(), seed=st.integers(0, 2**16))
def test_embedding_shapes_match_torch(num, dim, ids_shape, padding, seed):
    rng = np.random.default_rng(seed)
    padding_idx = int(rng.integers(-num, num)) if padding else None
    torch.manual_seed(seed)
    theirs = torch.nn.Embedding(num, dim, padding_idx=padding_idx).double()
    ours = copy_weights(theirs, nn.Embedding(num, dim, padding_idx=padding_idx, dtype=np.float64))
    out = check_parity(ours, theirs, rng.integers(0, num, ids_shape), seed, x_grad=False)
    assert out.shape == ids_shape + (dim,)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    minidl.manual_seed(0)
    layer = nn.Embedding(5, 3, padding_idx=2)
    np.testing.assert_array_equal(as_numpy(layer.weight)[2], 0)
    assert np.all(as_numpy(layer.weight)[[0, 1, 3, 4]] != 0)
    out = layer(minidl.tensor([[2, 2, 1], [0, 2, 4]]))
    np.testing.assert_array_equal(as_numpy(out)[0, 0], 0)
    (out * minidl.randn(2, 3, 3)).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[2], 0)
    assert np.all(layer.weight.grad.numpy()[[0, 1, 4]] != 0)
    np.testing.assert_array_equal(layer.weight.grad.numpy()[3], 0)  # not looked up


def test_embedding_negative_padding_idx_is_normalised():
    layer = nn.Embedding(5, 2, padding_idx=-2)
    assert layer.padding_idx == torch.nn.Embedding(5, 2, padding_idx=-2).padding_idx == 3
    np.testing.assert_array_equal(as_numpy(layer.weight)[3], 0)


def test_embedding_repeated_ids_accumulate():
    layer = nn.Embedding(4, 3, dtype=np.float64)
    g = np.arange(12, dtype=np.float64).reshape(4, 3)
    layer(minidl.tensor([1, 1, 2, 1])).backward(minidl.tensor(g))
    expected = np.zeros((4, 3))
    expected[1] = g[0] + g[1] + g[3]
    expected[2] = g[2]
    np.testing.assert_array_equal(layer.weight.grad.numpy(), expected)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_gradcheck_weight(padding_idx):
    """The padding row is deliberately excluded from the gradient, so it is not looked up here."""
    layer = nn.Embedding(4, 3, padding_idx=padding_idx, dtype=np.float64)
    run = with_params(layer, ["weight"])
    ids = minidl.tensor([[0, 2, 3], [3, 3, 2]])
    weight = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    assert gradcheck(lambda w: run(lambda: layer(ids), w), [weight])


@pytest.mark.parametrize("bad", [5, -1])
def test_embedding_out_of_range_id_raises_index_error(bad):
    layer = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        layer(minidl.tensor([0, bad]))


def test_embedding_argument_errors():
    with pytest.raises(TypeError, match="integer"):
        nn.Embedding(5, 2)(minidl.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_default_init_is_standard_normal():
    minidl.manual_seed(0)
    weight = as_numpy(nn.Embedding(400, 250).weight)
    assert abs(weight.mean()) < 0.01 and abs(weight.std() - 1) < 0.01


# --- Dropout --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_zeroes_with_probability_p_and_scales_by_one_over_keep(p):
    minidl.manual_seed(0)
    n = 100_000
    x = minidl.tensor(np.linspace(1, 2, n, dtype=np.float32), requires_grad=True)
    layer = nn.Dropout(p)
    out = layer(x)
    assert out.dtype == np.float32
    values, inputs = as_numpy(out), as_numpy(x)
    dropped = values == 0
    # binomial: 5 standard deviations
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(values[~dropped], inputs[~dropped] / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0, 1 / (1 - p)), rtol=1e-6)


def test_dropout_eval_is_identity_and_train_toggles():
    layer = nn.Dropout(0.5)
    x = minidl.randn(50, 40, requires_grad=True)
    layer.eval()
    out = layer(x)
    np.testing.assert_array_equal(as_numpy(out), as_numpy(x))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 1)
    layer.train()
    assert (as_numpy(layer(x)) == 0).any()
    np.testing.assert_array_equal(as_numpy(F.dropout(x, 0.5, training=False)), as_numpy(x))


def test_dropout_p_zero_and_p_one():
    x = minidl.randn(20, 30, requires_grad=True)
    np.testing.assert_array_equal(as_numpy(nn.Dropout(0.0)(x)), as_numpy(x))
    out = nn.Dropout(1.0)(x)
    np.testing.assert_array_equal(as_numpy(out), 0)
    assert out.shape == x.shape
    out.sum().backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    np.testing.assert_array_equal(grad, 0)
    # torch agrees on both edge cases
    t = torch.randn(20, 30)
    assert torch.equal(torch.nn.Dropout(1.0)(t), torch.zeros(20, 30))
    assert torch.equal(torch.nn.Dropout(0.0)(t), t)


def test_dropout_is_reproducible_with_manual_seed():
    x = minidl.ones(1000)
    minidl.manual_seed(123)
    first = as_numpy(F.dropout(x, 0.5))
    second_in_sequence = as_numpy(F.dropout(x, 0.5))
    minidl.manual_seed(123)
    again = as_numpy(nn.Dropout(0.5)(x))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second_in_sequence)
    minidl.manual_seed(124)
    assert not np.array_equal(first, as_numpy(F.dropout(x, 0.5)))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p_raises_value_error(p):
    with pytest.raises(ValueError, match="p must be between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="p must be between 0 and 1"):
        F.dropout(minidl.ones(3), p)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), p=st.sampled_from([0.1, 0.5, 0.9]),
       seed=st.integers(0, 2**16))
def test_dropout_gradcheck_with_fixed_mask(shape, p, seed):
    """With the mask fixed by re-seeding, dropout is linear in x: gradcheck its backward."""
    def fn(x):
        minidl.manual_seed(seed)
        return F.dropout(x, p)

    x = leaf(np.random.default_rng(seed).standard_normal(shape))
    out = as_numpy(fn(x))
    kept = out != 0
    np.testing.assert_allclose(out[kept], as_numpy(x)[kept] / (1 - p))
    assert gradcheck(fn, [x])


def test_dropout_repr_matches_torch():
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))
    assert repr(nn.Dropout()) == repr(torch.nn.Dropout())


# --- Flatten and Identity -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", [{}, {"start_dim": 0}, {"start_dim": 1, "end_dim": 2}, {"start_dim": -2}])
def test_flatten_matches_torch(dims):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2))
    ours, theirs = nn.Flatten(**dims), torch.nn.Flatten(**dims)
    check_parity(ours, theirs, x)
    assert repr(ours) == repr(theirs)


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple), data=st.data())
def test_flatten_random_dims_match_torch(shape, data):
    ndim = len(shape)
    start = data.draw(st.integers(-ndim, ndim - 1))
    end = data.draw(st.integers(start % ndim, ndim - 1))
    end = data.draw(st.sampled_from([end, end - ndim]))
    x = np.random.default_rng(0).standard_normal(shape)
    check_parity(nn.Flatten(start, end), torch.nn.Flatten(start, end), x)


def test_flatten_gradcheck():
    assert gradcheck(nn.Flatten(), [leaf(np.random.default_rng(0).standard_normal((2, 3, 2)))])


def test_identity_passes_through_and_ignores_arguments():
    layer = nn.Identity(54, unused="x")
    x = minidl.randn(3, 4, requires_grad=True)
    assert layer(x) is x
    assert repr(layer) == repr(torch.nn.Identity()) == "Identity()"
    assert list(layer.parameters()) == []


# --- activation modules ---------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("ReLU", lambda m: m.ReLU()),
    ("Sigmoid", lambda m: m.Sigmoid()),
    ("Tanh", lambda m: m.Tanh()),
    ("GELU", lambda m: m.GELU()),
    ("GELU-tanh", lambda m: m.GELU(approximate="tanh")),
    ("LeakyReLU", lambda m: m.LeakyReLU()),
    ("LeakyReLU-0.2", lambda m: m.LeakyReLU(0.2)),
    ("Softmax", lambda m: m.Softmax(dim=1)),
    ("Softmax-neg", lambda m: m.Softmax(dim=-1)),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=1)),
]


def away_from_zero(rng, shape):
    """Normal values at least 0.05 from 0 (the kink of ReLU and LeakyReLU)."""
    values = rng.standard_normal(shape)
    return np.where(np.abs(values) < 0.05, np.sign(values + 1e-12) * 0.1, values)


@pytest.mark.parametrize("name, make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_module_matches_torch_and_repr(name, make):
    x = away_from_zero(np.random.default_rng(0), (3, 4, 2))
    ours, theirs = make(nn), make(torch.nn)
    check_parity(ours, theirs, x)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name, make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_module_gradcheck(name, make):
    x = leaf(away_from_zero(np.random.default_rng(1), (2, 3)))
    assert gradcheck(make(nn), [x])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.integers(2, 4), min_size=2, max_size=3).map(tuple), seed=st.integers(0, 2**16),
       scale=st.sampled_from([1.0, 30.0]))
def test_activation_modules_match_torch_over_shapes(shape, seed, scale):
    x = away_from_zero(np.random.default_rng(seed), shape) * scale
    for _, make in ACTIVATIONS:
        check_parity(make(nn), make(torch.nn), x, seed, rtol=1e-9, atol=1e-12)


def test_activation_modules_keep_float32():
    x = minidl.randn(2, 3)
    for _, make in ACTIVATIONS:
        assert make(nn)(x).dtype == np.float32
