"""``minidl.linalg``: linear algebra as ``torch.linalg`` (``import minidl as torch; torch.linalg.inv(A)``).

Norms (vector_norm, matrix_norm, norm), inverse and determinants (inv, det, slogdet), linear systems
(solve), factorizations (cholesky, qr, eigh, eigvalsh, svd, svdvals) and matmul, each batched over
the leading dims. The formulas and their gradients are in ``minidl/ops/matrix_functions.py``; the argument
checks and the norms in ``minidl/ops/linalg_functions.py``.
"""

from minidl.ops.linalg_functions import (EighResult, QRResult, SlogdetResult, SVDResult, cholesky, det, eigh,
                                         eigvalsh, inv, matmul, matrix_norm, norm, qr, slogdet, solve, svd, svdvals,
                                         vector_norm)
from minidl.ops.matrix_functions import LinAlgError

__all__ = ["EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eigh",
           "eigvalsh", "inv", "matmul", "matrix_norm", "norm", "qr", "slogdet", "solve", "svd", "svdvals",
           "vector_norm"]
