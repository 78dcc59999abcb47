"""asr.text.lexicon and asr.text.g2p: lexicon files, espeak-ng pronunciations."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from asr.text.g2p import STRESS_MARKS, build_lexicon, extend_with_g2p, g2p
from asr.text.lexicon import Lexicon
from asr.text.tokenizer import PhoneTokenizer


def test_lexicon_basics() -> None:
    lex = Lexicon({"read": [("ɹ", "iː", "d"), ("ɹ", "ɛ", "d")], "a": [("ə",)]})
    lex.add("read", ["ɹ", "iː", "d"])  # repeat: ignored
    assert "read" in lex and "write" not in lex and len(lex) == 2
    assert lex.pronounce("read") == ("ɹ", "iː", "d")
    assert lex.pronunciations("read") == [("ɹ", "iː", "d"), ("ɹ", "ɛ", "d")]
    assert lex.phones() == ["d", "iː", "ə", "ɛ", "ɹ"]  # code point order
    with pytest.raises(KeyError, match="write"):
        lex.pronounce("write")
    with pytest.raises(ValueError, match="no phones"):
        lex.add("empty", [])


def test_lexicon_file_round_trip(tmp_path: Path) -> None:
    lex = Lexicon()
    lex.add("kitchen", ("k", "ɪ", "tʃ", "ə", "n"))
    lex.add("l'eau", ("l", "o"))
    lex.add("either", ("iː", "ð", "ɚ"), prob=0.6)
    lex.add("either", ("aɪ", "ð", "ɚ"), prob=0.4)
    path = tmp_path / "lexicon.txt"
    lex.to_file(path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "kitchen k ɪ tʃ ə n"
    plain = Lexicon.from_file(path)
    assert plain.pronunciations("either") == lex.pronunciations("either")
    assert plain.prob("either", ("aɪ", "ð", "ɚ")) == 1.0  # plain lexicon: no probabilities

    lex.to_file(tmp_path / "lexiconp.txt", with_probs=True)
    withp = Lexicon.from_file(tmp_path / "lexiconp.txt")  # detected from the first line
    assert withp == lex and withp.prob("either", ("aɪ", "ð", "ɚ")) == 0.4


@pytest.mark.parametrize(
    "content, line, message",
    [
        ("a ə\nb\n", 2, "no phones"),
        ("a ə\n\nb b iː\nc\n", 4, "no phones"),
        ("a 1.0 ə\nb b iː\n", 2, "expected 'word prob phone"),
        ("a 1.0 ə\nb 1.5 b iː\n", 2, r"\(0, 1\]"),
    ],
)
def test_lexicon_malformed_file(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "lexicon.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        Lexicon.from_file(path)
    assert f"lexicon.txt:{line}:" in str(err.value)


@pytest.mark.parametrize(
    "lang, word, phones",
    [
        ("en", "kitchen", ("k", "ɪ", "tʃ", "ə", "n")),
        ("en", "cat", ("k", "æ", "t")),
        ("es", "perro", ("p", "e", "r", "o")),
        ("es", "casa", ("k", "a", "s", "a")),
        ("de", "straße", ("ʃ", "t", "ɾ", "ɑː", "s", "ə")),  # length stays on the vowel
        ("de", "ich", ("ɪ", "ç")),
        ("fr", "bonjour", ("b", "ɔ̃", "ʒ", "u", "ʁ")),
        ("fr", "l'eau", ("l", "o")),
        ("fr", "weekend", ("w", "iː", "k", "ɛ", "n", "d")),  # "(en)" switch markers dropped
        ("it", "l'acqua", ("l", "a", "kː", "w", "a")),
        ("sw", "habari", ("h", "a", "b", "a", "r", "i")),
    ],
)
def test_g2p_phones(lang: str, word: str, phones: tuple[str, ...]) -> None:
    assert g2p([word], lang) == {word: phones}


def test_g2p_stress() -> None:
    words = ["kitchen", "hello", "banana", "understand"]
    plain = g2p(words, "en")
    stressed = g2p(words, "en", keep_stress=True)
    for word in words:
        assert not any(m in p for p in plain[word] for m in STRESS_MARKS)
        assert any(m in p for p in stressed[word] for m in STRESS_MARKS)
        assert tuple(p.strip(STRESS_MARKS) for p in stressed[word]) == plain[word]
    assert stressed["kitchen"] == ("k", "ˈɪ", "tʃ", "ə", "n")


def test_g2p_errors() -> None:
    with pytest.raises(ValueError, match="single words"):
        g2p(["two words"], "en")
    with pytest.raises(ValueError, match=r"'\.\.\.'"):
        g2p(["..."], "en")  # espeak says nothing for it
    with pytest.raises(ValueError, match="voice"):
        g2p(["word"], "no-such-language")


def test_build_and_extend_with_g2p(caplog: pytest.LogCaptureFixture) -> None:
    lex = build_lexicon(["the", "cat"], "en")
    assert lex.pronounce("cat") == ("k", "æ", "t")
    with caplog.at_level(logging.WARNING, logger="asr.text.g2p"):
        added = extend_with_g2p(lex, ["the", "cat", "kitchen", "kitchen"], "en")
    assert added == ["kitchen"]
    assert lex.pronounce("kitchen") == ("k", "ɪ", "tʃ", "ə", "n")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "kitchen" in warnings[0].getMessage() and "cat" not in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="asr.text.g2p"):
        assert extend_with_g2p(lex, ["cat"], "en") == []
    assert not caplog.records


def test_phone_tokenizer_from_g2p_lexicon() -> None:
    sentence = "la casa del perro"
    lex = build_lexicon(sentence.split(), "es")
    tok = PhoneTokenizer.from_lexicon(lex, word_boundary="|")
    ids = tok.encode(sentence)
    assert 0 not in ids and tok.unk_id not in ids
    assert ids.count(tok.tokens.index("|")) == 3
    words = tok.decode(ids).split("  ")
    assert words[1] == "k a s a" and words[3] == "p e r o"
