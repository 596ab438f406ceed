"""Neural-network building blocks, named as in ``torch.nn``.

``minidl.nn.functional`` holds the functional forms, ``minidl.nn.init`` the
initialisation schemes.
"""

from minidl.nn import functional, init, utils
from minidl.nn.attention import MultiheadAttention, causal_mask, padding_mask
from minidl.nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, MaxPool2d
from minidl.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from minidl.nn.lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d, LazyLinear, UninitializedBuffer,
                            UninitializedParameter)
from minidl.nn.lazy import LazyBatchNorm3d
from minidl.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from minidl.nn.layers import (GELU, Dropout, Embedding, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU,
                              Sigmoid, SiLU, Softmax, Tanh)
from minidl.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss
from minidl.nn.module import Module, Parameter
from minidl.nn.norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from minidl.nn.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from minidl.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                                   TransformerEncoderLayer)
from minidl.nn.sync_batchnorm import SyncBatchNorm
from minidl.nn import parallel
from minidl.nn.recurrent import GRU, LSTM, RNN, RNNBase
from minidl.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from minidl.nn.padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d,
                               ReflectionPad2d, ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from minidl.nn.dropout_layers import AlphaDropout, Dropout1d, Dropout2d
from minidl.nn.instance_norm import InstanceNorm1d, InstanceNorm2d
from minidl.nn.pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, MaxPool1d
from minidl.nn.shape_layers import Fold, Unflatten, Unfold
from minidl.nn.embedding_bag import EmbeddingBag
from minidl.nn.activations import (CELU, ELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU,
                                  ReLU6, Softmin, Softplus, Softsign, Tanhshrink)
from minidl.nn.distances import CosineEmbeddingLoss, CosineSimilarity, HuberLoss, PairwiseDistance, SmoothL1Loss
from minidl.nn.more_layers2 import (Bilinear, ChannelShuffle, LocalResponseNorm, PixelShuffle, PixelUnshuffle,
                                   RReLU, Softmax2d, Threshold)
from minidl.nn.more_losses import (GaussianNLLLoss, HingeEmbeddingLoss, MarginRankingLoss, MultiLabelMarginLoss,
                                 MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SoftMarginLoss,
                                 TripletMarginLoss, TripletMarginWithDistanceLoss)
from minidl.nn.ctc_loss import CTCLoss
from minidl.nn.layers3d import (AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, BatchNorm3d, CircularPad3d,
                                ConstantPad3d, Conv3d, InstanceNorm3d, MaxPool3d, ReflectionPad3d,
                                ReplicationPad3d, ZeroPad3d)
from minidl.nn.feature_dropout import Dropout3d, FeatureAlphaDropout
from minidl.nn.shrink import Hardshrink, Softshrink
from minidl.nn.unpool import LPPool1d, LPPool2d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from minidl.nn.module import Buffer

__all__ = [
    "LearnedPositionalEmbedding", "MultiheadAttention", "SinusoidalPositionalEncoding", "Transformer",
    "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer", "causal_mask",
    "padding_mask",
    "AdaptiveAvgPool2d", "AvgPool2d", "Conv2d", "MaxPool2d",
    "Conv1d", "ConvTranspose2d", "GroupNorm", "RMSNorm", "ParameterDict", "ParameterList", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyConv1d", "LazyConv2d", "LazyLinear", "UninitializedBuffer", "UninitializedParameter",
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "LazyBatchNorm3d",
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss", "LayerNorm", "MSELoss",
    "KLDivLoss", "L1Loss", "NLLLoss",
    "GELU", "Dropout", "Embedding", "Flatten", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "Module",
    "ModuleDict", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid", "SiLU", "Softmax", "Tanh", "functional",
    "init", "utils",
    "SyncBatchNorm", "parallel",
]
__all__ += ["GRU", "LSTM", "RNN", "RNNBase", "GRUCell", "LSTMCell", "RNNCell", "RNNCellBase", "CircularPad1d",
            "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
            "ReplicationPad2d", "ZeroPad1d", "ZeroPad2d", "AlphaDropout", "Dropout1d", "Dropout2d", "InstanceNorm1d",
            "InstanceNorm2d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d",
            "Fold", "Unflatten", "Unfold", "EmbeddingBag"]
__all__ += ["CELU", "ELU", "GLU", "SELU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "PReLU",
            "ReLU6", "Softmin", "Softplus", "Softsign", "Tanhshrink", "CosineEmbeddingLoss", "CosineSimilarity",
            "HuberLoss", "PairwiseDistance", "SmoothL1Loss"]
__all__ += ["GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelMarginLoss",
            "MultiLabelSoftMarginLoss", "MultiMarginLoss", "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss",
            "TripletMarginWithDistanceLoss"]
__all__ += ["CTCLoss"]
__all__ += ["Bilinear", "ChannelShuffle", "ConvTranspose1d", "LocalResponseNorm", "PixelShuffle", "PixelUnshuffle",
            "RReLU", "Softmax2d", "Threshold"]
__all__ += ["AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "AvgPool3d", "BatchNorm3d", "CircularPad3d",
            "ConstantPad3d", "Conv3d", "Dropout3d", "FeatureAlphaDropout", "Hardshrink", "InstanceNorm3d",
            "LPPool1d", "LPPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "ReflectionPad3d",
            "ReplicationPad3d", "Softshrink", "ZeroPad3d", "Buffer"]
