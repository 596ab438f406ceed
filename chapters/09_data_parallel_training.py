# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Data-parallel training
#
# *Why the average of the shards' gradients is the whole batch's gradient, ring all-reduce and its cost, a measured 2-process run on MPI that retraces the 1-process loss curve, a projection to 512 workers, and federated averaging as a contrast.*
#
# Larger models and data sets need more arithmetic than one processor can do in reasonable
# time, which is why distributed training is what makes large models possible. The simplest
# and most used way to share the work is **data parallelism**: every worker (a process, often
# one per GPU) holds a full copy of the model, takes its own shard of each batch, computes the
# gradient on that shard, and the workers then **average their gradients** so that every copy
# takes the same optimizer step. Each worker does 1/N of the arithmetic; the price is the
# communication of one gradient-sized message per step.
#
# minidl runs its workers on MPI, the standard of scientific computing, through mpi4py
# (`pip install mpi4py mpich` installs both as wheels), with PyTorch's names:
#
# ```python
# import minidl.distributed as dist
# from minidl.nn.parallel import DistributedDataParallel as DDP
# dist.init_process_group(backend="mpi")                  # rank and world size from the launch
# model = DDP(Net())                                      # rank 0's weights everywhere
# sampler = DistributedSampler(train_set)                 # this rank's shard of the data
# for epoch in range(epochs):
#     sampler.set_epoch(epoch)
#     for x, y in DataLoader(train_set, batch_size=64, sampler=sampler):
#         optimizer.zero_grad()
#         loss_fn(model(x), y).backward()                 # gradients averaged over the ranks
#         optimizer.step()
# ```
#
# and `minidl launch -n 4 train.py` starts four ranks of the script (`mpiexec -n 4 python train.py`
# works too). We prove that this computes exactly the gradient of the whole batch, build the
# all-reduce that averages the gradients, run the script above on 2 processes, measure where its
# time goes, project the cost to hundreds of workers, and end with federated averaging, where the
# data may not leave the workers at all.

# %%
import json
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import minidl
import minidl.distributed as dist
from minidl import nn
from minidl.core.machine import cpu_model
from minidl.course.chapter import Chapter, quick_mode
from minidl.course.demos.digits_mlp import digits_split
from minidl.data import DataLoader, DistributedSampler
from minidl.distributed import launch
from minidl.distributed.collectives import reduce_array
from minidl.nn import functional as F
from minidl.nn.parallel import DistributedDataParallel as DDP

QUICK = quick_mode()
GLOBAL_BATCH, STEPS = 128, 30 if QUICK else 200     # the training run that 1 and 2 processes share


def mlp(hidden=128, batch_norm=False):
    """The chapter's model: a multilayer perceptron on the 8×8 digits (64 inputs, 10 classes)."""
    middle = [nn.BatchNorm1d(hidden)] if batch_norm else []
    return nn.Sequential(nn.Linear(64, hidden), *middle, nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


def rank_batches(dataset, world, rank, steps, batch_size, seed=0):
    """The first ``steps`` batches of rank ``rank`` out of ``world``: its DistributedSampler shard,
    reshuffled every epoch (the same permutation on every rank)."""
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    done, epoch = 0, 0
    while True:
        sampler.set_epoch(epoch)
        for batch in loader:
            yield batch
            done += 1
            if done == steps:
                return
        epoch += 1


def global_batches(dataset, world, steps, batch_size):
    """What one process sees when it trains on the concatenation of every rank's batch."""
    for parts in zip(*(rank_batches(dataset, world, rank, steps, batch_size // world) for rank in range(world))):
        yield minidl.cat([x for x, _ in parts]), minidl.cat([y for _, y in parts])


def train_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


# %% [markdown]
# ## The script that each of the 2 processes runs
#
# Later in this chapter the chapter starts itself twice under MPI, with `--worker`: then each of
# the 2 ranks runs `two_process_run` below and leaves. It trains the MLP with DDP on its half of
# every batch, in float64 so that the comparison with one process can be exact; times a training
# step with and without gradient averaging (`no_sync()` skips it); times the all-reduce alone for
# messages of 64 B to 4 MB; and trains a BatchNorm network with per-rank statistics and with
# `nn.SyncBatchNorm`. Rank 0 writes what they measured to a JSON file.

# %%
def two_process_run(out_path):
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    train_set, _ = digits_split(seed=0)
    results = {"world_size": world, "cpu": cpu_model(), "threads_per_rank": os.environ.get("OMP_NUM_THREADS")}

    # 1. the loss curve: DDP on this rank's half of each global batch (float64)
    minidl.manual_seed(0)
    model = DDP(mlp().double())
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in rank_batches(train_set, world, rank, STEPS, GLOBAL_BATCH // world):
        loss = train_step(model, optimizer, x.double(), y).detach().clone()
        dist.all_reduce(loss, op=dist.ReduceOp.AVG)   # the mean over equal shards: the global batch's loss
        losses.append(loss.item())
    results["losses"] = losses

    # 2. step times (float32, wider model, one core per rank), interleaved rounds, medians
    minidl.manual_seed(1)
    alone, wide = mlp(hidden=256), DDP(mlp(hidden=256))
    x_global, y_global = next(global_batches(train_set, world, 1, 2 * GLOBAL_BATCH))   # 256 examples
    x_mine, y_mine = next(rank_batches(train_set, world, rank, 1, GLOBAL_BATCH))        # this rank's 128
    variants = {"one_process_global_batch": (alone, x_global, y_global, nullcontext),
                "ddp_synced": (wide, x_mine, y_mine, nullcontext),
                "ddp_no_sync": (wide, x_mine, y_mine, wide.no_sync)}
    optimizers = {name: minidl.optim.SGD(net.parameters(), lr=0.01) for name, (net, *_) in variants.items()}
    times = {name: [] for name in variants}
    for round_ in range(12 if QUICK else 60):
        for name, (net, x, y, context) in variants.items():
            dist.barrier()
            start = time.perf_counter()
            with context():
                train_step(net, optimizers[name], x, y)
            if round_ >= 2:   # the first rounds warm up
                times[name].append(time.perf_counter() - start)
    results["step_seconds"] = {name: float(np.median(t)) for name, t in times.items()}
    results["gradient_bytes"] = sum(p.array.nbytes for p in wide.parameters())

    # 3. the all-reduce alone (as DDP runs it, on the array), time against message size
    sizes = [16, 256, 4096, 65536, 262144, 1048576]
    seconds = []
    for size in sizes:
        buffer, samples = np.zeros(size, dtype=np.float32), []
        for _ in range(8 if QUICK else 40):
            dist.barrier()
            start = time.perf_counter()
            reduce_array(buffer)
            samples.append(time.perf_counter() - start)
        seconds.append(float(np.median(samples)))
    results["all_reduce"] = {"bytes": [4 * s for s in sizes], "seconds": seconds}

    # 4. BatchNorm: per-rank statistics, or SyncBatchNorm's global ones, against one process
    for sync in (False, True):
        minidl.manual_seed(2)
        network = mlp(batch_norm=True).double()
        single = mlp(batch_norm=True).double()
        single.load_state_dict(network.state_dict())
        wrapped = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(network) if sync else network)
        pairs = [(wrapped, minidl.optim.SGD(wrapped.parameters(), lr=0.1)),
                 (single, minidl.optim.SGD(single.parameters(), lr=0.1))]
        shards = rank_batches(train_set, world, rank, 10, GLOBAL_BATCH // world)
        for (x, y), (x_all, y_all) in zip(shards, global_batches(train_set, world, 10, GLOBAL_BATCH)):
            train_step(*pairs[0], x.double(), y)
            train_step(*pairs[1], x_all.double(), y_all)
        difference = max(float(np.abs(a.numpy() - b.numpy()).max())
                         for a, b in zip(network.state_dict().values(), single.state_dict().values()))
        results["sync_batchnorm_vs_one_process" if sync else "batchnorm_vs_one_process"] = difference

    if rank == 0:
        Path(out_path).write_text(json.dumps(results, indent=1), encoding="utf-8")
    dist.destroy_process_group()


if "--worker" in sys.argv:   # started by mpiexec as one of the ranks: run the script above and leave
    two_process_run(sys.argv[sys.argv.index("--worker") + 1])
    sys.exit(0)

chapter = Chapter(9, "Data-parallel training")
train_set, test_set = digits_split(seed=0)

# %% [markdown]
# ## The average of the shards' gradients is the gradient of the whole batch
#
# Training minimises the mean loss over a batch of $B$ examples, $L = \frac1B \sum_{i=1}^{B} \ell_i(w)$,
# where $\ell_i$ depends only on example $i$ and the weights $w$. Cut the batch into $N$ shards
# $S_1, \dots, S_N$ of $B/N$ examples each, and let worker $k$ compute the mean loss of its shard,
# $L_k = \frac{N}{B} \sum_{i \in S_k} \ell_i$. Then
#
# $$L = \frac1B \sum_{k=1}^{N} \sum_{i\in S_k} \ell_i = \frac1N \sum_{k=1}^{N} L_k
# \quad\Longrightarrow\quad \nabla L = \frac1N \sum_{k=1}^{N} \nabla L_k,$$
#
# because the gradient is linear. So if every worker starts from the same $w$ (DDP copies rank 0's
# weights at the start) and applies the averaged gradient with the same optimizer, every worker
# stays on exactly the trajectory of one process that trains on the whole batch. Three conditions
# hide in the derivation, and each has a practical consequence:
#
# * **Equal shards.** With shards of different sizes the plain average weighs their examples
#   unequally; the right combination is weighted by shard size. `DistributedSampler` pads the data
#   so that every rank gets the same number of examples.
# * **Each $\ell_i$ depends on example $i$ alone.** BatchNorm breaks this: it normalises with the
#   statistics of the batch the layer sees, and each worker sees only its shard. Then the
#   averaged gradient is that of a *different* function (each shard normalised with its own mean and
#   variance). `nn.SyncBatchNorm` restores the identity by computing the statistics over all ranks.
# * **The same function on every worker.** Dropout draws a random mask per example. Given the same
#   masks, the identity holds; but the masks come from each worker's random stream, so the result is
#   a different (equally valid) random draw than one process would make. Workers must therefore not
#   share a seed for dropout, or all shards would draw identical masks.
#
# We check all three on the digits with the chapter's MLP in float64.

# %%
minidl.manual_seed(0)
model = mlp().double()
x_all, y_all = next(iter(DataLoader(train_set, batch_size=GLOBAL_BATCH, shuffle=True, seed=0)))
x_all = x_all.double()


def gradient(net, x, y):
    """The flattened gradient of the mean cross-entropy of ``net`` on (x, y)."""
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    return np.concatenate([p.grad.numpy().ravel() for p in net.parameters()])


full = gradient(model, x_all, y_all)
shards = [(x_all[k::4], y_all[k::4]) for k in range(4)]           # 4 equal shards of 32 examples
averaged = np.mean([gradient(model, x, y) for x, y in shards], axis=0)
equal_shards_gap = float(np.abs(averaged - full).max())
cut = [(x_all[:100], y_all[:100]), (x_all[100:], y_all[100:])]   # 100 and 28 examples
plain_mean = np.mean([gradient(model, x, y) for x, y in cut], axis=0)
weighted = (100 * gradient(model, *cut[0]) + 28 * gradient(model, *cut[1])) / 128
chapter.record("equal_shards_max_difference", equal_shards_gap)
chapter.check(equal_shards_gap < 1e-12, "the mean of 4 equal shards' gradients equals the 128-example gradient")
chapter.check(np.abs(plain_mean - full).max() > 1e-4 and np.abs(weighted - full).max() < 1e-12,
              "with shards of 100 and 28 examples the plain mean is wrong and the size-weighted mean is right")

minidl.manual_seed(0)
bn_model = mlp(batch_norm=True).double()
bn_full = gradient(bn_model, x_all, y_all)
bn_averaged = np.mean([gradient(bn_model, x, y) for x, y in shards], axis=0)
bn_gap = float(np.linalg.norm(bn_averaged - bn_full) / np.linalg.norm(bn_full))
chapter.record("batchnorm_relative_gradient_difference", bn_gap)
chapter.check(bn_gap > 1e-3, "with BatchNorm the shards' averaged gradient differs from the whole batch's")

mask = minidl.tensor((np.random.default_rng(1).random((GLOBAL_BATCH, 128)) > 0.5) * 2.0)   # dropout p = 0.5


def gradient_with_mask(x, y, rows):
    model.zero_grad()
    hidden = model[1](model[0](x)) * mask[rows]
    F.cross_entropy(model[4](model[3](model[2](hidden))), y).backward()
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


masked_full = gradient_with_mask(x_all, y_all, slice(None))
masked_shards = np.mean([gradient_with_mask(x_all[k::4], y_all[k::4], slice(k, None, 4)) for k in range(4)], axis=0)
chapter.check(np.abs(masked_shards - masked_full).max() < 1e-12,
              "with the same dropout masks per example, the shards' averaged gradient is the whole batch's")

# %% [markdown]
# ## All-reduce: averaging without a bottleneck
#
# After backward, every worker has a gradient of $S$ bytes and needs the sum of all $N$. The
# obvious way, everyone sending to one **parameter server** that adds and sends the sum back,
# makes that server receive and send $(N-1)\,S$ bytes: its link is a bottleneck that grows with
# $N$. The **ring all-reduce** arranges the workers in a ring and cuts every gradient into $N$
# chunks. In $N-1$ steps of **reduce-scatter**, each worker sends one chunk to its right neighbour
# and adds the chunk it receives from its left; afterwards each worker holds the complete sum of
# one chunk. In $N-1$ steps of **all-gather** the finished chunks travel once around the ring. In
# each of the $2(N-1)$ steps every worker sends $S/N$ bytes, all links busy at the same time. With
# a link bandwidth $\beta$ (bytes per second) and a latency $\alpha$ per message,
#
# $$T_{\text{ring}} = 2\,\frac{N-1}{N}\,\frac{S}{\beta} + 2\,(N-1)\,\alpha .$$
#
# The bandwidth term approaches $2S/\beta$ and stops growing with $N$, which is what lets data
# parallelism scale; the latency term grows linearly, which matters for small messages and many
# workers (libraries then switch to tree-shaped algorithms with $\log N$ steps). We run the ring
# on 5 simulated workers and count what each one sends.

# %%
def ring_all_reduce(arrays):
    """Sum the equal-length ``arrays`` of p simulated workers the ring way; returns (each worker's result,
    the bytes each worker sent)."""
    p = len(arrays)
    chunks = [np.array_split(a.astype(float), p) for a in arrays]
    sent = [0] * p
    for step in range(p - 1):            # reduce-scatter: worker w passes chunk (w - step) on, which is added
        messages = [(w, (w - step) % p, chunks[w][(w - step) % p].copy()) for w in range(p)]
        for w, c, values in messages:
            chunks[(w + 1) % p][c] += values
            sent[w] += values.nbytes
    for step in range(p - 1):            # all-gather: worker w holds the full chunk (w + 1 - step), passes it on
        messages = [(w, (w + 1 - step) % p, chunks[w][(w + 1 - step) % p].copy()) for w in range(p)]
        for w, c, values in messages:
            chunks[(w + 1) % p][c] = values
            sent[w] += values.nbytes
    return [np.concatenate(c) for c in chunks], sent


workers = [np.random.default_rng(w).normal(size=1000) for w in range(5)]
results, sent = ring_all_reduce(workers)
total = np.sum(workers, axis=0)
size_bytes = workers[0].astype(float).nbytes
chapter.check(all(np.allclose(r, total, rtol=1e-12) for r in results), "the ring all-reduce gives every worker the sum")
chapter.check(all(s == 2 * 4 / 5 * size_bytes for s in sent), "each of 5 workers sends exactly 2·(N-1)/N·S bytes")
print(f"5 workers, S = {size_bytes} B: each sends {sent[0]} B = 2·4/5·S; a parameter server would receive "
      f"and send {4 * size_bytes} B each way")

counts = np.array([2, 4, 8, 16, 32, 64, 128, 256, 512])
figure = Figure(figsize=(6.5, 3.6))
axes = figure.add_subplot(1, 1, 1)
axes.plot(counts, 2 * (counts - 1) / counts, marker="o", label="ring: each worker sends 2(N-1)/N · S")
axes.plot(counts, 2 * (counts - 1), marker="s", label="parameter server: its link carries 2(N-1) · S")
axes.set(xscale="log", yscale="log", xlabel="workers N", ylabel="bytes on the busiest link / S",
         title="Traffic of one all-reduce")
axes.legend(fontsize=8)
figure.tight_layout()
figure.savefig(chapter.figure("all_reduce_traffic.png"), dpi=110)

# %% [markdown]
# ## Two processes on MPI
#
# Now the real thing: the chapter starts 2 copies of itself with `mpiexec` through
# `minidl.distributed.launch` (the function behind `minidl launch -n 2`), each on one core, and
# waits for `two_process_run` above to finish on both. Meanwhile we train the same MLP, from the
# same initial weights, in this single process on the concatenation of both ranks' batches.
# Without MPI installed the 2-process part is skipped, and the chapter says so.

# %%
chapter_file = Path(globals().get("__file__", ""))
try:
    mpiexec = launch.find_mpiexec() if dist.is_mpi_available() else None
except FileNotFoundError:
    mpiexec = None
skipped = None
if mpiexec is None:
    skipped = f"the 2-process run (MPI is not installed: {dist.INSTALL})"
elif not chapter_file.is_file():
    skipped = "the 2-process run (the chapter starts its workers only when run as a script)"
two = None
if skipped is None:
    out = chapter.folder / "two_processes.json"
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    done = launch.launch(2, chapter_file, ["--worker", str(out)] + (["--quick"] if QUICK else []),
                         capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the 2-process run failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    two = json.loads(out.read_text(encoding="utf-8"))
    chapter.record("two_process_wall_seconds", time.perf_counter() - started)
else:
    print("skipped:", skipped)
    chapter.record("skipped", skipped)

minidl.manual_seed(0)
single = mlp().double()
optimizer = minidl.optim.SGD(single.parameters(), lr=0.1, momentum=0.9)
single_losses = [train_step(single, optimizer, x.double(), y).item()
                 for x, y in global_batches(train_set, 2, STEPS, GLOBAL_BATCH)]
chapter.record("one_process_final_loss", single_losses[-1])

# %% [markdown]
# If the proof above holds, the 2-process loss curve lies on the 1-process curve to the last
# digits of float64, step after step (momentum included).

# %%
figure = Figure(figsize=(10, 3.6))
axes = figure.add_subplot(1, 2, 1)
axes.plot(np.arange(1, STEPS + 1), single_losses, label="1 process, batches of 128", linewidth=2.5, alpha=0.6)
if two is not None:
    gap = float(np.abs(np.subtract(two["losses"], single_losses)).max())
    chapter.record("loss_curve_max_difference", gap)
    chapter.check(len(two["losses"]) == STEPS and gap < 1e-10,
                  f"the 2-process loss curve equals the 1-process curve on the same global batches ({STEPS} steps)")
    axes.plot(np.arange(1, STEPS + 1), two["losses"], "--", color="black", label="2 processes × 64, DDP")
    differences = figure.add_subplot(1, 2, 2)
    differences.semilogy(np.arange(1, STEPS + 1), np.abs(np.subtract(two["losses"], single_losses)) + 1e-18)
    differences.set(xlabel="step", ylabel="|loss difference| (+1e-18)", title="2 processes against 1 (float64)")
axes.set(xlabel="step", ylabel="training loss", title="Digits MLP: the same global batches")
axes.legend(fontsize=8)
figure.tight_layout()
figure.savefig(chapter.figure("one_versus_two_processes.png"), dpi=110)

# %% [markdown]
# BatchNorm is the exception from the first section: with per-rank statistics, 2 ranks train a
# different network than one process does; `nn.SyncBatchNorm.convert_sync_batchnorm(model)`
# all-reduces the per-channel sums, so the statistics, the gradient and the running averages are
# those of the whole batch again. (It costs one small all-reduce per layer in forward and another in
# backward; DDP's default keeps per-rank statistics, as PyTorch's does.)

# %%
if two is not None:
    chapter.record("batchnorm_2_ranks_vs_1", two["batchnorm_vs_one_process"])
    chapter.record("sync_batchnorm_2_ranks_vs_1", two["sync_batchnorm_vs_one_process"])
    chapter.check(two["batchnorm_vs_one_process"] > 1e-6 and two["sync_batchnorm_vs_one_process"] < 1e-10,
                  "after 10 steps, per-rank BatchNorm differs from one process; SyncBatchNorm equals it")

# %% [markdown]
# ## Where the time goes
#
# Each rank timed a training step of a wider MLP (64 → 256 → 256 → 10, float32, 85 thousand
# parameters) three ways, in interleaved rounds: one process on the global batch of 256; DDP on its
# 128 examples with gradient averaging; and the same under `no_sync()`, which skips the averaging.
# The difference between the last two is the communication that the step waits for. Separately,
# the all-reduce alone was timed for messages from 64 B to 4 MB (`reduce_array`: the reduction
# without `dist.all_reduce`'s check that every rank passed the same shape, which DDP's buckets
# do not need); for 2 processes the ring model says
# $T = S/\beta + 2\alpha$, so the smallest message gives $\alpha$ and the largest $\beta$ (here both
# processes share one machine's memory). On a shared machine the synced step also waits whenever
# the other rank was slowed down by some other process: that waiting is counted as communication.

# %%
if two is not None:
    steps = two["step_seconds"]
    share = max(0.0, steps["ddp_synced"] - steps["ddp_no_sync"]) / steps["ddp_synced"]
    sizes, seconds = two["all_reduce"]["bytes"], two["all_reduce"]["seconds"]
    measured_alpha = seconds[0] / 2                                  # 64 B: T ≈ 2α
    measured_beta = (sizes[-1] - sizes[0]) / max(seconds[-1] - seconds[0], 1e-9)   # 4 MB: T ≈ S/β + 2α
    for name, value in steps.items():
        chapter.record(f"step_ms_{name}", 1000 * value)
    chapter.record("speedup_2_processes", steps["one_process_global_batch"] / steps["ddp_synced"])
    chapter.record("communication_share", share)
    chapter.record("measured_alpha_us", 1e6 * measured_alpha)
    chapter.record("measured_beta_GB_per_s", measured_beta / 1e9)
    chapter.record("model_ms_all_reduce_of_the_gradient", 1000 * (2 * measured_alpha
                                                                  + two["gradient_bytes"] / measured_beta))
    chapter.record("cpu", f"{two['cpu']}, {two['threads_per_rank']} thread(s) per rank")
    chapter.check(all(v > 0 for v in steps.values()) and 0 <= share < 1,
                  "the step times are measured and communication is a part of the synced step")
    compute_seconds = steps["ddp_no_sync"]
else:   # no workers: time the per-worker step (128 examples) here
    minidl.manual_seed(1)
    wide = mlp(hidden=256)
    wide_optimizer = minidl.optim.SGD(wide.parameters(), lr=0.01)
    x, y = next(global_batches(train_set, 1, 1, GLOBAL_BATCH))
    samples = []
    for round_ in range(12):
        start = time.perf_counter()
        train_step(wide, wide_optimizer, x, y)
        samples.append(time.perf_counter() - start)
    compute_seconds = float(np.median(samples[2:]))
chapter.record("compute_ms_per_worker_step", 1000 * compute_seconds)

# %% [markdown]
# ## Projection: 8, 64 and 512 workers
#
# What would these steps cost on a cluster? We assume one **200 Gb/s link per worker
# ($\beta$ = 25 GB/s) with $\alpha$ = 5 µs per message**, float32 gradients averaged in buckets of
# 25 MB (each bucket one ring all-reduce, so the latency term is paid once per bucket), and a fixed
# batch per worker (the global batch grows with $N$). Two models:
#
# * this chapter's wide MLP: 85 thousand parameters (0.34 MB of gradients, one bucket), computing a
#   step in the time measured above;
# * **BERT-base**, 110 million parameters (440 MB, 17 buckets of 25 MiB), 32 sequences of 128 tokens per worker:
#   about $6 \times 110\text{M} \times 4096 \approx 2.7$ TFLOP per step (2 for the forward and 4 for
#   the backward per parameter and token), on an accelerator that sustains an assumed 100 TFLOP/s:
#   27 ms.
#
# Efficiency is the compute time over the step time: without overlap, step = compute +
# communication; if every bucket's all-reduce could run during the rest of the backward (the
# reason DDP starts buckets from gradient hooks), step = max(compute, communication).

# %%
BANDWIDTH, LATENCY, BUCKET_BYTES = 25e9, 5e-6, 25 * 2**20
mlp_parameters = sum(p.numel() for p in mlp(hidden=256).parameters())
models = {"chapter MLP": (4 * mlp_parameters, compute_seconds), "BERT-base": (4 * 110e6, 6 * 110e6 * 32 * 128 / 100e12)}
table = []
for workers in (8, 64, 512):
    for name, (gradient_bytes, compute) in models.items():
        buckets = int(np.ceil(gradient_bytes / BUCKET_BYTES))
        bandwidth_term = 2 * (workers - 1) / workers * gradient_bytes / BANDWIDTH
        latency_term = buckets * 2 * (workers - 1) * LATENCY
        communication = bandwidth_term + latency_term
        table.append({"workers": workers, "model": name, "buckets": buckets, "compute_ms": 1000 * compute,
                      "bandwidth_ms": 1000 * bandwidth_term, "latency_ms": 1000 * latency_term,
                      "step_ms": 1000 * (compute + communication),
                      "efficiency": compute / (compute + communication),
                      "efficiency_overlapped": compute / max(compute, communication)})
header = (f"{'workers':>7}  {'model':<12}{'buckets':>8}{'compute':>10}{'bandwidth':>11}{'latency':>9}"
          f"{'step':>9}{'efficiency':>12}{'overlapped':>12}")
print(header + "\n" + "-" * len(header))
for row in table:
    print(f"{row['workers']:>7}  {row['model']:<12}{row['buckets']:>8}{row['compute_ms']:>8.2f}ms"
          f"{row['bandwidth_ms']:>9.2f}ms{row['latency_ms']:>7.2f}ms{row['step_ms']:>7.2f}ms"
          f"{row['efficiency']:>11.0%}{row['efficiency_overlapped']:>12.0%}")
(chapter.folder / "projection.json").write_text(json.dumps(table, indent=1), encoding="utf-8")
for name in models:
    chapter.record(f"projected_efficiency {name}", ", ".join(f"{row['workers']}: {row['efficiency']:.0%}"
                                                            for row in table if row["model"] == name))
bert = [row for row in table if row["model"] == "BERT-base"]
chapter.check(bert[0]["bandwidth_ms"] < bert[-1]["bandwidth_ms"] < 2 * 440e6 / BANDWIDTH * 1000 + 1e-9
              and bert[-1]["latency_ms"] > 50 * bert[0]["latency_ms"],
              "the ring's bandwidth term levels off below 2S/β while its latency term grows with N")

# %% [markdown]
# The bandwidth term of BERT-base hardly moves from 8 to 512 workers (it approaches
# $2S/\beta$ = 35 ms), but the latency term, paid 2(N−1) times per bucket, takes over at 512. The
# small MLP is all latency: its 0.34 MB cross a link in 14 µs, while 2·511 messages of 5 µs take
# 5 ms, far more than its compute. The remedies all appear in real systems: larger batches per
# worker (more compute per byte), fewer and larger buckets, gradients in 16 bits, overlap with
# backward, and hierarchical or tree all-reduces whose latency grows with $\log N$.
#
# ## Federated averaging: when the data must stay where it is
#
# The source text names privacy as a trend: data such as phone keyboards or hospital records
# should not leave its owner. **Federated averaging** (FedAvg) trains anyway: each client takes the
# current global weights, runs $k$ steps of SGD on its own data, and sends back only its weights,
# which the server averages (weighted by the clients' data sizes) into the next global weights.
# Two things differ from data parallelism. Communication is rare: once every $k$ local steps instead
# of every step. And the clients' data are not shards of one shuffled data set: each client has
# its own distribution (one writes mostly some digits).
#
# With $k = 1$ and plain SGD, FedAvg *is* data-parallel SGD: the average of
# $w - \eta g_k$ is $w - \eta \bar g$. With $k > 1$ the clients drift apart between averages,
# towards their own data's optimum. We simulate 5 clients on the digits, with IID shards (a
# random fifth each) and non-IID shards (each client holds 2 of 10 label-sorted blocks, so 2 to 4
# digits), and compare, round for round of communication, FedAvg with $k = 10$ against
# data-parallel SGD (one averaged step per round).

# %%
inputs, labels = train_set.tensors[0].double(), train_set.tensors[1]
test_inputs, test_labels = test_set.tensors[0].double(), test_set.tensors[1]
clients = 5
rng = np.random.default_rng(0)
iid_shards = np.array_split(rng.permutation(len(labels)), clients)
blocks = np.array_split(np.argsort(labels.numpy(), kind="stable"), 2 * clients)
pairing = rng.permutation(2 * clients)
non_iid_shards = [np.concatenate([blocks[pairing[2 * c]], blocks[pairing[2 * c + 1]]]) for c in range(clients)]
print("digits per non-IID client:", [sorted(set(labels.numpy()[s].tolist())) for s in non_iid_shards])


def small_mlp():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).double()


def accuracy(net):
    with minidl.no_grad():
        return float((net(test_inputs).argmax(dim=-1) == test_labels).double().mean().item())


def federated_averaging(shards, rounds, local_steps, lr=0.1, batch=20, seed=0):
    """FedAvg of ``len(shards)`` clients; returns (test accuracy after each round, the final global model)."""
    minidl.manual_seed(seed)
    global_model, draws, history = small_mlp(), np.random.default_rng(seed), []
    sizes = np.array([len(s) for s in shards], dtype=float)
    for _ in range(rounds):
        states = []
        for shard in shards:
            client = small_mlp()
            client.load_state_dict(global_model.state_dict())
            client_optimizer = minidl.optim.SGD(client.parameters(), lr=lr)
            for _ in range(local_steps):
                rows = minidl.tensor(draws.choice(shard, batch, replace=False))
                train_step(client, client_optimizer, inputs[rows], labels[rows])
            states.append(client.state_dict())
        global_model.load_state_dict({key: sum(w * s[key].numpy() for w, s in zip(sizes / sizes.sum(), states))
                                      for key in states[0]})
        history.append(accuracy(global_model))
    return history, global_model


def data_parallel_sgd(shards, steps, lr=0.1, batch=20, seed=0):
    """One averaged gradient step per round: every client's gradient on a batch of its data, weighted by the
    client's share of the data (as FedAvg weighs the clients' weights)."""
    minidl.manual_seed(seed)
    net, draws, history = small_mlp(), np.random.default_rng(seed), []
    net_optimizer = minidl.optim.SGD(net.parameters(), lr=lr)
    shares = np.array([len(s) for s in shards], dtype=float) / sum(len(s) for s in shards)
    for _ in range(steps):
        net_optimizer.zero_grad()
        for shard, share in zip(shards, shares):
            rows = minidl.tensor(draws.choice(shard, batch, replace=False))
            (F.cross_entropy(net(inputs[rows]), labels[rows]) * float(share)).backward()
        net_optimizer.step()
        history.append(accuracy(net))
    return history, net


_, fedavg_one = federated_averaging(iid_shards, 3, local_steps=1)
_, parallel_three = data_parallel_sgd(iid_shards, 3)
same = max(float(np.abs(a.numpy() - b.numpy()).max())
           for a, b in zip(fedavg_one.state_dict().values(), parallel_three.state_dict().values()))
chapter.check(same < 1e-12, "FedAvg with one local step per round is data-parallel SGD (3 rounds, float64)")

rounds, local = (15, 10) if QUICK else (40, 10)
curves = {"data-parallel SGD, 1 step per round": data_parallel_sgd(iid_shards, rounds * local)[0],
          "FedAvg k=10, IID clients": federated_averaging(iid_shards, rounds, local)[0],
          "FedAvg k=10, non-IID clients": federated_averaging(non_iid_shards, rounds, local)[0]}
at_rounds = {name: curve[rounds - 1] for name, curve in curves.items()}
for name, value in at_rounds.items():
    chapter.record(f"accuracy_after_{rounds}_rounds: {name}", round(value, 3))
chapter.record(f"accuracy_after_{rounds * local}_rounds: data-parallel SGD",
               round(curves["data-parallel SGD, 1 step per round"][-1], 3))
names = list(curves)
chapter.check(at_rounds[names[1]] > at_rounds[names[0]] + 0.1,
              f"after {rounds} rounds of communication FedAvg (k=10) is well ahead of data-parallel SGD")
chapter.check(at_rounds[names[2]] < at_rounds[names[1]],
              "non-IID clients drift: FedAvg reaches a lower accuracy than with IID clients")

figure = Figure(figsize=(6.5, 3.8))
axes = figure.add_subplot(1, 1, 1)
for name, curve in curves.items():
    axes.plot(np.arange(1, len(curve) + 1), curve, label=name)
axes.set(xscale="log", xlabel="rounds of communication", ylabel="test accuracy", ylim=(0, 1),
         title="5 clients on the digits")
axes.legend(fontsize=8)
figure.tight_layout()
figure.savefig(chapter.figure("federated_averaging.png"), dpi=110)

# %% [markdown]
# Per round of communication FedAvg learns far more than data-parallel SGD, because each round
# carries $k$ steps of local work; data-parallel SGD needs about $k$ times as many rounds to
# catch up. On non-IID clients the local steps pull towards each client's own digits, and the
# average of such drifted models is worse than with IID clients. Data parallelism never has this
# problem, since it averages every step and shuffles one common data set, but it must move the data
# to the workers and talk every step. (Sending weights instead of data is not yet privacy: updates
# can reveal much about the data, which is why secure aggregation and differential privacy are
# added in practice.)
#
# ## Closing note: measured and projected
#
# Measured when this chapter was written, in full mode on an AMD EPYC machine with 2 cores, 2 ranks
# of one thread each, while other processes (test suites) kept the machine busy (load average
# 6.7, so more runnable processes than cores). The 2-process loss curve equalled the 1-process
# curve within 9e-16 over 200 steps, and SyncBatchNorm's run equalled one process within 2e-16
# while per-rank BatchNorm was 7e-3 away. Per step of the wide MLP (medians): one process on the
# global batch of 256, 2.05 ms; DDP on 128 examples per rank, 7.92 ms synced and 1.40 ms under
# `no_sync()`; so 6.5 ms (82 % of the synced step) went to waiting, and a 2-process step was
# slower than the 1-process step (speedup 0.26). The all-reduce itself is not the cause: timed
# alone it fitted $\alpha \approx$ 3.5 µs and $\beta \approx$ 0.9 GB/s, 0.39 ms for the 0.34 MB
# gradient. The rest is the synchronisation: a synced step ends only when both ranks have
# finished their backward, and on an oversubscribed machine one of them is often waiting for a
# core. (A quieter run the same day, load average 3.0, measured 1.91 ms, 2.84 ms and 1.21 ms.)
# This is the cost model's missing term: data parallelism runs at the pace of the slowest worker.
#
# The projection with the stated network (25 GB/s, 5 µs per message), the chapter model's step
# measured above (1.40 ms per worker) and BERT-base at 27 ms of compute:
#
# | workers | model | compute | bandwidth term | latency term | step | efficiency | overlapped |
# |---:|---|---:|---:|---:|---:|---:|---:|
# | 8 | chapter MLP | 1.40 ms | 0.02 ms | 0.07 ms | 1.50 ms | 94 % | 100 % |
# | 8 | BERT-base | 27.0 ms | 30.8 ms | 1.19 ms | 59.0 ms | 46 % | 85 % |
# | 64 | chapter MLP | 1.40 ms | 0.03 ms | 0.63 ms | 2.06 ms | 68 % | 100 % |
# | 64 | BERT-base | 27.0 ms | 34.7 ms | 10.7 ms | 72.4 ms | 37 % | 60 % |
# | 512 | chapter MLP | 1.40 ms | 0.03 ms | 5.11 ms | 6.54 ms | 21 % | 27 % |
# | 512 | BERT-base | 27.0 ms | 35.1 ms | 86.9 ms | 149 ms | 18 % | 22 % |
#
# This run printed its own numbers above; timings on a shared machine move from run to run.

# %%
chapter.finish()
