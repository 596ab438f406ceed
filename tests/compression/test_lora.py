"""LoRA: the adapted layer's formula, B = 0 at the start, frozen base weights, merged output equal to the
unmerged one, the packed attention projection adapted per projection, apply_lora by name pattern on
MiniBERT, trainable-parameter counts, merge_and_unload back to the original keys, and the errors."""

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.compression import (LoRALinear, apply_lora, count_parameters, lora_in_projection, lora_layers,
                                merge_and_unload, merge_lora, unmerge_lora)
from minidl.models.bert import MiniBERT
from minidl.testing import gradcheck
from conftest import as_numpy


def randomise_adapters(model, seed=0, scale=0.5):
    """Give every lora_B random values (they start at zero, which would make every check trivial)."""
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.array[...] = (rng.standard_normal(p.shape) * scale).astype(p.dtype)


def test_lora_linear_computes_base_plus_scaled_low_rank_update():
    minidl.manual_seed(0)
    base = nn.Linear(6, 4).double()
    layer = LoRALinear(base, r=2, lora_alpha=3)
    x = np.random.default_rng(1).standard_normal((5, 6))
    w, b = as_numpy(base.weight).copy(), as_numpy(base.bias).copy()
    np.testing.assert_array_equal(as_numpy(layer(minidl.tensor(x))), as_numpy(base(minidl.tensor(x))))  # B = 0
    randomise_adapters(layer)
    a, bb = as_numpy(layer.lora_A), as_numpy(layer.lora_B)
    expected = x @ w.T + b + 1.5 * (x @ a.T) @ bb.T
    np.testing.assert_allclose(as_numpy(layer(minidl.tensor(x))), expected, rtol=1e-12, atol=1e-12)
    assert layer.lora_A.shape == (2, 6) and layer.lora_B.shape == (4, 2) and layer.scaling == 1.5
    assert not base.weight.requires_grad and not base.bias.requires_grad
    assert count_parameters(layer, trainable_only=True) == 2 * (6 + 4)
    assert count_parameters(layer) == 6 * 4 + 4 + 2 * (6 + 4)


def test_lora_linear_gradcheck_and_only_the_adapters_get_gradients():
    minidl.manual_seed(1)
    layer = LoRALinear(nn.Linear(4, 3).double(), r=2, lora_alpha=4)
    randomise_adapters(layer)
    x = minidl.tensor(np.random.default_rng(2).standard_normal((2, 5, 4)))  # (B, T, in): batched rows
    a, b = layer.lora_A, layer.lora_B

    def run(a_value, b_value):
        layer._parameters["lora_A"], layer._parameters["lora_B"] = a_value, b_value
        try:
            return layer(x)
        finally:
            layer._parameters["lora_A"], layer._parameters["lora_B"] = a, b
    assert gradcheck(run, [minidl.tensor(a.array.copy(), requires_grad=True),
                           minidl.tensor(b.array.copy(), requires_grad=True)])
    (layer(x) ** 2).sum().backward()
    assert layer.base.weight.grad is None and layer.lora_A.grad is not None and layer.lora_B.grad is not None


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_merged_output_equals_unmerged_and_unmerge_restores_the_weight(dtype, tolerance):
    minidl.manual_seed(2)
    layer = LoRALinear(nn.Linear(8, 5).to(dtype), r=3, lora_alpha=6)
    randomise_adapters(layer)
    x = minidl.tensor(np.random.default_rng(3).standard_normal((7, 8)).astype(dtype))
    before, weight = as_numpy(layer(x)).copy(), as_numpy(layer.base.weight).copy()
    layer.merge()
    np.testing.assert_allclose(as_numpy(layer(x)), before, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(as_numpy(layer.base.weight), weight + 2 * as_numpy(layer.lora_B) @ as_numpy(
        layer.lora_A), rtol=tolerance, atol=tolerance)
    layer.merge()  # merging twice adds once
    np.testing.assert_allclose(as_numpy(layer(x)), before, rtol=tolerance, atol=tolerance)
    layer.unmerge()
    np.testing.assert_allclose(as_numpy(layer.base.weight), weight, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(as_numpy(layer(x)), before, rtol=tolerance, atol=tolerance)


def test_lora_dropout_acts_in_training_only():
    minidl.manual_seed(4)
    layer = LoRALinear(nn.Linear(50, 50), r=4, lora_dropout=0.5)
    randomise_adapters(layer)
    x = minidl.ones(3, 50)
    layer.eval()
    evaluated = as_numpy(layer(x)).copy()
    np.testing.assert_array_equal(as_numpy(layer(x)), evaluated)
    layer.train()
    assert not np.allclose(as_numpy(layer(x)), evaluated)


def plain_attention_with(attention, weight):
    """A plain MultiheadAttention with ``attention``'s parameters and the given in_proj_weight."""
    plain = nn.MultiheadAttention(attention.embed_dim, attention.num_heads, batch_first=attention.batch_first).double()
    state = {key.replace("_orig", ""): value for key, value in attention.state_dict().items() if "lora" not in key}
    state["in_proj_weight"] = weight
    plain.load_state_dict(state)
    return plain


@pytest.mark.parametrize("projections", ["qv", "qkv", "k"])
def test_the_packed_attention_projection_gets_one_adapter_per_projection(projections):
    minidl.manual_seed(5)
    attention = nn.MultiheadAttention(8, 2, batch_first=True).double()
    original = as_numpy(attention.in_proj_weight).copy()
    x = minidl.tensor(np.random.default_rng(6).standard_normal((2, 4, 8)))
    y = minidl.tensor(np.random.default_rng(7).standard_normal((2, 3, 8)))
    before = as_numpy(attention(x, x, x)[0]).copy()
    lora_in_projection(attention, r=2, lora_alpha=4, projections=projections)
    np.testing.assert_array_equal(as_numpy(attention(x, x, x)[0]), before)  # B = 0: nothing changes yet
    randomise_adapters(attention)
    blocks = [as_numpy(getattr(attention, f"lora_B_{p}")) @ as_numpy(getattr(attention, f"lora_A_{p}"))
              if p in projections else np.zeros((8, 8)) for p in "qkv"]
    effective = original + 2 * np.concatenate(blocks)
    reference = plain_attention_with(attention, effective)
    for query, key in ((x, x), (x, y)):  # self-attention (one GEMM) and cross-attention (sliced weights)
        np.testing.assert_allclose(as_numpy(attention(query, key, key)[0]), as_numpy(reference(query, key, key)[0]),
                                   rtol=1e-12, atol=1e-12)
    assert [n for n, p in attention.named_parameters() if p.requires_grad] == [
        f"lora_{f}_{p}" for p in projections for f in "AB"] + ["out_proj.weight", "out_proj.bias"]
    unmerged = as_numpy(attention(x, y, y)[0]).copy()
    merge_lora(attention)
    np.testing.assert_array_equal(as_numpy(attention(x, y, y)[0]), unmerged)  # the same sum: exactly equal
    unmerge_lora(attention)
    np.testing.assert_allclose(as_numpy(attention.in_proj_weight_orig), original, atol=1e-12)


def bert(**options):
    minidl.manual_seed(8)
    return MiniBERT(30, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, max_len=12, dropout=0.0, **options)


TARGETS = ["self_attn", "out_proj", "linear1", "linear2"]


def test_apply_lora_to_minibert_by_name_trains_only_adapters_and_head_and_merges_back():
    model = bert()
    keys = list(model.state_dict())
    ids = np.random.default_rng(9).integers(4, 30, size=(3, 10))
    before = as_numpy(model.classify(ids)).copy()
    frozen = {name: as_numpy(p).copy() for name, p in model.named_parameters()}
    apply_lora(model, TARGETS, r=4, lora_alpha=8, modules_to_save=["pooler", "classifier"])
    assert len(lora_layers(model)) == 2 * 4  # two layers, each: attention in-projection, out_proj, linear1, linear2
    np.testing.assert_array_equal(as_numpy(model.classify(ids)), before)
    d, f, r = 16, 32, 4
    per_layer = 2 * r * (d + d) + r * (d + d) + r * (d + f) + r * (f + d)  # q, v; out_proj; linear1; linear2
    head = d * d + d + 2 * d + 2
    assert count_parameters(model, trainable_only=True) == 2 * per_layer + head
    optimizer = minidl.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        minidl.nn.functional.cross_entropy(model.classify(ids), minidl.tensor([0, 1, 1])).backward()
        optimizer.step()
    adapted = as_numpy(model.classify(ids)).copy()
    assert not np.allclose(adapted, before)
    merge_and_unload(model)
    assert list(model.state_dict()) == keys and not lora_layers(model)
    np.testing.assert_allclose(as_numpy(model.classify(ids)), adapted, rtol=1e-4, atol=1e-5)
    for name, p in model.named_parameters():  # the frozen weights changed only by the merged updates
        if not name.startswith(("pooler", "classifier")) and "in_proj_weight" not in name and not any(
                f"{t}.weight" in name for t in ("out_proj", "linear1", "linear2")):
            np.testing.assert_array_equal(as_numpy(p), frozen[name], err_msg=name)


def test_a_regular_expression_selects_modules_by_full_name():
    model = bert()
    apply_lora(model, r"encoder\.layers\.1\.linear[12]", r=2)
    assert [name for name, _ in lora_layers(model)] == ["encoder.layers.1.linear1", "encoder.layers.1.linear2"]
    assert count_parameters(model, trainable_only=True) == 2 * (16 + 32) + 2 * (32 + 16)


def test_an_adapted_model_saves_and_loads_its_adapters(tmp_path):
    model = apply_lora(bert(), TARGETS, r=2)
    randomise_adapters(model)
    minidl.save(model.state_dict(), tmp_path / "lora.npz")
    again = apply_lora(bert(), TARGETS, r=2)
    again.load_state_dict(minidl.load(tmp_path / "lora.npz"))
    ids = np.random.default_rng(10).integers(4, 30, size=(2, 6))
    np.testing.assert_array_equal(as_numpy(again.classify(ids)), as_numpy(model.classify(ids)))


def test_lora_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"apply_lora: no module name matches target_modules=\['query'\]"):
        apply_lora(bert(), ["query"])
    with pytest.raises(TypeError, match="apply_lora: embedding_norm is a LayerNorm; LoRA adapts nn.Linear"):
        apply_lora(bert(), ["embedding_norm"])
    model = apply_lora(bert(), ["linear1"])
    with pytest.raises(TypeError, match="encoder.layers.0.linear1 is a LoRALinear"):
        apply_lora(model, ["linear1"])
    with pytest.raises(ValueError, match="already has LoRA adapters"):
        lora_in_projection(lora_in_projection(nn.MultiheadAttention(4, 2)))
    with pytest.raises(ValueError, match="projections must be distinct letters of 'qkv', got 'qx'"):
        lora_in_projection(nn.MultiheadAttention(4, 2), projections="qx")
    with pytest.raises(ValueError, match="LoRALinear: r must be at least 1"):
        LoRALinear(nn.Linear(2, 2), r=0)
    with pytest.raises(ValueError, match="LoRALinear: lora_alpha must be greater than 0"):
        LoRALinear(nn.Linear(2, 2), lora_alpha=-1)
    with pytest.raises(TypeError, match="LoRALinear: base must be an nn.Linear, got Conv2d"):
        LoRALinear(nn.Conv2d(1, 1, 1))
