"""The Module API against PyTorch: registration order, traversal, shared parameters, state_dict and
load_state_dict (strict and not), train/eval, to(), zero_grad, attribute errors, repr, apply, containers."""

from collections import OrderedDict

import numpy as np
import pytest

import minidl
from minidl import nn
from conftest import as_numpy

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
torch.set_num_threads(1)  # tiny tensors: threads only contend for the shared cores


def build(lib):
    """The same custom model written for minidl (lib=minidl) or PyTorch (lib=torch): parameters, buffers
    (one non-persistent) and sub-modules registered in an interleaved order."""
    m = lib.nn

    class Block(m.Module):
        def __init__(self):
            super().__init__()
            self.scale = m.Parameter(lib.ones(3))
            self.register_buffer("count", lib.zeros(1))
            self.lin = m.Linear(3, 3)
            self.offset = m.Parameter(lib.zeros(3))

        def forward(self, x):
            return self.lin(x * self.scale) + self.offset

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.first = m.Linear(2, 3)
            self.register_buffer("steps", lib.zeros(2))
            self.block = Block()
            self.alpha = m.Parameter(lib.ones(1))
            self.register_buffer("cache", lib.zeros(4), persistent=False)
            self.heads = m.ModuleList([m.Linear(3, 1), m.Linear(3, 2)])
            self.norm = m.BatchNorm1d(3)

        def forward(self, x):
            return self.norm(self.block(self.first(x))) * self.alpha

    return Net()


def nested(lib):
    """A nested model: Sequential of Linear / BatchNorm / ModuleList / ModuleDict (and parameterless layers)."""
    m = lib.nn
    return m.Sequential(
        m.Linear(4, 6),
        m.BatchNorm1d(6),
        m.ReLU(),
        m.ModuleList([m.Linear(6, 6, bias=False), m.LayerNorm(6)]),
        m.ModuleDict({"proj": m.Linear(6, 2), "norm": m.BatchNorm1d(2, affine=False), "drop": m.Dropout(0.1)}),
    )


def runnable(lib):
    """A nested model that has a forward: Linear / BatchNorm / LayerNorm inside a Sequential."""
    m = lib.nn
    return m.Sequential(m.Linear(4, 6), m.BatchNorm1d(6), m.ReLU(),
                        m.Sequential(m.Linear(6, 6, bias=False), m.LayerNorm(6)), m.Linear(6, 2))


def torch_state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


# --- traversal in registration order -----------------------------------------------------------------------------

def test_traversal_in_registration_order_matches_torch():
    ours, theirs = build(minidl), build(torch)
    for method in ("named_parameters", "named_buffers", "named_children", "named_modules"):
        assert [name for name, _ in getattr(ours, method)()] == [name for name, _ in getattr(theirs, method)()], method
    assert [name for name, _ in ours.named_parameters()] == [
        "alpha", "first.weight", "first.bias", "block.scale", "block.offset", "block.lin.weight", "block.lin.bias",
        "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias", "norm.weight", "norm.bias"]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [type(c).__name__ for c in ours.children()] == [type(c).__name__ for c in theirs.children()]
    assert [type(c).__name__ for c in ours.modules()] == [type(c).__name__ for c in theirs.modules()]
    assert [name for name, _ in ours.named_parameters(recurse=False)] == ["alpha"]
    assert [name for name, _ in ours.named_buffers(recurse=False)] == ["steps", "cache"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())


def test_parameters_and_modules_are_reachable_as_attributes():
    net = build(minidl)
    assert net.block.lin is net._modules["block"]._modules["lin"]
    assert net.alpha is dict(net.named_parameters())["alpha"]
    assert net.steps is dict(net.named_buffers())["steps"]
    assert "alpha" in dir(net) and "block" in dir(net)


def test_shared_parameter_is_listed_once():
    def tied(lib):
        model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Linear(3, 3))
        model[1].weight = model[0].weight
        return model

    ours, theirs = tied(minidl), tied(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == \
        ["0.weight", "0.bias", "1.bias"]
    assert len(list(ours.parameters())) == 3
    # state_dict keeps both names (as PyTorch), so either can be loaded
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(torch_state(theirs))
    assert ours[0].weight is ours[1].weight


def test_shared_module_is_listed_once_but_saved_under_every_name():
    """PyTorch: parameters()/modules()/children() list a shared module once; state_dict() names it under
    every path (so a PyTorch checkpoint of a model with a shared layer has both prefixes)."""
    layer_ours, layer_theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours, theirs = nn.Sequential(layer_ours, layer_ours), torch.nn.Sequential(layer_theirs, layer_theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()] == ["", "0"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    ours.load_state_dict(torch_state(theirs))  # strict: must accept PyTorch's keys


def test_shared_module_children_listed_once_like_torch():
    layer_ours, layer_theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours, theirs = nn.Sequential(layer_ours, layer_ours), torch.nn.Sequential(layer_theirs, layer_theirs)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()] == ["0"]
    calls = []
    ours.apply(lambda module: calls.append(type(module).__name__))
    assert calls == ["Linear", "Sequential"]  # PyTorch's apply visits the shared child once


def test_reassigning_a_parameter_keeps_its_registration_position():
    """PyTorch assigns into the existing slot, so parameters() / state_dict() order (and hence optimizer
    state and checkpoints) does not change when a parameter is replaced."""
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours.weight = nn.Parameter(minidl.zeros(2, 3))
    theirs.weight = torch.nn.Parameter(torch.zeros(2, 3))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == \
        ["weight", "bias"]
    assert list(ours.state_dict()) == ["weight", "bias"]
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    model.add_module("0", nn.Linear(2, 3))  # replacing a child keeps its slot too
    assert [n for n, _ in model.named_children()] == ["0", "1"]


def test_assigning_none_unregisters_from_listings():
    for lib in (minidl, torch):
        net = build(lib)
        net.first.bias = None
        net.block = None
        net.alpha = None
        assert net.first.bias is None and net.block is None and net.alpha is None
    ours, theirs = build(minidl), build(torch)
    for model in (ours, theirs):
        model.first.bias = None
        model.block = None
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert "first.bias" not in ours.state_dict() and not any(k.startswith("block.") for k in ours.state_dict())
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_assigning_a_plain_tensor_to_a_parameter_raises_type_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = minidl.randn(2, 2)
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).weight = torch.randn(2, 2)
    layer.weight = nn.Parameter(minidl.zeros(2, 2))  # a Parameter is fine
    np.testing.assert_array_equal(as_numpy(layer.weight), 0)


def test_non_persistent_buffer_is_not_saved():
    net = build(minidl)
    assert "cache" in dict(net.named_buffers())
    assert "cache" not in net.state_dict()
    assert list(net.state_dict()) == list(build(torch).state_dict())
    state = net.state_dict()
    net.load_state_dict(state)  # strict: the non-persistent buffer is not expected


def test_registration_argument_errors():
    module = nn.Module()
    with pytest.raises(KeyError):
        module.register_buffer("a.b", minidl.zeros(1))
    with pytest.raises(KeyError):
        module.add_module("", nn.ReLU())
    with pytest.raises(TypeError):
        module.register_buffer("x", np.zeros(3))
    with pytest.raises(TypeError):
        module.register_parameter("w", minidl.zeros(3))

    class Forgot(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgot()


def test_unknown_attribute_raises_attribute_error_not_none():
    net = build(minidl)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'wieght'"):
        net.wieght  # noqa: B018
    assert not hasattr(net, "missing")
    assert getattr(net, "missing", "default") == "default"
    with pytest.raises(AttributeError):
        nn.Linear(2, 2).weights  # noqa: B018


# --- state_dict -------------------------------------------------------------------------------------------------

def test_nested_state_dict_keys_and_shapes_match_torch():
    ours, theirs = nested(minidl), nested(torch)
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(reference)
    assert [tuple(v.shape) for v in mine.values()] == [tuple(v.shape) for v in reference.values()]
    assert [as_numpy(v).dtype for v in mine.values()] == [v.numpy().dtype for v in reference.values()]
    assert all(not v.requires_grad for v in mine.values())
    kept = ours.state_dict(keep_vars=True)
    assert kept["0.weight"] is ours[0].weight


def test_state_dict_round_trip_with_torch_and_same_outputs():
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                                 torch.nn.Linear(5, 2)).double()
    x = np.random.default_rng(0).standard_normal((6, 4))
    theirs(torch.tensor(x))  # move the running statistics away from their initial values
    ours = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)).double()
    ours.load_state_dict(torch_state(theirs))
    for mode in (True, False):
        ours.train(mode), theirs.train(mode)
        np.testing.assert_allclose(as_numpy(ours(minidl.tensor(x))), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
    # and back: minidl's state dict loads into PyTorch (strict)
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                                torch.nn.Linear(5, 2)).double()
    fresh.load_state_dict({k: torch.tensor(as_numpy(v)) for k, v in ours.state_dict().items()})
    for key, value in fresh.state_dict().items():
        np.testing.assert_allclose(value.numpy(), theirs.state_dict()[key].numpy(), rtol=1e-12)


def test_load_state_dict_numpy_arrays_keep_the_model_dtype():
    layer = nn.Linear(3, 2)
    weight = np.arange(6, dtype=np.float64).reshape(2, 3)
    result = layer.load_state_dict({"weight": weight, "bias": np.array([1.0, -1.0])})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert layer.weight.dtype == np.float32 and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_array_equal(as_numpy(layer.weight), weight)
    np.testing.assert_array_equal(as_numpy(layer.bias), [1.0, -1.0])
    # minidl tensors work too, and the values are copied (not aliased)
    source = {"weight": minidl.ones(2, 3), "bias": minidl.zeros(2)}
    layer.load_state_dict(source)
    source["weight"].array[...] = 7
    np.testing.assert_array_equal(as_numpy(layer.weight), 1)


def test_load_state_dict_strict_errors_list_every_problem_and_change_nothing():
    model = nested(minidl)
    before = {k: as_numpy(v).copy() for k, v in model.state_dict().items()}
    state = {k: np.full(as_numpy(v).shape, 3.0) for k, v in model.state_dict().items()}
    del state["1.running_var"]
    state["4.proj.weight"] = np.zeros((3, 6))
    state["extra.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = info.value.args[0]
    assert "Sequential" in message
    assert 'issing key(s) in state_dict: "1.running_var"' in message
    assert 'nexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for 4.proj.weight" in message and "(3, 6)" in message and "(2, 6)" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(as_numpy(value), before[key], err_msg=f"{key} changed by a failed load")
    # PyTorch raises for the same three problems
    with pytest.raises(RuntimeError, match="Missing key.*running_var"):
        nested(torch).load_state_dict({k: torch.tensor(v) for k, v in state.items()})


def test_load_state_dict_size_mismatch_raises_even_when_not_strict():
    layer = nn.Linear(3, 2)
    before = as_numpy(layer.bias).copy()
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        layer.load_state_dict({"weight": np.zeros((3, 3)), "bias": np.zeros(2)}, strict=False)
    np.testing.assert_array_equal(as_numpy(layer.bias), before)


def test_load_state_dict_not_strict_returns_the_key_lists_like_torch():
    ours, theirs = nested(minidl), nested(torch)
    state = torch_state(nested(torch))
    for key in ("0.bias", "1.running_var"):
        del state[key]
    state["5.weight"] = np.zeros(3)
    bias_before = as_numpy(ours[0].bias).copy()
    result = ours.load_state_dict(state, strict=False)
    reference = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert result.missing_keys == reference.missing_keys == ["0.bias", "1.running_var"]
    assert result.unexpected_keys == reference.unexpected_keys == ["5.weight"]
    missing, unexpected = result
    assert (missing, unexpected) == (["0.bias", "1.running_var"], ["5.weight"])
    np.testing.assert_array_equal(as_numpy(ours[0].weight), state["0.weight"])  # present keys were loaded
    np.testing.assert_array_equal(as_numpy(ours[0].bias), bias_before)          # missing keys left alone


# --- modes, dtypes, devices, gradients -----------------------------------------------------------------------------

def test_train_and_eval_are_recursive_and_return_self():
    model = nested(minidl)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model[4]["drop"].training is False
    assert model.train() is model and all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())
    model[3].train()  # only that sub-tree
    assert [m.training for m in model[3].modules()] == [True, True, True]
    assert not model.training and not model[0].training and not model[4].training


def test_eval_changes_dropout_and_batchnorm_behaviour():
    model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(3))
    x = minidl.randn(8, 3) * 5 + 2
    model.eval()
    np.testing.assert_allclose(as_numpy(model(x)), as_numpy(x) / np.sqrt(1 + 1e-5), rtol=1e-5)  # running stats 0 / 1
    assert int(model[1].num_batches_tracked.item()) == 0


def test_to_float64_casts_parameters_buffers_and_grads_in_place():
    model = runnable(minidl)
    first_weight = model[0].weight
    model(minidl.randn(3, 4)).sum().backward()
    assert model.to(minidl.float64) is model
    assert model[0].weight is first_weight  # the same Parameter objects, now holding float64
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        expected = np.int64 if name.endswith("num_batches_tracked") else np.float64
        assert tensor.dtype == expected, name
    assert all(p.grad.dtype == np.float64 for p in model.parameters() if p.grad is not None)
    assert model(minidl.randn(3, 4).double()).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    model.to(dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_to_strict_device_moves_parameters_and_buffers():
    model = runnable(minidl)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    model.eval()
    reference_out = as_numpy(model(minidl.tensor(x)))
    model.to("strict")
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        assert tensor.device == "strict", name
    out = model(minidl.tensor(x).to("strict"))
    assert out.device == "strict"
    np.testing.assert_allclose(as_numpy(out), reference_out, rtol=1e-5, atol=1e-7)  # float32: the CPU path may run compiled loops
    model.to("cpu")
    assert all(p.device == "cpu" for p in model.parameters())
    with pytest.raises(TypeError, match="unexpected"):
        model.to(colour="red")


def test_zero_grad_set_to_none_and_to_zero():
    model = runnable(minidl)
    model(minidl.randn(3, 4)).sum().backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None for g in grads.values())
    model.zero_grad(set_to_none=False)
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape
        np.testing.assert_array_equal(param.grad.numpy(), 0, err_msg=name)
    model.zero_grad()  # PyTorch's default: set_to_none=True
    assert all(p.grad is None for p in model.parameters())
    model.zero_grad(set_to_none=False)  # nothing to zero: stays None
    assert all(p.grad is None for p in model.parameters())


def test_gradients_accumulate_until_zeroed():
    layer = nn.Linear(2, 1)
    x = minidl.ones(1, 2)
    layer(x).sum().backward()
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[2.0, 2.0]])
    layer.zero_grad()
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [[1.0, 1.0]])


def test_requires_grad_switch():
    model = nested(minidl)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


# --- repr and apply ---------------------------------------------------------------------------------------------------

def test_repr_of_small_sequential_equals_torch():
    def small(lib):
        m = lib.nn
        return m.Sequential(m.Linear(4, 8), m.ReLU(), m.Dropout(0.2), m.BatchNorm1d(8), m.Linear(8, 2, bias=False))

    assert repr(small(minidl)) == repr(small(torch))


def test_repr_of_nested_containers_equals_torch():
    def model(lib):
        m = lib.nn
        return m.Sequential(OrderedDict([
            ("embed", m.Embedding(10, 4, padding_idx=0)),
            ("body", m.Sequential(m.Linear(4, 4), m.Tanh(), m.Dropout(0.1))),
            ("heads", m.ModuleList([m.Linear(4, 2), m.Identity()])),
            ("extra", m.ModuleDict({"act": m.GELU(), "out": m.Flatten()})),
            ("empty", m.Sequential()),
        ]))

    assert repr(model(minidl)) == repr(model(torch))


def test_apply_visits_children_first_then_self_like_torch():
    seen_ours, seen_theirs = [], []
    ours, theirs = nested(minidl), nested(torch)
    assert ours.apply(lambda m: seen_ours.append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs
    assert seen_ours[-1] == "Sequential" and seen_ours[0] == "Linear"


def test_apply_for_custom_initialisation():
    def init(module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    model = nested(minidl).apply(init)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            np.testing.assert_array_equal(as_numpy(module.weight), 0.5)


# --- containers -------------------------------------------------------------------------------------------------------

def test_sequential_indexing_slicing_and_forward():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[1], nn.ReLU) and model[-1] is model[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [model[0], model[1]]
    x = minidl.randn(4, 2)
    np.testing.assert_allclose(as_numpy(model(x)), as_numpy(model[2](model[1](model[0](x)))))
    named = nn.Sequential(OrderedDict([("a", nn.Linear(2, 2)), ("b", nn.ReLU())]))
    assert [n for n, _ in named.named_children()] == ["a", "b"] and named.a is named[0]
    model.append(nn.Sigmoid())
    assert [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]


def test_module_list_and_module_dict():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU()).extend([nn.Tanh(), nn.Linear(2, 1)])
    assert len(layers) == 4 and [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    layers[1] = nn.Sigmoid()
    assert isinstance(layers[1], nn.Sigmoid)
    assert len(list(layers.parameters())) == 4
    table = nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.ReLU()})
    assert list(table.keys()) == ["b", "a"] and "a" in table
    table["c"] = nn.Linear(2, 1)
    del table["a"]
    assert list(table) == ["b", "c"]
    assert [n for n, _ in table.named_parameters()] == ["b.weight", "b.bias", "c.weight", "c.bias"]
