"""No NumPy floating-point warning reaches a user from minidl (PyTorch is silent there too), while
warnings from the user's own NumPy code still do."""

import warnings

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F

CASES = {
    "log of 0": lambda: minidl.log(minidl.tensor([0.0, 1.0])),
    "log of a negative": lambda: minidl.log(minidl.tensor([-1.0])),
    "division by 0": lambda: minidl.tensor([1.0, 0.0]) / minidl.tensor([0.0, 0.0]),
    "sqrt of a negative": lambda: minidl.sqrt(minidl.tensor([-1.0])),
    "0 to a negative power": lambda: minidl.tensor([0.0]) ** -1,
    "exp overflow": lambda: minidl.exp(minidl.tensor([1000.0])),
    "binary cross-entropy at 0 and 1": lambda: F.binary_cross_entropy(
        minidl.tensor([0.0, 1.0], requires_grad=True), minidl.tensor([1.0, 0.0])).backward(),
    "log backward at 0": lambda: minidl.log(minidl.tensor([0.0], requires_grad=True)).sum().backward(),
    "sqrt backward at 0": lambda: minidl.sqrt(minidl.tensor([0.0], requires_grad=True)).sum().backward(),
    "softmax of a row of -inf": lambda: F.softmax(minidl.tensor([[-np.inf, -np.inf]]), -1),
    "log_softmax with -inf": lambda: F.log_softmax(minidl.tensor([[-np.inf, 0.0]], requires_grad=True),
                                                   -1).sum().backward(),
    "mean of nothing": lambda: minidl.zeros(0).mean(),
    "inf - inf": lambda: minidl.tensor([np.inf]) - minidl.tensor([np.inf]),
    "inf * 0": lambda: minidl.tensor([np.inf]) * 0,
    "logsumexp of -inf": lambda: minidl.logsumexp(minidl.tensor([-np.inf, -np.inf]), 0),
    "nan to int": lambda: minidl.tensor([np.nan]).long(),
}


@pytest.mark.parametrize("kernels", [True, False], ids=["kernels", "textbook"])
@pytest.mark.parametrize("name", CASES)
def test_no_numpy_warning_reaches_the_user(name, kernels):
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # every warning an error ...
        minidl.core.silence_float_warnings()         # ... but minidl's policy, as installed at import
        with minidl.use_kernels(kernels):
            CASES[name]()


def test_the_users_own_numpy_warnings_still_show():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minidl.core.silence_float_warnings()
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            np.log(np.zeros(1))
