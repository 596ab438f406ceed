"""F.ctc_loss / nn.CTCLoss, F.grid_sample and F.affine_grid against PyTorch's (forward and gradients), with
the cases the op catalogue keeps out (minidl/testing/catalog/ctc_and_sampling.py): unreachable targets
(infinite losses, NaN gradients, zero_infinity), zero lengths, raw (unnormalised) log_probs, and bad inputs."""

import itertools

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

rng = np.random.default_rng(3)
SCORES = rng.standard_normal((6, 2, 4))
PADDED = np.array([[1, 2, 2], [3, 1, 0]])
CONCATENATED = np.array([1, 2, 2, 3, 1])
LENGTHS = [  # (input_lengths, target_lengths): reachable, an unreachable second target, zero lengths
    ([6, 4], [3, 2]), ([6, 2], [3, 3]), ([5, 0], [3, 0]), ([6, 0], [2, 1]),
]


def _ctc(library, scores, targets, input_lengths, target_lengths, normalise=True, **options):
    """The loss in ``library`` (minidl or torch) and the gradient for the scores under a fixed upstream gradient."""
    x = library.tensor(scores, requires_grad=True)
    log_probs = x.log_softmax(-1) if normalise else x
    lengths = [library.tensor(values) for values in (input_lengths, target_lengths)]
    loss = library.nn.functional.ctc_loss(log_probs, library.tensor(targets), *lengths, **options)
    upstream = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape))
    loss.backward(library.tensor(upstream, dtype=loss.dtype))
    return loss.detach().numpy(), x.grad.numpy()


def _same(ours, theirs, tol=1e-10):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)  # NaN where PyTorch has NaN


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("targets", [PADDED, CONCATENATED], ids=["padded", "concatenated"])
def test_ctc_loss_matches_pytorch(targets, lengths, zero_infinity, reduction):
    input_lengths, target_lengths = lengths
    if targets.ndim == 1 and sum(target_lengths) != targets.size:
        targets = np.concatenate([PADDED[n, :k] for n, k in enumerate(target_lengths)])
    options = {"reduction": reduction, "zero_infinity": zero_infinity}
    _same(_ctc(minidl, SCORES, targets, input_lengths, target_lengths, **options),
          _ctc(torch, SCORES, targets, input_lengths, target_lengths, **options))


@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_loss_on_raw_log_probs_returns_pytorchs_gradient(blank):
    """Unnormalised log_probs: PyTorch's gradient adds exp(log_probs) to the loss's own derivative; so does minidl's."""
    targets = np.array([[1, 2, 2], [2, 1, 1]])
    _same(_ctc(minidl, SCORES, targets, [6, 5], [3, 2], normalise=False, blank=blank, reduction="sum"),
          _ctc(torch, SCORES, targets, [6, 5], [3, 2], normalise=False, blank=blank, reduction="sum"))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", [np.array([1, 2, 2]), np.array([[1, 2, 2, 0]])], ids=["1-d", "padded"])
def test_ctc_loss_unbatched_matches_pytorch(targets, reduction):
    ours = _ctc(minidl, SCORES[:, 0], targets, 5, 3, reduction=reduction)
    theirs = _ctc(torch, SCORES[:, 0], targets, 5, 3, reduction=reduction)
    assert ours[0].shape == theirs[0].shape == ()
    _same(ours, theirs)


def test_ctc_loss_float32_and_lengths_as_lists():
    x = minidl.tensor(SCORES.astype(np.float32), requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(-1), minidl.tensor(PADDED), (6, 4), [3, 2])
    theirs = torch.nn.functional.ctc_loss(torch.tensor(SCORES, dtype=torch.float32).log_softmax(-1),
                                          torch.tensor(PADDED), (6, 4), [3, 2])
    assert loss.dtype == minidl.float32
    np.testing.assert_allclose(loss.item(), theirs.item(), rtol=1e-5)


@pytest.mark.parametrize("options", [{}, {"blank": 3, "reduction": "sum"},
                                     {"reduction": "none", "zero_infinity": True}])
def test_ctc_loss_module_matches_pytorch(options):
    ours, theirs = nn.CTCLoss(**options), torch.nn.CTCLoss(**options)
    assert repr(ours) == repr(theirs) == "CTCLoss()"
    assert (ours.blank, ours.reduction, ours.zero_infinity) == (theirs.blank, theirs.reduction, theirs.zero_infinity)
    targets = np.array([[1, 2, 2], [2, 1, 0]])
    results = []
    for library, module in ((minidl, ours), (torch, theirs)):
        x = library.tensor(SCORES, requires_grad=True)
        loss = module(x.log_softmax(-1), library.tensor(targets), library.tensor([6, 2]), library.tensor([3, 2]))
        loss.sum().backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    _same(*results)


def _log_probs():
    return minidl.tensor(SCORES).log_softmax(-1)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [7, 4], [3, 2]), ValueError, "input_lengths"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [-1, 4], [3, 2]), ValueError, "input_lengths"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [6, 4], [-1, 2]), ValueError, "target_lengths"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [6, 4], [4, 2]), ShapeError, "longest target"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(CONCATENATED), [6, 4], [3, 3]), ShapeError, "sum(target_lengths)"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED[:1]), [6, 4], [3, 2]), ShapeError, "(N=2, S)"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [6], [3, 2]), ShapeError, "input_lengths"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [6, 4], [3, 2], blank=4), ValueError, "blank"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [6, 4], [3, 2], blank=-1), ValueError, "blank"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED + 2), [6, 4], [3, 2]), ValueError, "class indices"),
    (lambda: F.ctc_loss(_log_probs()[0, 0], minidl.tensor(PADDED), [6, 4], [3, 2]), ShapeError, "(T, N, C)"),
    (lambda: F.ctc_loss(minidl.zeros(0, 2, 4), minidl.tensor(PADDED), [0, 0], [0, 0]), ShapeError, "empty"),
    (lambda: F.ctc_loss(_log_probs(), minidl.tensor(PADDED), [6, 4], [3, 2], reduction="avg"), ValueError,
     "reduction"),
])
def test_ctc_loss_bad_inputs(call, error, words):
    with pytest.raises(error, match="ctc_loss") as raised:
        call()
    assert words in str(raised.value)


def _sample(library, image, grid, **options):
    x, g = library.tensor(image, requires_grad=True), library.tensor(grid, requires_grad=True)
    out = library.nn.functional.grid_sample(x, g, **options)
    upstream = np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape))
    out.backward(library.tensor(upstream))
    return out.detach().numpy(), x.grad.numpy(), g.grad.numpy()


@pytest.mark.parametrize("mode, padding_mode, align_corners",
                         itertools.product(["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True]))
@pytest.mark.parametrize("image_shape, grid_shape", [((2, 3, 4, 5), (2, 3, 2, 2)), ((1, 2, 1, 3), (1, 2, 4, 2))])
def test_grid_sample_matches_pytorch(image_shape, grid_shape, mode, padding_mode, align_corners):
    image, grid = rng.standard_normal(image_shape), rng.uniform(-1.6, 1.6, grid_shape)
    options = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    _same(_sample(minidl, image, grid, **options), _sample(torch, image, grid, **options))


def test_grid_sample_identity_grid_reads_every_pixel_back():
    image = minidl.tensor(rng.standard_normal((2, 3, 4, 5)))
    for align_corners in (False, True):
        grid = F.affine_grid(minidl.tensor([[[1.0, 0, 0], [0, 1, 0]]] * 2, dtype=minidl.float64), (2, 3, 4, 5),
                             align_corners=align_corners)
        out = F.grid_sample(image, grid, align_corners=align_corners)
        np.testing.assert_allclose(out.numpy(), image.numpy(), atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 2, 3, 2)], ids=str)
def test_affine_grid_matches_pytorch(size, align_corners):
    theta = rng.standard_normal((size[0], len(size) - 2, len(size) - 1))
    results = []
    for library in (minidl, torch):
        t = library.tensor(theta, requires_grad=True)
        grid = library.nn.functional.affine_grid(t, size, align_corners=align_corners)
        (grid * library.tensor(np.linspace(0, 1, grid.numel()).reshape(tuple(grid.shape)))).sum().backward()
        results.append((grid.detach().numpy(), t.grad.numpy()))
    _same(*results)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.grid_sample(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 2, 2, 3)), ShapeError, "grid (N, H_out"),
    (lambda: F.grid_sample(minidl.zeros(2, 1, 3, 3), minidl.zeros(1, 2, 2, 2)), ShapeError, "same N"),
    (lambda: F.grid_sample(minidl.zeros(1, 3, 3), minidl.zeros(1, 2, 2, 2)), ShapeError, "(1, 3, 3)"),
    (lambda: F.grid_sample(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 2, 2, 2), mode="cubic"), ValueError, "mode"),
    (lambda: F.grid_sample(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 2, 2, 2), padding_mode="wrap"), ValueError,
     "padding_mode"),
    (lambda: F.grid_sample(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 2, 2, 2), mode="bicubic"), NotImplementedError,
     "bicubic"),
    (lambda: F.grid_sample(minidl.zeros(1, 1, 3, 3), minidl.zeros(1, 2, 2, 2, dtype=minidl.float64)), TypeError,
     "dtype"),
])
def test_grid_sample_bad_inputs(call, error, words):
    with pytest.raises(error, match="grid_sample") as raised:
        call()
    assert words in str(raised.value)


@pytest.mark.parametrize("theta, size, error, words", [
    (minidl.zeros(2, 2, 3), (1, 1, 3, 3), ShapeError, "(1, 2, 3)"),
    (minidl.zeros(1, 2, 3), (1, 1, 2, 3, 3), ShapeError, "(1, 3, 4)"),
    (minidl.zeros(1, 2, 3), (1, 3, 3), ValueError, "size"),
    (minidl.zeros(1, 2, 3), (1, 1, 0, 3), ValueError, "positive"),
])
def test_affine_grid_bad_inputs(theta, size, error, words):
    with pytest.raises(error, match="affine_grid") as raised:
        F.affine_grid(theta, size)
    assert words in str(raised.value)
