"""minidl.nn.utils.prune against torch.nn.utils.prune: the same masks (deterministic methods exactly),
state-dict keys in the same order, the same outputs and gradients; iterative pruning, remove, global
pruning, random pruning's counts, forward pre-hooks, and the errors."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn
from minidl.nn.utils import clip_grad_norm_, clip_grad_value_, prune
from conftest import as_numpy, copy_weights

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
tprune = pytest.importorskip("torch.nn.utils.prune")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def twins(make_ours, make_theirs):
    """A minidl module and a PyTorch module with the same weights."""
    theirs = make_theirs()
    return copy_weights(theirs, make_ours()), theirs


def same_layout(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(as_numpy(ours.state_dict()[key]), value.numpy(), err_msg=key)
    assert prune.is_pruned(ours) == tprune.is_pruned(theirs)


def linear_twins(inputs=6, outputs=5):
    return twins(lambda: nn.Linear(inputs, outputs), lambda: torch.nn.Linear(inputs, outputs))


def conv_twins():
    return twins(lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3))


# --- deterministic methods: exact masks, keys, outputs ---------------------------------------------------------

@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.9, 1.0, 0, 7, 30])
def test_l1_unstructured_matches_pytorch(amount):
    ours, theirs = linear_twins()
    prune.l1_unstructured(ours, "weight", amount)
    tprune.l1_unstructured(theirs, "weight", amount)
    same_layout(ours, theirs)
    assert list(ours.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(ours(minidl.tensor(x))), as_numpy(theirs(torch.tensor(x))), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3, float("inf"), float("-inf")])
@pytest.mark.parametrize("dim", [0, 1, -1, 3])
def test_ln_structured_matches_pytorch_on_conv_weights(n, dim):
    ours, theirs = conv_twins()
    prune.ln_structured(ours, "weight", 0.5, n=n, dim=dim)
    tprune.ln_structured(theirs, "weight", 0.5, n=n, dim=dim)
    same_layout(ours, theirs)
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(ours(minidl.tensor(x))), as_numpy(theirs(torch.tensor(x))), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("dim", [0, 1])
def test_ln_structured_frobenius_matches_pytorch_on_a_matrix(dim):
    ours, theirs = linear_twins()
    prune.ln_structured(ours, "weight", 2, n="fro", dim=dim)
    tprune.ln_structured(theirs, "weight", 2, n="fro", dim=dim)
    same_layout(ours, theirs)


def test_iterative_pruning_combines_masks_as_pytorch_does():
    """l1 twice, then structured, then l1 by count: each prunes among what the earlier ones kept."""
    ours, theirs = linear_twins(8, 6)
    steps = [("l1_unstructured", {"amount": 0.3}), ("l1_unstructured", {"amount": 0.3}),
             ("ln_structured", {"amount": 1, "n": 2, "dim": 0}), ("ln_structured", {"amount": 2, "n": 1, "dim": 1}),
             ("l1_unstructured", {"amount": 4})]
    for function, options in steps:
        getattr(prune, function)(ours, "weight", **options)
        getattr(tprune, function)(theirs, "weight", **options)
        same_layout(ours, theirs)
    hooks = list(ours._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 5


def test_pruning_bias_and_weight_and_removing_keeps_pytorch_s_key_order():
    ours, theirs = linear_twins()
    for module in (ours, theirs):
        lib = prune if module is ours else tprune
        lib.l1_unstructured(module, "bias", 2)
        lib.random_unstructured(module, "weight", 0.0)
    same_layout(ours, theirs)
    assert list(ours.state_dict()) == ["bias_orig", "weight_orig", "bias_mask", "weight_mask"]
    prune.remove(ours, "bias")
    tprune.remove(theirs, "bias")
    same_layout(ours, theirs)
    assert list(ours.state_dict()) == ["weight_orig", "bias", "weight_mask"]
    assert isinstance(ours.bias, nn.Parameter) and (as_numpy(ours.bias) == 0).sum() == 2


def test_global_unstructured_matches_pytorch_and_prunes_layers_unevenly():
    def make(lib):
        return lib.Sequential(lib.Linear(10, 8), lib.ReLU(), lib.Linear(8, 3))
    theirs = make(torch.nn)
    theirs[2].weight.data *= 4  # the last layer's weights are larger: it should lose fewer
    ours = copy_weights(theirs, make(nn))
    tprune.l1_unstructured(theirs[0], "weight", 0.2)  # pruned before: global pruning counts its zeros
    prune.l1_unstructured(ours[0], "weight", 0.2)
    targets = lambda model: [(model[0], "weight"), (model[2], "weight")]  # noqa: E731
    prune.global_unstructured(targets(ours), prune.L1Unstructured, amount=0.6)
    tprune.global_unstructured(targets(theirs), tprune.L1Unstructured, amount=0.6)
    same_layout(ours, theirs)
    kept = [as_numpy(m.weight_mask).mean() for m in (ours[0], ours[2])]
    assert kept[1] > kept[0]
    # 16 pruned before, then 60% of the 88 entries still kept
    assert sum((as_numpy(m.weight_mask) == 0).sum() for m in (ours[0], ours[2])) == 16 + round(0.6 * 88)


def test_custom_from_mask_identity_and_importance_scores_match_pytorch():
    ours, theirs = linear_twins(4, 3)
    mask = np.array([[1, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 0]], dtype=np.float32)
    scores = np.arange(12, dtype=np.float32).reshape(3, 4)[::-1].copy()
    prune.identity(ours, "bias")
    tprune.identity(theirs, "bias")
    prune.custom_from_mask(ours, "weight", minidl.tensor(mask))
    tprune.custom_from_mask(theirs, "weight", torch.tensor(mask))
    prune.l1_unstructured(ours, "weight", 2, importance_scores=minidl.tensor(scores))
    tprune.l1_unstructured(theirs, "weight", 2, importance_scores=torch.tensor(scores))
    same_layout(ours, theirs)
    assert as_numpy(ours.bias_mask).tolist() == [1, 1, 1]


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple), amount=st.floats(0, 1),
       seed=st.integers(0, 2 ** 31))
def test_l1_masks_and_sparsity_match_pytorch_for_drawn_shapes_and_amounts(shape, amount, seed):
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    ours, theirs = nn.Module(), torch.nn.Module()
    ours.w = nn.Parameter(minidl.tensor(values))
    theirs.w = torch.nn.Parameter(torch.tensor(values))
    prune.l1_unstructured(ours, "w", amount)
    tprune.l1_unstructured(theirs, "w", amount)
    np.testing.assert_array_equal(as_numpy(ours.w_mask), theirs.w_mask.numpy())
    assert (as_numpy(ours.w_mask) == 0).sum() == round(amount * values.size)
    np.testing.assert_array_equal(as_numpy(ours.w), values * as_numpy(ours.w_mask))


# --- training through the mask, pre-hooks, random pruning ------------------------------------------------------

def test_gradients_reach_weight_orig_masked_as_in_pytorch_and_training_keeps_zeros():
    ours, theirs = conv_twins()
    optimizer = minidl.optim.SGD(ours.parameters(), lr=0.1)  # made before pruning: holds the same Parameter
    prune.l1_unstructured(ours, "weight", 0.7)
    tprune.l1_unstructured(theirs, "weight", 0.7)
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 5)).astype(np.float32)
    (ours(minidl.tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    np.testing.assert_allclose(as_numpy(ours.weight_orig.grad), theirs.weight_orig.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert (as_numpy(ours.weight_orig.grad)[as_numpy(ours.weight_mask) == 0] == 0).all()
    optimizer.step()
    ours(minidl.tensor(x))  # the pre-hook recomputes weight from the updated weight_orig
    np.testing.assert_array_equal(as_numpy(ours.weight), as_numpy(ours.weight_orig) * as_numpy(ours.weight_mask))
    assert (as_numpy(ours.weight)[as_numpy(ours.weight_mask) == 0] == 0).all()


def test_random_structured_prunes_whole_slices():
    minidl.manual_seed(4)
    layer = nn.Conv2d(2, 6, 3)
    prune.random_structured(layer, "weight", 0.5, dim=0)
    channels = as_numpy(layer.weight_mask).reshape(6, -1)
    assert sorted(set(channels.min(1)) | set(channels.max(1))) == [0, 1] and (channels.max(1) == 0).sum() == 3
    assert (channels.min(1) == channels.max(1)).all()


def test_random_unstructured_prunes_the_count_reproducibly_and_keeps_earlier_zeros():
    masks = []
    for _ in range(2):
        minidl.manual_seed(3)
        layer = nn.Linear(10, 10)
        prune.random_unstructured(layer, "weight", 0.25)
        masks.append(as_numpy(layer.weight_mask).copy())
        prune.random_unstructured(layer, "weight", 0.5)
        second = as_numpy(layer.weight_mask)
        assert (second[masks[-1] == 0] == 0).all() and (second == 0).sum() == 25 + round(0.5 * 75)
    np.testing.assert_array_equal(*masks)
    assert (masks[0] == 0).sum() == 25


def test_state_dicts_cross_between_pruned_models_of_both_engines_and_through_a_checkpoint(tmp_path):
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tprune.l1_unstructured(theirs[0], "weight", 0.5)
    tprune.ln_structured(theirs[2], "weight", 1, n=2, dim=0)
    ours = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    prune.identity(ours[0], "weight")
    prune.identity(ours[2], "weight")
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(as_numpy(ours(minidl.tensor(x))), as_numpy(theirs(torch.tensor(x))), atol=1e-6)
    minidl.save(ours.state_dict(), tmp_path / "pruned.npz")
    again = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    prune.identity(again[0], "weight")
    prune.identity(again[2], "weight")
    again.load_state_dict(minidl.load(tmp_path / "pruned.npz"))
    np.testing.assert_array_equal(as_numpy(again(minidl.tensor(x))), as_numpy(ours(minidl.tensor(x))))


def test_pruning_a_packed_attention_projection():
    ours, theirs = twins(lambda: nn.MultiheadAttention(8, 2), lambda: torch.nn.MultiheadAttention(8, 2))
    prune.l1_unstructured(ours, "in_proj_weight", 0.5)
    tprune.l1_unstructured(theirs, "in_proj_weight", 0.5)
    same_layout(ours, theirs)
    x = np.random.default_rng(5).standard_normal((3, 2, 8)).astype(np.float32)
    mine = ours(minidl.tensor(x), minidl.tensor(x), minidl.tensor(x))[0]
    reference = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x))[0]
    np.testing.assert_allclose(as_numpy(mine), as_numpy(reference), atol=1e-5)


def test_forward_pre_hooks_run_in_order_may_replace_the_inputs_and_can_be_removed():
    layer = nn.Linear(2, 2)
    calls = []
    first = layer.register_forward_pre_hook(lambda module, args: calls.append(("first", module)))
    second = layer.register_forward_pre_hook(lambda module, args: args[0] * 0)
    x = minidl.ones(1, 2)
    np.testing.assert_allclose(as_numpy(layer(x)), as_numpy(layer.bias)[None])
    assert calls == [("first", layer)]
    second.remove()
    np.testing.assert_allclose(as_numpy(layer(x)), as_numpy(x @ layer.weight.T + layer.bias))
    with first:
        pass
    layer(x)
    assert len(calls) == 2 and not layer._forward_pre_hooks


def test_remove_and_argument_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="parameter 'weight' of module Linear has to be pruned before"):
        prune.remove(layer, "weight")
    with pytest.raises(ValueError, match=r"amount=1.5 should either be a float in the range \[0, 1\]"):
        prune.l1_unstructured(layer, "weight", 1.5)
    with pytest.raises(ValueError, match="amount=-1 should either"):
        prune.l1_unstructured(layer, "weight", -1)
    with pytest.raises(TypeError, match="amount must be an int or a float"):
        prune.l1_unstructured(layer, "weight", "half")
    with pytest.raises(ValueError, match=r"amount=7 should be smaller than the number of parameters to prune \(6\)"):
        prune.l1_unstructured(layer, "weight", 7)
    assert list(layer.state_dict()) == ["weight", "bias"] and not prune.is_pruned(layer)  # failures change nothing
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        prune.ln_structured(layer, "weight", 1, n=2, dim=2)
    with pytest.raises(AttributeError, match="no attribute 'gamma'"):
        prune.l1_unstructured(layer, "gamma", 0.5)
    with pytest.raises(TypeError, match="is not unstructured"):
        prune.global_unstructured([(layer, "weight")], prune.LnStructured, amount=1, n=2, dim=0)
    assert list(layer.state_dict()) == ["weight", "bias"]
    prune.l1_unstructured(layer, "weight", 0.5)
    mask = as_numpy(layer.weight_mask).copy()
    with pytest.raises(ValueError, match="amount=4 should be smaller"):  # 3 entries are left to prune among
        prune.l1_unstructured(layer, "weight", 4)
    np.testing.assert_array_equal(as_numpy(layer.weight_mask), mask)
    assert [type(h) for h in layer._forward_pre_hooks.values()] == [prune.L1Unstructured]


def test_clip_grad_stays_importable_from_nn_utils():
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_ and nn.utils.clip_grad_value_ is clip_grad_value_
    assert nn.utils.prune is prune
