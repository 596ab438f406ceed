"""Pruning, LoRA, distillation and the int8 flows on the strict device (a CPU array type that refuses
implicit host conversions as CuPy does): the same results as on the CPU, so the code keeps each
array on its model's device."""

import warnings

import numpy as np
import pytest

import minidl
import minidl.quantization as Q
from minidl import nn
from minidl.compression import apply_lora, distillation_loss, merge_and_unload
from minidl.models.bert import MiniBERT
from minidl.models.cnn import LeNet
from minidl.nn.utils import prune
from conftest import as_numpy

IDS = np.random.default_rng(0).integers(4, 50, size=(3, 10))


def bert():
    minidl.manual_seed(0)
    return MiniBERT(50, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, max_len=12, dropout=0.0).eval()


def on_both(build, run):
    """run(build(device), device) on the CPU and on the strict device; both results as NumPy arrays."""
    return [as_numpy(run(build(device), device)) for device in ("cpu", "strict")]


def quantized(model, flow, device):
    model = model.to(device)
    ids = minidl.tensor(IDS).to(device)
    if flow == "dynamic":
        return Q.quantize_dynamic(model, {nn.Linear, nn.Embedding, nn.MultiheadAttention})
    prepared = Q.prepare(model) if flow == "static" else Q.prepare_qat(model)
    prepared.classify(ids)
    prepared.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the unused masked-LM head stays float
        return Q.convert(prepared)


@pytest.mark.parametrize("flow", ["dynamic", "static", "qat"])
def test_int8_minibert_on_the_strict_device(flow):
    cpu, strict = on_both(lambda device: quantized(bert(), flow, device),
                          lambda model, device: model.classify(minidl.tensor(IDS).to(device)))
    np.testing.assert_array_equal(strict, cpu)


def test_int8_cnn_and_pruning_on_the_strict_device():
    x = np.random.default_rng(1).standard_normal((4, 1, 8, 8)).astype(np.float32)

    def build(device):
        minidl.manual_seed(1)
        model = LeNet(image_size=8).eval().to(device)
        layers = [(m, "weight") for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        prune.global_unstructured(layers, prune.L1Unstructured, amount=0.6)
        prune.ln_structured(layers[0][0], "weight", 2, n=1, dim=0)
        prune.random_unstructured(layers[-1][0], "bias", 3)
        prepared = Q.prepare(model)
        prepared(minidl.tensor(x).to(device))
        return Q.convert(prepared)
    cpu, strict = on_both(build, lambda model, device: model(minidl.tensor(x).to(device)))
    np.testing.assert_array_equal(strict, cpu)


def test_lora_and_distillation_on_the_strict_device():
    def build(device):
        model = apply_lora(bert().to(device), ["self_attn", "linear1"], r=2, modules_to_save=["classifier"])
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.array[...] = 0.1
        logits = model.classify(minidl.tensor(IDS).to(device))
        loss = distillation_loss(logits, logits.detach() * 2, minidl.tensor([0, 1, 1]).to(device))
        loss.backward()
        return merge_and_unload(model)
    cpu, strict = on_both(build, lambda model, device: model.classify(minidl.tensor(IDS).to(device)))
    np.testing.assert_allclose(strict, cpu, rtol=1e-6, atol=1e-6)
