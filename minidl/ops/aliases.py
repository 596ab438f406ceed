"""PyTorch's second names for functions minidl already has, one line each (NumPy-style arc*, comparison
words, ``divide`` with ``rounding_mode``, the top-level linear algebra of ``torch.*``), plus the conjugation
functions, which on real tensors (minidl has no complex ones) leave the values as they are.

Each alias is the same function object or a thin call of it, so its gradient is the original's.
"""

from __future__ import annotations

from collections import namedtuple

from minidl.ops.arithmetic import abs, div, log, mul, neg, sub  # noqa: A004 (PyTorch's names)
from minidl.ops.compare import ge, gt, le, lt, ne
from minidl.ops.elementwise_math import acos, asin, atan, atan2
from minidl.ops.common import tensor_argument
from minidl.ops.linalg_functions import cholesky as linalg_cholesky
from minidl.ops.linalg_functions import det, inv, qr as linalg_qr, svd as linalg_svd
from minidl.ops.robust_loss import cosine_embedding_loss as functional_cosine_embedding_loss
from minidl.ops.ordering import sort
from minidl.ops.rearrange import vstack
from minidl.ops.rounding import floor_divide, trunc

subtract = sub  # torch.subtract: input - alpha * other
multiply = mul  # torch.multiply: input * other
negative = neg  # torch.negative: -input
absolute = abs  # torch.absolute: |input|
arccos = acos  # torch.arccos: NumPy's name of acos
arcsin = asin  # torch.arcsin: NumPy's name of asin
arctan = atan  # torch.arctan: NumPy's name of atan
arctan2 = atan2  # torch.arctan2: NumPy's name of atan2
not_equal = ne  # torch.not_equal: input != other
greater = gt  # torch.greater: input > other
greater_equal = ge  # torch.greater_equal: input >= other
less = lt  # torch.less: input < other
less_equal = le  # torch.less_equal: input <= other
row_stack = vstack  # torch.row_stack: the tensors stacked as rows (vstack)
inverse = inv  # torch.inverse: linalg.inv


def divide(input, other, *, rounding_mode=None):  # noqa: A002
    """input / other; ``rounding_mode`` "trunc" rounds the quotient toward zero, "floor" toward -inf
    (integer inputs then give an integer result, as in PyTorch)."""
    if rounding_mode is None:
        return div(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode != "trunc":
        raise ValueError(f"divide: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    floored = floor_divide(input, other)  # the dtype PyTorch gives a rounded quotient
    return trunc(div(input, other)).to(floored.dtype)


def positive(input):  # noqa: A002
    """input itself (torch.positive; refused for bool tensors, as in PyTorch)."""
    if tensor_argument(input, "positive").array.dtype.kind == "b":
        raise TypeError("positive: not supported for bool tensors")
    return input


def ravel(input):  # noqa: A002
    """The elements as one contiguous 1-D tensor."""
    return tensor_argument(input, "ravel").reshape(-1)


def msort(input):  # noqa: A002
    """The values sorted along dim 0 (torch.msort = sort(input, dim=0).values)."""
    return sort(tensor_argument(input, "msort"), dim=0)[0]


def adjoint(input):  # noqa: A002
    """The conjugate transpose of the last two dims; on real tensors, ``input.mT`` (a view)."""
    return tensor_argument(input, "adjoint").mT


def conj(input):  # noqa: A002
    """The complex conjugate: a real tensor is its own conjugate, so ``input`` itself."""
    return tensor_argument(input, "conj")


def resolve_conj(input):  # noqa: A002
    """``input`` itself: minidl tensors never carry a lazy conjugation."""
    return tensor_argument(input, "resolve_conj")


def resolve_neg(input):  # noqa: A002
    """``input`` itself: minidl tensors never carry a lazy negation."""
    return tensor_argument(input, "resolve_neg")


def conj_physical(input):  # noqa: A002
    """The conjugate computed into new memory: for a real tensor, a copy of its values."""
    return tensor_argument(input, "conj_physical").clone()


def logdet(input):  # noqa: A002
    """ln det(input) for square matrices (batched): nan where the determinant is negative, -inf where 0."""
    return log(det(input))


def cholesky(input, upper=False):  # noqa: A002
    """torch.cholesky: L with input = L Lᴴ (or U with input = Uᴴ U when ``upper``)."""
    return linalg_cholesky(input, upper=upper)


TorchSVD = namedtuple("svd", ["U", "S", "V"])
TorchQR = namedtuple("qr", ["Q", "R"])


def svd(input, some=True, compute_uv=True):  # noqa: A002
    """torch.svd: (U, S, V) with input = U diag(S) Vᴴ (V, not Vᴴ); ``some`` keeps the reduced factors;
    without ``compute_uv``, U (m×m) and V (n×n) come back filled with zeros (as in PyTorch)."""
    U, S, Vh = linalg_svd(input, full_matrices=not (some and compute_uv))
    if not compute_uv:  # square zero matrices, whatever ``some`` says
        return TorchSVD(U.detach() * 0, S, Vh.mT.detach() * 0)
    return TorchSVD(U, S, Vh.mT)


def qr(input, some=True):  # noqa: A002
    """torch.qr: (Q, R) with input = Q R, reduced when ``some`` (else complete)."""
    Q, R = linalg_qr(input, mode="reduced" if some else "complete")
    return TorchQR(Q, R)


REDUCTION_CODES = {0: "none", 1: "mean", 2: "sum"}  # the integer reductions of PyTorch's top-level loss forms


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """torch.cosine_embedding_loss: nn.functional's, with ``reduction`` an integer (0 "none", the default,
    1 "mean", 2 "sum")."""
    if isinstance(reduction, bool) or reduction not in REDUCTION_CODES:
        raise TypeError(f"cosine_embedding_loss: reduction must be the integer 0 (none), 1 (mean) or 2 (sum) at "
                        f"the top level, got {reduction!r}; nn.functional.cosine_embedding_loss takes the names")
    return functional_cosine_embedding_loss(input1, input2, target, margin=margin,
                                            reduction=REDUCTION_CODES[reduction])
