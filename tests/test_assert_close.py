"""minidl.testing.assert_close reports as torch.testing.assert_close does (tolerances per dtype,
containers, scalars, NumPy arrays, messages); minidl.histc counts as torch.histc does."""

import numpy as np
import pytest

import minidl
from minidl.testing import NotCloseError, assert_close

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

T = minidl.tensor


def torch_like(value):
    """The same value with minidl tensors turned into PyTorch tensors (containers followed)."""
    if isinstance(value, minidl.Tensor):
        return torch.from_numpy(np.array(value.array))
    if isinstance(value, dict):
        return {key: torch_like(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(torch_like(item) for item in value)
    return value


def outcome(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 (compared between the two libraries)
        return type(error), str(error).replace("torch.", "minidl.")
    return None


PAIRS = [
    (T([[1., 2.], [3., 4.]]), T([[1., 2.], [3.5, 4.]]), {}),
    (T([[1., 2.], [3., 4.]]), T([[1., 2.], [3. + 2e-6, 4.]]), {}),
    (T([[1, 2], [3, 4]]), T([[1, 2], [5, 4]]), {}),
    (T([1., 2.]), T([1., 2., 3.]), {}),
    (T([1., 2.5, 3.]), T([1., 2., 3.]), {}),
    (T([1., 2.]), T([1., 0.]), {}),
    (T([True]), T([False]), {}),
    (T([float("nan")]), T([float("nan")]), {}),
    (T([float("nan")]), T([float("nan")]), {"equal_nan": True}),
    (T([float("inf"), 1.]), T([float("inf"), 1.]), {}),
    (T([1.]), T([2.]), {"atol": 0.5, "rtol": 0}),
    (T([1.]), T([1.4]), {"atol": 0.5, "rtol": 0}),
    (T([1, 2]), T([1., 2.5]), {"check_dtype": False}),
    (T([1., 2.], dtype=minidl.float64), T([1., 2. + 1e-6]), {"check_dtype": False}),
    (T([1., 2.], dtype=minidl.float64), T([1., 2. + 1e-9], dtype=minidl.float64), {}),
    (np.array([1., 2.]), np.array([1., 2.5]), {}),
    (1., 1.0000001, {}),
    (1, 2, {}),
    (1., 1.1, {}),
    (1, 1.0, {}),
    (np.float64(1.), 1., {}),
    ((1, 2), [1, 2], {}),
    ([1, 2], [1, 2, 3], {}),
    ([T(1.), T(2.)], [T(1.), T(2.5)], {}),
    ({"a": T(1.)}, {"a": T(2.)}, {}),
    ({"a": T(1.)}, {"b": T(1.)}, {}),
    ({"a": [T([1., 2.])]}, {"a": [T([1., 3.])]}, {}),
    (T([1.]), T([2.]), {"msg": "custom"}),
    (T([1.]), T([2.]), {"msg": lambda message: "prefix " + message}),
    (T(1.), 1., {}),
    (T([1.]), np.array([1.]), {}),
    ("a", "a", {}),
]


@pytest.mark.parametrize("actual, expected, kwargs", PAIRS)
def test_assert_close_reports_as_torch(actual, expected, kwargs):
    ours = outcome(assert_close, actual, expected, **kwargs)
    theirs = outcome(torch.testing.assert_close, torch_like(actual), torch_like(expected), **kwargs)
    if theirs is None:
        assert ours is None
        return
    assert ours is not None, theirs[1]
    assert issubclass(ours[0], theirs[0])
    if "dtype' do not match" in theirs[1] or "No comparison pair" in theirs[1]:
        return  # the type and dtype names differ between the libraries (tested below)
    assert ours[1] == theirs[1]


def test_assert_close_error_is_an_assertion_error():
    assert issubclass(NotCloseError, AssertionError)
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 4 \\(25.0%\\)"):
        assert_close(T([[1., 2.], [3., 4.]]), T([[1., 2.], [3.5, 4.]]))


def test_assert_close_names_dtype_shape_and_device():
    with pytest.raises(NotCloseError, match="attribute 'dtype' do not match: minidl.float32 != minidl.float64"):
        assert_close(T([1.]), T([1.], dtype=minidl.float64))
    shapes = r"attribute 'shape' do not match: minidl.Size\(\[2\]\) != minidl.Size\(\[3\]\)"
    with pytest.raises(NotCloseError, match=shapes):
        assert_close(T([1., 2.]), T([1., 2., 3.]))


def test_assert_close_needs_both_tolerances():
    with pytest.raises(ValueError, match="got no atol"):
        assert_close(T([1.]), T([1.]), rtol=0.1)
    with pytest.raises(ValueError, match="got no rtol"):
        assert_close(T([1.]), T([1.]), atol=0.1)


def test_assert_close_refuses_subclasses_when_asked():
    parameter = minidl.nn.Parameter(np.ones(2, np.float32))
    assert_close(parameter, T([1., 1.]))
    with pytest.raises(AssertionError, match="allow_subclasses=False"):
        assert_close(parameter, T([1., 1.]), allow_subclasses=False)


HISTOGRAMS = [
    (np.array([1., 2., 1.], np.float32), dict(bins=4, min=0, max=3)),
    (np.array([1., 2., 3.], np.float32), dict(bins=3)),
    (np.array([2., 2., 2.]), dict(bins=4)),
    (np.array([1., 2., 3.]), dict(bins=4, min=1, max=1)),
    (np.array([[1., 2.], [3., 4.]], np.float32), dict(bins=4, min=2.5, max=3.5)),
    (np.array([1., np.nan, 3.], np.float32), dict(bins=4, min=0, max=4)),
    (np.array([], np.float32), dict(bins=4)),
    (np.random.default_rng(0).standard_normal(1000).astype(np.float32), dict()),
    (np.random.default_rng(1).standard_normal(500), dict(bins=7, min=-1, max=1.5)),
    (np.linspace(0, 1, 101, dtype=np.float32), dict(bins=10)),
]


@pytest.mark.parametrize("values, kwargs", HISTOGRAMS)
def test_histc_matches_torch(values, kwargs):
    ours = minidl.histc(minidl.tensor(values), **kwargs)
    theirs = torch.histc(torch.from_numpy(values), **kwargs)
    assert ours.dtype == minidl.tensor(values).dtype
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    np.testing.assert_array_equal(minidl.tensor(values).histc(**kwargs).array, theirs.numpy())


def test_histc_has_no_gradient():
    x = minidl.tensor([1., 2., 3.], requires_grad=True)
    assert not minidl.histc(x, bins=3).requires_grad


def test_histc_bad_input():
    with pytest.raises(ValueError, match="bins must be > 0, but got 0"):
        minidl.histc(T([1., 2.]), bins=0)
    with pytest.raises(ValueError, match="max must be larger than min"):
        minidl.histc(T([1., 2.]), bins=3, min=3, max=1)
    with pytest.raises(ValueError, match="not finite"):
        minidl.histc(T([1., float("inf")]), bins=3)
    with pytest.raises(NotImplementedError, match="floating"):
        minidl.histc(T([1, 2]), bins=3)
    with pytest.raises(TypeError, match="input must be a tensor"):
        minidl.histc([1., 2.], bins=3)
