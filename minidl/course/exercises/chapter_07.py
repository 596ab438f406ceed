"""Exercises of chapter 07, the sentiment project: padding and truncation, the masked mean, the confusion matrix."""

from __future__ import annotations

import numpy as np

from minidl.course.exercises.grading import Exercise, compare, parts, random
from minidl.data.tokenizer import CharTokenizer

TITLE = "Project: Chinese sentiment classification"
PREAMBLE = "import numpy as np"


def encode_batch(sequences, max_length, cls_id, sep_id, pad_id):
    """Token id lists as one padded batch: returns ``(ids, attention_mask)``, int64 arrays (B, max_length).

    ``sequences`` is a list of lists of token ids (the characters of each sentence). Row b
    is [CLS] + the first max_length − 2 ids of sentence b + [SEP], then ``pad_id`` up to
    ``max_length``; ``attention_mask`` is 1 at real tokens ([CLS] and [SEP] included) and 0
    at padding. (minidl: ``minidl/data/tokenizer.py``, ``CharTokenizer.batch_encode``.)
    """
    ids = np.full((len(sequences), max_length), pad_id, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        encoded = [cls_id] + list(sequence[:max_length - 2]) + [sep_id]
        ids[row, :len(encoded)] = encoded
    return ids, (ids != pad_id).astype(np.int64)


def masked_mean(x, padding):
    """The mean of x (B, T, D) over the real positions of each sequence: an array (B, D).

    ``padding`` is a bool (B, T) array, True at padding positions, which must not count,
    neither in the sum nor in the number divided by. Every sequence has at least one
    real position. (The pooling of chapter 07's ``SentimentClassifier``.)
    """
    real = (~padding)[..., None].astype(x.dtype)
    return (x * real).sum(axis=1) / real.sum(axis=1)


def confusion_matrix(labels, predictions, num_classes):
    """The (C, C) int64 confusion matrix: entry [i, j] counts the examples of true class i predicted as j.

    ``labels`` and ``predictions`` are int64 arrays of class indices, of the same length.
    Rows are the true classes, columns the predicted ones: the diagonal counts the right
    answers, and its sum divided by the total is the accuracy.
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


# ---------------------------------------------------------------- grading

def _grade_encode_batch(answer):
    hint = "[CLS] first, at most max_length − 2 ids, then [SEP]; the mask is 1 at every non-padding position"
    texts = ["好吃", "很好的一家店", "差", "服务态度非常不好啊"]
    tokenizer = CharTokenizer.from_corpus(texts)
    sequences = [tokenizer.encode(text) for text in texts]
    for max_length in (8, 12, 4):
        expected_ids, expected_mask = tokenizer.batch_encode(texts, max_length)
        ids, mask = parts(answer([list(s) for s in sequences], max_length, tokenizer.cls_id, tokenizer.sep_id,
                                 tokenizer.pad_id), 2, "encode_batch", hint)
        compare(ids, expected_ids, f"the ids with max_length={max_length} (CharTokenizer.batch_encode)", hint)
        compare(mask, expected_mask, f"the attention mask with max_length={max_length}", hint)


def _grade_masked_mean(answer):
    x = random(7, 3, 5, 4)
    padding = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]], dtype=bool)
    expected = np.stack([x[b][~padding[b]].mean(axis=0) for b in range(3)])
    compare(answer(x.copy(), padding.copy()), expected, "the mean over real positions",
            "zero the padding positions before summing, and divide by the number of REAL positions of each row")


def _grade_confusion_matrix(answer):
    rng = np.random.default_rng(7)
    labels, predictions = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    labels[:3], predictions[:3] = [0, 0, 2], [2, 2, 0]   # the matrix is not symmetric
    expected = np.zeros((3, 3), dtype=np.int64)
    for true, predicted in zip(labels, predictions):
        expected[true, predicted] += 1
    compare(np.asarray(answer(labels.copy(), predictions.copy(), 3)), expected,
            "the confusion matrix of 40 examples, 3 classes", "row = the TRUE class, column = the PREDICTED one")


EXERCISES = [
    Exercise(encode_batch, _grade_encode_batch, "np.full((B, max_length), pad_id), then fill each row"),
    Exercise(masked_mean, _grade_masked_mean,
             "real = (~padding)[..., None]; (x * real).sum(axis=1) / real.sum(axis=1)"),
    Exercise(confusion_matrix, _grade_confusion_matrix, "np.add.at(matrix, (labels, predictions), 1)"),
]
