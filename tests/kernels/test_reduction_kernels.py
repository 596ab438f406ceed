"""The reduction kernels (sum, mean, logsumexp through BLAS row sums) equal their textbook ops."""

import numpy as np
import pytest

import minidl
from minidl.kernels import reduction as kernels
from minidl.testing.harness import compare_paths
from conftest import strided

#: BLAS row sums add in another order than NumPy's pairwise sums
TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}
CASES = [((0, 4), (1,)), ((0, 4), (0,)), ((1,), (0,)), ((5,), None), ((6, 7), (1,)), ((6, 7), (0,)),
         ((3, 4, 5), (1, 2)), ((3, 4, 5), (0, 2)), ((2, 1, 3), (1,)), ((64, 3, 32, 32), (0, 2, 3))]


def values(shape, dtype, noncontiguous):
    array = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    return strided(array) if noncontiguous else array


@pytest.mark.parametrize("keepdim", [False, True], ids=["dropped", "kept"])
@pytest.mark.parametrize("noncontiguous", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape, dims", CASES, ids=str)
@pytest.mark.parametrize("name, kernel", [("sum", kernels.Sum), ("mean", kernels.Mean),
                                          ("logsumexp", kernels.LogSumExp)])
def test_reduction_kernel_equals_textbook(name, kernel, shape, dims, dtype, noncontiguous, keepdim, thread_modes):
    x = values(shape, dtype, noncontiguous)
    function = getattr(minidl, name)
    ran = compare_paths(lambda t: function(t, dim=dims, keepdim=keepdim), [x], **TOLERANCE[dtype], what=name)
    assert ran == {kernel}


def test_integer_sums_and_means_of_ints_stay_exact():
    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    with minidl.use_kernels(False):
        expected = minidl.tensor(x).sum(dim=1).tolist()
    assert minidl.tensor(x).sum(dim=1).tolist() == expected == [6, 22, 38]


def test_logsumexp_kernel_handles_rows_of_minus_infinity():
    x = np.array([[-np.inf, -np.inf], [0.0, 1.0], [700.0, -700.0]])
    compare_paths(lambda t: minidl.logsumexp(t, dim=1), [x], rtol=1e-12, atol=0, what="logsumexp")
