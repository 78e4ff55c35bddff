"""Dataset, TensorDataset, samplers, collation and DataLoader, checked against PyTorch's rules.

The device-aware tests run on the ``device`` fixture (cpu, or cuda with TG_TEST_DEVICE=cuda).
"""
from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import backend
from tinygrad_mnist.utils.data import (BatchSampler, DataLoader, Dataset, RandomSampler,
                                       SequentialSampler, Subset, SubsetRandomSampler,
                                       TensorDataset, default_collate, random_split)

torch = pytest.importorskip("torch")


def host(t):
    """A tensor's values as a NumPy array (test-side only)."""
    return backend.to_numpy(t.array)


def numbered(n, device="cpu"):
    """A TensorDataset whose sample i is (x[i] = [i, i], y[i] = 10 * i)."""
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], 2, axis=1)
    y = np.arange(n, dtype=np.int64) * 10
    return TensorDataset(tg.tensor(x, device=device), tg.tensor(y, device=device))


class Pairs(Dataset):
    """A generic (non-Tensor) dataset: sample i is (float32 array [i, i], int 10 * i)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), 10 * i

    def __len__(self):
        return self.n


def epoch_indices(loader):
    """The sample indices of one epoch, in order, from a numbered dataset's batches."""
    out = []
    for x, y in loader:
        xs, ys = host(x), host(y)
        assert (xs[:, 0] == xs[:, 1]).all() and (ys == 10 * xs[:, 0]).all()  # rows stay paired
        out.extend(xs[:, 0].astype(int).tolist())
    return out


# ------------------------------------------------------------------------------ TensorDataset

def test_tensor_dataset_indexing_and_len():
    ds = numbered(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert host(x).tolist() == [3, 3] and int(host(y)) == 30


def test_tensor_dataset_size_mismatch_names_the_sizes():
    with pytest.raises(ValueError, match=r"Size mismatch.*sizes \[5, 4\].*\(5, 2\), \(4,\)"):
        TensorDataset(tg.zeros(5, 2), tg.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is a ndarray, not a Tensor"):
        TensorDataset(tg.zeros(3), np.zeros(3))


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError, match="Dataset must implement __getitem__"):
        Dataset()[0]


# ------------------------------------------------------------------------------- DataLoader

@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_every_sample_once_per_epoch(n, batch_size, drop_last, shuffle, seed):
    loader = DataLoader(numbered(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        generator=tg.Generator().manual_seed(seed))
    expected_batches = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == expected_batches
    assert len(loader) == len(torch.utils.data.DataLoader(range(n), batch_size=batch_size,
                                                          shuffle=shuffle, drop_last=drop_last))
    for _ in range(2):  # two epochs
        sizes = [len(x) for x, _ in loader]
        assert len(sizes) == len(loader)
        last = n % batch_size
        if drop_last or last == 0:
            assert sizes == [batch_size] * (n // batch_size)
        else:
            assert sizes == [batch_size] * (n // batch_size) + [last]
        order = epoch_indices(loader)
        assert len(set(order)) == len(order)  # no sample twice
        if not drop_last:
            assert sorted(order) == list(range(n))  # every sample exactly once
        else:
            assert len(order) == (n // batch_size) * batch_size
        if not shuffle:
            assert order == list(range(len(order)))


@given(n=st.integers(1, 40), batch_size=st.integers(1, 45), drop_last=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_tensor_fast_path_equals_generic_collation(n, batch_size, drop_last, seed):
    """A TensorDataset's gathered batches equal sample-by-sample default_collate batches."""
    fast = DataLoader(numbered(n), batch_size, shuffle=True, drop_last=drop_last,
                      generator=tg.Generator().manual_seed(seed))
    slow = DataLoader(Pairs(n), batch_size, shuffle=True, drop_last=drop_last,
                      generator=tg.Generator().manual_seed(seed))
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.dtype == xs.dtype == tg.float32 and yf.dtype == ys.dtype == tg.int64
        np.testing.assert_array_equal(host(xf), host(xs))
        np.testing.assert_array_equal(host(yf), host(ys))


def test_unshuffled_batches_equal_torch():
    x = np.random.default_rng(0).standard_normal((23, 3)).astype(np.float32)
    y = np.arange(23)
    ours = DataLoader(TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=5)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=5)
    for (xo, yo), (xt, yt) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(host(xo), xt.numpy())
        np.testing.assert_array_equal(host(yo), yt.numpy())


def test_global_seed_makes_the_order_reproducible():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True)
    tg.manual_seed(1234)
    first, second = epoch_indices(loader), epoch_indices(loader)
    tg.manual_seed(1234)
    assert epoch_indices(loader) == first and epoch_indices(loader) == second
    assert first != second  # a fresh permutation each epoch
    assert first != list(range(50)) and sorted(first) == list(range(50))
    tg.manual_seed(4321)
    assert epoch_indices(loader) != first


def test_own_generator_is_reproducible_and_leaves_the_global_rng_alone():
    orders = []
    for _ in range(2):
        loader = DataLoader(numbered(30), batch_size=4, shuffle=True,
                            generator=tg.Generator().manual_seed(7))
        orders.append([epoch_indices(loader), epoch_indices(loader)])
    assert orders[0] == orders[1] and orders[0][0] != orders[0][1]
    tg.manual_seed(99)
    expected = backend.default_generator.numpy_rng.random()
    tg.manual_seed(99)
    list(DataLoader(numbered(30), batch_size=4, shuffle=True,
                    generator=tg.Generator().manual_seed(7)))
    assert backend.default_generator.numpy_rng.random() == expected


def test_tensor_batch_is_one_fancy_index_per_tensor():
    class CountingArray(np.ndarray):
        """Counts indexing operations (a batch must be one, not one per sample)."""
        calls = 0

        def __getitem__(self, index):
            CountingArray.calls += 1
            return np.asarray(self).__getitem__(index)

    x = np.arange(100, dtype=np.float32).reshape(50, 2).view(CountingArray)
    loader = DataLoader(TensorDataset(tg.Tensor(x)), batch_size=8, shuffle=True)
    batches = list(loader)
    assert CountingArray.calls == len(loader) == 7
    assert sum(len(b) for (b,) in batches) == 50


def test_batches_live_on_the_datasets_device(device):
    ds = numbered(20, device=device)
    loader = DataLoader(ds, batch_size=6, shuffle=True, generator=tg.Generator().manual_seed(0))
    batches = list(loader)
    assert all(str(x.device) == device and str(y.device) == device for x, y in batches)
    cpu = DataLoader(numbered(20), batch_size=6, shuffle=True,
                     generator=tg.Generator().manual_seed(0))
    for (xd, yd), (xc, yc) in zip(batches, cpu, strict=True):  # same seed, same batches
        np.testing.assert_array_equal(host(xd), host(xc))
        np.testing.assert_array_equal(host(yd), host(yc))


def test_custom_sampler_and_batch_sampler():
    ds = numbered(10)
    loader = DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4, 1])
    assert len(loader) == 2 and epoch_indices(loader) == [9, 0, 4, 4, 1]
    loader = DataLoader(ds, batch_sampler=[[1, 2], [7], [3, 3, 3]])
    assert len(loader) == 3 and [len(x) for x, _ in loader] == [2, 1, 3]
    assert epoch_indices(loader) == [1, 2, 7, 3, 3, 3]
    loader = DataLoader(ds, batch_size=4, sampler=SubsetRandomSampler([2, 5, 8]))
    assert sorted(epoch_indices(loader)) == [2, 5, 8]


def test_batch_size_none_yields_single_samples():
    loader = DataLoader(Pairs(3), batch_size=None)
    samples = list(loader)
    assert len(loader) == 3 and len(samples) == 3
    x, y = samples[2]
    assert isinstance(x, tg.Tensor) and host(x).tolist() == [2, 2] and y == 20


def test_tensor_dataset_subclass_with_its_own_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    (x, y), = DataLoader(Doubled(*numbered(4).tensors), batch_size=4)
    assert host(x)[:, 0].tolist() == [0, 2, 4, 6] and host(y).tolist() == [0, 10, 20, 30]


def test_mnist_through_the_loader(mnist_root):
    from tinygrad_mnist import transforms
    from tinygrad_mnist.datasets import MNIST
    test = MNIST(mnist_root, train=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]))
    loader = DataLoader(test, batch_size=1000, shuffle=True)
    assert len(loader) == 10
    x, y = next(iter(loader))
    assert x.shape == (1000, 1, 28, 28) and x.dtype == tg.float32
    assert y.shape == (1000,) and y.dtype == tg.int64
    loader = DataLoader(TensorDataset(test.data, test.targets), batch_size=4096, drop_last=True)
    assert len(loader) == 2 and [tuple(x.shape) for x, _ in loader] == [(4096, 28, 28)] * 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(batch_size=-2), "batch_size=-2"),
    (dict(batch_size=2.0), "batch_size=2.0"),
    (dict(drop_last=1), "drop_last should be a boolean value"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
])
def test_loader_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataLoader(numbered(4), **kwargs)


def test_ignored_multiprocessing_arguments_are_accepted():
    loader = DataLoader(numbered(4), batch_size=2, num_workers=1, pin_memory=True)
    assert len(list(loader)) == 2


# ------------------------------------------------------------------------------- collation

def test_default_collate_types_match_torch():
    Point = collections.namedtuple("Point", "x y")
    ours = default_collate([
        {"img": tg.tensor([[1.0, 2.0]]), "label": 3, "w": 0.5, "name": "a", "p": Point(1, 2.5),
         "pair": (np.array([1, 2], np.int32), True)},
        {"img": tg.tensor([[3.0, 4.0]]), "label": 4, "w": 1.5, "name": "b", "p": Point(3, 4.5),
         "pair": (np.array([3, 4], np.int32), False)},
    ])
    theirs = torch.utils.data.default_collate([
        {"img": torch.tensor([[1.0, 2.0]]), "label": 3, "w": 0.5, "name": "a",
         "p": Point(1, 2.5), "pair": (np.array([1, 2], np.int32), True)},
        {"img": torch.tensor([[3.0, 4.0]]), "label": 4, "w": 1.5, "name": "b",
         "p": Point(3, 4.5), "pair": (np.array([3, 4], np.int32), False)},
    ])
    assert ours.keys() == theirs.keys()
    for key in ("img", "label", "w"):
        assert str(ours[key].dtype).split(".")[-1] == str(theirs[key].dtype).split(".")[-1]
        np.testing.assert_array_equal(host(ours[key]), theirs[key].numpy())
    assert ours["name"] == theirs["name"] == ["a", "b"]
    assert type(ours["p"]) is Point and host(ours["p"].y).tolist() == [2.5, 4.5]
    assert type(ours["pair"]) is type(theirs["pair"]) is list  # PyTorch turns tuples into lists
    assert ours["pair"][0].shape == (2, 2) and ours["pair"][0].dtype == tg.int32
    assert host(ours["pair"][1]).tolist() == theirs["pair"][1].tolist() == [True, False]


def test_default_collate_shape_mismatch_is_torchs_error():
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at "
                                           r"entry 1"):
        default_collate([tg.zeros(2), tg.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([(1, 2), (1,)])


# ------------------------------------------------------------------------ samplers and splits

@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (4, 5, False),
                                                      (4, 5, True), (6, 2, True)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = list(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last))
    theirs = list(torch.utils.data.BatchSampler(
        torch.utils.data.SequentialSampler(range(n)), batch_size, drop_last))
    assert ours == theirs
    assert len(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)) == len(theirs)
    assert list(BatchSampler(list(range(n)), batch_size, drop_last)) == theirs  # plain iterable


def test_random_sampler_variants():
    gen = tg.Generator().manual_seed(0)
    drawn = list(RandomSampler(range(5), replacement=True, num_samples=200, generator=gen))
    assert len(drawn) == 200 and set(drawn) == set(range(5))
    more = list(RandomSampler(range(5), num_samples=12, generator=gen))
    counts = np.bincount(more, minlength=5)
    assert len(more) == 12 and counts.min() >= 2 and counts.max() <= 3
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(0))


def test_random_split_lengths_and_fractions():
    ds = numbered(10)
    a, b = random_split(ds, [7, 3], generator=tg.Generator().manual_seed(0))
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    parts = random_split(range(10), [0.5, 0.3, 0.2], generator=tg.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(ValueError, match=r"Sum of input lengths \[5, 4\] \(9\) does not equal"):
        random_split(ds, [5, 4])
    x, _ = DataLoader(a, batch_size=7).__iter__().__next__()
    assert sorted(host(x)[:, 0].astype(int).tolist()) == sorted(a.indices)
