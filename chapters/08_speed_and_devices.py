# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Speed and devices
#
# *minidl against PyTorch on this machine, and the CuPy backend when a GPU is present.*
#
# A training step of a small engine spends its time in a handful of places, and each one
# has its own limit:
#
# | where the time goes | what limits it | how minidl keeps it small |
# | --- | --- | --- |
# | matrix products (Linear, attention, convolution) | the CPU's multiply-add rate | hand BLAS large float32 matrices |
# | Python bookkeeping per op | the interpreter: a few µs per node | few nodes: fused ops |
# | elementwise ops (ReLU, adds, norms, optimizer) | memory bandwidth | fewer passes over memory, in-place updates |
# | allocating fresh buffers | page faults in the kernel | keep freed memory in the process |
#
# The best possible step time is roughly the largest of these, the real one roughly their
# sum. This chapter measures each, then compares whole workloads with PyTorch on this
# machine, and ends with the devices minidl runs on: the CPU, a GPU through CuPy, and the
# *strict* device that finds GPU bugs without a GPU.
#
# Timings on a shared machine move from run to run, so this chapter **reports** them and
# never asserts them; what it checks are properties that hold on any machine.

# %%
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

try:  # threadpoolctl sets how many threads BLAS uses; without it BLAS keeps its default
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None

import minidl
from minidl.course.chapter import Chapter

chapter = Chapter(8, "Speed and devices")
F = minidl.nn.functional
ROOT = Path(__file__).resolve().parent.parent  # the checkout: this chapter and benchmarks/ live there


def load_benchmark(name):
    """A script of benchmarks/ as a module (its functions, without running its command line)."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best_ms(*functions, repeats):
    """The fastest of `repeats` calls of each function in ms, after a warm-up call.

    The calls are interleaved (f, g, f, g, ...), so a burst of load from other processes hits
    all of them alike, and the minimum is the least noisy statistic on a shared machine.
    """
    times = [[] for _ in functions]
    for function in functions:
        function()
    for _ in range(repeats):
        for function, mine in zip(functions, times):
            start = time.perf_counter()
            function()
            mine.append(time.perf_counter() - start)
    return [min(mine) * 1e3 for mine in times] if len(functions) > 1 else min(times[0]) * 1e3


def blas_threads(count):
    """A context in which BLAS uses `count` threads ("default": leave it alone)."""
    return nullcontext() if count == "default" else threadpool_limits(count)


THREADS = (1, 2) if threadpool_limits else ("default",)
REPEATS = 8 if chapter.quick else 30

# %% [markdown]
# ## The GEMM floor
#
# A matrix product of an $(m \times k)$ and a $(k \times n)$ matrix does $mk n$ multiply-adds,
# that is $2mkn$ floating-point operations (FLOP). A CPU core does a fixed number of them per
# cycle: with AVX-512 two fused multiply-add units each handle 16 float32 lanes, so one core
# reaches about 100 GFLOP/s and the two cores of this machine class about 200 GFLOP/s when
# OpenBLAS (NumPy) or MKL (PyTorch) keeps them busy. That gives a hard floor for any step:
#
# $$t_\text{step} \;\ge\; \frac{\text{FLOP of its matrix products}}{\approx 200\ \text{GFLOP/s}}.$$
#
# A training step costs about three forward passes of matrix work: the forward product,
# the gradient with respect to the input ($G W^\top$-like) and the one with respect to the
# weights ($X^\top G$). float64 packs half as many numbers into a vector register and moves
# twice the bytes, so it runs at half the rate at best; that is why minidl computes in
# float32 and keeps float64 for gradient checks. We measure a $512 \times 512$ product in
# both, with one and with two BLAS threads.

# %%
rng = np.random.default_rng(0)
flop_512 = 2 * 512 ** 3
rates = {}
for precision in ("float32", "float64"):  # NumPy's BLAS itself: minidl's kernel would share the product out
    a = minidl.randn(512, 512, dtype=getattr(minidl, precision)).numpy()
    b = minidl.randn(512, 512, dtype=getattr(minidl, precision)).numpy()
    for threads in THREADS:
        with blas_threads(threads):
            ms = best_ms(lambda: a @ b, repeats=REPEATS)
        rates[precision, threads] = flop_512 / (ms / 1e3) / 1e9
        print(f"{precision}, {threads} thread(s): {ms:6.2f} ms = {rates[precision, threads]:6.1f} GFLOP/s")

gflops32 = chapter.record("matmul_float32_gflops", round(max(rates["float32", n] for n in THREADS), 1))
gflops64 = chapter.record("matmul_float64_gflops", round(max(rates["float64", n] for n in THREADS), 1))
chapter.record("float32_speedup_over_float64", round(gflops32 / gflops64, 2))
if THREADS == (1, 2) and any(rates[precision, 2] < rates[precision, 1] for precision in ("float32", "float64")):
    print("note: two threads were slower than one: other processes share these cores right now")

# %% [markdown]
# Speed is worth nothing if the answer changes; float32 keeps about 7 significant digits,
# plenty for training. The same product in both precisions agrees to that level:

# %%
a64 = minidl.randn(512, 512, dtype=minidl.float64)
b64 = minidl.randn(512, 512, dtype=minidl.float64)
exact = (a64 @ b64).numpy()
rounded = (a64.float() @ b64.float()).numpy()
relative = float(np.abs(rounded - exact).max() / np.abs(exact).max())
chapter.record("float32_matmul_relative_error", relative)
chapter.check(relative < 1e-5, "a float32 matmul agrees with float64 to float32 precision")

# %% [markdown]
# ## Per-op overhead: the chain of adds
#
# Every op in an eager engine is a Python call: unwrap the tensors, check devices and
# shapes, call NumPy, wrap the result, record a graph node; backward walks those nodes
# again. That cost does not depend on the tensor size. To see it alone,
# `benchmarks/overhead.py` builds a chain of 100 additions of **1-element** tensors, where
# the arithmetic is free, and divides the forward plus backward time by 100. PyTorch pays a
# similar price in its dispatcher (C++ but entered from Python). With about 1,600 ops in a
# mini-Transformer step, a few µs each is a few ms: small against a 25 ms GEMM floor, but it
# dominates a step on tiny tensors.

# %%
overhead = load_benchmark("overhead")
overhead.main(["--rounds", "1" if chapter.quick else "5", "--json"])
per_op = json.loads((ROOT / "benchmarks" / "results" / "overhead.json").read_text())
for name, row in per_op.items():
    chapter.record(f"overhead_us_per_op_{name}", round(row["median_us"], 2))
if "pytorch" in per_op:
    chapter.record("overhead_ratio_to_pytorch", round(per_op["minidl"]["ratio_to_pytorch"], 2))
us = per_op["minidl"]["median_us"]
print(f"a mini-Transformer step of about 1,600 ops at {us:.1f} µs each: {1600 * us / 1e3:.1f} ms of overhead")

# %% [markdown]
# ## Memory traffic of elementwise ops
#
# A ReLU, an add or an optimizer update does one or two FLOP per element but reads and
# writes 4 bytes per float32 operand. Its **arithmetic intensity** (FLOP per byte moved) is
# about $1/12$ for $z = x + y$, against $2n^3 / (3 \cdot 4 n^2) = n/6$ for an $n \times n$ matrix
# product (85 for $n = 512$). So elementwise ops never come near the GEMM rate; they run at
# the speed of memory, tens of GB/s. Each extra pass over an 8 MiB activation costs a
# fraction of a millisecond, and a step of many such passes adds up. We measure the
# bandwidth of an add over 16 MiB arrays (written into an existing buffer with `out=`):

# %%
u = rng.standard_normal(4 * 2 ** 20, dtype=np.float32)
v = rng.standard_normal(4 * 2 ** 20, dtype=np.float32)
w = np.empty_like(u)
add_ms = best_ms(lambda: np.add(u, v, out=w), repeats=REPEATS)
chapter.record("elementwise_add_GB_per_s", round(3 * u.nbytes / (add_ms / 1e3) / 1e9, 1))
print(f"add of 4 Mi floats: {add_ms:.2f} ms, {u.size / (add_ms / 1e3) / 1e9:.2f} GFLOP/s "
      f"(vs {gflops32:.0f} GFLOP/s for the matmul)")

# %% [markdown]
# ## Fused nodes
#
# When the math of a composite function is known, one node with a closed-form backward
# replaces a chain of small ones: fewer Python calls, fewer temporaries, fewer passes over
# memory. minidl fuses the usual suspects:
#
# * **softmax** $y_i = e^{x_i - m} / \sum_j e^{x_j - m}$ ($m = \max_j x_j$), backward
#   $\;\partial L/\partial x = y \odot \big(g - \textstyle\sum_j g_j y_j\big)$: it saves only $y$.
# * **cross-entropy from logits**, $L = -\frac1N \sum_n \log \mathrm{softmax}(z_n)_{y_n}$, backward
#   $\;\partial L/\partial z_n = \big(\mathrm{softmax}(z_n) - \mathrm{onehot}(y_n)\big)/N$. The
#   forward computes $\log\mathrm{softmax}(z)_y = z_y - \log\sum_j e^{z_j}$ directly, never the log
#   of a probability that may have rounded to zero, so it is also the numerically safe form.
# * **layer norm**, $\hat x = (x - \mu)/\sigma$, $y = \gamma \hat x + \beta$, backward
#   $\;\partial L/\partial x = \frac{1}{\sigma}\big(\hat g - \overline{\hat g} - \hat x\,\overline{\hat g \hat x}\big)$
#   with $\hat g = \gamma \odot g$ and bars for means over the normalised axis.
# * **attention** $\mathrm{softmax}(QK^\top/\sqrt d)\,V$: two batched products and one softmax
#   in a single node, without a node per head.
#
# Here is softmax both ways on the benchmark's (32, 4, 64, 64) input: five nodes
# (max, subtract, exp, sum, divide) against one, both on one thread.

# %%
x = minidl.from_numpy(rng.standard_normal((32, 4, 64, 64), dtype=np.float32)).requires_grad_()
g = minidl.from_numpy(rng.standard_normal((32, 4, 64, 64), dtype=np.float32))


def softmax_fused():
    x.grad = None
    F.softmax(x, dim=-1).backward(g)
    return x.grad.numpy()


def softmax_composed():
    x.grad = None
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    (e / e.sum(dim=-1, keepdim=True)).backward(g)
    return x.grad.numpy()


chapter.check(np.allclose(softmax_fused(), softmax_composed(), atol=1e-6),
              "the fused softmax node has the same gradient as the composed one")
with blas_threads(THREADS[0]):  # compare passes over memory, not how well each uses a second thread
    fused_ms, composed_ms = best_ms(softmax_fused, softmax_composed, repeats=REPEATS)
print(f"softmax forward + backward: fused {fused_ms:.2f} ms, composed from 5 ops {composed_ms:.2f} ms")
chapter.record("softmax_composed_over_fused", round(composed_ms / fused_ms, 2))

# %% [markdown]
# ## Two tiers: the formula and its kernel
#
# Every op in `minidl/ops/` is written as its formula reads: ReLU's forward is
# `maximum(x, 0)` and its backward `g * (x > 0)`. A faster way to compute the same thing
# lives beside it in `minidl/kernels/`, as a subclass of the op registered against it
# (`@replaces(textbook.ReLU)`): ReLU on minidl's threads writing into preallocated buffers,
# softmax with BLAS row sums, batch norm in fewer passes, convolution in cache-sized chunks.
# `Function.apply` asks `minidl.core.dispatch.choose` which class runs, the one place where
# the choice is made, and `minidl.use_kernels(False)` (a call, or a `with` block) runs
# everything on the textbook path. Tests run every op case on both paths and compare them.

# %%
print(inspect.getsource(minidl.ops.activation.ReLU))
print("registered kernels:", len(minidl.core.dispatch.registered()))


def softmax_step():
    x.grad = None
    F.softmax(x, dim=-1).backward(g)
    return x.grad.numpy().copy()


with minidl.use_kernels(False):
    textbook_grad = softmax_step()
chapter.check(np.allclose(softmax_step(), textbook_grad, atol=1e-6),
              "the softmax kernel and the textbook softmax give the same gradient")


def softmax_textbook():
    with minidl.use_kernels(False):
        return softmax_step()


kernel_ms, textbook_ms = best_ms(softmax_step, softmax_textbook, repeats=REPEATS)
print(f"softmax forward + backward: kernel {kernel_ms:.2f} ms, textbook {textbook_ms:.2f} ms")
chapter.record("softmax_textbook_over_kernel", round(textbook_ms / kernel_ms, 2))

# %% [markdown]
# ## Convolution as one matrix product (im2col)
#
# A convolution sums, for every output pixel, a $C \times k_h \times k_w$ window of the input
# weighted by each filter. Laying every window out as a column turns the whole layer into
# one GEMM:
#
# $$\underbrace{\text{out}}_{O \times (N H' W')} = \underbrace{W}_{O \times (C k_h k_w)}\;
# \underbrace{\text{cols}}_{(C k_h k_w) \times (N H' W')}.$$
#
# The columns are a strided *view* of the padded input (`as_strided` or
# `sliding_window_view`: no loop), copied once. The backward is two more products,
# $\partial L/\partial W = G\,\text{cols}^\top$ and $\partial L/\partial\text{cols} = W^\top G$, and the
# column gradient is added back onto the input with one strided slice-add per kernel offset
# ($k_h k_w$ adds, never a scatter per element). A tiny version in plain NumPy agrees with
# `F.conv2d`:

# %%
images = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
filters = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # (N, C, H', W', 3, 3)
cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(3 * 9, -1)                     # (C·kh·kw, N·H'·W')
by_gemm = (filters.reshape(4, -1) @ cols).reshape(4, 2, 6, 6).transpose(1, 0, 2, 3)
by_minidl = F.conv2d(minidl.from_numpy(images), minidl.from_numpy(filters), padding=1).numpy()
chapter.check(np.allclose(by_gemm, by_minidl, atol=1e-5), "im2col + one matmul equals F.conv2d")

# %% [markdown]
# ## Page faults from fresh buffers
#
# A step allocates its activations and gradients and frees them again, every step the
# same sizes. glibc's allocator hands large freed blocks back to the kernel, so the next
# step's fresh buffer is new, untouched memory: the first write to each 4 KiB page traps
# into the kernel (a *minor page fault*), which zeroes the page and maps it. For an 8 MiB
# activation that is up to 2,048 faults (fewer where the kernel maps 2 MiB huge pages),
# each costing a microsecond or more: easily more than the arithmetic on that buffer.
# `minidl.kernels.memory.keep_freed_memory()` raises glibc's mmap and trim thresholds
# (`mallopt`) so freed blocks stay in the process and are reused. It changes the allocator of
# the whole process, so minidl never does it on its own: the chapters (through their
# `Chapter`) and the benchmarks call it, and a training script may too;
# `keep_freed_memory(False)` gives glibc its defaults back. Below, a loop over an 8 MiB array
# (`exp`, then a product: two fresh buffers per iteration) runs in two fresh processes.

# %%
FAULT_LOOP = """
import resource, sys, time, numpy as np, minidl
minidl.kernels.memory.keep_freed_memory(sys.argv[1] == "1")
x = np.random.default_rng(0).standard_normal((2048, 1024), dtype=np.float32)
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3): y = np.exp(x); z = y * x; del y, z
before, start = faults(), time.perf_counter()
for _ in range(50): y = np.exp(x); z = y * x; del y, z
print((faults() - before) / 50, (time.perf_counter() - start) / 50 * 1e3)
"""
for keep in ("0", "1"):
    output = subprocess.run([sys.executable, "-c", FAULT_LOOP, keep], capture_output=True, text=True,
                            check=True).stdout
    faults, ms = map(float, output.split())
    label = "kept" if keep == "1" else "returned"
    print(f"freed memory {label:<9}: {faults:7.0f} page faults and {ms:5.2f} ms per iteration")
    chapter.record(f"page_faults_per_iteration_memory_{label}", faults)

# %% [markdown]
# ## Against PyTorch, workload by workload
#
# `benchmarks/run.py` measures each workload of `benchmarks.md` (the same code builds the
# minidl and the PyTorch model, see `benchmarks/workloads.py`) in a fresh process per
# implementation, thread count and round, rounds interleaved, at 1 and 2 compute threads
# (`set_num_threads(n)` in both engines), 3 warm-up and 20 timed steps. Beside minidl and
# PyTorch it runs minidl's textbook path (`use_kernels(False)`, NumPy's BLAS on the same n
# threads), so each workload shows what the kernels buy. The ratio is minidl's median step time over PyTorch's **in the same run**: absolute
# times depend on the machine and on who else is using it, ratios much less. The runner
# also reports each workload's memory: the process's peak resident memory minus what it
# held right after its imports. Quick mode runs the matmul micro-op and the MLP (M) twice
# each at 2 threads; the full run covers every workload at 1 and 2 threads, three rounds. The runner is started as its own
# small process (not called from this one): a child's peak-memory counter starts from its
# parent's size, which would swamp the measurement.

# %%
workloads = ["matmul", "M"] if chapter.quick else ["T", "C", "M", "matmul", "conv2d", "softmax", "layernorm"]
rounds = 2 if chapter.quick else 3
implementations = ["minidl"] + (["pytorch"] if importlib.util.find_spec("torch") else [])
summary = {}
if threadpool_limits is None:  # minidl.set_num_threads sets NumPy's BLAS threads with threadpoolctl
    print("benchmark skipped: the runner needs threadpoolctl (pip install threadpoolctl)")
    chapter.record("benchmark", "skipped")
else:
    threads = ["2"] if chapter.quick else ["1", "2"]
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *workloads, "--rounds", str(rounds),
                    "--threads", *threads], check=True, env=dict(os.environ, MPLBACKEND="Agg"))
    benchmark = json.loads((ROOT / "benchmarks" / "results" / "latest.json").read_text())
    summary = benchmark["summary"]["2"]  # the table below: 2 threads; latest.json holds every count
    (chapter.folder / "benchmark.json").write_text(json.dumps(benchmark, indent=2))
if "pytorch" not in implementations:
    print("PyTorch is not installed (pip install torch): minidl's times only, no ratios")

# %% [markdown]
# Each ratio, and the floor each workload would have at 200 GFLOP/s and at the GEMM rate
# measured above (FLOP counts from `benchmarks.md`; a training step counts three forward
# passes). A workload far above its floor is paying for something other than arithmetic.

# %%
STEP_GFLOP = {"T": 5.235, "C": 2.353, "M": 1.027, "matmul": 0.805, "conv2d": 7.248}
names = [name for name in summary if "pytorch" in summary[name]]
if names:
    print(f"{'workload':<10}{'minidl ms':>10}{'PyTorch ms':>11}{'ratio':>7}{'mem ratio':>10}"
          f"{'floor@200':>10}{f'floor@{gflops32:.0f}':>10}")
for name in names:
    mine, theirs = summary[name]["minidl"], summary[name]["pytorch"]
    ratio = chapter.record(f"ratio_{name}", round(mine["ratio"], 3))
    memory = mine["memory_ratio"]
    chapter.record(f"memory_ratio_{name}", None if memory is None else round(memory, 3))
    floor = STEP_GFLOP.get(name)
    floors = f"{floor / 200 * 1e3:>10.1f}{floor / gflops32 * 1e3:>10.1f}" if floor else f"{'-':>10}{'-':>10}"
    memory = "-" if memory is None else f"{memory:.2f}"
    print(f"{name:<10}{mine['median_ms']:>10.2f}{theirs['median_ms']:>11.2f}{ratio:>7.2f}{memory:>10}{floors}")

if names:
    figure = Figure(figsize=(4 + 1.6 * len(names), 3.8))
    for column, (key, label) in enumerate([("ratio", "step time"), ("memory_ratio", "workload memory")], start=1):
        axes = figure.add_subplot(1, 2, column)
        values = [summary[name]["minidl"][key] or 0 for name in names]
        bars = axes.bar(names, values, color="tab:blue" if key == "ratio" else "tab:green")
        axes.bar_label(bars, fmt="%.2f")
        axes.set_ylim(0, 1.15 * max(values + [1.0]))
        axes.axhline(1.0, color="gray", linewidth=0.8)
        axes.set_ylabel("minidl / PyTorch")
        axes.set_title(label)
    figure.suptitle(f"minidl relative to PyTorch (= 1): median of {rounds} rounds, 2 threads")
    figure.tight_layout()
    figure.savefig(chapter.figure("ratios_to_pytorch.png"), dpi=110)

# %% [markdown]
# What is checked is what must hold whatever the timings: every workload ran for both
# implementations in every round, and every training workload's loss went down over its 23
# steps on the fixed batch (a step that does not train is not a step worth timing).

# %%
for name in summary:
    chapter.check(all(summary[name].get(impl, {}).get("runs") == rounds for impl in implementations),
                  f"workload {name} ran {rounds} times for {' and '.join(implementations)}")
    for impl in implementations if name in ("T", "C", "M") else []:
        first, last = summary[name][impl]["loss_first"], summary[name][impl]["loss_last"]
        chapter.check(last < first, f"{impl}'s loss on workload {name} decreased ({first:.3f} → {last:.4f})")

# %% [markdown]
# ## Where a CNN step goes, op by op
#
# A ratio says *how much* slower, not *where*. `minidl.profiler.profile()` times every op's
# forward and backward while it is active (every op is one graph node, so that is all the
# array work; the rest of a step is Python bookkeeping), with the interface of
# `torch.profiler`:
#
# ```python
# with minidl.profiler.profile() as prof:
#     step()
# print(prof.key_averages().table(row_limit=10))
# ```
#
# `benchmarks/breakdown.py` profiles a workload in both engines, each in its own process with
# the benchmark's threads, and gathers the ops into stages of the model. For workload C in
# our runs on 2 cores, batch norm, max pooling and ReLU take about as long in minidl as in
# PyTorch, or less; the difference is the convolution, about 1.5 times PyTorch's. PyTorch runs
# oneDNN's direct convolution kernels (about 225 GFLOP/s on the second layer); minidl runs
# im2col and OpenBLAS's GEMM on thin matrices and pays for the copies around it: the columns,
# the reorder between NCHW and channel-major, col2im. What brought minidl level with PyTorch
# on this step is its own compute threads (`minidl.set_num_threads`, `minidl/kernels/threads.py`):
# NumPy runs each pass on one core, so minidl splits the big passes of its heavy ops into
# slices of the batch (convolution chunks, batch norm, ReLU, max pooling) and runs them on
# both cores, and shares out its matrix products itself, with NumPy's BLAS on one thread.
# That is one of three thread plans; an MLP, almost all matrix products, runs faster with
# BLAS's own threads and every pass on one thread. minidl times each plan on a model's
# first training steps and keeps the fastest (`minidl/kernels/plans.py`).

# %%
profile_steps = 3 if chapter.quick else 20
done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "breakdown.py"), "C", "--json",
                       "--steps", str(profile_steps)], capture_output=True, text=True, check=True)
breakdown = json.loads(done.stdout.strip().splitlines()[-1])
engines = list(breakdown)
stage_names = [name for name in breakdown["minidl"]["stages"] if name != "step"]
print(f"workload C, ms per step ({profile_steps} profiled steps)")
print(f"{'stage':<18}" + "".join(f"{engine:>10}" for engine in engines))
for name in [name for name in stage_names if any(breakdown[e]["stages"][name] for e in engines)] + ["step"]:
    print(f"{name:<18}" + "".join(f"{breakdown[e]['stages'].get(name, 0.0):>10.2f}" for e in engines))
for engine in engines:
    for name in ("convolution", "step"):
        chapter.record(f"C_{engine}_{name}_ms", round(breakdown[engine]["stages"].get(name, 0.0), 2))

figure = Figure(figsize=(8, 3.8))
axes = figure.add_subplot()
shown = [name for name in stage_names if max(breakdown[e]["stages"].get(name, 0.0) for e in engines) > 0.3]
width = 0.8 / len(engines)
for k, engine in enumerate(engines):
    axes.bar([i + k * width for i in range(len(shown))], [breakdown[engine]["stages"].get(n, 0.0) for n in shown],
             width, label=f"{engine} (step {breakdown[engine]['stages']['step']:.1f} ms)")
axes.set_xticks([i + width * (len(engines) - 1) / 2 for i in range(len(shown))], shown, rotation=20)
axes.set_ylabel("ms per step")
axes.set_title("workload C: where a training step goes")
axes.legend()
figure.tight_layout()
figure.savefig(chapter.figure("workload_C_by_stage.png"), dpi=110)

# %% [markdown]
# The profile accounts for the step: minidl's ops (forward and backward) take most of its
# wall time, and what is left, Python and autograd bookkeeping, is a small share.

# %%
in_ops = 1 - breakdown["minidl"]["stages"]["outside ops"] / breakdown["minidl"]["stages"]["step"]
chapter.record("C_minidl_share_in_ops", round(in_ops, 3))
chapter.check(0.7 < in_ops <= 1.0, f"minidl's ops account for {in_ops:.0%} of its step on workload C")

# %% [markdown]
# ## Devices: cpu, cuda and strict
#
# A tensor's array lives on a device, and each device has an *array module* `xp` with
# NumPy's interface: `numpy` for `"cpu"`, `cupy` for `"cuda"` (imported only when first
# asked for, so minidl never needs a GPU to import), and `minidl.core.strict` for `"strict"`.
# Every op's forward and backward is written against `xp`, so the same code runs on all
# three. Tensors and modules move with `.to(device)`; nothing ever crosses devices silently.
#
# The trouble with GPU code is that a hidden host conversion (an `np.asarray`, a NumPy
# constant mixed into an expression) works on the CPU and only fails on the GPU, where CuPy
# refuses it. The **strict** device is a CPU array type that refuses exactly what CuPy
# refuses, so such bugs show up in the test suite on any laptop:

# %%
s = minidl.randn(3, 4, device="strict")
print("device:", s.device, "| array type:", type(s.data).__name__)
try:
    np.asarray(s.data)
    refused = None
except TypeError as error:
    refused = str(error)
    print("TypeError:", error)
chapter.check(refused is not None, "the strict device refuses an implicit conversion to NumPy")

try:
    s.data * np.ones((3, 4))
except TypeError as error:
    print("TypeError:", error)

# %% [markdown]
# Mixing tensors of two devices in one op is an error that names the op and both devices,
# rather than a silent copy (which on a GPU would be a slow round trip through the host):

# %%
try:
    s @ minidl.ones(4, 2)
    mixed = ""
except minidl.DeviceError as error:
    mixed = str(error)
    print("DeviceError:", error)
chapter.check(mixed.startswith("matmul") and "strict" in mixed and "cpu" in mixed,
              "a device mix raises a DeviceError naming the op and both devices")
print("explicit copy:", s.cpu().numpy().shape, "on", s.cpu().device)


# %% [markdown]
# The same few training steps of a small MLP on each usable device must give the same
# losses and parameters. On `strict` they are identical bit for bit (it is NumPy inside);
# on a GPU they agree to float32 rounding, since cuBLAS sums in a different order.

# %%
def train_steps(device, steps=3):
    """A few SGD steps of a small MLP on `device`; returns the losses and the final parameters (on the host)."""
    minidl.manual_seed(0)
    nn = minidl.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = np.random.default_rng(1)
    inputs = minidl.from_numpy(data.standard_normal((256, 64), dtype=np.float32)).to(device)
    labels = minidl.from_numpy(data.integers(0, 10, 256)).to(device)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


def difference(one, other):
    losses = max(abs(a - b) for a, b in zip(one[0], other[0]))
    return max([losses] + [float(np.abs(a - b).max()) for a, b in zip(one[1], other[1])])


on_cpu = train_steps("cpu")
print("cpu losses:   ", [round(value, 5) for value in on_cpu[0]])
on_strict = train_steps("strict")
chapter.check(difference(on_cpu, on_strict) == 0.0, "a training step on the strict device equals the CPU's exactly")

# %% [markdown]
# And the GPU, when there is one: `Device("cuda").xp` loads CuPy and checks for a GPU,
# raising a `DeviceError` that says what is missing otherwise.

# %%
try:
    cupy = minidl.Device("cuda").xp
    skipped = None
except minidl.DeviceError as error:
    skipped = str(error)

if skipped:
    print("cuda skipped:", skipped)
    chapter.record("cuda", "skipped")
else:
    on_gpu = train_steps("cuda")
    print("cuda losses:  ", [round(value, 5) for value in on_gpu[0]])
    gap = chapter.record("cuda_max_difference_to_cpu", difference(on_cpu, on_gpu))
    gpu_name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    chapter.record("cuda", f"ran on {gpu_name.decode() if isinstance(gpu_name, bytes) else gpu_name}")
    chapter.check(gap < 1e-4, "a training step on the GPU matches the CPU's to float32 rounding")

# %% [markdown]
# ## Summary
#
# Both engines hand their matrix products to an optimised BLAS, so minidl's GEMMs can run
# exactly as fast as PyTorch's; the gaps that remain come from what surrounds the products:
# per-op Python work, extra passes over memory, the convolution's data layout and the
# allocator. Each of those is measured above, and each has a known remedy: fused nodes,
# in-place updates, im2col views, kept memory.
# `python benchmarks/run.py` re-measures them all; `minidl info` checks every device.

# %%
chapter.finish()
