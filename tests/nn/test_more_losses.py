"""The margin, ranking and likelihood loss modules (minidl/nn/more_losses.py) against torch.nn's (same
inputs and options: forward, gradients, buffers), the legacy size_average/reduce flags, the variance clamp
of gaussian_nll_loss, and the bad inputs of the functional forms. The formulas themselves are checked case
by case in the op catalogue (minidl/testing/catalog/ranking_losses.py)."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.nn import functional as F

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')

rng = np.random.default_rng(7)
X, Y, Z = (rng.standard_normal((3, 4)) for _ in range(3))
SIGNS = rng.choice([-1.0, 1.0], (3, 4))
PROBABILITIES = rng.uniform(0, 1, (3, 4))
COUNTS = rng.choice([0.0, 0.5, 2.0, 4.0], (3, 4))
VARIANCES = rng.uniform(0.5, 2.0, (3, 1))
CLASSES = np.array([0, 3, 1])
LISTS = np.array([[0, 3, -1, 1], [2, 2, 1, -1], [-1, 0, 1, 2]])
WEIGHT = rng.uniform(0.5, 2.0, 4)


def _tensors(library, arrays, grads):
    return [library.tensor(a, requires_grad=bool(g) and a.dtype.kind == "f") for a, g in zip(arrays, grads)]


MODULES = [  # (name, constructor options, inputs, which inputs require grad)
    ("MarginRankingLoss", {"margin": 0.2}, (X, Y, SIGNS), (1, 1, 0)),
    ("MarginRankingLoss", {"size_average": False}, (X, Y, SIGNS), (1, 1, 0)),
    ("HingeEmbeddingLoss", {"margin": 0.5, "reduction": "none"}, (X, SIGNS), (1, 0)),
    ("SoftMarginLoss", {"reduce": False}, (X, SIGNS), (1, 0)),
    ("MultiLabelSoftMarginLoss", {"weight": WEIGHT}, (X, PROBABILITIES), (1, 1)),
    ("MultiMarginLoss", {"p": 2, "margin": 0.7, "weight": WEIGHT, "reduction": "sum"}, (X, CLASSES), (1, 0)),
    ("MultiLabelMarginLoss", {}, (X, LISTS), (1, 0)),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, (X, Y, Z), (1, 1, 1)),
    ("TripletMarginWithDistanceLoss", {"swap": True, "reduction": "none"}, (X, Y, Z), (1, 1, 1)),
    ("PoissonNLLLoss", {"full": True}, (X, COUNTS + 1.5), (1, 1)),
    ("PoissonNLLLoss", {"log_input": False, "eps": 1e-3}, (np.abs(X), COUNTS), (1, 1)),
    ("GaussianNLLLoss", {"full": True, "reduction": "sum"}, (X, Y, VARIANCES), (1, 1, 1)),
]


@pytest.mark.parametrize("name, options, arrays, grads", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name, options, arrays, grads):
    def build(library):
        kept = {k: library.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        return getattr(library.nn, name)(**kept)
    ours, theirs = _tensors(minidl, arrays, grads), _tensors(torch, arrays, grads)
    our_loss, their_loss = build(minidl)(*ours), build(torch)(*theirs)
    np.testing.assert_allclose(our_loss.detach().numpy(), their_loss.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(tuple(their_loss.shape))
    our_loss.backward(minidl.tensor(upstream))
    their_loss.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs):
        if reference.requires_grad:
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["MultiLabelSoftMarginLoss", "MultiMarginLoss"])
def test_weighted_losses_keep_their_weight_as_a_buffer(name):
    ours = getattr(nn, name)(weight=minidl.tensor(WEIGHT))
    theirs = getattr(torch.nn, name)(weight=torch.tensor(WEIGHT))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


def test_legacy_flags_fold_into_the_reduction():
    assert nn.SoftMarginLoss(size_average=False).reduction == "sum"
    assert nn.HingeEmbeddingLoss(reduce=False).reduction == "none"
    loss = F.margin_ranking_loss(minidl.tensor(X), minidl.tensor(Y), minidl.tensor(SIGNS), reduce=False)
    assert loss.shape == (3, 4)


def test_gaussian_nll_loss_clamps_the_variance_but_passes_its_gradient_as_torch():
    variance = np.array([[1e-9], [0.5], [2.0]])
    ours = minidl.tensor(variance, requires_grad=True)
    theirs = torch.tensor(variance, requires_grad=True)
    F.gaussian_nll_loss(minidl.tensor(X), minidl.tensor(Y), ours).backward()
    torch.nn.functional.gaussian_nll_loss(torch.tensor(X), torch.tensor(Y), theirs).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
    assert float(ours.grad.numpy()[0, 0]) != 0.0


def test_poisson_full_stirling_term_leaves_zero_counts_a_finite_target_gradient():
    """The Stirling term is dropped where target <= 1, its log never sees 0 (PyTorch gives NaN there)."""
    target = minidl.tensor(np.array([0.0, 0.5, 3.0]), requires_grad=True)
    F.poisson_nll_loss(minidl.tensor(np.array([0.1, 0.2, 0.3])), target, full=True).backward()
    assert np.isfinite(target.grad.numpy()).all()


def test_multilabel_margin_loss_counts_a_repeated_target_twice_as_torch():
    scores, listed = rng.standard_normal(4), np.array([2, 2, -1, 0])
    ours = F.multilabel_margin_loss(minidl.tensor(scores), minidl.tensor(listed))
    theirs = torch.nn.functional.multilabel_margin_loss(torch.tensor(scores), torch.tensor(listed))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# --- bad inputs ----------------------------------------------------------------------------------------------

t, ones = minidl.tensor, minidl.ones
BAD = [
    ("margin_ranking_loss_with_different_ndims", lambda: F.margin_ranking_loss(ones(3), ones(1, 3), ones(3)),
     ShapeError, ["margin_ranking_loss", "(3,)", "(1, 3)"]),
    ("margin_ranking_loss_unbroadcastable", lambda: F.margin_ranking_loss(ones(3), ones(4), ones(3)),
     ShapeError, ["margin_ranking_loss", "(3,)", "(4,)"]),
    ("hinge_embedding_loss_unbroadcastable", lambda: F.hinge_embedding_loss(ones(3, 4), ones(3)), ShapeError,
     ["hinge_embedding_loss", "(3, 4)", "(3,)"]),
    ("soft_margin_loss_target_larger_than_input", lambda: F.soft_margin_loss(ones(1, 4), ones(3, 4)), ShapeError,
     ["soft_margin_loss", "target", "(3, 4)"]),
    ("multilabel_soft_margin_loss_of_a_0d_input", lambda: F.multilabel_soft_margin_loss(t(1.0), t(1.0)),
     ShapeError, ["multilabel_soft_margin_loss", "0-d"]),
    ("multilabel_soft_margin_loss_weight_of_wrong_size",
     lambda: F.multilabel_soft_margin_loss(ones(2, 4), ones(2, 4), weight=ones(3)), ShapeError,
     ["multilabel_soft_margin_loss", "weight", "(3,)"]),
    ("multi_margin_loss_with_p_3", lambda: F.multi_margin_loss(ones(2, 4), t([0, 1]), p=3), ValueError,
     ["multi_margin_loss", "p", "3"]),
    ("multi_margin_loss_target_of_wrong_size", lambda: F.multi_margin_loss(ones(3, 4), t([0, 1])), ShapeError,
     ["multi_margin_loss", "(3,)", "(2,)"]),
    ("multi_margin_loss_target_out_of_range", lambda: F.multi_margin_loss(ones(2, 4), t([0, 4])), IndexError,
     ["multi_margin_loss", "4", "4 classes"]),
    ("multi_margin_loss_float_target", lambda: F.multi_margin_loss(ones(2, 4), t([0.0, 1.0])), TypeError,
     ["multi_margin_loss", "integer"]),
    ("multi_margin_loss_3d_input", lambda: F.multi_margin_loss(ones(2, 3, 4), t([0, 1])), ShapeError,
     ["multi_margin_loss", "(2, 3, 4)"]),
    ("multi_margin_loss_weight_of_wrong_size", lambda: F.multi_margin_loss(ones(2, 4), t([0, 1]), weight=ones(3)),
     ShapeError, ["multi_margin_loss", "weight", "(3,)"]),
    ("multilabel_margin_loss_target_of_wrong_shape", lambda: F.multilabel_margin_loss(ones(2, 4), t([[0, -1, 0]] * 2)),
     ShapeError, ["multilabel_margin_loss", "(2, 4)", "(2, 3)"]),
    ("multilabel_margin_loss_target_below_minus_1", lambda: F.multilabel_margin_loss(ones(4), t([-2, -1, 0, 0])),
     IndexError, ["multilabel_margin_loss", "-2"]),
    ("triplet_margin_loss_margin_0", lambda: F.triplet_margin_loss(ones(2, 3), ones(2, 3), ones(2, 3), margin=0),
     ValueError, ["triplet_margin_loss", "margin", "0"]),
    ("triplet_margin_loss_different_ndims", lambda: F.triplet_margin_loss(ones(2, 3), ones(3), ones(2, 3)),
     ShapeError, ["triplet_margin_loss", "anchor (2, 3)", "positive (3,)"]),
    ("triplet_margin_with_distance_loss_not_callable",
     lambda: F.triplet_margin_with_distance_loss(ones(3), ones(3), ones(3), distance_function=2), TypeError,
     ["triplet_margin_with_distance_loss", "distance_function"]),
    ("gaussian_nll_loss_negative_var", lambda: F.gaussian_nll_loss(ones(2, 3), ones(2, 3), -ones(2, 3)), ValueError,
     ["gaussian_nll_loss", "var", "negative"]),
    ("gaussian_nll_loss_negative_float_var", lambda: F.gaussian_nll_loss(ones(2, 3), ones(2, 3), -0.5), ValueError,
     ["gaussian_nll_loss", "var", "-0.5"]),
    ("gaussian_nll_loss_var_of_wrong_size", lambda: F.gaussian_nll_loss(ones(2, 3), ones(2, 3), ones(3)), ShapeError,
     ["gaussian_nll_loss", "var", "(3,)", "(2, 3)"]),
    ("gaussian_nll_loss_var_with_two_shared_dims",
     lambda: F.gaussian_nll_loss(ones(2, 3, 4), ones(2, 3, 4), ones(1, 3, 1)), ShapeError,
     ["gaussian_nll_loss", "(1, 3, 1)"]),
    ("poisson_nll_loss_unbroadcastable", lambda: F.poisson_nll_loss(ones(2, 3), ones(2)), ShapeError,
     ["poisson_nll_loss", "(2, 3)", "(2,)"]),
    ("MultiMarginLoss_with_p_3", lambda: nn.MultiMarginLoss(p=3), ValueError, ["MultiMarginLoss", "p"]),
    ("TripletMarginWithDistanceLoss_margin_0", lambda: nn.TripletMarginWithDistanceLoss(margin=0.0), ValueError,
     ["TripletMarginWithDistanceLoss", "margin"]),
    ("PoissonNLLLoss_unknown_reduction", lambda: nn.PoissonNLLLoss(reduction="avg"), ValueError,
     ["PoissonNLLLoss", "reduction", "'avg'"]),
]


@pytest.mark.parametrize("call, error, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inputs_raise_clear_errors(call, error, fragments):
    with pytest.raises(error) as raised:
        call()
    for fragment in fragments:
        assert fragment in str(raised.value), f"{fragment!r} not in {raised.value}"


UNKNOWN_REDUCTION = [
    lambda r: F.margin_ranking_loss(ones(2), ones(2), ones(2), reduction=r),
    lambda r: F.hinge_embedding_loss(ones(2), ones(2), reduction=r),
    lambda r: F.soft_margin_loss(ones(2), ones(2), reduction=r),
    lambda r: F.multilabel_soft_margin_loss(ones(2), ones(2), reduction=r),
    lambda r: F.multi_margin_loss(ones(2), t(0), reduction=r),
    lambda r: F.multilabel_margin_loss(ones(2), t([0, -1]), reduction=r),
    lambda r: F.triplet_margin_loss(ones(2), ones(2), ones(2), reduction=r),
    lambda r: F.triplet_margin_with_distance_loss(ones(2), ones(2), ones(2), reduction=r),
    lambda r: F.poisson_nll_loss(ones(2), ones(2), reduction=r),
    lambda r: F.gaussian_nll_loss(ones(2), ones(2), ones(2), reduction=r),
]


@pytest.mark.parametrize("call", UNKNOWN_REDUCTION, ids=[
    "margin_ranking", "hinge_embedding", "soft_margin", "multilabel_soft_margin", "multi_margin",
    "multilabel_margin", "triplet_margin", "triplet_margin_with_distance", "poisson_nll", "gaussian_nll"])
def test_an_unknown_reduction_is_refused_naming_the_argument(call):
    with pytest.raises(ValueError, match="reduction.*'avg'"):
        call("avg")
