"""The small layers: 1-D and adaptive max pooling, unfold/fold, instance norm, embedding bags (declared as op
cases: NumPy reference, float64 gradcheck on the CPU and the strict device, PyTorch parity, under hypothesis),
and the modules padding, channel and alpha dropout, InstanceNorm, pooling, Unflatten, Unfold/Fold and
EmbeddingBag against PyTorch's with the same weights, plus their errors."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.testing.harness import OpCase, check_forward, check_gradient, check_torch, distinct, examples, functional
from conftest import as_numpy, copy_weights

try:
    import torch
except ImportError:  # the parity tests are skipped without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed: pip install torch")

SETTINGS = settings(max_examples=10, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# --- plain NumPy references, written from the definitions -------------------------------------------------------

def _batched(x):
    return x if x.ndim == 3 else x[None]


def pool1d_reference(x, kernel_size, stride, padding, dilation=1, reduce=np.max):
    """Windows along L of the padded input (-inf padding for max, zeros for the mean, which counts padding)."""
    fill = -np.inf if reduce is np.max else 0.0
    padded = np.pad(_batched(x), [(0, 0), (0, 0), (padding, padding)], constant_values=fill)
    count = (padded.shape[-1] - dilation * (kernel_size - 1) - 1) // stride + 1
    out = np.stack([reduce(padded[..., [i * stride + j * dilation for j in range(kernel_size)]], axis=-1)
                    for i in range(count)], axis=-1)
    return out if x.ndim == 3 else out[0]


def adaptive_windows(size, out_size):
    return [(i * size // out_size, -(-(i + 1) * size // out_size)) for i in range(out_size)]


def adaptive_pool1d_reference(x, output_size, reduce):
    xb = _batched(x)
    out = np.stack([reduce(xb[..., a:b], axis=-1) for a, b in adaptive_windows(xb.shape[-1], output_size)], -1)
    return out if x.ndim == 3 else out[0]


def adaptive_max_pool2d_reference(x, output_size):
    xb = x if x.ndim == 4 else x[None]
    rows, cols = adaptive_windows(xb.shape[2], output_size[0]), adaptive_windows(xb.shape[3], output_size[1])
    out = np.array([[xb[:, :, a:b, c:d].max(axis=(2, 3)) for c, d in cols] for a, b in rows])  # (Ho, Wo, N, C)
    out = out.transpose(2, 3, 0, 1)
    return out if x.ndim == 4 else out[0]


def _blocks(h, w, kernel_size, dilation, padding, stride):
    count = [(n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1 for n in (h, w)]
    return [(i, j) for i in range(count[0]) for j in range(count[1])]


def unfold_reference(x, kernel_size, dilation=1, padding=0, stride=1):
    xb = x if x.ndim == 4 else x[None]
    padded = np.pad(xb, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    n, c = xb.shape[:2]
    blocks = _blocks(xb.shape[2], xb.shape[3], kernel_size, dilation, padding, stride)
    out = np.zeros((n, c * kernel_size ** 2, len(blocks)))
    for column, (i, j) in enumerate(blocks):
        for ch in range(c):
            for p in range(kernel_size):
                for q in range(kernel_size):
                    row = (ch * kernel_size + p) * kernel_size + q
                    out[:, row, column] = padded[:, ch, i * stride + p * dilation, j * stride + q * dilation]
    return out if x.ndim == 4 else out[0]


def fold_reference(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    cb = cols if cols.ndim == 3 else cols[None]
    h, w = output_size
    n, c = cb.shape[0], cb.shape[1] // kernel_size ** 2
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for column, (i, j) in enumerate(_blocks(h, w, kernel_size, dilation, padding, stride)):
        for ch in range(c):
            for p in range(kernel_size):
                for q in range(kernel_size):
                    padded[:, ch, i * stride + p * dilation, j * stride + q * dilation] += \
                        cb[:, (ch * kernel_size + p) * kernel_size + q, column]
    out = padded[:, :, padding:padding + h, padding:padding + w]
    return out if cols.ndim == 3 else out[0]


def instance_norm_reference(x, w, b, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    x_hat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return x_hat * w.reshape((-1,) + (1,) * len(axes)) + b.reshape((-1,) + (1,) * len(axes))


BAG_IDS = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 7])
BAG_OFFSETS = np.array([0, 3, 3, 7])  # bags of 3, 0, 4 and 3 ids


def embedding_bag_reference(weight, mode, padding_idx=None):
    ids = BAG_IDS % weight.shape[0]
    bounds = list(BAG_OFFSETS) + [len(ids)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        rows = weight[[i for i in ids[a:b] if i != padding_idx]]
        out.append(np.zeros(weight.shape[1]) if not len(rows) else {"sum": rows.sum(0), "mean": rows.mean(0),
                                                                      "max": rows.max(0)}[mode])
    return np.array(out)


def _bag_call(library_module, weight, mode, padding_idx, device=None):
    extra = {} if device is None else {"device": device}
    ids = library_module.tensor(BAG_IDS % weight.shape[0], **extra)
    offsets = library_module.tensor(BAG_OFFSETS, **extra)
    return library_module.nn.functional.embedding_bag(ids, weight, offsets, mode=mode, padding_idx=padding_idx)


# --- strategies ----------------------------------------------------------------------------------------------

@st.composite
def _pool1d_examples(draw, dilation=True):
    kernel = draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, kernel // 2))
    d = draw(st.integers(1, 2)) if dilation and not padding else 1  # (else a window may read padding only)
    length = draw(st.integers(max(1, d * (kernel - 1) + 1 - 2 * padding), 8))
    shape = draw(st.sampled_from([(2, length), (2, 1, length), (1, 3, length)]))
    params = {"kernel_size": kernel, "stride": stride, "padding": padding}
    if dilation:
        params["dilation"] = d
    return draw(examples(st.just((shape,)), st.just(params)))


@st.composite
def _adaptive1d_examples(draw):
    length = draw(st.integers(1, 7))
    shape = draw(st.sampled_from([(2, length), (2, 2, length)]))
    return draw(examples(st.just((shape,)), st.just({"output_size": draw(st.integers(1, 6))})))


@st.composite
def _adaptive2d_examples(draw):
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    shape = draw(st.sampled_from([(2, h, w), (2, 1, h, w)]))
    return draw(examples(st.just((shape,)), st.just({"output_size": (draw(st.integers(1, 4)),
                                                                      draw(st.integers(1, 4)))})))


@st.composite
def _fold_params(draw):
    kernel, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding, stride = draw(st.integers(0, 1)), draw(st.integers(1, 2))
    low = max(1, dilation * (kernel - 1) + 1 - 2 * padding)
    h, w = draw(st.integers(low, low + 3)), draw(st.integers(low, low + 3))
    return (h, w), {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}


@st.composite
def _unfold_examples(draw):
    (h, w), params = draw(_fold_params())
    shape = draw(st.sampled_from([(1, 2, h, w), (2, 1, h, w), (2, h, w)]))
    return draw(examples(st.just((shape,)), st.just(params)))


@st.composite
def _fold_examples(draw):
    (h, w), params = draw(_fold_params())
    blocks = len(_blocks(h, w, params["kernel_size"], params["dilation"], params["padding"], params["stride"]))
    rows = draw(st.integers(1, 2)) * params["kernel_size"] ** 2
    shape = draw(st.sampled_from([(1, rows, blocks), (2, rows, blocks), (rows, blocks)]))
    return draw(examples(st.just((shape,)), st.just({"output_size": (h, w), **params})))


@st.composite
def _instance_norm_examples(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(draw(st.integers(3, 6)),), (draw(st.integers(1, 3)), draw(st.integers(3, 4)))]))
    return draw(examples(st.just(((n, c) + spatial, (c,), (c,)))))


def _bag_examples():
    return examples(st.tuples(st.integers(3, 10), st.integers(1, 3)).map(lambda s: (s,)),
                    st.fixed_dictionaries({"mode": st.sampled_from(["sum", "mean", "max"]),
                                           "padding_idx": st.sampled_from([None, 2])}))


CASES = [
    OpCase("max_pool1d", lambda x, **p: functional(x).max_pool1d(x, **p),
           lambda x, **p: pool1d_reference(x, reduce=np.max, **p), _pool1d_examples(), make=distinct),
    OpCase("avg_pool1d", lambda x, **p: functional(x).avg_pool1d(x, **p),
           lambda x, **p: pool1d_reference(x, reduce=np.mean, **p), _pool1d_examples(dilation=False)),
    OpCase("adaptive_avg_pool1d", lambda x, **p: functional(x).adaptive_avg_pool1d(x, **p),
           lambda x, output_size: adaptive_pool1d_reference(x, output_size, np.mean), _adaptive1d_examples()),
    OpCase("adaptive_max_pool1d", lambda x, **p: functional(x).adaptive_max_pool1d(x, **p),
           lambda x, output_size: adaptive_pool1d_reference(x, output_size, np.max), _adaptive1d_examples(),
           make=distinct),
    OpCase("adaptive_max_pool2d", lambda x, **p: functional(x).adaptive_max_pool2d(x, **p),
           adaptive_max_pool2d_reference, _adaptive2d_examples(), make=distinct),
    OpCase("unfold", lambda x, **p: functional(x).unfold(x, **p), unfold_reference, _unfold_examples()),
    OpCase("fold", lambda x, **p: functional(x).fold(x, **p), fold_reference, _fold_examples()),
    OpCase("instance_norm", lambda x, w, b: functional(x).instance_norm(x, weight=w, bias=b),
           instance_norm_reference, _instance_norm_examples()),
    OpCase("embedding_bag", lambda w, **p: _bag_call(minidl, w, device=w.device, **p), embedding_bag_reference,
           _bag_examples(), torch_fn=lambda w, **p: _bag_call(torch, w, **p)),
]


@pytest.mark.parametrize("device", ["cpu", "strict"])
@pytest.mark.parametrize("case", CASES, ids=str)
@SETTINGS
@given(data=st.data())
def test_forward_matches_numpy_reference(case, device, data):
    check_forward(case, data.draw(case.examples), device)


@pytest.mark.parametrize("device", ["cpu", "strict"])
@pytest.mark.parametrize("case", CASES, ids=str)
@SETTINGS
@given(data=st.data())
def test_gradcheck(case, device, data):
    check_gradient(case, data.draw(case.examples), device)


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=str)
@SETTINGS
@given(data=st.data())
def test_ops_match_pytorch(case, data):
    check_torch(case, data.draw(case.examples), torch, rtol=1e-10, atol=1e-12)


# --- module parity with PyTorch ------------------------------------------------------------------------------

def check_module(ours, theirs, x, seed=0, atol=1e-10):
    """Same input and upstream gradient through both: output, input gradient and parameter gradients agree."""
    mx, tx = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    m_out, t_out = ours(mx), theirs(tx)
    m_out, t_out = (m_out[0], t_out[0]) if isinstance(t_out, tuple) else (m_out, t_out)
    np.testing.assert_allclose(as_numpy(m_out), t_out.detach().numpy(), rtol=0, atol=atol)
    upstream = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    m_out.backward(minidl.tensor(upstream))
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(as_numpy(mx.grad), tx.grad.numpy(), rtol=0, atol=atol)
    for (name, ours_p), (_, theirs_p) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(as_numpy(ours_p.grad), theirs_p.grad.numpy(), rtol=0, atol=atol, err_msg=name)
    assert repr(ours) == repr(theirs)
    return m_out


PADS = [("ZeroPad1d", ((1, 2),), (2, 3, 5)), ("ZeroPad2d", ((1, 0, 2, 1),), (2, 2, 3, 4)),
        ("ZeroPad2d", (2,), (2, 3, 4)), ("ConstantPad1d", ((2, -1), 3.5), (3, 5)),
        ("ConstantPad2d", (1, -2.0), (1, 2, 3, 3)), ("ReflectionPad1d", ((2, 1),), (2, 3, 5)),
        ("ReflectionPad2d", ((1, 2, 2, 0),), (2, 2, 4, 5)), ("ReflectionPad2d", (1,), (2, 3, 3)),
        ("ReplicationPad1d", ((3, 1),), (2, 4)), ("ReplicationPad2d", ((2, 1, 0, 3),), (1, 2, 3, 4)),
        ("CircularPad1d", ((1, 2),), (2, 2, 4)), ("CircularPad2d", ((1, 1, 2, 0),), (2, 2, 3, 3))]


@needs_torch
@pytest.mark.parametrize("name, args, shape", PADS, ids=[f"{p[0]}-{i}" for i, p in enumerate(PADS)])
def test_padding_layers_match_pytorch(name, args, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    check_module(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), x)


def test_padding_layer_errors():
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or a tuple of 4 ints"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ShapeError, match=r"ReflectionPad2d: expected 3-D or 4-D .* got shape \(4, 5\)"):
        nn.ReflectionPad2d(1)(minidl.zeros(4, 5))
    with pytest.raises(ValueError, match=r"reflect padding \(3, 3\) must be smaller than dim 2 of size 3"):
        nn.ReflectionPad1d(3)(minidl.zeros(1, 2, 3))


POOLS = [("MaxPool1d", (3,), {}, (2, 3, 8)), ("MaxPool1d", (3, 2, 1, 2), {"ceil_mode": True}, (2, 2, 9)),
         ("MaxPool1d", (2,), {"return_indices": True}, (3, 7)), ("AvgPool1d", (3, 2, 1), {}, (2, 3, 8)),
         ("AvgPool1d", (4, 3, 2), {"ceil_mode": True, "count_include_pad": False}, (2, 2, 10)),
         ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 8)), ("AdaptiveMaxPool1d", (5,), {"return_indices": True}, (2, 7)),
         ("AdaptiveMaxPool2d", ((3, None),), {}, (2, 3, 7, 5)), ("AdaptiveMaxPool2d", (4,), {}, (3, 5, 6))]


@needs_torch
@pytest.mark.parametrize("name, args, kwargs, shape", POOLS, ids=[f"{p[0]}-{i}" for i, p in enumerate(POOLS)])
def test_pooling_layers_match_pytorch(name, args, kwargs, shape):
    x = np.random.default_rng(1).permutation(math.prod(shape)).reshape(shape) / 7.0  # no ties
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    check_module(ours, theirs, x)
    if kwargs.get("return_indices"):
        np.testing.assert_array_equal(as_numpy(ours(minidl.tensor(x))[1]), theirs(torch.tensor(x))[1].numpy())


def test_adaptive_max_pool_overlapping_windows_add_their_gradients():
    x = minidl.tensor([[[1.0, 5.0, 2.0]]], requires_grad=True)
    out = F.adaptive_max_pool1d(x, 4)                     # windows {0}, {0, 1}, {1, 2}, {2}
    np.testing.assert_array_equal(as_numpy(out), [[[1.0, 5.0, 5.0, 2.0]]])
    out.sum().backward()
    np.testing.assert_array_equal(as_numpy(x.grad), [[[1.0, 2.0, 1.0]]])


def test_pooling_errors_name_the_1d_op():
    with pytest.raises(ShapeError, match=r"max_pool1d: expected 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape "
                                         r"\(1, 2, 3, 4\)"):
        F.max_pool1d(minidl.zeros(1, 2, 3, 4), 2)
    with pytest.raises(ShapeError, match=r"avg_pool1d: output length is less than 1 .* kernel_size=4"):
        F.avg_pool1d(minidl.zeros(1, 2, 3), 4)
    with pytest.raises(ValueError, match=r"MaxPool1d: padding should be at most half of kernel_size"):
        nn.MaxPool1d(2, padding=2)
    with pytest.raises(ValueError, match=r"max_pool1d: kernel_size must be an int or a 1-tuple of ints"):
        F.max_pool1d(minidl.zeros(1, 2, 6), (2, 2))
    with pytest.raises(ShapeError, match=r"adaptive_max_pool2d: expected 3-D .* got shape \(2, 3\)"):
        F.adaptive_max_pool2d(minidl.zeros(2, 3), 1)


# --- unfold and fold -----------------------------------------------------------------------------------------

@needs_torch
def test_unfold_and_fold_modules_match_pytorch():
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 5))
    check_module(nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2),
                 torch.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2), x)
    cols = np.random.default_rng(3).standard_normal((2, 12, 24))
    check_module(nn.Fold((5, 6), 2, padding=1, stride=(1, 2)), torch.nn.Fold((5, 6), 2, padding=1, stride=(1, 2)),
                 cols)


def test_unfold_then_matmul_is_a_convolution():
    rng = np.random.default_rng(4)
    x, w = minidl.tensor(rng.standard_normal((2, 3, 5, 5))), minidl.tensor(rng.standard_normal((4, 3, 3, 3)))
    cols = F.unfold(x, 3, padding=1)                                      # (2, 27, 25)
    out = (w.reshape(4, -1) @ cols).reshape(2, 4, 5, 5)
    np.testing.assert_allclose(as_numpy(out), as_numpy(F.conv2d(x, w, padding=1)), atol=1e-12)


def test_fold_errors_name_the_sizes():
    with pytest.raises(ShapeError, match=r"fold: expected size of input's dim 1 to be divisible by the product of "
                                         r"kernel_size \(2, 2\)"):
        F.fold(minidl.zeros(1, 6, 4), (3, 3), 2)
    with pytest.raises(ShapeError, match=r"number of sliding blocks 2 \* 2 = 4, but got input of shape \(1, 4, 5\)"):
        F.fold(minidl.zeros(1, 4, 5), (3, 3), 2)
    with pytest.raises(ShapeError, match=r"unfold: the kernel_size=\(4, 4\) .* does not fit"):
        F.unfold(minidl.zeros(1, 1, 3, 3), 4)


# --- Unflatten -------------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dim, sizes, shape", [(1, (2, 3), (4, 6)), (-1, [2, -1, 2], (3, 8)), (0, (1, 2, 2), (4,))])
def test_unflatten_matches_pytorch(dim, sizes, shape):
    x = np.random.default_rng(5).standard_normal(shape)
    check_module(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), x)


def test_unflatten_inverts_flatten_and_names_a_bad_size():
    x = minidl.randn(2, 3, 4, 5)
    assert nn.Unflatten(1, (3, 4, 5))(nn.Flatten()(x)).shape == (2, 3, 4, 5)
    with pytest.raises(ShapeError, match=r"Unflatten: unflattened_size \(4, 4\) does not fit dim 1 of size 12"):
        nn.Unflatten(1, (4, 4))(minidl.zeros(2, 12))
    with pytest.raises(TypeError, match="Unflatten: unflattened_size must be a tuple or list"):
        nn.Unflatten(1, 12)


# --- channel dropout and alpha dropout -------------------------------------------------------------------------

@pytest.mark.parametrize("layer, shape", [(nn.Dropout1d, (20, 30, 7)), (nn.Dropout1d, (300, 9)),
                                          (nn.Dropout2d, (10, 40, 3, 4))])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(layer, shape):
    minidl.manual_seed(0)
    x = minidl.tensor(np.random.default_rng(6).uniform(1, 2, shape), requires_grad=True)
    out = layer(p=0.3)(x)
    ratio = as_numpy(out) / as_numpy(x)
    spatial = 1 if layer is nn.Dropout1d else 2
    per_channel = ratio.reshape(ratio.shape[:ratio.ndim - spatial] + (-1,))
    np.testing.assert_allclose(per_channel, np.broadcast_to(per_channel[..., :1], per_channel.shape),
                               rtol=1e-12)                              # one draw per channel
    kept = np.isclose(per_channel[..., 0], 1 / 0.7)
    assert np.all(kept | (per_channel[..., 0] == 0))                    # kept ones scaled by 1/(1-p)
    assert abs(1 - kept.mean() - 0.3) < 0.06                            # about p of the channels dropped
    out.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), ratio)                 # the gradient is the same mask


@pytest.mark.parametrize("layer", [nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout])
def test_dropout_layers_are_the_identity_in_eval_and_at_p_zero(layer):
    x = minidl.randn(2, 3, 4, 5) if layer is nn.Dropout2d else minidl.randn(2, 3, 4)
    assert layer(0.5).eval()(x) is x
    assert layer(0.0)(x) is x
    np.testing.assert_array_equal(as_numpy(layer(1.0)(x)), np.zeros(x.shape))
    assert repr(layer(0.25)) == f"{layer.__name__}(p=0.25, inplace=False)"


def test_dropout2d_reads_3d_input_as_n_c_l_with_a_warning_and_errors_name_the_op():
    minidl.manual_seed(1)
    with pytest.warns(UserWarning, match="dropout2d: received a 3-D input, read as \\(N, C, L\\)"):
        out = F.dropout2d(minidl.ones(50, 4, 6), 0.5)
    values = as_numpy(out)
    assert np.all(values == values[..., :1]) and 0 < (values == 0).mean() < 1
    with pytest.raises(ShapeError, match=r"dropout1d: expected 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape "
                                         r"\(2, 3, 4, 5\)"):
        F.dropout1d(minidl.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="Dropout2d: p must be between 0 and 1, got 1.5"):
        nn.Dropout2d(1.5)


def test_dropout2d_of_a_2d_input_drops_entries_with_a_warning_as_pytorch():
    """PyTorch's MNIST RNN example puts Dropout2d after a (batch, features) layer: each entry is then dropped
    on its own (a warning says so), and a 1-D input is refused."""
    minidl.manual_seed(2)
    with pytest.warns(UserWarning, match="dropout2d: received a 2-D input"):
        values = as_numpy(nn.Dropout2d(0.5)(minidl.ones(40, 30)))
    assert set(np.unique(values)) == {0.0, 2.0} and 0.3 < (values == 0).mean() < 0.7
    assert not np.any((values == 0).all(axis=1)) and not np.any((values == 0).all(axis=0))
    with pytest.raises(ShapeError, match=r"dropout2d: expected 3-D or 4-D \(N, C, H, W\) input, got shape \(5,\)"):
        F.dropout2d(minidl.ones(5))


def test_alpha_dropout_keeps_the_mean_and_variance_of_standard_normal_input():
    minidl.manual_seed(2)
    x = minidl.tensor(np.random.default_rng(7).standard_normal(400_000))
    out = as_numpy(F.alpha_dropout(x, 0.2, training=True))
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    alpha, p = 1.7580993408473766, 0.2
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    kept = np.isclose(out, a * as_numpy(x) + a * alpha * p, rtol=0, atol=1e-12)     # a·x + b
    dropped = np.isclose(out, -a * alpha * (1 - p), rtol=0, atol=1e-12)            # a·α' + b, α' = -α
    assert np.all(kept | dropped) and abs(dropped.mean() - p) < 0.01
    assert F.alpha_dropout(x, 0.2) is x                                  # PyTorch's default: training=False


# --- InstanceNorm --------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (3, 4, 6)), ("InstanceNorm1d", (4, 5)),
                                         ("InstanceNorm2d", (2, 4, 3, 5)), ("InstanceNorm2d", (4, 3, 3))])
@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True), (False, True)])
def test_instance_norm_matches_pytorch_in_training_and_eval(name, shape, affine, track):
    rng = np.random.default_rng(8)
    theirs = getattr(torch.nn, name)(4, affine=affine, track_running_stats=track, momentum=0.3).double()
    ours = getattr(nn, name)(4, affine=affine, track_running_stats=track, momentum=0.3, dtype=np.float64)
    if affine:
        with torch.no_grad():
            theirs.weight.normal_(), theirs.bias.normal_()
    copy_weights(theirs, ours)
    for step in range(2):
        check_module(ours, theirs, rng.standard_normal(shape) * 2 + 1, seed=step)
    for (key, mine), theirs_value in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(as_numpy(mine), theirs_value.numpy(), rtol=1e-12, atol=1e-12, err_msg=key)
    ours.eval(), theirs.eval()
    check_module(ours, theirs, rng.standard_normal(shape), seed=5)


def test_instance_norm_defaults_and_errors():
    norm = nn.InstanceNorm2d(3)
    assert norm.weight is None and norm.running_mean is None and list(norm.state_dict()) == []
    assert repr(norm) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                          "track_running_stats=False)")
    with pytest.raises(ShapeError, match=r"InstanceNorm2d: expected 3-D \(unbatched\) or 4-D input, got shape "
                                         r"\(2, 3\)"):
        norm(minidl.zeros(2, 3))
    with pytest.raises(ShapeError, match=r"InstanceNorm1d: expected input's size at dim=1 to match num_features "
                                         r"\(3\), but got input of shape \(2, 5, 4\)"):
        nn.InstanceNorm1d(3, affine=True)(minidl.zeros(2, 5, 4))
    with pytest.warns(UserWarning, match="num_features is not used because affine=False"):
        nn.InstanceNorm1d(3)(minidl.randn(2, 5, 4))
    with pytest.raises(ValueError, match="instance_norm: expected more than 1 spatial element when training"):
        nn.InstanceNorm1d(3)(minidl.zeros(2, 3, 1))


# --- EmbeddingBag ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["offsets", "last_offset", "2d"])
def test_embedding_bag_matches_pytorch(mode, layout):
    rng = np.random.default_rng(9)
    options = {"mode": mode, "padding_idx": 3, "include_last_offset": layout == "last_offset"}
    theirs = torch.nn.EmbeddingBag(8, 4, **options).double()
    ours = copy_weights(theirs, nn.EmbeddingBag(8, 4, dtype=np.float64, **options))
    ids = rng.integers(0, 8, 12)
    if layout == "2d":
        args = (ids.reshape(3, 4),)
    else:
        offsets = [0, 2, 2, 7] + ([12] if layout == "last_offset" else [])
        args = (ids, np.array(offsets))
    m_out = ours(*(minidl.tensor(a) for a in args))
    t_out = theirs(*(torch.tensor(a) for a in args))
    np.testing.assert_allclose(as_numpy(m_out), t_out.detach().numpy(), rtol=0, atol=1e-12)
    upstream = rng.standard_normal(tuple(t_out.shape))
    m_out.backward(minidl.tensor(upstream)), t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(as_numpy(ours.weight.grad), theirs.weight.grad.numpy(), rtol=0, atol=1e-12)
    assert repr(ours) == repr(theirs)


@needs_torch
def test_embedding_bag_per_sample_weights_get_gradients_as_in_pytorch():
    rng = np.random.default_rng(10)
    weight, samples = rng.standard_normal((6, 3)), rng.standard_normal(7)
    ids, offsets = np.array([0, 5, 2, 2, 1, 4, 0]), np.array([0, 3, 3, 5])
    mine = [minidl.tensor(a, requires_grad=True) for a in (weight, samples)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (weight, samples)]
    m_out = F.embedding_bag(minidl.tensor(ids), mine[0], minidl.tensor(offsets), mode="sum", per_sample_weights=mine[1])
    t_out = torch.nn.functional.embedding_bag(torch.tensor(ids), theirs[0], torch.tensor(offsets), mode="sum",
                                              per_sample_weights=theirs[1])
    upstream = rng.standard_normal(tuple(t_out.shape))
    m_out.backward(minidl.tensor(upstream)), t_out.backward(torch.tensor(upstream))
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(as_numpy(m.grad), t.grad.numpy(), rtol=0, atol=1e-12)


def test_embedding_bag_errors():
    weight = minidl.randn(5, 2)
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0 .* got 1"):
        F.embedding_bag(minidl.tensor([1, 2]), weight, minidl.tensor([1]))
    with pytest.raises(ValueError, match="a 2-D input is a batch of bags of equal length, so offsets must be None"):
        F.embedding_bag(minidl.tensor([[1, 2]]), weight, minidl.tensor([0]))
    with pytest.raises(ShapeError, match="a 1-D input needs 1-D offsets"):
        F.embedding_bag(minidl.tensor([1, 2]), weight)
    with pytest.raises(ValueError, match="per_sample_weights is only supported for mode='sum', got mode='mean'"):
        F.embedding_bag(minidl.tensor([[1, 2]]), weight, per_sample_weights=minidl.ones(1, 2))
    with pytest.raises(NotImplementedError, match="max_norm=1.0 is not supported"):
        nn.EmbeddingBag(5, 2, max_norm=1.0)(minidl.tensor([[1]]))
    with pytest.raises(IndexError, match=r"embedding_bag: ids must lie in \[0, 5\)"):
        F.embedding_bag(minidl.tensor([[7]]), weight)


def test_functional_and_module_names_are_exported():
    for name in ("max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
                 "unfold", "fold", "dropout1d", "dropout2d", "alpha_dropout", "instance_norm", "embedding_bag"):
        assert callable(getattr(F, name)) and name in F.__all__
    for name in ("Unflatten", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d",
                 "Dropout1d", "Dropout2d", "AlphaDropout", "InstanceNorm1d", "InstanceNorm2d", "MaxPool1d",
                 "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool2d", "EmbeddingBag", "Unfold", "Fold"):
        assert name in nn.__all__ and issubclass(getattr(nn, name), nn.Module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # constructing them warns about nothing
        nn.Dropout1d(), nn.InstanceNorm1d(2), nn.EmbeddingBag(3, 2)
