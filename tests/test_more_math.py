"""The remaining tensor math: the functions without gradients (bitwise logic, signbit, heaviside, isin,
logspace) against PyTorch, edge values (poles, zeros, NaN, ties), named tuples, the ``minidl.special``
namespace, and the errors for bad arguments. The differentiable ops are in the op catalogue
(minidl/testing/catalog/more_math.py)."""

import numpy as np
import pytest

import minidl
from minidl.core.errors import ShapeError

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')


def same(ours, theirs, **tolerance):
    expected = theirs.detach().numpy()
    got = ours.numpy()
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_allclose(got, expected, **tolerance)


INTEGERS = np.array([[5, -3, 12], [0, 7, -128]], dtype=np.int64)
SHIFTS = np.array([[1, 2, 0], [3, 1, 2]], dtype=np.int64)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift"])
def test_bitwise_binary_match_pytorch(name):
    same(getattr(minidl, name)(minidl.tensor(INTEGERS), minidl.tensor(SHIFTS)),
         getattr(torch, name)(torch.tensor(INTEGERS), torch.tensor(SHIFTS)))
    same(getattr(minidl.tensor(INTEGERS), name)(2), getattr(torch.tensor(INTEGERS), name)(2))


def test_bitwise_on_bools_and_operators():
    a, b = np.array([True, True, False]), np.array([True, False, False])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        same(getattr(minidl, name)(minidl.tensor(a), minidl.tensor(b)), getattr(torch, name)(torch.tensor(a),
                                                                                            torch.tensor(b)))
    same(minidl.bitwise_not(minidl.tensor(INTEGERS)), torch.bitwise_not(torch.tensor(INTEGERS)))
    x, t = minidl.tensor(INTEGERS), torch.tensor(INTEGERS)
    same(x & 6, t & 6)
    same(x | 6, t | 6)
    same(x ^ 6, t ^ 6)
    same(x << 1, t << 1)
    same(x >> 1, t >> 1)


def test_bitwise_refuses_floats():
    with pytest.raises(TypeError, match="bitwise_and: input must be an integer or bool tensor"):
        minidl.bitwise_and(minidl.tensor([1.5]), minidl.tensor([1]))
    with pytest.raises(TypeError, match="bitwise_not"):
        minidl.bitwise_not(minidl.tensor([1.5]))


def test_signbit_heaviside_sgn_fix():
    values = np.array([-2.5, -0.0, 0.0, 1.5, np.inf, -np.inf])
    same(minidl.signbit(minidl.tensor(values)), torch.signbit(torch.tensor(values)))
    steps = np.array([0.5, 0.25, 7.0, 0.1, 0.2, 0.3])
    same(minidl.heaviside(minidl.tensor(values), minidl.tensor(steps)),
         torch.heaviside(torch.tensor(values), torch.tensor(steps)))
    same(minidl.tensor(values).sgn(), torch.tensor(values).sgn())
    same(minidl.fix(minidl.tensor([-2.5, 2.5])), torch.fix(torch.tensor([-2.5, 2.5])))
    with pytest.raises(TypeError, match="heaviside: input .* and values .* must have the same dtype"):
        minidl.heaviside(minidl.tensor([1.0]), minidl.tensor([1], dtype=minidl.int64))


def test_isin_and_logspace():
    elements, tests = np.array([[1, 2, 3], [4, 5, 6]]), np.array([2, 6, 9])
    same(minidl.isin(minidl.tensor(elements), minidl.tensor(tests)), torch.isin(torch.tensor(elements),
                                                                                torch.tensor(tests)))
    same(minidl.isin(minidl.tensor(elements), minidl.tensor(tests), invert=True),
         torch.isin(torch.tensor(elements), torch.tensor(tests), invert=True))
    same(minidl.logspace(-1, 2, 5), torch.logspace(-1, 2, 5), rtol=1e-6)
    same(minidl.logspace(0, 3, 4, base=2.0, dtype=minidl.float64), torch.logspace(0, 3, 4, base=2.0,
                                                                                  dtype=torch.float64))
    with pytest.raises(ValueError, match="logspace: steps"):
        minidl.logspace(0, 1, -2)


def test_float_power_is_float64_and_true_divide_of_integers():
    same(minidl.float_power(minidl.tensor([2, 3]), 2), torch.float_power(torch.tensor([2, 3]), 2))
    same(minidl.tensor([1.5], dtype=minidl.float32).float_power(minidl.tensor([2.0])),
         torch.tensor([1.5]).float_power(torch.tensor([2.0])))
    same(minidl.true_divide(minidl.tensor([3, 4]), 2), torch.true_divide(torch.tensor([3, 4]), 2))


def test_xlogy_and_xlog1py_are_zero_where_x_is_zero():
    x, y = np.array([0.0, 0.0, 2.0, 0.0]), np.array([0.0, 3.0, 0.5, np.nan])
    same(minidl.xlogy(minidl.tensor(x), minidl.tensor(y)), torch.xlogy(torch.tensor(x), torch.tensor(y)))
    same(minidl.special.xlog1py(minidl.tensor(x), minidl.tensor(y - 1)),
         torch.special.xlog1py(torch.tensor(x), torch.tensor(y - 1)))
    ours, theirs = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    minidl.xlogy(ours, minidl.tensor([1.0, 3.0, 0.5, 2.0])).sum().backward()
    torch.xlogy(theirs, torch.tensor([1.0, 3.0, 0.5, 2.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_gamma_family_at_poles_and_far_out():
    values = np.array([0.0, -0.0, -1.0, -3.0, 1e-8, 0.5, 1.0, 2.0, 170.5, -7.3, 1e5])
    same(minidl.lgamma(minidl.tensor(values)), torch.lgamma(torch.tensor(values)), rtol=1e-12, atol=1e-14)
    same(minidl.digamma(minidl.tensor(values)), torch.digamma(torch.tensor(values)), rtol=1e-12)
    positive = values[values > 0]
    for n in (1, 2, 4):
        same(minidl.polygamma(n, minidl.tensor(positive)), torch.polygamma(n, torch.tensor(positive)), rtol=1e-8)
    same(minidl.tensor([1.0, 2.5], dtype=minidl.float32).lgamma(), torch.tensor([1.0, 2.5]).lgamma(), atol=1e-6)


def test_gamma_family_errors():
    with pytest.raises(ValueError, match="polygamma: n must be a non-negative int"):
        minidl.polygamma(-1, minidl.tensor([1.0]))
    with pytest.raises(ValueError, match=r"mvlgamma: all elements of input must be greater than \(p-1\)/2"):
        minidl.mvlgamma(minidl.tensor([0.5, 3.0]), 3)
    with pytest.raises(ValueError, match="mvlgamma: p"):
        minidl.mvlgamma(minidl.tensor([3.0]), 0)


def test_special_namespace_matches_pytorch():
    x = np.linspace(-2.5, 2.5, 11)
    for name in ("expit", "erf", "erfc", "expm1", "exp2", "gammaln", "psi", "i0", "sinc", "ndtr", "log_ndtr",
                 "entr", "round"):
        same(getattr(minidl.special, name)(minidl.tensor(x)), getattr(torch.special, name)(torch.tensor(x)),
             rtol=1e-9, atol=1e-12)
    p = np.array([0.01, 0.2, 0.5, 0.97])
    for name in ("logit", "ndtri", "erfinv", "log1p"):
        same(getattr(minidl.special, name)(minidl.tensor(p)), getattr(torch.special, name)(torch.tensor(p)),
             rtol=1e-9)
    same(minidl.special.multigammaln(minidl.tensor([3.0, 4.5]), 2), torch.special.multigammaln(
        torch.tensor([3.0, 4.5]), 2), rtol=1e-6)
    same(minidl.special.polygamma(2, minidl.tensor(p)), torch.special.polygamma(2, torch.tensor(p)), rtol=1e-9)
    same(minidl.special.softmax(minidl.tensor([[1, 2]]), 1, dtype=minidl.float64),
         torch.special.softmax(torch.tensor([[1, 2]]), 1, dtype=torch.float64))


def test_named_tuples():
    x = np.array([[3.0, 1.0, 2.0], [0.5, 4.0, 4.0]])
    low, high = minidl.aminmax(minidl.tensor(x), dim=1)
    result = minidl.tensor(x).aminmax(dim=1)
    assert result.min is low and result.max is high or (result.min.numpy() == low.numpy()).all()
    running = minidl.tensor(x).cummax(1)
    expected = torch.tensor(x).cummax(1)
    same(running.values, expected.values)
    same(running.indices, expected.indices)  # ties: the latest position, as PyTorch
    same(minidl.cummin(minidl.tensor(x), 0).indices, torch.cummin(torch.tensor(x), 0).indices)


def test_cummax_gradient_goes_to_the_running_argmax():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    ours, theirs = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    weights = np.arange(1.0, 6.0)
    (minidl.cummax(ours, 0).values * minidl.tensor(weights)).sum().backward()
    (torch.cummax(theirs, 0).values * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_logcumsumexp_does_not_overflow():
    x = np.array([1000.0, -1000.0, 1001.0, 3.0])
    same(minidl.logcumsumexp(minidl.tensor(x), 0), torch.logcumsumexp(torch.tensor(x), 0))


def test_quantiles_with_nans():
    x = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan] * 4, [2.0, 1.0, 4.0, 3.0]])
    for interpolation in ("linear", "lower", "higher", "nearest", "midpoint"):
        for fn in ("quantile", "nanquantile"):
            same(getattr(minidl, fn)(minidl.tensor(x), minidl.tensor([0.25, 0.5, 1.0]), dim=1, keepdim=True,
                                     interpolation=interpolation),
                 getattr(torch, fn)(torch.tensor(x), torch.tensor([0.25, 0.5, 1.0], dtype=torch.float64), dim=1,
                                    keepdim=True, interpolation=interpolation))
    same(minidl.nanmean(minidl.tensor(x), 1), torch.nanmean(torch.tensor(x), 1))
    same(minidl.nansum(minidl.tensor(x)), torch.nansum(torch.tensor(x)))


def test_quantile_errors():
    x = minidl.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"quantile: q values must lie in \[0, 1\]"):
        minidl.quantile(x, 1.5)
    with pytest.raises(ValueError, match="quantile: interpolation must be one of"):
        minidl.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(TypeError, match="quantile: input must be a float or double tensor"):
        minidl.quantile(minidl.tensor([1, 2]), 0.5)
    with pytest.raises(ShapeError, match="quantile: q must be a scalar or a 1-d tensor"):
        minidl.quantile(x, minidl.tensor([[0.5]]))


def test_builders_match_pytorch_and_check_arguments():
    x = np.array([1.0, 2.0, 3.0])
    same(minidl.vander(minidl.tensor(x)), torch.vander(torch.tensor(x)))
    same(minidl.vander(minidl.tensor([1, 2]), N=3, increasing=True), torch.vander(torch.tensor([1, 2]), N=3,
                                                                                  increasing=True))
    assert minidl.combinations(minidl.tensor(x), 4).shape == torch.combinations(torch.tensor(x), 4).shape
    assert minidl.combinations(minidl.tensor(x), 0).shape == torch.combinations(torch.tensor(x), 0).shape
    same(minidl.block_diag(minidl.tensor([[1, 2]]), minidl.tensor(3)),
         torch.block_diag(torch.tensor([[1, 2]]), torch.tensor(3)))
    same(minidl.diff(minidl.tensor([True, False, False])), torch.diff(torch.tensor([True, False, False])))
    with pytest.raises(ShapeError, match=r"tensordot: dim 1 of a \(shape \(2, 3\)\) and dim 0 of b"):
        minidl.tensordot(minidl.ones(2, 3), minidl.ones(2, 3), 1)
    with pytest.raises(ValueError, match="rot90: the two dims must differ"):
        minidl.rot90(minidl.ones(2, 3), 1, (1, 1))
    with pytest.raises(ShapeError, match="cartesian_prod: expects 1-d tensors"):
        minidl.cartesian_prod(minidl.ones(2, 2))
    with pytest.raises(ShapeError, match="block_diag: expects tensors of at most 2 dims"):
        minidl.block_diag(minidl.ones(1, 1, 1))
    with pytest.raises(ValueError, match="diff: n must be a non-negative int"):
        minidl.diff(minidl.ones(3), -1)


def test_cov_errors():
    x = minidl.ones(2, 4)
    with pytest.raises(ShapeError, match="cov: fweights must be a 0-d or 1-d tensor with 4 observations"):
        minidl.cov(x, fweights=minidl.tensor([1, 2]))
    with pytest.raises(TypeError, match="cov: fweights must be an integer tensor"):
        minidl.cov(x, fweights=minidl.tensor([1.0, 2.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="cov: aweights cannot be negative"):
        minidl.cov(x, aweights=minidl.tensor([1.0, -2.0, 1.0, 1.0]))
    with pytest.raises(ShapeError, match="cov: expects a tensor of at most 2 dims"):
        minidl.cov(minidl.ones(2, 2, 2))


def test_logit_eps_and_its_error():
    p = np.array([0.0, 0.1, 0.5, 1.0])
    same(minidl.logit(minidl.tensor(p), eps=0.2), torch.logit(torch.tensor(p), eps=0.2))
    with pytest.raises(ValueError, match=r"logit: eps must lie in \[0, 0.5\]"):
        minidl.logit(minidl.tensor(p), eps=0.7)
