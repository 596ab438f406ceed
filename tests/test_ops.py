"""Forward, gradient, strict-device and PyTorch-parity tests generated from the op catalogue
(minidl/testing/catalog/), each on the kernels and on the textbook path."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl.testing.catalog import CASES
from minidl.testing.harness import check_forward, check_gradient, check_torch

# "strict" runs every case through the device discipline without a GPU; "cuda" joins where CuPy sees one
DEVICES = ["cpu", "strict"] + (["cuda"] if minidl.cuda.is_available() else [])
SETTINGS = settings(max_examples=10, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES, ids=str)
@SETTINGS
@given(data=st.data())
def test_forward(case, device, kernels, data):
    check_forward(case, data.draw(case.examples), device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=str)
@SETTINGS
@given(data=st.data())
def test_gradient(case, device, kernels, data):
    check_gradient(case, data.draw(case.examples), device)


@pytest.mark.parametrize("case", [c for c in CASES if c.torch_call() is not None], ids=str)
@SETTINGS
@given(data=st.data())
def test_matches_pytorch(case, kernels, data):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    check_torch(case, data.draw(case.examples), torch)
