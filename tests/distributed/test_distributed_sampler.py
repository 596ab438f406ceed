"""DistributedSampler against PyTorch's, index for index: without shuffling the shards are equal; with
shuffling both shard the same permutation the same way (minidl draws its own permutation)."""

import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.distributed as dist
from minidl.data import DataLoader, DistributedSampler, TensorDataset
from minidl.utils.data import DistributedSampler as FromUtils

torch = pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
from torch.utils.data import DistributedSampler as TorchSampler  # noqa: E402

CASES = [(length, replicas, drop_last) for length in (0, 1, 5, 10, 11, 13) for replicas in (1, 2, 3, 4, 7)
         for drop_last in (False, True)]


@pytest.mark.parametrize("length,replicas,drop_last", CASES)
def test_shards_and_lengths_equal_pytorchs(length, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(length), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(length), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size
        shuffled = DistributedSampler(range(length), num_replicas=replicas, rank=rank, seed=4, drop_last=drop_last)
        shuffled.set_epoch(3)
        permutation = minidl.Generator().manual_seed(4 + 3).numpy.permutation(length)
        assert list(shuffled) == [int(permutation[i]) for i in theirs]


@settings(max_examples=30, deadline=None)
@given(length=st.integers(1, 60), replicas=st.integers(1, 8), seed=st.integers(0, 1000), epoch=st.integers(0, 5))
def test_shards_are_disjoint_cover_the_data_and_agree_across_ranks(length, replicas, seed, epoch):
    shards = []
    for rank in range(replicas):
        sampler = DistributedSampler(range(length), num_replicas=replicas, rank=rank, seed=seed)
        sampler.set_epoch(epoch)
        shards.append(list(sampler))
    assert {len(s) for s in shards} == {-(-length // replicas)}
    everything = [i for s in shards for i in s]
    assert set(everything) == set(range(length))
    assert len(everything) - length == (-length) % replicas  # only the padding repeats
    dropped = [list(DistributedSampler(range(length), replicas, rank, seed=seed, drop_last=True))
               for rank in range(replicas)]
    flat = [i for s in dropped for i in s]
    assert len(flat) == len(set(flat)) == (length // replicas) * replicas


def test_set_epoch_reshuffles_and_the_same_epoch_repeats():
    sampler = DistributedSampler(range(50), num_replicas=2, rank=0)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_bad_arguments_are_named_as_in_pytorch():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be at least 1, got 0"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="rank must be an int, got 0.5"):
        DistributedSampler(range(4), num_replicas=2, rank=0.5)
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))


def test_the_process_group_gives_the_defaults_and_a_loader_uses_it():
    assert FromUtils is DistributedSampler
    dist.init_process_group("mpi")
    try:
        sampler = DistributedSampler(TensorDataset(minidl.arange(10)), shuffle=False)
    finally:
        dist.destroy_process_group()
    assert (sampler.num_replicas, sampler.rank) == (1, 0)
    loader = DataLoader(sampler.dataset, batch_size=4, sampler=sampler)
    assert [batch[0].tolist() for batch in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
