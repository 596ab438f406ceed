"""Neural-network building blocks, named as in ``torch.nn``.

``minidl.nn.functional`` holds the functional forms, ``minidl.nn.init`` the
initialisation schemes.
"""

from minidl.nn import functional, init, utils
from minidl.nn.attention import MultiheadAttention, causal_mask, padding_mask
from minidl.nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d
from minidl.nn.containers import ModuleDict, ModuleList, Sequential
from minidl.nn.layers import (GELU, Dropout, Embedding, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU,
                              Sigmoid, SiLU, Softmax, Tanh)
from minidl.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from minidl.nn.module import Module, Parameter
from minidl.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from minidl.nn.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from minidl.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                                   TransformerEncoderLayer)

__all__ = [
    "LearnedPositionalEmbedding", "MultiheadAttention", "SinusoidalPositionalEncoding", "Transformer",
    "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer", "causal_mask",
    "padding_mask",
    "AdaptiveAvgPool2d", "AvgPool2d", "Conv2d", "MaxPool2d",
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss", "LayerNorm", "MSELoss",
    "L1Loss", "NLLLoss",
    "GELU", "Dropout", "Embedding", "Flatten", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "Module",
    "ModuleDict", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid", "SiLU", "Softmax", "Tanh", "functional",
    "init", "utils",
]
