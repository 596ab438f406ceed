"""Run on 2 ranks by test_multi_process.py (``mpiexec -n 2 python mpi_checks.py OUT.json``): each check
computes its numbers on every rank; rank 0 writes them all to OUT.json for the test to assert on.

Every reference is one process training on the concatenation of the ranks' batches, computed on each
rank from the whole data set (float64)."""

import json
import sys

import numpy as np

import minidl
import minidl.distributed as dist
from minidl import nn
from minidl.core.errors import ShapeError
from minidl.data import DataLoader, DistributedSampler, TensorDataset
from minidl.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend="mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
assert WORLD == 2, WORLD
results = {"world_size": WORLD}
rng = np.random.default_rng(0)
X, Y = rng.normal(size=(160, 6)), rng.integers(0, 3, size=160)


def mlp(batch_norm=False):
    layers = [nn.Linear(6, 16)] + ([nn.BatchNorm1d(16)] if batch_norm else []) + [nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers).double()


def gathered(array):
    """Every rank's copy of ``array`` (same shape on every rank), as a list."""
    parts = [minidl.zeros(*array.shape, dtype=minidl.float64) for _ in range(WORLD)]
    dist.all_gather(parts, minidl.tensor(np.asarray(array, dtype=np.float64)))
    return [p.numpy() for p in parts]


def largest_difference(model_a, model_b):
    a, b = model_a.state_dict(), model_b.state_dict()
    return max(float(np.abs(a[k].numpy().astype(float) - b[k].numpy().astype(float)).max()) for k in b)


# --- collectives -------------------------------------------------------------------------------
value = minidl.tensor([1.0 + RANK, -2.0 * RANK, 3.0])
totals = {}
for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN, dist.ReduceOp.PRODUCT):
    t = value.clone()
    assert dist.all_reduce(t, op=op) is None
    totals[op.name] = t.tolist()
results["all_reduce"] = totals
flags = minidl.tensor([RANK == 0, False, True])
dist.all_reduce(flags, op=dist.ReduceOp.MAX)
results["all_reduce_bool_max"] = flags.tolist()
half = minidl.tensor([0.5 + RANK], dtype=minidl.float16)
dist.all_reduce(half)
results["all_reduce_float16"] = [half.dtype == minidl.float16, half.tolist()]
counts = minidl.tensor([RANK + 1, 10])
dist.all_reduce(counts)
results["all_reduce_int64"] = counts.tolist()
source = minidl.tensor([[float(RANK)] * 2] * 2)
dist.broadcast(source, src=1)
results["broadcast_from_1"] = source.tolist()
parts = [minidl.zeros(2) for _ in range(WORLD)]
dist.all_gather(parts, minidl.tensor([RANK, RANK + 10.0]))
results["all_gather"] = [p.tolist() for p in parts]
try:
    dist.all_reduce(minidl.zeros(3 if RANK == 0 else 4))
    results["mismatch_message"] = None
except ShapeError as error:
    results["mismatch_message"] = str(error)
dist.barrier()

# --- DDP: rank 0's initial weights on every rank ----------------------------------------------
minidl.manual_seed(100 + RANK)  # a different initialisation on each rank
model = mlp()
own = {k: v.numpy().copy() for k, v in model.state_dict().items()}
ddp = DDP(model)
first = gathered(model[0].weight.detach().numpy())
results["broadcast_weights_equal"] = bool(np.array_equal(first[0], first[1]))
changed = gathered(np.array([float(not np.array_equal(own["0.weight"], model[0].weight.detach().numpy()))]))
results["weights_changed_by_rank"] = [bool(c[0]) for c in changed]
results["state_dict_keys"] = list(ddp.state_dict())

# --- DDP for 20 steps equals one process on the concatenated batch -----------------------------
minidl.manual_seed(7)
reference = mlp()
reference.load_state_dict(model.state_dict())
data = TensorDataset(minidl.tensor(X), minidl.tensor(Y))
samplers = [DistributedSampler(data, num_replicas=WORLD, rank=r, shuffle=True, seed=3) for r in range(WORLD)]
loaders = [DataLoader(data, batch_size=8, sampler=s) for s in samplers]
optimizer = minidl.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
reference_optimizer = minidl.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
losses, reference_losses = [], []


def two_epochs():
    """The ranks' batches, step by step (10 steps per epoch), reshuffled for the second epoch."""
    for epoch in range(2):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        yield from zip(*loaders)


for batches in two_epochs():
    x, y = batches[RANK]
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(ddp(x), y)
    loss.backward()
    optimizer.step()
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss, op=dist.ReduceOp.AVG)
    losses.append(mean_loss.item())
    reference_optimizer.zero_grad()
    whole_x = minidl.cat([b[0] for b in batches])
    whole_y = minidl.cat([b[1] for b in batches])
    reference_loss = nn.functional.cross_entropy(reference(whole_x), whole_y)
    reference_loss.backward()
    reference_optimizer.step()
    reference_losses.append(reference_loss.item())
results["ddp_steps"] = len(losses)
results["ddp_vs_single_weights"] = largest_difference(model, reference)
results["ddp_vs_single_losses"] = float(np.abs(np.subtract(losses, reference_losses)).max())
final = gathered(model[2].weight.detach().numpy())
results["ranks_agree_after_training"] = float(np.abs(final[0] - final[1]).max())

# --- no_sync: two accumulated half-batches equal one larger batch ------------------------------
batch = slice(0, 32)
x_all, y_all = minidl.tensor(X[batch]), minidl.tensor(Y[batch])
mine = slice(RANK * 16, RANK * 16 + 16)
x_mine, y_mine = x_all[mine], y_all[mine]
ddp.zero_grad()
with ddp.no_sync():
    (nn.functional.cross_entropy(ddp(x_mine[:8]), y_mine[:8]) / 2).backward()
local_only = gathered(model[0].weight.grad.numpy())
(nn.functional.cross_entropy(ddp(x_mine[8:]), y_mine[8:]) / 2).backward()
accumulated = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
reference.load_state_dict(model.state_dict())
reference.zero_grad()
nn.functional.cross_entropy(reference(x_all), y_all).backward()
results["no_sync_vs_large_batch"] = max(float(np.abs(accumulated[n] - p.grad.numpy()).max())
                                        for n, p in reference.named_parameters())
results["no_sync_left_ranks_apart"] = float(np.abs(local_only[0] - local_only[1]).max())

# --- SyncBatchNorm: equals BatchNorm on the concatenated batch; plain BatchNorm does not ----------
for sync in (True, False):
    minidl.manual_seed(11)
    network = mlp(batch_norm=True)
    single = mlp(batch_norm=True)
    single.load_state_dict(network.state_dict())
    if sync:
        network = nn.SyncBatchNorm.convert_sync_batchnorm(network)
    wrapped = DDP(network)
    opt = minidl.optim.SGD(wrapped.parameters(), lr=0.1)
    single_opt = minidl.optim.SGD(single.parameters(), lr=0.1)
    for step in range(5):
        rows = slice(step * 32, step * 32 + 32)
        x_all, y_all = minidl.tensor(X[rows]), minidl.tensor(Y[rows])
        opt.zero_grad()
        nn.functional.cross_entropy(wrapped(x_all[mine]), y_all[mine]).backward()
        opt.step()
        single_opt.zero_grad()
        nn.functional.cross_entropy(single(x_all), y_all).backward()
        single_opt.step()
    results[f"{'sync' if sync else 'plain'}_batchnorm_vs_single"] = largest_difference(network, single)

# --- the sampler's shards ---------------------------------------------------------------------
for length in (10, 11):
    sampler = DistributedSampler(range(length), shuffle=True, seed=5)
    sampler.set_epoch(2)
    shard = list(sampler)
    shards = gathered(np.array(shard + [-1] * (6 - len(shard)), dtype=float))
    results[f"sampler_shards_{length}"] = [[int(i) for i in s if i >= 0] for s in shards]

# --- models that differ, parameters without gradients -----------------------------------------
try:
    DDP(nn.Linear(4, 3 if RANK == 0 else 5).double())
    results["model_mismatch_message"] = None
except ValueError as error:
    results["model_mismatch_message"] = str(error)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head, self.spare = nn.Linear(6, 4), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.body(x))


minidl.manual_seed(1)
heads = DDP(TwoHeads().double(), find_unused_parameters=True)
heads(minidl.tensor(X[:4])).sum().backward()
results["unused_found_grads_equal"] = float(np.abs(np.subtract(*gathered(heads.module.body.weight.grad.numpy()))).max())
strict = DDP(TwoHeads().double())
strict(minidl.tensor(X[:4])).sum().backward()
try:
    strict(minidl.tensor(X[:4]))
    results["unused_message"] = None
except RuntimeError as error:
    results["unused_message"] = str(error)

if RANK == 0:
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(results, out, indent=1)
dist.destroy_process_group()
