"""Run the benchmark workloads: minidl next to PyTorch (and JAX when installed).

Every (workload, implementation, round) runs in a fresh process, one at a
time, interleaved: round 1 runs every implementation of every workload, then
round 2, and so on. Each process uses 2 compute threads, does 3 untimed
warm-up steps and 20 timed ones, and prints one JSON line. The summary gives,
per workload, the median of the per-run medians, the fastest step, the ratio
to PyTorch, and the workload's memory (peak RSS minus RSS after imports).

    python benchmarks/run.py                    # every workload, 3 rounds
    python benchmarks/run.py M matmul --rounds 5
    python benchmarks/run.py --list

Results go to benchmarks/results/latest.json and latest.png.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = {
    "T": "mini-Transformer encoder classifier, 2 layers d=128, batch 32x64 tokens, Adam",
    "C": "CNN conv-bn-relu-pool x2 + MLP, batch 64 of 3x32x32, SGD momentum",
    "M": "MLP 784-512-512-10, batch 256, SGD momentum",
    "matmul": "a @ b, 512x512, forward + backward",
    "conv2d": "conv2d 64x32x32x32 with 64x32x3x3, padding 1, forward + backward",
    "softmax": "softmax over the last dim of 32x4x64x64, forward + backward",
    "layernorm": "layer_norm over 128 of 32x64x128, forward + backward",
}
IMPLEMENTATIONS = {"minidl": "minidl", "pytorch": "torch", "jax": "jax"}
THREADS = 2
WARMUP, TIMED = 3, 20
RESULTS = Path(__file__).parent / "results"


def _rss_mb():
    """Peak resident memory of this process in MB: the kernel's VmHWM (getrusage's ru_maxrss
    counts from the parent's size in a forked child, so it is only the fallback)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(implementation, workload):
    """Build and time one workload in this process; return the measurements as a dict."""
    from data import workload_data
    if implementation == "jax":
        from jax_workloads import build, setup_threads
    else:
        from workloads import build
        fw = importlib.import_module(IMPLEMENTATIONS[implementation])
        setup_threads = _thread_setup(implementation, fw)
    rss_import = _rss_mb()
    limits = setup_threads(THREADS)  # noqa: F841  (kept alive for the whole run)
    data = workload_data(workload)
    step = build(workload, data) if implementation == "jax" else build(workload, data, fw)
    start = time.perf_counter()
    losses = [step()]
    first_step_s = time.perf_counter() - start
    losses += [step() for _ in range(WARMUP - 1)]
    times = []
    for _ in range(TIMED):
        start = time.perf_counter()
        losses.append(step())
        times.append((time.perf_counter() - start) * 1e3)
    return {"implementation": implementation, "workload": workload, "median_ms": statistics.median(times),
            "min_ms": min(times), "max_ms": max(times), "first_step_s": first_step_s,
            "rss_import_mb": rss_import, "rss_peak_mb": _rss_mb(),
            "loss_first": losses[0], "loss_last": losses[-1]}


def _thread_setup(implementation, fw):
    """The framework's own thread setting: ``set_num_threads`` in both PyTorch and minidl (which
    shares its ops out over its threads itself and runs NumPy's BLAS on one thread)."""
    return fw.set_num_threads


def available(implementation):
    return importlib.util.find_spec(IMPLEMENTATIONS[implementation]) is not None


def measure(implementation, workload):
    """Run one measurement in a fresh process."""
    done = subprocess.run([sys.executable, __file__, "--child", implementation, workload],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{implementation} {workload} failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs, implementations, workloads):
    """Per workload and implementation: median of medians, min, ratio to PyTorch, memory."""
    summary = {}
    for workload in workloads:
        rows = {}
        for implementation in implementations:
            mine = [r for r in runs if r["workload"] == workload and r["implementation"] == implementation]
            if not mine:
                continue
            rows[implementation] = {
                "median_ms": statistics.median(r["median_ms"] for r in mine),
                "min_ms": min(r["min_ms"] for r in mine),
                "memory_mb": statistics.median(r["rss_peak_mb"] - r["rss_import_mb"] for r in mine),
                "loss_first": mine[0]["loss_first"], "loss_last": mine[0]["loss_last"],
                "runs": len(mine)}
        reference = rows.get("pytorch")
        for row in rows.values():
            row["ratio"] = row["median_ms"] / reference["median_ms"] if reference else None
            row["memory_ratio"] = (row["memory_mb"] / reference["memory_mb"]
                                   if reference and reference["memory_mb"] > 0 else None)
        summary[workload] = rows
    return summary


def print_table(summary):
    print(f"\n{'workload':<10}{'implementation':<16}{'median ms':>11}{'min ms':>9}{'ratio':>7}"
          f"{'memory MB':>11}{'mem ratio':>10}{'loss first → last':>22}")
    for workload, rows in summary.items():
        for implementation, row in rows.items():
            ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
            memory_ratio = f"{row['memory_ratio']:.2f}" if row["memory_ratio"] is not None else "-"
            losses = "" if row["loss_first"] is None else f"{row['loss_first']:.3f} → {row['loss_last']:.4f}"
            print(f"{workload:<10}{implementation:<16}{row['median_ms']:>11.2f}{row['min_ms']:>9.2f}{ratio:>7}"
                  f"{row['memory_mb']:>11.0f}{memory_ratio:>10}{losses:>22}")


def plot(summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    workloads = [w for w, rows in summary.items() if "pytorch" in rows]
    implementations = sorted({i for w in workloads for i in summary[w]}, key=list(IMPLEMENTATIONS).index)
    fig, ax = plt.subplots(figsize=(1.8 + 1.4 * len(workloads), 3.6))
    width = 0.8 / max(len(implementations), 1)
    for k, implementation in enumerate(implementations):
        ratios = [summary[w].get(implementation, {}).get("ratio") or 0 for w in workloads]
        ax.bar([i + k * width for i in range(len(workloads))], ratios, width, label=implementation)
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_xticks([i + width * (len(implementations) - 1) / 2 for i in range(len(workloads))], workloads)
    ax.set_ylabel("step time / PyTorch's")
    ax.set_title(f"median step time relative to PyTorch ({THREADS} threads)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="minidl benchmarks against PyTorch and JAX")
    parser.add_argument("workloads", nargs="*", help=f"workloads to run (default: all of {', '.join(WORKLOADS)})")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per implementation (at least 2)")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(*args.child)))
        return 0
    if args.list:
        for name, description in WORKLOADS.items():
            print(f"{name:<10}{description}")
        return 0
    workloads = args.workloads or list(WORKLOADS)
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    implementations = [i for i in IMPLEMENTATIONS if available(i)]
    for missing in [i for i in IMPLEMENTATIONS if i not in implementations]:
        print(f"note: {missing} is not installed, so it is skipped (pip install {IMPLEMENTATIONS[missing]})")
    runs = []
    for round_number in range(1, max(args.rounds, 2) + 1):
        for workload in workloads:
            for implementation in implementations:
                result = measure(implementation, workload)
                runs.append(result)
                print(f"round {round_number}: {workload:<8}{implementation:<10}{result['median_ms']:8.2f} ms",
                      flush=True)
    summary = summarise(runs, implementations, workloads)
    print_table(summary)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=2))
    plot(summary, RESULTS / "latest.png")
    print(f"\nwrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
