"""minidl's compute threads (minidl/kernels/threads.py) and the products on them (products.py):
sharing out must never change what is computed."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl.kernels import products
from minidl.kernels import threads as parallel
from minidl.testing import gradcheck


@pytest.fixture
def threads(monkeypatch):
    """Two threads, every array and product counted as big enough to share out, and shared out."""
    before = minidl.get_num_threads()
    minidl.set_num_threads(2)
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_MULTIPLY_ADDS", 1)
    parallel.set_plan("minidl")
    yield
    parallel.set_plan(None)
    minidl.set_num_threads(before)


@pytest.fixture
def shared(monkeypatch, threads):
    """Records how many items each parallel.map call was given."""
    calls = []
    original = parallel.map

    def spy(function, items):
        items = list(items)
        calls.append(len(items))
        return original(function, items)
    monkeypatch.setattr(parallel, "map", spy)
    return calls


@pytest.mark.parametrize("count", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_refuses_anything_but_a_positive_int(count):
    with pytest.raises(ValueError, match=r"set_num_threads: expected a positive int"):
        minidl.set_num_threads(count)


def test_get_num_threads_reports_what_was_set():
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(3)
        assert minidl.get_num_threads() == 3
    finally:
        minidl.set_num_threads(before)
    assert minidl.get_num_threads() == before


def test_map_keeps_the_order_and_really_uses_another_thread(threads):
    names = parallel.map(lambda item: (item, threading.current_thread().name), range(7))
    assert [item for item, _ in names] == list(range(7))
    assert {name for _, name in names} == {threading.current_thread().name, "minidl-worker"}


def test_map_runs_serially_with_one_thread():
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(1)
        names = parallel.map(lambda item: threading.current_thread().name, range(4))
    finally:
        minidl.set_num_threads(before)
    assert set(names) == {threading.current_thread().name}


def test_map_raises_the_first_error_and_stays_usable(threads):
    def fail_on_odd(item):
        if item % 2:
            raise ValueError(f"item {item}")
        return item
    with pytest.raises(ValueError, match="item 1"):
        parallel.map(fail_on_odd, range(4))
    assert parallel.map(lambda item: item * 10, range(4)) == [0, 10, 20, 30]


def test_a_map_inside_a_map_runs_serially_instead_of_waiting_forever(threads):
    inner = parallel.map(lambda item: parallel.map(lambda x: (x, threading.current_thread().name), range(3)),
                         range(2))
    for results in inner:
        assert [x for x, _ in results] == [0, 1, 2]
        assert len({name for _, name in results}) == 1  # each inner map stayed on its own thread


def _blas_threads(threadpoolctl):
    """The thread counts of NumPy's BLAS (not of another package's, e.g. the SciPy that Numba loads)."""
    return {pool["num_threads"] for pool in minidl.core.machine.blas_libraries()}


def test_blas_runs_one_thread_while_minidls_threads_share_out_work(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    threadpoolctl.threadpool_limits(3, user_api="blas")  # as other code might set it in between
    inside = parallel.map(lambda item: _blas_threads(threadpoolctl), range(2))
    assert inside == [{1}, {1}]
    assert _blas_threads(threadpoolctl) == {1}


def test_the_blas_plan_gives_blas_minidls_thread_count_and_shares_nothing_out():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(3)
        parallel.set_plan("blas")
        assert _blas_threads(threadpoolctl) == {3}
        assert parallel.slices(90, np.zeros((90, 2**20), dtype=np.uint8)) == [slice(0, 90)]
        assert {name for name in parallel.map(lambda item: threading.current_thread().name, range(3))} == \
            {threading.current_thread().name}
        parallel.set_plan("one thread")
        assert _blas_threads(threadpoolctl) == {1}
        parallel.restore_blas()
        assert parallel.get_plan() == "one thread"
    finally:
        parallel.set_plan(None)
        minidl.set_num_threads(before)
        parallel.restore_blas()


@pytest.mark.parametrize("plan", ["two", "", 2, "BLAS"])
def test_set_plan_refuses_unknown_plans_and_names_the_known_ones(plan):
    with pytest.raises(ValueError, match=r"set_plan: plan must be one of 'minidl', 'blas', 'one thread' or None"):
        parallel.set_plan(plan)


@given(count=st.integers(0, 50))
@settings(max_examples=30, deadline=None)
def test_slices_cover_the_range_once_in_order(count):
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(3)
        parts = parallel.slices(count)
    finally:
        minidl.set_num_threads(before)
    assert [i for part in parts for i in range(count)[part]] == list(range(count))
    assert len(parts) == max(1, min(3, count))


def test_slices_keep_small_and_non_numpy_arrays_whole():
    small = np.zeros((64, 10), dtype=np.float32)
    assert parallel.slices(64, small) == [slice(0, 64)]
    big = np.zeros((64, 2 * parallel.split_bytes() // 256), dtype=np.float32)
    assert len(parallel.slices(64, big)) == min(2, minidl.get_num_threads())
    strict = minidl.tensor(big).to("strict").array
    assert parallel.slices(64, strict) == [slice(0, 64)]
    assert parallel.split(lambda part: part, np.ones(())) == [...]


# shapes that take each path of products.matmul when shared out: rows, inner dimension, stack, stack of one,
# matrix-vector, and the broadcasts it leaves to NumPy
MATMUL_CASES = [((40, 7), (7, 5), True), ((3, 300), (300, 4), True), ((6, 5, 7), (6, 7, 3), True),
                ((1, 40, 4), (1, 4, 6), True), ((50, 8), (8,), True), ((4, 10, 8), (8, 3), True),
                ((5, 7), (2, 7, 3), False), ((2, 5, 7), (1, 7, 3), False), ((7,), (7, 3), False)]


@pytest.mark.parametrize("a_shape,b_shape,splits", MATMUL_CASES)
def test_matmul_equals_numpy_on_every_path(shared, a_shape, b_shape, splits):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    result = products.matmul(a, b)
    assert result.shape == (a @ b).shape and result.dtype == (a @ b).dtype
    np.testing.assert_allclose(result, a @ b, rtol=1e-12, atol=1e-12)
    assert (max(shared, default=0) > 1) == splits


@given(m=st.integers(1, 70), k=st.integers(1, 300), n=st.integers(1, 9), batch=st.integers(0, 3),
       transpose=st.booleans())
@settings(max_examples=40, deadline=None)
def test_matmul_equals_numpy_for_any_shape_and_layout(m, k, n, batch, transpose):
    before = minidl.get_num_threads()
    saved = parallel.MIN_MULTIPLY_ADDS, parallel.MIN_BYTES
    try:
        minidl.set_num_threads(2)
        parallel.MIN_MULTIPLY_ADDS = parallel.MIN_BYTES = 1
        parallel.set_plan("minidl")
        rng = np.random.default_rng(m * 1000 + k)
        lead = (batch,) if batch else ()
        a = rng.standard_normal(lead + (m, k)).astype(np.float32)
        b = rng.standard_normal(lead + (n, k)).astype(np.float32).swapaxes(-1, -2) if transpose else \
            rng.standard_normal(lead + (k, n)).astype(np.float32)
        np.testing.assert_allclose(products.matmul(a, b), a @ b, rtol=1e-4, atol=1e-4 * np.sqrt(k))
    finally:
        parallel.MIN_MULTIPLY_ADDS, parallel.MIN_BYTES = saved
        parallel.set_plan(None)
        minidl.set_num_threads(before)


def test_matmuls_runs_pairs_side_by_side_and_keeps_none(shared):
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((8, 5)), rng.standard_normal((5, 6)), rng.standard_normal((6, 4))
    first, missing, second = products.matmuls([(a, b), None, (b, c)])
    assert missing is None
    np.testing.assert_allclose(first, a @ b)
    np.testing.assert_allclose(second, b @ c)
    assert shared and shared[0] == 3


@pytest.mark.parametrize("shape,other_shape", [((6, 4, 3, 3), (1, 4, 1, 1)), ((6, 5, 3), (6, 5, 1)),
                                               ((6, 5), ()), ((6, 5), (5,)), ((1, 5), (1, 5))])
def test_ufunc_cuts_only_the_operands_that_run_along_the_first_axis(threads, shape, other_shape):
    rng = np.random.default_rng(2)
    x, other = rng.standard_normal(shape), rng.standard_normal(other_shape)
    out = parallel.ufunc(np.subtract, x, other, out=np.empty(shape))
    np.testing.assert_array_equal(out, x - other)
    np.testing.assert_array_equal(parallel.ufunc(np.subtract, other, x, out=np.empty(shape)), other - x)


def _model_outputs(threads_count):
    """A CNN step's output and gradients, run with the given number of threads."""
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(threads_count)
        minidl.manual_seed(0)
        nn = minidl.nn
        model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(8 * 8 * 8, 10)).to(dtype=minidl.float64)
        x = minidl.tensor(np.random.default_rng(3).standard_normal((9, 3, 16, 16)), requires_grad=True)
        out = model(x)
        out.backward(minidl.tensor(np.random.default_rng(4).standard_normal(out.shape)))
        return [out.array, x.grad.array] + [p.grad.array for p in model.parameters()]
    finally:
        minidl.set_num_threads(before)


def test_a_cnn_computes_the_same_on_one_thread_and_on_two(monkeypatch):
    from minidl.kernels import conv
    monkeypatch.setattr(conv, "CHUNK_BYTES", 30_000)        # several convolution chunks
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_MULTIPLY_ADDS", 1)
    one = _model_outputs(1)
    try:
        for plan in parallel.PLANS:
            parallel.set_plan(plan)
            for single, shared in zip(one, _model_outputs(2)):
                np.testing.assert_allclose(shared, single, rtol=1e-10, atol=1e-12)
    finally:
        parallel.set_plan(None)


def test_gradients_stay_correct_when_shared_out(threads):
    rng = np.random.default_rng(5)
    x = minidl.tensor(rng.standard_normal((4, 3, 6, 6)), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((5, 3, 3, 3)), requires_grad=True)
    gamma = minidl.tensor(rng.standard_normal(5) + 2, requires_grad=True)
    beta = minidl.tensor(rng.standard_normal(5), requires_grad=True)

    def block(x, w, gamma, beta):
        y = minidl.nn.functional.conv2d(x, w, padding=1)
        y = minidl.nn.functional.batch_norm(y, None, None, gamma, beta, training=True)
        return minidl.nn.functional.max_pool2d(minidl.relu(y), 2)
    assert gradcheck(block, (x, w, gamma, beta))
