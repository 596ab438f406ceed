"""minidl: a small, readable deep-learning engine with reverse-mode autograd on NumPy.

Names and semantics follow PyTorch: ``minidl.tensor``, ``minidl.randn``,
``x.backward()``, ``minidl.no_grad()`` ...; arrays live on the CPU (NumPy), on
an NVIDIA GPU (CuPy, ``.to("cuda")``) or on the ``"strict"`` test device.

The layers, from the bottom: ``core`` (Tensor, Function, backward, devices),
``ops`` (each formula in its textbook form) and ``kernels`` (faster ways to
compute the same ops, switched with :func:`use_kernels`), then ``nn``,
``optim``, ``data``, ``io``, ``training`` and ``profiler``; ``testing`` and
``course`` support the tests and the chapters.
"""

from minidl.core import (AutogradError, Device, DeviceError, Function, MinidlError, ShapeError, Tensor,
                         detect_anomaly, enable_grad, inference_mode, is_grad_enabled, kernels_enabled, no_grad,
                         set_grad_enabled, use_kernels)
from minidl.core.backend import Device as device
from minidl.core.creation import (arange, as_tensor, default_generator, empty, empty_like, eye, from_numpy, full,
                                  full_like, get_rng_state, linspace, manual_seed, ones, ones_like, rand, rand_like,
                                  randint, randn, randn_like, randperm, set_rng_state, tensor, zeros, zeros_like)
from minidl.core.size import Size
from minidl.core.random import Generator
from minidl.core.sampling import bernoulli, multinomial, normal
from minidl.core.dtypes import DType as dtype
from minidl.core.dtypes import bool_ as bool  # noqa: A004 (PyTorch's name, minidl.bool)
from minidl.core.dtypes import (bfloat16, bool_, double, float, float16, float32, float64, get_default_dtype, half,
                                int8, int16, int32, int64, long, set_default_dtype, uint8)
from minidl.core.dtypes import int, short, uint16, uint32, uint64  # noqa: A004 (PyTorch's names, minidl.int)
from minidl.ops import (abs, add, allclose, argsort, sort, topk, cos, cosh, masked_fill, sin, sinh, tril, triu, amax, amin, argmax, argmin, broadcast_to, cat, chunk, clamp, clip,
                        clone, concat, concatenate, div, eq, equal, exp, expand, flatten, ge, gt, isfinite, isinf,
                        isnan, le, log, log_softmax, logical_not, logsumexp, lt, matmul, max, maximum, mean, min,
                        minimum, mul, ne, neg, permute, pow, relu, reshape, sigmoid, softmax, split, sqrt, squeeze,
                        stack, std, sub, sum, tanh, transpose, unflatten, unsqueeze, var, where)
from minidl.ops import (bmm, cumsum, einsum, flip, gather, index_select, meshgrid, narrow, repeat_interleave,
                        scatter, scatter_add, tile, unbind)
from minidl.ops.vector_norm import norm
from minidl.ops import (acos, asin, atan, atan2, clamp_max, clamp_min, erf, erfinv, exp2, expm1, lerp, log10, log1p,
                        log2, logaddexp, reciprocal, rsqrt, square, tan)
from minidl.ops import ceil, floor, floor_divide, fmod, remainder, round, sign, trunc  # noqa: A004
from minidl.ops import histc
from minidl.ops import (bucketize, count_nonzero, is_floating_point, isclose, logical_and, logical_or, logical_xor,
                        nonzero, numel, searchsorted, tril_indices, triu_indices, unique)
from minidl.ops import (addmm, baddbmm, broadcast_tensors, cdist, cosine_similarity, cross, cumprod, diag, diagonal,
                        dist, dot, hstack, kron, masked_select, median, mm, nan_to_num, outer, pairwise_distance,
                        prod, roll, std_mean, swapaxes, swapdims, take_along_dim, trace, var_mean, vstack)
from minidl.ops import (aminmax, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                        bitwise_xor, block_diag, cartesian_prod, combinations, copysign, corrcoef, cov, cummax, cummin,
                        deg2rad, diff, digamma, fix, float_power, frac, heaviside, hypot, i0, isin, lgamma, logcumsumexp,
                        logit, logspace, mvlgamma, nanmean, nanquantile, nansum, polygamma, quantile, rad2deg, rot90,
                        sgn, signbit, sinc, tensordot, true_divide, vander, xlogy)
from minidl.ops import (addbmm, addmv, all, any, argwhere, atleast_1d, atleast_2d, atleast_3d,  # noqa: A004
                        bincount, broadcast_shapes, can_cast, chain_matmul, column_stack, detach, diag_embed, dstack,
                        erfc, fliplr, flipud, fmax, fmin, ger, gradient, histogram, index_add, index_copy, index_fill,
                        inner, is_nonzero, kthvalue, masked_scatter, mode, moveaxis, movedim, nanmedian,
                        promote_types, randint_like, renorm, result_type, select, t, take, tensor_split, trapezoid,
                        unique_consecutive, vdot)
from minidl.ops import (absolute, acosh, adjoint, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,
                        asarray, asinh, atanh, cholesky, conj, conj_physical, cosine_embedding_loss, det, divide,
                        dsplit, empty_strided, frexp, frombuffer, get_autocast_dtype, greater, greater_equal, hsplit,
                        index_put, inverse, is_autocast_enabled, is_warn_always_enabled, isneginf, isposinf, isreal,
                        ldexp, less, less_equal, logaddexp2, logdet, msort, multiply, negative, not_equal, pdist,
                        poisson, positive, put, qr, ravel, resolve_conj, resolve_neg, row_stack, scalar_tensor,
                        scatter_reduce, set_warn_always, subtract, svd, typename, vsplit)
from minidl.core.type_info import finfo, iinfo
from minidl.core.printing import set_printoptions
from minidl.core.compute_flags import (are_deterministic_algorithms_enabled, get_float32_matmul_precision,
                                       is_deterministic_algorithms_warn_only_enabled, set_float32_matmul_precision,
                                       use_deterministic_algorithms)
from minidl import kernels
from minidl.kernels.threads import get_num_threads, set_num_threads
from minidl.amp import autocast
from minidl import accelerator, amp, autograd, backends, cuda, data, distributed, nn, optim, profiler, testing, utils
from minidl import linalg  # torch.linalg's functions
from minidl import special
from minidl import distributions  # torch.distributions
from minidl.io import load, save
from minidl import mps, random  # torch.mps, torch.random
from minidl.random import initial_seed, seed
from minidl.core.creation import get_default_device, set_default_device

__version__ = "0.1.0"


def is_tensor(obj):
    """True for a minidl Tensor (Parameters included)."""
    return isinstance(obj, Tensor)


def compile(model=None, **options):  # noqa: A001 (PyTorch's name)
    """``model`` itself: minidl has no compiler (its speed comes from the kernels in
    ``minidl/kernels/``, chosen at run time), so ``model = minidl.compile(model)`` changes nothing."""
    if model is None:
        return lambda function: function
    return model


def dropout(input, p, train):  # noqa: A002 (torch.dropout: all three required, the flag named ``train``)
    """torch.dropout: ``nn.functional.dropout(input, p, training=train)``."""
    return nn.functional.dropout(input, p, train)


def alpha_dropout(input, p, train):  # noqa: A002
    """torch.alpha_dropout: ``nn.functional.alpha_dropout(input, p, training=train)``."""
    return nn.functional.alpha_dropout(input, p, train)


#: PyTorch names minidl deliberately lacks, and what to do instead
_NOT_PROVIDED = {
    "complex64": "minidl has no complex tensors",
    "complex128": "minidl has no complex tensors",
    "jit": "minidl has no TorchScript; models are plain Python (save them with minidl.save(model.state_dict(), path))",
}


def __getattr__(name):
    """A PyTorch name minidl lacks gets a plain answer, not a guess at a similar name."""
    if name in _NOT_PROVIDED:
        raise AttributeError(f"minidl.{name}: {_NOT_PROVIDED[name]}")
    raise AttributeError(f"module 'minidl' has no attribute {name!r}: minidl follows PyTorch's names but does not "
                         "provide this one (README: what is supported)")
