"""PyTorch's ``inplace`` and ``dtype`` arguments on the activations and dropouts.

Signatures (positional order, names, defaults) equal torch's for every activation and dropout function
and module; reprs print as torch's; ``inplace=True`` returns the input itself holding the result,
records the edit so gradients equal the out-of-place ones (and torch's), and refuses a leaf that
requires grad; softmax/log_softmax cast to ``dtype`` first.
"""

import inspect

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import AutogradError
from minidl.nn import functional as F
from conftest import as_numpy, copy_weights

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)

INPLACE_FUNCTIONS = ["relu", "leaky_relu", "silu", "elu", "selu", "celu", "hardtanh", "relu6", "rrelu", "hardswish",
                     "hardsigmoid", "mish", "threshold"]
DROPOUT_FUNCTIONS = ["dropout", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]
OTHER_FUNCTIONS = ["softmax", "log_softmax", "softmin", "sigmoid", "tanh", "glu", "gumbel_softmax"]
MODULES = ["ReLU", "LeakyReLU", "SiLU", "ELU", "SELU", "CELU", "Hardtanh", "ReLU6", "RReLU", "Hardswish",
           "Hardsigmoid", "Mish", "Threshold", "GELU", "Softmax", "LogSoftmax", "Softmin", "GLU", "Softplus",
           "Softshrink", "Hardshrink", "PReLU", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]
REQUIRED_ARGS = {"Threshold": (0.1, 20.0)}


def parameters(function, skip_first=False):
    """(name, kind, default) of each parameter; keyword-only extras (minidl's aliases) left out."""
    listed = list(inspect.signature(function).parameters.values())[1 if skip_first else 0:]
    return [(p.name, p.kind, p.default) for p in listed if p.kind is not inspect.Parameter.KEYWORD_ONLY]


@pytest.mark.parametrize("name", INPLACE_FUNCTIONS + DROPOUT_FUNCTIONS + OTHER_FUNCTIONS)
def test_function_signature_is_torchs(name):
    theirs = parameters(getattr(torch.nn.functional, name))
    ours = parameters(getattr(F, name))
    assert [(n, k) for n, k, _ in ours] == [(n, k) for n, k, _ in theirs]
    for (_, _, mine), (_, _, torchs) in zip(ours, theirs):
        assert mine == torchs or (isinstance(mine, float) and mine == pytest.approx(torchs))


@pytest.mark.parametrize("name", MODULES)
def test_module_signature_is_torchs(name):
    assert parameters(getattr(nn, name).__init__, True) == parameters(getattr(torch.nn, name).__init__, True)


@pytest.mark.parametrize("name", [n for n in MODULES
                                  if "inplace" in inspect.signature(getattr(torch.nn, n)).parameters])
@pytest.mark.parametrize("inplace", [False, True])
def test_repr_is_torchs(name, inplace):
    args = REQUIRED_ARGS.get(name, ())
    assert repr(getattr(nn, name)(*args, inplace=inplace)) == repr(getattr(torch.nn, name)(*args, inplace=inplace))


def test_repr_with_options():
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    assert repr(nn.ReLU(True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Dropout(0.5, False)) == repr(torch.nn.Dropout(0.5, False)) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Hardtanh(-2.0, 3.0, True)) == repr(torch.nn.Hardtanh(-2.0, 3.0, True))


def test_hardtanh_deprecated_names():
    with pytest.warns(FutureWarning) as caught:
        layer = nn.Hardtanh(min_value=-2.0, max_value=2.0)
    assert ["min_value" in str(w.message) for w in caught] == [True, False]
    assert (layer.min_val, layer.max_val) == (-2.0, 2.0)


def call(name, x, inplace):
    if name == "threshold":
        return F.threshold(x, 0.1, 20.0, inplace=inplace)
    if name in DROPOUT_FUNCTIONS:
        return getattr(F, name)(x, 0.5, True, inplace=inplace)
    return getattr(F, name)(x, inplace=inplace)


def sample(name):
    shape = (2, 3, 2, 2, 2) if name == "dropout3d" else (2, 3, 4) if name == "dropout1d" else (2, 3, 4, 2)
    return np.random.default_rng(0).standard_normal(shape) * 4


@pytest.mark.parametrize("name", INPLACE_FUNCTIONS + DROPOUT_FUNCTIONS)
def test_inplace_returns_the_input_holding_the_result(name):
    values = sample(name)
    minidl.manual_seed(3)
    expected = as_numpy(call(name, minidl.tensor(values), False))
    x = minidl.tensor(values)
    minidl.manual_seed(3)
    out = call(name, x, True)
    assert out is x
    np.testing.assert_allclose(as_numpy(x), expected)


@pytest.mark.parametrize("name", INPLACE_FUNCTIONS + DROPOUT_FUNCTIONS)
def test_inplace_gradient_equals_out_of_place(name):
    values = sample(name)
    grads = []
    for inplace in (False, True):
        w = minidl.tensor(values, requires_grad=True)
        hidden = w * 1.5
        minidl.manual_seed(3)
        out = call(name, hidden, inplace)
        assert (out is hidden) == inplace
        (out * out).sum().backward()
        grads.append(as_numpy(w.grad))
    np.testing.assert_allclose(grads[1], grads[0])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu", "elu", "dropout"])
def test_inplace_on_a_leaf_that_requires_grad_is_refused(name):
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(torch.ones(2, 3, 4, requires_grad=True), inplace=True)
    with pytest.raises(AutogradError, match=f"{name}.inplace=True.: a leaf tensor that requires grad"):
        call(name, minidl.ones(2, 3, 4, requires_grad=True), True)


def test_inplace_outside_recording_writes_the_input():
    x = minidl.tensor([-1.0, 2.0], requires_grad=True)
    with minidl.no_grad():
        assert F.relu(x, True) is x
    np.testing.assert_array_equal(as_numpy(x), [0.0, 2.0])


def test_eval_dropout_leaves_the_input_untouched():
    x = minidl.ones(3, requires_grad=True)
    assert F.dropout(x, 0.5, False, True) is x and F.alpha_dropout(x, 0.5, False, True) is x


def small_cnn(torch_module, inplace):
    return torch_module.Sequential(
        torch_module.Conv2d(2, 4, 3), torch_module.ReLU(inplace), torch_module.Conv2d(4, 4, 3),
        torch_module.LeakyReLU(0.2, inplace=inplace), torch_module.Flatten(), torch_module.Dropout(0.5, inplace),
        torch_module.Linear(16, 3), torch_module.SiLU(inplace))


@pytest.mark.parametrize("training", [False, True])
def test_cnn_with_inplace_layers_matches_torch_and_out_of_place(training):
    torch.manual_seed(0)
    theirs = small_cnn(torch.nn, True).double().train(training)
    x_values = np.random.default_rng(1).standard_normal((2, 2, 6, 6))
    grads = []
    for inplace in (False, True):
        ours = copy_weights(theirs, small_cnn(nn, inplace).to(minidl.float64)).train(training)
        x = minidl.tensor(x_values, requires_grad=True)
        minidl.manual_seed(5)
        (ours(x) ** 2).sum().backward()
        grads.append([as_numpy(x.grad)] + [as_numpy(p.grad) for p in ours.parameters()])
    for mine, other in zip(grads[1], grads[0]):
        np.testing.assert_allclose(mine, other, rtol=1e-12, atol=1e-12)
    if not training:  # dropout draws differ between libraries: compare with torch in eval only
        x = torch.tensor(x_values, requires_grad=True)
        (theirs(x) ** 2).sum().backward()
        expected = [x.grad.numpy()] + [p.grad.numpy() for p in theirs.parameters()]
        for mine, other in zip(grads[1], expected):
            np.testing.assert_allclose(mine, other, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dtype_casts_the_input_first(name):
    values = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    x = minidl.tensor(values, requires_grad=True)
    out = getattr(F, name)(x, dim=-1, dtype=minidl.float64)
    expected = getattr(torch.nn.functional, name)(torch.tensor(values), dim=-1, dtype=torch.float64)
    assert out.dtype == minidl.float64
    np.testing.assert_allclose(as_numpy(out), expected.numpy(), rtol=1e-12)
    out.sum().backward()
    assert x.grad.dtype == minidl.float32
    assert getattr(minidl, name)(x, -1, minidl.float64).dtype == minidl.float64  # torch.softmax(x, dim, dtype)


@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.5,)), ("celu_", (0.7,)), ("selu_", ()),
                                        ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)), ("rrelu_", ())])
def test_the_in_place_functional_forms_edit_their_input_as_pytorchs(name, args):
    values = np.array([[-2.0, -0.3, 0.0], [0.4, 1.5, 3.0]])
    ours, theirs = minidl.tensor(values.copy()), torch.tensor(values.copy())
    assert getattr(F, name)(ours, *args) is ours
    getattr(torch.nn.functional, name)(theirs, *args)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
