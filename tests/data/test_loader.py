"""Dataset, TensorDataset, Subset, random_split, DataLoader and default_collate."""

from collections import namedtuple

import numpy as np
import pytest

import minidl
from minidl.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split
from minidl.io import load, save


class Squares(Dataset):
    """A dataset that is not a TensorDataset: sample i is (i as float array, i*i)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        if not 0 <= index < self.n:
            raise IndexError(index)
        return np.full(2, index, dtype=np.float32), index * index

    def __len__(self):
        return self.n


def _values(batch):
    return [t.numpy() for t in batch]


def _epoch(loader):
    return [_values(batch) for batch in loader]


# --- datasets -------------------------------------------------------------------------------

def test_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_tensor_dataset_accepts_tensors_and_arrays():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    dataset = TensorDataset(x, minidl.arange(6))
    assert len(dataset) == 6
    features, label = dataset[4]
    assert isinstance(features, minidl.Tensor) and features.numpy().tolist() == [8.0, 9.0]
    assert label.item() == 4
    assert np.shares_memory(dataset.tensors[0].numpy(), x)


def test_tensor_dataset_checks_first_dims():
    with pytest.raises(ValueError, match=r"same size in dim 0.*\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="0-dimensional"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_maps_indices():
    subset = Subset(Squares(10), [7, 2])
    assert len(subset) == 2
    assert subset[0][1] == 49 and subset[1][1] == 4
    assert [item[1] for item in subset[[1, 0]]] == [4, 49]


def test_random_split_with_counts_is_a_seeded_partition():
    parts = random_split(Squares(10), [3, 7], generator_seed=5)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(Squares(10), [3, 7], generator_seed=5)
    assert [p.indices for p in again] == [p.indices for p in parts]
    assert random_split(Squares(10), [3, 7], generator_seed=6)[0].indices != parts[0].indices


def test_random_split_with_fractions_deals_out_the_remainder_like_pytorch():
    # floor(0.3*11)=3, floor(0.3*11)=3, floor(0.4*11)=4, one left over -> the first part
    assert [len(p) for p in random_split(Squares(11), [0.3, 0.3, 0.4], generator_seed=0)] == [4, 3, 4]
    assert [len(p) for p in random_split(Squares(10), [0.8, 0.2], generator_seed=0)] == [8, 2]


def test_random_split_without_seed_follows_manual_seed():
    minidl.manual_seed(3)
    first = random_split(Squares(20), [10, 10])[0].indices
    minidl.manual_seed(3)
    assert random_split(Squares(20), [10, 10])[0].indices == first


def test_random_split_rejects_bad_lengths():
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(Squares(10), [4, 5])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(Squares(10), [0.5, 2])


# --- collate ---------------------------------------------------------------------------------

def test_collate_numbers_follow_tensor_rules():
    assert default_collate([1.5, 2.0]).dtype == np.float32
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float64


def test_collate_stacks_arrays_and_tensors():
    arrays = default_collate([np.ones((2, 3), np.float64), np.zeros((2, 3), np.float64)])
    assert isinstance(arrays, minidl.Tensor) and arrays.shape == (2, 2, 3) and arrays.dtype == np.float64
    tensors = default_collate([minidl.ones(3), minidl.zeros(3)])
    assert tensors.shape == (2, 3) and tensors.numpy()[0].tolist() == [1, 1, 1]


def test_collate_recurses_like_pytorch():
    Pair = namedtuple("Pair", "image label")
    batch = default_collate([{"x": (np.ones(2), 1), "name": "a"}, {"x": (np.zeros(2), 0), "name": "b"}])
    assert batch["name"] == ["a", "b"]
    assert isinstance(batch["x"], list) and batch["x"][0].shape == (2, 2) and batch["x"][1].tolist() == [1, 0]
    pairs = default_collate([Pair(np.ones(1), 3), Pair(np.ones(1), 4)])
    assert isinstance(pairs, Pair) and pairs.label.tolist() == [3, 4]


def test_collate_errors_are_clear():
    with pytest.raises(ValueError, match="same shape"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="dtype object"):
        default_collate([np.array([None]), np.array([None])])


# --- DataLoader ------------------------------------------------------------------------------

def test_loader_batches_in_order():
    loader = DataLoader(Squares(5), batch_size=2)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert batches[0][1].tolist() == [0, 1] and batches[2][1].tolist() == [16]
    assert batches[0][0].shape == (2, 2) and batches[0][0].dtype == np.float32


def test_loader_drop_last():
    loader = DataLoader(Squares(5), batch_size=2, drop_last=True)
    assert len(loader) == 2 and [b[1].tolist() for b in loader] == [[0, 1], [4, 9]]
    assert len(DataLoader(Squares(4), batch_size=2)) == 2


def test_loader_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(5), batch_size=0)


def test_shuffle_differs_per_epoch_and_a_seed_reproduces_the_run():
    loader = DataLoader(Squares(12), batch_size=4, shuffle=True, seed=1)
    run = [_epoch(loader) for _ in range(3)]
    assert loader.epoch == 3
    orders = [np.concatenate([b[1] for b in epoch]).tolist() for epoch in run]
    assert all(sorted(order) == [i * i for i in range(12)] for order in orders)
    assert orders[0] != orders[1]
    again = DataLoader(Squares(12), batch_size=4, shuffle=True, seed=1)
    assert [np.concatenate([b[1] for b in _epoch(again)]).tolist() for _ in range(3)] == orders


def test_shuffle_without_seed_follows_manual_seed():
    minidl.manual_seed(7)
    first = [b[1].tolist() for b in DataLoader(Squares(8), batch_size=8, shuffle=True)]
    minidl.manual_seed(7)
    assert [b[1].tolist() for b in DataLoader(Squares(8), batch_size=8, shuffle=True)] == first


def test_tensor_dataset_fast_path_matches_per_item_path():
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    y = np.arange(10)
    fast = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=2)
    slow = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=2,
                      collate_fn=lambda samples: default_collate(samples))  # not the default: per item
    for fast_batch, slow_batch in zip(fast, slow):
        assert isinstance(fast_batch, list) and len(fast_batch) == 2
        for a, b in zip(fast_batch, slow_batch):
            assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())


def test_fast_path_does_not_index_items_one_by_one(monkeypatch):
    dataset = TensorDataset(np.arange(6.0), np.arange(6))
    calls = []
    original = minidl.Tensor.__getitem__
    monkeypatch.setattr(minidl.Tensor, "__getitem__", lambda self, i: calls.append(i) or original(self, i))
    batches = list(DataLoader(dataset, batch_size=3))
    assert calls == [] and batches[1][0].tolist() == [3.0, 4.0, 5.0]


def test_fast_path_through_random_split_subsets():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    train, _ = random_split(TensorDataset(x, np.arange(10)), [0.7, 0.3], generator_seed=0)
    batches = list(DataLoader(train, batch_size=7))
    assert batches[0][1].tolist() == train.indices
    assert np.array_equal(batches[0][0].numpy(), x[train.indices])


def test_fast_path_on_the_strict_device():
    dataset = TensorDataset(minidl.arange(6).to("strict"), minidl.arange(6.0).to("strict"))
    batch = next(iter(DataLoader(dataset, batch_size=4, shuffle=True, seed=0)))
    assert batch[0].device == "strict" and batch[0].shape == (4,)
    assert batch[0].cpu().numpy().astype(float).tolist() == batch[1].cpu().numpy().tolist()


def test_state_dict_resumes_exactly_at_an_epoch_boundary():
    def make():
        return DataLoader(TensorDataset(np.arange(9)), batch_size=2, shuffle=True, seed=11)

    reference = make()
    full_run = [_epoch(reference) for _ in range(4)]
    first = make()
    _epoch(first), _epoch(first)
    state = first.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    assert resumed.epoch == 2
    rest = [_epoch(resumed) for _ in range(2)]
    assert [[b[0].tolist() for b in e] for e in rest] == [[b[0].tolist() for b in e] for e in full_run[2:]]


def test_state_dict_survives_a_checkpoint(tmp_path):
    loader = DataLoader(Squares(6), batch_size=3, shuffle=True, seed=4)
    _epoch(loader)
    save({"loader": loader.state_dict()}, tmp_path / "ckpt.npz")
    expected = [b[1].tolist() for b in loader]
    resumed = DataLoader(Squares(6), batch_size=3, shuffle=True, seed=99)
    resumed.load_state_dict(load(tmp_path / "ckpt.npz")["loader"])
    assert [b[1].tolist() for b in resumed] == expected


def test_load_state_dict_names_missing_keys():
    with pytest.raises(KeyError, match="rng_state"):
        DataLoader(Squares(3)).load_state_dict({"epoch": 1})
