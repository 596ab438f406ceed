"""Bilinear, PixelShuffle, PixelUnshuffle, ChannelShuffle, ConvTranspose1d, LocalResponseNorm, Threshold,
Softmax2d and RReLU: PyTorch parity with the same weights (float64: outputs, input and parameter gradients),
initialisation, state_dict keys, repr and clear errors; rrelu in training and gumbel_softmax with their noise
reproduced from minidl's seeded generator; pdist edge cases and the deprecated upsample names.

The functional forms also have catalogue cases (minidl/testing/catalog/more_layers.py)."""

import math

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from conftest import check_layer_parity, layer_pair

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)

TOL = 1e-10


def pair(name, *args, **options):
    return layer_pair(torch, name, *args, **options)


def check_parity(ours, theirs, *arrays, seed=0):
    check_layer_parity(torch, ours, theirs, *arrays, seed=seed, tol=TOL)


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name, args, options, shapes", [
    ("Bilinear", (3, 4, 5), {}, [(2, 3), (2, 4)]),
    ("Bilinear", (3, 4, 2), {"bias": False}, [(2, 6, 3), (2, 6, 4)]),
    ("PixelShuffle", (2,), {}, [(2, 8, 3, 2)]),
    ("PixelUnshuffle", (3,), {}, [(1, 2, 6, 3)]),
    ("ChannelShuffle", (3,), {}, [(2, 6, 2, 2)]),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, [(2, 4, 5)]),
    ("ConvTranspose1d", (2, 3, 2), {"dilation": 2, "bias": False}, [(2, 4)]),
    ("LocalResponseNorm", (3,), {"alpha": 0.3, "beta": 0.6, "k": 2.0}, [(2, 5, 3, 2)]),
    ("Threshold", (0.2, -1.0), {}, [(3, 4)]),
    ("Softmax2d", (), {}, [(2, 3, 2, 2)]),
    ("Softmax2d", (), {}, [(3, 2, 2)]),
])
def test_module_matches_pytorch(name, args, options, shapes):
    ours, theirs = pair(name, *args, **options)
    assert repr(ours) == repr(theirs)
    check_parity(ours, theirs, *(RNG.standard_normal(shape) for shape in shapes))


def test_rrelu_eval_matches_pytorch_and_repr():
    ours, theirs = pair("RReLU", 0.1, 0.4)
    ours.eval(), theirs.eval()
    assert repr(ours) == repr(theirs)
    check_parity(ours, theirs, RNG.standard_normal((3, 5)))


def test_bilinear_initialisation_and_state_dict_keys():
    layer = nn.Bilinear(4, 3, 5)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == (5, 4, 3) and layer.bias.shape == (5,)
    bound = 1 / math.sqrt(4)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound


def test_conv_transpose1d_output_size():
    ours, theirs = pair("ConvTranspose1d", 2, 3, 3, stride=3)
    x = RNG.standard_normal((1, 2, 4))
    out = ours(minidl.tensor(x), output_size=[12])
    assert out.shape == tuple(theirs(torch.tensor(x), output_size=[12]).shape) == (1, 3, 12)
    with pytest.raises(ValueError, match="ConvTranspose1d: requested an output size"):
        ours(minidl.tensor(x), output_size=[20])


def test_rrelu_training_draws_slopes_from_minidl_generator():
    x = RNG.standard_normal((4, 6))
    minidl.manual_seed(3)
    out = F.rrelu(minidl.tensor(x, requires_grad=True), 0.1, 0.3, training=True)
    slopes = np.random.default_rng(3).uniform(0.1, 0.3, x.shape)
    np.testing.assert_allclose(out.detach().numpy(), np.where(x >= 0, x, slopes * x))
    layer = nn.RReLU(0.1, 0.3)
    minidl.manual_seed(3)
    np.testing.assert_allclose(layer(minidl.tensor(x)).numpy(), out.detach().numpy())


def test_gumbel_softmax_uses_seeded_noise_and_straight_through():
    logits = RNG.standard_normal((3, 4))
    noise = -np.log(np.random.default_rng(5).exponential(1.0, logits.shape))
    expected = np.exp((logits + noise) / 0.5)
    expected /= expected.sum(-1, keepdims=True)
    minidl.manual_seed(5)
    soft = F.gumbel_softmax(minidl.tensor(logits), tau=0.5)
    np.testing.assert_allclose(soft.numpy(), expected, rtol=1e-12)
    minidl.manual_seed(5)
    x = minidl.tensor(logits, requires_grad=True)
    hard = F.gumbel_softmax(x, tau=0.5, hard=True)
    np.testing.assert_array_equal(hard.detach().numpy(), np.eye(4)[expected.argmax(-1)])
    upstream = RNG.standard_normal(logits.shape)
    hard.backward(minidl.tensor(upstream))
    # the gradient is the soft sample's: softmax's vector-Jacobian product scaled by 1/τ
    vjp = expected * (upstream - (upstream * expected).sum(-1, keepdims=True)) / 0.5
    np.testing.assert_allclose(x.grad.numpy(), vjp, rtol=1e-10, atol=1e-12)


def test_gumbel_softmax_dim_and_errors():
    out = F.gumbel_softmax(minidl.randn(3, 4), dim=0, hard=True)
    np.testing.assert_array_equal(out.numpy().sum(0), np.ones(4))
    with pytest.raises(ValueError, match="gumbel_softmax: tau"):
        F.gumbel_softmax(minidl.randn(3), tau=0)


def test_threshold_inplace():
    x = minidl.tensor([-1.0, 0.5, 2.0])
    assert F.threshold_(x, 0.5, 9.0) is x
    np.testing.assert_array_equal(x.numpy(), [9.0, 9.0, 2.0])


def test_pdist_few_rows_and_pytorch_order():
    assert F.pdist(minidl.randn(1, 3)).shape == (0,) and F.pdist(minidl.randn(0, 3)).shape == (0,)
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(F.pdist(minidl.tensor(x), 1.5).numpy(),
                               torch.nn.functional.pdist(torch.tensor(x), 1.5).numpy(), rtol=1e-12)


@pytest.mark.parametrize("ours, theirs, options", [
    (F.upsample, torch.nn.functional.upsample, {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
    (F.upsample_nearest, torch.nn.functional.upsample_nearest, {"size": (5, 3)}),
    (F.upsample_bilinear, torch.nn.functional.upsample_bilinear, {"scale_factor": 2}),
])
def test_deprecated_upsample_names(ours, theirs, options):
    x = RNG.standard_normal((1, 2, 3, 2))
    with pytest.warns(UserWarning, match="is deprecated. Use `nn.functional.interpolate` instead"):
        out, expected = ours(minidl.tensor(x), **options), theirs(torch.tensor(x), **options)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.pixel_shuffle(minidl.randn(1, 6, 2, 2), 2), ShapeError, r"pixel_shuffle: the channel dim \(6\)"),
    (lambda: F.pixel_shuffle(minidl.randn(4, 2), 2), ShapeError, "pixel_shuffle: expected an input with at least 3"),
    (lambda: F.pixel_unshuffle(minidl.randn(1, 1, 3, 4), 2), ShapeError, "pixel_unshuffle: height 3 and width 4"),
    (lambda: F.channel_shuffle(minidl.randn(1, 5, 2), 2), ShapeError, r"channel_shuffle: the number of channels"),
    (lambda: nn.PixelShuffle(0), ValueError, "PixelShuffle: upscale_factor must be at least 1"),
    (lambda: F.bilinear(minidl.randn(2, 3), minidl.randn(2, 5), minidl.randn(4, 3, 4)), ShapeError,
     r"bilinear: inputs \(\*, 3\) and \(\*, 4\)"),
    (lambda: nn.Bilinear(3, 4, 2)(minidl.randn(2, 3), minidl.randn(3, 4)), ShapeError, "bilinear: inputs"),
    (lambda: F.local_response_norm(minidl.randn(2, 3), 2), ShapeError, r"local_response_norm: expected an input of 3"),
    (lambda: nn.Softmax2d()(minidl.randn(2, 3)), ShapeError, "Softmax2d: expected input to be 3D or 4D, got 2D"),
    (lambda: nn.RReLU(0.5, 0.1), ValueError, r"RReLU: lower \(0.5\) must not be greater than upper"),
    (lambda: F.pdist(minidl.randn(2, 3, 4)), ShapeError, r"pdist: expected a 2-D input \(N, M\), got shape"),
    (lambda: F.pdist(minidl.randn(2, 3), p=-1), ValueError, "pdist: p"),
    (lambda: F.conv_transpose1d(minidl.randn(1, 2, 4), minidl.randn(3, 2, 2)), ShapeError,
     r"conv_transpose1d: weight of shape \(3, 2, 2\) expects input with 3 channels"),
    (lambda: F.conv_transpose1d(minidl.randn(1, 2, 2, 4), minidl.randn(2, 2, 2)), ShapeError,
     r"conv_transpose1d: expected 2-D \(C_in, L\) or 3-D"),
    (lambda: nn.ConvTranspose1d(2, 2, 2)(minidl.randn(1, 3, 4)), ShapeError, "ConvTranspose1d: expected input"),
    (lambda: nn.ConvTranspose1d(2, 2, 2, stride=1, output_padding=1), ValueError,
     "ConvTranspose1d: output_padding"),
])
def test_bad_input_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
