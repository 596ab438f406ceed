"""scaled_dot_product_attention, more deeply than the op suite: forward vs NumPy, gradient checks,
strict device and PyTorch parity with and without masks (rows that see no key too), causal,
custom scale; and its errors. The case itself is the catalogue's."""

import numpy as np
import pytest
from hypothesis import given, settings

import minidl
import minidl.nn.functional as F
from minidl.core.errors import ShapeError
from minidl.testing.catalog import CASES
from minidl.testing.catalog.layers import attention_examples
from minidl.testing.harness import check_forward, check_gradient, check_torch

CASE = next(case for case in CASES if case.name == "scaled_dot_product_attention")


@pytest.mark.parametrize("device", ["cpu", "strict"])
@settings(max_examples=25, deadline=None)
@given(example=attention_examples(fully_masked_rows=True))
def test_forward_and_gradient(example, device):
    check_forward(CASE, example, device)
    check_gradient(CASE, example, device)


@settings(max_examples=25, deadline=None)
@given(example=attention_examples())
def test_matches_pytorch(example):
    check_torch(CASE, example, pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"'))


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
