"""Conv1d, ConvTranspose2d, GroupNorm, RMSNorm, Upsample / F.interpolate, the lazy layers, ParameterList and
ParameterDict: PyTorch parity with the same weights (float64: outputs, input and parameter gradients and
training trajectories within 1e-10), PyTorch's initialisation and state_dict keys, and clear errors.

The functional forms also have catalogue cases (minidl/testing/catalog/layers.py: gradcheck, NumPy
reference, hypothesis, parity through tests/test_ops.py)."""

import math

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from conftest import as_numpy, copy_weights

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)  # tiny tensors: threads only contend for the shared cores

TOL = 1e-10


# --- helpers ------------------------------------------------------------------------------------------------

def randomise(theirs, seed=0):
    """Non-trivial parameters (γ ≠ 1, β ≠ 0 too) so that every gradient is tested properly."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in theirs.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=param.dtype))
    return theirs


def pair(name, *args, seed=0, **options):
    """(ours, theirs): the same layer in both frameworks, float64, with PyTorch's random weights in both."""
    theirs = randomise(getattr(torch.nn, name)(*args, **options).double(), seed)
    ours = copy_weights(theirs, getattr(nn, name)(*args, dtype=np.float64, **options))
    return ours, theirs


def check_parity(ours, theirs, x_array, seed=0, call=None, tol=TOL):
    """Same input and upstream gradient through both: output, input gradient, every parameter gradient."""
    call = call or (lambda module, x: module(x))
    x_ours, x_theirs = minidl.tensor(x_array, requires_grad=True), torch.tensor(x_array, requires_grad=True)
    out_ours, out_theirs = call(ours, x_ours), call(theirs, x_theirs)
    assert out_ours.shape == tuple(out_theirs.shape)
    np.testing.assert_allclose(as_numpy(out_ours), out_theirs.detach().numpy(), rtol=tol, atol=tol)
    upstream = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    out_ours.backward(minidl.tensor(upstream.astype(out_ours.dtype)))
    out_theirs.backward(torch.tensor(upstream, dtype=out_theirs.dtype))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=tol, atol=tol)
    theirs_params, ours_params = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, param in theirs_params.items():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), param.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"gradient of {name}")
    return out_ours


def randn(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


# --- Conv1d ---------------------------------------------------------------------------------------------------

CONV1D = [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same", dilation=2),
    dict(padding="valid", stride=3),
    dict(groups=2, padding=2, dilation=2, bias=False),
    dict(padding=2, padding_mode="reflect"),
    dict(padding=1, padding_mode="replicate", stride=2),
    dict(padding="same", padding_mode="circular", groups=2),
]


@pytest.mark.parametrize("options", CONV1D, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "plain")
def test_conv1d_matches_pytorch(options):
    ours, theirs = pair("Conv1d", 4, 6, 3, **options)
    check_parity(ours, theirs, randn(2, 4, 9))
    ours.zero_grad(), theirs.zero_grad()
    check_parity(ours, theirs, randn(4, 7, seed=2))  # unbatched (C, L)


def test_conv1d_repr_and_parameters_are_pytorch_s():
    ours, theirs = pair("Conv1d", 2, 4, 3, padding=1, groups=2)
    assert ours.weight.shape == (4, 1, 3) and ours.kernel_size == theirs.kernel_size == (3,)
    assert ours.stride == theirs.stride and ours.padding == theirs.padding and ours.dilation == theirs.dilation
    assert repr(ours) == repr(theirs)


# --- ConvTranspose2d ------------------------------------------------------------------------------------------

TRANSPOSED = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2)),
    dict(groups=2, stride=3, dilation=2, output_padding=1, bias=False),
    dict(dilation=3, output_padding=2),
]


@pytest.mark.parametrize("options", TRANSPOSED, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "plain")
def test_conv_transpose2d_matches_pytorch(options):
    ours, theirs = pair("ConvTranspose2d", 4, 6, 3, **options)
    assert ours.weight.shape == tuple(theirs.weight.shape)  # (in_channels, out_channels/groups, kH, kW)
    check_parity(ours, theirs, randn(2, 4, 3, 5))
    ours.zero_grad(), theirs.zero_grad()
    check_parity(ours, theirs, randn(4, 2, 3, seed=3))  # unbatched (C, H, W)


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), [2, 6, 10, 9]])
def test_conv_transpose2d_output_size_picks_output_padding_as_pytorch(output_size):
    ours, theirs = pair("ConvTranspose2d", 4, 6, 3, stride=2, padding=1)
    out = check_parity(ours, theirs, randn(2, 4, 5, 5),
                       call=lambda module, x: module(x, output_size=output_size))
    assert out.shape[-2:] == tuple(output_size)[-2:]
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of \(11, 9\), but valid "
                                         r"sizes range from \(9, 9\) to \(10, 10\)"):
        ours(minidl.randn(2, 4, 5, 5, dtype=np.float64), output_size=(11, 9))


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    """The docstring's claim: conv_transpose2d(x, W) = dL/dy of L = <conv2d(y, W), x>."""
    weight, x = randn(4, 3, 3, 2), randn(2, 4, 5, 5, seed=2)
    y = minidl.tensor(randn(2, 3, 10, 9, seed=3), requires_grad=True)  # output_padding 1 recovers 10 and 9
    F.conv2d(y, minidl.tensor(weight), stride=2, padding=1).backward(minidl.tensor(x))
    transposed = F.conv_transpose2d(minidl.tensor(x), minidl.tensor(weight), stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(as_numpy(transposed), y.grad.numpy(), rtol=1e-12, atol=1e-12)


# --- GroupNorm and RMSNorm ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 6), (2, 6, 5), (2, 6, 3, 4)], ids=["NC", "NCL", "NCHW"])
@pytest.mark.parametrize("groups, affine", [(1, True), (2, True), (3, False), (6, True)])
def test_group_norm_matches_pytorch(shape, groups, affine):
    ours, theirs = pair("GroupNorm", groups, 6, affine=affine)
    check_parity(ours, theirs, randn(*shape) * 3 + 1)


@pytest.mark.parametrize("normalized_shape", [5, (5,), (4, 5)])
@pytest.mark.parametrize("eps", [None, 1e-5, 0.5])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_matches_pytorch(normalized_shape, eps, affine):
    ours, theirs = pair("RMSNorm", normalized_shape, eps=eps, elementwise_affine=affine)
    check_parity(ours, theirs, randn(3, 4, 5) * 2)


def test_rms_norm_default_eps_is_the_dtype_s_machine_epsilon():
    x = np.full((2, 3), 1e-5)
    for dtype in (np.float32, np.float64):
        out = F.rms_norm(minidl.tensor(x.astype(dtype)), (3,))
        expected = x / np.sqrt(x ** 2 + np.finfo(dtype).eps)
        np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-5)
        assert out.dtype == dtype
    np.testing.assert_allclose(as_numpy(F.rms_norm(minidl.tensor(x.astype(np.float32)), (3,))),
                               torch.nn.functional.rms_norm(torch.tensor(x, dtype=torch.float32), (3,)).numpy(),
                               rtol=1e-6)


# --- F.interpolate and Upsample -----------------------------------------------------------------------------------

def _pytorch_nearest_1d_quirk(mode, dims, in_sizes, out_sizes, options):
    """PyTorch's 3-D 'nearest' forward alone skips the out = in and out = 2·in cases when a scale factor is
    given (minidl/ops/resize.py): there its output differs from its own backward's, and from minidl's."""
    return mode == "nearest" and dims == 1 and "scale_factor" in options and \
        not options.get("recompute_scale_factor") and (out_sizes[0] in (in_sizes[0], 2 * in_sizes[0]))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)], ids=["float64", "float32"])
def test_interpolate_matches_pytorch_over_many_sizes_and_scales(dtype, tol):
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        mode = str(rng.choice(["nearest", "nearest-exact", "linear", "bilinear", "area"]))
        dims = 1 if mode == "linear" else 2 if mode == "bilinear" else int(rng.integers(1, 3))
        in_sizes = tuple(int(n) for n in rng.integers(1, 9, dims))
        options = {}
        if rng.random() < 0.5:
            options["size"] = tuple(int(n) for n in rng.integers(1, 13, dims))
        else:
            factors = [float(rng.choice([0.5, 1.2, 1.5, 2.0, 2.5, 3.0, 1 / 3, 0.7, 5 / 3])) for _ in range(dims)]
            options["scale_factor"] = tuple(factors) if rng.random() < 0.7 else factors[0]
            options["recompute_scale_factor"] = bool(rng.random() < 0.3) or None
        if mode in ("linear", "bilinear") and rng.random() < 0.7:
            options["align_corners"] = bool(rng.random() < 0.5)
        x = rng.standard_normal((2, 3) + in_sizes).astype(dtype)
        x_theirs = torch.tensor(x, requires_grad=True)
        try:
            out_theirs = torch.nn.functional.interpolate(x_theirs, mode=mode, **options)
        except RuntimeError:  # an empty output: minidl refuses it too
            with pytest.raises(ShapeError, match="interpolate"):
                F.interpolate(minidl.tensor(x), mode=mode, **options)
            continue
        if 0 in out_theirs.shape:  # PyTorch's 'area' gives an empty output where minidl refuses
            continue
        x_ours = minidl.tensor(x, requires_grad=True)
        out_ours = F.interpolate(x_ours, mode=mode, **options)
        assert out_ours.shape == tuple(out_theirs.shape) and out_ours.dtype == dtype
        if not _pytorch_nearest_1d_quirk(mode, dims, in_sizes, out_ours.shape[2:], options):
            np.testing.assert_allclose(as_numpy(out_ours), out_theirs.detach().numpy(), rtol=tol, atol=tol,
                                       err_msg=f"{mode} {options} {in_sizes}")
        upstream = rng.standard_normal(tuple(out_theirs.shape)).astype(dtype)
        out_ours.backward(minidl.tensor(upstream))
        out_theirs.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"gradient of {mode} {options} {in_sizes}")
        checked += 1
    assert checked > 300


def test_interpolate_nearest_gradient_is_the_adjoint_where_pytorch_s_3d_forward_is_not():
    x = minidl.tensor(np.arange(3.0).reshape(1, 1, 3), requires_grad=True)
    out = F.interpolate(x, scale_factor=1.2)  # out = in = 3: PyTorch's backward (and minidl) copy straight through
    np.testing.assert_array_equal(as_numpy(out), [[[0.0, 1.0, 2.0]]])
    out.backward(minidl.tensor([[[1.0, 10.0, 100.0]]], dtype=np.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[[1.0, 10.0, 100.0]]])


@pytest.mark.parametrize("name, args, options", [
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(size=(5, 7), mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(1.5, 2.5), mode="bilinear", align_corners=True)),
    ("Upsample", (), dict(scale_factor=0.5, mode="area")),
    ("Upsample", (), dict(size=(3, 8), mode="nearest-exact")),
    ("UpsamplingNearest2d", (), dict(scale_factor=3)),
    ("UpsamplingBilinear2d", (), dict(size=(7, 4))),
])
def test_upsample_layers_match_pytorch(name, args, options):
    ours, theirs = getattr(nn, name)(*args, **options), getattr(torch.nn, name)(*args, **options)
    check_parity(ours, theirs, randn(2, 3, 4, 6))
    assert repr(ours) == repr(theirs)


def test_upsample_linear_on_sequences_matches_pytorch():
    ours, theirs = nn.Upsample(scale_factor=2.5, mode="linear"), torch.nn.Upsample(scale_factor=2.5, mode="linear")
    check_parity(ours, theirs, randn(2, 3, 5))


# --- training: trajectories of a model built from the new layers -------------------------------------------------

def _models():
    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.GroupNorm(2, 4), lib.nn.ReLU(),
            lib.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), lib.nn.Upsample(scale_factor=0.5,
                                                                                                   mode="bilinear"),
            lib.nn.Flatten(), lib.nn.RMSNorm(3 * 6 * 6), lib.nn.Linear(3 * 6 * 6, 5))
    theirs = randomise(build(torch).double(), seed=4)
    with torch.no_grad():
        for param in theirs.parameters():
            param.mul_(0.3)
    ours = copy_weights(theirs, build(minidl).to(np.float64))
    return ours, theirs


def test_a_model_of_the_new_layers_trains_along_pytorch_s_trajectory():
    ours, theirs = _models()
    x, target = randn(4, 2, 6, 6, seed=5), randn(4, 5, seed=6)
    opt_ours = minidl.optim.RMSprop(ours.parameters(), lr=0.01, momentum=0.5)
    opt_theirs = torch.optim.RMSprop(theirs.parameters(), lr=0.01, momentum=0.5)
    for step in range(5):
        for model, optimizer, lib in ((ours, opt_ours, minidl), (theirs, opt_theirs, torch)):
            optimizer.zero_grad()
            lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(target)).backward()
            optimizer.step()
        for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(as_numpy(mine), reference.detach().numpy(), rtol=0, atol=TOL,
                                       err_msg=f"{name} after step {step + 1}")


# --- initialisation and state dicts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args, fan_in", [
    ("Conv1d", (16, 32, 5), 16 * 5),
    ("Conv1d", (16, 32, 5, 1, 0, 1, 4), 4 * 5),
    ("ConvTranspose2d", (12, 32, 3), 32 * 9),
    ("ConvTranspose2d", (12, 32, (3, 2), 1, 0, 0, 4), 8 * 6),
])
def test_convolutions_are_initialised_as_pytorch(name, args, fan_in):
    """kaiming_uniform(a=√5): U(-1/√fan_in, 1/√fan_in), fan_in = weight.shape[1]·kernel size; bias the same."""
    minidl.manual_seed(0)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    bound = 1 / math.sqrt(fan_in)
    for param in ("weight", "bias"):
        mine, reference = as_numpy(getattr(ours, param)), getattr(theirs, param).detach().numpy()
        assert mine.shape == reference.shape and mine.dtype == np.float32
        for values in (mine, reference):
            assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
        if param == "weight":  # uniform: standard deviation bound/√3
            assert abs(mine.std() - bound / math.sqrt(3)) < 0.1 * bound


@pytest.mark.parametrize("name, args, options", [
    ("Conv1d", (4, 6, 3), {}), ("Conv1d", (4, 6, 3), {"bias": False}),
    ("ConvTranspose2d", (4, 6, 3), {"groups": 2}), ("GroupNorm", (2, 6), {}), ("GroupNorm", (2, 6), {"affine": False}),
    ("RMSNorm", ((4, 5),), {}), ("RMSNorm", (5,), {"elementwise_affine": False}),
])
def test_state_dicts_have_pytorch_s_keys_and_round_trip(name, args, options):
    ours, theirs = pair(name, *args, **options)  # copy_weights: PyTorch's keys, one to one, in order
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
    fresh = getattr(nn, name)(*args, dtype=np.float64, **options)
    fresh.load_state_dict(ours.state_dict())
    for (key, a), b in zip(ours.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(as_numpy(a), as_numpy(b), err_msg=key)


def test_norm_layers_start_at_ones_and_zeros():
    group, rms = nn.GroupNorm(3, 6), nn.RMSNorm((2, 3))
    np.testing.assert_array_equal(as_numpy(group.weight), np.ones(6))
    np.testing.assert_array_equal(as_numpy(group.bias), np.zeros(6))
    np.testing.assert_array_equal(as_numpy(rms.weight), np.ones((2, 3)))
    assert rms.eps is None and list(rms.state_dict()) == ["weight"]


# --- lazy layers ------------------------------------------------------------------------------------------------------

LAZY = [("LazyLinear", (3,), (4, 7)), ("LazyBatchNorm1d", (), (5, 4, 3)), ("LazyBatchNorm2d", (), (3, 2, 4, 4)),
        ("LazyConv1d", (4, 3), (2, 6, 8)), ("LazyConv2d", (4, 3), (2, 6, 5, 5))]


@pytest.mark.parametrize("name, args, shape", LAZY, ids=[case[0] for case in LAZY])
def test_lazy_layers_become_their_eager_layer_and_match_pytorch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args, dtype=np.float64), getattr(torch.nn, name)(*args, dtype=torch.float64)
    assert ours.has_uninitialized_params()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = randn(*shape)
    ours(minidl.tensor(x)), theirs(torch.tensor(x))   # the dry run
    eager = name.replace("Lazy", "")
    assert type(ours) is getattr(nn, eager) and type(theirs) is getattr(torch.nn, eager)
    assert all(type(p) is nn.Parameter for p in ours.parameters())
    assert all(type(b) is minidl.Tensor for b in ours.buffers())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
    assert repr(ours) == repr(theirs)
    randomise(theirs)
    copy_weights(theirs, ours)
    check_parity(ours, theirs, randn(*shape, seed=3))


def test_lazy_layers_are_initialised_as_their_eager_layers():
    minidl.manual_seed(0)
    layer = nn.LazyLinear(50)
    layer(minidl.randn(2, 400))
    bound = 1 / math.sqrt(400)
    assert np.abs(as_numpy(layer.weight)).max() <= bound and np.abs(as_numpy(layer.weight)).max() > 0.9 * bound
    assert np.abs(as_numpy(layer.bias)).max() <= bound
    norm = nn.LazyBatchNorm1d()
    norm.eval()
    with pytest.raises(ShapeError, match="LazyBatchNorm1d: cannot read num_features"):
        norm(minidl.randn(4))
    norm.train()
    norm(minidl.randn(8, 3))
    np.testing.assert_array_equal(as_numpy(norm.weight), np.ones(3))
    assert norm.num_batches_tracked.item() == 1


def test_a_lazy_model_takes_its_shapes_from_a_state_dict():
    source = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2))
    target = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2), nn.LazyBatchNorm1d())
    target.load_state_dict(source.state_dict())
    assert not any(m.has_uninitialized_params() for m in target.modules() if hasattr(m, "has_uninitialized_params"))
    assert target[0].in_features == 5 and target[3].num_features == 2
    source.eval(), target.eval()
    x = minidl.randn(3, 5)
    np.testing.assert_array_equal(as_numpy(target(x)), as_numpy(source(x)))
    assert type(target[0]) is nn.Linear and type(target[3]) is nn.BatchNorm1d


def test_a_lazy_layer_follows_to_before_its_dry_run():
    layer = nn.LazyConv1d(2, 3).double()
    out = layer(minidl.randn(1, 4, 6, dtype=np.float64))
    assert layer.weight.dtype == np.float64 and out.dtype == np.float64 and layer.weight.shape == (2, 4, 3)


def test_lazy_errors_are_clear():
    layer = nn.LazyLinear(3)
    assert repr(layer.weight) == "<UninitializedParameter>"
    with pytest.raises(ValueError, match="SGD: parameter LazyLinear.weight is still uninitialized.*dry run"):
        minidl.optim.SGD(layer.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"LazyConv2d: in_channels \(5, from input of shape \(1, 5, 4, 4\)\) must "
                                         r"be divisible by groups \(2\)"):
        nn.LazyConv2d(4, 3, groups=2)(minidl.randn(1, 5, 4, 4))
    with pytest.raises(ShapeError, match="LazyConv2d: expected 3-D .* or 4-D input, got shape"):
        nn.LazyConv2d(4, 3)(minidl.randn(4, 4))


# --- ParameterList and ParameterDict -------------------------------------------------------------------------------

def test_parameter_list_matches_pytorch_keys_and_loads_its_state():
    values = [randn(2, 3), randn(3, seed=2), randn(4, 1, seed=3)]
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(v)) for v in values])
    ours = nn.ParameterList([nn.Parameter(minidl.tensor(values[0])), minidl.tensor(values[1])])
    ours.append(minidl.zeros(4, 1, dtype=np.float64))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2"]
    assert all(type(p) is nn.Parameter and p.requires_grad for p in ours)
    copy_weights(theirs, ours)
    np.testing.assert_array_equal(as_numpy(ours[-1]), values[2])
    assert len(ours) == 3 and len(ours[1:]) == 2 and ours[1:][0] is ours[1]
    model = nn.Module()
    model.weights = ours
    assert [name for name, _ in model.named_parameters()] == ["weights.0", "weights.1", "weights.2"]
    with pytest.raises(IndexError, match="ParameterList: index 3 is out of range for 3 parameters"):
        ours[3]
    with pytest.raises(TypeError, match="ParameterList: entry 3 must be a Parameter or a Tensor, got str"):
        ours.append("weights")


def test_parameter_dict_matches_pytorch_keys_and_trains():
    theirs = torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.ones(3, dtype=torch.float64)),
                                     "shift": torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))})
    ours = nn.ParameterDict({"scale": minidl.ones(3, dtype=np.float64)})
    ours["shift"] = nn.Parameter(minidl.zeros(3, dtype=np.float64))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["scale", "shift"]
    assert list(ours) == ["scale", "shift"] and "shift" in ours and ours.get("none") is None
    copy_weights(theirs, ours)
    optimizer = minidl.optim.SGD(ours.parameters(), lr=0.5)
    x = minidl.tensor(randn(3))
    (x * ours["scale"] + ours["shift"]).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(as_numpy(ours["scale"]), 1 - 0.5 * randn(3))
    popped = ours.pop("shift")
    assert type(popped) is nn.Parameter and list(ours.state_dict()) == ["scale"]
    with pytest.raises(KeyError, match="ParameterDict: no parameter named 'shift'; it has 'scale'"):
        ours["shift"]


# --- bad inputs ---------------------------------------------------------------------------------------------------------

BAD = [
    (lambda: nn.Conv1d(3, 4, 3, groups=2), ValueError, "Conv1d: groups=2 must divide in_channels=3"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=4), ValueError, "ConvTranspose2d: groups=4 must divide"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=2), ValueError,
     r"ConvTranspose2d: output_padding \(2, 2\) must be smaller than either stride"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"), ValueError, "ConvTranspose2d: padding_mode"),
    (lambda: nn.Conv1d(4, 6, 3, padding="same", stride=2), ValueError, "Conv1d: padding='same' is not supported"),
    (lambda: nn.Conv1d(4, 6, (3, 3)), ValueError, "Conv1d: kernel_size must be an int or a 1-tuple"),
    (lambda: nn.Conv1d(4, 6, 3)(minidl.randn(1, 4, 5, 5)), ShapeError, r"Conv1d: expected input \(N, 4, L\)"),
    (lambda: nn.Conv1d(4, 6, 3)(minidl.randn(1, 3, 5)), ShapeError, "in_channels=4"),
    (lambda: F.conv1d(minidl.randn(1, 4, 5), minidl.randn(6, 3, 3), groups=2), ShapeError,
     r"conv1d: weight of shape \(6, 3, 3\) with groups=2 expects input with 6 channels"),
    (lambda: F.conv1d(minidl.randn(1, 4, 5), minidl.randn(6, 2, 3), groups=3), ValueError,
     r"conv1d: groups=3 must be a positive int dividing both in_channels \(4\)"),
    (lambda: F.conv1d(minidl.randn(1, 4, 2), minidl.randn(6, 4, 3)), ShapeError, "conv1d: output size"),
    (lambda: F.conv1d(minidl.randn(4, 5, 5, 5), minidl.randn(6, 4, 3)), ShapeError,
     r"conv1d: expected 2-D \(C, L\) or 3-D \(N, C, L\) input"),
    (lambda: F.conv_transpose2d(minidl.randn(1, 3, 4, 4), minidl.randn(4, 2, 3, 3)), ShapeError,
     "conv_transpose2d: weight of shape .* expects input with 4 channels"),
    (lambda: F.conv_transpose2d(minidl.randn(1, 4, 4, 4), minidl.randn(4, 2, 3, 3), groups=3), ValueError,
     r"conv_transpose2d: groups=3 must be a positive int dividing in_channels \(4"),
    (lambda: F.conv_transpose2d(minidl.randn(1, 4, 4, 4), minidl.randn(4, 2, 3, 3), padding="same"), ValueError,
     "conv_transpose2d: padding must be an int or a pair"),
    (lambda: F.conv_transpose2d(minidl.randn(1, 4, 1, 1), minidl.randn(4, 2, 1, 1), padding=1), ShapeError,
     "conv_transpose2d: output size"),
    (lambda: nn.GroupNorm(4, 6), ValueError, r"GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\)"),
    (lambda: nn.GroupNorm(2, 6)(minidl.randn(2, 4, 3)), ShapeError, r"GroupNorm: expected input \(N, 6, \.\.\.\)"),
    (lambda: F.group_norm(minidl.randn(2, 6, 3), 4), ValueError,
     r"group_norm: expected the number of channels in the input \(6, .*divisible by num_groups, got num_groups=4"),
    (lambda: F.group_norm(minidl.randn(6), 2), ShapeError, r"group_norm: expected input of shape \(N, C, \.\.\.\)"),
    (lambda: F.group_norm(minidl.randn(2, 6), 2, minidl.ones(4)), ShapeError, r"group_norm: weight must have shape"),
    (lambda: F.rms_norm(minidl.randn(2, 3), (4,)), ShapeError, r"rms_norm: normalized_shape \(4,\) must match"),
    (lambda: nn.RMSNorm(3)(minidl.randn(2, 4)), ShapeError, "rms_norm"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), size=3, scale_factor=2), ValueError,
     "interpolate: only one of size or scale_factor should be defined"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4)), ValueError, "interpolate: either size or scale_factor"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4, 4), scale_factor=2, mode="bicubic"), NotImplementedError,
     "interpolate: mode 'bicubic' is not implemented in minidl"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), scale_factor=2, mode="cubic"), ValueError,
     "interpolate: mode must be one of"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), scale_factor=2, mode="bilinear"), ShapeError,
     r"interpolate: mode 'bilinear' needs 4-D input .* got input of shape \(1, 1, 4\)"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4, 4, 4), scale_factor=2), ShapeError, "interpolate: mode 'nearest'"),
    (lambda: F.interpolate(minidl.randn(1, 4), scale_factor=2), ShapeError, "interpolate: mode 'nearest' needs"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), scale_factor=2, align_corners=True), ValueError,
     "interpolate: align_corners can only be set"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4, 4), size=(2, 2, 2)), ShapeError,
     "interpolate: input and size must have the same number of spatial dims"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), size=0), ValueError, "interpolate: size must be positive"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), scale_factor=-1.0), ValueError,
     "interpolate: scale_factor must be positive"),
    (lambda: F.interpolate(minidl.randn(1, 1, 1), scale_factor=0.5), ShapeError, "makes input size"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4), size=8, recompute_scale_factor=True), ValueError,
     "recompute_scale_factor is not meaningful"),
    (lambda: F.interpolate(minidl.randn(1, 1, 4, 4), size=8, mode="bilinear", antialias=True), NotImplementedError,
     "antialias"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[case[2][:48] for case in BAD])
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the strict device (a GPU's refusals on the CPU) -----------------------------------------------------------------

@pytest.mark.parametrize("build, shape", [
    (lambda: nn.Conv1d(2, 4, 3, padding=1, padding_mode="reflect"), (2, 2, 6)),
    (lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1), (1, 2, 3, 3)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 3)), (lambda: nn.RMSNorm(3), (2, 3)),
    (lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), (1, 2, 2, 3)),
    (lambda: nn.Upsample(size=5, mode="nearest"), (1, 2, 3)),
    (lambda: nn.LazyLinear(3), (2, 5)), (lambda: nn.LazyConv2d(2, 3), (1, 3, 4, 4)),
    (lambda: nn.LazyBatchNorm1d(), (4, 3)),
], ids=["Conv1d", "ConvTranspose2d", "GroupNorm", "RMSNorm", "Upsample-bilinear", "Upsample-nearest", "LazyLinear",
        "LazyConv2d", "LazyBatchNorm1d"])
def test_new_layers_run_on_the_strict_device_as_on_the_cpu(build, shape):
    x = randn(*shape)
    results = []
    for device in ("cpu", "strict"):
        minidl.manual_seed(0)
        layer = build().to(device)
        x_device = minidl.tensor(x, dtype=np.float32).to(device).requires_grad_()
        out = layer(x_device)
        out.backward(minidl.tensor(randn(*out.shape, seed=9), dtype=np.float32).to(device))
        assert out.device == device and x_device.grad.device == device
        assert all(p.device == device for p in layer.parameters())
        results.append((as_numpy(out), as_numpy(x_device.grad)))
    for cpu, strict in zip(*results):
        np.testing.assert_allclose(strict, cpu, rtol=1e-6, atol=1e-6)
