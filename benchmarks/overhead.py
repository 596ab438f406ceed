"""Per-op overhead: a chain of 100 adds of 1-element tensors, then one backward.

With 1-element tensors the arithmetic costs nothing, so the time per op is
the engine's own bookkeeping: wrapping arrays, recording the node, walking the
graph backward. minidl and PyTorch run in separate processes, interleaved,
for several rounds; the table gives µs per op (forward + backward) as the
median and minimum over rounds, and the ratio to PyTorch.

    python benchmarks/overhead.py            # 5 rounds, prints a table
    python benchmarks/overhead.py --json     # also writes benchmarks/results/overhead.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHAIN = 100
REPEATS = 300


def measure_minidl():
    import minidl
    a = minidl.tensor([1.0], requires_grad=True)
    b = minidl.tensor([2.0], requires_grad=True)
    return _time_chain(a, b)


def measure_torch():
    import torch
    torch.set_num_threads(2)
    a = torch.tensor([1.0], requires_grad=True)
    b = torch.tensor([2.0], requires_grad=True)
    return _time_chain(a, b)


def _time_chain(a, b):
    """Best of several batches: µs per op for CHAIN adds plus the backward over them."""
    def one_batch():
        start = time.perf_counter()
        for _ in range(REPEATS):
            y = a
            for _ in range(CHAIN):
                y = y + b
            y.backward()
        return (time.perf_counter() - start) / (REPEATS * CHAIN) * 1e6
    one_batch()  # warm-up
    return statistics.median(one_batch() for _ in range(5))


IMPLEMENTATIONS = {"minidl": measure_minidl, "pytorch": measure_torch}


def _available(name):
    module = {"minidl": "minidl", "pytorch": "torch"}[name]
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="write benchmarks/results/overhead.json")
    parser.add_argument("--child", choices=sorted(IMPLEMENTATIONS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps({"impl": args.child, "us_per_op": IMPLEMENTATIONS[args.child]()}))
        return 0

    names = [n for n in IMPLEMENTATIONS if _available(n)]
    for missing in set(IMPLEMENTATIONS) - set(names):
        print(f"note: {missing} is not installed; skipped")
    results = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:  # interleaved, each run in its own process
            out = subprocess.run([sys.executable, __file__, "--child", name], check=True,
                                 capture_output=True, text=True).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1])["us_per_op"])

    reference = statistics.median(results["pytorch"]) if "pytorch" in results else None
    print(f"\nper-op overhead: chain of {CHAIN} adds of 1-element tensors + backward, {args.rounds} rounds")
    print(f"{'implementation':<16}{'median µs/op':>14}{'min µs/op':>12}{'ratio':>8}")
    summary = {}
    for name, values in results.items():
        median = statistics.median(values)
        ratio = median / reference if reference else float("nan")
        summary[name] = {"median_us": median, "min_us": min(values), "runs": values, "ratio_to_pytorch": ratio}
        print(f"{name:<16}{median:>14.2f}{min(values):>12.2f}{ratio:>8.2f}")
    if args.json:
        path = Path(__file__).parent / "results" / "overhead.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(summary, indent=2))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
