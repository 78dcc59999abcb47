"""Pronunciation lexicons: word -> one or more phone sequences.

File formats (Kaldi ``data/local/dict``), UTF-8, fields split on whitespace:

* ``lexicon.txt``: ``word phone phone ...``, one pronunciation per line; a
  word with several pronunciations has several lines, the first is preferred;
* ``lexiconp.txt``: ``word prob phone phone ...`` with a pronunciation
  probability in (0, 1] (read when the file's first line has a number in the
  second field, or when asked).

This module knows nothing of G2P: espeak-ng pronunciations come from
:mod:`asr.text.g2p` (:func:`~asr.text.g2p.build_lexicon`,
:func:`~asr.text.g2p.extend_with_g2p`), which builds on it.

Example:
    >>> lex = Lexicon({"kitchen": [("k", "ɪ", "tʃ", "ə", "n")]})
    >>> lex.pronounce("kitchen")
    ('k', 'ɪ', 'tʃ', 'ə', 'n')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path

from asr.errors import text_lines

__all__ = ["Lexicon", "Pronunciation"]

Pronunciation = tuple[str, ...]  # phones of one pronunciation


class Lexicon:
    """Words and their pronunciations, in insertion order.

    Each pronunciation carries a probability (1.0 unless read from a
    ``lexiconp.txt`` or given to :meth:`add`).
    """

    def __init__(self, entries: Mapping[str, Iterable[Sequence[str]]] | None = None) -> None:
        """Make a lexicon from ``word -> [pronunciation, ...]``."""
        self._entries: dict[str, dict[Pronunciation, float]] = {}
        for word, prons in (entries or {}).items():
            for pron in prons:
                self.add(word, pron)

    def add(self, word: str, phones: Sequence[str], prob: float = 1.0) -> None:
        """Add one pronunciation of ``word`` (a repeat of a known one is ignored).

        Raises:
            ValueError: the word or a phone is empty or contains whitespace,
                there are no phones, or ``prob`` is not in (0, 1].
        """
        pron = tuple(phones)
        _check_field(word, "word")
        if not pron:
            raise ValueError(f"pronunciation of {word!r} has no phones")
        for phone in pron:
            _check_field(phone, f"phone of {word!r}")
        if not 0.0 < prob <= 1.0:
            raise ValueError(f"probability of {word!r} {pron} must be in (0, 1], got {prob}")
        self._entries.setdefault(word, {}).setdefault(pron, float(prob))

    # -- lookup ---------------------------------------------------------------------

    def __contains__(self, word: object) -> bool:
        """Whether ``word`` has a pronunciation."""
        return word in self._entries

    def __len__(self) -> int:
        """The number of words."""
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        """The words, in insertion order."""
        return iter(self._entries)

    def __eq__(self, other: object) -> bool:
        """Lexicons are equal with the same words, pronunciations (in order) and probabilities."""
        return isinstance(other, Lexicon) and [(w, list(p.items())) for w, p in self._entries.items()] == [
            (w, list(p.items())) for w, p in other._entries.items()
        ]

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} words, {len(self.phones())} phones)"

    def words(self) -> list[str]:
        """The words, sorted."""
        return sorted(self._entries)

    def pronounce(self, word: str) -> Pronunciation:
        """The preferred (first) pronunciation of ``word``.

        Raises:
            KeyError: the word is not in the lexicon.
        """
        return self.pronunciations(word)[0]

    def pronunciations(self, word: str) -> list[Pronunciation]:
        """All pronunciations of ``word``, preferred first.

        Raises:
            KeyError: the word is not in the lexicon.
        """
        try:
            return list(self._entries[word])
        except KeyError:
            raise KeyError(f"{word!r} is not in the lexicon") from None

    def prob(self, word: str, phones: Sequence[str]) -> float:
        """The probability of one pronunciation of ``word``."""
        return self._entries[word][tuple(phones)]

    def phones(self) -> list[str]:
        """The phone set: every phone used by some pronunciation, sorted."""
        return sorted({p for prons in self._entries.values() for pron in prons for p in pron})

    # -- files ----------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | PathLike[str], with_probs: bool | None = None) -> Lexicon:
        """Read a ``lexicon.txt`` or ``lexiconp.txt``.

        Args:
            path: the file.
            with_probs: whether the second field is a probability; ``None``
                decides from the first non-blank line (a number there means
                ``lexiconp.txt``).

        Raises:
            ValueError: a line has a word but no phones, a probability that is
                not a number in (0, 1], or a malformed field; the message names
                the file and the 1-based line number.
        """
        lexicon = cls()
        path = Path(path)
        for lineno, line in text_lines(path):
            fields = line.split()
            if not fields:
                continue
            where = f"{path}:{lineno}"
            if with_probs is None:
                with_probs = len(fields) > 2 and _is_number(fields[1])
            word, rest = fields[0], fields[1:]
            prob = 1.0
            if with_probs:
                if not rest or not _is_number(rest[0]):
                    raise ValueError(f"{where}: expected 'word prob phone ...', got {line.rstrip()!r}")
                prob, rest = float(rest[0]), rest[1:]
            if not rest:
                form = "word prob phone ..." if with_probs else "word phone ..."
                raise ValueError(f"{where}: {word!r} has no phones (expected '{form}')")
            try:
                lexicon.add(word, rest, prob)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
        return lexicon

    @property
    def has_probs(self) -> bool:
        """Whether any pronunciation has a probability other than 1 (then ``to_file`` should write them)."""
        return any(prob != 1.0 for prons in self._entries.values() for prob in prons.values())

    def to_file(self, path: str | PathLike[str], with_probs: bool = False) -> None:
        """Write ``word phone ...`` lines (``word prob phone ...`` with ``with_probs``),
        words in insertion order, each word's pronunciations preferred first."""
        with Path(path).open("w", encoding="utf-8", newline="\n") as f:
            for word, prons in self._entries.items():
                for pron, prob in prons.items():
                    middle = f" {prob!r}" if with_probs else ""
                    f.write(f"{word}{middle} {' '.join(pron)}\n")


def _check_field(value: str, what: str) -> None:
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        raise ValueError(f"{what} must be a non-empty string without whitespace, got {value!r}")


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True
