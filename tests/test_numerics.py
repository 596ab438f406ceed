"""Numerical stability: the fast paths (global softmax shift, BLAS row sums) agree with careful references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl
import minidl.nn.functional as F
from minidl.kernels.reduction import fast_dot_sum, fast_sum, softmax_shift


def _reference_log_softmax(x, axis):
    x = x.astype(np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


WIDE = [
    np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.5]]),  # rows far apart
    np.array([[0.0, -100.0, 50.0], [3.0, 2.0, 1.0]]),                                     # spread above 80
    np.array([[88.0, 89.0, 90.0], [-88.0, -89.0, -90.0]]),                                # exp would overflow unshifted
]


@pytest.mark.parametrize("values", WIDE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_is_stable_for_wide_ranges(values, dtype):
    x = minidl.tensor(values.astype(dtype))
    expected = _reference_log_softmax(values, 1)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(F.log_softmax(x, dim=1).numpy(), expected, atol=tolerance * 10)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), np.exp(expected), atol=tolerance)
    np.testing.assert_allclose(x.logsumexp(1).numpy(), values.max(1) + np.log(np.exp(values - values.max(1, keepdims=True)).sum(1)),
                               rtol=tolerance)
    labels = minidl.tensor(np.zeros(values.shape[0], dtype=np.int64))
    np.testing.assert_allclose(F.cross_entropy(x, labels).item(), -expected[:, 0].mean(), rtol=tolerance * 10)
    assert np.isfinite(F.softmax(x, dim=0).numpy()).all()


def test_softmax_shift_uses_rows_when_values_spread_widely():
    x = np.array([[0.0, 1.0], [500.0, 501.0]], dtype=np.float32)
    assert np.shape(softmax_shift(x, 1)) == (2, 1)
    narrow = np.array([[0.0, 1.0], [5.0, 6.0]], dtype=np.float32)
    assert np.ndim(softmax_shift(narrow, 1)) == 0


def test_attention_with_large_scores_and_masks_matches_reference():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 4)) * 30 for _ in range(3))
    mask = np.ones((3, 3), dtype=bool)
    mask[0, 1:] = False
    out = F.scaled_dot_product_attention(*(minidl.tensor(a) for a in (q, k, v)), attn_mask=minidl.tensor(mask))
    scores = q @ k.transpose(0, 2, 1) / 2.0 + np.where(mask, 0.0, -np.inf)
    weights = np.exp(_reference_log_softmax(scores, -1))
    np.testing.assert_allclose(out.numpy(), weights @ v, rtol=1e-10, atol=1e-10)


@st.composite
def reductions(draw):
    """Two arrays of one shape (C-contiguous, or not: the plain path), axes to reduce, keepdims."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    axes = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    if draw(st.booleans()):
        a = a.T.copy().T  # same shape, Fortran order
    return a, b, axes, draw(st.booleans())


@settings(max_examples=100, deadline=None)
@given(case=reductions())
def test_fast_sum_equals_numpy_sum(case):
    a, _, axes, keepdims = case
    np.testing.assert_allclose(fast_sum(a, axes, keepdims), a.sum(axis=axes, keepdims=keepdims),
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(case=reductions())
def test_fast_dot_sum_equals_numpy_sum_of_the_product(case):
    a, b, axes, keepdims = case
    np.testing.assert_allclose(fast_dot_sum(a, b, axes, keepdims), (a * b).sum(axis=axes, keepdims=keepdims),
                               rtol=1e-12, atol=1e-12)
