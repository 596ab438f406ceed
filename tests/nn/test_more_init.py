"""The initialisation schemes trunc_normal_, orthogonal_, eye_, dirac_ and sparse_: their distributions
(bounds, mean, standard deviation, orthogonality), their deterministic fills against PyTorch's, and errors."""

import math

import numpy as np
import pytest

import minidl
from minidl.nn import functional as F
from minidl.nn import init
from conftest import as_numpy

try:
    import torch
except ImportError:  # the parity tests are skipped without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed: pip install torch")


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x):
    return (1 + math.erf(x / math.sqrt(2))) / 2


def truncated_moments(mean, std, a, b):
    """Mean and standard deviation of N(mean, std²) truncated to [a, b] (the textbook formulas)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = _cdf(beta) - _cdf(alpha)
    shift = (_phi(alpha) - _phi(beta)) / mass
    tail = [x * _phi(x) if math.isfinite(x) else 0.0 for x in (alpha, beta)]  # x·φ(x) → 0 as x → ±∞
    variance = 1 + (tail[0] - tail[1]) / mass - shift ** 2
    return mean + std * shift, std * math.sqrt(variance)


# --- trunc_normal_ ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, -1.0, 4.0), (0.0, 0.02, -0.04, 0.04),
                                             (0.0, 1.0, 1.0, 3.0), (5.0, 1.0, -math.inf, 4.0)])
def test_trunc_normal_stays_within_bounds_with_the_truncated_moments(mean, std, a, b):
    minidl.manual_seed(0)
    values = as_numpy(init.trunc_normal_(minidl.empty(200_000, dtype=np.float64), mean, std, a, b))
    expected_mean, expected_std = truncated_moments(mean, std, a, b)
    assert values.min() >= a and values.max() <= b
    assert abs(values.mean() - expected_mean) < 0.01 * expected_std
    assert abs(values.std() - expected_std) < 0.01 * expected_std
    if math.isfinite(a):  # the whole interval is used, right up to both ends
        span = min(b - a, 8 * std)
        assert values.min() < a + 0.01 * span and values.max() > min(b, mean + 3 * std) - 0.01 * span


def test_trunc_normal_default_is_the_standard_normal_cut_at_two():
    minidl.manual_seed(1)
    values = as_numpy(init.trunc_normal_(minidl.empty(300, 400)))
    assert values.dtype == np.float32 and values.min() >= -2 and values.max() <= 2
    below_one = (np.abs(values) < 1).mean()                             # P(|x| < 1 | |x| < 2) = 0.6827/0.9545
    assert abs(below_one - 0.6827 / 0.9545) < 0.01


def test_trunc_normal_takes_a_generator_and_refuses_an_empty_interval():
    first = init.trunc_normal_(minidl.empty(5), generator=minidl.Generator().manual_seed(3))
    second = init.trunc_normal_(minidl.empty(5), generator=minidl.Generator().manual_seed(3))
    np.testing.assert_array_equal(as_numpy(first), as_numpy(second))
    with pytest.raises(ValueError, match="trunc_normal_: needs a < b and std > 0, got a=2, b=-2"):
        init.trunc_normal_(minidl.empty(3), a=2, b=-2)


# --- orthogonal_ -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8), (6, 2, 2, 2), (2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    minidl.manual_seed(2)
    tensor = init.orthogonal_(minidl.empty(*shape, dtype=np.float64), gain=gain)
    q = as_numpy(tensor).reshape(shape[0], -1)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T            # QᵀQ = I (tall) or QQᵀ = I (wide)
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(q.shape)), atol=1e-12)


def test_orthogonal_matrices_are_uniformly_distributed():
    """Haar measure on O(3): every entry has mean 0 and variance 1/3, with signs of both kinds."""
    minidl.manual_seed(4)
    draws = np.stack([as_numpy(init.orthogonal_(minidl.empty(3, 3, dtype=np.float64))) for _ in range(3000)])
    assert np.abs(draws.mean(axis=0)).max() < 0.04
    np.testing.assert_allclose((draws ** 2).mean(axis=0), np.full((3, 3), 1 / 3), atol=0.03)


def test_orthogonal_refuses_a_vector():
    with pytest.raises(ValueError, match=r"orthogonal_: only tensors with 2 or more dimensions are supported, got "
                                         r"shape \(4,\)"):
        init.orthogonal_(minidl.empty(4))


# --- eye_, dirac_, sparse_ -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (4, 2)])
def test_eye_fills_the_identity(shape):
    np.testing.assert_array_equal(as_numpy(init.eye_(minidl.randn(*shape))), np.eye(*shape))
    with pytest.raises(ValueError, match=r"eye_: only tensors with 2 dimensions are supported"):
        init.eye_(minidl.empty(2, 2, 2))


@needs_torch
@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((3, 5, 3, 3), 1), ((6, 2, 3, 2), 2), ((4, 2, 1, 3, 3), 2),
                                           ((6, 3, 2, 2), 3)])
def test_dirac_matches_pytorch(shape, groups):
    theirs = torch.nn.init.dirac_(torch.empty(shape), groups)
    np.testing.assert_array_equal(as_numpy(init.dirac_(minidl.randn(*shape), groups)), theirs.numpy())


def test_dirac_weight_makes_a_convolution_copy_its_input():
    x = minidl.randn(2, 4, 5, 5)
    weight = init.dirac_(minidl.empty(4, 4, 3, 3))
    np.testing.assert_array_equal(as_numpy(F.conv2d(x, weight, padding=1)), as_numpy(x))
    with pytest.raises(ValueError, match=r"dirac_: dim 0 \(5\) must be divisible by groups, got groups=2"):
        init.dirac_(minidl.empty(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match=r"dirac_: only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(minidl.empty(2, 2))


def test_sparse_zeroes_the_same_count_in_every_column():
    minidl.manual_seed(5)
    values = as_numpy(init.sparse_(minidl.empty(200, 300, dtype=np.float64), sparsity=0.33, std=0.05))
    zeros_per_column = (values == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros_per_column, np.full(300, math.ceil(0.33 * 200)))
    assert abs(values[values != 0].std() - 0.05) < 0.001
    assert len({tuple(np.flatnonzero(values[:, k] == 0)) for k in range(300)}) > 250  # different rows per column
    with pytest.raises(ValueError, match=r"sparse_: only tensors with 2 dimensions are supported"):
        init.sparse_(minidl.empty(3), 0.5)


def test_fills_keep_dtype_device_and_leave_no_graph():
    weight = minidl.nn.Parameter(minidl.empty(4, 4))
    for fill in (init.trunc_normal_, init.orthogonal_, init.eye_, lambda t: init.sparse_(t, 0.5)):
        out = fill(weight)
        assert out is weight and weight.dtype == minidl.float32 and weight.grad_fn is None and weight.is_leaf
    weight = minidl.nn.Parameter(minidl.empty(2, 2, 3, device="strict"))
    assert init.dirac_(weight).device == "strict"
