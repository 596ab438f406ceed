"""Run the benchmark workloads: minidl (kernels on), its textbook path, PyTorch (and JAX when installed).

Every (workload, thread count, implementation, round) runs in a fresh process, one at a
time, interleaved: round 1 runs every implementation of every workload at every thread
count, then round 2, and so on. Each process sets its threads (``engines.prepare``), does
3 untimed warm-up steps and 20 timed ones, and prints one JSON line. The summary gives, per
workload and thread count, the median of the per-run medians, the fastest step, the ratio to
PyTorch, each implementation's own scaling (its step at n threads ÷ its step at the first
thread count), the kernels' speedup (textbook ÷ minidl) and the workload's memory (peak RSS
minus RSS after imports).

minidl chooses its thread plan on the first steps of each model and remembers it
(minidl/kernels/plans.py), as a user's first run does; so before the rounds, one untimed run
per workload and thread count lets it choose.

    python benchmarks/run.py                        # every workload, 1 and 2 threads, 3 rounds
    python benchmarks/run.py M matmul --rounds 5 --threads 1,2,4
    python benchmarks/run.py --list

Results go to benchmarks/results/latest.json (with the machine: CPU model, cores, caches,
library versions) and latest.png; ``--name`` also keeps them as results/NAME.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from engines import IMPLEMENTATIONS, available, prepare  # benchmarks/engines.py, beside this script

WORKLOADS = {
    "T": "mini-Transformer encoder classifier, 2 layers d=128, batch 32x64 tokens, Adam",
    "C": "CNN conv-bn-relu-pool x2 + MLP, batch 64 of 3x32x32, SGD momentum",
    "M": "MLP 784-512-512-10, batch 256, SGD momentum",
    "E": "encoder-decoder nn.Transformer, 2+2 layers d=128, causal mask, vocabulary 1000, 32x32 tokens, Adam",
    "matmul": "a @ b, 512x512, forward + backward",
    "conv2d": "conv2d 64x32x32x32 with 64x32x3x3, padding 1, forward + backward",
    "softmax": "softmax over the last dim of 32x4x64x64, forward + backward",
    "layernorm": "layer_norm over 128 of 32x64x128, forward + backward",
}
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


def run_child(implementation, workload, threads):
    """Build and time one workload in this process; return the measurements as a dict."""
    from data import workload_data
    rss_import = _rss_mb()
    framework, keep_alive = prepare(implementation, threads)  # noqa: F841  (kept alive for the whole run)
    data = workload_data(workload)
    if implementation == "jax":
        from jax_workloads import build
        step = build(workload, data)
    else:
        from workloads import build
        step = build(workload, data, framework)
    start = time.perf_counter()
    losses = [step()]
    first_step_s = time.perf_counter() - start
    losses += [step() for _ in range(WARMUP - 1)]
    times = []
    for _ in range(TIMED):
        start = time.perf_counter()
        losses.append(step())
        times.append((time.perf_counter() - start) * 1e3)
    return {"implementation": implementation, "workload": workload, "threads": threads,
            "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
            "first_step_s": first_step_s, "rss_import_mb": rss_import, "rss_peak_mb": _rss_mb(),
            "loss_first": losses[0], "loss_last": losses[-1]}


def runs_workload(implementation, workload):
    if implementation != "jax":
        return True
    from jax_workloads import WORKLOADS as JAX_WORKLOADS
    return workload in JAX_WORKLOADS


def measure(implementation, workload, threads):
    """Run one measurement in a fresh process."""
    done = subprocess.run([sys.executable, __file__, "--child", implementation, workload, str(threads)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{implementation} {workload} ({threads} threads) failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs):
    """{threads: {workload: {implementation: row}}}: median of medians, min, memory, ratios."""
    summary = {}
    for run in runs:
        summary.setdefault(run["threads"], {}).setdefault(run["workload"], {}).setdefault(run["implementation"], [])
        summary[run["threads"]][run["workload"]][run["implementation"]].append(run)
    order = list(IMPLEMENTATIONS)
    for by_workload in summary.values():
        for workload, by_implementation in by_workload.items():
            rows = {name: {"median_ms": statistics.median(r["median_ms"] for r in mine),
                           "min_ms": min(r["min_ms"] for r in mine),
                           "memory_mb": statistics.median(r["rss_peak_mb"] - r["rss_import_mb"] for r in mine),
                           "loss_first": mine[0]["loss_first"], "loss_last": mine[0]["loss_last"], "runs": len(mine)}
                    for name, mine in sorted(by_implementation.items(), key=lambda item: order.index(item[0]))}
            reference = rows.get("pytorch")
            for row in rows.values():
                row["ratio"] = row["median_ms"] / reference["median_ms"] if reference else None
                row["memory_ratio"] = (row["memory_mb"] / reference["memory_mb"]
                                       if reference and reference["memory_mb"] > 0 else None)
            if "minidl" in rows and "textbook" in rows:
                rows["minidl"]["kernel_speedup"] = rows["textbook"]["median_ms"] / rows["minidl"]["median_ms"]
            by_workload[workload] = rows
    first = min(summary, default=None)
    for threads, by_workload in summary.items():  # each implementation against itself at the first thread count
        for workload, rows in by_workload.items():
            for name, row in rows.items():
                base = summary[first].get(workload, {}).get(name)
                row["scaling"] = row["median_ms"] / base["median_ms"] if base and threads != first else None
    return summary


def print_table(summary):
    print(f"\n{'workload':<10}{'threads':>7}  {'implementation':<16}{'median ms':>10}{'min ms':>9}{'ratio':>7}"
          f"{'scaling':>9}{'kernels':>9}{'memory MB':>11}{'mem ratio':>10}{'loss first → last':>22}")
    for threads, by_workload in sorted(summary.items()):
        for workload, rows in by_workload.items():
            for implementation, row in rows.items():
                ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
                speedup = f"{row['kernel_speedup']:.2f}x" if "kernel_speedup" in row else ""
                memory_ratio = f"{row['memory_ratio']:.2f}" if row["memory_ratio"] is not None else "-"
                losses = "" if row["loss_first"] is None else f"{row['loss_first']:.3f} → {row['loss_last']:.4f}"
                scaling = f"{row['scaling']:.2f}" if row.get("scaling") is not None else "-"
                print(f"{workload:<10}{threads:>7}  {implementation:<16}{row['median_ms']:>10.2f}{row['min_ms']:>9.2f}"
                      f"{ratio:>7}{scaling:>9}{speedup:>9}{row['memory_mb']:>11.0f}{memory_ratio:>10}{losses:>22}")
    print("ratio: median step time / PyTorch's at the same thread count; scaling: its own step / its step at "
          f"{min(summary)} thread(s); kernels: textbook / minidl")


def plot(summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(summary), figsize=(2 + 3.2 * len(summary), 3.6), squeeze=False)
    for ax, (threads, by_workload) in zip(axes[0], sorted(summary.items())):
        workloads = [w for w, rows in by_workload.items() if "pytorch" in rows]
        names = [i for i in IMPLEMENTATIONS if any(i in by_workload[w] for w in workloads)]
        width = 0.8 / max(len(names), 1)
        for k, name in enumerate(names):
            ratios = [by_workload[w].get(name, {}).get("ratio") or 0 for w in workloads]
            ax.bar([i + k * width for i in range(len(workloads))], ratios, width, label=name)
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(workloads))], workloads)
        ax.set_title(f"{threads} thread{'s' if threads > 1 else ''}")
        ax.set_ylabel("step time / PyTorch's")
        ax.legend(fontsize=8)
    fig.suptitle("median step time relative to PyTorch")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="minidl benchmarks against PyTorch and JAX")
    parser.add_argument("workloads", nargs="*", help=f"workloads to run (default: all of {', '.join(WORKLOADS)})")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per implementation (at least 2)")
    parser.add_argument("--threads", nargs="+", default=["1,2"], help="thread counts, as 1,2,4 or 1 2 4 (default: 1,2)")
    parser.add_argument("--name", help="also keep the results as benchmarks/results/NAME.json")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "WORKLOAD", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child[0], args.child[1], int(args.child[2]))))
        return 0
    if args.list:
        for name, description in WORKLOADS.items():
            print(f"{name:<10}{description}")
        return 0
    workloads = args.workloads or list(WORKLOADS)
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    try:
        thread_counts = sorted({int(part) for text in args.threads for part in text.split(",") if part.strip()})
    except ValueError:
        thread_counts = []
    if not thread_counts or min(thread_counts) < 1:
        parser.error(f"--threads must be positive integers such as 1,2,4; got {' '.join(args.threads)}")
    if args.rounds < 2:
        parser.error(f"--rounds must be at least 2, got {args.rounds}")
    implementations = [i for i in IMPLEMENTATIONS if available(i)]
    for missing in dict.fromkeys(IMPLEMENTATIONS[i] for i in IMPLEMENTATIONS if i not in implementations):
        print(f"note: {missing} is not installed, so it is skipped (pip install {missing})")
    if "jax" in implementations:
        skipped = [w for w in workloads if not runs_workload("jax", w)]
        if skipped:
            print(f"note: JAX runs only the workloads of benchmarks/jax_workloads.py; skipped: {', '.join(skipped)}")
    if "minidl" in implementations:  # let minidl choose each model's thread plan, untimed
        for workload in workloads:
            for threads in thread_counts:
                measure("minidl", workload, threads)
    runs = []
    for round_number in range(1, args.rounds + 1):
        for workload in workloads:
            for threads in thread_counts:
                for implementation in (i for i in implementations if runs_workload(i, workload)):
                    result = measure(implementation, workload, threads)
                    runs.append(result)
                    print(f"round {round_number}: {workload:<8}{threads} thread(s) {implementation:<10}"
                          f"{result['median_ms']:8.2f} ms", flush=True)
    summary = summarise(runs)
    print_table(summary)
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps({"machine": machine(implementations), "command": " ".join(sys.argv[1:]),
                       "date": time.strftime("%Y-%m-%d %H:%M"), "summary": summary, "runs": runs}, indent=2)
    paths = [RESULTS / "latest.json"] + ([RESULTS / f"{args.name}.json"] if args.name else [])
    for path in paths:
        path.write_text(text)
    plot(summary, RESULTS / "latest.png")
    print(f"\nwrote {', '.join(map(str, paths))} and {RESULTS / 'latest.png'}")
    return 0


def machine(implementations):
    """The machine and the library versions, for the result file: ratios differ by machine class."""
    import importlib.metadata
    from minidl.core.machine import describe
    described = describe()
    described["versions"] = {}
    for name in dict.fromkeys(IMPLEMENTATIONS[i] for i in implementations):
        try:
            described["versions"][name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            described["versions"][name] = "not installed as a distribution"
    described["openblas_environment"] = {key: value for key, value in __import__("os").environ.items()
                                         if key.startswith(("OPENBLAS", "OMP_", "MKL_", "MINIDL_"))}
    return described


if __name__ == "__main__":
    raise SystemExit(main())
