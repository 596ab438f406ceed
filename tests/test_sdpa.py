"""scaled_dot_product_attention: forward vs NumPy, gradient checks, strict device and PyTorch parity,
with and without masks, causal, custom scale; and its errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from minidl.core.errors import ShapeError
from minidl.testing.harness import Example, OpCase, check_forward, check_gradient, check_torch


def _reference(q, k, v, mask=None, is_causal=False, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        mask = np.tril(np.ones(scores.shape[-2:], dtype=bool))
    if mask is not None:
        scores = scores + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    finite = np.isfinite(scores).any(axis=-1, keepdims=True)
    shifted = np.where(finite, scores - np.where(finite, scores.max(axis=-1, keepdims=True), 0), -np.inf)
    weights = np.exp(shifted)
    weights = weights / np.where(weights.sum(-1, keepdims=True) == 0, 1, weights.sum(-1, keepdims=True))
    return weights @ v


@st.composite
def attention_examples(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    length, source, features, value_features = (draw(st.integers(1, 4)) for _ in range(4))
    variant = draw(st.sampled_from(["plain", "bool", "float", "causal", "scale", "row_masked"]))
    params = {}
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if variant in ("bool", "row_masked"):
        mask = rng.random((length, source)) > 0.4
        mask[:, 0] = True
        if variant == "row_masked":
            mask[0] = False  # a query that sees no key: zeros, zero gradients
        params["mask"] = mask
    elif variant == "float":
        params["mask"] = rng.standard_normal((1,) * len(batch) + (length, source))
    elif variant == "causal":
        source = length
        params["is_causal"] = True
    elif variant == "scale":
        params["scale"] = draw(st.floats(0.1, 2.0))
    shapes = (batch + (length, features), batch + (source, features), batch + (source, value_features))
    return Example(shapes, params, seed=draw(st.integers(0, 2**31)), noncontiguous=draw(st.booleans()))


def _ours(q, k, v, mask=None, **options):
    mask = None if mask is None else minidl.tensor(mask, device=q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **options)


def _theirs(q, k, v, mask=None, **options):
    import torch
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=None if mask is None else torch.tensor(mask), **options)


CASE = OpCase("scaled_dot_product_attention", _ours, _reference, attention_examples(), torch_fn=_theirs)


@pytest.mark.parametrize("device", ["cpu", "strict"])
@settings(max_examples=25, deadline=None)
@given(example=attention_examples())
def test_forward_and_gradient(example, device):
    check_forward(CASE, example, device)
    check_gradient(CASE, example, device)


@settings(max_examples=25, deadline=None)
@given(example=attention_examples())
def test_matches_pytorch(example):
    torch = pytest.importorskip("torch")
    if "mask" in example.params and example.params["mask"].dtype == bool and (~example.params["mask"]).all(-1).any():
        return  # PyTorch gives NaN for a fully masked row; minidl gives zeros (documented)
    check_torch(CASE, example, torch)


def test_fully_masked_row_gives_zeros_and_zero_gradients():
    q, k, v = (minidl.randn(2, 3, 4, dtype=minidl.float64, requires_grad=True) for _ in range(3))
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=minidl.tensor(mask))
    out.backward(minidl.ones_like(out))
    assert np.all(out.detach().numpy()[:, 1] == 0)
    assert np.all(q.grad.numpy()[:, 1] == 0) and np.isfinite(k.grad.numpy()).all()


def test_errors_name_the_argument_and_shapes():
    q, k, v = minidl.randn(2, 3, 4), minidl.randn(2, 5, 4), minidl.randn(2, 5, 6)
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(4, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=minidl.ones(4, 5, dtype=minidl.bool_))
    with pytest.raises(TypeError, match="bool or float"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=minidl.ones(3, 5, dtype=minidl.int64))
    with pytest.raises(ShapeError, match="do not fit"):
        F.scaled_dot_product_attention(q, minidl.randn(2, 5, 3), v)
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


def test_mask_on_another_device_is_refused():
    q = minidl.randn(2, 3, 4).to("strict")
    with pytest.raises(minidl.DeviceError, match="scaled_dot_product_attention.*strict.*cpu"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=minidl.ones(3, 3, dtype=minidl.bool_))


def test_dropout_is_seeded_and_only_active_when_asked():
    q, k, v = (minidl.randn(1, 4, 8) for _ in range(3))
    minidl.manual_seed(3)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    minidl.manual_seed(3)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    plain = F.scaled_dot_product_attention(q, k, v).numpy()
    assert np.array_equal(first, again) and not np.allclose(first, plain)
