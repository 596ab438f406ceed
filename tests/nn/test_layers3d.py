"""3-D layers (Conv3d, MaxPool3d, AvgPool3d, adaptive 3-D pooling, BatchNorm3d, InstanceNorm3d, 3-D padding),
Hardshrink, Softshrink, LPPool1d/2d, MaxUnpool1d/2d/3d, Dropout3d, FeatureAlphaDropout and nn.Buffer:
PyTorch parity with the same weights (float64: outputs, input and parameter gradients), state_dict keys,
repr and clear errors.

The functional forms also have catalogue cases (minidl/testing/catalog/layers3d.py)."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from conftest import as_numpy, check_layer_parity, layer_pair

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)

TOL = 1e-10
RNG = np.random.default_rng(0)


def pair(name, *args, **options):
    return layer_pair(torch, name, *args, **options)


def check_parity(ours, theirs, *arrays, seed=0):
    check_layer_parity(torch, ours, theirs, *arrays, seed=seed, tol=TOL)


@pytest.mark.parametrize("options", [
    {},
    {"stride": 2, "padding": 1, "bias": False},
    {"stride": (1, 2, 1), "padding": (1, 0, 1), "dilation": (2, 1, 1), "groups": 2},
    {"padding": "same", "dilation": 2},
    {"padding": "valid"},
    {"padding": 1, "padding_mode": "reflect"},
    {"padding": (1, 2, 0), "padding_mode": "replicate"},
    {"padding": "same", "padding_mode": "circular"},
])
def test_conv3d_matches_pytorch(options):
    ours, theirs = pair("Conv3d", 2, 4, (3, 2, 3), **options)
    check_parity(ours, theirs, RNG.standard_normal((2, 2, 5, 4, 5)))
    check_parity(ours, theirs, RNG.standard_normal((2, 5, 4, 5)))  # unbatched


def test_conv3d_state_dict_repr_and_init():
    ours, theirs = pair("Conv3d", 3, 6, 2, stride=2, groups=3, bias=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert tuple(ours.weight.shape) == (6, 1, 2, 2, 2)
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(4 * 8)  # bias ~ U(-1/√fan_in, 1/√fan_in), fan_in = 4·2·2·2
    bias = nn.Conv3d(4, 5, 2).bias.detach().numpy()
    assert bias.shape == (5,) and np.all(np.abs(bias) <= bound)


@pytest.mark.parametrize("name, args, options", [
    ("MaxPool3d", (2,), {}),
    ("MaxPool3d", ((3, 2, 3),), {"stride": (2, 1, 2), "padding": (1, 1, 0), "dilation": (1, 2, 1), "ceil_mode": True}),
    ("AvgPool3d", (2,), {}),
    ("AvgPool3d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ("AvgPool3d", ((2, 3, 2),), {"padding": (1, 1, 0), "divisor_override": 4}),
    ("AdaptiveAvgPool3d", ((3, None, 2),), {}),
    ("AdaptiveMaxPool3d", (2,), {}),
])
def test_pool3d_matches_pytorch(name, args, options):
    ours, theirs = pair(name, *args, **options)
    check_parity(ours, theirs, RNG.permutation(2 * 2 * 5 * 4 * 5).reshape(2, 2, 5, 4, 5) * 0.1)
    check_parity(ours, theirs, RNG.standard_normal((3, 5, 5, 4)))
    assert repr(ours) == repr(theirs)


def test_max_pool3d_indices_and_unpool_round_trip():
    x = RNG.standard_normal((2, 3, 4, 4, 6))
    out, indices = nn.MaxPool3d(2, return_indices=True)(minidl.tensor(x))
    their_out, their_indices = torch.nn.MaxPool3d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.numpy(), their_indices.numpy())
    assert indices.dtype == np.int64
    ours, theirs = pair("MaxUnpool3d", 2)
    values = minidl.tensor(out.numpy(), requires_grad=True)
    unpooled = ours(values, indices)
    np.testing.assert_allclose(unpooled.detach().numpy(), theirs(their_out, their_indices).numpy())
    unpooled.sum().backward()
    np.testing.assert_allclose(values.grad.numpy(), np.ones(out.shape))


@pytest.mark.parametrize("spatial, shape, kernel, stride, output_size", [
    (1, (2, 3, 7), 2, None, None), (1, (3, 8), 3, 2, (8,)), (2, (2, 2, 5, 6), 2, None, (2, 2, 5, 6)),
    (2, (3, 4, 4), (2, 1), (2, 1), None)])
def test_max_unpool_matches_pytorch(spatial, shape, kernel, stride, output_size):
    x = torch.tensor(RNG.standard_normal(shape))
    pooled, indices = getattr(torch.nn.functional, f"max_pool{spatial}d")(x, kernel, stride, return_indices=True)
    theirs = getattr(torch.nn, f"MaxUnpool{spatial}d")(kernel, stride)
    ours = getattr(nn, f"MaxUnpool{spatial}d")(kernel, stride)
    mine, their = minidl.tensor(pooled.numpy(), requires_grad=True), pooled.clone().requires_grad_()
    out_ours = ours(mine, minidl.tensor(indices.numpy()), output_size)
    out_theirs = theirs(their, indices, output_size)
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy())
    upstream = RNG.standard_normal(tuple(out_theirs.shape))
    out_ours.backward(minidl.tensor(upstream))
    out_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine.grad.numpy(), their.grad.numpy())


@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False)])
def test_batch_norm3d_matches_pytorch_in_training_and_eval(affine, track):
    ours, theirs = pair("BatchNorm3d", 3, affine=affine, track_running_stats=track)
    x = RNG.standard_normal((2, 3, 3, 2, 4))
    check_parity(ours, theirs, x)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, buffer in theirs.named_buffers():
        np.testing.assert_allclose(as_numpy(dict(ours.named_buffers())[name]), buffer.numpy(), rtol=TOL)
    ours.eval(), theirs.eval()
    check_parity(ours, theirs, x)


def test_instance_norm3d_matches_pytorch():
    ours, theirs = pair("InstanceNorm3d", 2, affine=True, track_running_stats=True)
    check_parity(ours, theirs, RNG.standard_normal((2, 2, 3, 3, 2)))
    check_parity(ours, theirs, RNG.standard_normal((2, 3, 3, 2)))  # unbatched
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=TOL)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("name, args", [("ConstantPad3d", (1, 2.5)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), -1.0)),
                                        ("ZeroPad3d", ((0, 1, 1, 0, 2, 0),)), ("ReflectionPad3d", (1,)),
                                        ("ReplicationPad3d", ((2, 0, 1, 1, 0, 3),)), ("CircularPad3d", (1,))])
def test_pad3d_matches_pytorch(name, args):
    ours, theirs = pair(name, *args)
    check_parity(ours, theirs, RNG.standard_normal((2, 2, 3, 3, 4)))
    check_parity(ours, theirs, RNG.standard_normal((2, 3, 3, 4)))


@pytest.mark.parametrize("name, args, shape", [
    ("Hardshrink", (), (3, 4)), ("Hardshrink", (1.2,), (2, 3, 4)), ("Softshrink", (), (3, 4)),
    ("Softshrink", (0.0,), (5,)),
    ("LPPool1d", (2, 3), (2, 3, 7)), ("LPPool1d", (1.5, 2, 1, True), (3, 6)),
    ("LPPool2d", (2, 2), (2, 3, 5, 4)), ("LPPool2d", (3, (2, 3), 2, True), (3, 5, 5))])
def test_small_layers_match_pytorch(name, args, shape):
    ours, theirs = pair(name, *args)
    values = RNG.uniform(0.5, 2.0, shape) if name.startswith("LP") else RNG.standard_normal(shape)
    check_parity(ours, theirs, values)
    assert repr(ours) == repr(theirs)


def test_dropout3d_drops_whole_channels():
    x = minidl.ones(4, 6, 2, 3, 2)
    layer = nn.Dropout3d(0.5)
    out = layer(x).numpy()
    per_channel = out.reshape(4, 6, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # each channel all kept or all dropped
    assert layer(minidl.ones(6, 2, 3, 2)).shape == (6, 2, 3, 2)  # unbatched
    layer.eval()
    assert np.array_equal(layer(x).numpy(), x.numpy())
    assert np.array_equal(F.dropout3d(x, 1.0).numpy(), np.zeros(x.shape))


def test_feature_alpha_dropout_sets_dropped_channels_to_one_value():
    x = minidl.tensor(RNG.standard_normal((8, 5, 3, 2)))
    p, saturation = 0.5, 1.7580993408473766
    a = 1 / np.sqrt((saturation ** 2 * p + 1) * (1 - p))
    out = nn.FeatureAlphaDropout(p)(x).numpy().reshape(8, 5, -1)
    kept = np.isclose(out, a * x.numpy().reshape(8, 5, -1) + saturation * a * p).all(axis=2)
    dropped = np.isclose(out, saturation * a * (p - 1)).all(axis=2)
    assert np.all(kept | dropped) and kept.any() and dropped.any()
    assert F.feature_alpha_dropout(x, p) is x  # training=False by default, as PyTorch
    with pytest.raises(ShapeError, match="feature_alpha_dropout"):
        F.feature_alpha_dropout(minidl.ones(3), 0.5, training=True)


def test_buffer_registers_on_assignment():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Buffer(minidl.ones(2))
            self.cache = nn.Buffer(minidl.zeros(3), persistent=False)
            self.weight = nn.Parameter(minidl.ones(1))

    model = Model()
    assert list(model.state_dict()) == ["weight", "scale"]
    assert [name for name, _ in model.named_buffers()] == ["scale", "cache"]
    assert [name for name, _ in model.named_parameters()] == ["weight"]
    model.scale = minidl.zeros(2)  # stays a buffer
    assert np.array_equal(model.state_dict()["scale"].numpy(), [0.0, 0.0])
    assert not nn.Buffer(minidl.ones(1)).requires_grad and nn.Buffer().shape == (0,)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.conv3d(minidl.ones(2, 3, 3), minidl.ones(1, 2, 1, 1, 1)), ShapeError, "conv3d: expected 4-D"),
    (lambda: F.conv3d(minidl.ones(1, 2, 3, 3, 3), minidl.ones(1, 3, 1, 1, 1)), ShapeError, "expects input with 3"),
    (lambda: F.conv3d(minidl.ones(1, 1, 2, 3, 3), minidl.ones(1, 1, 3, 1, 1)), ShapeError, "dilated kernel"),
    (lambda: F.conv3d(minidl.ones(1, 4, 3, 3, 3), minidl.ones(3, 2, 1, 1, 1), groups=2), ValueError, "groups=2"),
    (lambda: F.conv3d(minidl.ones(1, 1, 3, 3, 3), minidl.ones(1, 1, 1, 1, 1), stride=2, padding="same"),
     ValueError, "same"),
    (lambda: F.conv3d(minidl.ones(1, 1, 3, 3, 3), minidl.ones(1, 1, 1, 1, 1), stride=(1, 2)), ValueError, "3 ints"),
    (lambda: nn.Conv3d(2, 3, 1)(minidl.ones(1, 3, 2, 2, 2)), ShapeError, "in_channels=2"),
    (lambda: F.max_pool3d(minidl.ones(2, 2, 2), 1), ShapeError, "max_pool3d: expected 4-D"),
    (lambda: F.max_pool3d(minidl.ones(1, 3, 3, 3), 2, padding=2), ValueError, "at most half"),
    (lambda: F.avg_pool3d(minidl.ones(1, 1, 3, 3), 2), ShapeError, "avg_pool3d: output size"),
    (lambda: F.avg_pool3d(minidl.ones(1, 3, 3, 3), 2, divisor_override=0), ValueError, "divisor_override"),
    (lambda: F.adaptive_avg_pool3d(minidl.ones(1, 3, 3, 3), (2, 2)), ValueError, "output_size"),
    (lambda: F.adaptive_max_pool3d(minidl.ones(1, 3, 3, 3), 0), ValueError, "positive"),
    (lambda: nn.BatchNorm3d(2)(minidl.ones(2, 2, 3, 3)), ShapeError, "BatchNorm3d: expected 5D"),
    (lambda: nn.BatchNorm3d(2)(minidl.ones(2, 3, 3, 3, 3)), ShapeError, "2 channels"),
    (lambda: nn.InstanceNorm3d(2)(minidl.ones(2, 3, 3)), ShapeError, "InstanceNorm3d"),
    (lambda: nn.ReflectionPad3d(1)(minidl.ones(2, 3, 3)), ShapeError, "ReflectionPad3d"),
    (lambda: nn.ConstantPad3d((1, 1), 0.0), ValueError, "6 ints"),
    (lambda: F.softshrink(minidl.ones(2), -0.5), ValueError, "lambd"),
    (lambda: F.hardshrink(minidl.tensor([1, 2])), TypeError, "floating point"),
    (lambda: F.lp_pool2d(minidl.ones(1, 4, 4), 0, 2), ValueError, "norm_type"),
    (lambda: F.max_unpool2d(minidl.ones(1, 1, 2, 2), minidl.tensor(np.zeros((1, 1, 2, 1), np.int64)), 2),
     ShapeError, "indices must have the input's shape"),
    (lambda: F.max_unpool2d(minidl.ones(1, 1, 2, 2), minidl.tensor(np.full((1, 1, 2, 2), 16)), 2),
     IndexError, r"\[0, 16\)"),
    (lambda: F.max_unpool2d(minidl.ones(1, 1, 2, 2), minidl.tensor(np.zeros((1, 1, 2, 2), np.int64)), 2,
                            output_size=(6, 4)), ValueError, "output_size"),
    (lambda: F.max_unpool1d(minidl.ones(1, 1, 2), minidl.ones(1, 1, 2), 2), TypeError, "integer"),
])
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
