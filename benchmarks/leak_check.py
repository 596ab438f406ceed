"""Leak check: resident memory over many training steps must stay flat.

Trains a small Transformer classifier (embedding, 2 encoder layers, Adam, a checkpoint saved and
loaded every 500 steps, in-place edits inside the graph) and samples the process's RSS every
100 steps. After a warm-up of 200 steps the RSS may grow by at most ``--allowed-mb`` (default 8)
in all: a real leak of one tensor per step grows without bound. Run as a benchmark, not as a
timed test (it takes about a minute on 2 cores):

    python benchmarks/leak_check.py                 # 2,000 steps; exit 1 if memory grew
    python benchmarks/leak_check.py --steps 5000 --allowed-mb 8
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np


def rss_mb():
    """The process's resident set size in MB (Linux /proc; ru_maxrss elsewhere, an upper bound)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--allowed-mb", type=float, default=8.0)
    args = parser.parse_args(argv)
    if args.steps < 400:
        parser.error(f"--steps must be at least 400 (200 of them are warm-up), got {args.steps}")

    import minidl
    import minidl.nn as nn
    import minidl.nn.functional as F
    minidl.manual_seed(0)
    embedding = nn.Embedding(100, 32)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True), 2)
    head = nn.Linear(32, 2)
    model = nn.ModuleList([embedding, encoder, head])
    optimizer = minidl.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    checkpoint = os.path.join(tempfile.mkdtemp(), "leak.npz")
    samples = []
    for step in range(1, args.steps + 1):
        tokens = minidl.tensor(rng.integers(0, 100, (16, 12)))
        labels = minidl.tensor(rng.integers(0, 2, 16))
        hidden = encoder(embedding(tokens))
        hidden[:, 0] += 1.0                       # an in-place edit inside the graph
        loss = F.cross_entropy(head(hidden.mean(dim=1)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 500 == 0:
            minidl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, checkpoint)
            state = minidl.load(checkpoint)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        if step % 100 == 0:
            samples.append((step, rss_mb()))
    baseline = next(mb for step, mb in samples if step >= 200)
    growth = samples[-1][1] - baseline
    for step, mb in samples:
        print(f"step {step:6d}  RSS {mb:8.1f} MB")
    verdict = "flat" if growth <= args.allowed_mb else "GROWING"
    print(f"RSS after step 200: {baseline:.1f} MB, at the end: {samples[-1][1]:.1f} MB, growth {growth:+.1f} MB "
          f"(allowed {args.allowed_mb}): {verdict}")
    return 0 if growth <= args.allowed_mb else 1


if __name__ == "__main__":
    sys.exit(main())
