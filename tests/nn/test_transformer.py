"""Transformer layers, encoder, decoder, the whole nn.Transformer and positional encodings."""

import math

import numpy as np
import pytest

import minidl
from minidl.core.errors import ShapeError
from minidl.nn.attention import causal_mask, padding_mask
from minidl.nn.layers import GELU
from minidl.nn.norm import LayerNorm
from minidl.nn.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from minidl.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                                   TransformerEncoderLayer)
from minidl.testing import gradcheck
from conftest import as_numpy, leaf, with_params

try:
    import torch
except ImportError:  # the parity tests are skipped without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

D, NHEAD, FF, L, S, B = 8, 2, 16, 3, 4, 2  # d_model, heads, feed-forward width, tgt length, src length, batch


def copy_of(reference, ours):
    """ours, holding reference's weights, both in eval mode (float64)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    reference.eval()
    return ours.eval()


def sequences(rng, batch_first, *lengths):
    return [rng.standard_normal((B, n, D) if batch_first else (n, B, D)) for n in lengths]


def assert_same_forward_and_backward(reference, ours, inputs, call, rng, atol=1e-9):
    """call(module, *tensors, masks) in both frameworks; compares outputs, input and parameter gradients."""
    t_in = [torch.tensor(x, requires_grad=True) for x in inputs]
    m_in = [leaf(x) for x in inputs]
    t_out, m_out = call(reference, t_in, torch.tensor), call(ours, m_in, minidl.tensor)
    np.testing.assert_allclose(as_numpy(m_out), t_out.detach().numpy(), atol=atol, rtol=1e-7, err_msg="output")
    upstream = rng.standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(upstream))
    m_out.backward(minidl.tensor(upstream))
    for i, (t, m) in enumerate(zip(t_in, m_in)):
        np.testing.assert_allclose(as_numpy(m.grad), t.grad.numpy(), atol=atol, rtol=1e-7, err_msg=f"input {i}")
    ours_params = dict(ours.named_parameters())
    assert sorted(ours_params) == sorted(n for n, _ in reference.named_parameters())
    for name, p in reference.named_parameters():
        np.testing.assert_allclose(as_numpy(ours_params[name].grad), p.grad.numpy(), atol=atol, rtol=1e-7,
                                   err_msg=name)


def _key_padding(rng, length=S):
    mask = rng.random((B, length)) < 0.4
    mask[:, 0] = False
    return mask


def _state_shapes(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


# --- PyTorch parity ------------------------------------------------------------------------------------------

LAYER_OPTIONS = [(norm_first, activation) for norm_first in (False, True) for activation in ("relu", "gelu")]


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first, activation", LAYER_OPTIONS)
def test_encoder_layer_matches_pytorch(norm_first, activation, batch_first):
    torch.manual_seed(0)
    options = dict(dim_feedforward=FF, dropout=0.1, activation=activation, norm_first=norm_first,
                   batch_first=batch_first)
    reference = torch.nn.TransformerEncoderLayer(D, NHEAD, **options).double()
    ours = copy_of(reference, TransformerEncoderLayer(D, NHEAD, dtype=np.float64, **options))
    rng = np.random.default_rng(0)
    masks = {"src_mask": causal_mask(L).numpy(), "src_key_padding_mask": _key_padding(rng, L)}

    def call(module, tensors, make):
        return module(tensors[0], **{k: make(v) for k, v in masks.items()})

    assert_same_forward_and_backward(reference, ours, sequences(rng, batch_first, L), call, rng)


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first, activation", LAYER_OPTIONS)
def test_decoder_layer_matches_pytorch(norm_first, activation, batch_first):
    torch.manual_seed(0)
    options = dict(dim_feedforward=FF, dropout=0.0, activation=activation, norm_first=norm_first,
                   batch_first=batch_first)
    reference = torch.nn.TransformerDecoderLayer(D, NHEAD, **options).double()
    ours = copy_of(reference, TransformerDecoderLayer(D, NHEAD, dtype=np.float64, **options))
    rng = np.random.default_rng(1)
    masks = {"tgt_mask": Transformer.generate_square_subsequent_mask(L, dtype=np.float64).numpy(),
             "memory_mask": rng.standard_normal((L, S)), "memory_key_padding_mask": _key_padding(rng)}

    def call(module, tensors, make):
        return module(*tensors, tgt_is_causal=True, **{k: make(v) for k, v in masks.items()})

    assert_same_forward_and_backward(reference, ours, sequences(rng, batch_first, L, S), call, rng)


@needs_torch
@pytest.mark.parametrize("batch_first, norm_first", [(False, False), (True, True)])
def test_transformer_matches_pytorch_outputs_and_every_gradient(batch_first, norm_first):
    torch.manual_seed(0)
    options = dict(d_model=D, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
                   dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    reference = torch.nn.Transformer(**options).double()
    ours = copy_of(reference, Transformer(dtype=np.float64, **options))
    rng = np.random.default_rng(2)
    src_padding = _key_padding(rng)
    masks = {"tgt_mask": causal_mask(L).numpy(), "src_key_padding_mask": src_padding,
             "memory_key_padding_mask": src_padding, "tgt_key_padding_mask": np.array([[0, 0, 1], [0, 0, 0]], bool)}

    def call(module, tensors, make):
        return module(*tensors, **{k: make(v) for k, v in masks.items()})

    assert_same_forward_and_backward(reference, ours, sequences(rng, batch_first, S, L), call, rng)


@needs_torch
def test_state_dicts_match_pytorch():
    torch.manual_seed(0)
    for reference, ours in [
        (torch.nn.TransformerEncoderLayer(D, NHEAD, FF), TransformerEncoderLayer(D, NHEAD, FF)),
        (torch.nn.TransformerDecoderLayer(D, NHEAD, FF, bias=False), TransformerDecoderLayer(D, NHEAD, FF, bias=False)),
        (torch.nn.Transformer(D, NHEAD, 2, 1, FF), Transformer(D, NHEAD, 2, 1, FF)),
    ]:
        assert _state_shapes(ours) == _state_shapes(reference)
    assert "layers.1.self_attn.in_proj_weight" in ours.encoder.state_dict()


@needs_torch
def test_layer_norm_over_sequence_batch_features_matches_pytorch():
    """LayerNorm of (L, B, d) inputs as the layers use it: 6 rows of width 8, so the mean and
    variance must divide by the row width, not by the number of rows."""
    x = np.random.default_rng(9).standard_normal((L, B, D))
    expected = torch.nn.functional.layer_norm(torch.tensor(x), (D,)).numpy()
    np.testing.assert_allclose(as_numpy(LayerNorm(D, dtype=np.float64)(minidl.tensor(x))), expected, atol=1e-12)


# --- gradients -------------------------------------------------------------------------------------------------

def _small(layer_class, **options):
    minidl.manual_seed(0)
    return layer_class(4, 2, dim_feedforward=6, dropout=0.0, dtype=np.float64, **options)


def _perturb_norms(module):
    """LayerNorm weights 1 and biases 0 would hide mistakes in their gradients."""
    with minidl.no_grad():
        for name, param in module.named_parameters():
            if ".norm" in "." + name or "bias" in name:
                param.add_(minidl.randn(*param.shape, dtype=np.float64) * 0.5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradcheck_encoder_layer(norm_first):
    layer = _small(TransformerEncoderLayer, norm_first=norm_first, activation="gelu")
    _perturb_norms(layer)
    rng = np.random.default_rng(3)
    src = leaf(rng.standard_normal((S, B, 4)))
    padding = minidl.tensor(_key_padding(rng))
    gradcheck(lambda x: layer(x, src_mask=causal_mask(S), src_key_padding_mask=padding), [src])


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradcheck_decoder_layer(norm_first):
    layer = _small(TransformerDecoderLayer, norm_first=norm_first, batch_first=True)
    _perturb_norms(layer)
    rng = np.random.default_rng(4)
    tgt, memory = leaf(rng.standard_normal((B, L, 4))), leaf(rng.standard_normal((B, S, 4)))
    padding = minidl.tensor(_key_padding(rng))
    gradcheck(lambda t, m: layer(t, m, tgt_mask=causal_mask(L), memory_key_padding_mask=padding), [tgt, memory])


def _gradcheck_parameters(module, call):
    """gradcheck of call() with respect to every parameter of module (swapped for plain leaves)."""
    names, parameters = zip(*module.named_parameters())
    run = with_params(module, names)
    gradcheck(lambda *params: run(call, *params), [leaf(as_numpy(p).copy()) for p in parameters])


def test_gradcheck_layer_parameters():
    rng = np.random.default_rng(5)
    src, memory = (minidl.tensor(rng.standard_normal((n, B, 4))) for n in (L, S))
    encoder = _small(TransformerEncoderLayer)
    _perturb_norms(encoder)
    _gradcheck_parameters(encoder, lambda: encoder(src, src_mask=causal_mask(L)))
    decoder = _small(TransformerDecoderLayer, norm_first=True)
    _perturb_norms(decoder)
    _gradcheck_parameters(decoder, lambda: decoder(src, memory, tgt_mask=causal_mask(L)))


# --- behaviour ------------------------------------------------------------------------------------------------------

def test_encoder_layers_are_independent_deep_copies():
    layer = TransformerEncoderLayer(D, NHEAD, FF)
    encoder = TransformerEncoder(layer, 3, norm=LayerNorm(D))
    weights = [lyr.linear1.weight for lyr in encoder.layers]
    assert len(encoder.layers) == 3 and isinstance(weights[0], minidl.nn.Parameter)
    assert len({id(w.array) for w in weights} | {id(layer.linear1.weight.array)}) == 4
    assert all(np.array_equal(as_numpy(w), as_numpy(layer.linear1.weight)) for w in weights)
    with minidl.no_grad():
        weights[0].add_(1.0)
    assert not np.array_equal(as_numpy(weights[0]), as_numpy(weights[1]))
    decoder = TransformerDecoder(TransformerDecoderLayer(D, NHEAD, FF), 2)
    assert decoder.norm is None and len(list(decoder.parameters())) == 2 * len(list(decoder.layers[0].parameters()))


def test_transformer_reinitialises_matrices_with_xavier():
    minidl.manual_seed(0)
    model = Transformer(d_model=32, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=64)
    w = as_numpy(model.encoder.layers[0].linear2.weight)  # (32, 64): Linear's bound would be 1/8
    assert 1 / 8 < np.abs(w).max() <= math.sqrt(6 / 96)
    assert w.std() == pytest.approx(math.sqrt(2 / 96), rel=0.05)
    assert not as_numpy(model.encoder.layers[0].self_attn.out_proj.bias).any()
    np.testing.assert_array_equal(as_numpy(model.decoder.norm.weight), 1.0)


def test_fully_padded_sequence_gives_no_nan():
    minidl.manual_seed(0)
    model = Transformer(D, NHEAD, 1, 1, FF, dropout=0.0, batch_first=True)
    src, tgt = minidl.randn(B, S, D, requires_grad=True), minidl.randn(B, L, D, requires_grad=True)
    padding = padding_mask([S, 0], max_len=S)  # the second source is padding only
    out = model(src, tgt, tgt_mask=causal_mask(L), src_key_padding_mask=padding, memory_key_padding_mask=padding)
    out.sum().backward()
    for tensor in (out, src.grad, tgt.grad, *(p.grad for p in model.parameters())):
        assert np.isfinite(as_numpy(tensor)).all()


def test_callable_activation_and_train_mode_dropout():
    minidl.manual_seed(0)
    layer = TransformerEncoderLayer(D, NHEAD, FF, dropout=0.5, activation=GELU())
    x = minidl.randn(S, B, D)
    assert not np.allclose(as_numpy(layer(x)), as_numpy(layer(x)))  # dropout is random in training
    layer.eval()
    np.testing.assert_array_equal(as_numpy(layer(x)), as_numpy(layer(x)))


def test_transformer_errors():
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu'"):
        TransformerEncoderLayer(D, NHEAD, activation="tanh")
    model = Transformer(D, NHEAD, 1, 1, FF)
    with pytest.raises(ShapeError, match="batch size"):
        model(minidl.randn(S, 2, D), minidl.randn(L, 3, D))
    with pytest.raises(ShapeError, match="d_model=8"):
        model(minidl.randn(S, 2, D), minidl.randn(L, 2, 6))
    with pytest.raises(ValueError, match="is_causal"):
        model(minidl.randn(S, 2, D), minidl.randn(L, 2, D), tgt_is_causal=True)


# --- positional encodings ---------------------------------------------------------------------------------------------

def test_sinusoidal_table_follows_the_formula():
    module = SinusoidalPositionalEncoding(6, dropout=0.0, max_len=10, dtype=np.float64)
    pe = as_numpy(module.pe)
    for pos, i in [(0, 0), (3, 1), (9, 2)]:
        angle = pos / 10000 ** (2 * i / 6)
        assert pe[pos, 2 * i] == pytest.approx(math.sin(angle)) and pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle))
    assert "pe" not in module.state_dict()
    assert SinusoidalPositionalEncoding(5, max_len=4).pe.shape == (4, 5)  # odd d_model works too


@pytest.mark.parametrize("module_class", [SinusoidalPositionalEncoding, LearnedPositionalEmbedding])
def test_positions_are_added_along_the_sequence_dim(module_class):
    module = (module_class(D, dropout=0.0, max_len=6) if module_class is SinusoidalPositionalEncoding
              else module_class(6, D))
    table = as_numpy(module.pe if module_class is SinusoidalPositionalEncoding else module.weight)
    x = minidl.randn(4, B, D)
    np.testing.assert_allclose(as_numpy(module(x)), as_numpy(x) + table[:4, None], rtol=1e-6)
    module.batch_first = True
    np.testing.assert_allclose(as_numpy(module(x)), as_numpy(x) + table[None, :B], rtol=1e-6)
    np.testing.assert_allclose(as_numpy(module(x[:, 0])), as_numpy(x[:, 0]) + table[:4], rtol=1e-6)
    with pytest.raises(ValueError, match=r"7 positions .* max_len=6"):
        module(minidl.randn(B, 7, D))
    with pytest.raises(ShapeError, match="expected input"):
        module(minidl.randn(4, B, D + 1))


def test_learned_positional_embedding_is_trained():
    minidl.manual_seed(0)
    module = LearnedPositionalEmbedding(512, 16)
    assert module.state_dict()["weight"].shape == (512, 16)
    assert as_numpy(module.weight).std() == pytest.approx(1.0, rel=0.05)
    module(minidl.randn(3, 2, 16)).sum().backward()
    grad = as_numpy(module.weight.grad)
    np.testing.assert_array_equal(grad[:3], 2.0)  # each used row gets one gradient per batch element
    assert not grad[3:].any()
