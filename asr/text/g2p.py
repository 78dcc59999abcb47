"""Grapheme-to-phoneme conversion through espeak-ng (:mod:`asr.espeak`).

Each word is phonemized on its own (espeak joins words with spaces, so a
sentence cannot be split back into words) and the result is cached per
``(word, voice)``. Phones are IPA as espeak-ng writes them: ``tʃ`` and
``aɪ`` are one phone, length ``ː`` stays part of its phone (``ɑː``), and the
stress marks ``ˈ ˌ`` are removed unless ``keep_stress=True`` (then they stay
attached to the vowel that follows them, ``ˈɪ``). espeak's language-switch
markers (``(en)``, ``(fr)``, written around loan words) are dropped.

:func:`build_lexicon` makes a :class:`~asr.text.lexicon.Lexicon` of such
pronunciations and :func:`extend_with_g2p` adds them to one for the words it
lacks (this module builds on :mod:`asr.text.lexicon`, never the reverse).

Example:
    >>> g2p(["kitchen"], "en")
    {'kitchen': ('k', 'ɪ', 'tʃ', 'ə', 'n')}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

from asr.espeak import ESPEAK_VOICES, get_espeak
from asr.text.lexicon import Lexicon

__all__ = ["g2p", "build_lexicon", "extend_with_g2p", "espeak_voice", "STRESS_MARKS"]

logger = logging.getLogger(__name__)

STRESS_MARKS = "ˈˌ"  # primary, secondary
_LANGUAGE_SWITCH = re.compile(r"^\([\w-]+\)$")  # "(en)" around a loan word


def espeak_voice(lang: str) -> str:
    """The espeak-ng voice for an asr language code (``en`` -> ``en-us``).

    A code that is not in :data:`asr.espeak.ESPEAK_VOICES` is taken to be an
    espeak voice name itself (``en-gb``); espeak rejects it if it is not.
    """
    return ESPEAK_VOICES.get(lang, lang)


def g2p(words: Iterable[str], lang: str, keep_stress: bool = False) -> dict[str, tuple[str, ...]]:
    """Pronounce each word with espeak-ng.

    Args:
        words: single words (no whitespace), e.g. from a normalized corpus;
            repeats are pronounced once.
        lang: asr language code (or an espeak voice name).
        keep_stress: keep ``ˈ ˌ`` attached to the stressed vowels.

    Returns:
        ``word -> phones`` in the order the words came.

    Raises:
        ValueError: a word is empty or contains whitespace, espeak-ng gives no
            phones for it (the message names the word and language), or the
            language has no espeak voice.
    """
    voice = espeak_voice(lang)
    out: dict[str, tuple[str, ...]] = {}
    for word in words:
        if word in out:
            continue
        phones = _phonemize_word(word, voice)
        if not keep_stress:
            phones = tuple(p for p in (_strip_stress(p) for p in phones) if p)
        if not phones:
            raise ValueError(f"espeak-ng ({voice}) gives no phones for the word {word!r} ({lang})")
        out[word] = phones
    return out


def build_lexicon(words: Iterable[str], lang: str, keep_stress: bool = False) -> Lexicon:
    """A :class:`Lexicon` with one espeak-ng pronunciation for each word.

    Raises:
        ValueError: as :func:`g2p`.
    """
    lexicon = Lexicon()
    for word, phones in g2p(words, lang, keep_stress=keep_stress).items():
        lexicon.add(word, phones)
    return lexicon


def extend_with_g2p(lexicon: Lexicon, words: Iterable[str], lang: str, keep_stress: bool = False) -> list[str]:
    """Add espeak-ng pronunciations (:func:`g2p`) of the words not yet in ``lexicon``.

    Logs a warning naming the words added, since generated pronunciations
    deserve a look.

    Returns:
        The words added, in the order first seen.

    Raises:
        ValueError: espeak-ng cannot pronounce one of the missing words.
    """
    missing = [w for w in dict.fromkeys(words) if w not in lexicon]
    if not missing:
        return []
    for word, phones in g2p(missing, lang, keep_stress=keep_stress).items():
        lexicon.add(word, phones)
    logger.warning("added %d word(s) to the lexicon by g2p (%s): %s", len(missing), lang, " ".join(missing))
    return missing


@lru_cache(maxsize=1 << 16)
def _phonemize_word(word: str, voice: str) -> tuple[str, ...]:
    """espeak's phones of one word, stress marks kept, attached to the next phone."""
    if not word or any(ch.isspace() for ch in word):
        raise ValueError(f"g2p takes single words, got {word!r}")
    raw = get_espeak().phonemize(word, voice, ipa=True, separator=" ")
    phones: list[str] = []
    pending = ""  # a stress mark espeak wrote as its own token
    for tok in raw.split():
        if _LANGUAGE_SWITCH.match(tok):
            continue
        if all(ch in STRESS_MARKS for ch in tok):
            pending += tok
            continue
        phones.append(pending + tok)
        pending = ""
    return tuple(phones)


def _strip_stress(phone: str) -> str:
    return "".join(ch for ch in phone if ch not in STRESS_MARKS)
