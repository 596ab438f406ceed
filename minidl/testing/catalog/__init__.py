"""Every op of minidl declared as data for the test harness (``minidl.testing.harness``).

Each :class:`~minidl.testing.harness.OpCase` pairs a minidl call, written as a user would
(a Tensor method, an operator, ``minidl.*`` or ``minidl.nn.functional``), with a plain-NumPy
float64 reference written from the mathematical definition (never from minidl's code), a
hypothesis strategy of shapes and parameters (size-1 and broadcast dims, negative dims,
tuples of dims, keepdim both ways) and value makers that keep inputs away from kinks and
ties. The same call runs on PyTorch tensors for the parity check (calls written with
``library(x)`` and ``functional(x)`` serve both); a case names another ``torch_fn`` only
where PyTorch spells the call differently.

``tests/test_ops.py`` turns each case into forward, gradient, strict-device and PyTorch-parity
tests, on the kernels and on the textbook path; ``tests/kernels/test_match_textbook.py``
compares the two paths case by case; ``minidl gradcheck`` prints one gradient check per case.
Requires hypothesis (``pip install -e ".[dev]"``).
"""

from minidl.testing.catalog import compression, elementwise, layers, reductions, shapes

CASES = elementwise.CASES + reductions.CASES + shapes.CASES + layers.CASES + compression.CASES
from minidl.testing.catalog import math_ops  # noqa: E402 (more elementwise math, products, distances)
CASES += math_ops.CASES
from minidl.testing.catalog import ranking_losses  # noqa: E402 (margin, ranking and likelihood losses)
CASES += ranking_losses.CASES
from minidl.testing.catalog import more_math  # noqa: E402 (special functions, quantiles, scans, builders)
CASES += more_math.CASES
from minidl.testing.catalog import linalg  # noqa: E402 (minidl.linalg: inverse, solve, factorizations, norms)
CASES += linalg.CASES
from minidl.testing.catalog import more_layers  # noqa: E402 (bilinear, shuffles, conv_transpose1d, LRN, pdist)
CASES += more_layers.CASES
from minidl.testing.catalog import ctc_and_sampling  # noqa: E402 (CTC loss, grid_sample, affine_grid)
CASES += ctc_and_sampling.CASES
from minidl.testing.catalog import tensor_functions_extra  # noqa: E402 (take, movedim, kthvalue, unfold, renorm ...)
CASES += tensor_functions_extra.CASES
from minidl.testing.catalog import layers3d  # noqa: E402 (3-D conv and pooling, shrink, lp_pool, max_unpool)
CASES += layers3d.CASES
from minidl.testing.catalog import inplace_activations  # noqa: E402 (activations with inplace=True)
CASES += inplace_activations.CASES
from minidl.testing.catalog import more_math2  # noqa: E402 (acosh/asinh/atanh, logaddexp2, ldexp, scatter_reduce, put)
CASES += more_math2.CASES
