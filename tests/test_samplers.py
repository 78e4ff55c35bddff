"""random_split, Subset, ConcatDataset, the samplers and the DataLoader's options, held against
torch.utils.data on the same inputs: identical batches where there is no randomness, and where
there is (the two engines draw from different generators) the facts that do not depend on the
draw: which indices, how many, batch shapes and lengths.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_mnist as tg
from tinygrad_mnist import backend
from tinygrad_mnist.utils import data as ours

torch = pytest.importorskip("torch")
theirs = torch.utils.data


def as_lists(batch):
    """A collated batch (ours or torch's), as nested Python lists."""
    if isinstance(batch, (list, tuple)):
        return [as_lists(b) for b in batch]
    if isinstance(batch, dict):
        return {k: as_lists(v) for k, v in batch.items()}
    if isinstance(batch, tg.Tensor):
        return backend.to_numpy(batch.array).tolist()
    if isinstance(batch, torch.Tensor):
        return batch.numpy().tolist()
    return batch


class Squares(ours.Dataset):
    """Sample i is {"x": array [i, i*i], "y": i}: a generic dataset (not a TensorDataset)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], dtype=np.int64), "y": i}

    def __len__(self):
        return self.n


class TorchSquares(theirs.Dataset):
    """The same samples as a torch Dataset (so that ``+`` makes torch's ConcatDataset)."""
    __init__, __getitem__, __len__ = Squares.__init__, Squares.__getitem__, Squares.__len__


def gen(seed=0):
    return tg.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- random_split

@given(n=st.integers(0, 60), fractions=st.lists(st.integers(0, 20), min_size=1, max_size=5))
def test_random_split_fraction_lengths_equal_torchs(n, fractions):
    total = sum(fractions)
    if total == 0:
        return
    fracs = [f / total for f in fractions]
    if not (abs(sum(fracs) - 1) < 1e-9 and sum(fracs) <= 1):
        return  # rounding made them not sum to 1: torch then treats them as counts, and fails
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = ours.random_split(range(n), fracs, generator=gen())
        ref = theirs.random_split(range(n), fracs, generator=torch.Generator().manual_seed(0))
        again = ours.random_split(range(n), fracs, generator=gen())
    assert [len(s) for s in mine] == [len(s) for s in ref]
    drawn = [i for s in mine for i in s]
    assert sorted(drawn) == list(range(n))  # a partition
    assert [s.indices for s in again] == [s.indices for s in mine]


def test_random_split_warns_and_fails_as_torch_does():
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0"):
        ours.random_split(range(10), [0.5, 0.5, 0])
    with pytest.raises(ValueError, match="does not equal the length of the input dataset"):
        ours.random_split(range(10), [5, 6])
    for bad in ([-1, 11], [2.5, 7.5], [float("nan"), 1]):  # torch accepts the first silently
        with pytest.raises(ValueError, match="random_split"):
            ours.random_split(range(10), bad)


# --------------------------------------------------------------------- Subset, ConcatDataset

@given(sizes=st.lists(st.integers(0, 6), min_size=1, max_size=4), data=st.data())
def test_concat_dataset_indexes_as_torchs(sizes, data):
    parts = [list(range(100 * k, 100 * k + n)) for k, n in enumerate(sizes)]
    mine, ref = ours.ConcatDataset(parts), theirs.ConcatDataset(parts)
    assert len(mine) == len(ref) and mine.cumulative_sizes == ref.cumulative_sizes
    n = len(ref)
    for i in range(-n, n):
        assert mine[i] == ref[i]
    for i in (n, -n - 1):
        with pytest.raises(type(_error(lambda: ref[i]))):
            mine[i]


def _error(f):
    try:
        f()
    except Exception as exc:  # noqa: BLE001 - the test compares exception types
        return exc
    raise AssertionError("expected an error")


def test_concat_and_subset_through_the_loader_equal_torch():
    a, b = Squares(5), Squares(3)
    mine = ours.ConcatDataset([ours.Subset(a, [4, 0, 2]), b]) + Squares(2)
    ref = theirs.ConcatDataset([theirs.Subset(TorchSquares(5), [4, 0, 2]),
                                TorchSquares(3)]) + TorchSquares(2)
    assert len(mine) == len(ref) == 8
    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        got = [as_lists(x) for x in ours.DataLoader(mine, **kw)]
        want = [as_lists(x) for x in theirs.DataLoader(ref, **kw)]
        assert got == want
    with pytest.raises(ValueError, match="empty"):
        ours.ConcatDataset([])


def test_subset_getitems_is_used_by_the_loader():
    class Batched(Squares):
        calls = 0

        def __getitems__(self, indices):
            Batched.calls += 1
            return [self[i] for i in indices]

    loader = ours.DataLoader(ours.Subset(Batched(10), list(range(9, -1, -1))), batch_size=4)
    got = [as_lists(b)["y"] for b in loader]
    assert got == [[9, 8, 7, 6], [5, 4, 3, 2], [1, 0]] and Batched.calls == 3


# ---------------------------------------------------------------------------------- samplers

@given(n=st.integers(1, 30), num_samples=st.integers(1, 70), seed=st.integers(0, 2**31))
def test_random_sampler_facts_as_torchs(n, num_samples, seed):
    for replacement in (False, True):
        mine = list(ours.RandomSampler(range(n), replacement, num_samples, generator=gen(seed)))
        ref = list(theirs.RandomSampler(range(n), replacement, num_samples,
                                        generator=torch.Generator().manual_seed(seed)))
        assert len(mine) == len(ref) == num_samples
        assert set(mine) <= set(range(n))
        if not replacement:  # whole permutations, then a part of one
            counts = np.bincount(mine, minlength=n)
            assert counts.max() - counts.min() <= 1
            assert sorted(np.bincount(ref, minlength=n)) == sorted(counts)


def test_sequential_and_subset_random_samplers():
    assert list(ours.SequentialSampler(range(7))) == list(theirs.SequentialSampler(range(7)))
    idx = [3, 5, 7, 11]
    mine = list(ours.SubsetRandomSampler(idx, generator=gen(1)))
    assert sorted(mine) == sorted(theirs.SubsetRandomSampler(idx)) == idx
    assert list(ours.SubsetRandomSampler([])) == list(theirs.SubsetRandomSampler([])) == []
    assert mine == list(ours.SubsetRandomSampler(idx, generator=gen(1)))


@given(weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=1, max_size=12),
       num_samples=st.integers(1, 40), seed=st.integers(0, 1000))
def test_weighted_sampler_draws_only_positive_weights(weights, num_samples, seed):
    if sum(weights) == 0:
        return
    positive = {i for i, w in enumerate(weights) if w > 0}
    drawn = list(ours.WeightedRandomSampler(weights, num_samples, generator=gen(seed)))
    assert len(drawn) == num_samples and set(drawn) <= positive
    if num_samples <= len(positive):
        once = list(ours.WeightedRandomSampler(tg.tensor(weights), num_samples,
                                               replacement=False, generator=gen(seed)))
        ref = list(theirs.WeightedRandomSampler(weights, num_samples, replacement=False))
        assert len(set(once)) == len(once) == len(ref) == num_samples
        assert set(once) <= positive and set(ref) <= positive


def test_weighted_sampler_frequencies_follow_the_weights():
    # 40,000 draws from a fixed seed: each frequency within 0.01 of its probability (about 4
    # standard deviations), so this holds for this seed and would for almost any other.
    weights = [1.0, 2.0, 0.0, 5.0]
    drawn = np.fromiter(ours.WeightedRandomSampler(weights, 40000, generator=gen(3)), np.int64)
    freq = np.bincount(drawn, minlength=4) / 40000
    np.testing.assert_allclose(freq, np.array(weights) / 8, atol=0.01)


@pytest.mark.parametrize("args, kwargs", [
    (([1.0, 2.0], 0), {}), (([1.0, 2.0], 2.0), {}), (([1.0, 2.0], 2), dict(replacement=1)),
    (([[1.0, 2.0]], 2), {}), (([1.0, -2.0], 3), {}), (([0.0, 0.0], 3), {}),
    (([1.0, float("nan")], 3), {}), (([1.0, float("inf")], 3), {}), (([], 2), {}),
])
def test_weighted_sampler_errors_are_torchs(args, kwargs):
    ref = _error(lambda: list(theirs.WeightedRandomSampler(*args, **kwargs)))
    with pytest.raises(type(ref)) as info:
        list(ours.WeightedRandomSampler(*args, **kwargs))
    # the same message, up to our added detail
    assert str(ref).split(" (")[0].split(":")[0] in str(info.value)


def test_weighted_sampler_without_replacement_refuses_too_few_positive_weights():
    # torch returns a zero-weight index here; we say why we cannot
    with pytest.raises(RuntimeError, match="only 1 of the 3 weights are positive"):
        ours.WeightedRandomSampler([1.0, 0.0, 0.0], 2, replacement=False)


@given(n=st.integers(0, 25), batch_size=st.integers(1, 8), drop_last=st.booleans())
def test_batch_sampler_over_each_sampler_as_torchs(n, batch_size, drop_last):
    assert list(ours.BatchSampler(ours.SequentialSampler(range(n)), batch_size, drop_last)) == \
        list(theirs.BatchSampler(theirs.SequentialSampler(range(n)), batch_size, drop_last))
    if n == 0:
        return
    mine = ours.BatchSampler(ours.WeightedRandomSampler([1.0] * n, 2 * n + 1, generator=gen()),
                             batch_size, drop_last)
    ref = theirs.BatchSampler(theirs.WeightedRandomSampler([1.0] * n, 2 * n + 1), batch_size,
                              drop_last)
    assert len(mine) == len(ref) == len(list(ref))
    assert [len(b) for b in mine] == [len(b) for b in ref]


# ------------------------------------------------------------------------ DataLoader options

@given(n=st.integers(1, 20), batch_size=st.integers(1, 7), drop_last=st.booleans())
def test_loader_without_randomness_gives_torchs_batches(n, batch_size, drop_last):
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    mine = ours.DataLoader(ours.TensorDataset(tg.tensor(x)), batch_size=batch_size,
                           drop_last=drop_last)
    ref = theirs.DataLoader(theirs.TensorDataset(torch.tensor(x)), batch_size=batch_size,
                            drop_last=drop_last)
    assert len(mine) == len(ref)
    assert [as_lists(b) for b in mine] == [as_lists(b) for b in ref]
    # a generic dataset, a given sampler, a given batch_sampler and a collate_fn
    order = list(range(n - 1, -1, -1))
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    cases = [dict(batch_size=batch_size, sampler=order, drop_last=drop_last),
             dict(batch_sampler=batches),
             dict(batch_size=batch_size, collate_fn=lambda b: [s["y"] for s in b]),
             dict(batch_size=None, sampler=order)]
    for kw in cases:
        got = [as_lists(b) for b in ours.DataLoader(Squares(n), **kw)]
        want = [as_lists(b) for b in theirs.DataLoader(TorchSquares(n), **kw)]
        assert got == want, kw


def test_loader_generator_and_shuffle():
    ds = Squares(10)
    one = [as_lists(b)["y"] for b in ours.DataLoader(ds, batch_size=4, shuffle=True,
                                                     generator=gen(5))]
    two = [as_lists(b)["y"] for b in ours.DataLoader(ds, batch_size=4, shuffle=True,
                                                     generator=gen(5))]
    assert one == two and sorted(sum(one, [])) == list(range(10))
    assert [len(b) for b in one] == [4, 4, 2]
    weighted = ours.DataLoader(ds, batch_size=4,
                               sampler=ours.WeightedRandomSampler([0.0] * 5 + [1.0] * 5, 12))
    ys = [as_lists(b)["y"] for b in weighted]
    assert [len(b) for b in ys] == [4, 4, 4] and set(sum(ys, [])) <= set(range(5, 10))


CONFLICTS = [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True), dict(num_workers=-1), dict(timeout=-1),
    dict(prefetch_factor=2), dict(num_workers=2, prefetch_factor=-1),
    dict(persistent_workers=True), dict(multiprocessing_context="spawn"),
    dict(batch_size=0), dict(batch_size=2.0), dict(drop_last=1),
]


@pytest.mark.parametrize("kwargs", CONFLICTS, ids=[str(sorted(k)) for k in CONFLICTS])
def test_loader_argument_conflicts_raise_as_torch(kwargs):
    ref = _error(lambda: theirs.DataLoader(TorchSquares(4), **kwargs))
    with pytest.raises(type(ref)) as info:
        ours.DataLoader(Squares(4), **kwargs)
    assert str(info.value) == str(ref)


def test_loader_multiprocessing_options_are_accepted_and_harmless():
    calls = []
    loader = ours.DataLoader(Squares(6), batch_size=4, num_workers=2, pin_memory=True,
                             worker_init_fn=calls.append, persistent_workers=True,
                             prefetch_factor=3, multiprocessing_context="spawn", timeout=5)
    assert [as_lists(b)["y"] for b in loader] == [[0, 1, 2, 3], [4, 5]]
    assert calls == [] and ours.get_worker_info() is None
    with pytest.raises(TypeError, match="collate_fn should be callable"):
        ours.DataLoader(Squares(2), collate_fn=3)
