"""Exercises of chapter 10, smaller and cheaper: int8 weights per channel, an int8 product, merging LoRA."""

from __future__ import annotations

import numpy as np

from minidl.course.exercises.grading import Exercise, Mistake, compare, parts, random

TITLE = "Smaller and cheaper"
PREAMBLE = "import numpy as np"


def quantize_symmetric_per_channel(w):
    """Symmetric int8 quantization of a weight matrix, one scale per output row: ``(q, scale)``.

    ``w`` is (out, in) float64. For each row i, scale[i] = max_j |w[i, j]| / 127 (a row of
    zeros gets scale 1.0, so that nothing divides by 0); then
    q = clip(round(w / scale), −127, 127), rounding to the nearest integer (``np.round``),
    each row divided by its own scale. Return q as an int8 array (out, in) and the scales as
    a float64 array (out,); w ≈ scale[:, None] · q. (minidl: ``minidl/quantization/modules.py``,
    ``quantize_weight``, which follows PyTorch: divisor 127.5 and the range −128 … 127.)
    """
    scale = np.abs(w).max(axis=1) / 127
    scale = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def int8_matmul(x_q, x_scale, w_q, w_scale):
    """y ≈ x Wᵀ from int8 values: returns ``(accumulator, y)``.

    ``x_q`` is (N, K) int8 with one scale ``x_scale`` (a float) for the whole input;
    ``w_q`` is (O, K) int8 with one scale per output row, ``w_scale`` (O,) float64.
    Multiply the integers and sum the K products in int32 (convert BEFORE multiplying:
    int8 products overflow), accumulator = x_q W_qᵀ, an int32 array (N, O). Then return to
    float with ONE rescale per output: y = x_scale · w_scale[o] · accumulator[:, o], a
    float64 array (N, O). (minidl: ``minidl/quantization/qtensor.py``, ``int_matmul``,
    then ``minidl/quantization/modules.py``, ``_rescale``.)
    """
    accumulator = x_q.astype(np.int32) @ w_q.astype(np.int32).T
    return accumulator, accumulator.astype(np.float64) * (x_scale * np.asarray(w_scale, dtype=np.float64))


def lora_merge(weight, lora_A, lora_B, lora_alpha, r):
    """The weight of a LoRA layer after merging: W' = W + (alpha / r) · B A, a new array.

    ``weight`` W is (out, in), ``lora_A`` A is (r, in), ``lora_B`` B is (out, r);
    ``lora_alpha`` and ``r`` are numbers (r is the rank, A's number of rows). The merged
    layer computes x W'ᵀ, the same as the base layer plus its adapter, x Wᵀ + (alpha/r) x Aᵀ Bᵀ.
    Do not change ``weight``. (minidl: ``minidl/compression/lora.py``, ``LoRALinear.merge``.)
    """
    return weight + (lora_alpha / r) * (lora_B @ lora_A)


# ---------------------------------------------------------------- grading

def _grade_quantize_symmetric_per_channel(answer):
    zero_row = random(3, 4, 6)
    zero_row[2] = 0.0
    cases = [("a 3x5 matrix", random(0, 3, 5)),
             ("rows of very different sizes", random(1, 4, 8) * [[1], [10], [0.01], [3]]),
             ("a row of zeros", zero_row), ("rows whose largest value is negative", -np.abs(random(2, 2, 7)))]
    for label, w in cases:
        expected_q, expected_scale = quantize_symmetric_per_channel(w)
        q, scale = parts(answer(w.copy()), 2, f"quantize_symmetric_per_channel of {label}",
                         "return a tuple (q, scale)")
        compare(scale, expected_scale, f"scale per row, {label}",
                "scale = max |w| of the row / 127: the largest value maps to ±127; a row of zeros gets 1.0")
        q = np.asarray(q)
        if q.dtype != np.int8:
            raise Mistake(f"q's dtype, {label}", "int8", str(q.dtype), "convert with .astype(np.int8) after clipping")
        compare(q, expected_q, f"q, {label}", "q = clip(round(w / scale), −127, 127): round to the NEAREST "
                "integer (np.round), not down (floor) or towards 0 (astype alone)")


def _grade_int8_matmul(answer):
    rng = np.random.default_rng(5)
    cases = [("small values", rng.integers(-3, 4, (2, 3)), rng.integers(-3, 4, (4, 3))),
             ("full int8 range", rng.integers(-127, 128, (3, 16)), rng.integers(-127, 128, (5, 16))),
             ("one row", rng.integers(-127, 128, (1, 64)), rng.integers(-127, 128, (2, 64)))]
    for seed, (label, x_q, w_q) in enumerate(cases):
        x_q, w_q = x_q.astype(np.int8), w_q.astype(np.int8)
        x_scale, w_scale = 0.02 + 0.01 * seed, random(seed, len(w_q), low=0.001, high=0.05)
        expected_acc, expected_y = int8_matmul(x_q, x_scale, w_q, w_scale)
        acc, y = parts(answer(x_q.copy(), x_scale, w_q.copy(), w_scale.copy()), 2, f"int8_matmul of {label}",
                       "return a tuple (accumulator, y)")
        compare(np.asarray(acc).astype(np.int64), expected_acc.astype(np.int64), f"the accumulator, {label}",
                "convert x_q and w_q to int32 BEFORE multiplying: int8 products and sums overflow and wrap around; "
                "multiply by w_qᵀ")
        compare(y, expected_y, f"y, {label}", "y = x_scale · w_scale[o] · accumulator[:, o]: both scales, "
                "w_scale along the output (last) axis")


def _grade_lora_merge(answer):
    hint = "W' = W + (alpha / r) · (B @ A): the product B A is (out, in), scaled by alpha / r"
    for seed, (out, inp, r, alpha) in enumerate([(4, 3, 2, 4), (6, 5, 1, 16), (3, 7, 3, 3), (5, 5, 4, 8)]):
        weight, a, b = random(seed, out, inp), random(seed + 10, r, inp), random(seed + 20, out, r)
        kept = weight.copy()
        compare(answer(weight, a.copy(), b.copy(), alpha, r), lora_merge(kept, a, b, alpha, r),
                f"the merged weight, out={out}, in={inp}, r={r}, alpha={alpha}", hint)
        compare(weight, kept, f"the weight passed in, r={r}", "build a new array: W + ..., not W += ...")


EXERCISES = [
    Exercise(quantize_symmetric_per_channel, _grade_quantize_symmetric_per_channel,
             "np.abs(w).max(axis=1) gives each row's largest magnitude; divide with scale[:, None]"),
    Exercise(int8_matmul, _grade_int8_matmul, "x_q.astype(np.int32) @ w_q.astype(np.int32).T, then the rescale"),
    Exercise(lora_merge, _grade_lora_merge, "weight + lora_alpha / r * (lora_B @ lora_A)"),
]
