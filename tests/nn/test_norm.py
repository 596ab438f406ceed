"""BatchNorm1d, BatchNorm2d and LayerNorm: gradcheck, PyTorch parity (same weights, train and eval,
running statistics after several steps) and the conventions of conventions.md."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn
from minidl.testing import gradcheck
from conftest import as_numpy, copy_weights, leaf, with_params

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)  # tiny tensors: threads only contend for the shared cores

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- helpers ------------------------------------------------------------------------------------------------

def randomise(theirs, seed=0):
    """Non-trivial affine parameters (γ ≠ 1, β ≠ 0) so that their gradients are tested properly."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in theirs.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=param.dtype))
    return theirs


def bn_pair(name, channels, seed=0, **options):
    theirs = randomise(getattr(torch.nn, name)(channels, **options).double(), seed)
    ours = copy_weights(theirs, getattr(nn, name)(channels, dtype=np.float64, **options))
    return ours, theirs


def ln_pair(shape, seed=0, **options):
    theirs = randomise(torch.nn.LayerNorm(shape, **options).double(), seed)
    ours = copy_weights(theirs, nn.LayerNorm(shape, dtype=np.float64, **options))
    return ours, theirs


def step(ours, theirs, x, upstream, tol=1e-10):
    """One forward and backward through both; compare output, input gradient and parameter gradients."""
    for module in (ours, theirs):
        for param in module.parameters():
            param.grad = None
    x_ours, x_theirs = leaf(x), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(as_numpy(out_ours), out_theirs.detach().numpy(), rtol=tol, atol=tol)
    out_ours.backward(minidl.tensor(upstream))
    out_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-8, atol=1e-9)
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-8, atol=1e-9,
                                   err_msg=f"gradient of {name}")
    return out_ours


def compare_buffers(ours, theirs):
    mine = dict(ours.named_buffers())
    reference = dict(theirs.named_buffers())
    assert list(mine) == list(reference)
    for name, buffer in reference.items():
        np.testing.assert_allclose(as_numpy(mine[name]), buffer.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        assert as_numpy(mine[name]).dtype == buffer.numpy().dtype, name


BN_SHAPES = {"1d-NC": ("BatchNorm1d", (4, 3)), "1d-NCL": ("BatchNorm1d", (3, 3, 4)),
             "2d": ("BatchNorm2d", (2, 3, 3, 2))}


# --- BatchNorm: PyTorch parity ---------------------------------------------------------------------------------

@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("kind", list(BN_SHAPES))
def test_batchnorm_train_then_eval_matches_torch(kind, momentum):
    name, shape = BN_SHAPES[kind]
    ours, theirs = bn_pair(name, shape[1], momentum=momentum)
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = rng.standard_normal(shape) * 3 + rng.standard_normal(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))
        step(ours, theirs, x, rng.standard_normal(shape))
    compare_buffers(ours, theirs)
    assert int(ours.num_batches_tracked.item()) == 4
    ours.eval(), theirs.eval()
    step(ours, theirs, rng.standard_normal(shape), rng.standard_normal(shape))
    compare_buffers(ours, theirs)  # eval changes nothing
    assert int(ours.num_batches_tracked.item()) == 4


@SETTINGS
@given(kind=st.sampled_from(list(BN_SHAPES)), batch=st.integers(2, 4), channels=st.integers(1, 3),
       spatial=st.integers(1, 3), affine=st.booleans(), track=st.booleans(),
       momentum=st.sampled_from([0.1, None, 0.3]), seed=st.integers(0, 2**16))
def test_batchnorm_options_match_torch(kind, batch, channels, spatial, affine, track, momentum, seed):
    name, template = BN_SHAPES[kind]
    shape = (batch, channels) + (spatial,) * (len(template) - 2)
    ours, theirs = bn_pair(name, channels, seed, affine=affine, track_running_stats=track, momentum=momentum)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(seed)
    for _ in range(2):
        step(ours, theirs, rng.standard_normal(shape) + 1.5, rng.standard_normal(shape))
    ours.eval(), theirs.eval()
    step(ours, theirs, rng.standard_normal(shape), rng.standard_normal(shape))
    compare_buffers(ours, theirs)


def test_batchnorm_running_stats_under_no_grad_match_torch():
    ours, theirs = bn_pair("BatchNorm2d", 2, affine=False)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((3, 2, 2, 2)) * 2 + 1
        with minidl.no_grad():
            out = ours(minidl.tensor(x))
        with torch.no_grad():
            expected = theirs(torch.tensor(x))
        np.testing.assert_allclose(as_numpy(out), expected.numpy(), rtol=1e-10, atol=1e-12)
    compare_buffers(ours, theirs)


# --- BatchNorm: conventions by hand ----------------------------------------------------------------------------

def test_batchnorm_biased_variance_for_normalising_unbiased_for_running_var():
    layer = nn.BatchNorm1d(1, dtype=np.float64)
    out = layer(minidl.tensor(np.array([[0.0], [2.0]])))
    # batch mean 1, biased variance 1 (unbiased would be 2)
    np.testing.assert_allclose(as_numpy(out).ravel(), np.array([-1.0, 1.0]) / np.sqrt(1 + 1e-5))
    np.testing.assert_allclose(as_numpy(layer.running_mean), [0.9 * 0 + 0.1 * 1.0])
    np.testing.assert_allclose(as_numpy(layer.running_var), [0.9 * 1 + 0.1 * 2.0])  # unbiased: 2 = 2/(2-1)
    assert int(layer.num_batches_tracked.item()) == 1


def test_batchnorm2d_counts_batch_and_spatial_positions():
    """N = B·H·W per channel: the unbiased correction uses N/(N-1) with that N."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 3, 3))
    layer = nn.BatchNorm2d(2, momentum=1.0, dtype=np.float64)
    out = as_numpy(layer(minidl.tensor(x)))
    per_channel = x.transpose(1, 0, 2, 3).reshape(2, -1)
    np.testing.assert_allclose(as_numpy(layer.running_mean), per_channel.mean(1))
    np.testing.assert_allclose(as_numpy(layer.running_var), per_channel.var(1, ddof=1))
    expected = (x - per_channel.mean(1)[None, :, None, None]) / np.sqrt(per_channel.var(1)[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_batchnorm_initial_buffers_and_eval_uses_running_stats():
    layer = nn.BatchNorm1d(3)
    np.testing.assert_array_equal(as_numpy(layer.running_mean), 0)
    np.testing.assert_array_equal(as_numpy(layer.running_var), 1)
    assert layer.num_batches_tracked.dtype == np.int64 and int(layer.num_batches_tracked.item()) == 0
    assert layer.eps == 1e-5 and layer.momentum == 0.1
    np.testing.assert_array_equal(as_numpy(layer.weight), 1)
    np.testing.assert_array_equal(as_numpy(layer.bias), 0)
    layer.running_mean.array[...] = [1.0, 2.0, 3.0]
    layer.running_var.array[...] = [4.0, 1.0, 0.25]
    layer.eval()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    expected = (x - [1.0, 2.0, 3.0]) / np.sqrt(np.array([4.0, 1.0, 0.25]) + 1e-5)
    np.testing.assert_allclose(as_numpy(layer(minidl.tensor(x))), expected, rtol=1e-6)


def test_batchnorm_momentum_none_is_cumulative_average():
    layer = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((5, 2)) * (i + 1) + i for i in range(4)]
    for batch in batches:
        layer(minidl.tensor(batch))
    np.testing.assert_allclose(as_numpy(layer.running_mean), np.mean([b.mean(0) for b in batches], axis=0))
    # running_var starts at 1 but the first cumulative step has weight 1, so it is forgotten
    np.testing.assert_allclose(as_numpy(layer.running_var), np.mean([b.var(0, ddof=1) for b in batches], axis=0))
    assert int(layer.num_batches_tracked.item()) == 4


@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (1, 3)), ("BatchNorm1d", (1, 3, 1)),
                                         ("BatchNorm2d", (1, 3, 1, 1))])
def test_batchnorm_one_value_per_channel(name, shape):
    ours, theirs = bn_pair(name, 3)
    x = np.random.default_rng(0).standard_normal(shape)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        ours(minidl.tensor(x))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        theirs(torch.tensor(x))
    # in eval mode the running statistics are used, so a single value is fine
    ours.eval(), theirs.eval()
    step(ours, theirs, x, np.ones(shape))
    # without running statistics eval mode still uses batch statistics: the error again
    untracked = getattr(nn, name)(3, track_running_stats=False).eval()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        untracked(minidl.tensor(x.astype(np.float32)))


def test_batchnorm_affine_false_has_no_parameters():
    ours, theirs = bn_pair("BatchNorm1d", 3, affine=False)
    assert ours.weight is None and ours.bias is None and list(ours.parameters()) == []
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["running_mean", "running_var", "num_batches_tracked"]
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    step(ours, theirs, x, np.random.default_rng(1).standard_normal((4, 3, 2)))
    compare_buffers(ours, theirs)


def test_batchnorm_bias_false_matches_torch():
    """PyTorch (2.13) BatchNorm takes a keyword-only ``bias``: bias=False keeps γ and drops β."""
    ours, theirs = bn_pair("BatchNorm1d", 3, bias=False)
    assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    step(ours, theirs, rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))
    compare_buffers(ours, theirs)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    ours, theirs = bn_pair("BatchNorm2d", 2, track_running_stats=False)
    assert ours.running_mean is None and ours.running_var is None and ours.num_batches_tracked is None
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert list(ours.buffers()) == []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 2, 2)) * 4 + 2
    train_out = step(ours, theirs, x, rng.standard_normal(x.shape))
    ours.eval(), theirs.eval()
    eval_out = step(ours, theirs, x, rng.standard_normal(x.shape))
    np.testing.assert_allclose(as_numpy(eval_out), as_numpy(train_out))


def test_batchnorm_reset_running_stats():
    layer = nn.BatchNorm1d(2)
    layer(minidl.randn(4, 2) * 3 + 1)
    layer.reset_running_stats()
    np.testing.assert_array_equal(as_numpy(layer.running_mean), 0)
    np.testing.assert_array_equal(as_numpy(layer.running_var), 1)
    assert int(layer.num_batches_tracked.item()) == 0


def test_batchnorm_keeps_float32():
    layer = nn.BatchNorm2d(3)
    out = layer(minidl.randn(2, 3, 2, 2))
    assert out.dtype == np.float32
    assert layer.running_mean.dtype == np.float32 and layer.running_var.dtype == np.float32


@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (2, 4)), ("BatchNorm1d", (2, 3, 2, 2)),
                                         ("BatchNorm1d", (3,)), ("BatchNorm2d", (2, 3, 4)),
                                         ("BatchNorm2d", (2, 4, 2, 2))])
def test_batchnorm_wrong_shapes_raise_value_error(name, shape):
    with pytest.raises(ValueError, match=name):
        getattr(nn, name)(3)(minidl.randn(*shape))


@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False, "eps": 1e-3},
                                     {"track_running_stats": False}])
@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_batchnorm_repr_matches_torch(name, options):
    assert repr(getattr(nn, name)(4, **options)) == repr(getattr(torch.nn, name)(4, **options))


# --- BatchNorm: gradcheck --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(BN_SHAPES))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm_gradcheck_input_and_parameters(kind, training):
    name, shape = BN_SHAPES[kind]
    layer = getattr(nn, name)(shape[1], dtype=np.float64)
    layer.running_mean.array[...] = [0.5, -1.0, 0.2]
    layer.running_var.array[...] = [2.0, 0.5, 1.5]
    layer.train(training)
    rng = np.random.default_rng(0)
    run = with_params(layer, ["weight", "bias"])
    x = leaf(rng.standard_normal(shape))
    weight, bias = leaf(rng.standard_normal(shape[1])), leaf(rng.standard_normal(shape[1]))
    assert gradcheck(lambda x, w, b: run(lambda: layer(x), w, b), [x, weight, bias])


def test_batchnorm_gradcheck_affine_false():
    layer = nn.BatchNorm2d(2, affine=False, dtype=np.float64)
    assert gradcheck(layer, [leaf(np.random.default_rng(0).standard_normal((2, 2, 2, 2)))])


# --- LayerNorm -------------------------------------------------------------------------------------------------

LN_CASES = {"rows-int": ((3, 5, 8), 8), "rows-tuple": ((3, 5, 8), (8,)), "two-dims": ((3, 5, 8), (5, 8)),
            "2d": ((4, 6), (6,)), "whole": ((2, 3, 4), (2, 3, 4)), "1d": ((5,), 5)}


@pytest.mark.parametrize("affine", [{}, {"elementwise_affine": False}, {"bias": False}],
                         ids=["affine", "no-affine", "no-bias"])
@pytest.mark.parametrize("case", list(LN_CASES))
def test_layernorm_matches_torch(case, affine):
    shape, normalized = LN_CASES[case]
    ours, theirs = ln_pair(normalized, **affine)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    step(ours, theirs, rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape))


@SETTINGS
@given(lead=st.lists(st.integers(1, 4), max_size=2).map(tuple),
       normalized=st.lists(st.integers(1, 5), min_size=1, max_size=2).map(tuple),
       affine=st.sampled_from([{}, {"elementwise_affine": False}, {"bias": False}]),
       eps=st.sampled_from([1e-5, 1e-2]), seed=st.integers(0, 2**16))
def test_layernorm_shapes_match_torch(lead, normalized, affine, eps, seed):
    ours, theirs = ln_pair(normalized, seed, eps=eps, **affine)
    rng = np.random.default_rng(seed)
    shape = lead + normalized
    step(ours, theirs, rng.standard_normal(shape) * 3, rng.standard_normal(shape))


@pytest.mark.parametrize("shape, normalized", [((2, 3, 4), 4), ((2, 3, 4), (3, 4)), ((2, 3, 2), (2, 3, 2))],
                         ids=["rows-int", "two-dims", "whole"])
def test_layernorm_gradcheck_input_and_parameters(shape, normalized):
    layer = nn.LayerNorm(normalized, dtype=np.float64)
    rng = np.random.default_rng(0)
    run = with_params(layer, ["weight", "bias"])
    x = leaf(rng.standard_normal(shape))
    pshape = layer.normalized_shape
    weight, bias = leaf(rng.standard_normal(pshape)), leaf(rng.standard_normal(pshape))
    assert gradcheck(lambda x, w, b: run(lambda: layer(x), w, b), [x, weight, bias])


def test_layernorm_gradcheck_without_affine_and_without_bias():
    x = leaf(np.random.default_rng(0).standard_normal((3, 4)))
    assert gradcheck(nn.LayerNorm(4, elementwise_affine=False, dtype=np.float64), [x])
    layer = nn.LayerNorm(4, bias=False, dtype=np.float64)
    run = with_params(layer, ["weight"])
    weight = leaf(np.random.default_rng(1).standard_normal(4))
    assert gradcheck(lambda x, w: run(lambda: layer(x), w), [x, weight])


def test_layernorm_by_hand_biased_variance_and_defaults():
    layer = nn.LayerNorm(2, dtype=np.float64)
    assert layer.normalized_shape == (2,) and layer.eps == 1e-5
    np.testing.assert_array_equal(as_numpy(layer.weight), 1)
    np.testing.assert_array_equal(as_numpy(layer.bias), 0)
    out = layer(minidl.tensor(np.array([[0.0, 2.0], [5.0, 5.0]])))
    np.testing.assert_allclose(as_numpy(out), [[-1 / np.sqrt(1 + 1e-5), 1 / np.sqrt(1 + 1e-5)], [0.0, 0.0]])


def test_layernorm_int_and_tuple_shape_are_the_same():
    assert nn.LayerNorm(8).normalized_shape == nn.LayerNorm((8,)).normalized_shape == (8,)
    assert nn.LayerNorm([5, 8]).normalized_shape == (5, 8)
    assert nn.LayerNorm((5, 8)).weight.shape == (5, 8)


def test_layernorm_parameters():
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    no_bias = nn.LayerNorm(4, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert nn.LayerNorm(4)(minidl.randn(2, 4)).dtype == np.float32


@pytest.mark.parametrize("normalized, shape", [((8,), (3, 5)), ((5, 8), (3, 8, 5)), ((3, 5, 8), (5, 8))])
def test_layernorm_shape_mismatch_raises(normalized, shape):
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(normalized)(minidl.randn(*shape))


@pytest.mark.parametrize("options", [{}, {"eps": 1e-3}, {"elementwise_affine": False}])
@pytest.mark.parametrize("shape", [8, (5, 8)])
def test_layernorm_repr_matches_torch(shape, options):
    assert repr(nn.LayerNorm(shape, **options)) == repr(torch.nn.LayerNorm(shape, **options))
