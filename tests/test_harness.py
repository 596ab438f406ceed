"""The op-test harness and gradcheck can fail: deliberately broken ops are caught, with useful messages.

A test suite that cannot fail proves nothing. Each test here builds an op with one
deliberate mistake (a backward that returns zeros, a missing transpose, a wrong
forward, a float32 input silently upcast, a host array on the device) and shows the
harness check that catches it, with the message a learner would read. A correct op on
the same example passes, so each failure is caused by the mistake and nothing else.
"""

import re

import numpy as np
import pytest

import minidl
from minidl.core import Function
from minidl.testing.harness import Example, OpCase, check_forward, check_gradient, check_torch, examples, single
from minidl.ops.activation import Softmax
from minidl.ops.linalg import MatMul
from minidl.testing import GradcheckError, gradcheck


# --- deliberately broken ops ---------------------------------------------------------------------------------

class ZeroBackwardSoftmax(Softmax):
    """softmax with a backward that returns zeros."""

    def backward(self, g):
        return g * 0


class MissingTransposeMatMul(MatMul):
    """matmul whose backward forgets a transpose: dA = G @ B instead of G @ Bᵀ (shapes agree for square B)."""

    def backward(self, g):
        a, b = self.saved
        return g @ b, a.T @ g


class OffByOneAtOneElement(Function):
    """z = y (a copy); the backward adds 1 to the gradient of element (1, 2) only."""

    def forward(self, y):
        return y.copy()

    def backward(self, g):
        grad = g.copy()
        grad[1, 2] += 1
        return grad


class NanBackward(Function):
    """z = 2x with a backward that returns NaN everywhere."""

    def forward(self, x):
        return 2 * x

    def backward(self, g):
        return g * float("nan")


class Upcast(Function):
    """z = 2x computed and returned in float64 whatever the input dtype."""

    def forward(self, x):
        return x.astype(np.float64) * 2

    def backward(self, g):
        return 2 * g


class ImplicitHostCopy(Function):
    """z = 2x via np.asarray: a silent device-to-host copy (refused by CuPy and the strict device)."""

    def forward(self, x):
        return np.asarray(x) * 2

    def backward(self, g):
        return 2 * g


class MixesHostArray(Function):
    """z = x + 1 with the ones built by NumPy on the host."""

    def forward(self, x):
        return x + np.ones(x.shape, dtype=x.dtype)

    def backward(self, g):
        return g


class ReturnsHostArray(Function):
    """z = 1 built on the host: the output is a NumPy array whatever the input's device."""

    def forward(self, x):
        return np.ones(x.shape, dtype=x.dtype)

    def backward(self, g):
        return g * 0


# --- helpers -------------------------------------------------------------------------------------------------------

def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _case(name, fn, reference, **options):
    return OpCase(name, fn, reference, examples(single()), **options)


def _float64(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [minidl.tensor(rng.standard_normal(s), dtype=minidl.float64, requires_grad=True) for s in shapes]


SOFTMAX_EXAMPLE = Example(((3, 4),), {"dim": 1}, seed=1)
SQUARE = Example(((3, 3), (3, 3)), seed=2)
SMALL = Example(((2, 3),), seed=3)
FLOAT = r"-?[0-9.]+(?:e[-+]?\d+)?"


# --- (a) a softmax whose backward returns zeros ---------------------------------------------------------------------

def test_zero_backward_softmax_is_caught_by_check_gradient():
    broken = _case("softmax_zero_backward", lambda x, dim: ZeroBackwardSoftmax.apply(x, dim=dim), _softmax)
    with pytest.raises(AssertionError, match=rf"input 0, element \(\d, \d\): analytical -?0 vs numerical {FLOAT}"):
        check_gradient(broken, SOFTMAX_EXAMPLE)
    with pytest.raises(GradcheckError):  # the AssertionError is gradcheck's own subclass
        check_gradient(broken, SOFTMAX_EXAMPLE, device="strict")
    correct = _case("softmax", lambda x, dim: x.softmax(dim), _softmax)
    check_gradient(correct, SOFTMAX_EXAMPLE)


def test_checking_only_the_sum_would_miss_the_zero_backward_softmax():
    """Each row of a softmax sums to 1, so d(sum)/dx is 0: the broken backward's zeros are "right".

    That is why gradcheck multiplies by random output vectors instead of checking out.sum().
    """
    (x,) = _float64((3, 4))
    assert gradcheck(lambda t: ZeroBackwardSoftmax.apply(t, dim=1).sum(), [x])
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: ZeroBackwardSoftmax.apply(t, dim=1), [x])


def test_zero_backward_softmax_is_caught_by_the_pytorch_comparison():
    broken = _case("softmax_zero_backward", lambda x, dim: ZeroBackwardSoftmax.apply(x, dim=dim), _softmax,
                   torch_fn=lambda x, dim: x.softmax(dim))
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    with pytest.raises(AssertionError, match="gradient of input 0 differs from PyTorch"):
        check_torch(broken, SOFTMAX_EXAMPLE, torch)


# --- (b) a matmul whose backward forgets a transpose ---------------------------------------------------------------

def test_matmul_missing_a_transpose_is_caught():
    broken = _case("matmul_missing_transpose", lambda a, b: MissingTransposeMatMul.apply(a, b), np.matmul)
    with pytest.raises(GradcheckError, match=r"input 0, element \(\d, \d\): analytical"):
        check_gradient(broken, SQUARE)
    correct = _case("matmul", lambda a, b: a @ b, np.matmul)
    check_gradient(correct, SQUARE)
    check_forward(broken, SQUARE)  # the forward is right: only the gradient check can see the mistake


def test_matmul_missing_a_transpose_passes_only_for_a_symmetric_right_operand():
    """B = Bᵀ hides the bug; the harness draws random inputs, so it is not fooled."""
    a, b = _float64((3, 3), (3, 3))
    symmetric = minidl.tensor((b.array + b.array.T) / 2, requires_grad=True)
    assert gradcheck(lambda x, y: MissingTransposeMatMul.apply(x, y), [a, symmetric])
    with pytest.raises(GradcheckError):
        gradcheck(lambda x, y: MissingTransposeMatMul.apply(x, y), [a, b])


# --- (c) a forward that disagrees with its reference ---------------------------------------------------------------

def test_wrong_forward_is_caught():
    wrong = _case("tanh_off_by_a_little", lambda x: x.tanh() + 1e-3, np.tanh)
    with pytest.raises(AssertionError, match=r"tanh_off_by_a_little forward \(float64, cpu"):
        check_forward(wrong, SMALL)
    check_forward(_case("tanh", lambda x: x.tanh(), np.tanh), SMALL)


def test_wrong_shape_and_wrong_output_count_are_caught():
    ignores_keepdim = _case("sum_ignores_keepdim", lambda x: x.sum(-1), lambda x: x.sum(-1, keepdims=True))
    with pytest.raises(AssertionError, match=r"shape \(2,\), reference \(2, 1\)"):
        check_forward(ignores_keepdim, SMALL)
    values_only = _case("max_values_only", lambda x: x.max(-1)[0],
                        lambda x: (x.max(-1), x.argmax(-1)))
    with pytest.raises(AssertionError, match="1 outputs, reference gives 2"):
        check_forward(values_only, SMALL)


def test_returning_an_array_instead_of_a_tensor_is_caught():
    raw = _case("returns_raw_array", lambda x: x.array * 2, lambda x: 2 * x)
    with pytest.raises(AssertionError, match="returned ndarray, not a Tensor"):
        check_forward(raw, SMALL)


# --- (d) a float32 input silently upcast to float64 ----------------------------------------------------------------

def test_float32_upcast_is_caught():
    upcast = _case("upcast", lambda x: Upcast.apply(x), lambda x: 2 * x)
    with pytest.raises(AssertionError, match="float32 input gave a minidl.float64 output"):
        check_forward(upcast, SMALL)
    python_scalar = _case("times_python_float", lambda x: x * 2.0, lambda x: 2 * x)
    check_forward(python_scalar, SMALL)  # a Python scalar never promotes a float32 tensor


# --- (e) host arrays on the strict device ----------------------------------------------------------------------------

@pytest.mark.parametrize("op, message", [
    (ImplicitHostCopy, "Implicit conversion of a strict"),
    (MixesHostArray, "a NumPy array cannot be mixed with strict"),
])
def test_host_arrays_inside_forward_are_caught_on_the_strict_device(op, message):
    reference = {ImplicitHostCopy: lambda x: 2 * x, MixesHostArray: lambda x: x + 1}[op]
    case = _case(op.__name__, lambda x: op.apply(x), reference)
    check_forward(case, SMALL, device="cpu")  # NumPy itself does not mind: only the strict device shows the bug
    with pytest.raises(TypeError, match=message):
        check_forward(case, SMALL, device="strict")


def test_an_output_left_on_the_host_is_caught_on_the_strict_device():
    case = _case("returns_host_array", lambda x: ReturnsHostArray.apply(x), np.ones_like)
    check_forward(case, SMALL, device="cpu")
    with pytest.raises(AssertionError, match="output on cpu, input on strict"):
        check_forward(case, SMALL, device="strict")


def test_host_arrays_inside_backward_are_caught_on_the_strict_device():
    class HostGradient(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return 2 * g * np.ones(g.shape, dtype=g.dtype)  # host ones mixed into the device gradient

    case = _case("host_gradient", lambda x: HostGradient.apply(x), lambda x: 2 * x)
    check_gradient(case, SMALL, device="cpu")  # the gradient is right, on the host
    with pytest.raises(TypeError, match="a NumPy array cannot be mixed"):
        check_gradient(case, SMALL, device="strict")


# --- (f) gradcheck needs float64 --------------------------------------------------------------------------------------

def test_gradcheck_refuses_float32_naming_the_input():
    (x,) = _float64((3,))
    y = minidl.randn(3, requires_grad=True)  # float32, the default dtype
    with pytest.raises(TypeError, match=r"gradcheck: input 1 has dtype minidl.float32; gradcheck needs float64.*\.double\(\)"):
        gradcheck(lambda a, b: a * b, [x, y])


def test_gradcheck_refuses_inputs_that_do_not_require_grad():
    x = minidl.tensor(np.ones(3))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, [x])


# --- (g) the failure message says where and by how much ---------------------------------------------------------------

def test_failure_message_names_input_element_and_both_values():
    x, y = _float64((2, 3), (2, 3))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: a * 2 + OffByOneAtOneElement.apply(b), [x, y])
    message = str(caught.value)
    # input 0 is right; input 1 is wrong by exactly 1 at element (1, 2), where the true derivative is 0
    # for every output element but (1, 2): the full-Jacobian row of output 0 shows it most clearly.
    assert re.search(r"input 1, element \(1, 2\): analytical 1 vs numerical -?0\b", message), message
    assert "full Jacobian, output element 0" in message
    assert re.search(rf"\|difference\| 1 > atol 1e-05 \+ rtol 0\.001 \* \|numerical\|", message), message


def test_failure_message_values_are_the_real_gradients():
    """The analytical value in the message is what backward() gives, the numerical one the true derivative."""
    a, b = _float64((3, 3), (3, 3), seed=5)
    with pytest.raises(GradcheckError) as caught:  # vectors=0: only the full Jacobian, one output at a time
        gradcheck(lambda x, y: MissingTransposeMatMul.apply(x, y), [a, b], vectors=0)
    found = re.search(rf"\(full Jacobian, output element (\d+)\): input 0, element \((\d), (\d)\): "
                      rf"analytical ({FLOAT}) vs numerical ({FLOAT})", str(caught.value))
    assert found, str(caught.value)
    out, i, j = (int(found.group(k)) for k in (1, 2, 3))
    analytical, numerical = float(found.group(4)), float(found.group(5))
    g = np.zeros(9)
    g[out] = 1.0
    g = g.reshape(3, 3)
    assert analytical == pytest.approx((g @ b.array)[i, j], rel=1e-6, abs=1e-12)   # the broken G @ B
    assert numerical == pytest.approx((g @ b.array.T)[i, j], rel=1e-6, abs=1e-6)   # the true G @ Bᵀ


def test_harness_failure_message_names_the_case():
    broken = _case("matmul_missing_transpose", lambda a, b: MissingTransposeMatMul.apply(a, b), np.matmul)
    wrong = _case("exp_wrong", lambda x: x.exp() * 1.01, np.exp)
    with pytest.raises(AssertionError, match=r"exp_wrong forward \(float64, strict"):
        check_forward(wrong, SMALL, device="strict")
    with pytest.raises(GradcheckError, match="gradcheck failed"):
        check_gradient(broken, SQUARE, device="strict")


# --- NaN gradients -------------------------------------------------------------------------------------------------

def test_gradcheck_rejects_a_nan_gradient():
    """A backward that returns NaN must fail the check (|nan - numerical| is not <= any tolerance)."""
    (x,) = _float64((2, 2))
    with pytest.raises(GradcheckError, match=r"input 0, element \(\d, \d\): analytical nan"):
        gradcheck(lambda t: NanBackward.apply(t), [x])


# --- the suite's own hypothesis settings -----------------------------------------------------------------------

def test_every_hypothesis_test_has_an_example_database():
    """conftest.py keeps an example database under every profile: without one (hypothesis's "ci"
    profile, loaded where CI is set), each of a parametrized test's settings objects looks its
    database up through all the earlier parameter sets' objects, and the op catalogue's tests
    overflow the stack after about 950 of them."""
    from hypothesis import settings

    assert settings.default.database is not None
    chain = settings.default
    for _ in range(3000):  # as the pytest plugin chains a parametrized test's settings
        chain = settings(parent=chain)
        assert chain.database is not None
