"""Observers: modules that watch the values passing through and choose a scale and zero point.

An observer returns its input unchanged and remembers a range; ``calculate_qparams()`` turns the
range [min, max] (widened to contain 0, so that 0.0 is exact) into (scale, zero point):

    affine:     s = (max − min) / (q_max − q_min),   z = q_min − round(min / s)   (clamped to the range)
    symmetric:  s = max(|min|, |max|) / ((q_max − q_min) / 2),   z = 0 (qint8) or 128 (quint8)

as PyTorch computes them (s is at least float32's eps). The observers differ in the range:

* :class:`MinMaxObserver`: the smallest and largest value ever seen;
* :class:`MovingAverageMinMaxObserver`: running averages of each batch's min and max;
* :class:`PerChannelMinMaxObserver`: min and max per channel (weights: one range per output row), and
  :class:`MovingAveragePerChannelMinMaxObserver` with running averages;
* :class:`HistogramObserver`: a histogram of everything seen, and the range [a, b] inside it that
  minimises the expected squared error of quantizing those values — clipping the rare outliers
  beyond a and b costs less than the coarse steps a range stretched to reach them would give to
  everything else. (PyTorch's observer of this name searches its histogram differently; the two
  choose similar but not identical ranges.)
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from minidl.core.backend import to_numpy
from minidl.core.creation import as_tensor
from minidl.nn.module import Module
from minidl.quantization.qtensor import QSCHEMES, as_qdtype, quant_range, quint8

EPS = float(np.finfo(np.float32).eps)


def choose_qparams(min_val, max_val, quant_min, quant_max, symmetric, unsigned, eps=EPS):
    """(scale, zero_point) arrays for ranges [min_val, max_val] (arrays of one shape), PyTorch's formulas."""
    min_neg = np.minimum(np.asarray(min_val, dtype=np.float64), 0.0)
    max_pos = np.maximum(np.asarray(max_val, dtype=np.float64), 0.0)
    if symmetric:
        scale = np.maximum(np.maximum(-min_neg, max_pos) / ((quant_max - quant_min) / 2), eps)
        zero_point = np.full(scale.shape, (quant_min + quant_max + 1) // 2 if unsigned else 0, dtype=np.int64)
    else:
        scale = np.maximum((max_pos - min_neg) / float(quant_max - quant_min), eps)
        zero_point = np.clip(quant_min - np.rint(min_neg / scale), quant_min, quant_max).astype(np.int64)
    return scale.astype(np.float32), zero_point


class ObserverBase(Module):
    """Keeps a range of the values it sees; ``forward(x)`` returns x unchanged."""

    default_qscheme = "per_tensor_affine"

    def __init__(self, dtype=quint8, qscheme=None, reduce_range=False, quant_min=None, quant_max=None, eps=EPS):
        super().__init__()
        where = type(self).__name__
        self.dtype = as_qdtype(dtype, where)
        self.qscheme = self.default_qscheme if qscheme is None else qscheme
        if self.qscheme not in QSCHEMES:
            raise ValueError(f"{where}: qscheme must be one of {', '.join(QSCHEMES)}, got {self.qscheme!r}")
        self.reduce_range, self.eps = reduce_range, eps
        self.quant_min, self.quant_max = quant_range(self.dtype, reduce_range, quant_min, quant_max, where)

    @classmethod
    def with_args(cls, **kwargs):
        """A factory of observers with these arguments (for a QConfig), as PyTorch's ``with_args``."""
        return functools.partial(cls, **kwargs)

    @property
    def symmetric(self):
        return self.qscheme.endswith("symmetric")

    def calculate_qparams(self):
        """(scale, zero_point) tensors for the range seen so far."""
        min_val, max_val = self._range()
        if min_val is None:
            warnings.warn(f"{type(self).__name__}: calculate_qparams() before any data was observed; returning "
                          "scale 1 and zero point 0", UserWarning, stacklevel=2)
            return as_tensor(np.ones(1, np.float32)), as_tensor(np.zeros(1, np.int64))
        scale, zero_point = choose_qparams(min_val, max_val, self.quant_min, self.quant_max, self.symmetric,
                                           self.dtype is quint8, self.eps)
        return as_tensor(scale), as_tensor(zero_point)

    def extra_repr(self):
        return f"dtype={self.dtype!r}, qscheme={self.qscheme}, quant_min={self.quant_min}, quant_max={self.quant_max}"


class MinMaxObserver(ObserverBase):
    """The range [smallest, largest] of every value seen."""

    def __init__(self, dtype=quint8, qscheme=None, reduce_range=False, quant_min=None, quant_max=None, eps=EPS):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        if self.qscheme.startswith("per_channel"):
            raise ValueError(f"{type(self).__name__}: per-channel qschemes need PerChannelMinMaxObserver")
        self.register_buffer("min_val", as_tensor(np.array(np.inf, np.float32)))
        self.register_buffer("max_val", as_tensor(np.array(-np.inf, np.float32)))

    def forward(self, x):
        if x.numel():
            values = to_numpy(x.detach().array)
            self._update(float(values.min()), float(values.max()))
        return x

    def _update(self, low, high):
        self.min_val.array[...] = min(float(self.min_val.array), low)
        self.max_val.array[...] = max(float(self.max_val.array), high)

    def _range(self):
        low, high = float(self.min_val.array), float(self.max_val.array)
        return (None, None) if low > high else (np.array(low), np.array(high))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """min ← min + c·(batch min − min) (and max alike), starting from the first batch's; c = averaging_constant."""

    def __init__(self, averaging_constant=0.01, dtype=quint8, qscheme=None, reduce_range=False, quant_min=None,
                 quant_max=None, eps=EPS):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        self.averaging_constant = averaging_constant

    def _update(self, low, high):
        if float(self.min_val.array) > float(self.max_val.array):  # the first batch
            self.min_val.array[...], self.max_val.array[...] = low, high
            return
        c = self.averaging_constant
        self.min_val.array[...] = float(self.min_val.array) + c * (low - float(self.min_val.array))
        self.max_val.array[...] = float(self.max_val.array) + c * (high - float(self.max_val.array))


class PerChannelMinMaxObserver(ObserverBase):
    """A [min, max] range per index along ``ch_axis`` (for weights: per output channel)."""

    default_qscheme = "per_channel_affine"

    def __init__(self, ch_axis=0, dtype=quint8, qscheme=None, reduce_range=False, quant_min=None, quant_max=None,
                 eps=EPS):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        if not self.qscheme.startswith("per_channel"):
            raise ValueError(f"PerChannelMinMaxObserver: qscheme must be per-channel, got {self.qscheme!r}")
        self.ch_axis = ch_axis
        self.register_buffer("min_val", as_tensor(np.zeros(0, np.float32)))
        self.register_buffer("max_val", as_tensor(np.zeros(0, np.float32)))

    def forward(self, x):
        values = to_numpy(x.detach().array)
        axis = self.ch_axis % max(values.ndim, 1)
        rows = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
        if rows.shape[1]:
            low, high = rows.min(axis=1).astype(np.float32), rows.max(axis=1).astype(np.float32)
            if self.min_val.numel():
                low, high = np.minimum(low, self.min_val.array), np.maximum(high, self.max_val.array)
            self.min_val, self.max_val = as_tensor(low), as_tensor(high)
        return x

    def _range(self):
        return (None, None) if not self.min_val.numel() else (self.min_val.array, self.max_val.array)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel running averages of each batch's min and max (c = averaging_constant; with c = 1 the
    range of the latest values only: what the fake quantization of weights that keep changing needs)."""

    def __init__(self, averaging_constant=0.01, ch_axis=0, dtype=quint8, qscheme=None, reduce_range=False,
                 quant_min=None, quant_max=None, eps=EPS):
        super().__init__(ch_axis, dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        self.averaging_constant = averaging_constant

    def forward(self, x):
        previous = (self.min_val.array, self.max_val.array) if self.min_val.numel() else None
        self.min_val, self.max_val = as_tensor(np.zeros(0, np.float32)), as_tensor(np.zeros(0, np.float32))
        super().forward(x)
        if previous is not None and self.min_val.numel():
            c = self.averaging_constant
            self.min_val = as_tensor((previous[0] + c * (self.min_val.array - previous[0])).astype(np.float32))
            self.max_val = as_tensor((previous[1] + c * (self.max_val.array - previous[1])).astype(np.float32))
        return x


class HistogramObserver(ObserverBase):
    """A ``bins``-bin histogram over [min, max] of everything seen (re-binned when the range grows); the
    range chosen minimises the squared quantization error those values would suffer (see the module notes)."""

    def __init__(self, bins=2048, dtype=quint8, qscheme=None, reduce_range=False, quant_min=None, quant_max=None,
                 eps=EPS):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, eps)
        if self.qscheme.startswith("per_channel"):
            raise ValueError("HistogramObserver: per-channel qschemes are not supported")
        self.bins = bins
        self.register_buffer("histogram", as_tensor(np.zeros(bins, np.float64)))
        self.register_buffer("min_val", as_tensor(np.array(np.inf, np.float64)))
        self.register_buffer("max_val", as_tensor(np.array(-np.inf, np.float64)))

    def forward(self, x):
        values = to_numpy(x.detach().array).astype(np.float64).reshape(-1)
        if not values.size:
            return x
        old_low, old_high = float(self.min_val.array), float(self.max_val.array)
        low, high = min(old_low, values.min()), max(old_high, values.max())
        if high == low:
            high = low + 1e-8
        counts = np.histogram(values, bins=self.bins, range=(low, high))[0].astype(np.float64)
        if old_low <= old_high:  # move the old counts into the new bins, each at its bin's centre
            centres = old_low + (np.arange(self.bins) + 0.5) * (old_high - old_low) / self.bins
            counts += np.histogram(centres, bins=self.bins, range=(low, high), weights=self.histogram.array)[0]
        self.histogram.array[...] = counts
        self.min_val.array[...], self.max_val.array[...] = low, high
        return x

    def _range(self):
        low, high = float(self.min_val.array), float(self.max_val.array)
        if low > high:
            return None, None
        return self._best_range(low, high)

    def _best_range(self, low, high, candidates=64):
        """Among ranges [a, b] cut at quantiles of the histogram, the one of least expected squared error."""
        counts = self.histogram.array
        width = (high - low) / self.bins
        centres = low + (np.arange(self.bins) + 0.5) * width
        below = np.cumsum(counts) / counts.sum()  # share of the values in bins 0..i
        above = 1.0 - below                          # share in the bins after i
        tails = np.concatenate([[0.0], np.geomspace(1e-6, 0.2, candidates - 1)]) + 1e-12
        starts = np.unique(np.searchsorted(below, tails, side="right").clip(0, self.bins - 1))  # first i: below > τ
        ends = np.unique((self.bins - np.searchsorted(above[::-1], tails, side="right")).clip(0, self.bins - 1))
        best, best_error = (low, high), np.inf
        levels = self.quant_max - self.quant_min
        for start in starts:
            for end in ends[ends >= start]:
                a, b = low + start * width, low + (end + 1) * width
                a_neg, b_pos = min(a, 0.0), max(b, 0.0)
                step = max((b_pos - a_neg) / levels, self.eps)
                if self.symmetric:
                    step = max(max(-a_neg, b_pos) * 2 / levels, self.eps)
                    a_neg, b_pos = -step * levels / 2, step * levels / 2
                clipped = np.clip(centres, a_neg, b_pos)
                error = np.sum(counts * ((centres - clipped) ** 2 + (step ** 2 / 12) * (centres == clipped)))
                if error < best_error:
                    best, best_error = (a, b), error
        return np.array(best[0]), np.array(best[1])
