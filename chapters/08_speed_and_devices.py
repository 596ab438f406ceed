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
# *Two tiers: each family's textbook op next to its kernel, equal results, the speedup at 1 and 2 threads and why; where a step's time goes; the CuPy and strict devices.*
#
# minidl has two tiers. Every op in `minidl/ops/` is its formula as it reads, forward and
# backward on one screen: the **textbook** tier, the one the chapters teach. A faster way
# to compute exactly the same thing lives beside it in `minidl/kernels/`: the **kernel**
# tier. A kernel is a subclass of the op it replaces, registered against it
# (`@replaces(textbook.ReLU)` in `minidl/kernels/activation.py`), and `Function.apply` asks
# `minidl.core.dispatch.choose` which class runs each node: the one place where the choice
# is made. `minidl.use_kernels(False)`, as a call or a `with` block, runs everything on the
# textbook path.
#
# This chapter takes the op families one by one: the textbook op and its kernel side by
# side, a check that both compute the same outputs and gradients, the kernel's speedup
# measured at one and at two threads, and *why* it is faster. A kernel is never faster by
# doing less arithmetic; it wins by
#
# * **fewer passes over memory**: an elementwise op does one or two FLOP per element but
#   moves 4 bytes per operand, so it runs at the speed of memory; fusing three passes into
#   one, or writing into an existing buffer (`out=`), saves whole passes;
# * **threads**: NumPy runs every elementwise pass on one core; minidl splits big passes
#   and big matrix products into slices of the batch on its own threads
#   (`minidl/kernels/threads.py`);
# * **the cache**: data used again while it is still in the processor's cache costs far
#   less than data fetched from memory again;
# * **a fused backward**: one node with a closed-form backward instead of a chain of small
#   nodes, each with its Python call and temporaries.
#
# Timings on a shared machine move from run to run, so this chapter **reports** them and
# never asserts them; what it checks is what holds on any machine: that both tiers compute
# the same numbers.

# %%
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import minidl
from minidl.core import dispatch
from minidl.course.chapter import Chapter
from minidl.kernels import threads

chapter = Chapter(8, "Speed and devices")
F = minidl.nn.functional
ROOT = Path(__file__).resolve().parent.parent  # the checkout: this chapter and benchmarks/ live there
THREADS = (1, 2) if importlib.util.find_spec("threadpoolctl") else (1,)
REPEATS = 5 if chapter.quick else 25
DEFAULT_THREADS = threads.get_num_threads()
rng = np.random.default_rng(0)


def best_ms(*functions, repeats=REPEATS):
    """The fastest of `repeats` calls of each function in ms, after one warm-up call each.

    The calls are interleaved (f, g, f, g, ...), so a burst of load from other processes
    hits all of them alike, and the minimum is the least noisy statistic on a shared machine.
    """
    times = [[] for _ in functions]
    for function in functions:
        function()
    for _ in range(repeats):
        for function, mine in zip(functions, times):
            start = time.perf_counter()
            function()
            mine.append(time.perf_counter() - start)
    return [min(mine) * 1e3 for mine in times]


# %% [markdown]
# ## The switch
#
# Every registered kernel, against the textbook op it replaces (`dispatch.registered()`).
# Optimizers ask `choose` for their update the same way, so an update function can have a
# kernel too.

# %%
registered = dispatch.registered()
for textbook, kernel in registered.items():
    where = f"{textbook.__module__}.{textbook.__qualname__}"
    print(f"  {where:<52} -> {kernel.__module__}.{kernel.__qualname__}")
chapter.record("registered_kernels", len(registered))
with minidl.use_kernels(False):
    chapter.check(dispatch.choose(minidl.ops.activation.ReLU) is minidl.ops.activation.ReLU,
                  "use_kernels(False) makes choose() return the textbook op")
chapter.check(dispatch.choose(minidl.ops.activation.ReLU) is not minidl.ops.activation.ReLU,
              "with kernels on, choose() returns ReLU's kernel")

# %% [markdown]
# ## Measuring a family
#
# For each family, `run()` does one forward and backward pass (or one optimizer step) on
# fixed float32 inputs and returns the output and every gradient. We run it on both paths
# and compare, then time both paths at each thread count:
#
# * **kernel**: `minidl.set_num_threads(n)` with the thread plan `"minidl"`: minidl's threads
#   share out the passes and the products, BLAS runs on one thread;
# * **textbook**: `use_kernels(False)` with the plan `"blas"`: the formulas as they read,
#   NumPy's BLAS on the same n threads (the textbook ops have no threads of their own). This
#   is the same pairing as `benchmarks/run.py`'s `minidl` and `textbook`.
#
# The speedup is textbook time ÷ kernel time at the same thread count.

# %%


def autograd_run(function, arrays, differentiable):
    """run(): function on fresh leaves made from `arrays`, backward with a fixed output gradient;
    returns [output, the gradient of each differentiable input] as NumPy arrays."""
    gradient = {}

    def run():
        leaves = [minidl.from_numpy(a).requires_grad_(d) for a, d in zip(arrays, differentiable)]
        out = function(*leaves)
        if out.shape not in gradient:
            gradient[out.shape] = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        out.backward(minidl.from_numpy(gradient[out.shape]))
        return [out.detach().numpy()] + [leaf.grad.numpy() for leaf, d in zip(leaves, differentiable) if d]
    return run


def optimizer_run(shapes):
    """run(): one Adam step of the parameters with fixed gradients; returns the new parameters.
    run.reset() puts the parameters and the optimizer back to their start (for comparing the paths)."""
    starts = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    params = [minidl.from_numpy(start.copy()).requires_grad_() for start in starts]
    for param in params:
        param.grad = minidl.from_numpy(rng.standard_normal(param.shape).astype(np.float32))
    optimizer = minidl.optim.Adam(params, lr=1e-3)

    def run():
        optimizer.step()
        return [param.detach().numpy().copy() for param in params]

    def reset():
        for param, start in zip(params, starts):
            param.array[...] = start
        optimizer.state.clear()
    run.reset = reset
    return run


def floats(*shape):
    return rng.standard_normal(shape).astype(np.float32)


scale = 1 if chapter.quick else 2
FAMILIES = {
    "linear": (minidl.ops.linalg.Linear, autograd_run(F.linear, [floats(1024 * scale, 256), floats(256, 256),
                                                                   floats(256)], [True, True, True])),
    "conv2d": (minidl.ops.conv.Conv2d, autograd_run(lambda x, w: F.conv2d(x, w, padding=1),
                                                    [floats(8 * scale, 16, 32, 32), floats(32, 16, 3, 3)],
                                                    [True, True])),
    "batch_norm": (minidl.ops.norm.Normalize, autograd_run(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [floats(16 * scale, 32, 32, 32), floats(32), floats(32)], [True, True, True])),
    "layer_norm": (minidl.ops.norm.Normalize, autograd_run(
        lambda x, w, b: F.layer_norm(x, (128,), w, b), [floats(16 * scale, 64, 128), floats(128), floats(128)],
        [True, True, True])),
    "attention": (minidl.ops.attention.ScaledDotProductAttention, autograd_run(
        F.scaled_dot_product_attention, [floats(16 * scale, 4, 64, 32) for _ in range(3)], [True] * 3)),
    "softmax": (minidl.ops.activation.Softmax, autograd_run(lambda x: F.softmax(x, dim=-1),
                                                            [floats(16 * scale, 4, 64, 64)], [True])),
    "cross_entropy": (minidl.ops.loss.CrossEntropyLabels, autograd_run(
        F.cross_entropy, [floats(1024 * scale, 1000), rng.integers(0, 1000, 1024 * scale)], [True, False])),
    "adam_step": (minidl.optim.Adam._update, optimizer_run([(512, 512)] * 2 * scale)),
}


def on_path(kernels, run):
    """run() with the kernels on (the kernel path) or off (the textbook path)."""
    def call():
        with minidl.use_kernels(kernels):
            return run()
    return call


def gap(kernel_outputs, textbook_outputs):
    """The largest difference between the two paths, relative to the largest textbook value."""
    return max(float(np.abs(k - t).max() / max(np.abs(t).max(), 1e-30))
               for k, t in zip(kernel_outputs, textbook_outputs))


def measure(name):
    """Check that both paths agree, then time them at each thread count; returns {threads: speedup}."""
    textbook, run = FAMILIES[name]
    kernel, textbook_run = on_path(True, run), on_path(False, run)
    threads.set_plan("minidl")
    minidl.set_num_threads(THREADS[0])
    reset = getattr(run, "reset", lambda: None)  # a stateful run starts both paths from the same state
    reset()
    kernel_outputs = kernel()
    reset()
    difference = gap(kernel_outputs, textbook_run())
    chapter.check(difference < 1e-4, f"{name}: the kernel's outputs and gradients equal the textbook op's "
                  f"(largest relative difference {difference:.1e})")
    speedups = {}
    for count in THREADS:
        minidl.set_num_threads(count)

        def kernel_timed():
            threads.set_plan("minidl")
            return kernel()

        def textbook_timed():
            threads.set_plan("blas")
            return textbook_run()
        kernel_ms, textbook_ms = best_ms(kernel_timed, textbook_timed)
        speedups[count] = textbook_ms / kernel_ms
        chapter.record(f"{name}_ms_textbook_kernel_{count}t", f"{textbook_ms:.2f} / {kernel_ms:.2f}")
    threads.set_plan(None)
    minidl.set_num_threads(DEFAULT_THREADS)
    return speedups


def show(name):
    """The textbook op and its kernel: where each lives and what each docstring says."""
    textbook = FAMILIES[name][0]
    kernel = registered.get(textbook)
    for tier, thing in (("textbook", textbook), ("kernel", kernel)):
        lines = len(inspect.getsource(thing).splitlines())
        file = Path(inspect.getsourcefile(thing)).relative_to(Path(minidl.__file__).parent.parent)
        summary = (inspect.getdoc(thing) or "").splitlines()[0]
        print(f"{tier:>9}: {file}, {thing.__qualname__} ({lines} lines): {summary}")


speedups = {}

# %% [markdown]
# ## Matrix products: matmul and the dense layer
#
# The textbook `Linear` (`minidl/ops/linalg.py`) is $z = xW^\top + b$ with $x$ flattened to
# rows, so a (B, T, D) input is one GEMM; its backward is two more, $G W$ and $G^\top x$.
# Matrix products are bound by arithmetic, not memory, and BLAS already runs them near the
# machine's rate, so the kernel changes only who runs them on several cores: it splits a
# product into blocks of rows, each a one-thread BLAS call on one of minidl's threads, and
# runs the backward's two products side by side (`minidl/kernels/products.py`). At one
# thread there is nothing to gain; at two, the gain is in keeping one pool of threads
# (BLAS's own threads and minidl's would fight over the cores).

# %%
show("linear")
speedups["linear"] = measure("linear")

# %% [markdown]
# ## Convolution
#
# The textbook `Conv2d` is im2col plus one GEMM: it lays every receptive field out as a
# column, a (C·kh·kw) × (N·H'·W') matrix, nine times the input for a 3×3 kernel, written to
# memory and read back by the product. The kernel (`minidl/kernels/conv.py`) builds the
# columns **a few images at a time**, about 6 MiB each, and multiplies each chunk while it
# is still in the **cache**; chunks run side by side on minidl's threads. The columns are
# written in row runs (`kernels/im2col.py`), and the backward rebuilds the chunks it did not
# keep rather than holding the whole batch's columns.

# %%
show("conv2d")
speedups["conv2d"] = measure("conv2d")

# %% [markdown]
# ## Normalisation: batch norm and layer norm
#
# Read as a formula, batch norm is many passes: the mean, $x - \mu$, its square, the
# variance, $\hat x$, then $\gamma \hat x + \beta$, and its backward as many again. The kernel
# (`minidl/kernels/norm.py`) takes the statistics from BLAS row sums (no squares array),
# folds $\gamma/\sqrt{\sigma^2 + \epsilon}$ into one per-channel factor so $\hat x$ is never
# built, reuses $\partial L/\partial\beta$ and $\partial L/\partial\gamma$ for the two means of the
# **fused backward** $\partial L/\partial x = (\hat g - \overline{\hat g} - \hat x\,\overline{\hat g \hat x})/\sigma$,
# and runs the remaining passes over slices of the batch on minidl's **threads**. Layer norm
# runs as one compiled loop per row for its statistics and one for its output where Numba
# is installed (`minidl/kernels/loops.py`): **one pass** over memory instead of six.

# %%
show("batch_norm")
speedups["batch_norm"] = measure("batch_norm")
speedups["layer_norm"] = measure("layer_norm")
chapter.record("numba_compiled_loops", importlib.util.find_spec("numba") is not None)

# %% [markdown]
# ## Attention
#
# $\mathrm{softmax}(QK^\top/\sqrt{d})V$ is two batched products around a softmax, one node in
# both tiers (a node per head would cost a Python call each). The kernel
# (`minidl/kernels/attention.py`) shares the batched products out over the threads, takes the
# softmax's shift once for the whole tensor where the range of the scores allows
# (`softmax_shift`), sums rows through BLAS, works in place, and runs the softmax's backward
# $\partial L/\partial s = p \odot (\partial L/\partial p - \sum p\,\partial L/\partial p)$ as one compiled
# loop per row.

# %%
show("attention")
speedups["attention"] = measure("attention")

# %% [markdown]
# ## Softmax and cross-entropy
#
# Both are **fused** nodes in the textbook tier already: softmax's backward
# $y \odot (g - \sum_j g_j y_j)$ needs only $y$, and cross-entropy from logits has the backward
# $(\mathrm{softmax}(z) - \mathrm{onehot}(y))/N$, never the log of a probability that rounded to
# zero. Composed from five small ops (max, subtract, exp, sum, divide) the same softmax
# costs five nodes and their temporaries, as measured here at one thread. The kernels
# (`kernels/activation.py`, `kernels/loss.py`) then cut passes: a shared shift instead of a
# per-row maximum where that is safe, row sums through BLAS, in-place exponentials, and
# for class labels the log-probability picked at the labels only (a gather).

# %%
def composed_softmax():
    x = minidl.from_numpy(floats(16 * scale, 4, 64, 64)).requires_grad_()
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    (e / e.sum(dim=-1, keepdim=True)).backward(minidl.ones_like(x))


def fused_softmax():
    x = minidl.from_numpy(floats(16 * scale, 4, 64, 64)).requires_grad_()
    F.softmax(x, dim=-1).backward(minidl.ones_like(x))


minidl.set_num_threads(1)
with minidl.use_kernels(False):
    fused_ms, composed_ms = best_ms(fused_softmax, composed_softmax)
minidl.set_num_threads(DEFAULT_THREADS)
chapter.record("softmax_composed_over_fused_textbook", round(composed_ms / fused_ms, 2))
show("softmax")
speedups["softmax"] = measure("softmax")
show("cross_entropy")
speedups["cross_entropy"] = measure("cross_entropy")

# %% [markdown]
# ## The optimizer step
#
# Adam's textbook update (`minidl/optim/adam.py`, `Adam._update`) reads as its formula:
# `m = β1·m + (1 − β1)·g`, `v = ...`, `θ −= lr·m̂/(√v̂ + ε)`, each term a new array. The kernel
# (`minidl/kernels/optim.py`, `adam_update`) does the same arithmetic with every pass written
# into the parameter, its moments or one scratch array kept between steps (`out=`): no
# temporary is allocated, and each pass reads and writes arrays already in memory.

# %%
adam_kernel = registered[minidl.optim.Adam._update]
print(f"   kernel: minidl/kernels/optim.py, adam_update: {inspect.getdoc(adam_kernel).splitlines()[0]}")
speedups["adam_step"] = measure("adam_step")

# %% [markdown]
# ## The speedups side by side
#
# textbook time ÷ kernel time per family, at 1 and 2 threads (above 1: the kernel is
# faster). `tests/kernels/` proves each kernel equal to its op on every size and layout, and
# `benchmarks/run.py` measures the same on whole training steps, each in its own process.

# %%
print(f"{'family':<15}" + "".join(f"{f'{n} thread(s)':>14}" for n in THREADS))
for name, by_threads in speedups.items():
    print(f"{name:<15}" + "".join(f"{by_threads[n]:>13.2f}×" for n in THREADS))
    for count in THREADS:
        chapter.record(f"{name}_speedup_{count}t", round(by_threads[count], 2))

figure = Figure(figsize=(9, 3.6))
axes = figure.add_subplot()
names = list(speedups)
width = 0.8 / len(THREADS)
for k, count in enumerate(THREADS):
    bars = axes.bar([i + k * width for i in range(len(names))], [speedups[n][count] for n in names], width,
                    label=f"{count} thread{'s' if count > 1 else ''}")
    axes.bar_label(bars, fmt="%.1f", fontsize=7)
axes.axhline(1.0, color="gray", linewidth=0.8)
axes.set_xticks([i + width * (len(THREADS) - 1) / 2 for i in range(len(names))], names, rotation=20)
axes.set_ylabel("textbook time / kernel time")
axes.set_title(f"what each kernel buys (fastest of {REPEATS}, forward + backward)")
axes.legend()
figure.tight_layout()
figure.savefig(chapter.figure("kernel_speedups.png"), dpi=110)

# %% [markdown]
# ## The limits: products and passes
#
# Two rates bound every family. A matrix product of $(m \times k)(k \times n)$ does $2mkn$
# FLOP at the machine's multiply-add rate (about 100 GFLOP/s per core with AVX-512 and
# float32; float64 halves it, which is why minidl computes in float32). An elementwise pass
# does a FLOP or two per element at the speed of memory: its arithmetic intensity is about
# $1/12$ FLOP per byte against $n/6$ for an $n \times n$ product. Kernels cannot make a product
# faster than BLAS makes it; they can only remove passes and keep the cores busy.

# %%
a, b = floats(512, 512), floats(512, 512)
u, v = floats(4 * 2 ** 20), floats(4 * 2 ** 20)
w = np.empty_like(u)
matmul_ms, add_ms = best_ms(lambda: a @ b, lambda: np.add(u, v, out=w))
chapter.record("matmul_512_gflops", round(2 * 512 ** 3 / (matmul_ms / 1e3) / 1e9, 1))
chapter.record("elementwise_add_GB_per_s", round(3 * u.nbytes / (add_ms / 1e3) / 1e9, 1))

# %% [markdown]
# ## Around the kernels: a node's cost, and fresh buffers
#
# Two costs do not depend on the arithmetic at all. Every node is a Python call: unwrap
# the arrays, choose the class, record the node, and walk it again backward. A chain of
# additions of **1-element** tensors, where the arithmetic is free, shows that cost alone
# (`benchmarks/overhead.py` compares it with PyTorch's). With about 1,600 nodes in a
# mini-Transformer step, a few µs each is a few ms: the reason a fused node beats a chain.

# %%
one, two = minidl.tensor([1.0], requires_grad=True), minidl.tensor([2.0], requires_grad=True)


def chain_of_adds(length=100):
    total = one
    for _ in range(length):
        total = total + two
    total.backward()


node_us = best_ms(chain_of_adds)[0] * 1e3 / 100
chapter.record("us_per_node_forward_and_backward", round(node_us, 2))

# %% [markdown]
# The second cost is memory the operating system hands out fresh. A step allocates its
# activations and gradients and frees them again, every step the same sizes. glibc returns
# large freed blocks to the kernel, so the next step's buffer is untouched memory: the first
# write to each 4 KiB page traps into the kernel (a *minor page fault*), which zeroes and maps
# it, often costing more than the arithmetic on that buffer. `minidl.kernels.memory.keep_freed_memory()`
# keeps freed blocks in the process (glibc's `mallopt`); it changes the allocator of the
# whole process, so minidl does it only on request: the chapters and benchmarks ask for it.
# The kernels' in-place passes (`out=`) avoid many of those buffers in the first place.
# Below, a loop over an 8 MiB array (`exp`, then a product) runs in two fresh processes.

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
# ## Where a training step goes, on both paths
#
# A speedup per family says little about a whole step until we know how much of the step
# each family takes. `minidl.profiler.profile()` times every op's forward and backward
# (the interface of `torch.profiler`), and `benchmarks/breakdown.py` profiles a workload in
# minidl (kernels on), on its textbook path and in PyTorch, each in its own process with two
# threads, and gathers the ops into stages of the model. Workload C is a small CNN on
# 28×28 images: convolutions, batch norm, ReLU, max pooling, a linear layer and
# cross-entropy. Everything a stage's kernel saves shows as a shorter bar; "outside ops" is
# Python and autograd bookkeeping.

# %%
profile_steps = 3 if chapter.quick else 20
done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "breakdown.py"), "C", "--json", "--textbook",
                       "--steps", str(profile_steps)], capture_output=True, text=True, check=True)
breakdown = json.loads(done.stdout.strip().splitlines()[-1])
engines = list(breakdown)
stage_names = [name for name in breakdown["minidl"]["stages"] if name != "step"]
print(f"workload C, ms per step ({profile_steps} profiled steps)")
print(f"{'stage':<18}" + "".join(f"{engine:>10}" for engine in engines))
for name in [name for name in stage_names if any(breakdown[e]["stages"][name] for e in engines)] + ["step"]:
    print(f"{name:<18}" + "".join(f"{breakdown[e]['stages'].get(name, 0.0):>10.2f}" for e in engines))
for engine in engines:
    for name in ("convolution", "normalisation", "step"):
        chapter.record(f"C_{engine}_{name}_ms", round(breakdown[engine]["stages"].get(name, 0.0), 2))

figure = Figure(figsize=(9, 3.8))
axes = figure.add_subplot()
shown = [name for name in stage_names if max(breakdown[e]["stages"].get(name, 0.0) for e in engines) > 0.3]
width = 0.8 / len(engines)
labels = {"minidl": "minidl, kernels", "textbook": "minidl, textbook", "pytorch": "PyTorch"}
for k, engine in enumerate(engines):
    axes.bar([i + k * width for i in range(len(shown))], [breakdown[engine]["stages"].get(n, 0.0) for n in shown],
             width, label=f"{labels.get(engine, engine)} (step {breakdown[engine]['stages']['step']:.1f} ms)")
axes.set_xticks([i + width * (len(engines) - 1) / 2 for i in range(len(shown))], shown, rotation=20)
axes.set_ylabel("ms per step")
axes.set_title("workload C: where a training step goes, textbook path against kernels")
axes.legend()
figure.tight_layout()
figure.savefig(chapter.figure("workload_C_by_stage.png"), dpi=110)

# %% [markdown]
# The profile accounts for the step on both paths: the ops take most of the wall time, and
# what is left, Python and autograd bookkeeping, is a small share.

# %%
for engine in ("minidl", "textbook"):
    share = 1 - breakdown[engine]["stages"]["outside ops"] / breakdown[engine]["stages"]["step"]
    chapter.record(f"C_{engine}_share_in_ops", round(share, 3))
    chapter.check(0.7 < share <= 1.0, f"{engine}: the ops account for {share:.0%} of the step on workload C")

# %% [markdown]
# ## Whole workloads against PyTorch (full mode)
#
# `benchmarks/run.py` measures each workload (the same code builds the minidl and the
# PyTorch model, `benchmarks/workloads.py`) in a fresh process per implementation, thread
# count and round, rounds interleaved, at 1 and 2 threads: minidl, its textbook path and
# PyTorch. Ratios are step times over PyTorch's **in the same run**. The full mode of this
# chapter runs it (a few minutes); quick mode points to it.

# %%
if chapter.quick:
    print("quick mode: run `python benchmarks/run.py T C M --threads 1,2` (or this chapter in full mode)")
    chapter.record("workloads", "full mode only")
else:
    workloads, rounds = ["T", "C", "M"], 3
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *workloads, "--rounds", str(rounds),
                    "--threads", "1", "2"], check=True, env=dict(os.environ, MPLBACKEND="Agg"))
    benchmark = json.loads((ROOT / "benchmarks" / "results" / "latest.json").read_text())
    (chapter.folder / "benchmark.json").write_text(json.dumps(benchmark, indent=2))
    for count, by_workload in benchmark["summary"].items():
        for name, row in by_workload.items():
            for implementation, result in row.items():
                if implementation != "pytorch" and result.get("ratio") is not None:
                    chapter.record(f"ratio_{name}_{implementation}_{count}t", round(result["ratio"], 3))
            if "kernel_speedup" in row.get("minidl", {}):
                chapter.record(f"kernels_{name}_{count}t", round(row["minidl"]["kernel_speedup"], 2))
            for implementation in ("minidl", "textbook"):
                if implementation in row and name in ("T", "C", "M"):
                    first, last = row[implementation]["loss_first"], row[implementation]["loss_last"]
                    chapter.check(last < first, f"{implementation}'s loss on workload {name} decreased at "
                                  f"{count} thread(s)")

# %% [markdown]
# ## Devices: cpu, cuda and strict
#
# A tensor's array lives on a device, and each device has an *array module* `xp` with
# NumPy's interface: `numpy` for `"cpu"`, `cupy` for `"cuda"` (imported only when first
# asked for, so minidl never needs a GPU to import), and `minidl.core.strict` for `"strict"`.
# The textbook ops are written against `xp`, so the same code runs on all three; the kernels
# that use NumPy-only tricks (threads, compiled loops) step aside for other arrays.
#
# The trouble with GPU code is that a hidden host conversion (an `np.asarray`, a NumPy
# constant mixed into an expression) works on the CPU and only fails on the GPU, where CuPy
# refuses it. The **strict** device is a CPU array type that refuses exactly what CuPy
# refuses, so such bugs show up in the test suite on any laptop:

# %%
s = minidl.randn(3, 4, device="strict")
print("device:", s.device, "| array type:", type(s.array).__name__)
try:
    np.asarray(s.array)
    refused = None
except TypeError as error:
    refused = str(error)
    print("TypeError:", error)
chapter.check(refused is not None, "the strict device refuses an implicit conversion to NumPy")

try:
    s @ minidl.ones(4, 2)
    mixed = ""
except minidl.DeviceError as error:
    mixed = str(error)
    print("DeviceError:", error)
chapter.check(mixed.startswith("matmul") and "strict" in mixed and "cpu" in mixed,
              "a device mix raises a DeviceError naming the op and both devices")


# %% [markdown]
# The same few training steps of a small MLP must give the same losses and parameters on
# every device and on both tiers: identical bit for bit on `strict` (NumPy inside), equal
# to float32 rounding on the textbook path (other summation orders) and on a GPU.

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
    losses = max(abs(x - y) for x, y in zip(one[0], other[0]))
    return max([losses] + [float(np.abs(x - y).max()) for x, y in zip(one[1], other[1])])


on_cpu = train_steps("cpu")
print("cpu losses:   ", [round(value, 5) for value in on_cpu[0]])
with minidl.use_kernels(False):
    on_textbook = train_steps("cpu")
chapter.check(difference(on_cpu, on_textbook) < 1e-4, "training steps on the textbook path match the kernels'")
on_strict = train_steps("strict")
chapter.check(difference(on_cpu, on_strict) == 0.0, "training steps on the strict device equal the CPU's exactly")

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
    gpu_gap = chapter.record("cuda_max_difference_to_cpu", difference(on_cpu, on_gpu))
    gpu_name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    chapter.record("cuda", f"ran on {gpu_name.decode() if isinstance(gpu_name, bytes) else gpu_name}")
    chapter.check(gpu_gap < 1e-4, "a training step on the GPU matches the CPU's to float32 rounding")

# %% [markdown]
# ## Summary
#
# The textbook tier is what to read; the kernel tier is what runs, and it computes the same
# numbers. Matrix products were already as fast as BLAS makes them, so their kernels gain
# little on one core and share the work on two. The families bound by memory gain most:
# convolution from keeping its columns in cache, normalisation and the softmaxes from fewer
# passes and fused backwards, the optimizer from writing in place, and all of them from a
# second thread NumPy alone would leave idle. `python benchmarks/run.py` re-measures whole
# steps against PyTorch; `minidl info` checks every device.

# %%
chapter.finish()
