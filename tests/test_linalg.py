"""minidl.linalg as torch.linalg: the namespace, result tuples, the options the op catalogue does not
cover (UPLO, upper, full_matrices, qr modes), and the errors. Values and gradients of every function
are checked against NumPy and PyTorch by the catalogue (minidl/testing/catalog/linalg.py)."""

import math

import numpy as np
import pytest

import minidl
from minidl.core.errors import ShapeError
from minidl.linalg import LinAlgError

NAMES = ["cholesky", "det", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "norm", "qr", "slogdet", "solve",
         "svd", "svdvals", "vector_norm"]


def random(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_namespace_as_attribute_and_module():
    import minidl.linalg as linalg_module
    assert minidl.linalg is linalg_module
    for name in NAMES:
        assert callable(getattr(minidl.linalg, name)), name
    assert issubclass(LinAlgError, RuntimeError)


def test_names_exist_in_torch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    for name in NAMES:
        assert hasattr(torch.linalg, name), name


def test_result_tuples_have_pytorch_fields():
    a = minidl.tensor(random(3, 3) + 3 * np.eye(3))
    sign, logabsdet = minidl.linalg.slogdet(a)
    result = minidl.linalg.slogdet(a)
    assert result.sign is not None and result.logabsdet is not None
    np.testing.assert_allclose((sign * logabsdet.exp()).numpy(), minidl.linalg.det(a).numpy())
    symmetric = a + a.mT
    eigen = minidl.linalg.eigh(symmetric)
    assert eigen.eigenvalues.shape == (3,) and eigen.eigenvectors.shape == (3, 3)
    u, s, vh = minidl.linalg.svd(a)
    assert minidl.linalg.svd(a).S.shape == s.shape == (3,)
    q, r = minidl.linalg.qr(a)
    assert minidl.linalg.qr(a).Q.shape == q.shape and minidl.linalg.qr(a).R.shape == r.shape


def test_slogdet_of_negative_and_singular_matrices():
    negative = minidl.tensor([[0.0, 2.0], [1.0, 0.0]])
    assert minidl.linalg.slogdet(negative).sign.item() == -1.0
    singular = minidl.tensor([[1.0, 2.0], [2.0, 4.0]])
    assert minidl.linalg.det(singular).item() == 0.0
    assert minidl.linalg.slogdet(singular).logabsdet.item() == -math.inf


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_one_triangle_as_pytorch(uplo):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    a = random(2, 4, 4)  # not symmetric: only the UPLO triangle counts
    ours = minidl.linalg.eigh(minidl.tensor(a), UPLO=uplo)
    theirs = torch.linalg.eigh(torch.tensor(a), UPLO=uplo)
    np.testing.assert_allclose(ours.eigenvalues.numpy(), theirs.eigenvalues.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.abs(ours.eigenvectors.numpy()), np.abs(theirs.eigenvectors.numpy()), atol=1e-10)
    np.testing.assert_allclose(minidl.linalg.eigvalsh(minidl.tensor(a), UPLO=uplo).numpy(),
                               torch.linalg.eigvalsh(torch.tensor(a), UPLO=uplo).numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle_as_pytorch(upper):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    a = random(2, 3, 3) + 6 * np.eye(3)  # not symmetric: only the lower (upper) triangle counts
    ours = minidl.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    mine, reference = minidl.linalg.cholesky(ours, upper=upper), torch.linalg.cholesky(theirs, upper=upper)
    np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = random(2, 3, 3, seed=1)
    mine.backward(minidl.tensor(upstream))
    reference.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 2), (4, 4)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_shapes_and_reconstruction(shape, full):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    a = random(*shape)
    u, s, vh = minidl.linalg.svd(minidl.tensor(a), full_matrices=full)
    tu, ts, tvh = torch.linalg.svd(torch.tensor(a), full_matrices=full)
    assert (u.shape, s.shape, vh.shape) == (tuple(tu.shape), tuple(ts.shape), tuple(tvh.shape))
    k = s.shape[-1]
    rebuilt = (u.numpy()[..., :k] * s.numpy()[..., None, :]) @ vh.numpy()[..., :k, :]
    np.testing.assert_allclose(rebuilt, a, atol=1e-12)
    np.testing.assert_allclose(s.numpy(), ts.numpy(), rtol=1e-12)


def test_svd_gradient_through_u_is_a_clear_error():
    a = minidl.tensor(random(3, 3), requires_grad=True)
    u, s, vh = minidl.linalg.svd(a, full_matrices=False)
    s.sum().backward()  # through S alone: fine
    np.testing.assert_allclose(a.grad.numpy(), (u @ vh).detach().numpy(), atol=1e-12)
    with pytest.raises(NotImplementedError, match="linalg.svd.*svdvals"):
        minidl.linalg.svd(a, full_matrices=False).U.sum().backward()


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_qr_modes_as_pytorch(mode, shape):
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    a = random(*shape)
    ours, theirs = minidl.linalg.qr(minidl.tensor(a), mode=mode), torch.linalg.qr(torch.tensor(a), mode=mode)
    for mine, reference in zip(ours, theirs):
        assert mine.shape == tuple(reference.shape)
        np.testing.assert_allclose(np.abs(mine.numpy()), np.abs(reference.numpy()), atol=1e-12)
    if mode != "r":
        np.testing.assert_allclose((ours.Q @ ours.R).numpy(), a, atol=1e-12)


def test_float32_stays_float32_and_dtype_argument():
    a = minidl.tensor(random(3, 3) + 3 * np.eye(3), dtype=minidl.float32)
    for name in ("inv", "det", "svdvals", "norm"):
        assert getattr(minidl.linalg, name)(a).dtype == minidl.float32, name
    assert minidl.linalg.vector_norm(a, dtype=minidl.float64).dtype == minidl.float64
    assert minidl.linalg.matrix_norm(a, dtype=minidl.float64).dtype == minidl.float64


@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_singular_matrix_names_the_batch_element(device):
    batch = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]]])
    a = minidl.tensor(batch).to(device)
    with pytest.raises(LinAlgError, match=r"linalg.inv: \(Batch element 1\).*singular"):
        minidl.linalg.inv(a)
    with pytest.raises(LinAlgError, match=r"linalg.solve: \(Batch element 1\).*singular"):
        minidl.linalg.solve(a, minidl.ones(2, 2, 1, dtype=minidl.float64).to(device))
    with pytest.raises(LinAlgError, match=r"linalg.inv: the input matrix.*singular"):
        minidl.linalg.inv(a[1])


def test_cholesky_of_a_matrix_not_positive_definite():
    a = minidl.tensor(np.stack([np.eye(3), -np.eye(3)]))
    with pytest.raises(LinAlgError, match=r"linalg.cholesky: \(Batch element 1\).*not positive-definite"):
        minidl.linalg.cholesky(a)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh"])
def test_non_square_input(name):
    with pytest.raises(ShapeError, match=f"linalg.{name}: A must be batches of square matrices.*2 by 3"):
        getattr(minidl.linalg, name)(minidl.zeros(4, 2, 3))


def test_bad_inputs():
    a = minidl.tensor(random(3, 3))
    with pytest.raises(ShapeError, match=r"linalg.svdvals: A must have at least 2 dimensions.*\(3,\)"):
        minidl.linalg.svdvals(minidl.ones(3))
    with pytest.raises(TypeError, match="linalg.inv: expected a floating point tensor"):
        minidl.linalg.inv(minidl.ones(3, 3, dtype=minidl.int64))
    with pytest.raises(ShapeError, match=r"linalg.solve: incompatible shapes.*\(3, 3\).*\(4,\)"):
        minidl.linalg.solve(a, minidl.ones(4, dtype=minidl.float64))
    with pytest.raises(ShapeError, match="linalg.solve: with left=False"):
        minidl.linalg.solve(a, minidl.ones(3, dtype=minidl.float64), left=False)
    with pytest.raises(ValueError, match="linalg.qr: mode must be"):
        minidl.linalg.qr(a, mode="full")
    with pytest.raises(ValueError, match="linalg.eigh: UPLO must be 'L' or 'U'"):
        minidl.linalg.eigh(a, UPLO="X")
    with pytest.raises(TypeError, match="linalg.solve: A and B must have the same dtype"):
        minidl.linalg.solve(a, minidl.ones(3, dtype=minidl.float32))


def test_bad_norm_orders_and_dims():
    x = minidl.tensor(random(2, 3, 4))
    with pytest.raises(ValueError, match="linalg.matrix_norm: ord must be one of.*got 3"):
        minidl.linalg.matrix_norm(x, ord=3)
    with pytest.raises(ValueError, match="linalg.matrix_norm: dim must be a pair"):
        minidl.linalg.matrix_norm(x, dim=0)
    with pytest.raises(ValueError, match="linalg.matrix_norm: dim must name two different dims"):
        minidl.linalg.matrix_norm(x, dim=(1, -2))
    with pytest.raises(TypeError, match="linalg.vector_norm: ord must be a number"):
        minidl.linalg.vector_norm(x, ord="fro")
    with pytest.raises(ShapeError, match=r"linalg.norm: if dim is not given but ord is.*\(2, 3, 4\)"):
        minidl.linalg.norm(x, ord=2)
    with pytest.raises(ValueError, match="linalg.norm: dim must be an int or a pair"):
        minidl.linalg.norm(x, dim=(0, 1, 2))


def test_norm_dispatch_as_pytorch():
    torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    x = random(3, 4)
    for kwargs in ({}, {"ord": 2}, {"ord": "nuc"}, {"ord": -math.inf}, {"dim": 1, "ord": 0}, {"dim": (1, 0)},
                   {"dim": (0, 1), "ord": -2, "keepdim": True}):
        ours = minidl.linalg.norm(minidl.tensor(x), **kwargs)
        theirs = torch.linalg.norm(torch.tensor(x), **kwargs)
        assert ours.shape == tuple(theirs.shape), kwargs
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=str(kwargs))
    np.testing.assert_allclose(minidl.linalg.vector_norm(minidl.tensor(x), 0).numpy(), 12.0)
