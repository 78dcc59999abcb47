"""Pronunciation dictionaries in the common plain-text forms (Kaldi, LibriSpeech, CMUdict, Sphinx, TIMIT).

Usage::

    lexicon = read_pronunciations("cmudict-0.7b")          # words lower-cased, stress digits dropped
    lexicon.pronounce("read")                               # ('R', 'IY', 'D')
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from asr.text.lexicon import Lexicon

__all__ = ["read_pronunciations"]

_VARIANT = re.compile(r"\(\d+\)$")  # CMUdict / Sphinx alternative pronunciations: WORD(2)
_STRESS = re.compile(r"(?<=\D)[0-9]$")  # CMUdict AH0, TIMITDIC iy1


def read_pronunciations(path: str | os.PathLike, keep_stress: bool = False) -> Lexicon:
    """A pronunciation dictionary in one of the common plain-text forms, words lower-cased.

    Reads Kaldi ``lexicon.txt`` / ``lexiconp.txt`` (probabilities kept), LibriSpeech's
    ``librispeech-lexicon.txt`` (``WORD<TAB>PHONES``), CMUdict (``;;;`` comments,
    ``WORD(2)`` variants, stress digits), Sphinx dictionaries such as AN4's
    ``etc/an4.dic`` and TIMIT's ``TIMITDIC.TXT`` (``;`` comments, ``word~tag``,
    ``/phones/``). Markup entries (``<UNK>``, ``!SIL``, ``[NOISE]``) are left out.

    Args:
        path: the file.
        keep_stress: keep a trailing stress digit on phones (``AH0``); default: ``AH``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line with a word and no phones, or no entries at all (the file and line are named).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such lexicon file")
    lexicon = Lexicon()
    with path.open(encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.replace("/", " ").split()
            if not fields or fields[0].startswith((";", "#")):
                continue
            word = _VARIANT.sub("", fields[0].split("~")[0]).lower()
            phones, prob = fields[1:], 1.0
            if len(phones) > 1 and _is_prob(phones[0]):
                prob, phones = float(phones[0]), phones[1:]  # lexiconp.txt
            if not keep_stress:
                phones = [_STRESS.sub("", p) for p in phones]
            if word.startswith(("<", "!", "[")) or not word:
                continue
            if not phones:
                raise ValueError(f"{path}:{lineno}: {fields[0]!r} has no phones")
            lexicon.add(word, phones, prob)
    if not len(lexicon):
        raise ValueError(f"{path}: no pronunciations found")
    return lexicon


def _is_prob(text: str) -> bool:
    try:
        return 0.0 < float(text) <= 1.0
    except ValueError:
        return False
