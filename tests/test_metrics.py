"""WER / CER on hand-made examples, per-language breakdown, input files."""

from __future__ import annotations

import json

import pytest

from asr.data.manifest import ManifestError
from asr.metrics import format_report, read_text_file, score


def test_one_substitution_one_insertion_in_four_words():
    r = score({"u": "the cat sat down"}, {"u": "the bat sat down now"})
    assert r.wer == pytest.approx(0.5)
    assert (r.hits, r.substitutions, r.deletions, r.insertions) == (3, 1, 0, 1)
    assert r.num_words == 4 and r.num_utterances == 1
    # chars "the cat sat down" (16) vs "the bat sat down now": 1 sub + 4 ins
    assert r.num_chars == 16
    assert r.cer == pytest.approx(5 / 16)


def test_cer_and_whitespace_is_not_an_error():
    r = score({"u": "abcd"}, {"u": "  abed "})
    assert r.cer == pytest.approx(0.25) and r.wer == 1.0
    r = score({"u": "a  b\tc"}, {"u": "a b c"})
    assert r.wer == 0.0 and r.cer == 0.0


def test_totals_are_summed_counts_not_mean_of_rates():
    refs = {"1": "a b c d e f g h i j", "2": "x"}
    hyps = {"1": "a b c d e f g h i j", "2": "y"}
    r = score(refs, hyps)
    assert r.wer == pytest.approx(1 / 11)


def test_per_language_breakdown():
    refs = {"en-1": "good morning", "en-2": "thank you very much", "fr-1": "bonjour tout le monde"}
    hyps = {"en-1": "good morning", "en-2": "thank you much", "fr-1": "bonjour le monde monde"}
    langs = {"en-1": "en", "en-2": "en", "fr-1": "fr"}
    r = score(refs, hyps, langs)
    assert sorted(r.by_lang) == ["en", "fr"]
    en, fr = r.by_lang["en"], r.by_lang["fr"]
    assert (en.num_utterances, en.num_words, en.deletions) == (2, 6, 1)
    assert en.wer == pytest.approx(1 / 6)
    assert fr.wer == pytest.approx(2 / 4)
    assert r.wer == pytest.approx(3 / 10)
    assert r.words == en.words + fr.words
    assert score(refs, hyps).by_lang == {}


def test_missing_hypothesis_counts_as_deletions_and_is_reported():
    refs = {"a": "one two three", "b": "four five"}
    r = score(refs, {"a": "one two three", "zzz": "stray"}, {"a": "en", "b": "de"})
    assert r.deletions == 2 and r.wer == pytest.approx(2 / 5)
    assert r.missing == ("b",) and r.unexpected == ("zzz",)
    assert r.by_lang["de"].missing == ("b",) and r.by_lang["en"].missing == ()
    assert r.num_utterances == 2
    text = format_report(r)
    assert "missing hypotheses: 1 (b)" in text
    assert "hypotheses without reference: 1 (zzz)" in text
    lines = text.splitlines()
    assert lines[1].split()[:4] == ["all", "2", "5", "40.00%"]
    assert lines[2].split()[0] == "de" and lines[3].split()[0] == "en"
    d = json.loads(json.dumps(r.to_dict()))
    assert d["wer"] == pytest.approx(0.4) and d["words"]["deletions"] == 2
    assert d["by_lang"]["de"]["wer"] == 1.0 and d["missing"] == ["b"]


def test_normalize_applies_to_both_sides():
    r = score({"u": "Hello, World"}, {"u": "hello world"}, normalize=lambda s: s.lower().replace(",", ""))
    assert r.wer == 0.0


def test_read_kaldi_and_jsonl_text_files(tmp_path):
    kaldi = tmp_path / "text"
    kaldi.write_text("utt1 hello  world\nutt2\n\nutt3\tbonjour\n", encoding="utf-8")
    texts, langs = read_text_file(kaldi)
    assert texts == {"utt1": "hello  world", "utt2": "", "utt3": "bonjour"} and langs == {}
    jsonl = tmp_path / "hyp.jsonl"
    jsonl.write_text(
        '{"id": "utt1", "text": "hello word", "lang": "en"}\n'
        '{"id": "utt3", "text": "bonjour", "lang": "fr", "audio": "x.wav", "duration": 1}\n'
    )
    hyps, hyp_langs = read_text_file(jsonl)
    assert hyps == {"utt1": "hello word", "utt3": "bonjour"}
    assert hyp_langs == {"utt1": "en", "utt3": "fr"}
    r = score(texts, hyps, hyp_langs)
    assert r.missing == ("utt2",) and r.by_lang["und"].missing == ("utt2",)


@pytest.mark.parametrize(
    "content, problem",
    [
        ('{"id": "a", "text": "x"}\n{"id": "b", "text": 3}\n', "'text' must be a string"),
        ('{"id": "a", "text": "x"}\n{"id": "b"}\n', "missing required field 'text'"),
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "duplicate id 'a'"),
        ('{"id": "a", "text": "x"}\n{"id": "b", \n', "invalid JSON"),
        ("a x\na y\n", "duplicate id 'a'"),
    ],
)
def test_bad_text_file_names_file_and_line(tmp_path, content, problem):
    path = tmp_path / "hyp"
    path.write_text(content)
    with pytest.raises(ManifestError, match=problem) as e:
        read_text_file(path)
    assert str(e.value).startswith(f"{path}:2: ")
