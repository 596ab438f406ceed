"""Losses against torch.nn.functional (same inputs, forward and gradients), gradcheck in float64,
the conventions of conventions.md (ignore_index, label smoothing, all-ignored NaN, BCE log clamp,
stable BCE with logits), argument errors, and the loss modules with their options and reprs.
"""

import itertools
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn
from minidl.nn import functional as F
from minidl.testing import gradcheck
from conftest import as_numpy

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)  # tiny tensors: threads only contend for the shared cores
TF = torch.nn.functional

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REDUCTIONS = ["mean", "sum", "none"]


# --- helpers ------------------------------------------------------------------------------------------------

def ours_of(array, grad=False):
    return None if array is None else minidl.tensor(array, requires_grad=grad)


def theirs_of(array, grad=False):
    return None if array is None else torch.tensor(array, requires_grad=grad)


def parity(our_fn, their_fn, arrays, grad=(0,), seed=0, rtol=1e-9, atol=1e-11, **options):
    """Call both losses on the same arrays (tensors for the positions in ``grad`` require grad) with the
    same upstream gradient; compare the loss and the gradients. Returns our loss."""
    ours = [ours_of(a, i in grad) for i, a in enumerate(arrays)]
    theirs = [theirs_of(a, i in grad) for i, a in enumerate(arrays)]
    mine = our_fn(*ours, **{k: ours_of(v) if isinstance(v, np.ndarray) else v for k, v in options.items()})
    reference = their_fn(*theirs, **{k: theirs_of(v) if isinstance(v, np.ndarray) else v for k, v in options.items()})
    assert mine.shape == tuple(reference.shape)
    assert mine.dtype == arrays[0].dtype
    np.testing.assert_allclose(as_numpy(mine), reference.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(seed).standard_normal(tuple(reference.shape)) + 1.5
    mine.backward(minidl.tensor(upstream.astype(arrays[0].dtype)))
    reference.backward(torch.tensor(upstream, dtype=reference.dtype))
    for i in grad:
        np.testing.assert_allclose(ours[i].grad.numpy(), theirs[i].grad.numpy(), rtol=rtol * 10, atol=atol * 10,
                                   err_msg=f"gradient of argument {i}")
    return mine


def class_targets(rng, shape, classes, ignore_fraction=0.0, ignore_index=-100):
    """Class indices of the target shape (input shape without dim 1), some set to ignore_index."""
    target_shape = (shape[0],) + tuple(shape[2:])
    labels = rng.integers(0, classes, target_shape)
    if ignore_fraction:
        ignored = rng.random(target_shape) < ignore_fraction
        ignored.flat[0], ignored.flat[-1] = True, False  # at least one ignored and one kept
        labels = np.where(ignored, ignore_index, labels)
    return labels


def probability_targets(rng, shape):
    raw = rng.random(shape) + 0.05
    return raw / raw.sum(axis=1, keepdims=True)


# --- cross_entropy: every option combination -----------------------------------------------------------------

CE_SHAPES = {"NC": (5, 4), "NCd1d2": (2, 4, 2, 3)}


@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("targets", ["index", "probs"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore", [False, True], ids=["all-kept", "some-ignored"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cross_entropy_matches_torch_and_gradchecks(shape, targets, reduction, smoothing, ignore, weighted):
    shape = CE_SHAPES[shape]
    rng = np.random.default_rng(zlib.crc32(repr((shape, targets, reduction, smoothing, ignore, weighted)).encode()))
    x = rng.standard_normal(shape) * 2
    classes = shape[1]
    if targets == "index":
        y = class_targets(rng, shape, classes, 0.3 if ignore else 0.0)
    else:  # ignore_index has no effect on probability targets (as in PyTorch)
        y = probability_targets(rng, shape)
    options = {"reduction": reduction, "label_smoothing": smoothing, "ignore_index": -100}
    if weighted:
        options["weight"] = rng.uniform(0.2, 2.0, classes)
    parity(F.cross_entropy, TF.cross_entropy, [x, y], **options)
    weight = ours_of(options.pop("weight", None))
    target = minidl.tensor(y)
    assert gradcheck(lambda x: F.cross_entropy(x, target, weight=weight, **options), [ours_of(x, True)])


@SETTINGS
@given(batch=st.integers(1, 4), classes=st.integers(1, 5), extra=st.lists(st.integers(1, 3), max_size=2),
       targets=st.sampled_from(["index", "probs"]), reduction=st.sampled_from(REDUCTIONS),
       smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]), ignore_index=st.sampled_from([-100, 0, 2]),
       weighted=st.booleans(), scale=st.sampled_from([1.0, 50.0]), seed=st.integers(0, 2**16))
def test_cross_entropy_random_configurations_match_torch(batch, classes, extra, targets, reduction, smoothing,
                                                         ignore_index, weighted, scale, seed):
    rng = np.random.default_rng(seed)
    shape = (batch, classes) + tuple(extra)
    x = rng.standard_normal(shape) * scale
    y = rng.integers(0, classes, (batch,) + tuple(extra)) if targets == "index" else probability_targets(rng, shape)
    options = {"reduction": reduction, "label_smoothing": smoothing}
    if targets == "index":  # PyTorch refuses a non-default ignore_index with probability targets
        options["ignore_index"] = ignore_index
    if weighted:
        options["weight"] = rng.uniform(0.2, 2.0, classes)
    parity(F.cross_entropy, TF.cross_entropy, [x, y], rtol=1e-8, atol=1e-10, **options)


def test_cross_entropy_one_sample_without_batch_dim():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5)
    parity(F.cross_entropy, TF.cross_entropy, [x, np.array(3)])
    parity(F.cross_entropy, TF.cross_entropy, [x, probability_targets(rng, (1, 5))[0]], label_smoothing=0.1)


def test_cross_entropy_ignore_index_may_be_a_real_class():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3))
    y = np.array([0, 1, 2, 1, 0, 2])
    loss = parity(F.cross_entropy, TF.cross_entropy, [x, y], ignore_index=1, weight=np.array([1.0, 2.0, 3.0]))
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    kept = y != 1
    w = np.array([1.0, 2.0, 3.0])[y[kept]]
    np.testing.assert_allclose(as_numpy(loss), -(w * log_p[kept, y[kept]]).sum() / w.sum())


def test_cross_entropy_label_smoothing_excludes_ignored_rows_from_both_terms():
    """target = (1-ε)·onehot + ε/C over the kept rows only; mean divides by the number of kept rows."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    y = np.array([1, -100, 3, -100, 0])
    eps = 0.3
    loss = parity(F.cross_entropy, TF.cross_entropy, [x, y], label_smoothing=eps)
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    kept = np.flatnonzero(y != -100)
    per_row = [-(1 - eps) * log_p[i, y[i]] - eps / 4 * log_p[i].sum() for i in kept]
    np.testing.assert_allclose(as_numpy(loss), np.mean(per_row), rtol=1e-12)
    # the ignored rows get no gradient at all (not even from the smoothing term)
    x_ours = minidl.tensor(x, requires_grad=True)
    F.cross_entropy(x_ours, minidl.tensor(y), label_smoothing=eps).backward()
    np.testing.assert_array_equal(x_ours.grad.numpy()[[1, 3]], 0)


@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("options", [{}, {"weight": np.array([0.5, 1.0, 2.0, 1.5])}, {"label_smoothing": 0.2},
                                     {"weight": np.array([0.5, 1.0, 2.0, 1.5]), "label_smoothing": 0.2}],
                         ids=["plain", "weight", "smoothing", "weight+smoothing"])
def test_cross_entropy_all_targets_ignored(shape, options):
    """All targets ignored: PyTorch gives a NaN loss for 'mean' (0/0) and *zero* input gradients.
    minidl documents the same: NaN loss, zero gradients (nothing contributed); 'sum' gives 0, 'none' zeros."""
    shape = CE_SHAPES[shape]
    x = np.random.default_rng(0).standard_normal(shape)
    y = np.full((shape[0],) + shape[2:], -100)
    for reduction in REDUCTIONS:
        x_theirs = torch.tensor(x, requires_grad=True)
        their_options = {k: theirs_of(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        reference = TF.cross_entropy(x_theirs, torch.tensor(y), reduction=reduction, **their_options)
        reference.sum().backward()
        x_ours = minidl.tensor(x, requires_grad=True)
        loss = F.cross_entropy(x_ours, minidl.tensor(y), reduction=reduction,
                               **{k: ours_of(v) if isinstance(v, np.ndarray) else v for k, v in options.items()})
        if reduction == "mean":
            assert torch.isnan(reference) and np.isnan(as_numpy(loss))
        else:
            np.testing.assert_array_equal(as_numpy(loss), reference.detach().numpy())
            np.testing.assert_array_equal(as_numpy(loss), 0)
        loss.sum().backward()
        np.testing.assert_array_equal(x_theirs.grad.numpy(), 0)  # what PyTorch does
        np.testing.assert_array_equal(x_ours.grad.numpy(), 0)


def test_cross_entropy_is_stable_for_huge_logits_in_float32():
    x = np.array([[1e4, -1e4, 0.0], [-3e4, 3e4, 3e4 - 1], [80.0, 90.0, 100.0]], dtype=np.float32)
    y = np.array([1, 2, 0])
    loss = parity(F.cross_entropy, TF.cross_entropy, [x, y], rtol=1e-6, atol=1e-6)
    assert loss.dtype == np.float32 and np.isfinite(as_numpy(loss))


@pytest.mark.parametrize("bad", [4, -1])
def test_cross_entropy_target_out_of_range_raises_index_error(bad):
    with pytest.raises(IndexError, match=f"target {bad} is out of bounds"):
        F.cross_entropy(minidl.randn(3, 4), minidl.tensor([0, bad, 1]))


def test_cross_entropy_argument_errors():
    x = minidl.randn(3, 4)
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(x, minidl.tensor([0, 1]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2]), weight=minidl.ones(3))
    with pytest.raises(ValueError, match="probability targets"):
        F.cross_entropy(x, minidl.rand(3, 5))


# --- nll_loss ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3, 2)], ids=["NC", "NCd1d2"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [None, -100, 2])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_nll_loss_matches_torch(shape, reduction, ignore_index, weighted):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    if ignore_index is None:
        y, options = class_targets(rng, shape, shape[1]), {}
    else:
        y = class_targets(rng, shape, shape[1], 0.3, ignore_index)
        options = {"ignore_index": ignore_index}
    if weighted:
        options["weight"] = rng.uniform(0.2, 2.0, shape[1])
    parity(F.nll_loss, TF.nll_loss, [log_p, y], reduction=reduction, **options)
    weight = ours_of(options.pop("weight", None))
    assert gradcheck(lambda x: F.nll_loss(x, minidl.tensor(y), weight=weight, reduction=reduction, **options),
                     [ours_of(log_p, True)])


@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_all_targets_ignored_gives_nan_and_zero_gradients(weighted):
    """As PyTorch: NaN loss for 'mean' and zero gradients (not NaN) for the input."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    weight = np.array([1.0, 2.0, 3.0, 4.0]) if weighted else None
    y = np.full(3, -100)
    x_theirs = torch.tensor(x, requires_grad=True)
    reference = TF.nll_loss(x_theirs, torch.tensor(y), weight=theirs_of(weight))
    reference.backward()
    x_ours = minidl.tensor(x, requires_grad=True)
    loss = F.nll_loss(x_ours, minidl.tensor(y), weight=ours_of(weight))
    assert torch.isnan(reference) and np.isnan(as_numpy(loss))
    loss.backward()
    np.testing.assert_array_equal(x_theirs.grad.numpy(), 0)
    np.testing.assert_array_equal(x_ours.grad.numpy(), 0)


@pytest.mark.parametrize("bad", [4, -1])
def test_nll_loss_target_out_of_range_raises_index_error(bad):
    """PyTorch raises 'Target -1 is out of bounds.'; a negative target must not silently wrap around."""
    with pytest.raises(IndexError, match="nll_loss.*out of bounds"):
        F.nll_loss(minidl.randn(3, 4), minidl.tensor([0, bad, 1]))


# --- mse_loss -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_mse_loss_matches_torch_and_gradchecks(shape, reduction):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    parity(F.mse_loss, TF.mse_loss, [x, y], grad=(0, 1), reduction=reduction)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [ours_of(x, True), ours_of(y, True)])


def test_mse_loss_float32_stays_float32():
    loss = F.mse_loss(minidl.randn(3, 2), minidl.randn(3, 2))
    assert loss.dtype == np.float32 and loss.shape == ()


@pytest.mark.parametrize("target_shape", [(3,), (3, 1), (1, 4), (4, 3)])
def test_mse_loss_shape_mismatch_raises(target_shape):
    with pytest.raises(ValueError, match=r"mse_loss.*\(3, 4\).*" + str(target_shape).replace("(", r"\(")
                       .replace(")", r"\)")):
        F.mse_loss(minidl.randn(3, 4), minidl.randn(*target_shape))


# --- binary_cross_entropy -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "full", "per-column"])
def test_binary_cross_entropy_matches_torch_and_gradchecks(weight, reduction):
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.random((4, 3))
    y[0] = [0.0, 1.0, 1.0]
    w = {None: None, "full": rng.uniform(0.5, 2, (4, 3)), "per-column": rng.uniform(0.5, 2, 3)}[weight]
    options = {"reduction": reduction} if w is None else {"reduction": reduction, "weight": w}
    parity(F.binary_cross_entropy, TF.binary_cross_entropy, [p, y], **options)
    w_ours = ours_of(w)
    target = minidl.tensor(y)
    assert gradcheck(lambda p: F.binary_cross_entropy(p, target, weight=w_ours, reduction=reduction),
                     [ours_of(p, True)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_clamps_log_at_minus_100(dtype):
    """p exactly 0 or 1: each log is clamped at -100, so a confidently wrong answer costs 100 (PyTorch)."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype)
    y = np.array([0.0, 0.0, 1.0, 1.0, 1.0], dtype=dtype)
    with np.errstate(divide="ignore"):
        loss = parity(F.binary_cross_entropy, TF.binary_cross_entropy, [p, y], reduction="none", rtol=1e-6,
                      atol=1e-6)
    np.testing.assert_allclose(as_numpy(loss), [0.0, 100.0, 100.0, 0.0, np.log(2)], rtol=1e-6)
    assert np.isfinite(as_numpy(loss)).all()


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(minidl.tensor([0.5, 1.5]), minidl.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(minidl.tensor([-0.1, 0.5]), minidl.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        F.binary_cross_entropy(minidl.rand(2, 3), minidl.rand(3, 2))


# --- binary_cross_entropy_with_logits -----------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight, pos_weight", list(itertools.product([None, "full", "per-column"],
                                                                      [None, "per-column", "full"])))
def test_bce_with_logits_matches_torch_and_gradchecks(weight, pos_weight, reduction):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)) * 3
    y = rng.random((4, 3))
    y[0] = [0.0, 1.0, 1.0]
    shapes = {None: None, "full": (4, 3), "per-column": (3,)}
    w = None if weight is None else rng.uniform(0.5, 2, shapes[weight])
    pw = None if pos_weight is None else rng.uniform(0.5, 3, shapes[pos_weight])
    options = {"reduction": reduction}
    if w is not None:
        options["weight"] = w
    if pw is not None:
        options["pos_weight"] = pw
    parity(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [x, y], **options)
    w_ours, pw_ours, target = ours_of(w), ours_of(pw), minidl.tensor(y)
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, target, weight=w_ours, pos_weight=pw_ours,
                                                                  reduction=reduction), [ours_of(x, True)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_is_stable_for_large_logits(dtype):
    x = np.array([-1e4, -1e3, -100.0, -30.0, 0.0, 30.0, 100.0, 1e3, 1e4] * 2, dtype=dtype)
    y = np.array([0.0] * 9 + [1.0] * 9, dtype=dtype)
    y[4] = 0.5
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, no NaN, no inf
        loss = parity(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [x, y],
                      reduction="none", pos_weight=np.full(18, 2.0, dtype=dtype), rtol=1e-6, atol=1e-6)
    values = as_numpy(loss)
    assert np.isfinite(values).all()
    assert values[0] == 0 and values[-1] == 0
    np.testing.assert_allclose(values[8], 1e4, rtol=1e-6)   # x = 1e4, y = 0: loss ≈ x
    np.testing.assert_allclose(values[9], 2e4, rtol=1e-6)   # x = -1e4, y = 1, pos_weight 2: loss ≈ 2|x|


def test_bce_with_logits_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        F.binary_cross_entropy_with_logits(minidl.randn(2, 3), minidl.rand(3))


@SETTINGS
@given(loss=st.sampled_from(["nll_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans(), pos_weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_other_losses_random_shapes_match_torch(loss, shape, reduction, weighted, pos_weighted, seed):
    rng = np.random.default_rng(seed)
    options = {"reduction": reduction}
    grad = (0,)
    if loss == "nll_loss":
        shape = (shape[0], max(shape[-1], 2)) + shape[1:-1]
        x = rng.standard_normal(shape)
        arrays = [x - np.log(np.exp(x).sum(1, keepdims=True)), class_targets(rng, shape, shape[1], 0.3)]
        if weighted:
            options["weight"] = rng.uniform(0.2, 2, shape[1])
    elif loss == "mse_loss":
        arrays, grad = [rng.standard_normal(shape), rng.standard_normal(shape)], (0, 1)
    else:
        x = rng.uniform(0.02, 0.98, shape) if loss == "binary_cross_entropy" else rng.standard_normal(shape) * 4
        arrays = [x, rng.random(shape)]
        if weighted:
            options["weight"] = rng.uniform(0.2, 2, shape[-1:])
        if pos_weighted and loss == "binary_cross_entropy_with_logits":
            options["pos_weight"] = rng.uniform(0.2, 3, shape[-1:])
    parity(getattr(F, loss), getattr(TF, loss), arrays, grad=grad, seed=seed, **options)


# --- reduction names ----------------------------------------------------------------------------------------------

FUNCTIONAL = {
    "cross_entropy": lambda r: F.cross_entropy(minidl.randn(2, 3), minidl.tensor([0, 1]), reduction=r),
    "nll_loss": lambda r: F.nll_loss(minidl.randn(2, 3), minidl.tensor([0, 1]), reduction=r),
    "mse_loss": lambda r: F.mse_loss(minidl.randn(2), minidl.randn(2), reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(minidl.rand(2), minidl.rand(2), reduction=r),
    "binary_cross_entropy_with_logits":
        lambda r: F.binary_cross_entropy_with_logits(minidl.randn(2), minidl.rand(2), reduction=r),
}
MODULES = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss"]


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_bad_reduction_raises_value_error_naming_the_allowed_values(name):
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        FUNCTIONAL[name]("avg")


@pytest.mark.parametrize("name", MODULES)
def test_loss_module_bad_reduction_raises_value_error(name):
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none'"):
        getattr(nn, name)(reduction="elementwise_mean")


# --- loss modules ---------------------------------------------------------------------------------------------------

def _module_case(name, rng):
    """(module options as arrays, input array, target array) for each loss module."""
    if name in ("CrossEntropyLoss", "NLLLoss"):
        x = rng.standard_normal((6, 4))
        if name == "NLLLoss":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        y = np.array([0, 3, 1, -100, 2, 3])
        options = {"weight": rng.uniform(0.5, 2, 4), "ignore_index": -100}
        if name == "CrossEntropyLoss":
            options["label_smoothing"] = 0.1
        return options, x, y
    if name == "MSELoss":
        return {}, rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    if name == "BCELoss":
        return {"weight": rng.uniform(0.5, 2, 2)}, rng.uniform(0.1, 0.9, (3, 2)), rng.random((3, 2))
    return {"weight": rng.uniform(0.5, 2, 2), "pos_weight": rng.uniform(0.5, 2, 2)}, rng.standard_normal((3, 2)), \
        rng.random((3, 2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_options", [False, True], ids=["defaults", "options"])
@pytest.mark.parametrize("name", MODULES)
def test_loss_module_matches_torch(name, with_options, reduction):
    options, x, y = _module_case(name, np.random.default_rng(0))
    options = options if with_options else {}
    ours = getattr(nn, name)(reduction=reduction, **{k: ours_of(v) if isinstance(v, np.ndarray) else v
                                                     for k, v in options.items()})
    theirs = getattr(torch.nn, name)(reduction=reduction, **{k: theirs_of(v) if isinstance(v, np.ndarray) else v
                                                             for k, v in options.items()})
    parity(ours, theirs, [x, y])
    assert ours.reduction == reduction
    for key, value in options.items():
        stored = getattr(ours, key)
        np.testing.assert_array_equal(as_numpy(stored) if isinstance(value, np.ndarray) else stored, value)


@pytest.mark.parametrize("name", MODULES)
def test_loss_module_state_dict_keys_match_torch(name):
    """PyTorch registers weight (and pos_weight) as buffers, so they are saved and moved with ``.to``."""
    options, _, _ = _module_case(name, np.random.default_rng(0))
    ours = getattr(nn, name)(**{k: ours_of(v) if isinstance(v, np.ndarray) else v for k, v in options.items()})
    theirs = getattr(torch.nn, name)(**{k: theirs_of(v) if isinstance(v, np.ndarray) else v
                                        for k, v in options.items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(getattr(nn, name)().state_dict()) == list(getattr(torch.nn, name)().state_dict()) == []


@pytest.mark.parametrize("name", MODULES)
def test_loss_module_repr(name):
    """The default repr equals PyTorch's; a non-default reduction is shown (PyTorch's repr omits it: minidl
    deliberately shows it)."""
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)()) == f"{name}()"
    assert repr(getattr(nn, name)(reduction="sum")) == f"{name}(reduction='sum')"


def test_cross_entropy_loss_module_defaults():
    loss = nn.CrossEntropyLoss()
    assert loss.weight is None and loss.ignore_index == -100 and loss.label_smoothing == 0.0
    assert loss.reduction == "mean"
    out = loss(minidl.randn(4, 3), minidl.tensor([0, 1, 2, 1]))
    assert out.shape == () and out.dtype == np.float32
