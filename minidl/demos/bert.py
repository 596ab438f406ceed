"""Pretraining MiniBERT by masked language modelling, fine-tuning it, and a bag-of-characters baseline.

The functions chapter 06 calls:

* :func:`news_windows` cuts the news text into [CLS] line [SEP] rows of a fixed length;
* :func:`pretrain` trains the masked-LM objective on random batches of those rows;
* :func:`finetune` trains the [CLS] classifier on labelled sentences and returns the test accuracy;
* :func:`bag_of_characters_baseline` is logistic regression on character counts.

The masked-LM loss is computed at the selected positions only: the encoder runs on the
whole batch, then the rows of H at the ~15% selected positions go through the MLM head.
This gives the same loss as ``MiniBERT.mlm_loss`` (the other positions have label -100
and are ignored) at a fraction of the cost of the vocabulary-sized output layer.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

import minidl
from minidl.autograd import no_grad
from minidl.models.bert import MiniBERT
from minidl.models.masking import IGNORE_INDEX, mask_tokens
from minidl.nn import functional as F
from minidl.optim import AdamW
from minidl.optim.lr_scheduler import linear_warmup


def news_windows(tokenizer, lines, max_length, min_chars=8):
    """[CLS] line [SEP] ids (padded, cut to ``max_length``) of the lines with at least ``min_chars`` characters.

    Lines longer than the window are cut into consecutive pieces, so no text is thrown away.
    """
    pieces = []
    step = max_length - 2
    for line in lines:
        for start in range(0, len(line), step):
            piece = line[start:start + step]
            if len(piece) >= min_chars:
                pieces.append(piece)
    ids, _ = tokenizer.batch_encode(pieces, max_length)
    return ids


def make_model(vocab_size, config):
    """A MiniBERT with the sizes of ``config`` (d_model, nhead, layers, dim_feedforward, max_length, dropout)."""
    return MiniBERT(vocab_size, d_model=config["d_model"], nhead=config["nhead"], num_layers=config["layers"],
                    dim_feedforward=config["dim_feedforward"], max_len=config["max_length"],
                    dropout=config["dropout"])


def masked_lm_loss(model, inputs, labels):
    """Mean cross-entropy over the selected positions (labels != -100), the MLM head run only there."""
    hidden = model(inputs)
    flat = hidden.reshape(-1, model.d_model)
    targets = labels.reshape(-1)
    where = np.flatnonzero(targets != IGNORE_INDEX)
    logits = model.mlm_logits(None, hidden=flat[where])
    return F.cross_entropy(logits, minidl.tensor(targets[where]))


def pretrain(model, tokenizer, ids, steps, batch_size=32, lr=1e-3, warmup=None, weight_decay=0.01, seed=0,
             max_seconds=None, progress=True):
    """Masked-LM training on random batches of ``ids`` with AdamW and linear warmup/decay.

    Returns the per-step losses (nats per masked token). Stops early after ``max_seconds``.
    """
    rng = np.random.default_rng(seed)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = linear_warmup(optimizer, warmup if warmup is not None else max(1, steps // 10), steps)
    model.train()
    losses, started = [], time.perf_counter()
    bar = tqdm(total=steps, desc="pretraining", unit="step", disable=not progress)
    for _ in range(steps):
        batch = ids[rng.integers(0, len(ids), size=batch_size)]
        inputs, labels = mask_tokens(batch, tokenizer, rng)
        optimizer.zero_grad()
        loss = masked_lm_loss(model, inputs, labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        bar.update()
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
        if max_seconds is not None and time.perf_counter() - started > max_seconds:
            break
    bar.close()
    return np.array(losses)


def accuracy(predict, ids, labels, batch_size=256):
    """Share of rows of ``ids`` whose argmax of ``predict(batch)`` equals the label."""
    correct = 0
    with no_grad():
        for first in range(0, len(ids), batch_size):
            logits = predict(ids[first:first + batch_size])
            correct += int((logits.numpy().argmax(axis=-1) == labels[first:first + batch_size]).sum())
    return correct / len(ids)


def finetune(model, train_ids, train_labels, test_ids, test_labels, epochs, batch_size=32, lr=5e-4,
             weight_decay=0.01, seed=0, progress=True, description="fine-tuning"):
    """Train every weight of ``model`` on the [CLS] classification loss; returns (test accuracy, step losses).

    AdamW with a linear warmup over the first 10% of the steps and a linear decay to zero.
    """
    rng = np.random.default_rng(seed)
    steps = epochs * ((len(train_ids) + batch_size - 1) // batch_size)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = linear_warmup(optimizer, max(1, steps // 10), steps)
    model.train()
    losses = []
    bar = tqdm(total=steps, desc=description, unit="step", disable=not progress)
    for _ in range(epochs):
        order = rng.permutation(len(train_ids))
        for first in range(0, len(order), batch_size):
            rows = order[first:first + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model.classify(train_ids[rows]), minidl.tensor(train_labels[rows]))
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            bar.update()
    bar.close()
    model.eval()
    return accuracy(model.classify, test_ids, test_labels), np.array(losses)


def character_counts(ids, vocab_size, skip=()):
    """(rows, vocab_size) float32 counts of each id in each row of ``ids``; the ``skip`` ids are not counted."""
    counts = np.zeros((len(ids), vocab_size), dtype=np.float32)
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    np.add.at(counts, (rows, ids.reshape(-1)), 1.0)
    counts[:, list(skip)] = 0
    return counts


def logistic_regression(train_x, train_labels, test_x, test_labels, in_features, featurize=None, epochs=5,
                        batch_size=64, lr=1e-2, weight_decay=1e-4, seed=0):
    """p(y | x) = softmax(W f(x) + b), one ``nn.Linear`` trained with Adam and the cross-entropy;
    returns the test accuracy. ``featurize`` (f) turns a batch of rows of ``train_x``/``test_x``
    into a float32 array; without it the rows are the features themselves."""
    rng = np.random.default_rng(seed)
    featurize = featurize or (lambda rows: rows)
    classes = int(max(train_labels.max(), test_labels.max())) + 1
    model = minidl.nn.Linear(in_features, classes)
    optimizer = minidl.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def logits(rows):
        return model(minidl.tensor(featurize(rows)))

    for _ in range(epochs):
        order = rng.permutation(len(train_x))
        for first in range(0, len(order), batch_size):
            rows = order[first:first + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(logits(train_x[rows]), minidl.tensor(train_labels[rows]))
            loss.backward()
            optimizer.step()
    return accuracy(logits, test_x, test_labels)


def bag_of_characters_baseline(train_ids, train_labels, test_ids, test_labels, vocab_size, skip=(), **options):
    """Logistic regression on log(1 + counts(x)), the character counts of each review; returns test accuracy.

    The features of a batch are built on the fly (a dense count matrix of the whole training
    set would take vocab_size × 4 bytes per sentence).
    """
    return logistic_regression(train_ids, train_labels, test_ids, test_labels, vocab_size,
                               featurize=lambda ids: np.log1p(character_counts(ids, vocab_size, skip)), **options)


def encoder_features(model, ids, batch_size=256):
    """Frozen features of each row of ``ids``: the mean of the encoder's outputs H over its non-[PAD] positions."""
    model.eval()
    pieces = []
    with no_grad():
        for first in range(0, len(ids), batch_size):
            batch = ids[first:first + batch_size]
            hidden = model(batch).numpy()
            keep = (batch != model.pad_id)[:, :, None]
            pieces.append((hidden * keep).sum(axis=1) / np.maximum(keep.sum(axis=1), 1))
    return np.concatenate(pieces).astype(np.float32)
