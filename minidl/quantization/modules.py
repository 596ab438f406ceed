"""int8 layers for inference, and their fake-quantized twins for quantization-aware training.

A quantized Linear stores its weight W as int8 with one symmetric scale per output row,
W ≈ s_w ⊙ W_q. Its input is quantized per tensor (affine uint8: x ≈ s_x (x_q − z_x)) with a scale
chosen at run time from the batch (:class:`DynamicQuantizedLinear`) or calibrated beforehand
(:class:`QuantizedLinear`). Then

    y = x Wᵀ + b ≈ s_x s_w ⊙ (x_q W_qᵀ − z_x Σ_k W_q[:, k]) + b

where the product x_q W_qᵀ multiplies 8-bit integers and sums them in int32, the correction
z_x Σ_k W_q is precomputed per row, and one multiplication by s_x s_w (one rescale per output)
returns to float. :class:`QuantizedConv2d` does the same on the im2col columns of its input
(padded with z_x, the integer of 0.0). Outputs are float: the layers between (norms, softmax,
GELU, pooling) stay in float in minidl.

Weights that are not multiplied by a layer of their own are stored in int8 and expanded to float
when used ("weight-only"): embedding rows (:class:`QuantizedEmbedding`) and the packed query/key/
value weight of ``nn.MultiheadAttention``, which the attention layer multiplies itself
(:class:`Int8InProjection`, a forward pre-hook as pruning and LoRA use).
"""

from __future__ import annotations

import numpy as np

from minidl.core.backend import array_module, to_device
from minidl.core.creation import as_tensor
from minidl.core.errors import ShapeError
from minidl.nn import functional as F
from minidl.nn.module import Module
from minidl.ops.conv import output_size
from minidl.ops.embedding import lookup
from minidl.ops.im2col import im2col
from minidl.quantization.fake_quantize import default_fake_quant, default_per_channel_weight_fake_quant
from minidl.quantization.observer import PerChannelMinMaxObserver, choose_qparams
from minidl.quantization.qtensor import dequantize_array, int_matmul, qint8, quantize_array


def quantize_weight(weight, ch_axis=0):
    """(int8 values, float32 scales): symmetric, one scale per index along ``ch_axis`` (output channels)."""
    observer = PerChannelMinMaxObserver(ch_axis=ch_axis, dtype=qint8, qscheme="per_channel_symmetric")
    observer(weight)
    scale, _ = observer.calculate_qparams()  # observers keep their statistics on the host
    scale = to_device(scale.array.astype(np.float32), weight.device)
    return quantize_array(weight.array, scale, 0, -128, 127, np.int8, ch_axis), scale


def dynamic_input_qparams(x):
    """(scale, zero point) of a uint8 affine grid spanning x's own [min, max] (widened to contain 0)."""
    values = x.array
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    scale, zero_point = choose_qparams(low, high, 0, 255, symmetric=False, unsigned=True)
    return float(scale), int(zero_point)


def _rescale(acc, x_scale, w_scale, bias, axis):
    """float32 y = (s_x s_w) · acc + b: the one step from int32 back to float, per output along ``axis``."""
    shape = [1] * acc.ndim
    shape[axis] = -1
    y = acc.astype(np.float32) * (np.float32(x_scale) * w_scale).reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


class _Int8Weight(Module):
    """Holds W_q (int8) and s_w; ``weight`` gives back the float matrix s_w ⊙ W_q."""

    def _store(self, weight, bias, ch_axis=0):
        q, scale = quantize_weight(weight, ch_axis)
        self.register_buffer("weight_int8", as_tensor(q))
        self.register_buffer("weight_scale", as_tensor(scale))
        self.register_buffer("bias", None if bias is None else as_tensor(bias.array.astype(np.float32)))
        self.ch_axis = ch_axis

    @property
    def weight(self):
        return as_tensor(dequantize_array(self.weight_int8.array, self.weight_scale.array, 0, self.ch_axis))

    def _row_sums(self):
        """Σ_k W_q[o, k] per output o, in int32: the zero point's correction."""
        q = self.weight_int8.array
        return q.reshape(q.shape[0], -1).astype(np.int32).sum(axis=1)


class DynamicQuantizedLinear(_Int8Weight):
    """int8 Linear whose input scale is chosen from each input's own range (PyTorch's dynamic Linear)."""

    def __init__(self, float_linear):
        super().__init__()
        self.in_features, self.out_features = float_linear.in_features, float_linear.out_features
        self._store(float_linear.weight, float_linear.bias)

    @classmethod
    def from_float(cls, mod):
        return cls(mod)

    def input_qparams(self, x):
        return dynamic_input_qparams(x)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(f"{type(self).__name__}: expected input with last dim {self.in_features}, got shape "
                             f"{tuple(x.shape)}")
        scale, zero_point = self.input_qparams(x)
        x_q = quantize_array(x.array, scale, zero_point, 0, 255, np.uint8)
        rows = x_q.reshape(-1, self.in_features)
        acc = int_matmul(rows, self.weight_int8.array.T) - np.int32(zero_point) * self._row_sums()
        y = _rescale(acc, scale, self.weight_scale.array, None if self.bias is None else self.bias.array, axis=1)
        return as_tensor(y.reshape(tuple(x.shape[:-1]) + (self.out_features,)))

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, dtype=qint8, qscheme=per_channel"


class QuantizedLinear(DynamicQuantizedLinear):
    """int8 Linear with a calibrated input scale and zero point (static post-training quantization)."""

    def __init__(self, float_linear, input_scale, input_zero_point):
        super().__init__(float_linear)
        self.register_buffer("input_scale", as_tensor(np.array(float(input_scale), np.float32)))
        self.register_buffer("input_zero_point", as_tensor(np.array(int(input_zero_point), np.int64)))

    def input_qparams(self, x):
        return float(self.input_scale.array), int(self.input_zero_point.array)


class QuantizedConv2d(_Int8Weight):
    """int8 convolution (groups = 1, zero padding) with a calibrated input scale and zero point."""

    def __init__(self, float_conv, input_scale, input_zero_point):
        super().__init__()
        if float_conv.groups != 1 or float_conv.padding_mode != "zeros":
            raise NotImplementedError("QuantizedConv2d: only groups=1 and padding_mode='zeros' are supported")
        self.in_channels, self.out_channels = float_conv.in_channels, float_conv.out_channels
        self.kernel_size, self.stride, self.dilation = float_conv.kernel_size, float_conv.stride, float_conv.dilation
        self.padding = float_conv.padding
        self._store(float_conv.weight, float_conv.bias)
        self.register_buffer("input_scale", as_tensor(np.array(float(input_scale), np.float32)))
        self.register_buffer("input_zero_point", as_tensor(np.array(int(input_zero_point), np.int64)))

    def _pads(self):
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            return (totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2)
        return (self.padding[0], self.padding[0], self.padding[1], self.padding[1])

    def forward(self, x):
        if x.ndim == 3:
            return self(x.unsqueeze(0)).squeeze(0)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ShapeError(f"QuantizedConv2d: expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        scale, zero_point = float(self.input_scale.array), int(self.input_zero_point.array)
        top, bottom, left, right = self._pads()
        x_q = quantize_array(x.array, scale, zero_point, 0, 255, np.uint8)
        x_q = array_module(x_q).pad(x_q, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=zero_point)
        n, _, h, w = x_q.shape
        out_hw = tuple(output_size(side, k, s, 0, d) for side, k, s, d in
                       zip((h, w), self.kernel_size, self.stride, self.dilation))
        cols = im2col(x_q, self.kernel_size, self.stride, (0, 0, 0, 0), self.dilation, out_hw)
        acc = int_matmul(self.weight_int8.array.reshape(self.out_channels, -1), cols)
        acc -= np.int32(zero_point) * self._row_sums()[:, None]
        y = _rescale(acc, scale, self.weight_scale.array, None if self.bias is None else self.bias.array, axis=0)
        return as_tensor(y.reshape((self.out_channels, n) + out_hw).transpose(1, 0, 2, 3).copy())

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dtype=qint8")


class QuantizedEmbedding(_Int8Weight):
    """Embedding rows stored in int8, one symmetric scale per row, expanded to float when looked up."""

    def __init__(self, float_embedding):
        super().__init__()
        self.num_embeddings, self.embedding_dim = float_embedding.num_embeddings, float_embedding.embedding_dim
        self.padding_idx = float_embedding.padding_idx
        self._store(float_embedding.weight, None)

    def forward(self, ids):
        rows = ids.array
        if ids.dtype.kind not in "iu":
            raise TypeError(f"QuantizedEmbedding: expected integer ids, got dtype {ids.dtype}")
        if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= self.num_embeddings):
            raise IndexError(f"QuantizedEmbedding: ids must lie in [0, {self.num_embeddings}), got values in "
                             f"[{int(rows.min())}, {int(rows.max())}]")
        values = self.weight_int8.array[rows].astype(np.float32) * self.weight_scale.array[rows][..., None]
        return as_tensor(values)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}, dtype=qint8"


class Int8InProjection:
    """Forward pre-hook of a MultiheadAttention whose packed ``in_proj_weight`` is stored in int8
    (buffers ``in_proj_weight_int8`` and ``in_proj_weight_scale``): it sets the float weight before each forward."""

    @staticmethod
    def attach(attention, weight):
        q, scale = quantize_weight(weight)
        attention._parameters.pop("in_proj_weight", None)
        attention.__dict__.pop("in_proj_weight", None)
        attention.register_buffer("in_proj_weight_int8", as_tensor(q))
        attention.register_buffer("in_proj_weight_scale", as_tensor(scale))
        hook = Int8InProjection()
        hook(attention, ())
        attention.register_forward_pre_hook(hook)

    def __call__(self, module, inputs):
        module.in_proj_weight = as_tensor(dequantize_array(module.in_proj_weight_int8.array,
                                                           module.in_proj_weight_scale.array, 0, 0))


# --- quantization-aware training ------------------------------------------------------------------------------

class QATLinear(Module):
    """A Linear that trains through fake quantization of its input (uint8, per tensor) and of its weight
    (int8, per output row): y = fq_x(x) fq_w(W)ᵀ + b, with straight-through gradients."""

    def __init__(self, float_linear, weight_fake_quant=default_per_channel_weight_fake_quant,
                 input_fake_quant=default_fake_quant):
        super().__init__()
        self.in_features, self.out_features = float_linear.in_features, float_linear.out_features
        self.weight, self.bias = float_linear.weight, float_linear.bias
        self.weight_fake_quant, self.input_fake_quant = weight_fake_quant(), input_fake_quant()

    def forward(self, x):
        return F.linear(self.input_fake_quant(x), self.weight_fake_quant(self.weight), self.bias)


class QATConv2d(Module):
    """A Conv2d (zero padding) that trains through fake quantization of its input and of its weight."""

    def __init__(self, float_conv, weight_fake_quant=default_per_channel_weight_fake_quant,
                 input_fake_quant=default_fake_quant):
        super().__init__()
        if float_conv.padding_mode != "zeros":
            raise NotImplementedError("QATConv2d: only padding_mode='zeros' is supported")
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                     "padding_mode"):
            setattr(self, name, getattr(float_conv, name))
        self.weight, self.bias = float_conv.weight, float_conv.bias
        self.weight_fake_quant, self.input_fake_quant = weight_fake_quant(), input_fake_quant()

    def forward(self, x):
        return F.conv2d(self.input_fake_quant(x), self.weight_fake_quant(self.weight), self.bias, self.stride,
                        self.padding, self.dilation, self.groups)


class QATEmbedding(Module):
    """An Embedding that trains through fake quantization of its rows (int8, one scale per row)."""

    def __init__(self, float_embedding, weight_fake_quant=default_per_channel_weight_fake_quant):
        super().__init__()
        self.num_embeddings, self.embedding_dim = float_embedding.num_embeddings, float_embedding.embedding_dim
        self.padding_idx = float_embedding.padding_idx
        self.weight = float_embedding.weight
        self.weight_fake_quant = weight_fake_quant()

    def forward(self, ids):
        return lookup(ids, self.weight_fake_quant(self.weight), self.padding_idx, "QATEmbedding")


class FakeQuantInProjection:
    """Forward pre-hook of a MultiheadAttention in quantization-aware training: in_proj_weight =
    fake_quant(in_proj_weight_orig), the fake quantization a submodule ``in_proj_weight_fake_quant``."""

    @staticmethod
    def attach(attention, weight_fake_quant=default_per_channel_weight_fake_quant):
        attention.register_parameter("in_proj_weight_orig", attention._parameters.pop("in_proj_weight"))
        attention.in_proj_weight_fake_quant = weight_fake_quant()
        hook = FakeQuantInProjection()
        hook(attention, ())
        attention.register_forward_pre_hook(hook)

    def __call__(self, module, inputs):
        module.in_proj_weight = module.in_proj_weight_fake_quant(module.in_proj_weight_orig)

    @staticmethod
    def detach(attention):
        """Remove the hook and the fake quantization; returns the trained float weight."""
        for key, hook in list(attention._forward_pre_hooks.items()):
            if isinstance(hook, FakeQuantInProjection):
                del attention._forward_pre_hooks[key]
        del attention._modules["in_proj_weight_fake_quant"]
        attention.__dict__.pop("in_proj_weight", None)
        return attention._parameters.pop("in_proj_weight_orig")
