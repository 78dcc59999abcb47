"""Word n-gram LM: modified Kneser-Ney sums to one, ARPA round trip, errors name the line, perplexity."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from asr.text.lm import BOS, ArpaError, NgramLM, perplexity, train_ngram

WORDS = "the cat dog sees a bird runs home fast".split()


def corpus(n: int = 200, seed: int = 0) -> list[list[str]]:
    """Short random sentences from a small grammar, with some empty ones."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.05:
            out.append([])
            continue
        out.append(["the", rng.choice(["cat", "dog"]), rng.choice(["sees", "runs"])]
                   + [rng.choice(WORDS) for _ in range(rng.randint(0, 4))])
    return out


def histories(lm: NgramLM) -> list[tuple[int, ...]]:
    """Every context of the model, plus the empty one, <s>, and an unseen pair."""
    ctxs = {(), (lm.bos,), (lm.id("bird"), lm.id("never-seen"))}
    for n in range(1, lm.order):
        ctxs |= set(lm.bows[n])
    return sorted(ctxs)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_sum_to_one_for_every_history(order):
    lm = train_ngram(corpus(), order=order, vocab=["zebra"])
    vocab = [w for w in lm.vocab if w != BOS]
    assert "zebra" in vocab and "<unk>" in vocab and "</s>" in vocab
    for ctx in histories(lm):
        total = sum(10.0 ** lm.log10_prob(lm.id(w), ctx) for w in vocab)
        assert total == pytest.approx(1.0, abs=1e-9), (order, ctx)


def test_tiny_corpus_uses_fallback_discounts_and_still_normalises():
    lm = train_ngram([["a", "b"], ["a", "c"]], order=3)
    vocab = [w for w in lm.vocab if w != BOS]
    for ctx in histories(lm):
        assert sum(10.0 ** lm.log10_prob(lm.id(w), ctx) for w in vocab) == pytest.approx(1.0, abs=1e-9)


def test_kneser_ney_continuation_counts():
    # "francisco" is frequent but only after "san": its unigram (continuation) probability is
    # low, below that of "glasses", which follows many different words.
    sents = [["san", "francisco"]] * 20 + [[w, "glasses"] for w in ("red", "blue", "old", "new", "my")]
    lm = train_ngram(sents, order=2)
    assert lm.log_prob("francisco", ["cold"]) < lm.log_prob("glasses", ["cold"])
    assert lm.log_prob("francisco", ["san"]) > math.log(0.9)


def test_arpa_round_trip(tmp_path: Path):
    lm = train_ngram(corpus(), order=3, vocab=["zebra"])
    path = tmp_path / "lm.arpa"
    lm.to_arpa(path)
    back = NgramLM.from_arpa(path)
    assert back.order == 3 and set(back.vocab) == set(lm.vocab)
    for n in range(1, 4):
        assert len(back.probs[n]) == len(lm.probs[n])
    for sent in corpus(30, seed=1) + [["zebra", "unknown", "cat"]]:
        assert back.sentence_log10_prob(sent) == pytest.approx(lm.sentence_log10_prob(sent), abs=1e-5)
    # and a second write gives the same file
    again = tmp_path / "again.arpa"
    back.to_arpa(again)
    assert again.read_text() == path.read_text()


@pytest.mark.parametrize("order", [2, 3, 4])
def test_arpa_agrees_with_kenlm(tmp_path: Path, order):
    kenlm = pytest.importorskip("kenlm")
    lm = train_ngram(corpus(), order=order)
    path = tmp_path / "lm.arpa"
    lm.to_arpa(path)
    model = kenlm.Model(str(path))
    for sent in corpus(20, seed=2):
        assert model.score(" ".join(sent)) == pytest.approx(lm.sentence_log10_prob(sent), abs=1e-5)


GOOD = """
\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.0\t<s>\t-0.3
-0.5\t</s>
-0.6\ta\t-0.2
-1.2\t<unk>

\\2-grams:
-0.1\t<s> a
-0.2\ta </s>

\\end\\
"""


@pytest.mark.parametrize(
    "old, new, line",
    [
        ("\\data\\", "\\dada\\", 2),  # header keyword
        ("ngram 2=2", "ngram 2:2", 4),  # malformed count line
        ("ngram 2=2", "ngram 3=2", 4),  # orders out of sequence
        ("ngram 1=4", "ngram 1=5", 6),  # count disagrees: reported at the section line
        ("-0.6\ta\t-0.2", "-0.6\ta b c d", 9),  # wrong field count
        ("-1.2\t<unk>", "x\t<unk>", 10),  # not a number
    ],
)
def test_broken_arpa_names_the_line(tmp_path: Path, old, new, line):
    path = tmp_path / "bad.arpa"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ArpaError) as err:
        NgramLM.from_arpa(path)
    assert err.value.line == line
    assert f"bad.arpa:{line}:" in str(err.value)


def test_good_arpa_reads_and_missing_end_fails(tmp_path: Path):
    path = tmp_path / "lm.arpa"
    path.write_text(GOOD)
    lm = NgramLM.from_arpa(path)
    assert lm.log10_prob(lm.id("a"), [lm.bos]) == pytest.approx(-0.1)
    assert lm.log10_prob(lm.eos, [lm.id("a")]) == pytest.approx(-0.2)
    assert lm.log10_prob(lm.id("a"), [lm.id("a")]) == pytest.approx(-0.2 - 0.6)  # backoff
    path.write_text(GOOD.replace("\\end\\", ""))
    with pytest.raises(ArpaError, match="without"):
        NgramLM.from_arpa(path)


def test_perplexity_is_sane_and_lower_on_training_like_text():
    train = corpus(300)
    lm = train_ngram(train, order=3)
    similar = perplexity(lm, corpus(50, seed=5))
    shuffled = perplexity(lm, [list(reversed(s)) for s in corpus(50, seed=5)])
    assert 1.0 < similar < len(lm.vocab)
    assert similar < shuffled


def test_phone_lm_and_scorer_states():
    phones = [list("kæt"), list("dɔɡ"), list("kæts")]
    lm = train_ngram(phones, order=2)
    scorer = lm.scorer()
    logp, state = scorer.advance(scorer.start, lm.id("k"))
    assert logp == pytest.approx(lm.log_prob("k", [BOS]))
    again = scorer.advance(scorer.start, lm.id("k"))
    assert again == (logp, state)
    assert scorer.contexts[state] == (lm.id("k"),)
    assert scorer.final(state) == pytest.approx(lm.log_prob("</s>", ["k"]))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_batch_scorer_matches_single_lookups(order):
    lm = train_ngram(corpus(), order=order, vocab=["zebra"])
    one, batch = lm.scorer(), lm.scorer()
    rng = random.Random(order)
    states = [one.start] * 40
    for _ in range(6):
        words = np.array([rng.randrange(1, len(lm.vocab)) for _ in states])
        logp, nxt = batch.advance_batch(np.array([batch._state(one.contexts[s]) for s in states]), words)
        expected = [one.advance(s, int(w)) for s, w in zip(states, words)]
        assert logp == pytest.approx([e[0] for e in expected])
        assert [batch.contexts[n] for n in nxt] == [one.contexts[e[1]] for e in expected]
        states = [e[1] for e in expected]


def test_a_scorer_shared_by_threads_scores_as_one_alone():
    """asr serve's workers run searches of one model in threads: a shared LmScorer must give each the
    scores it gives alone (it grows its state tables as new contexts come)."""
    import threading

    rng = random.Random(0)
    words = [f"w{i}" for i in range(1500)]
    lm = train_ngram([[rng.choice(words) for _ in range(rng.randint(3, 10))] for _ in range(6000)], 3)

    def walk(scorer, seed: int) -> list:
        r = np.random.default_rng(seed)
        states, out = np.full(48, scorer.start), []
        for _ in range(120):
            logp, states = scorer.advance_batch(states, r.integers(0, len(lm.vocab), 48))
            out.append((logp.round(9).tolist(), [scorer.contexts[s] for s in states]))
        return out

    alone = {seed: walk(lm.scorer(), seed) for seed in (1, 2, 3)}
    for _ in range(3):
        shared, got = lm.scorer(), {}
        threads = [threading.Thread(target=lambda s=s: got.__setitem__(s, walk(shared, s))) for s in alone]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert got == alone
