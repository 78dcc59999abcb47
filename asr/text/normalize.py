"""Per-language text normalization for ASR training targets and scoring.

The same function must run on training transcripts and on references before
WER is computed, so that both sides agree. The steps, in order:

1. Unicode NFC; typographic apostrophes (``’ ‘ ʼ ′``) become ``'``.
2. Numbers written with digits become words through
   :func:`asr.text.numbers.number_to_words` (languages it knows only):

   * ``1,000`` (en, sw) / ``1.000`` (es, de, it) / ``1 000`` or ``1.000`` (fr):
     the language's thousands separator followed by exactly three digits
     groups an integer;
   * any other ``3.5`` or ``3,5`` is a decimal, read with the language's word
     for the separator (point, coma, Komma, virgule, virgola, nukta). The
     fractional digits are read one by one in en, de and sw ("three point one
     four") and as a number in es, fr and it ("tres coma catorce");
   * numbers of a million or more are read digit by digit;
   * signs, ordinals (``1st``, ``2º``) and currencies are not interpreted: the
     sign is dropped with the punctuation, ``1st`` becomes "one st".

   ``%`` and ``&`` become the language's word.
3. Lower case (``str.lower``: German ``ß`` stays ``ß``).
4. Punctuation and symbols become spaces, except an apostrophe between two
   letters (``don't``, ``l'eau``, ``aujourd'hui``, ``l'acqua``, ``ng'ombe``);
   quotes around words and the possessive ``students'`` lose theirs. Hyphens
   therefore split words: ``twenty-one`` -> ``twenty one``.
5. Whitespace runs collapse to one space; no leading or trailing space.

Unknown languages get steps 1, 3, 4 and 5 only: digits stay digits, and a
``.`` or ``,`` between two digits is kept (``3.5`` stays ``3.5``).

Example:
    >>> normalize("L’eau coûte 3,50 € !", "fr") 
    "l'eau coûte trois virgule cinquante"
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["normalize", "Normalizer", "LANGUAGE_RULES", "LanguageRules"]


@dataclass(frozen=True)
class LanguageRules:
    """How one language writes and reads numbers and a few symbols."""

    decimal_word: str  # how the decimal separator is read
    group_separators: str  # characters that group thousands: "1,000"
    fraction_digitwise: bool  # "3.14": "one four" (True) or "fourteen" (False)
    symbol_words: tuple[tuple[str, str], ...]  # ("%", "percent"), ...


LANGUAGE_RULES: dict[str, LanguageRules] = {
    "en": LanguageRules("point", ",", True, (("%", "percent"), ("&", "and"))),
    "es": LanguageRules("coma", ".", False, (("%", "por ciento"), ("&", "y"))),
    "de": LanguageRules("komma", ".", True, (("%", "prozent"), ("&", "und"))),
    "fr": LanguageRules("virgule", ". \u00a0\u202f", False, (("%", "pour cent"), ("&", "et"))),
    "it": LanguageRules("virgola", ".", False, (("%", "per cento"), ("&", "e"))),
    "sw": LanguageRules("nukta", ",", True, (("%", "asilimia"), ("&", "na"))),
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"})
_WORD_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")  # between two letters
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[.,](?=\d)")


@dataclass(frozen=True)
class Normalizer:
    """A configured normalizer; ``Normalizer(lang)(text)`` is :func:`normalize`.

    Attributes:
        lang: asr language code (``en``, ``es``, ``de``, ``fr``, ``it``, ``sw``,
            ...); others get the generic rules.
        keep_case: skip lower-casing.
        keep_punct: keep punctuation and symbols (apostrophes are still
            unified and whitespace still collapsed).
        expand_digits: write numbers as words (languages in
            :data:`LANGUAGE_RULES` only).
    """

    lang: str
    keep_case: bool = False
    keep_punct: bool = False
    expand_digits: bool = True

    def __call__(self, text: str) -> str:
        """Normalize one transcript."""
        text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
        rules = LANGUAGE_RULES.get(self.lang)
        if self.expand_digits and rules is not None:
            text = _expand_numbers(text, self.lang, rules)
            if not self.keep_punct:
                for sym, word in rules.symbol_words:
                    text = text.replace(sym, f" {word} ")
        if not self.keep_case:
            text = text.lower()
        if not self.keep_punct:
            text = _strip_punctuation(text, keep_digit_separators=rules is None or not self.expand_digits)
        return " ".join(text.split())


def normalize(text: str, lang: str) -> str:
    """Normalize ``text`` in language ``lang`` for ASR training or scoring.

    Lower case, numbers as words, no punctuation but word-internal
    apostrophes, single spaces; see the module docstring for the rules.

    Example:
        >>> normalize("Don't wait—it's 21 o'clock!", "en")
        "don't wait it's twenty one o'clock"
    """
    return _normalizer(lang)(text)


@lru_cache(maxsize=64)
def _normalizer(lang: str) -> Normalizer:
    return Normalizer(lang)


def _strip_punctuation(text: str, keep_digit_separators: bool) -> str:
    """Replace every character that is not a letter, mark, digit, space or
    word-internal apostrophe by a space."""
    keep = set()
    for m in _WORD_APOSTROPHE.finditer(text):
        keep.add(m.start())
    if keep_digit_separators:
        for m in _DIGIT_SEPARATOR.finditer(text):
            keep.add(m.start())
    out = []
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or ch.isspace() or i in keep:
            out.append(ch)
        else:
            out.append(" ")
    return "".join(out)


@lru_cache(maxsize=None)
def _number_pattern(lang: str) -> re.Pattern[str]:
    """An integer part (thousands grouped or plain) and an optional decimal part."""
    groups = re.escape(LANGUAGE_RULES[lang].group_separators)
    return re.compile(rf"(?P<int>\d{{1,3}}(?:[{groups}]\d{{3}})+(?!\d)|\d+)(?:[.,](?P<frac>\d+))?")


def _expand_numbers(text: str, lang: str, rules: LanguageRules) -> str:
    """Replace every number written with digits by words (spaced off adjacent letters)."""

    def spoken(m: re.Match[str]) -> str:
        left = " " if m.start() > 0 and m.string[m.start() - 1].isalnum() else ""
        right = " " if m.end() < len(m.string) and m.string[m.end()].isalnum() else ""
        return f"{left}{words(m)}{right}"

    def words(m: re.Match[str]) -> str:
        whole = _integer_words(re.sub(r"\D", "", m.group("int")), lang)
        frac = m.group("frac")
        if frac is None:
            return whole
        if rules.fraction_digitwise:
            frac_words = [_integer_words(d, lang) for d in frac]
        else:  # leading zeros are read, then the rest as a number: 3,05 -> tres coma cero cinco
            rest = frac.lstrip("0")
            frac_words = [_integer_words("0", lang)] * (len(frac) - len(rest))
            if rest:
                frac_words.append(_integer_words(rest, lang))
        return f"{whole} {rules.decimal_word} {' '.join(frac_words)}"

    return _number_pattern(lang).sub(spoken, text)


def _integer_words(digits: str, lang: str) -> str:
    """Words of a non-negative integer given as digits; digit by digit when
    :func:`number_to_words` cannot say it (a million or more)."""
    from asr.text.numbers import number_to_words

    try:
        return number_to_words(int(digits), lang)
    except ValueError:
        return " ".join(number_to_words(int(d), lang) for d in digits)
