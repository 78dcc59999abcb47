"""DurationBucketSampler: budget, coverage, shuffling, ranks, resume."""

from __future__ import annotations

import logging
import random

import pytest

from asr.data.sampler import DurationBucketSampler


def durations(n: int = 300, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(0.5, 15.0), 2) for _ in range(n)]


@pytest.mark.parametrize("budget", [15.0, 40.0, 120.0])
@pytest.mark.parametrize("num_buckets", [1, 4, 10])
def test_budget_respected_and_every_index_once(budget, num_buckets):
    durs = durations()
    s = DurationBucketSampler(durs, budget, num_buckets=num_buckets, seed=3)
    for epoch in range(2):
        s.set_epoch(epoch)
        batches = list(s)
        assert len(batches) == len(s)
        for b in batches:
            assert max(durs[i] for i in b) * len(b) <= budget
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(len(durs)))


def test_oversized_utterance_gets_its_own_batch_and_is_reported(caplog):
    durs = [1.0] * 20 + [50.0, 2.0]
    with caplog.at_level(logging.WARNING, logger="asr.data.sampler"):
        s = DurationBucketSampler(durs, max_batch_seconds=10.0, num_buckets=2)
    assert s.oversized == [20]
    assert "1 utterance(s) are longer than max_batch_seconds=10.0" in caplog.text
    batches = list(s)
    assert [20] in batches
    assert sorted(i for b in batches for i in b) == list(range(22))


def test_epochs_shuffle_differently_and_seed_plus_epoch_repeats():
    durs = durations()
    a = DurationBucketSampler(durs, 40.0, seed=1)
    b = DurationBucketSampler(durs, 40.0, seed=1)
    other_seed = DurationBucketSampler(durs, 40.0, seed=2)
    epoch0 = list(a)
    a.set_epoch(1)
    epoch1 = list(a)
    assert epoch0 != epoch1
    b.set_epoch(1)
    assert list(b) == epoch1
    assert list(other_seed) != epoch0
    a.set_epoch(0)
    assert list(a) == epoch0


def test_no_shuffle_is_shortest_first_and_fixed():
    durs = durations(100)
    s = DurationBucketSampler(durs, 40.0, shuffle=False)
    batches = list(s)
    longest = [max(durs[i] for i in b) for b in batches]
    assert longest == sorted(longest)
    s.set_epoch(5)
    assert list(s) == batches


def test_buckets_keep_padding_low():
    durs = durations(1000)
    padded = {}
    for nb in (1, 20):
        s = DurationBucketSampler(durs, 60.0, num_buckets=nb, seed=0)
        batches = list(s)
        padded[nb] = sum(max(durs[i] for i in b) * len(b) for b in batches)
    assert padded[20] < 0.9 * padded[1]
    assert padded[20] < 1.15 * sum(durs)


@pytest.mark.parametrize("n", [7, 100, 301])
def test_two_ranks_disjoint_and_equal_length(n):
    durs = durations(n, seed=n)
    for epoch in (0, 1):
        r0 = DurationBucketSampler(durs, 30.0, drop_last=True, rank=0, world_size=2)
        r1 = DurationBucketSampler(durs, 30.0, drop_last=True, rank=1, world_size=2)
        r0.set_epoch(epoch)
        r1.set_epoch(epoch)
        b0, b1 = list(r0), list(r1)
        assert len(b0) == len(b1) == len(r0) == len(r1)
        i0 = [i for b in b0 for i in b]
        i1 = [i for b in b1 for i in b]
        assert not set(i0) & set(i1)
        assert len(set(i0)) == len(i0) and len(set(i1)) == len(i1)
        # padded variant: same length on both ranks and every index covered
        p0 = DurationBucketSampler(durs, 30.0, rank=0, world_size=2)
        p1 = DurationBucketSampler(durs, 30.0, rank=1, world_size=2)
        p0.set_epoch(epoch)
        p1.set_epoch(epoch)
        q0, q1 = list(p0), list(p1)
        assert len(q0) == len(q1)
        assert {i for b in q0 + q1 for i in b} == set(range(n))
        assert len(q0) + len(q1) - len(b0) - len(b1) in (0, 2)


def test_world_size_three_pads_by_repeating_epoch_start():
    durs = [1.0] * 10
    ranks = [DurationBucketSampler(durs, 3.0, num_buckets=1, rank=r, world_size=3) for r in range(3)]
    per_rank = [list(s) for s in ranks]  # 10 batches of <= 3 s: 4 batches, padded to 6
    assert [len(b) for b in per_rank] == [2, 2, 2]
    flat = [i for b in per_rank for batch in b for i in batch]
    assert set(flat) == set(range(10))


@pytest.mark.parametrize("world_size", [1, 2])
def test_resume_mid_epoch_yields_exactly_the_remaining_batches(world_size):
    durs = durations(200)

    def make() -> DurationBucketSampler:
        return DurationBucketSampler(durs, 40.0, seed=7, rank=world_size - 1, world_size=world_size)

    s = make()
    s.set_epoch(3)
    full = list(s)
    # a training loop that stops after 5 batches of epoch 3
    s.set_epoch(3)
    it = iter(s)
    consumed = [next(it) for _ in range(5)]
    assert consumed == full[:5]
    state = s.state_dict()
    assert state["epoch"] == 3 and state["batches_consumed"] == 5
    assert s.state_dict(batches_consumed=4)["batches_consumed"] == 4

    resumed = make()
    resumed.load_state_dict(state)
    resumed.set_epoch(3)  # the loop's usual call keeps the restored position
    assert len(resumed) == len(full) - 5
    assert list(resumed) == full[5:]
    assert list(resumed) == full  # the next pass over the same epoch is whole again
    resumed.set_epoch(4)
    s.set_epoch(4)
    assert list(resumed) == list(s)


def test_resume_refuses_a_different_setup():
    durs = durations(50)
    state = DurationBucketSampler(durs, 40.0, seed=1).state_dict()
    with pytest.raises(ValueError, match="seed=1"):
        DurationBucketSampler(durs, 40.0, seed=2).load_state_dict(state)
    with pytest.raises(ValueError, match="num_utterances"):
        DurationBucketSampler(durs[:-1], 40.0, seed=1).load_state_dict(state)


def test_bad_arguments():
    with pytest.raises(ValueError):
        DurationBucketSampler([1.0], 0.0)
    with pytest.raises(ValueError):
        DurationBucketSampler([1.0, float("nan")], 10.0)
    with pytest.raises(ValueError):
        DurationBucketSampler([1.0], 10.0, rank=2, world_size=2)
