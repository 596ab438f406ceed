"""Pretraining MiniBERT by masked language modelling, fine-tuning it, and a bag-of-characters baseline.

The functions chapter 06 calls:

* :func:`text_windows` cuts lines of text (news, unlabelled reviews) into [CLS] line [SEP] rows of a fixed length;
  :func:`word_windows` does the same with lines of space-separated words and numbers each row's words, for
  whole-word masking, and :func:`segment_by_dictionary` splits unsegmented text into words of a dictionary;
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
from minidl import nn
from minidl.core import no_grad
from minidl.data import DataLoader, TensorDataset
from minidl.models.bert import MiniBERT
from minidl.models.masking import IGNORE_INDEX, mask_tokens
from minidl.nn import functional as F
from minidl.optim import AdamW
from minidl.optim.lr_scheduler import linear_warmup
from minidl.training import evaluate, fit


def text_windows(tokenizer, lines, max_length, min_chars=8):
    """[CLS] line [SEP] ids (padded, cut to ``max_length``) of the lines with at least ``min_chars`` characters.

    Lines longer than the window are cut into consecutive pieces, so no text is thrown away.
    """
    ids, _ = tokenizer.batch_encode(_pieces(lines, max_length - 2, min_chars), max_length)
    return ids


def _pieces(lines, step, min_chars):
    """Each line cut into consecutive pieces of ``step`` items; the pieces shorter than ``min_chars`` dropped."""
    pieces = (line[start:start + step] for line in lines for start in range(0, len(line), step))
    return [piece for piece in pieces if len(piece) >= min_chars]


def word_windows(tokenizer, segmented_lines, max_length, min_chars=8):
    """(ids, words) of lines whose words are separated by spaces, for whole-word masking.

    ``ids`` are :func:`text_windows` of the lines without their spaces; ``words`` numbers the
    words of each row from 1 ([CLS], [SEP] and padding are word 0: they are never masked).
    The tokenizer must give one id per character (``CharTokenizer``).
    """
    step = max_length - 2
    numbered = []
    for line in segmented_lines:
        words = line.split()
        numbered.append([(character, number) for number, word in enumerate(words, 1) for character in word])
    pieces = _pieces(numbered, step, min_chars)
    ids, _ = tokenizer.batch_encode(["".join(character for character, _ in piece) for piece in pieces], max_length)
    words = np.zeros_like(ids)
    for row, piece in enumerate(pieces):
        numbers = np.array([number for _, number in piece])
        words[row, 1:1 + len(piece)] = numbers - numbers[0] + 1
    return ids, words


def segment_by_dictionary(text, dictionary, longest=4):
    """Forward maximum matching: from the left, take the longest word of ``dictionary`` (a set of
    strings of up to ``longest`` characters) that starts here, else one character."""
    words, start = [], 0
    while start < len(text):
        length = next((n for n in range(min(longest, len(text) - start), 1, -1)
                       if text[start:start + n] in dictionary), 1)
        words.append(text[start:start + length])
        start += length
    return words


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
    return F.cross_entropy(logits, minidl.tensor(targets[where], device=logits.device))


def pretrain(model, tokenizer, ids, steps, batch_size=32, lr=1e-3, mask_prob=0.15, warmup=None, weight_decay=0.01,
             seed=0, max_seconds=None, min_steps=0, progress=True, description="pretraining", words=None):
    """Masked-LM training on random batches of ``ids`` with AdamW and linear warmup/decay.

    Each batch is masked afresh (``mask_tokens`` with ``mask_prob``, 80/10/10; whole words
    when ``words`` numbers the words of each row, as :func:`word_windows` gives). Returns the
    per-step losses (nats per masked token). Stops early after ``max_seconds``, but never before
    ``min_steps`` steps (so a busy machine still trains enough to show the loss falling).
    """
    rng = np.random.default_rng(seed)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = linear_warmup(optimizer, warmup if warmup is not None else max(1, steps // 10), steps)
    model.train()
    losses, started = [], time.perf_counter()
    bar = tqdm(total=steps, desc=description, unit="step", disable=not progress)
    for _ in range(steps):
        rows = rng.integers(0, len(ids), size=batch_size)
        inputs, labels = mask_tokens(ids[rows], tokenizer, rng, mask_prob=mask_prob,
                                     words=None if words is None else words[rows])
        optimizer.zero_grad()
        loss = masked_lm_loss(model, inputs, labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        bar.update()
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
        if max_seconds is not None and len(losses) >= min_steps and time.perf_counter() - started > max_seconds:
            break
    bar.close()
    return np.array(losses)


class ReadClassifier(nn.Module):
    """A MiniBERT seen through its [CLS] classification head: ``forward(ids) = bert.classify(ids)``,
    so the generic training loop (``minidl.training.fit``) can fine-tune it."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, ids):
        return self.bert.classify(ids)


def loaders(train_x, train_labels, test_x, test_labels, batch_size, seed):
    """A shuffled (seeded) training loader and a test loader over arrays of rows and labels."""
    train = DataLoader(TensorDataset(train_x, train_labels), batch_size=batch_size, shuffle=True, seed=seed)
    return train, DataLoader(TensorDataset(test_x, test_labels), batch_size=256)


def finetune(model, train_ids, train_labels, test_ids, test_labels, epochs, batch_size=32, lr=5e-4,
             weight_decay=0.01, seed=0, progress=True, description="fine-tuning"):
    """Train every weight of ``model`` on the [CLS] classification loss; returns (test accuracy, step losses).

    AdamW with a linear warmup over the first 10% of the steps and a linear decay to zero. The
    batches go to the device of the model's weights.
    """
    classifier = ReadClassifier(model)
    device = model.token_embedding.weight.device
    train_loader, test_loader = loaders(train_ids, train_labels, test_ids, test_labels, batch_size, seed)
    steps = epochs * len(train_loader)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = linear_warmup(optimizer, max(1, steps // 10), steps)
    history = fit(classifier, train_loader, optimizer, epochs, scheduler=scheduler, scheduler_interval="step",
                  progress=progress, description=description, device=device)
    return evaluate(classifier, test_loader, device), np.array(history["step_loss"])


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
    returns the test accuracy. ``featurize`` (f, a Module) turns a batch of rows of
    ``train_x``/``test_x`` into features; without it the rows are the features themselves."""
    classes = int(max(train_labels.max(), test_labels.max())) + 1
    linear = nn.Linear(in_features, classes)
    model = linear if featurize is None else nn.Sequential(featurize, linear)
    optimizer = minidl.optim.Adam(linear.parameters(), lr=lr, weight_decay=weight_decay)
    train_loader, test_loader = loaders(train_x, train_labels, test_x, test_labels, batch_size, seed)
    fit(model, train_loader, optimizer, epochs, progress=False)
    return evaluate(model, test_loader)


class LogCharacterCounts(nn.Module):
    """ids (rows, T) -> log(1 + counts) (rows, vocab_size): a fixed, non-trainable bag-of-characters featurizer."""

    def __init__(self, vocab_size, skip=()):
        super().__init__()
        self.vocab_size, self.skip = vocab_size, tuple(skip)

    def forward(self, ids):
        return minidl.tensor(np.log1p(character_counts(ids.numpy(), self.vocab_size, self.skip)))


def bag_of_characters_baseline(train_ids, train_labels, test_ids, test_labels, vocab_size, skip=(), **options):
    """Logistic regression on log(1 + counts(x)), the character counts of each review; returns test accuracy.

    The features of a batch are built on the fly (a dense count matrix of the whole training
    set would take vocab_size × 4 bytes per sentence).
    """
    return logistic_regression(train_ids, train_labels, test_ids, test_labels, vocab_size,
                               featurize=LogCharacterCounts(vocab_size, skip), **options)


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
