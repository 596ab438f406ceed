"""Exercises of chapter 06, pretraining and fine-tuning: BERT's 80/10/10 masking rule and the masked-LM loss."""

from __future__ import annotations

import numpy as np

import minidl
from minidl.course.exercises.grading import Exercise, Mistake, compare, parts, random

TITLE = "Pretraining and fine-tuning"
PREAMBLE = "import numpy as np"


def mlm_corrupt(ids, selected, u, random_ids, mask_id):
    """BERT's corruption of token ids for masked-language modelling: returns ``(inputs, labels)``.

    All arguments but ``mask_id`` are int64/bool/float arrays of the shape of ``ids``:
    ``selected`` (bool) marks the positions chosen for prediction, ``u`` holds one draw
    from U(0, 1) per position and ``random_ids`` one random ordinary token per position.
    At a selected position the input becomes [MASK] (``mask_id``) when u < 0.8, the
    random token when 0.8 ≤ u < 0.9, and stays the original token when u ≥ 0.9; other
    positions are unchanged. ``labels`` is the original id at selected positions and −100
    (cross-entropy's ignore_index) elsewhere. (minidl: ``minidl/models/masking.py``.)
    """
    inputs = ids.copy()
    inputs[selected & (u < 0.8)] = mask_id
    swap = selected & (u >= 0.8) & (u < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, np.where(selected, ids, -100)


def mlm_loss(logits, labels):
    """The masked-LM loss: mean cross-entropy over the selected positions only.

    ``logits`` is (N, T, V) float64, ``labels`` (N, T) int64 with −100 at positions that
    are not predicted. L = −(1/|M|) Σ_{(n,t) ∈ M} log softmax(logits[n, t])[labels[n, t]],
    M the positions whose label is not −100. Return a float. (minidl: ``F.cross_entropy``
    with its default ``ignore_index=-100``, ``minidl/ops/loss.py``.)
    """
    rows, targets = logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)
    kept = targets != -100
    shifted = rows[kept] - rows[kept].max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(kept.sum()), targets[kept]].mean())


# ---------------------------------------------------------------- grading

def _grade_mlm_corrupt(answer):
    rng = np.random.default_rng(6)
    ids = rng.integers(5, 50, (3, 8))
    selected = rng.random((3, 8)) < 0.5
    u = rng.random((3, 8))
    u[0, :4] = [0.79, 0.8, 0.89, 0.9]        # the borders of the three cases
    selected[0, :4] = True
    random_ids = rng.integers(5, 50, (3, 8))
    mask_id = 4
    result = parts(answer(ids.copy(), selected.copy(), u.copy(), random_ids.copy(), mask_id), 2, "mlm_corrupt",
                   "return (inputs, labels)")
    inputs = np.where(selected & (u < 0.8), mask_id, np.where(selected & (u < 0.9), random_ids, ids))
    compare(result[0], inputs, "the inputs (80% [MASK], 10% random, 10% unchanged at selected positions)",
            "u < 0.8: [MASK]; 0.8 ≤ u < 0.9: the random token; u ≥ 0.9 or not selected: the original id")
    compare(result[1], np.where(selected, ids, -100), "the labels",
            "the ORIGINAL id at every selected position (also where it was kept or replaced), −100 elsewhere")


def _grade_mlm_loss(answer):
    hint = "average over the selected positions only (labels != −100), not over all N·T positions"
    for seed in range(2):
        logits = random(seed, 2, 5, 7, low=-3, high=3)
        labels = np.random.default_rng(seed).integers(0, 7, (2, 5))
        labels[np.random.default_rng(seed + 9).random((2, 5)) < 0.6] = -100
        labels[0, 0] = 3
        expected = minidl.nn.functional.cross_entropy(minidl.tensor(logits.reshape(-1, 7)),
                                                      minidl.tensor(labels.reshape(-1))).item()
        got = answer(logits.copy(), labels.copy())
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise Mistake("the loss", "a float", f"a {type(got).__name__}", hint) from None
        compare(got, expected, f"the loss for {int((labels != -100).sum())} selected positions out of 10 "
                "(F.cross_entropy, ignore_index=-100)", hint)


EXERCISES = [
    Exercise(mlm_corrupt, _grade_mlm_corrupt, "start from inputs = ids.copy() and assign through boolean masks"),
    Exercise(mlm_loss, _grade_mlm_loss, "keep = labels != -100; a stable log-softmax of the kept rows"),
]
