"""asr.systems without training: dictionaries in their published forms, language resources,
manifest subsets, scoring and bookkeeping (the recipes' end-to-end runs are in test_corpus_recipes.py)."""

from __future__ import annotations

import json

import pytest

from asr.data.lang import prepare_lang
from asr.data.manifest import Utterance, read_manifest, subset_manifest, write_manifest
from asr.text.lm import NgramLM
from asr.systems import (
    Experiment,
    LangData,
    SystemsConfig,
    read_train_times,
    record_train_time,
    score_hypotheses,
    train_systems,
)
from asr.text.dictionary import read_pronunciations


@pytest.mark.parametrize("name, text", [
    ("cmudict", ";;; # CMUdict  --  Major Version: 0.07\nREAD  R IY1 D\nREAD(2)  R EH1 D\nA  AH0\n"),
    ("sphinx.dic", "A\tAH\nREAD\tR IY D\nREAD(2)\tR EH D\n"),  # AN4's etc/an4.dic
    ("librispeech-lexicon.txt", "A\tAH0\nREAD\tR IY1 D\nREAD\tR EH1 D\n"),
    ("TIMITDIC.TXT", "; TIMIT dictionary\na  /ax/\nread~v  /r iy1 d/\nread~v_past  /r eh1 d/\n"),
    ("lexiconp.txt", "<UNK> 1.0 SPN\n!SIL 1.0 SIL\na 1.0 ah\nread 0.7 r iy d\nread 0.3 r eh d\n"),
])
def test_read_pronunciations_published_forms(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    lex = read_pronunciations(path)
    assert lex.words() == ["a", "read"]  # lower case, variants merged, markup left out
    prons = [" ".join(p).lower() for p in lex.pronunciations("read")]
    assert prons == ["r iy d", "r eh d"]
    if "IY1" in text.upper():
        assert read_pronunciations(path, keep_stress=True).pronounce("read")[1].upper() == "IY1"
    if name == "lexiconp.txt":
        assert lex.prob("read", ("r", "eh", "d")) == 0.3


def test_read_pronunciations_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_pronunciations(tmp_path / "nope.txt")
    bad = tmp_path / "bad.dic"
    bad.write_text("HELLO HH AH L OW\nWORLD\n")
    with pytest.raises(ValueError, match=r"bad.dic:2: 'WORLD' has no phones"):
        read_pronunciations(bad)


def _manifest(path, texts, lang="en"):
    utts = [Utterance(id=f"u{i}", audio=f"/a/u{i}.wav", duration=1.0 + i, text=t, lang=lang, speaker="s")
            for i, t in enumerate(texts)]
    write_manifest(path, utts)
    return path


def test_prepare_lang_g2p_and_trigram(tmp_path):
    train = _manifest(tmp_path / "train.jsonl", ["turn on the light", "turn off the light please"])
    lexicon, lm = prepare_lang(tmp_path / "lang", train, "en", lm_order=3)
    lex = read_pronunciations(lexicon)
    assert lex.words() == sorted({"turn", "on", "off", "the", "light", "please"})
    assert lex.pronounce("light") == ("l", "aɪ", "t")  # espeak-ng IPA
    model = NgramLM.from_arpa(lm)
    assert model.order == 3 and model.log10_prob("light", ("turn", "on")) < 0
    stamp = lexicon.stat().st_mtime_ns  # kept on a second call
    assert prepare_lang(tmp_path / "lang", train, "en") == (lexicon, lm) and lexicon.stat().st_mtime_ns == stamp


def test_prepare_lang_user_dictionary_gets_g2p_for_missing_words_and_user_lm(tmp_path, caplog):
    train = _manifest(tmp_path / "train.jsonl", ["yes no", "no maybe"])
    dic = tmp_path / "an4.dic"
    dic.write_text("YES\tY EH S\nNO\tN OW\nSTOP\tS T AA P\n")
    lexicon, lm = prepare_lang(tmp_path / "lang", train, "en", lexicon=dic, lm_order=2)
    lex = read_pronunciations(lexicon)
    assert lex.pronounce("yes") == ("Y", "EH", "S") and "stop" in lex and "maybe" in lex  # maybe: G2P
    assert "1 of 3 training words missing" in caplog.text
    assert set(NgramLM.from_arpa(lm).vocab) >= {"stop", "maybe"}  # the LM knows every lexicon word
    arpa = tmp_path / "given.arpa"
    arpa.write_text(lm.read_text())
    assert prepare_lang(tmp_path / "lang2", train, "en", lm=arpa)[1] == arpa
    with pytest.raises(FileNotFoundError, match="missing.arpa"):
        prepare_lang(tmp_path / "lang3", train, "en", lm=tmp_path / "missing.arpa")


def test_subset_manifest(tmp_path):
    src = _manifest(tmp_path / "train.jsonl", [f"w{i}" for i in range(10)])  # durations 1..10 s
    assert subset_manifest(src, tmp_path / "s.jsonl") == src and not (tmp_path / "s.jsonl").exists()
    assert subset_manifest(src, tmp_path / "s.jsonl", max_utts=20) == src
    sub = read_manifest(subset_manifest(src, tmp_path / "s.jsonl", max_utts=4, seed=1))
    assert len(sub) == 4 and [u.id for u in sub] == sorted((u.id for u in sub), key=lambda i: int(i[1:]))
    assert read_manifest(subset_manifest(src, tmp_path / "s.jsonl", max_utts=4, seed=1)) == sub  # deterministic
    hours = read_manifest(subset_manifest(src, tmp_path / "h.jsonl", max_hours=12 / 3600))
    assert sum(u.duration for u in hours) <= 12


def test_score_hypotheses_and_train_times(tmp_path):
    test = _manifest(tmp_path / "test.jsonl", ["a b c", "d e"])
    hyp = tmp_path / "hyp.jsonl"
    hyp.write_text(json.dumps({"id": "u0", "text": "a b x"}) + "\n" + json.dumps({"id": "u1", "text": "d e"}) + "\n")
    r = score_hypotheses(test, hyp)
    assert r["wer"] == pytest.approx(1 / 5) and r["words"]["substitutions"] == 1 and r["num_utterances"] == 2
    record_train_time(tmp_path, "hybrid", 120.04)
    record_train_time(tmp_path, "hybrid", 0.3)  # a re-run that found the model keeps the real figure
    record_train_time(tmp_path, "ctc", 0.3)
    assert read_train_times(tmp_path) == {"hybrid": 120.0, "ctc": 0.3}


def test_unknown_system_and_config_helpers(tmp_path):
    lang = LangData("", "en", tmp_path / "t.jsonl", None, {}, tmp_path / "lexicon.txt")
    with pytest.raises(ValueError, match=r"unknown system\(s\) \['hmm'\]"):
        train_systems(Experiment(tmp_path, (lang,), systems=("hmm",)))
    cfg = SystemsConfig(lexicon="/dicts/{lang}.txt", ctc={"preset": "small", "beam": 8})
    assert str(cfg.lexicon_for("es")) == "/dicts/es.txt" and cfg.lm_for("es") is None
    assert cfg.ctc_settings().beam == 8
    with pytest.raises(ValueError, match="ctc: unknown key"):
        SystemsConfig(ctc={"beem": 8}).ctc_settings()
