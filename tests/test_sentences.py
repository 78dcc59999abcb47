"""Sentence generators for the synthetic corpus (asr.data.sentences)."""

from __future__ import annotations

import random
import re

import pytest

from asr.data.sentences import LANG_CHARS, LANGS, SentenceGenerator, content_words, held_out_words


@pytest.fixture(scope="module")
def generated():
    """Per language: 2000 train, 1000 dev, 1000 test sentences."""
    out = {}
    for i, lang in enumerate(LANGS):
        gen = SentenceGenerator(lang)
        out[lang] = {
            "train": gen.samples(random.Random(100 + i), 2000, "train"),
            "dev": gen.samples(random.Random(200 + i), 1000, "dev"),
            "test": gen.samples(random.Random(300 + i), 1000, "test"),
        }
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_deterministic(lang):
    a = SentenceGenerator(lang).samples(random.Random(42), 200, "test")
    b = SentenceGenerator(lang).samples(random.Random(42), 200, "test")
    assert a == b
    c = SentenceGenerator(lang).samples(random.Random(43), 200, "test")
    assert a != c
    rng = random.Random(7)
    state = rng.getstate()
    first = SentenceGenerator(lang).sample(rng, "train")
    rng.setstate(state)
    assert SentenceGenerator(lang).sample(rng, "train") == first


@pytest.mark.parametrize("lang", LANGS)
def test_normalized_characters(lang, generated):
    letters = LANG_CHARS[lang].replace("'", "")
    word = re.compile(rf"^[{letters}]+('[{letters}]+)*$")
    for split, sents in generated[lang].items():
        for s in sents:
            assert s and s == s.strip() and "  " not in s, s
            for w in s.split(" "):
                assert word.match(w), (lang, split, s, w)


@pytest.mark.parametrize("lang", LANGS)
def test_held_out_words_only_in_test(lang, generated):
    held = held_out_words(lang)
    assert len(held) >= 20
    assert held <= content_words(lang) | {w for w in held if "'" in w}
    for split in ("train", "dev"):
        leaked = {w for s in generated[lang][split] for w in s.split()} & held
        assert not leaked, (lang, split, sorted(leaked))
    test = generated[lang]["test"]
    with_held = sum(any(w in held for w in s.split()) for s in test)
    assert 0.2 * len(test) <= with_held <= 0.4 * len(test)
    train_words = {w for s in generated[lang]["train"] for w in s.split()}
    test_words = {w for s in test for w in s.split()}
    assert len((test_words - train_words) & held) >= 10
    held.clear()  # a copy: the module's set stays intact
    assert held_out_words(lang)


def test_held_out_rate_zero_and_one():
    gen = SentenceGenerator("en", held_out_rate=0.0)
    held = held_out_words("en")
    assert not any(w in held for s in gen.samples(random.Random(0), 300, "test") for w in s.split())
    gen = SentenceGenerator("en", held_out_rate=1.0)
    sents = gen.samples(random.Random(0), 100, "test")
    assert sum(any(w in held for w in s.split()) for s in sents) >= 95


@pytest.mark.parametrize("lang", LANGS)
def test_variety(lang, generated):
    assert len(set(generated[lang]["train"][:1000])) >= 500
    assert len(set(generated[lang]["test"])) >= 500
    assert len(content_words(lang)) >= 300
    first_words = {s.split()[0] for s in generated[lang]["train"]}
    assert len(first_words) >= 20  # many templates, not one


# cheap grammar regressions: contractions and elisions the templates must apply
GRAMMAR_NEVER = {
    "es": r"\b(de|a) el\b",
    "de": r"\b(in|zu|an|von|bei) dem\b",
    "fr": r"\b(le|la|de|ce|que) (?!onze\b|huit\b)[aeiouyéèêàâîôœ]|\bà le\b|\bde le\b|\bà les\b|\bde les\b",
    "it": r"\b(il|i) ([aeiouàèéìòù]|s[^aeiouàèéìòù]|z)|\b(a|di|in|su) (il|lo|la|i|gli|le)\b",
    "en": r"\ba [aeiou]",
    "sw": r"\b(\w+) \1\b",  # no doubled word
}


@pytest.mark.parametrize("lang", LANGS)
def test_grammar_regressions(lang, generated):
    pattern = re.compile(GRAMMAR_NEVER[lang])
    bad = [s for sents in generated[lang].values() for s in sents if pattern.search(s)]
    assert not bad, bad[:5]


def test_some_agreement():
    from asr.data.sentences import ES_ITEMS

    rng = random.Random(0)
    es = SentenceGenerator("es").samples(rng, 3000, "train")
    fem = "|".join(e.pl for e in ES_ITEMS if e.g == "f")
    masc = "|".join(e.pl for e in ES_ITEMS if e.g == "m")
    counted_fem = re.compile(rf"^(necesito|por favor pide|solo nos quedan) (.*) ({fem})$")
    counted_masc = re.compile(rf"^(necesito|por favor pide|solo nos quedan) (.*) ({masc})$")
    fem_numbers = [m.group(2) for s in es if (m := counted_fem.match(s))]
    masc_numbers = [m.group(2) for s in es if (m := counted_masc.match(s))]
    assert any("ientas" in n for n in fem_numbers) and not any("ientos" in n for n in fem_numbers)
    assert any("ientos" in n for n in masc_numbers) and not any("ientas" in n for n in masc_numbers)
    assert not any(re.search(r"\buno$", n) for n in masc_numbers)  # veintiún libros, not veintiuno
    de = SentenceGenerator("de").samples(rng, 3000, "train")
    assert any(" am " in s and re.search(r"ten \w+$|sten \w+", s) for s in de)  # am vierten mai


def test_errors():
    with pytest.raises(ValueError):
        SentenceGenerator("xx")
    with pytest.raises(ValueError):
        SentenceGenerator("en", held_out_rate=1.5)
    with pytest.raises(ValueError):
        SentenceGenerator("en").sample(random.Random(0), "valid")
    with pytest.raises(ValueError):
        held_out_words("xx")


@pytest.mark.parametrize("lang", LANGS)
def test_espeak_can_say_every_word(lang, generated):
    pytest.importorskip("espeakng_loader")
    from asr.espeak import ESPEAK_VOICES, get_espeak

    espeak = get_espeak()
    sents = generated[lang]["train"][:200] + generated[lang]["test"][:200]
    words = sorted({w for s in sents for w in s.split()})
    bad = {}
    for w in words:
        phones = espeak.phonemize(w, ESPEAK_VOICES[lang])
        # empty, or a switch to another language's voice: "(en) ..."
        if not phones.strip() or "(" in phones:
            bad[w] = phones
    assert not bad, bad
