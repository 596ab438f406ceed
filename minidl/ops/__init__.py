"""Differentiable primitives, one module per formula family.

Every op is a ``Function`` subclass (forward and backward side by side) plus a
functional form with PyTorch's name and arguments. The Tensor methods and the
``minidl.*`` functions call the functional forms collected here: at the end of
this file the package attaches itself to Tensor (the core's one hook,
:func:`minidl.core.tensor_methods.attach_ops`).
"""

import sys

from minidl.core import tensor_methods

from minidl.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minidl.ops.arithmetic import (abs, add, cast, clamp, clip, clone, div, exp, log, masked_fill, maximum, minimum,
                                   mul, neg, pow, sqrt, sub, transfer, where)
from minidl.ops.common import as_tensor
from minidl.core.creation import new_full, new_tensor  # Tensor.new_* reach the core's creation through here
from minidl.ops.compare import (allclose, eq, equal, ge, gt, isfinite, isinf, isnan, le, logical_not, lt, ne)
from minidl.ops.einsum import einsum
from minidl.ops.indexing import flip, gather, index_select, narrow, scatter, scatter_add, unbind
from minidl.ops.linalg import bmm, matmul, tril, triu
from minidl.ops.ordering import argsort, sort, topk
from minidl.ops.reduction import amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, var
from minidl.ops.repeat import meshgrid, repeat, repeat_interleave, tile
from minidl.ops.scan import cumsum
from minidl.ops.vector_norm import norm as p_norm  # "norm" here is the module of batch and layer norm
from minidl.ops.vector_norm import normalize
from minidl.ops.trigonometry import cos, cosh, sin, sinh
from minidl.ops.padding import pad
from minidl.ops.shape import (as_index, broadcast_to, cat, chunk, concat, concatenate, expand, expand_as,
                              flatten, getitem, permute, reshape, set_item, split, squeeze, stack,
                              transpose, unflatten, unsqueeze)
# more elementwise math, rounding, selection, products, statistics, diagonals, rearranging, distances
from minidl.ops.elementwise_math import (acos, asin, atan, atan2, clamp_max, clamp_min, exp2, expm1, lerp, log10,
                                         log1p, log2, logaddexp, reciprocal, rsqrt, square, tan)
from minidl.ops.error_function import erf, erfinv
from minidl.ops.rounding import ceil, floor, floor_divide, fmod, remainder, round, sign, trunc
from minidl.ops.histogram import histc
from minidl.ops.selection import (bucketize, count_nonzero, is_floating_point, isclose, logical_and, logical_or,
                                  logical_xor, nonzero, numel, searchsorted, tril_indices, triu_indices, unique)
from minidl.ops.products import addmm, baddbmm, cumprod, dot, kron, mm, outer, prod
from minidl.ops.statistics import median, std_mean, var_mean
from minidl.ops.diagonals import diag, diagonal, trace
from minidl.ops.rearrange import (broadcast_tensors, hstack, masked_select, nan_to_num, roll, swapaxes, swapdims,
                                  take_along_dim, vstack)
from minidl.ops.distance import cdist, cosine_similarity, cross, dist, pairwise_distance
# the remaining tensor math: elementwise extras, bitwise logic, special functions, scans, quantiles, combinatorics
from minidl.ops.more_math import (aminmax, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,
                                  bitwise_right_shift, bitwise_xor, copysign, corrcoef, cov, deg2rad, fix, float_power,
                                  frac, heaviside, hypot, logit, nanmean, nansum, rad2deg, sgn, signbit, sinc,
                                  true_divide, xlogy)
from minidl.ops.special_functions import digamma, entr, i0, lgamma, mvlgamma, polygamma, xlog1py
from minidl.ops.scans_more import cummax, cummin, logcumsumexp, nanquantile, quantile
from minidl.ops.combinatorics import (block_diag, cartesian_prod, combinations, diff, isin, logspace, rot90,
                                      tensordot, vander)

__all__ = [
    "abs", "add", "argsort", "sort", "topk", "cos", "cosh", "sin", "sinh", "tril", "triu", "allclose", "amax", "amin", "argmax", "argmin", "as_index", "as_tensor", "broadcast_to", "cast", "cat",
    "chunk", "clamp", "clip", "clone", "concat", "concatenate", "div", "eq", "equal", "exp", "expand",
    "expand_as", "flatten", "ge", "gelu", "getitem", "gt", "isfinite", "isinf", "isnan", "le", "leaky_relu",
    "log", "log_softmax", "logical_not", "logsumexp", "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "pad", "permute", "pow", "relu", "reshape", "set_item", "sigmoid", "softmax", "split",
    "sqrt", "squeeze", "stack", "std", "sub", "sum", "tanh", "transfer", "transpose", "unflatten",
    "unsqueeze", "var", "where",
    "bmm", "cumsum", "einsum", "flip", "gather", "index_select", "meshgrid", "narrow", "new_full", "new_tensor",
    "normalize", "p_norm", "repeat", "repeat_interleave", "scatter", "scatter_add", "tile", "unbind",
]
__all__ += [
    "acos", "asin", "atan", "atan2", "clamp_max", "clamp_min", "exp2", "expm1", "lerp", "log10", "log1p", "log2",
    "logaddexp", "reciprocal", "rsqrt", "square", "tan", "erf", "erfinv",
    "ceil", "floor", "floor_divide", "fmod", "remainder", "round", "sign", "trunc",
    "histc", "bucketize", "count_nonzero", "is_floating_point", "isclose", "logical_and", "logical_or", "logical_xor",
    "nonzero", "numel", "searchsorted", "tril_indices", "triu_indices", "unique",
    "addmm", "baddbmm", "cumprod", "dot", "kron", "mm", "outer", "prod", "median", "std_mean", "var_mean",
    "diag", "diagonal", "trace", "broadcast_tensors", "hstack", "masked_select", "nan_to_num", "roll", "swapaxes",
    "swapdims", "take_along_dim", "vstack", "cdist", "cosine_similarity", "cross", "dist", "pairwise_distance",
]

__all__ += [
    "aminmax", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "copysign", "corrcoef", "cov", "deg2rad", "fix", "float_power", "frac", "heaviside", "hypot", "logit", "nanmean",
    "nansum", "rad2deg", "sgn", "signbit", "sinc", "true_divide", "xlogy", "digamma", "entr", "i0", "lgamma",
    "mvlgamma", "polygamma", "xlog1py", "cummax", "cummin", "logcumsumexp", "nanquantile", "quantile", "block_diag",
    "cartesian_prod", "combinations", "diff", "isin", "logspace", "rot90", "tensordot", "vander",
]

# PyTorch's remaining top-level functions: shape and index composites, order statistics, counting, promotion
from minidl.ops.tensor_functions_extra import (addbmm, addmv, all, any, argwhere, atleast_1d, atleast_2d,  # noqa: A004
                                               atleast_3d, chain_matmul, column_stack, detach, diag_embed, dstack,
                                               fliplr, flipud, ger, index_add, index_copy, index_fill, inner,
                                               is_nonzero, masked_scatter, moveaxis, movedim, randint_like, select,
                                               t, take, tensor_split, unfold_windows, vdot)
from minidl.ops.tensor_functions_extra2 import (bincount, broadcast_shapes, can_cast, erfc, fmax, fmin, gradient,
                                                histogram, kthvalue, mode, nanmedian, promote_types, renorm,
                                                result_type, trapezoid, unique_consecutive)

__all__ += [
    "addbmm", "addmv", "all", "any", "argwhere", "atleast_1d", "atleast_2d", "atleast_3d", "chain_matmul",
    "column_stack", "detach", "diag_embed", "dstack", "fliplr", "flipud", "ger", "index_add", "index_copy",
    "index_fill", "inner", "is_nonzero", "masked_scatter", "moveaxis", "movedim", "randint_like", "select", "t",
    "take", "tensor_split", "unfold_windows", "vdot", "bincount", "broadcast_shapes", "can_cast", "erfc", "fmax",
    "fmin", "gradient", "histogram", "kthvalue", "mode", "nanmedian", "promote_types", "renorm", "result_type",
    "trapezoid", "unique_consecutive",
]

# PyTorch's second names (aliases), inverse hyperbolic functions, scatter_reduce, index writes, small utilities
from minidl.ops.aliases import (absolute, adjoint, arccos, arcsin, arctan, arctan2, cholesky, conj, conj_physical,
                                cosine_embedding_loss, divide, greater, greater_equal, inverse, less, less_equal, logdet, msort, multiply,
                                negative, not_equal, positive, qr, ravel, resolve_conj, resolve_neg, row_stack,
                                subtract, svd)
from minidl.ops.more_math2 import (acosh, asinh, atanh, index_put, ldexp, logaddexp2, put, scatter_reduce)
from minidl.ops.more_math2_functions import (dsplit, empty_strided, frexp, frombuffer, get_autocast_dtype, hsplit,
                                             is_autocast_enabled, is_warn_always_enabled, isneginf, isposinf, isreal,
                                             poisson, scalar_tensor, set_warn_always, typename, vsplit)
from minidl.ops.more_math2_functions import asarray
from minidl.ops.linalg_functions import det
from minidl.ops.more_layers_ops import pdist

arccosh, arcsinh, arctanh = acosh, asinh, atanh  # NumPy's names of the inverse hyperbolic functions

__all__ += [
    "absolute", "adjoint", "arccos", "arcsin", "arctan", "arctan2", "cholesky", "conj", "conj_physical", "divide",
    "greater", "greater_equal", "inverse", "less", "less_equal", "logdet", "msort", "multiply", "negative",
    "not_equal", "positive", "qr", "ravel", "resolve_conj", "resolve_neg", "row_stack", "subtract", "svd", "acosh",
    "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "index_put", "ldexp", "logaddexp2", "put", "scatter_reduce",
    "dsplit", "empty_strided", "frexp", "frombuffer", "get_autocast_dtype", "hsplit", "is_autocast_enabled",
    "is_warn_always_enabled", "isneginf", "isposinf", "isreal", "poisson", "scalar_tensor", "set_warn_always",
    "typename", "vsplit", "asarray", "det", "cosine_embedding_loss", "pdist",
]

tensor_methods.attach_ops(sys.modules[__name__])
