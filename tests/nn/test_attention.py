"""MultiheadAttention and the mask helpers: gradients, PyTorch parity, masks, errors."""

import math

import numpy as np
import pytest

import minidl
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn.attention import MultiheadAttention, causal_mask, padding_mask
from minidl.nn.transformer import Transformer
from minidl.testing import gradcheck
from conftest import as_numpy, leaf, with_params

try:
    import torch
except ImportError:  # the parity tests are skipped without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

E, H, L, S, B = 4, 2, 3, 4, 2  # embed_dim, heads, target length, source length, batch


def mha_pair(batch_first=False, bias=True, embed_dim=8, heads=2):
    """A float64 torch MHA and a minidl MHA holding the same weights (eval mode)."""
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(embed_dim, heads, bias=bias, batch_first=batch_first).double().eval()
    ours = MultiheadAttention(embed_dim, heads, bias=bias, batch_first=batch_first, dtype=np.float64).eval()
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, ours


# --- masks in the MultiheadAttention convention (True = masked); every query keeps key 0 ------------------

def _bool_attn(rng, shape):
    mask = rng.random(shape) < 0.4
    mask[..., 0] = False
    return mask


def _bool_padding(rng):
    mask = rng.random((B, S)) < 0.4
    mask[:, 0] = False
    return mask


MASKS = {
    "none": lambda rng: {},
    "bool_2d": lambda rng: {"attn_mask": _bool_attn(rng, (L, S))},
    "bool_3d": lambda rng: {"attn_mask": _bool_attn(rng, (B * H, L, S))},
    "float_2d": lambda rng: {"attn_mask": rng.standard_normal((L, S))},
    "float_3d": lambda rng: {"attn_mask": rng.standard_normal((B * H, L, S))},
    "bool_padding": lambda rng: {"key_padding_mask": _bool_padding(rng)},
    "float_padding": lambda rng: {"key_padding_mask": rng.standard_normal((B, S))},
    "bool_both": lambda rng: {"attn_mask": _bool_attn(rng, (L, S)), "key_padding_mask": _bool_padding(rng)},
    "float_both": lambda rng: {"attn_mask": rng.standard_normal((B * H, L, S)),
                               "key_padding_mask": np.where(_bool_padding(rng), -np.inf, 0.0)},
}
WEIGHTS = {"none": {"need_weights": False}, "average": {}, "per_head": {"average_attn_weights": False}}


def _inputs(rng, batch_first, length=L, source=S, embed_dim=8):
    def draw(n):
        return rng.standard_normal((B, n, embed_dim) if batch_first else (n, B, embed_dim))
    return draw(length), draw(source), draw(source)


def _run_both(reference, ours, query, key, value, masks, options, rng, same=()):
    """Forward and backward in both frameworks; returns [(name, torch value, minidl value)]."""
    t_in = {n: torch.tensor(a, requires_grad=True) for n, a in (("q", query), ("k", key), ("v", value))}
    m_in = {n: leaf(a) for n, a in (("q", query), ("k", key), ("v", value))}
    for alias, target in same:  # e.g. ("k", "q") makes key the very same tensor as query
        t_in[alias], m_in[alias] = t_in[target], m_in[target]
    t_out, t_w = reference(t_in["q"], t_in["k"], t_in["v"],
                           **{k: torch.tensor(v) for k, v in masks.items()}, **options)
    m_out, m_w = ours(m_in["q"], m_in["k"], m_in["v"], **{k: minidl.tensor(v) for k, v in masks.items()}, **options)
    assert (t_w is None) == (m_w is None)
    grad_out = rng.standard_normal(tuple(t_out.shape))
    t_loss = (t_out * torch.tensor(grad_out)).sum()
    m_loss = (m_out * minidl.tensor(grad_out)).sum()
    pairs = [("output", t_out, m_out)]
    if t_w is not None:
        grad_w = rng.standard_normal(tuple(t_w.shape))
        t_loss = t_loss + (t_w * torch.tensor(grad_w)).sum()
        m_loss = m_loss + (m_w * minidl.tensor(grad_w)).sum()
        pairs.append(("weights", t_w, m_w))
    t_loss.backward()
    m_loss.backward()
    pairs += [(f"grad {n}", t_in[n].grad, m_in[n].grad) for n in dict.fromkeys("qkv") if n not in dict(same)]
    ours_params = dict(ours.named_parameters())
    pairs += [(f"grad {n}", p.grad, ours_params[n].grad) for n, p in reference.named_parameters()]
    return pairs


def _assert_pairs(pairs, atol=1e-10):
    for name, expected, actual in pairs:
        np.testing.assert_allclose(as_numpy(actual), expected.detach().numpy(), atol=atol, rtol=1e-8, err_msg=name)


# --- PyTorch parity ----------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask", MASKS)
def test_matches_pytorch_with_every_mask(mask, batch_first, weights):
    rng = np.random.default_rng(1)
    reference, ours = mha_pair(batch_first)
    query, key, value = _inputs(rng, batch_first)
    _assert_pairs(_run_both(reference, ours, query, key, value, MASKS[mask](rng), WEIGHTS[weights], rng))


@needs_torch
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kind", ["self", "key_is_value"])
def test_matches_pytorch_self_and_cross_attention(kind, need_weights):
    rng = np.random.default_rng(2)
    reference, ours = mha_pair(batch_first=True)
    query, key, value = _inputs(rng, True, length=S)
    same = (("k", "q"), ("v", "q")) if kind == "self" else (("v", "k"),)
    masks = {"key_padding_mask": _bool_padding(rng)}
    _assert_pairs(_run_both(reference, ours, query, key, value, masks, {"need_weights": need_weights}, rng, same))


@needs_torch
@pytest.mark.parametrize("need_weights", [True, False])
def test_matches_pytorch_is_causal_hint(need_weights):
    rng = np.random.default_rng(3)
    reference, ours = mha_pair()
    query = _inputs(rng, False, length=S)[0]
    masks = {"attn_mask": np.triu(np.ones((S, S), dtype=bool), 1)}
    options = {"need_weights": need_weights, "is_causal": True}
    _assert_pairs(_run_both(reference, ours, query, query, query, masks, options, rng, (("k", "q"), ("v", "q"))))


@needs_torch
def test_matches_pytorch_unbatched_and_without_bias():
    rng = np.random.default_rng(4)
    reference, ours = mha_pair(bias=False)
    query, key, value = (x[:, 0] for x in _inputs(rng, False))
    masks = {"attn_mask": _bool_attn(rng, (2, L, S)), "key_padding_mask": _bool_padding(rng)[0]}
    pairs = _run_both(reference, ours, query, key, value, masks, {"average_attn_weights": False}, rng)
    assert pairs[0][2].shape == (L, 8) and pairs[1][2].shape == (2, L, S)
    _assert_pairs(pairs)


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_matches_pytorch(bias):
    reference = torch.nn.MultiheadAttention(8, 2, bias=bias)
    ours = MultiheadAttention(8, 2, bias=bias)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]


@needs_torch
def test_causal_mask_helpers_match_pytorch():
    expected = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    np.testing.assert_array_equal(Transformer.generate_square_subsequent_mask(5).numpy(), expected)
    np.testing.assert_array_equal(causal_mask(5).numpy(), np.isinf(expected))


# --- gradients ------------------------------------------------------------------------------------------------

PARAMS = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]


def _small_mha(**options):
    minidl.manual_seed(0)
    mha = MultiheadAttention(E, H, dtype=np.float64, **options)
    with minidl.no_grad():  # non-zero biases, so that their gradients are really checked
        mha.in_proj_bias.copy_(minidl.randn(3 * E, dtype=np.float64))
        mha.out_proj.bias.copy_(minidl.randn(E, dtype=np.float64))
    return mha


def _param_leaves(module):
    return [leaf(as_numpy(p).copy()) for p in module.parameters()]


def test_gradcheck_cross_attention_with_weights():
    mha = _small_mha()
    rng = np.random.default_rng(5)
    q, k, v = (leaf(rng.standard_normal(shape)) for shape in ((L, B, E), (S, B, E), (S, B, E)))
    run = with_params(mha, PARAMS)
    gradcheck(lambda q, k, v, *p: run(lambda: mha(q, k, v, average_attn_weights=False), *p),
              [q, k, v, *_param_leaves(mha)])


def test_gradcheck_with_masks_and_a_learned_float_mask():
    mha = _small_mha(batch_first=True)
    rng = np.random.default_rng(6)
    q, k, v = (leaf(rng.standard_normal(shape)) for shape in ((B, L, E), (B, S, E), (B, S, E)))
    float_mask = leaf(rng.standard_normal((L, S)))
    padding = minidl.tensor(_bool_padding(rng))
    gradcheck(lambda q, k, v, m: mha(q, k, v, attn_mask=m, key_padding_mask=padding), [q, k, v, float_mask])


def test_gradcheck_causal_self_attention():
    mha = _small_mha()
    x = leaf(np.random.default_rng(7).standard_normal((S, B, E)))
    run = with_params(mha, PARAMS)
    gradcheck(lambda x, *p: run(lambda: mha(x, x, x, attn_mask=causal_mask(S), need_weights=False,
                                            is_causal=True)[0], *p),
              [x, *_param_leaves(mha)])


# --- behaviour --------------------------------------------------------------------------------------------------

def test_fully_masked_keys_give_zeros_and_finite_gradients():
    mha = _small_mha()
    with minidl.no_grad():
        mha.out_proj.bias.zero_()
    rng = np.random.default_rng(8)
    q, k = leaf(rng.standard_normal((L, B, E))), leaf(rng.standard_normal((S, B, E)))
    padding = padding_mask([S, 0], max_len=S)  # batch element 1: every key is padding
    for need_weights in (True, False):
        out, weights = mha(q, k, k, key_padding_mask=padding, need_weights=need_weights)
        assert np.all(as_numpy(out[:, 1]) == 0) and np.isfinite(as_numpy(out)).all()
        if need_weights:
            assert np.all(as_numpy(weights[1]) == 0)
            np.testing.assert_allclose(as_numpy(weights[0]).sum(-1), 1.0)
        out.sum().backward()
        for grad in (q.grad, k.grad, *(p.grad for p in mha.parameters())):
            assert np.isfinite(as_numpy(grad)).all()
        assert np.all(as_numpy(q.grad[:, 1]) == 0)
        q.grad = k.grad = None
        mha.zero_grad()


def test_projection_uses_one_gemm_for_self_attention(monkeypatch):
    calls = []
    linear = F.linear
    monkeypatch.setattr(F, "linear", lambda *args: calls.append(args[1].shape) or linear(*args))
    mha = MultiheadAttention(8, 2)
    x, y, z = minidl.randn(5, 2, 8), minidl.randn(4, 2, 8), minidl.randn(4, 2, 8)
    expected = {(x, x, x): [(24, 8), (8, 8)], (x, y, y): [(8, 8), (16, 8), (8, 8)],
                (x, y, z): [(8, 8), (8, 8), (8, 8), (8, 8)]}
    for (q, k, v), shapes in expected.items():
        calls.clear()
        mha(q, k, v)
        assert calls == shapes


def test_initialisation_follows_pytorch():
    minidl.manual_seed(0)
    mha = MultiheadAttention(64, 4)
    w = as_numpy(mha.in_proj_weight)
    assert np.abs(w).max() <= math.sqrt(6 / (64 + 192)) and w.std() == pytest.approx(math.sqrt(2 / 256), rel=0.05)
    out_w = as_numpy(mha.out_proj.weight)  # Linear's default init: U(-1/√fan_in, 1/√fan_in)
    assert np.abs(out_w).max() <= 1 / 8 and out_w.std() == pytest.approx(1 / 8 / math.sqrt(3), rel=0.05)
    assert not as_numpy(mha.in_proj_bias).any() and not as_numpy(mha.out_proj.bias).any()


def test_attention_dropout_only_in_training():
    minidl.manual_seed(0)
    mha = MultiheadAttention(8, 2, dropout=0.5)
    x = minidl.randn(6, 3, 8)
    out, weights = mha(x, x, x, average_attn_weights=False)
    assert (as_numpy(weights) == 0).mean() > 0.2  # weights are returned after dropout, as in PyTorch
    mha.eval()
    out, weights = mha(x, x, x)
    np.testing.assert_allclose(as_numpy(weights).sum(-1), 1.0, rtol=1e-5)
    assert np.array_equal(as_numpy(mha(x, x, x)[0]), as_numpy(out))


def test_runs_on_the_strict_device():
    mha = MultiheadAttention(8, 2).to("strict")
    x = minidl.randn(5, 2, 8, device="strict", requires_grad=True)
    masks = {"attn_mask": causal_mask(5, device="strict"), "key_padding_mask": padding_mask([5, 3], device="strict")}
    for need_weights in (True, False):
        out, _ = mha(x, x, x, need_weights=need_weights, **masks)
        out.sum().backward()
    assert x.grad.device == "strict"


# --- mask helpers ------------------------------------------------------------------------------------------------

def test_causal_mask():
    np.testing.assert_array_equal(causal_mask(3).numpy(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    assert causal_mask(3).dtype == np.bool_


def test_padding_mask_from_lengths_and_ids():
    np.testing.assert_array_equal(padding_mask([3, 1]).numpy(), [[0, 0, 0], [0, 1, 1]])
    np.testing.assert_array_equal(padding_mask(minidl.tensor([2, 0]), max_len=3).numpy(), [[0, 0, 1], [1, 1, 1]])
    ids = minidl.tensor([[5, 7, 0], [4, 0, 0]])
    np.testing.assert_array_equal(padding_mask(ids, pad_id=0).numpy(), [[0, 0, 1], [0, 1, 1]])
    with pytest.raises(ValueError, match="max_len"):
        padding_mask([4, 1], max_len=3)
    with pytest.raises(TypeError, match="integer lengths"):
        padding_mask([1.5, 2.0])


# --- errors --------------------------------------------------------------------------------------------------------

def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        MultiheadAttention(10, 3)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        MultiheadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(NotImplementedError, match="kdim"):
        MultiheadAttention(8, 2, kdim=4)
    mha = MultiheadAttention(8, 2)
    q, k = minidl.randn(3, 2, 8), minidl.randn(4, 2, 8)
    with pytest.raises(ShapeError, match=r"attn_mask must have shape .*\(3, 4\).*\(4, 3, 4\).*got \(4, 3\)"):
        mha(q, k, k, attn_mask=causal_mask(4)[:, :3])
    with pytest.raises(ShapeError, match=r"key_padding_mask .*\(2, 4\).*got \(2, 3\)"):
        mha(q, k, k, key_padding_mask=padding_mask([3, 3]))
    with pytest.raises(TypeError, match="attn_mask must be a bool or floating-point tensor, got dtype minidl.int64"):
        mha(q, k, k, attn_mask=minidl.zeros(3, 4, dtype=np.int64))
    with pytest.raises(TypeError, match="key_padding_mask"):
        mha(q, k, k, key_padding_mask=minidl.zeros(2, 4, dtype=np.int32))
    with pytest.raises(ValueError, match="is_causal"):
        mha(q, q, q, is_causal=True)
    with pytest.raises(ShapeError, match=r"embed_dim=8.*\(3, 2, 6\)"):
        mha(minidl.randn(3, 2, 6), k, k)
    with pytest.raises(ShapeError, match="batch sizes"):
        mha(q, minidl.randn(4, 3, 8), minidl.randn(4, 3, 8))
