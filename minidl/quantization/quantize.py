"""Turning a float model into an int8 one: dynamic, static (post-training, calibrated), and QAT.

* :func:`quantize_dynamic`: weights to int8 now, each input's scale from its own range at run time.
  No calibration data; a little work per call to find the range.
* :func:`prepare`, run calibration batches, :func:`convert`: static post-training quantization.
  ``prepare`` puts an observer in front of every Linear and Conv2d (a forward pre-hook feeds it the
  layer's input); running representative data through the prepared model lets each observer learn its
  input's range; ``convert`` swaps in int8 layers with those fixed scales.
* :func:`prepare_qat`, train, :func:`convert`: quantization-aware training. The layers train through
  fake quantization (see :mod:`.fake_quantize`), so the weights learn to live on the int8 grid.

Embeddings and the packed attention projection become weight-only int8 (see :mod:`.modules`). A
module whose ``qconfig`` attribute is set to None before ``prepare`` / ``prepare_qat`` stays float
(as in PyTorch). Unlike PyTorch's eager mode there are no QuantStub/DeQuantStub to place: each int8
layer quantizes its own float input and returns float.
"""

from __future__ import annotations

import copy
import warnings
from collections import namedtuple

from minidl.nn.attention import MultiheadAttention
from minidl.nn.conv import Conv2d
from minidl.nn.layers import Embedding, Linear
from minidl.quantization.fake_quantize import default_fake_quant, default_per_channel_weight_fake_quant
from minidl.quantization.modules import (DynamicQuantizedLinear, FakeQuantInProjection, Int8InProjection,
                                         QATConv2d, QATEmbedding, QATLinear, QuantizedConv2d, QuantizedEmbedding,
                                         QuantizedLinear)
from minidl.quantization.observer import HistogramObserver, MinMaxObserver, PerChannelMinMaxObserver
from minidl.quantization.qtensor import as_qdtype, qint8, quint8

QConfig = namedtuple("QConfig", ["activation", "weight"])
QConfig.__doc__ = "Factories of the observers (or fake quantizers) for a layer's activations and its weight."

_per_channel_weights = PerChannelMinMaxObserver.with_args(dtype=qint8, qscheme="per_channel_symmetric")
#: activations: uint8 affine over the whole range seen; weights: int8 symmetric per output channel
minmax_qconfig = QConfig(activation=MinMaxObserver.with_args(dtype=quint8), weight=_per_channel_weights)
#: activations: uint8 affine over the least-error range of a histogram; weights as above
histogram_qconfig = QConfig(activation=HistogramObserver.with_args(dtype=quint8), weight=_per_channel_weights)
#: quantization-aware training: moving-average activation ranges, per-channel weights
qat_qconfig = QConfig(activation=default_fake_quant, weight=default_per_channel_weight_fake_quant)


def _places(model):
    """(name, module, parent, attribute) for every module, parents first (the root: parent None)."""
    found = [("", model, None, None)]
    for name, module in model.named_modules():
        for child_name, child in module._modules.items():
            if child is not None:
                found.append((f"{name}.{child_name}" if name else child_name, child, module, child_name))
    return found


def _swap(model, replace):
    """Call ``replace(module, name)`` on every module; a module it returns takes the old one's place.
    Returns the root."""
    root, skipped = model, []
    for name, module, parent, attribute in _places(model):
        if module.__dict__.get("qconfig", True) is None or any(name.startswith(f"{s}.") for s in skipped):
            skipped.append(name)  # qconfig None: this module and everything inside it stay float
            continue
        new = replace(module, name)
        if new is not None and new is not module:
            if parent is None:
                root = new
            else:
                setattr(parent, attribute, new)
    return root


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, inplace=False):
    """int8 weights for the modules of the types in ``qconfig_spec`` (default {nn.Linear}; nn.Embedding and
    nn.MultiheadAttention add weight-only embeddings and attention projections); Linear inputs are
    quantized per call from their own range. Returns the quantized model (a copy unless ``inplace``)."""
    if as_qdtype(dtype, "quantize_dynamic") is not qint8:
        raise ValueError("quantize_dynamic: only dtype=qint8 (int8 weights) is supported")
    kinds = tuple({Linear} if qconfig_spec is None else qconfig_spec)
    for kind in kinds:
        if kind not in (Linear, Embedding, MultiheadAttention):
            raise ValueError(f"quantize_dynamic: qconfig_spec may hold nn.Linear, nn.Embedding and "
                             f"nn.MultiheadAttention, got {kind!r}")
    model = model if inplace else copy.deepcopy(model)

    def replace(module, name):
        if isinstance(module, Linear) and Linear in kinds:
            return DynamicQuantizedLinear.from_float(module)
        if isinstance(module, Embedding) and Embedding in kinds:
            return QuantizedEmbedding(module)
        if isinstance(module, MultiheadAttention) and MultiheadAttention in kinds:
            Int8InProjection.attach(module, module.in_proj_weight)
        return None
    return _swap(model, replace)


class _ObserveInput:
    """Forward pre-hook of a prepared layer: its input goes through ``module.input_observer``."""

    def __call__(self, module, inputs):
        module.input_observer(inputs[0])


def prepare(model, qconfig=minmax_qconfig, inplace=False):
    """Attach an input observer (``qconfig.activation()``) to every Linear and Conv2d and mark embeddings
    and attention projections for int8; run calibration data through the result, then :func:`convert`."""
    model = model if inplace else copy.deepcopy(model)

    def mark(module, name):
        if isinstance(module, (Linear, Conv2d)):
            module.input_observer = qconfig.activation()
            module.register_forward_pre_hook(_ObserveInput())
        if isinstance(module, (Linear, Conv2d, Embedding, MultiheadAttention)):
            object.__setattr__(module, "_int8", True)
    return _swap(model, mark)


def prepare_qat(model, qconfig=qat_qconfig, inplace=False):
    """Swap Linear, Conv2d and Embedding for fake-quantized twins that share their parameters (build the
    optimizer afterwards or keep the old one: the Parameters are the same objects), and fake-quantize
    attention projections; train, then :func:`convert`."""
    model = model if inplace else copy.deepcopy(model)

    def replace(module, name):
        if isinstance(module, Linear):
            return QATLinear(module, qconfig.weight, qconfig.activation)
        if isinstance(module, Conv2d):
            return QATConv2d(module, qconfig.weight, qconfig.activation)
        if isinstance(module, Embedding):
            return QATEmbedding(module, qconfig.weight)
        if isinstance(module, MultiheadAttention):
            FakeQuantInProjection.attach(module, qconfig.weight)
        return None
    return _swap(model, replace)


def convert(model, inplace=False):
    """Replace every prepared (observed) or QAT layer by its int8 layer, with the input scales learned.
    A layer that saw no data while calibrating or training (a head the data never reached) stays in
    float, with a warning that names it."""
    model = model if inplace else copy.deepcopy(model)
    unseen = []

    def replace(module, name):
        if isinstance(module, (QATLinear, QATConv2d)):
            if not _observed(module.input_fake_quant.activation_post_process):
                unseen.append(name)
                return _float_twin(module)
            layer = QuantizedLinear if isinstance(module, QATLinear) else QuantizedConv2d
            return layer(module, *_qparams(module.input_fake_quant))
        if isinstance(module, QATEmbedding):
            return QuantizedEmbedding(module)
        if isinstance(module, MultiheadAttention) and "in_proj_weight_fake_quant" in module._modules:
            Int8InProjection.attach(module, FakeQuantInProjection.detach(module))
            return None
        if not module.__dict__.pop("_int8", False):
            return None
        if isinstance(module, (Linear, Conv2d)):
            observer = module._modules.pop("input_observer")
            for key in [k for k, hook in module._forward_pre_hooks.items() if isinstance(hook, _ObserveInput)]:
                del module._forward_pre_hooks[key]
            if not _observed(observer):
                unseen.append(name)
                return None
            return (QuantizedLinear if isinstance(module, Linear) else QuantizedConv2d)(module, *_qparams(observer))
        if isinstance(module, Embedding):
            return QuantizedEmbedding(module)
        if isinstance(module, MultiheadAttention):
            Int8InProjection.attach(module, module.in_proj_weight)
        return None
    root = _swap(model, replace)
    if unseen:
        warnings.warn(f"convert: {', '.join(unseen)} saw no data while calibrating or training, so no input "
                      "scale was learned; left in float", UserWarning, stacklevel=2)
    return root


def _observed(observer):
    return observer._range()[0] is not None


def _float_twin(module):
    """The float layer a QAT layer was made from (it shares the same Parameters)."""
    if isinstance(module, QATLinear):
        layer = Linear(module.in_features, module.out_features, bias=module.bias is not None)
    else:
        layer = Conv2d(module.in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
                       module.dilation, module.groups, bias=module.bias is not None)
    layer.weight = module.weight
    if module.bias is not None:
        layer.bias = module.bias
    return layer


def _qparams(observer):
    scale, zero_point = observer.calculate_qparams()
    return float(scale.array.reshape(-1)[0]), int(zero_point.array.reshape(-1)[0])
