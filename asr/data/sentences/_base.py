"""Shared machinery of :mod:`asr.data.sentences` that the language modules build on.

Word-list entries (:class:`L`, :func:`_lex`), the context a template function draws
from (:class:`_Ctx`), a language's registry entry (:class:`_LangSpec`) and the small
date/time helpers every grammar uses. No language data here.
"""

from __future__ import annotations

import random
from typing import Callable, NamedTuple, Protocol


class L(NamedTuple):
    """One word-list entry: its surface forms (first = lemma) and a grammatical tag.

    Nouns: ``(singular, plural)``; adjectives: the forms the language needs
    (e.g. Spanish ``(m sg, f sg, m pl, f pl)``). ``g`` is the gender
    (``m``/``f``/``n``) or, in Swahili, the noun class of the singular.
    """

    forms: tuple[str, ...]
    g: str = ""

    @property
    def sg(self) -> str:
        return self.forms[0]

    @property
    def pl(self) -> str:
        return self.forms[1] if len(self.forms) > 1 else self.forms[0]

    def words(self) -> set[str]:
        return {w for f in self.forms for w in f.split()}


def _lex(spec: str, pluralize: Callable[[str], str] | None = None) -> tuple[L, ...]:
    """Parse ``"sg/pl:g sg2/pl2:g2 ..."``; ``_`` stands for a space inside an entry.

    Without an explicit plural, ``pluralize(sg)`` gives it when provided.
    """
    out = []
    for tok in spec.split():
        forms_s, _, g = tok.partition(":")
        forms = tuple(f.replace("_", " ") for f in forms_s.split("/"))
        if len(forms) == 1 and pluralize is not None:
            forms = (forms[0], pluralize(forms[0]))
        out.append(L(forms, g))
    return tuple(out)


class _PoolSplitter(Protocol):
    """What :class:`_Ctx` needs of its :class:`~asr.data.sentences.SentenceGenerator`."""

    def _split_pool(self, pool: tuple[L, ...]) -> tuple[tuple[L, ...], tuple[L, ...]]: ...


class _Ctx:
    """What a template function sees: the rng and a word picker that obeys the split."""

    def __init__(self, gen: _PoolSplitter | None, rng: random.Random, featured: bool, allow_held: bool):
        self._gen = gen
        self.rng = rng
        self.featured = featured
        self.allow_held = allow_held
        self.picked: set[str] = set()  # only filled when tracing (gen is None)

    def pick(self, pool: tuple[L, ...]) -> L:
        if self._gen is None:  # tracing which words come from word lists
            entry = self.rng.choice(pool)
            self.picked |= entry.words()
            return entry
        seen, held = self._gen._split_pool(pool)
        if self.allow_held and held:
            if self.featured and self.rng.random() < 0.5:
                return self.rng.choice(held)
            return self.rng.choice(seen + held)
        return self.rng.choice(seen)

    def choice(self, seq):
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def randint(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def count(self, lo: int = 2) -> int:
        """A quantity, mostly small: 2-20 (40%), 21-99, 100-999, 1000-9999, up to 999999."""
        r = self.rng.random()
        if r < 0.40:
            return self.rng.randint(lo, 20)
        if r < 0.70:
            return self.rng.randint(21, 99)
        if r < 0.90:
            return self.rng.randint(100, 999)
        if r < 0.98:
            return self.rng.randint(1000, 9999)
        return self.rng.randint(10000, 999999)

    def price(self) -> int:
        r = self.rng.random()
        if r < 0.5:
            return self.rng.randint(2, 99)
        if r < 0.85:
            return self.rng.randint(100, 999)
        return self.rng.randint(1000, 50000)


Family = Callable[[_Ctx], str]


class _LangSpec(NamedTuple):
    """One language's grammar: weighted template families and the word lists they pick from."""

    families: tuple[tuple[float, Family], ...]
    open_pools: tuple[tuple[L, ...], ...]  # eligible for held-out words
    closed_pools: tuple[tuple[L, ...], ...]  # everything else picked with ctx.pick


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _day_month(c: "_Ctx", months: tuple[L, ...]) -> tuple[int, L]:
    """A valid (day, month) pair: the month from ``months`` (January first), then its day."""
    m = c.pick(months)
    return c.randint(1, _MONTH_DAYS[months.index(m)]), m


def _daypart(c: "_Ctx", hour: int, table: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    """A part of the day that fits the clock ``hour`` (1..12) said, or ''."""
    opts = tuple(label for label, hours in table if hour in hours)
    return c.choice(opts) if opts else ""
