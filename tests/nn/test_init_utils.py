"""nn.init (default initialisation of the layers and the init functions, against PyTorch's distributions)
and nn.utils (clip_grad_norm_, clip_grad_value_ against PyTorch)."""

import math

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.nn import init
from conftest import as_numpy

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)  # tiny tensors: threads only contend for the shared cores


@pytest.fixture(autouse=True)
def seeded():
    """Deterministic draws: the statistical bounds below are wide (≥ 5 sigma) but need not be luck."""
    minidl.manual_seed(0)
    torch.manual_seed(0)


def check_uniform(values, bound, reference=None):
    """values ~ U(-bound, bound): inside the bounds, reaching close to them, mean 0 and std bound/√3."""
    values = values.ravel()
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() >= 0.99 * bound
    assert abs(values.mean()) < 5 * bound / math.sqrt(3 * values.size)
    np.testing.assert_allclose(values.std(), bound / math.sqrt(3), rtol=0.03)
    if reference is not None:  # PyTorch's draw for the same layer has the same bounds and spread
        reference = reference.ravel()
        assert np.abs(reference).max() <= bound * (1 + 1e-6)
        np.testing.assert_allclose(values.std(), reference.std(), rtol=0.05)


def check_normal(values, std, mean=0.0, reference=None):
    values = values.ravel()
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    np.testing.assert_allclose(values.std(), std, rtol=0.03)
    # the tails of a normal: about 0.27% beyond 3 std
    assert 0.0005 < np.mean(np.abs(values - mean) > 3 * std) < 0.006
    if reference is not None:
        np.testing.assert_allclose(values.std(), reference.ravel().std(), rtol=0.05)


# --- default initialisation of the layers -------------------------------------------------------------------------

def test_linear_default_init_matches_torch():
    minidl.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Linear(200, 300), torch.nn.Linear(200, 300)
    bound = 1 / math.sqrt(200)  # kaiming_uniform(a=√5) = U(-1/√fan_in, 1/√fan_in)
    check_uniform(as_numpy(ours.weight), bound, as_numpy(theirs.weight))
    wide_ours, wide_theirs = nn.Linear(200, 20000), torch.nn.Linear(200, 20000)
    check_uniform(as_numpy(wide_ours.bias), bound, as_numpy(wide_theirs.bias))


@pytest.mark.parametrize("groups", [1, 4])
def test_conv2d_default_init_matches_torch(groups):
    minidl.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Conv2d(16, 256, 3, groups=groups), torch.nn.Conv2d(16, 256, 3, groups=groups)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    bound = 1 / math.sqrt(16 // groups * 9)  # fan_in = C_in/groups · kH · kW
    check_uniform(as_numpy(ours.weight), bound, as_numpy(theirs.weight))
    wide = nn.Conv2d(16, 20000, 3, groups=groups)
    check_uniform(as_numpy(wide.bias), bound, as_numpy(torch.nn.Conv2d(16, 20000, 3, groups=groups).bias))


def test_embedding_default_init_is_standard_normal_like_torch():
    minidl.manual_seed(0)
    torch.manual_seed(0)
    check_normal(as_numpy(nn.Embedding(500, 200).weight), 1.0, reference=as_numpy(torch.nn.Embedding(500, 200).weight))


@pytest.mark.parametrize("make", [lambda m: m.LayerNorm(7), lambda m: m.LayerNorm((2, 7)), lambda m: m.BatchNorm1d(7),
                                  lambda m: m.BatchNorm2d(7)], ids=["LayerNorm", "LayerNorm2", "BatchNorm1d",
                                                                    "BatchNorm2d"])
def test_norm_layers_start_at_gamma_one_beta_zero(make):
    ours, theirs = make(nn), make(torch.nn)
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_array_equal(as_numpy(mine), reference.detach().numpy(), err_msg=name)
    np.testing.assert_array_equal(as_numpy(ours.weight), 1)
    np.testing.assert_array_equal(as_numpy(ours.bias), 0)


def test_default_init_is_reproducible_with_manual_seed():
    minidl.manual_seed(7)
    first = as_numpy(nn.Linear(5, 4).weight).copy()
    minidl.manual_seed(7)
    np.testing.assert_array_equal(as_numpy(nn.Linear(5, 4).weight), first)


# --- the init functions -------------------------------------------------------------------------------------------

SHAPES = {"matrix": (300, 200), "conv": (64, 32, 3, 3)}


def fans(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_xavier_uniform_bound_and_std(shape, gain):
    shape = SHAPES[shape]
    fan_in, fan_out = fans(shape)
    tensor = init.xavier_uniform_(minidl.empty(*shape), gain=gain)
    reference = torch.nn.init.xavier_uniform_(torch.empty(shape), gain=gain)
    check_uniform(as_numpy(tensor), gain * math.sqrt(6 / (fan_in + fan_out)), reference.numpy())


@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_xavier_normal_std(shape, gain):
    shape = SHAPES[shape]
    fan_in, fan_out = fans(shape)
    tensor = init.xavier_normal_(minidl.empty(*shape), gain=gain)
    reference = torch.nn.init.xavier_normal_(torch.empty(shape), gain=gain)
    check_normal(as_numpy(tensor), gain * math.sqrt(2 / (fan_in + fan_out)), reference=reference.numpy())


KAIMING = [{}, {"a": math.sqrt(5)}, {"mode": "fan_out"}, {"nonlinearity": "relu"},
           {"a": 0.2, "mode": "fan_out", "nonlinearity": "leaky_relu"}, {"nonlinearity": "tanh"}]


@pytest.mark.parametrize("options", KAIMING, ids=[str(o) for o in KAIMING])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_kaiming_uniform_bound(shape, options):
    shape = SHAPES[shape]
    fan_in, fan_out = fans(shape)
    fan = fan_out if options.get("mode") == "fan_out" else fan_in
    gain = torch.nn.init.calculate_gain(options.get("nonlinearity", "leaky_relu"), options.get("a", 0))
    tensor = init.kaiming_uniform_(minidl.empty(*shape), **options)
    reference = torch.nn.init.kaiming_uniform_(torch.empty(shape), **options)
    check_uniform(as_numpy(tensor), gain * math.sqrt(3 / fan), reference.numpy())


@pytest.mark.parametrize("options", KAIMING, ids=[str(o) for o in KAIMING])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_kaiming_normal_std(shape, options):
    shape = SHAPES[shape]
    fan_in, fan_out = fans(shape)
    fan = fan_out if options.get("mode") == "fan_out" else fan_in
    gain = torch.nn.init.calculate_gain(options.get("nonlinearity", "leaky_relu"), options.get("a", 0))
    tensor = init.kaiming_normal_(minidl.empty(*shape), **options)
    reference = torch.nn.init.kaiming_normal_(torch.empty(shape), **options)
    check_normal(as_numpy(tensor), gain / math.sqrt(fan), reference=reference.numpy())


def test_basic_fills_work_in_place_and_keep_dtype_and_leaf():
    param = nn.Parameter(minidl.empty(400, 300))
    assert init.uniform_(param, -2.0, 3.0) is param
    values = as_numpy(param)
    assert values.dtype == np.float32 and values.min() >= -2 and values.max() <= 3
    np.testing.assert_allclose(values.mean(), 0.5, atol=0.02)
    init.normal_(param, 1.5, 0.5)
    check_normal(as_numpy(param), 0.5, mean=1.5)
    assert param.requires_grad and param.grad is None and param.grad_fn is None
    init.constant_(param, 0.25)
    np.testing.assert_array_equal(as_numpy(param), 0.25)
    init.zeros_(param)
    np.testing.assert_array_equal(as_numpy(param), 0)
    init.ones_(param)
    np.testing.assert_array_equal(as_numpy(param), 1)
    double = init.normal_(minidl.empty(3, dtype=minidl.float64))
    assert double.dtype == np.float64


GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
         ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param", GAINS, ids=[f"{n}-{p}" for n, p in GAINS])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_known_values_and_errors():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_init_argument_errors():
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(minidl.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.kaiming_normal_(minidl.empty(5))
    with pytest.raises(ValueError, match="'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(minidl.empty(3, 3), mode="fan_avg")


# --- clip_grad_norm_ and clip_grad_value_ -------------------------------------------------------------------------

def grad_pairs(seed=0, shapes=((3, 4), (5,), (2, 2, 2)), scale=1.0):
    """minidl and PyTorch parameters with the same gradients (float32), plus one without a gradient each."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in shapes:
        grad = (rng.standard_normal(shape) * scale).astype(np.float32)
        mine, reference = nn.Parameter(minidl.zeros(*shape)), torch.nn.Parameter(torch.zeros(shape))
        mine.grad, reference.grad = minidl.tensor(grad), torch.tensor(grad)
        ours.append(mine)
        theirs.append(reference)
    ours.append(nn.Parameter(minidl.zeros(2)))
    theirs.append(torch.nn.Parameter(torch.zeros(2)))
    return ours, theirs


def compare_grads(ours, theirs, rtol=1e-6):
    for mine, reference in zip(ours, theirs):
        if reference.grad is None:
            assert mine.grad is None
        else:
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clips", "no-clip"])
@pytest.mark.parametrize("norm_type", [2, 2.0, 1, 3.0, float("inf"), "inf"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = grad_pairs()
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    reference = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert float(total) == pytest.approx(float(reference), rel=1e-5)
    compare_grads(ours, theirs)
    assert all(p.grad.dtype == np.float32 for p in ours if p.grad is not None)
    if max_norm < 1:  # after clipping, the norm is max_norm (up to the 1e-6 in the denominator)
        flat = np.concatenate([p.grad.numpy().ravel() for p in ours if p.grad is not None])
        order = float(norm_type)
        flat = np.abs(flat.astype(np.float64))
        after = flat.max() if math.isinf(order) else (flat ** order).sum() ** (1 / order)
        assert after == pytest.approx(max_norm, rel=1e-4)


def test_clip_grad_norm_accepts_a_tensor_a_generator_and_nothing():
    layer = nn.Linear(3, 2)
    layer(minidl.ones(1, 3)).sum().backward()
    weight_grad = layer.weight.grad.numpy().copy()
    total = nn.utils.clip_grad_norm_(layer.weight, 0.1)
    assert total == pytest.approx(float(np.linalg.norm(weight_grad)), rel=1e-6)
    np.testing.assert_allclose(np.linalg.norm(layer.weight.grad.numpy()), 0.1, rtol=1e-4)
    total = nn.utils.clip_grad_norm_(layer.parameters(), 10.0)  # a generator, as model.parameters() is
    assert total > 0
    assert float(nn.utils.clip_grad_norm_([], 1.0)) == float(torch.nn.utils.clip_grad_norm_([], 1.0)) == 0.0


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_grad_norm_error_if_nonfinite(bad, norm_type):
    ours, theirs = grad_pairs()
    ours[0].grad.array[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    before = [p.grad.numpy().copy() for p in ours if p.grad is not None]
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_(ours, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    for mine, grad in zip([p for p in ours if p.grad is not None], before):
        np.testing.assert_array_equal(mine.grad.numpy(), grad)  # nothing was scaled


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_clip_grad_norm_nonfinite_without_error_does_what_torch_does(bad):
    """Without error_if_nonfinite PyTorch multiplies by max_norm/(total+1e-6) clamped at 1: with an inf
    total that is 0 (the inf element becomes NaN), with a NaN total every gradient becomes NaN."""
    ours, theirs = grad_pairs()
    ours[0].grad.array[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with np.errstate(invalid="ignore"):  # inf · 0
        total = nn.utils.clip_grad_norm_(ours, 1.0)
    reference = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_array_equal(float(total), float(reference))
    for mine, expected in zip(ours, theirs):
        if expected.grad is not None:
            np.testing.assert_array_equal(mine.grad.numpy(), expected.grad.numpy())


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = grad_pairs(scale=2.0)
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    compare_grads(ours, theirs)
    assert all(np.abs(p.grad.numpy()).max() <= clip_value for p in ours if p.grad is not None)
    single = nn.Parameter(minidl.zeros(3))
    single.grad = minidl.tensor([-3.0, 0.05, 3.0])
    nn.utils.clip_grad_value_(single, 0.1)
    np.testing.assert_allclose(single.grad.numpy(), [-0.1, 0.05, 0.1])
