"""asr.text.tokenizer and asr.text.symbols: ids, round trips, save/load."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from asr.text.lexicon import Lexicon
from asr.text.symbols import BLANK, EPS, UNK, SymbolTable
from asr.text.tokenizer import (
    TOKENIZERS,
    CharTokenizer,
    PhoneTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    load_tokenizer,
)

MULTILINGUAL = [
    "the quick brown fox don't stop",
    "el niño comió una piña",
    "die straße ist schön und grün",
    "l'eau est très froide aujourd'hui",
    "perché l'acqua è così fredda",
    "ng'ombe wangu ana maziwa",
]


def make_sentences(n: int = 200, seed: int = 0) -> list[str]:
    """Short English-like sentences from a few templates."""
    rng = random.Random(seed)
    subjects = ["the cat", "a dog", "my friend", "the teacher", "our neighbour", "her little sister"]
    verbs = ["sees", "likes", "finds", "calls", "follows", "waits for"]
    objects = ["the bird", "a house", "the river", "my brother", "the old tree", "a red car"]
    endings = ["today", "every morning", "quickly", "again", "at night", "near the station"]
    return [
        f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(endings)}"
        for _ in range(n)
    ]


# -- symbol table --------------------------------------------------------------------


def test_symbol_table_lookup_both_ways() -> None:
    table = SymbolTable([EPS, "hello", "world"])
    assert table["hello"] == 1 and table[2] == "world"
    assert table.add("again") == 3
    assert table.add("hello") == 1  # idempotent
    assert table.add("gap", 10) == 10 and table.max_id == 10
    assert "world" in table and 10 in table and 5 not in table
    with pytest.raises(ValueError, match="already has id"):
        table.add("hello", 7)
    with pytest.raises(ValueError, match="already belongs"):
        table.add("other", 2)
    with pytest.raises(ValueError, match="whitespace"):
        table.add("two words")
    with pytest.raises(KeyError, match="nope"):
        table["nope"]


def test_symbol_table_file_round_trip(tmp_path: Path) -> None:
    table = SymbolTable([BLANK, UNK, "a", "é", "ŋ", "▁the"])
    table.add("#0", 42)
    path = tmp_path / "tokens.txt"
    table.to_file(path)
    assert path.read_text(encoding="utf-8").splitlines()[:2] == ["<blk> 0", "<unk> 1"]
    again = SymbolTable.from_file(path)
    assert again == table
    assert again.symbols == table.symbols and again.ids == table.ids


@pytest.mark.parametrize(
    "content, line, message",
    [
        ("<eps> 0\na 1\nb\n", 3, "expected 'symbol id'"),
        ("<eps> 0\na one\n", 2, "not an integer"),
        ("<eps> 0\na 1\n\nb 2\na 3\n", 5, "duplicate symbol 'a'"),
        ("<eps> 0\na 1\nb 1\n", 3, "duplicate id 1"),
        ("<eps> 0\na -4\n", 2, ">= 0"),
    ],
)
def test_symbol_table_malformed_file(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "words.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        SymbolTable.from_file(path)
    assert f"words.txt:{line}:" in str(err.value)


# -- char ------------------------------------------------------------------------------


def test_char_tokenizer_round_trip(tmp_path: Path) -> None:
    tok = CharTokenizer.build(MULTILINGUAL)
    assert isinstance(tok, Tokenizer)
    assert tok.tokens[:3] == [BLANK, UNK, "|"] and tok.blank_id == 0 and tok.unk_id == 1
    for text in MULTILINGUAL:
        ids = tok.encode(text)
        assert 0 not in ids and tok.unk_id not in ids
        assert len(ids) == len(text)  # one id per character, one "|" per space
        assert tok.decode(ids) == text
    assert "ñ" in tok.tokens and "ß" in tok.tokens and "'" in tok.tokens
    # blanks are skipped, unknown characters are <unk>
    ids = tok.encode("zoé")
    assert tok.decode([0, *ids, 0]) == "zoé"
    assert tok.decode(tok.encode("qжw")) == "q<unk>w"
    tok.save(tmp_path)
    again = load_tokenizer(tmp_path)
    assert isinstance(again, CharTokenizer)
    assert again.tokens == tok.tokens
    assert [again.encode(t) for t in MULTILINGUAL] == [tok.encode(t) for t in MULTILINGUAL]


def test_char_tokenizer_rejects_boundary_in_text() -> None:
    with pytest.raises(ValueError, match="word boundary"):
        CharTokenizer.build(["a|b"])


# -- sentencepiece ---------------------------------------------------------------------


@pytest.mark.parametrize("model_type, vocab_size", [("bpe", 60), ("unigram", 40)])
def test_sentencepiece_round_trip(tmp_path: Path, model_type: str, vocab_size: int) -> None:
    texts = make_sentences()
    tok = SentencePieceTokenizer.train(iter(texts), vocab_size, tmp_path / "a", model_type=model_type)
    assert tok.vocab_size == vocab_size and len(tok.tokens) == vocab_size
    assert tok.tokens[0] == BLANK and tok.blank_id == 0 and tok.unk_id == 1
    all_ids = [tok.encode(t) for t in texts]
    for text, ids in zip(texts, all_ids):
        assert ids and 0 not in ids and tok.unk_id not in ids
        assert max(ids) < vocab_size
        assert tok.decode(ids) == text
    assert len(set().union(*map(set, all_ids))) > vocab_size // 2  # the vocabulary is used

    loaded = load_tokenizer(tmp_path / "a")
    assert isinstance(loaded, SentencePieceTokenizer)
    assert [loaded.encode(t) for t in texts] == all_ids
    assert json.loads((tmp_path / "a" / "tokenizer.json").read_text())["kind"] == "sentencepiece"
    assert SymbolTable.from_file(tmp_path / "a" / "tokens.txt").symbols == tok.tokens

    # deterministic: training again gives the same model
    SentencePieceTokenizer.train(texts, vocab_size, tmp_path / "b", model_type=model_type)
    assert (tmp_path / "a" / "spm.model").read_bytes() == (tmp_path / "b" / "spm.model").read_bytes()


def test_sentencepiece_unknown_characters(tmp_path: Path) -> None:
    tok = SentencePieceTokenizer.train(make_sentences(), 50, tmp_path)
    ids = tok.encode("the zebra")
    assert 0 not in ids and tok.unk_id in ids


# -- phone -----------------------------------------------------------------------------


def test_phone_tokenizer(tmp_path: Path) -> None:
    lex = Lexicon({"the": [("ð", "ə")], "cat": [("k", "æ", "t")], "sat": [("s", "æ", "t")]})
    tok = PhoneTokenizer.from_lexicon(lex, word_boundary="|")
    assert tok.tokens == [BLANK, UNK, "|", "k", "s", "t", "æ", "ð", "ə"]
    ids = tok.encode("the cat sat")
    assert [tok.tokens[i] for i in ids] == ["ð", "ə", "|", "k", "æ", "t", "|", "s", "æ", "t"]
    assert tok.decode(ids) == "ð ə  k æ t  s æ t"
    assert tok.encode("the dog") == [*tok.encode("the"), 2, tok.unk_id]

    plain = PhoneTokenizer.from_lexicon(lex, on_oov="error")
    assert plain.decode(plain.encode("cat sat")) == "k æ t s æ t"
    with pytest.raises(KeyError, match="dog"):
        plain.encode("the dog")

    tok.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert isinstance(loaded, PhoneTokenizer)
    assert loaded.tokens == tok.tokens and loaded.encode("the cat sat") == ids


def test_registry_and_unknown_kind(tmp_path: Path) -> None:
    assert set(TOKENIZERS) == {"char", "sentencepiece", "phone"}
    (tmp_path / "tokenizer.json").write_text('{"kind": "morse"}')
    with pytest.raises(ValueError, match="morse"):
        load_tokenizer(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_tokenizer(tmp_path / "missing")
