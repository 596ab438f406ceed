"""Exercises of chapter 09, data-parallel training: shards' gradients, ring all-reduce and its cost."""

from __future__ import annotations

import numpy as np

from minidl.course.exercises.grading import Exercise, compare, expect, parts, random

TITLE = "Data-parallel training"
PREAMBLE = "import numpy as np"


def average_shard_gradients(gradients, sizes):
    """The whole batch's gradient from the gradients of its shards: an array.

    Worker k computed ``gradients[k]``, the gradient of the MEAN loss over its shard of
    ``sizes[k]`` examples (all gradients have one shape). The batch's mean loss is
    L = (1/B) Σₖ nₖ Lₖ with B = Σₖ nₖ, so its gradient is the average of the shards'
    gradients WEIGHTED by shard size: Σₖ nₖ ∇Lₖ / Σₖ nₖ. With equal shards this is the
    plain mean, which is what DDP computes (its sampler makes the shards equal).
    (minidl: ``minidl/nn/parallel/reducer.py``, ``Reducer.finish``.)
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    stacked = np.stack([np.asarray(g, dtype=np.float64) for g in gradients])
    return np.tensordot(sizes, stacked, axes=1) / sizes.sum()


def ring_allreduce(arrays):
    """Simulate ring all-reduce (a sum) on p workers: returns ``(results, messages)``.

    ``arrays`` is a list of p 1-D float arrays of one length n, worker k's values. Cut each
    into p chunks with ``np.array_split(a, p)`` (chunk c of every worker covers the same
    elements). Worker k sends only to worker (k + 1) % p; in one step every worker sends
    one chunk at the same time (copy what is sent before anyone adds it).

    * Reduce-scatter, p − 1 steps: in step s (0, 1, …) worker k sends its chunk
      (k − s) % p and worker k + 1 ADDS it to its own copy of that chunk. Afterwards worker
      k holds the finished sum of chunk (k + 1) % p.
    * All-gather, p − 1 steps: in step s worker k sends chunk (k + 1 − s) % p and worker
      k + 1 REPLACES its copy of that chunk by it.

    ``results`` is a (p, n) array, row k what worker k holds at the end (the sum of all
    arrays, on every worker); ``messages`` is an int array (p,): the chunks each worker
    sent, 2(p − 1). Do not change the input arrays. (minidl: ``dist.all_reduce`` in
    ``minidl/distributed/collectives.py``, ``all_reduce``, leaves this to MPI's Allreduce.)
    """
    p = len(arrays)
    chunks = [[c.astype(np.float64).copy() for c in np.array_split(np.asarray(a), p)] for a in arrays]
    messages = np.zeros(p, dtype=np.int64)
    for phase in ("reduce-scatter", "all-gather"):
        for step in range(p - 1):
            offset = -step if phase == "reduce-scatter" else 1 - step
            sent = [(k, (k + offset) % p, chunks[k][(k + offset) % p].copy()) for k in range(p)]
            for k, c, values in sent:
                messages[k] += 1
                receiver = chunks[(k + 1) % p]
                receiver[c] = receiver[c] + values if phase == "reduce-scatter" else values
    results = np.stack([np.concatenate(worker) for worker in chunks]) if p else np.zeros((0, 0))
    return results, messages


def allreduce_time(nbytes, workers, bandwidth, latency):
    """The time of one ring all-reduce of ``nbytes`` bytes on ``workers`` workers: a float, seconds.

    T = 2 (N − 1)/N · S/β + 2 (N − 1) α, with S = ``nbytes``, N = ``workers``, β =
    ``bandwidth`` (bytes per second per link) and α = ``latency`` (seconds per message):
    2(N − 1) steps, each sending S/N bytes and paying one latency. One worker sends
    nothing: T = 0. (minidl's DDP packs gradients into buckets,
    ``minidl/nn/parallel/reducer.py``, ``build_buckets``, so the latency term is paid once
    per bucket, not once per parameter.)
    """
    n = workers
    return 2 * (n - 1) / n * nbytes / bandwidth + 2 * (n - 1) * latency


# ---------------------------------------------------------------- grading

def _mse_gradient(x, y, w):
    """The gradient of the mean squared error (1/m) Σ (x w − y)² of a linear model, w.r.t. w."""
    return 2 * x.T @ (x @ w - y) / len(x)


def _grade_average_shard_gradients(answer):
    hint = "weight each shard's gradient by its number of examples, then divide by the batch size Σ nₖ"
    x, y, w = random(0, 24, 3), random(1, 24), random(2, 3)
    full = _mse_gradient(x, y, w)
    for label, sizes in [("equal shards", [6, 6, 6, 6]), ("shards of different sizes", [2, 10, 5, 7]),
                         ("one shard", [24]), ("shards of 1 and 23", [1, 23])]:
        edges = np.cumsum([0] + sizes)
        gradients = [_mse_gradient(x[a:b], y[a:b], w) for a, b in zip(edges[:-1], edges[1:])]
        compare(answer([g.copy() for g in gradients], list(sizes)), full,
                f"the averaged gradient, {label} {sizes} (the full batch's MSE gradient)", hint)


def _grade_ring_allreduce(answer):
    hint = ("after the p − 1 reduce-scatter steps each worker holds ONE finished chunk; the p − 1 all-gather "
            "steps then pass the finished chunks around so that every worker holds every chunk")
    for p, n in [(2, 4), (3, 7), (4, 8), (5, 3), (1, 5)]:
        arrays = [random(10 * p + k, n) for k in range(p)]
        kept = [a.copy() for a in arrays]
        results, messages = parts(answer(arrays), 2, f"ring_allreduce of {p} workers", hint)
        compare(results, np.tile(np.sum(kept, axis=0), (p, 1)),
                f"what each worker holds (row = worker) after ring all-reduce of {p} workers, n={n}", hint)
        for k in range(p):
            compare(arrays[k], kept[k], f"worker {k}'s input array after the call", "copy the chunks before "
                    "adding to them: the input arrays must stay as they were")
        compare(np.asarray(messages).astype(np.int64), np.full(p, 2 * (p - 1), dtype=np.int64),
                f"the messages each worker sent, {p} workers", "every worker sends one chunk per step: p − 1 "
                "steps of reduce-scatter, then p − 1 of all-gather")


def _grade_allreduce_time(answer):
    cases = [(4e6, 2, 1e9, 5e-6), (4e6, 8, 25e9, 5e-6), (440e6, 512, 25e9, 5e-6), (340e3, 512, 25e9, 5e-6),
             (64, 16, 1e9, 3.5e-6), (1e6, 1, 1e9, 1e-5)]
    for case, (nbytes, n, beta, alpha) in enumerate(cases):
        expected = allreduce_time(nbytes, n, beta, alpha)
        got = answer(nbytes, n, beta, alpha)
        good = isinstance(got, (int, float, np.integer, np.floating)) and np.isclose(got, expected, rtol=1e-9,
                                                                                      atol=1e-15)
        expect(good, f"allreduce_time(nbytes={nbytes:g}, workers={n}, bandwidth={beta:g}, latency={alpha:g})",
               expected, got if isinstance(got, (int, float, np.integer, np.floating)) else repr(got),
               "two terms: 2(N−1)/N · S/β (each of the 2(N−1) steps sends S/N bytes) plus 2(N−1) · α "
               "(one latency per step); 1 worker costs 0", element=(case,))


EXERCISES = [
    Exercise(average_shard_gradients, _grade_average_shard_gradients,
             "np.stack the gradients, multiply by the sizes and sum over the first axis, divide by the total"),
    Exercise(ring_allreduce, _grade_ring_allreduce,
             "keep a list of p chunks per worker; in each step collect what every worker sends, then apply it"),
    Exercise(allreduce_time, _grade_allreduce_time, "return a float: bandwidth term plus latency term"),
]
