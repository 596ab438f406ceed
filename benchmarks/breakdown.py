"""Where a workload's training step goes, stage by stage, in minidl and in PyTorch.

    python benchmarks/breakdown.py C               # 20 profiled steps of each implementation
    python benchmarks/breakdown.py T --steps 10 --ops 15
    python benchmarks/breakdown.py C --json        # one JSON object instead of the tables

Each implementation runs in a fresh process with the benchmark's threads (``--threads``,
default 2; ``--textbook`` adds minidl's textbook path) and 3 warm-up steps, then profiles ``--steps`` steps: minidl with ``minidl.profiler``,
PyTorch with ``torch.profiler`` (self time of every ATen op, so nothing counts
twice). Ops are gathered into stages of the model (convolution, normalisation,
pooling, ...); "outside ops" is the rest of the step's wall time: Python, autograd
bookkeeping and, for PyTorch, the profiler's own overhead (tens of µs per op).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from engines import available, prepare  # benchmarks/engines.py and run.py, beside this script
from run import WARMUP, WORKLOADS

#: stage -> substrings of op names (minidl's op names, PyTorch's aten:: names); the first match wins
STAGES = [
    ("convolution", ("conv",)),
    ("normalisation", ("normalize", "batch_norm", "layer_norm")),
    ("pooling", ("pool",)),
    ("attention", ("attention",)),
    ("activation", ("relu", "clamp_min", "threshold_backward", "gelu", "tanh", "sigmoid", "softmax")),
    ("loss", ("cross_entropy", "nll_loss")),
    ("matrix products", ("linear", "matmul", "addmm", "aten::mm", "bmm")),
    ("fills and copies", ("fill_", "zero_", "copy_", "clone", "contiguous")),
]


def stage_of(op):
    name = op.lower()
    return next((stage for stage, keys in STAGES if any(key in name for key in keys)), "other ops")


def profile_child(implementation, workload, steps, threads):
    """Per-op seconds over ``steps`` profiled steps, and the steps' wall time, in this process."""
    from data import workload_data
    from workloads import build
    fw, keep_alive = prepare(implementation, threads)  # noqa: F841  (kept alive for the whole run)
    step = build(workload, workload_data(workload), fw)
    for _ in range(WARMUP):
        step()
    if implementation in ("minidl", "textbook"):
        with fw.profiler.profile() as prof:
            start = time.perf_counter()
            for _ in range(steps):
                step()
            wall = time.perf_counter() - start
        ops = {event.key: event.seconds for event in prof.key_averages()}
    else:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            for _ in range(steps):
                step()
            wall = time.perf_counter() - start
        ops = {event.key: event.self_cpu_time_total / 1e6 for event in prof.key_averages()
               if event.key.startswith("aten::")}
    return {"implementation": implementation, "workload": workload, "steps": steps, "wall_s": wall, "ops": ops}


def stages(result):
    """ms per step for each stage (in STAGES order, then 'other ops'), 'outside ops' and 'step'."""
    per_step = dict.fromkeys([stage for stage, _ in STAGES] + ["other ops"], 0.0)
    for op, seconds in result["ops"].items():
        stage = stage_of(op)
        per_step[stage] = per_step.get(stage, 0.0) + seconds * 1e3 / result["steps"]
    step_ms = result["wall_s"] * 1e3 / result["steps"]
    per_step["outside ops"] = step_ms - sum(per_step.values())
    per_step["step"] = step_ms
    return per_step


def print_tables(results, top_ops):
    names = [r["implementation"] for r in results]
    table = {r["implementation"]: stages(r) for r in results}
    print(f"\n{results[0]['workload']}: ms per step ({results[0]['steps']} profiled steps)")
    print(f"{'stage':<18}" + "".join(f"{name:>10}" for name in names))
    for stage in [stage for stage in table[names[0]] if any(table[name][stage] for name in names)]:
        print(f"{stage:<18}" + "".join(f"{table[name][stage]:>10.2f}" for name in names))
    for result in results:
        print(f"\n{result['implementation']}: slowest ops, ms per step")
        ranked = sorted(result["ops"].items(), key=lambda item: -item[1])[:top_ops]
        width = max([len(op) for op, _ in ranked] + [10]) + 2
        for op, seconds in ranked:
            print(f"  {op:<{width}}{seconds * 1e3 / result['steps']:>8.2f}  ({stage_of(op)})")


def main(argv=None):
    parser = argparse.ArgumentParser(description="per-stage time of a workload's step, minidl and PyTorch")
    parser.add_argument("workload", nargs="?", choices=[w for w in WORKLOADS if w in ("T", "C", "M")])
    parser.add_argument("--steps", type=int, default=20, help="profiled steps per implementation (default 20)")
    parser.add_argument("--ops", type=int, default=8, help="slowest ops listed per implementation (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="compute threads of each engine (default 2)")
    parser.add_argument("--textbook", action="store_true", help="profile minidl's textbook path (no kernels) too")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--child", nargs=4, metavar=("IMPL", "WORKLOAD", "STEPS", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        implementation, workload, steps, threads = args.child
        print(json.dumps(profile_child(implementation, workload, int(steps), int(threads))))
        return 0
    if args.workload is None:
        parser.error("name a training workload: T, C or M")
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    implementations = ["minidl"] + (["textbook"] if args.textbook else []) + \
        (["pytorch"] if available("pytorch") else [])
    results = []
    for implementation in implementations:
        done = subprocess.run([sys.executable, __file__, "--child", implementation, args.workload, str(args.steps),
                               str(args.threads)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{implementation} {args.workload} failed:\n{done.stderr.strip()[-2000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps({r["implementation"]: {"stages": stages(r), **r} for r in results}))
    else:
        if len(results) == 1:
            print("note: PyTorch is not installed (pip install torch), so only minidl is profiled")
        print_tables(results, args.ops)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
