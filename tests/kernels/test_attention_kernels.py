"""The attention kernel (threaded products, a shared softmax shift, BLAS row sums) equals the textbook
op: both outputs (O and the weights P) and every gradient, with every kind of mask and with dropout."""

import numpy as np
import pytest

import minidl
from minidl.kernels import attention as kernels
from minidl.ops.attention import attention_with_weights
from minidl.testing.harness import compare_paths

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def qkv(dtype, batch=(2, 3), length=5, source=6, features=4):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(batch + (n, features)).astype(dtype) for n in (length, source, source)]


MASKS = {
    "none": lambda: None,
    "bool": lambda: minidl.tensor(np.random.default_rng(1).random((5, 6)) < 0.7),
    "float": lambda: minidl.tensor(np.random.default_rng(2).standard_normal((3, 5, 6))),
    "fully masked row": lambda: minidl.tensor(np.arange(6)[None, :] < np.array([0, 1, 6, 6, 3])[:, None]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("mask", MASKS)
def test_attention_kernel_equals_textbook(mask, dtype, thread_modes, loop_modes):
    attn_mask = MASKS[mask]()
    if attn_mask is not None and attn_mask.dtype.kind == "f":
        attn_mask = attn_mask.to(dtype)
    ran = compare_paths(lambda q, k, v: attention_with_weights(q, k, v, attn_mask=attn_mask), qkv(dtype),
                        **TOLERANCE[dtype], what=f"attention, mask {mask}")
    assert ran == {kernels.ScaledDotProductAttention}


def test_attention_kernel_equals_textbook_when_causal_and_unbatched(loop_modes):
    compare_paths(lambda q, k, v: attention_with_weights(q, k, v, is_causal=True), qkv(np.float64, (), 4, 4),
                  **TOLERANCE[np.float64], what="causal attention")


def test_a_learned_float_mask_gets_the_same_gradient_on_both_paths(loop_modes):
    arrays = qkv(np.float64) + [np.random.default_rng(3).standard_normal((5, 6))]
    compare_paths(lambda q, k, v, m: attention_with_weights(q, k, v, attn_mask=m), arrays,
                  **TOLERANCE[np.float64], what="learned mask")


def test_dropout_with_one_seed_gives_the_same_result_on_both_paths(loop_modes):
    def attend(q, k, v):
        minidl.manual_seed(7)
        return attention_with_weights(q, k, v, dropout_p=0.3)
    compare_paths(attend, qkv(np.float64), **TOLERANCE[np.float64], what="dropout")


def test_only_the_weights_used_still_back_propagate_the_same(loop_modes):
    compare_paths(lambda q, k, v: attention_with_weights(q, k, v)[1] * 3.0, qkv(np.float64),
                  **TOLERANCE[np.float64], what="weights only")


def test_the_textbook_op_runs_with_kernels_off():
    q, k, v = (minidl.tensor(a, requires_grad=True) for a in qkv(np.float64))
    assert type(attention_with_weights(q, k, v)[0].grad_fn) is kernels.ScaledDotProductAttention
    with minidl.use_kernels(False):
        assert type(attention_with_weights(q, k, v)[0].grad_fn) is minidl.ops.attention.ScaledDotProductAttention


def test_a_bool_mask_hiding_scores_far_above_the_allowed_ones_gives_the_same_weights():
    """Scores 300 apart: the shift must come from the allowed keys, or allowed rows would underflow to zeros."""
    q, k, v = qkv(np.float32, (2,), 3, 4)
    k[..., 0, :] = 100.0 * q[..., 0, :].sum() / np.abs(q[..., 0, :].sum())  # one key scores far above the rest
    mask = minidl.tensor(np.array([[False, True, True, True]] * 3))
    compare_paths(lambda *t: attention_with_weights(*t, attn_mask=mask), [q, k, v], **TOLERANCE[np.float32],
                  what="masked outlier")
