"""The benchmark workloads on an NVIDIA GPU: minidl (CuPy) beside PyTorch (CUDA), same code, same data.

Each framework builds every workload on ``cuda`` (benchmarks/workloads.py with ``device="cuda"``),
runs 3 untimed warm-up steps, then 20 timed ones; every timed step ends with the device
synchronised, so a step's time is the GPU's work plus the Python that launched it. The summary
gives per workload the median step of each framework and the ratio minidl / PyTorch.

    python benchmarks/gpu.py                  # every workload
    python benchmarks/gpu.py T E --steps 50   # some of them, more timed steps

Results go to benchmarks/results/gpu-latest.json, with the GPU's name and the library versions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from data import workload_data  # benchmarks/data.py, beside this script
from run import WORKLOADS
from workloads import build

WARMUP = 3
RESULTS = Path(__file__).parent / "results"


def time_steps(framework, workload, steps):
    """Median and fastest seconds per step of ``workload`` on the GPU with ``framework``."""
    step = build(workload, workload_data(workload), framework, device="cuda")
    for _ in range(WARMUP):
        step()
    framework.cuda.synchronize()
    seconds = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        framework.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), min(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), help=f"any of {', '.join(WORKLOADS)}")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per workload (default 20)")
    args = parser.parse_args()
    unknown = sorted(set(args.workloads) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")

    import torch

    import minidl
    if not minidl.cuda.is_available() or not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py: needs a GPU seen by both CuPy and PyTorch (minidl: "
                         f"{minidl.cuda.is_available()}, PyTorch: {torch.cuda.is_available()}); CuPy for a "
                         'CUDA 12 driver: pip install -e ".[gpu]", for CUDA 13: pip install -e ".[gpu-cuda13]"')
    import cupy
    rows = {}
    print(f"{'workload':<10} {'minidl ms':>10} {'PyTorch ms':>11} {'ratio':>7}")
    for workload in args.workloads:
        (ours, ours_best), (theirs, theirs_best) = (time_steps(fw, workload, args.steps) for fw in (minidl, torch))
        rows[workload] = {"description": WORKLOADS[workload], "minidl_ms": 1e3 * ours, "pytorch_ms": 1e3 * theirs,
                          "minidl_fastest_ms": 1e3 * ours_best, "pytorch_fastest_ms": 1e3 * theirs_best,
                          "ratio": ours / theirs}
        print(f"{workload:<10} {1e3 * ours:>10.2f} {1e3 * theirs:>11.2f} {ours / theirs:>7.2f}", flush=True)
    machine = {"gpu": torch.cuda.get_device_name(0), "cupy": cupy.__version__, "torch": torch.__version__,
               "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(), "steps": args.steps, "warmup": WARMUP}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gpu-latest.json").write_text(json.dumps({"machine": machine, "workloads": rows}, indent=2))
    print(json.dumps(machine))


if __name__ == "__main__":
    main()
