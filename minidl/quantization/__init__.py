"""int8 quantization with PyTorch's names: observers, fake quantization (QAT), dynamic and static flows.

    minidl.quantization.quantize_dynamic(model)                      int8 Linear weights, nothing to calibrate
    prepared = prepare(model); run data; convert(prepared)            static post-training int8
    qat = prepare_qat(model); train; convert(qat)                     quantization-aware training

See :mod:`.qtensor` for the arithmetic (r = s·(q − z), int32 accumulation), :mod:`.observer` for
how scales are chosen, :mod:`.modules` for the int8 layers.
"""

from minidl.quantization.fake_quantize import (FakeQuantize, FakeQuantizeAffine, default_fake_quant,
                                               default_per_channel_weight_fake_quant, fake_quantize_per_channel_affine,
                                               fake_quantize_per_tensor_affine)
from minidl.quantization.modules import (DynamicQuantizedLinear, FakeQuantInProjection, Int8InProjection,
                                         QATConv2d, QATEmbedding, QATLinear, QuantizedConv2d, QuantizedEmbedding,
                                         QuantizedLinear, quantize_weight)
from minidl.quantization.observer import (HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver,
                                          MovingAveragePerChannelMinMaxObserver, ObserverBase,
                                          PerChannelMinMaxObserver, choose_qparams)
from minidl.quantization.qtensor import (QDType, QuantizedTensor, dequantize_array, int_matmul, per_channel_affine,
                                         per_channel_symmetric, per_tensor_affine, per_tensor_symmetric, qint8,
                                         quantize_array, quantize_per_channel, quantize_per_tensor, quint8)
from minidl.quantization.quantize import (QConfig, convert, histogram_qconfig, minmax_qconfig, prepare, prepare_qat,
                                          qat_qconfig, quantize_dynamic)

__all__ = [
    "DynamicQuantizedLinear", "FakeQuantInProjection", "FakeQuantize", "FakeQuantizeAffine", "HistogramObserver",
    "Int8InProjection", "MinMaxObserver", "MovingAverageMinMaxObserver", "MovingAveragePerChannelMinMaxObserver",
    "ObserverBase", "PerChannelMinMaxObserver", "QATConv2d", "QATEmbedding", "QATLinear", "QConfig", "QDType",
    "QuantizedConv2d", "QuantizedEmbedding", "QuantizedLinear", "QuantizedTensor", "choose_qparams", "convert",
    "default_fake_quant", "default_per_channel_weight_fake_quant", "dequantize_array", "fake_quantize_per_channel_affine",
    "fake_quantize_per_tensor_affine", "histogram_qconfig", "int_matmul", "minmax_qconfig", "per_channel_affine",
    "per_channel_symmetric", "per_tensor_affine", "per_tensor_symmetric", "prepare", "prepare_qat", "qat_qconfig",
    "qint8", "quantize_array", "quantize_dynamic", "quantize_per_channel", "quantize_per_tensor", "quint8",
    "quantize_weight",
]
