"""Sentences for the synthetic corpus: the text side, in six languages.

:class:`SentenceGenerator` draws one normalized sentence at a time from small
template grammars, one set per language, grouped in families: smart-home and
voice commands, numbers and quantities, dates, times, short descriptions, and
weather / travel / shopping questions. Each template fills its slots from word
lists (nouns with their gender or noun class, adjectives with their forms) and
agrees articles, adjectives and numbers with the noun it uses, so the text has
real structure for a word n-gram LM.

Normalized text: lower case, no punctuation, numbers spelled out with
:mod:`asr.text.numbers`, single spaces; only letters (with the language's
accents, see :data:`LANG_CHARS`) and apostrophes inside words (``don't``,
``l'eau``, ``dov'è``). Hyphenated words are written with a space, as the
numbers are (``après midi``, ``réveille moi``).

Held-out vocabulary: in every language about 10% of the single-word entries of
the open word lists (nouns, names, cities, colours) is held out, chosen by a
hash of the word, so independent of list order. ``train`` and ``dev`` never use
them; in ``test`` a share (``held_out_rate``, 30% by default) of the sentences
contains at least one held-out word and the others use only seen words. See
:func:`held_out_words`.

Determinism: everything is drawn from the ``random.Random`` passed to
:meth:`SentenceGenerator.sample`, from tuples in a fixed order; the same rng
state gives the same sentence.

Layout: this package holds the public API, the registry of languages and the
held-out machinery; :mod:`._base` the shared word-list and template helpers; one
module per language (``en``, ``es``, ``de``, ``fr``, ``it``, ``sw``) its word
lists and template families, all re-exported here.
"""

from __future__ import annotations

import random
import zlib
from functools import lru_cache

from asr.data.sentences._base import Family, L, _Ctx, _LangSpec, _norm
from asr.data.sentences import de, en, es, fr, it, sw

# re-exported: every language's word lists (EN_DEVICES, ...) and template families (en_home, ...)
from asr.data.sentences.de import *  # noqa: F401,F403
from asr.data.sentences.en import *  # noqa: F401,F403
from asr.data.sentences.es import *  # noqa: F401,F403
from asr.data.sentences.fr import *  # noqa: F401,F403
from asr.data.sentences.it import *  # noqa: F401,F403
from asr.data.sentences.sw import *  # noqa: F401,F403
from asr.text.numbers import number_to_words

__all__ = [
    "LANGS",
    "LANG_CHARS",
    "SPLITS",
    "SentenceGenerator",
    "held_out_words",
    "content_words",
]

LANGS: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
SPLITS: tuple[str, ...] = ("train", "dev", "test")
HELD_OUT_FRACTION = 0.10

# the letters a normalized sentence may use (plus space); apostrophes only inside words
LANG_CHARS: dict[str, str] = {
    "en": "abcdefghijklmnopqrstuvwxyz'",
    "es": "abcdefghijklmnopqrstuvwxyzáéíóúüñ'",
    "de": "abcdefghijklmnopqrstuvwxyzäöüß'",
    "fr": "abcdefghijklmnopqrstuvwxyzàâæçéèêëîïôœùûüÿ'",
    "it": "abcdefghijklmnopqrstuvwxyzàèéìíòóùú'",
    "sw": "abcdefghijklmnopqrstuvwxyz'",
}

# the registry: one grammar per language, in the order of LANGS
_SPECS: dict[str, _LangSpec] = {
    "en": en.SPEC, "es": es.SPEC, "de": de.SPEC, "fr": fr.SPEC, "it": it.SPEC, "sw": sw.SPEC,
}
assert tuple(_SPECS) == LANGS


# ============================================================================ held-out words and the generator
_TRACE_SAMPLES = 400  # per family
# elided articles and prepositions that fuse with a following vowel-initial word
_ELISIONS = {"fr": ("l'", "d'"), "it": ("l'", "un'", "all'", "dell'", "nell'", "sull'", "dall'")}


def _reserved_words(lang: str) -> set[str]:
    """Words that must stay seen: numbers, every form in a closed word list, and the
    templates' own words (found by tracing: sentence words no word list supplied)."""
    out: set[str] = set()
    for n in list(range(0, 1001)) + [1000 * k for k in range(1, 100)]:
        for g in ("m", "f"):
            out.update(number_to_words(n, lang, gender=g).split())
    for pool in _SPECS[lang].closed_pools:
        for entry in pool:
            out.update(entry.words())
    rng = random.Random(f"trace:{lang}")
    for _, family in _SPECS[lang].families:
        for _ in range(_TRACE_SAMPLES):
            ctx = _Ctx(None, rng, featured=False, allow_held=True)
            out.update(set(_norm(family(ctx)).split()) - ctx.picked)
    return out


@lru_cache(maxsize=None)
def _held_out(lang: str) -> frozenset[str]:
    spec = _SPECS[lang]
    reserved = _reserved_words(lang)
    held: set[str] = set()
    for pool in spec.open_pools:
        cands = sorted(
            (e for e in pool if all(" " not in f for f in e.forms) and not (e.words() & reserved)),
            key=lambda e: (zlib.crc32(f"{lang}:{e.sg}".encode()), e.sg),
        )
        k = round(HELD_OUT_FRACTION * len(pool))
        for e in cands[:k]:
            held |= e.words()
    # an entry sharing a form with a held-out one is held out whole (lamp -> lamps)
    entries = [e for pool in spec.open_pools for e in pool]
    grew = True
    while grew:
        grew = False
        for e in entries:
            if e.words() & held and not e.words() <= held:
                held |= e.words()
                grew = True
    held |= {p + w for p in _ELISIONS.get(lang, ()) for w in held if w[0] in "aeiouàâéèêîôùœh"}
    return frozenset(held)


def _check_lang(lang: str) -> None:
    if lang not in _SPECS:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(LANGS)}")


def held_out_words(lang: str) -> set[str]:
    """The words of ``lang`` that only the ``test`` split uses.

    Every form of each held-out entry, plus in French and Italian the forms fused
    with an elided article (``l'hôtel``, ``all'aeroporto``), as they appear in text.
    """
    _check_lang(lang)
    return set(_held_out(lang))


def content_words(lang: str) -> set[str]:
    """Every word form in ``lang``'s word lists (not the template words, not numbers)."""
    _check_lang(lang)
    spec = _SPECS[lang]
    return {w for pool in spec.open_pools + spec.closed_pools for e in pool for w in e.words()}


class SentenceGenerator:
    """Draws normalized sentences in one language.

    Args:
        lang: one of :data:`LANGS`.
        held_out_rate: the share of ``test`` sentences made to contain at
            least one held-out word (the rest of ``test``, and all of ``train``
            and ``dev``, use only seen words).

    >>> import random
    >>> gen = SentenceGenerator("en")
    >>> s = gen.sample(random.Random(0), "train")
    """

    def __init__(self, lang: str, held_out_rate: float = 0.3):
        _check_lang(lang)
        if not 0.0 <= held_out_rate <= 1.0:
            raise ValueError(f"held_out_rate must be in [0, 1], got {held_out_rate}")
        self.lang = lang
        self.held_out_rate = held_out_rate
        spec = _SPECS[lang]
        self._families = tuple(f for _, f in spec.families)
        total = sum(w for w, _ in spec.families)
        acc, cum = 0.0, []
        for w, _ in spec.families:
            acc += w / total
            cum.append(acc)
        self._cum = tuple(cum)
        self.held_out = _held_out(lang)
        self._pools: dict[int, tuple[tuple[L, ...], tuple[L, ...]]] = {}
        for pool in spec.open_pools + spec.closed_pools:
            seen = tuple(e for e in pool if not (e.words() & self.held_out))
            held = tuple(e for e in pool if e.words() & self.held_out)
            if not seen:
                raise AssertionError(f"{lang}: a word list is entirely held out")
            self._pools[id(pool)] = (seen, held)

    def _split_pool(self, pool: tuple[L, ...]) -> tuple[tuple[L, ...], tuple[L, ...]]:
        try:
            return self._pools[id(pool)]
        except KeyError:
            raise AssertionError(f"{self.lang}: a template picks from an unregistered word list") from None

    def _family(self, rng: random.Random) -> Family:
        r = rng.random()
        for f, cum in zip(self._families, self._cum):
            if r < cum:
                return f
        return self._families[-1]

    def sample(self, rng: random.Random, split: str = "train") -> str:
        """One normalized sentence for ``split`` (``train``, ``dev`` or ``test``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        featured = split == "test" and rng.random() < self.held_out_rate
        if not featured:
            return _norm(self._family(rng)(_Ctx(self, rng, featured=False, allow_held=False)))
        text = ""
        for _ in range(50):  # retry until a held-out word made it in
            text = _norm(self._family(rng)(_Ctx(self, rng, featured=True, allow_held=True)))
            if any(w in self.held_out for w in text.split()):
                break
        return text

    def samples(self, rng: random.Random, n: int, split: str = "train") -> list[str]:
        return [self.sample(rng, split) for _ in range(n)]
