"""LanguageBalancedSampler: one language per batch, temperature, determinism, resume, rank split."""

from __future__ import annotations

import collections

import pytest

from asr.data.lang_sampler import LanguageBalancedSampler, language_probabilities

COUNTS = {"en": 400, "de": 100, "sw": 25}


def _corpus(counts=COUNTS):
    langs, durs = [], []
    for k, (lang, n) in enumerate(counts.items()):
        for i in range(n):
            langs.append(lang)
            durs.append(1.0 + ((i * 7 + k) % 10) / 10)  # 1.0 .. 1.9 s
    return langs, durs


def _sampler(**kw):
    langs, durs = _corpus()
    args = dict(max_batch_seconds=4.0, size="count", seed=3)
    args.update(kw)
    return LanguageBalancedSampler(langs, durs, **args), langs


def test_language_probabilities_limits():
    sizes = {"a": 8.0, "b": 2.0}
    assert language_probabilities(sizes, 1.0) == pytest.approx({"a": 0.8, "b": 0.2})
    assert language_probabilities(sizes, 2.0) == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    assert language_probabilities(sizes, 1e6) == pytest.approx({"a": 0.5, "b": 0.5}, abs=1e-5)
    with pytest.raises(ValueError):
        language_probabilities({"a": 0.0}, 1.0)


def test_batches_hold_one_language_and_valid_indices():
    sampler, langs = _sampler()
    sampler.set_epoch(0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == sampler.natural_batches
    for b in batches:
        assert len({langs[i] for i in b}) == 1
        assert sampler.batch_language(b) == langs[b[0]]
        assert all(0 <= i < len(langs) for i in b)


@pytest.mark.parametrize("temperature", [1.0, 3.0, 1e4])
def test_empirical_language_frequencies_follow_temperature(temperature):
    sampler, langs = _sampler(temperature=temperature, batches_per_epoch=20000)
    counts = collections.Counter(langs[b[0]] for b in sampler)
    n = sum(counts.values())
    expected = {k: v ** (1 / temperature) for k, v in COUNTS.items()}
    z = sum(expected.values())
    for lang in COUNTS:
        assert counts[lang] / n == pytest.approx(expected[lang] / z, abs=0.015)
    if temperature == 1.0:  # proportional to size
        assert counts["en"] / n == pytest.approx(400 / 525, abs=0.015)
    if temperature == 1e4:  # uniform
        assert counts["sw"] / n == pytest.approx(1 / 3, abs=0.015)


def test_small_language_cycles_through_all_its_utterances():
    sampler, langs = _sampler(temperature=1e4, batches_per_epoch=300)
    seen = {i for b in sampler for i in b if langs[i] == "sw"}
    assert seen == {i for i, x in enumerate(langs) if x == "sw"}


def test_deterministic_from_seed_and_epoch():
    a, _ = _sampler(temperature=2.0)
    b, _ = _sampler(temperature=2.0)
    for epoch in (0, 1):
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        assert list(a) == list(b)
    a.set_epoch(0)
    e0 = list(a)
    a.set_epoch(1)
    assert list(a) != e0
    c, _ = _sampler(temperature=2.0, seed=4)
    assert list(c) != e0


def test_resume_continues_at_next_batch():
    full, _ = _sampler(temperature=2.0)
    full.set_epoch(2)
    expected = list(full)
    first, _ = _sampler(temperature=2.0)
    first.set_epoch(2)
    it = iter(first)
    head = [next(it) for _ in range(5)]
    state = first.state_dict(batches_consumed=5)
    resumed, _ = _sampler(temperature=2.0)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)
    assert len(resumed) == len(expected) - 5
    assert head + list(resumed) == expected
    other, _ = _sampler(temperature=1.0)
    with pytest.raises(ValueError, match="temperature"):
        other.load_state_dict(state)


@pytest.mark.parametrize("drop_last", [False, True])
def test_rank_split_partitions_the_epoch(drop_last):
    single, _ = _sampler(temperature=2.0, batches_per_epoch=101)
    whole = list(single)
    ranks = [list(_sampler(temperature=2.0, batches_per_epoch=101, rank=r, world_size=3, drop_last=drop_last)[0])
             for r in range(3)]
    assert len({len(r) for r in ranks}) == 1
    if drop_last:
        assert sorted(map(tuple, sum(ranks, []))) == sorted(map(tuple, whole[:99]))
    else:
        assert [b for k in range(len(ranks[0])) for b in (r[k] for r in ranks)][:101] == whole
