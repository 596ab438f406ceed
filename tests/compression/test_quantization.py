"""int8 quantization: the integer product equals an int64 reference exactly, quantize-dequantize errs by
at most half a step, observers choose PyTorch's scales and zero points, fake quantization matches PyTorch
with the straight-through gradient, the int8 layers compute what their formula says, and the dynamic,
static and QAT flows turn MiniBERT and a CNN into int8 models a quarter of the size."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
import minidl.quantization as Q
from minidl import nn
from minidl.compression import checkpoint_size
from minidl.models.bert import MiniBERT
from minidl.models.cnn import LeNet
from minidl.nn import functional as F
from conftest import as_numpy

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the arithmetic ----------------------------------------------------------------------------------------

@SETTINGS
@given(m=st.integers(1, 6), k=st.integers(1, 300), n=st.integers(1, 6), seed=st.integers(0, 2 ** 31),
       a_type=st.sampled_from([np.int8, np.uint8]))
def test_int_matmul_equals_the_int64_product_exactly(m, k, n, seed, a_type):
    rng = np.random.default_rng(seed)
    info = np.iinfo(a_type)
    a = rng.integers(info.min, info.max + 1, size=(m, k)).astype(a_type)
    b = rng.integers(-128, 128, size=(k, n)).astype(np.int8)
    a[0] = info.min if a_type == np.int8 else info.max  # the extremes, where a narrower sum would overflow
    b[:, 0] = -128
    result = Q.int_matmul(a, b)
    assert result.dtype == np.int32
    np.testing.assert_array_equal(result, a.astype(np.int64) @ b.astype(np.int64))


def test_int_matmul_at_the_largest_safe_length_and_its_errors():
    k = (2 ** 31 - 1) // (255 * 128)
    a, b = np.full((1, k), 255, np.uint8), np.full((k, 1), -128, np.int8)
    assert Q.int_matmul(a, b)[0, 0] == -255 * 128 * k  # still exact in int32
    with pytest.raises(ValueError, match="could overflow int32"):
        Q.int_matmul(np.zeros((1, k + 1), np.uint8), np.zeros((k + 1, 1), np.int8))
    with pytest.raises(TypeError, match="int_matmul: expects int8 or uint8 matrices, got float32"):
        Q.int_matmul(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.int8))
    with pytest.raises(ValueError, match=r"int_matmul: shapes \(2, 3\) and \(2, 2\) cannot be multiplied"):
        Q.int_matmul(np.zeros((2, 3), np.int8), np.zeros((2, 2), np.int8))


@SETTINGS
@given(low=st.floats(-50, 0), width=st.floats(1e-3, 100), seed=st.integers(0, 2 ** 31),
       symmetric=st.booleans())
def test_quantize_dequantize_errs_by_at_most_half_a_step_inside_the_range(low, width, seed, symmetric):
    values = np.random.default_rng(seed).uniform(low, low + width, size=200).astype(np.float32)
    values[:2] = low, low + width  # the range's ends
    observer = (Q.MinMaxObserver(dtype=Q.qint8, qscheme="per_tensor_symmetric") if symmetric
                else Q.MinMaxObserver(dtype=Q.quint8))
    observer(minidl.tensor(values))
    scale, zero_point = (float(t.numpy().reshape(-1)[0]) for t in observer.calculate_qparams())
    q = Q.quantize_per_tensor(minidl.tensor(values), scale, int(zero_point), observer.dtype)
    error = np.abs(as_numpy(q.dequantize()) - values)
    float32_rounding = 4 * np.finfo(np.float32).eps * np.abs(values).max()
    assert error.max() <= scale / 2 + float32_rounding


def test_per_channel_weights_err_by_half_a_step_of_their_own_channel():
    rng = np.random.default_rng(1)
    weight = (rng.standard_normal((6, 10)) * np.array([0.01, 0.1, 1, 10, 100, 0.5])[:, None]).astype(np.float32)
    q, scale = Q.quantize_weight(minidl.tensor(weight))
    assert q.dtype == np.int8 and scale.shape == (6,)
    np.testing.assert_allclose(scale, np.abs(weight).max(1) / 127.5, rtol=1e-6)
    error = np.abs(Q.dequantize_array(q, scale, 0, axis=0) - weight)
    float32_rounding = 4 * np.finfo(np.float32).eps * np.abs(weight).max(1, keepdims=True)
    assert (error <= scale[:, None] / 2 + float32_rounding).all()


def test_values_beyond_the_range_are_clamped():
    q = Q.quantize_per_tensor(minidl.tensor([-10.0, 0.0, 1.0, 10.0]), 0.01, 10, Q.quint8)
    assert as_numpy(q.int_repr()).tolist() == [0, 10, 110, 255]
    np.testing.assert_allclose(as_numpy(q.dequantize()), [-0.1, 0.0, 1.0, 2.45], rtol=1e-6)


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")  # PyTorch deprecates them
@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
def test_quantize_per_tensor_and_per_channel_match_pytorch(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5)).astype(np.float32) * 3
    ours_dtype, their_dtype = getattr(Q, dtype), getattr(torch, dtype)
    zero_point = 0 if dtype == "qint8" else 120
    mine = Q.quantize_per_tensor(minidl.tensor(x), 0.05, zero_point, ours_dtype)
    theirs = torch.quantize_per_tensor(torch.tensor(x), 0.05, zero_point, their_dtype)
    np.testing.assert_array_equal(as_numpy(mine.int_repr()), theirs.int_repr().numpy())
    np.testing.assert_array_equal(as_numpy(mine.dequantize()), theirs.dequantize().numpy())
    assert mine.q_scale() == theirs.q_scale() and mine.q_zero_point() == theirs.q_zero_point()
    scales, zero_points = np.array([0.01, 0.02, 0.05, 0.1, 0.2]), np.array([0, 1, 2, 3, 4]) * (dtype == "quint8")
    mine = Q.quantize_per_channel(minidl.tensor(x), scales, zero_points, 1, ours_dtype)
    theirs = torch.quantize_per_channel(torch.tensor(x), torch.tensor(scales), torch.tensor(zero_points), 1,
                                        their_dtype)
    np.testing.assert_array_equal(as_numpy(mine.int_repr()), theirs.int_repr().numpy())
    np.testing.assert_allclose(as_numpy(mine.dequantize()), theirs.dequantize().numpy(), rtol=1e-6)
    assert mine.q_per_channel_axis() == 1 and mine.qscheme() == (
        "per_channel_symmetric" if dtype == "qint8" else "per_channel_affine")


# --- observers ------------------------------------------------------------------------------------------------

OBSERVERS = [
    ("MinMaxObserver", {}),
    ("MinMaxObserver", {"dtype": "qint8", "qscheme": "per_tensor_symmetric"}),
    ("MinMaxObserver", {"dtype": "quint8", "qscheme": "per_tensor_symmetric"}),
    ("MinMaxObserver", {"reduce_range": True}),
    ("MinMaxObserver", {"quant_min": 0, "quant_max": 15}),
    ("MovingAverageMinMaxObserver", {"averaging_constant": 0.3}),
    ("PerChannelMinMaxObserver", {"dtype": "qint8", "qscheme": "per_channel_symmetric"}),
    ("PerChannelMinMaxObserver", {"ch_axis": 1}),
    ("MovingAveragePerChannelMinMaxObserver", {"averaging_constant": 0.5, "ch_axis": 1}),
]


@pytest.mark.parametrize("name, options", OBSERVERS, ids=[f"{n}-{o}" for n, o in OBSERVERS])
def test_observers_choose_pytorch_s_scales_and_zero_points(name, options):
    import torch.ao.quantization as tq
    rng = np.random.default_rng(3)
    convert = {"dtype": lambda v: (getattr(Q, v), getattr(torch, v)),
               "qscheme": lambda v: (v, getattr(torch, v))}
    ours_options = {k: convert[k](v)[0] if k in convert else v for k, v in options.items()}
    their_options = {k: convert[k](v)[1] if k in convert else v for k, v in options.items()}
    ours, theirs = getattr(Q, name)(**ours_options), getattr(tq, name)(**their_options)
    for shift in (0.5, -2.0, 1.0):
        batch = (rng.standard_normal((4, 6)) * 2 + shift).astype(np.float32)
        ours(minidl.tensor(batch))
        theirs(torch.tensor(batch))
    (scale, zero_point), (their_scale, their_zero_point) = ours.calculate_qparams(), theirs.calculate_qparams()
    np.testing.assert_allclose(as_numpy(scale).reshape(-1), their_scale.numpy().reshape(-1), rtol=1e-6)
    np.testing.assert_array_equal(as_numpy(zero_point).reshape(-1), their_zero_point.numpy().reshape(-1))


def test_histogram_observer_clips_rare_outliers_and_errs_less_than_min_max():
    rng = np.random.default_rng(4)
    values = rng.laplace(size=200_000).astype(np.float32)  # heavy tails: a few values far out
    errors = {}
    for observer in (Q.MinMaxObserver(), Q.HistogramObserver()):
        for piece in np.split(values, 4):
            observer(minidl.tensor(piece))
        scale, zero_point = (float(as_numpy(t).reshape(-1)[0]) for t in observer.calculate_qparams())
        restored = as_numpy(Q.quantize_per_tensor(minidl.tensor(values), scale, int(zero_point), Q.quint8).dequantize())
        errors[type(observer).__name__] = ((restored - values) ** 2).mean()
        if isinstance(observer, Q.HistogramObserver):
            low, high = observer._range()
            assert values.min() < low and high < values.max()  # outliers were clipped
    assert errors["HistogramObserver"] < 0.8 * errors["MinMaxObserver"]


def test_an_observer_that_saw_nothing_warns_and_bad_options_are_named():
    with pytest.warns(UserWarning, match="before any data was observed"):
        scale, zero_point = Q.MinMaxObserver().calculate_qparams()
    assert as_numpy(scale).tolist() == [1.0] and as_numpy(zero_point).tolist() == [0]
    with pytest.raises(ValueError, match="MinMaxObserver: qscheme must be one of"):
        Q.MinMaxObserver(qscheme="per_row")
    with pytest.raises(ValueError, match="quant_min and quant_max must both be given with 0 <= quant_min"):
        Q.MinMaxObserver(quant_min=0, quant_max=300)
    with pytest.raises(TypeError, match="dtype must be minidl.quantization.qint8 or quint8"):
        Q.MinMaxObserver(dtype=minidl.float32)
    with pytest.raises(ValueError, match="quantize_per_tensor: scale must be a positive number"):
        Q.quantize_per_tensor(minidl.ones(2), 0.0, 0, Q.qint8)


# --- fake quantization and the straight-through estimator ----------------------------------------------------

def test_fake_quantization_forward_and_straight_through_gradient_match_pytorch():
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, size=(6, 7)).astype(np.float32)
    upstream = rng.standard_normal((6, 7)).astype(np.float32)
    ours, theirs = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mine = Q.fake_quantize_per_tensor_affine(ours, 0.02, 60, 0, 255)
    reference = torch.fake_quantize_per_tensor_affine(theirs, 0.02, 60, 0, 255)
    np.testing.assert_array_equal(as_numpy(mine), reference.detach().numpy())
    mine.backward(minidl.tensor(upstream))
    reference.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(as_numpy(ours.grad), theirs.grad.numpy())
    inside = (np.rint(x / 0.02) + 60 >= 0) & (np.rint(x / 0.02) + 60 <= 255)
    assert 0 < inside.mean() < 1  # some values clamped, some not: both branches of the rule are seen
    np.testing.assert_array_equal(as_numpy(ours.grad), np.where(inside, upstream, 0))  # the STE rule itself


def test_per_channel_fake_quantization_gradient_matches_pytorch():
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=(3, 4, 5)).astype(np.float32)
    scales, zero_points = np.array([0.005, 0.01, 0.02, 0.04], np.float32), np.array([0, 3, -3, 0], np.int32)
    ours, theirs = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mine = Q.fake_quantize_per_channel_affine(ours, scales, zero_points, 1, -128, 127)
    reference = torch.fake_quantize_per_channel_affine(theirs, torch.tensor(scales), torch.tensor(zero_points), 1,
                                                       -128, 127)
    np.testing.assert_array_equal(as_numpy(mine), reference.detach().numpy())
    (mine * mine).sum().backward()
    (reference * reference).sum().backward()
    np.testing.assert_allclose(as_numpy(ours.grad), theirs.grad.numpy(), rtol=1e-6)
    assert (as_numpy(ours.grad) == 0).any()


def test_fake_quantize_module_tracks_pytorch_s_over_batches_and_can_be_switched_off():
    import torch.ao.quantization as tq
    ours = Q.FakeQuantize(observer=Q.MovingAverageMinMaxObserver, averaging_constant=0.2)
    theirs = tq.FakeQuantize(observer=tq.MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                             averaging_constant=0.2)
    rng = np.random.default_rng(7)
    for shift in (0.0, 1.5, -1.0):
        batch = (rng.standard_normal((5, 3)) + shift).astype(np.float32)
        np.testing.assert_allclose(as_numpy(ours(minidl.tensor(batch))), theirs(torch.tensor(batch)).numpy(),
                                   rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(as_numpy(ours.scale), theirs.scale.numpy(), rtol=1e-6)
    batch = minidl.tensor(rng.standard_normal((2, 3)).astype(np.float32))
    ours.disable_fake_quant()
    np.testing.assert_array_equal(as_numpy(ours(batch)), as_numpy(batch))
    scale = as_numpy(ours.scale).copy()
    ours.enable_fake_quant().disable_observer()
    ours(batch * 100)
    np.testing.assert_array_equal(as_numpy(ours.scale), scale)


def test_fake_quantization_errors_are_named():
    with pytest.raises(ValueError, match="fake_quantize_per_tensor_affine: scale must be positive"):
        Q.fake_quantize_per_tensor_affine(minidl.ones(2), -0.1, 0, 0, 255)
    with pytest.raises(ValueError, match="quant_min \\(5\\) must be less than quant_max \\(5\\)"):
        Q.fake_quantize_per_tensor_affine(minidl.ones(2), 0.1, 0, 5, 5)
    with pytest.raises(TypeError, match="expects a floating-point input"):
        Q.fake_quantize_per_tensor_affine(minidl.tensor([1, 2]), 0.1, 0, 0, 255)
    with pytest.raises(ValueError, match="one scale and zero point per index of axis 1"):
        Q.fake_quantize_per_channel_affine(minidl.ones(2, 3), np.ones(2), np.zeros(2), 1, -128, 127)


# --- the int8 layers -----------------------------------------------------------------------------------------

def int8_linear_reference(x, layer, scale, zero_point):
    """y = s_x s_w (Σ_k (x_q − z) W_q) + b, the sum in int64."""
    x_q = np.clip(np.rint(x * np.float32(1 / scale)) + zero_point, 0, 255).astype(np.int64)
    acc = (x_q - zero_point) @ as_numpy(layer.weight_int8).astype(np.int64).T
    return acc.astype(np.float32) * (np.float32(scale) * as_numpy(layer.weight_scale)) + as_numpy(layer.bias)


def test_dynamic_quantized_linear_computes_its_integer_formula_and_stays_close_to_float():
    minidl.manual_seed(8)
    linear = nn.Linear(20, 7)
    layer = Q.DynamicQuantizedLinear.from_float(linear)
    x = np.random.default_rng(9).standard_normal((3, 4, 20)).astype(np.float32)
    scale, zero_point = Q.modules.dynamic_input_qparams(minidl.tensor(x))
    y = as_numpy(layer(minidl.tensor(x)))
    assert y.shape == (3, 4, 7) and y.dtype == np.float32
    np.testing.assert_allclose(y, int8_linear_reference(x, layer, scale, zero_point), rtol=1e-6, atol=1e-6)
    float_y = as_numpy(linear(minidl.tensor(x)))
    assert np.abs(y - float_y).max() < 0.02 * np.abs(float_y).max()
    np.testing.assert_allclose(as_numpy(layer.weight), as_numpy(linear.weight), atol=as_numpy(layer.weight_scale).max())


@pytest.mark.parametrize("options", [{"padding": 1}, {"padding": 2, "stride": 2}, {"padding": "same"},
                                     {"padding": 0, "dilation": 2}, {"padding": (1, 0), "bias": False}])
def test_quantized_conv2d_equals_the_float_convolution_of_the_dequantized_values(options):
    minidl.manual_seed(10)
    conv = nn.Conv2d(3, 4, 3, **options)
    x = np.random.default_rng(11).standard_normal((2, 3, 7, 6)).astype(np.float32)
    scale, zero_point = 0.03, 117
    layer = Q.QuantizedConv2d(conv, scale, zero_point)
    x_hat = as_numpy(Q.quantize_per_tensor(minidl.tensor(x), scale, zero_point, Q.quint8).dequantize())
    expected = F.conv2d(minidl.tensor(x_hat), layer.weight, None if conv.bias is None else conv.bias.detach(),
                        conv.stride, conv.padding, conv.dilation)
    np.testing.assert_allclose(as_numpy(layer(minidl.tensor(x))), as_numpy(expected), rtol=1e-4, atol=1e-4)
    assert as_numpy(layer(minidl.tensor(x[0]))).shape == as_numpy(expected).shape[1:]  # unbatched input


def test_quantized_embedding_rows_and_errors():
    minidl.manual_seed(12)
    embedding = nn.Embedding(10, 4, padding_idx=0)
    layer = Q.QuantizedEmbedding(embedding)
    ids = minidl.tensor([[1, 2, 0], [9, 9, 3]])
    np.testing.assert_allclose(as_numpy(layer(ids)), as_numpy(embedding(ids)),
                               atol=as_numpy(layer.weight_scale).max() / 2 + 1e-7)
    assert (as_numpy(layer(ids))[0, 2] == 0).all()
    with pytest.raises(IndexError, match=r"QuantizedEmbedding: ids must lie in \[0, 10\)"):
        layer(minidl.tensor([10]))


# --- the flows on real models ----------------------------------------------------------------------------------

def small_bert(vocabulary=60):
    minidl.manual_seed(13)
    return MiniBERT(vocabulary, d_model=32, nhead=2, num_layers=2, dim_feedforward=64, max_len=16,
                    dropout=0.0).eval()


IDS = np.random.default_rng(14).integers(4, 60, size=(6, 12))
ALL_WEIGHTS = {nn.Linear, nn.Embedding, nn.MultiheadAttention}


def relative_error(model, reference, ids=IDS):
    got, expected = as_numpy(model.classify(ids)), as_numpy(reference.classify(ids))
    return np.abs(got - expected).max() / np.abs(expected).max()


def test_quantize_dynamic_stores_minibert_s_matrices_in_one_byte_each_and_keeps_its_outputs():
    model = small_bert(vocabulary=2000)  # most of the weights in matrices, as in chapter 10's model
    quantized = Q.quantize_dynamic(model, ALL_WEIGHTS)
    kinds = {type(m).__name__ for m in quantized.modules()}
    assert {"DynamicQuantizedLinear", "QuantizedEmbedding"} <= kinds and "Linear" not in kinds
    assert all(isinstance(m, nn.Linear) for m in model.modules() if "Linear" in type(m).__name__)  # a copy
    assert relative_error(quantized, model) < 0.05
    state = quantized.state_dict()
    int8_values = sum(t.numel() for t in state.values() if t.dtype == minidl.int8)
    matrices = sum(p.numel() for name, p in model.named_parameters()
                   if p.ndim == 2 and "position" not in name)  # every Linear, Embedding and in-projection weight
    assert int8_values == matrices
    float_bytes, int8_bytes = checkpoint_size(model)[0], checkpoint_size(quantized)[0]
    # about 4x on the matrices; the float32 rest (biases, norms, positions, one scale per row) keeps it below
    assert 2.5 < float_bytes / int8_bytes < 4.0
    linear_only = Q.quantize_dynamic(model)
    assert "QuantizedEmbedding" not in {type(m).__name__ for m in linear_only.modules()}


def test_static_quantization_calibrates_each_layer_and_converts_minibert():
    model = small_bert()
    prepared = Q.prepare(model, Q.histogram_qconfig)
    observers = [m for m in prepared.modules() if isinstance(m, Q.HistogramObserver)]
    assert observers and all(m.histogram.numpy().sum() == 0 for m in observers)
    with minidl.no_grad():
        prepared.classify(IDS)
    with pytest.warns(UserWarning, match="mlm_transform.0 saw no data"):
        converted = Q.convert(prepared)
    kinds = [type(m).__name__ for m in converted.modules()]
    assert "QuantizedLinear" in kinds and "HistogramObserver" not in kinds
    assert isinstance(converted.mlm_transform[0], nn.Linear) and not converted.mlm_transform[0]._forward_pre_hooks
    assert relative_error(converted, model) < 0.05
    attention = converted.encoder.layers[0].self_attn
    assert "in_proj_weight_int8" in attention.state_dict() and attention.in_proj_weight.dtype == minidl.float32


def test_a_module_with_qconfig_none_stays_float_with_everything_inside_it():
    model = small_bert()
    model.classifier.qconfig = None
    model.mlm_transform.qconfig = None
    prepared = Q.prepare(model)
    prepared.classify(IDS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the unused MLM head is not prepared, so nothing is unseen
        converted = Q.convert(prepared)
    assert type(converted.classifier) is nn.Linear and type(converted.pooler) is Q.QuantizedLinear
    assert type(converted.mlm_transform[0]) is nn.Linear


def test_quantization_aware_training_simulates_the_int8_model_and_trains_through_it():
    model = LeNet(image_size=8)
    x = minidl.tensor(np.random.default_rng(15).random((16, 1, 8, 8)).astype(np.float32))
    labels = minidl.tensor(np.arange(16) % 10)
    qat = Q.prepare_qat(model)
    assert {type(m).__name__ for m in qat.modules()} >= {"QATConv2d", "QATLinear", "FakeQuantize"}
    optimizer = minidl.optim.Adam(qat.parameters(), lr=1e-2)
    before = as_numpy(qat.features[0].weight).copy()
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.cross_entropy(qat(x), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert not np.array_equal(as_numpy(qat.features[0].weight), before) and losses[-1] < losses[0]
    qat.eval()
    simulated = as_numpy(qat(x))  # the observers see the trained weights, then fake-quantize with their scales
    converted = Q.convert(qat)
    assert {type(m).__name__ for m in converted.modules()} >= {"QuantizedConv2d", "QuantizedLinear"}
    np.testing.assert_allclose(as_numpy(converted(x)), simulated, rtol=1e-4, atol=1e-4)


def test_qat_on_minibert_covers_the_packed_projection_and_embeddings():
    model = small_bert()
    qat = Q.prepare_qat(model)
    attention = qat.encoder.layers[0].self_attn
    assert "in_proj_weight_orig" in dict(attention.named_parameters()) and isinstance(
        qat.token_embedding, Q.QATEmbedding)
    F.cross_entropy(qat.classify(IDS), minidl.tensor(IDS[:, 0] % 2)).backward()
    assert attention.in_proj_weight_orig.grad is not None and qat.token_embedding.weight.grad is not None
    qat.eval()
    with pytest.warns(UserWarning, match="saw no data"):
        converted = Q.convert(qat)
    assert relative_error(converted, model) < 0.05
    assert not any(isinstance(m, (Q.FakeQuantize, Q.QATLinear)) for m in converted.modules())


def test_flow_argument_errors():
    with pytest.raises(ValueError, match="quantize_dynamic: only dtype=qint8"):
        Q.quantize_dynamic(nn.Linear(2, 2), dtype=Q.quint8)
    with pytest.raises(ValueError, match="qconfig_spec may hold nn.Linear, nn.Embedding and nn.MultiheadAttention"):
        Q.quantize_dynamic(nn.Linear(2, 2), {nn.Conv2d})
    assert isinstance(Q.quantize_dynamic(nn.Linear(2, 2)), Q.DynamicQuantizedLinear)  # the root is swapped too
