"""``minidl gradcheck``: one gradient check per op of the catalog, printed as a table."""

from __future__ import annotations

import time


def _one_example(strategy):
    """A deterministic, typical example: the largest of 20 drawn from a hypothesis strategy."""
    from hypothesis import HealthCheck, Phase, given, settings
    drawn = []

    @settings(max_examples=20, derandomize=True, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(example):
        drawn.append(example)

    draw()
    return max(drawn, key=lambda e: sum(_size(shape) for shape in e.shapes))


def _size(shape):
    size = 1
    for side in shape:
        size *= side
    return size


def run(device="cpu"):
    """Check every differentiable op of the catalog on ``device``; returns the exit code."""
    try:
        from minidl.testing.harness import check_gradient
        from minidl.testing.catalog import CASES
    except ImportError as error:
        raise ValueError(f"minidl gradcheck needs hypothesis ({error}): pip install -e \".[dev]\"") from None
    from minidl.testing import GradcheckError
    failures = 0
    print(f"{'op':<34}{'input shapes':<34}{'result':<8}{'ms':>7}")
    print("-" * 83)
    for case in (c for c in CASES if c.differentiable):
        example = _one_example(case.examples)
        start = time.perf_counter()
        try:
            check_gradient(case, example, device)
            result = "PASS"
        except GradcheckError as error:
            result, failures = "FAIL", failures + 1
            print(f"  {case}: {error}")
        shapes = ", ".join(str(tuple(s)) for s in example.shapes)
        print(f"{case.name:<34}{shapes[:33]:<34}{result:<8}{(time.perf_counter() - start) * 1e3:>7.1f}")
    print(f"\n{failures} of the gradient checks failed" if failures else "\nevery gradient check passed")
    return 1 if failures else 0
