"""The encoder-decoder Transformer learns to reverse (or sort) strings of digits.

    python -m minidl.course.demos.seq2seq            # the full run
    python -m minidl.course.demos.seq2seq --quick    # under a minute

Each example is a random string of 3-10 digits; the source is the digits followed by
[EOS], the target the reversed digits: 4 0 7 → 7 0 4 [EOS]. Training draws fresh random
strings every step (never one of the held-out test strings) and uses teacher forcing
with the cross-entropy of the next target token; evaluation decodes the held-out
strings greedily and counts exact matches of the whole output.

Measured on a shared 2-core machine (seed 0): the full run (1000 steps) decodes all 996
held-out strings exactly, in 21.5 s; the quick run (300 steps) gets 98.2% of 499 in 7 s.
While other processes kept both cores busy, OpenBLAS's two spinning threads stretched the
same runs to 164 s and 110 s (27 s and 8 s with ``OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import minidl
from minidl.models.seq2seq import Seq2SeqTransformer
from minidl.optim.lr_scheduler import linear_warmup

PAD, BOS, EOS, FIRST_DIGIT = 0, 1, 2, 3
VOCAB = FIRST_DIGIT + 10
TOKENS = ["[PAD]", "[BOS]", "[EOS]"] + [str(d) for d in range(10)]
TASKS = {"reverse": lambda digits: digits[::-1], "sort": sorted}

FULL = {"steps": 1000, "batch_size": 64, "d_model": 64, "nhead": 4, "layers": 2, "dim_feedforward": 128,
        "lr": 2e-3, "eval_every": 100, "n_test": 1000}
QUICK = {**FULL, "steps": 300, "eval_every": 50, "n_test": 500}


def random_strings(rng, n, min_len=3, max_len=10):
    """n random digit strings (tuples of ints 0-9) with lengths uniform in [min_len, max_len]."""
    lengths = rng.integers(min_len, max_len + 1, size=n)
    return [tuple(int(d) for d in rng.integers(0, 10, size=length)) for length in lengths]


def training_strings(rng, n, held_out, min_len=3, max_len=10):
    """Like :func:`random_strings`, but none of them is in the set ``held_out``."""
    strings = []
    while len(strings) < n:
        strings += [s for s in random_strings(rng, n - len(strings), min_len, max_len) if s not in held_out]
    return strings


def encode(strings, task="reverse"):
    """(src, tgt_in, tgt_out) int64 arrays: digits+[EOS]; [BOS]+answer; answer+[EOS]; [PAD]-filled."""
    width = max(len(s) for s in strings) + 1
    src, tgt_in, tgt_out = (np.full((len(strings), width), PAD, dtype=np.int64) for _ in range(3))
    for row, digits in enumerate(strings):
        answer = [FIRST_DIGIT + d for d in TASKS[task](list(digits))]
        n = len(digits)
        src[row, :n + 1] = [FIRST_DIGIT + d for d in digits] + [EOS]
        tgt_in[row, :n + 1] = [BOS] + answer
        tgt_out[row, :n + 1] = answer + [EOS]
    return src, tgt_in, tgt_out


def exact_match(model, strings, task="reverse", batch_size=500):
    """Fraction of strings whose greedy decoding equals answer + [EOS] exactly."""
    correct = 0
    for start in range(0, len(strings), batch_size):
        chunk = strings[start:start + batch_size]
        src, _, tgt_out = encode(chunk, task)
        decoded = model.greedy_decode(src, tgt_out.shape[1] + 1, BOS, EOS)[:, 1:]
        width = tgt_out.shape[1]
        decoded = np.pad(decoded, ((0, 0), (0, max(0, width - decoded.shape[1]))), constant_values=PAD)
        correct += int((decoded[:, :width] == tgt_out).all(axis=1).sum())
    return correct / len(strings)


def make_model(config, max_len=16):
    return Seq2SeqTransformer(VOCAB, VOCAB, d_model=config["d_model"], nhead=config["nhead"],
                              num_encoder_layers=config["layers"], num_decoder_layers=config["layers"],
                              dim_feedforward=config["dim_feedforward"], dropout=0.0, max_len=max_len, pad_id=PAD)


def train(model, config, rng, test_strings, task, progress=True):
    """Adam with linear warmup and decay, on fresh strings that are never in ``test_strings``.

    Returns the history: ``step_loss`` (every step) and, every ``eval_every`` steps, ``eval_step``
    and ``probe_exact_match`` (the exact match on the first 200 test strings).
    """
    held_out = set(test_strings)
    optimizer = minidl.optim.Adam(model.parameters(), lr=config["lr"])
    scheduler = linear_warmup(optimizer, warmup_steps=config["steps"] // 10, total_steps=config["steps"])
    history = {"step_loss": [], "eval_step": [], "probe_exact_match": []}
    probe = test_strings[:200]
    bar = tqdm(range(1, config["steps"] + 1), desc=f"seq2seq {task}", disable=not progress, leave=False)
    for step in bar:
        src, tgt_in, tgt_out = encode(training_strings(rng, config["batch_size"], held_out), task)
        optimizer.zero_grad()
        loss = model.loss(src, tgt_in, tgt_out)
        loss.backward()
        optimizer.step()
        scheduler.step()
        history["step_loss"].append(loss.item())
        if step % config["eval_every"] == 0:
            history["eval_step"].append(step)
            history["probe_exact_match"].append(exact_match(model, probe, task))
            bar.set_postfix(loss=f"{np.mean(history['step_loss'][-20:]):.4f}",
                            exact=f"{history['probe_exact_match'][-1]:.3f}")
    return history


def plot_training(history, path, title):
    """Save the training loss per step (log scale) and the held-out exact match; returns the path."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    loss_axes, match_axes = figure.subplots(1, 2)
    loss_axes.plot(np.arange(1, len(history["step_loss"]) + 1), history["step_loss"], linewidth=0.7)
    loss_axes.set(xlabel="step", ylabel="cross-entropy", yscale="log", title=f"{title}: training loss")
    match_axes.plot(history["eval_step"], history["probe_exact_match"], marker="o")
    match_axes.set(xlabel="step", ylabel="exact match", ylim=(0, 1.02),
                   title="exact match, 200 held-out strings")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


def run(quick=False, seed=0, out_dir="runs/seq2seq", progress=True, task="reverse", **overrides):
    """Train and evaluate; returns a dict with ``exact_match`` on the held-out strings, ``history``,
    ``seconds`` (the whole run), ``model``, ``test_strings`` and ``figure`` (the loss curve PNG).

    ``overrides`` replace entries of the configuration (``steps``, ``batch_size``, ``d_model`` ...).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    start = time.perf_counter()
    config = {**(QUICK if quick else FULL), **overrides}
    minidl.manual_seed(seed)
    rng = np.random.default_rng(seed)
    test_strings = list(dict.fromkeys(random_strings(rng, config["n_test"])))  # distinct, in drawn order
    model = make_model(config)
    history = train(model, config, rng, test_strings, task, progress)
    result = {"exact_match": exact_match(model, test_strings, task), "history": history, "model": model,
              "test_strings": test_strings, "config": config, "task": task}
    if out_dir:
        result["figure"] = str(plot_training(history, Path(out_dir) / "loss.png", title=f"seq2seq ({task})"))
    result["seconds"] = time.perf_counter() - start
    return result


def describe(strings, model, task="reverse", n=5):
    """A few lines 'input -> output' of greedy decodings."""
    src, _, _ = encode(strings[:n], task)
    decoded = model.greedy_decode(src, src.shape[1] + 1, BOS, EOS)
    lines = []
    for digits, row in zip(strings[:n], decoded):
        out = "".join(TOKENS[t] if t >= FIRST_DIGIT else "" for t in row[1:])
        lines.append(f"  {''.join(map(str, digits)):>10} -> {out}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--task", choices=sorted(TASKS), default="reverse")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--out-dir", default="runs/seq2seq")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    overrides = {"steps": args.steps} if args.steps else {}
    outcome = run(quick=args.quick, seed=args.seed, out_dir=args.out_dir, progress=not args.no_progress,
                  task=args.task, **overrides)
    print(f"seq2seq {args.task}: exact match {outcome['exact_match']:.4f} on {len(outcome['test_strings'])} "
          f"held-out strings in {outcome['seconds']:.1f} s; loss curve in {outcome.get('figure')}")
    print(describe(outcome["test_strings"], outcome["model"], args.task))


if __name__ == "__main__":
    main()
