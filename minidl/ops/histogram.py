"""``histc``: a histogram of a tensor's values with equal-width bins, as PyTorch's.

The range [min, max] is cut into ``bins`` equal bins; a value x in it falls in bin
⌊(x − min)·bins / (max − min)⌋ (x = max: the last bin), values outside the range (and NaN) are not
counted. ``min = max`` (the default 0, 0): the data's own range, widened to [min − 1, max + 1] when all
values are equal. Counts have no gradient.
"""

from __future__ import annotations

import numpy as np

from minidl.core.arguments import integer, number
from minidl.core.backend import device_of, to_device, to_numpy
from minidl.core.tensor import Tensor
from minidl.ops.common import is_tensor


def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: A002 (PyTorch's names)
    """Counts of ``input``'s values in ``bins`` equal bins over [min, max], a 1-D tensor of input's dtype."""
    if not is_tensor(input):
        raise TypeError(f"histc: input must be a tensor, got {type(input).__name__}")
    if out is not None:
        raise TypeError("histc: out= is not supported; use the returned tensor")
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f"histc: input must be a floating tensor, got {input.dtype}")
    bins = integer(bins, "histc", "bins")
    if bins <= 0:
        raise ValueError(f"histc: bins must be > 0, but got {bins}")
    low, high = number(min, "histc", "min"), number(max, "histc", "max")
    if low > high:
        raise ValueError(f"histc: max must be larger than min, got min={low}, max={high}")
    values = to_numpy(input.array).reshape(-1)
    dtype = values.dtype.type
    if low == high:
        low, high = (values.min(), values.max()) if values.size else (0, 0)
    low, high = dtype(low), dtype(high)
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"histc: range of [{low}, {high}] is not finite")
    inside = values[(values >= low) & (values <= high)]
    positions = ((inside - low) * dtype(bins) / (high - low)).astype(np.int64)
    counts = np.bincount(np.minimum(positions, bins - 1), minlength=bins).astype(values.dtype)
    return Tensor(to_device(counts, device_of(input.array)))
