"""asr.text.normalize: per-language normalization for training and scoring."""

from __future__ import annotations

import pytest

from asr.text.normalize import LANGUAGE_RULES, Normalizer, normalize


@pytest.mark.parametrize(
    "lang, text, expected",
    [
        ("en", "I have 21 cats and 3 dogs.", "i have twenty one cats and three dogs"),
        ("es", "Tengo 21 gatos y 3 perros.", "tengo veintiuno gatos y tres perros"),
        ("de", "Ich habe 21 Katzen und 3 Hunde.", "ich habe einundzwanzig katzen und drei hunde"),
        ("fr", "J'ai 21 chats et 3 chiens.", "j'ai vingt et un chats et trois chiens"),
        ("it", "Ho 21 gatti e 3 cani.", "ho ventuno gatti e tre cani"),
        ("sw", "Nina paka 21 na mbwa 3.", "nina paka ishirini na moja na mbwa tatu"),
    ],
)
def test_digits_become_words(lang: str, text: str, expected: str) -> None:
    assert normalize(text, lang) == expected


@pytest.mark.parametrize(
    "lang, text, expected",
    [
        ("en", "1,000 people", "one thousand people"),
        ("en", "3.5 kg", "three point five kg"),
        ("en", "pi is 3.14", "pi is three point one four"),
        ("en", "1,000.5", "one thousand point five"),
        ("de", "1.000 Leute", "tausend leute"),
        ("de", "3,5 kg", "drei komma fünf kg"),
        ("es", "1.000 personas y 3,5 kilos", "mil personas y tres coma cinco kilos"),
        ("fr", "10 000 euros, 3,25 kilos", "dix mille euros trois virgule vingt cinq kilos"),
        ("it", "3,05 chili", "tre virgola zero cinque chili"),
        ("en", "50% & more", "fifty percent and more"),
        ("en", "a 2000000 b", "a two zero zero zero zero zero zero b"),  # over number_to_words' range
    ],
)
def test_grouped_and_decimal_numbers(lang: str, text: str, expected: str) -> None:
    assert normalize(text, lang) == expected


@pytest.mark.parametrize(
    "lang, text, expected",
    [
        ("en", "Don't say 'hello', students' rights!", "don't say hello students rights"),
        ("en", "It’s John’s", "it's john's"),  # typographic apostrophe
        ("fr", "L’eau d’aujourd’hui, c'est «bien» !", "l'eau d'aujourd'hui c'est bien"),
        ("it", "L'acqua dell’isola è pulita.", "l'acqua dell'isola è pulita"),
        ("sw", "Ng'ombe wangu", "ng'ombe wangu"),
        ("es", "¿Qué tal? ¡Muy bien!", "qué tal muy bien"),
        ("de", "Die STRASSE, die Straße.", "die strasse die straße"),
    ],
)
def test_apostrophes_punctuation_case(lang: str, text: str, expected: str) -> None:
    assert normalize(text, lang) == expected


def test_hyphens_and_whitespace() -> None:
    assert normalize("  a well-known   state-of-the-art\tmodel — really\n", "en") == (
        "a well known state of the art model really"
    )


def test_unicode_nfc() -> None:
    decomposed = "cafe\u0301"  # e + combining acute
    assert normalize(decomposed, "fr") == "caf\u00e9"


def test_unknown_language_keeps_digits() -> None:
    assert normalize("Hello, World 42! Pi = 3.14.", "xx") == "hello world 42 pi 3.14"


def test_normalizer_options() -> None:
    assert Normalizer("en", keep_case=True)("Hello, World 2!") == "Hello World two"
    assert Normalizer("en", keep_punct=True)("Hello,   World 2!") == "hello, world two!"
    assert Normalizer("en", expand_digits=False)("Room 12, floor 3.") == "room 12 floor 3"


def test_idempotent() -> None:
    for lang in LANGUAGE_RULES:
        once = normalize("L’été 2024 — 3,5 % plus «cher»; don't-stop!", lang)
        assert normalize(once, lang) == once
        assert not any(ch.isdigit() for ch in once)
