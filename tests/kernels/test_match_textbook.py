"""Every kernel computes what its textbook op computes: each op case of the catalogue runs with
kernels on and off (threaded paths forced), and outputs and gradients must agree; and every
registered kernel is run by at least one case."""

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from minidl.core import dispatch
from minidl.core.function import Function
from minidl.testing.harness import check_kernels
from minidl.testing.catalog import CASES

SETTINGS = settings(max_examples=10, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("case", CASES, ids=str)
@SETTINGS
@given(data=st.data())
def test_kernel_equals_textbook(case, data, force_threads):
    check_kernels(case, data.draw(case.examples))


def test_every_kernel_is_run_by_the_catalogue(force_threads):
    run = set()
    first_example_only = settings(database=None, max_examples=1, phases=[Phase.generate])  # no shrinking
    for case in CASES:
        example = find(case.examples, lambda _: True, settings=first_example_only)
        run |= check_kernels(case, example)
    function_kernels = {k for k in dispatch.registered().values() if isinstance(k, type) and issubclass(k, Function)}
    missing = sorted(k.__qualname__ for k in function_kernels - run)
    assert not missing, f"no op case runs these kernels: {', '.join(missing)}"
