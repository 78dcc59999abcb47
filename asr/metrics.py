"""Word and character error rates (through jiwer), with a per-language breakdown.

Usage::

    refs, ref_langs = read_text_file("data/test/text")       # Kaldi or JSONL
    hyps, _ = read_text_file("exp/decode/hyp.jsonl")
    report = score(refs, hyps, ref_langs or None)
    print(format_report(report))
    json.dump(report.to_dict(), f)

Texts are compared as given apart from whitespace (runs of spaces collapse,
ends are stripped); normalise case and punctuation beforehand, or pass
``normalize``. Characters for CER include the single spaces between words.
A reference without a hypothesis scores as all deletions and is listed in
:attr:`ScoreReport.missing`; hypotheses without a reference are ignored and
listed in :attr:`ScoreReport.unexpected`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jiwer

from asr.data.manifest import DEFAULT_LANG, ManifestError, text_lines

__all__ = ["EditCounts", "ScoreReport", "score", "read_text_file", "format_report"]


@dataclass(frozen=True)
class EditCounts:
    """Alignment counts of hypothesis against reference units (words or chars)."""

    hits: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    def __add__(self, other: EditCounts) -> EditCounts:
        return EditCounts(
            self.hits + other.hits,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
        )

    @property
    def ref_len(self) -> int:
        """Reference units: hits + substitutions + deletions."""
        return self.hits + self.substitutions + self.deletions

    @property
    def errors(self) -> int:
        """substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """errors / reference units (errors / 1 when the reference is empty)."""
        return self.errors / max(self.ref_len, 1)


@dataclass(frozen=True)
class ScoreReport:
    """Scores of a hypothesis set against references.

    Attributes:
        words, chars: summed word- and character-level counts.
        num_utterances: references scored (missing hypotheses included).
        missing: reference ids that had no hypothesis (scored as deletions).
        unexpected: hypothesis ids with no reference (not scored).
        by_lang: language -> the same report for that language's utterances
            (empty when no languages were given).
        sentence_errors: utterances whose hypothesis words differ from the reference's
            (sclite's S.Err count; a missing hypothesis of a non-empty reference is one).
    """

    words: EditCounts
    chars: EditCounts
    num_utterances: int
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    by_lang: dict[str, ScoreReport] = field(default_factory=dict)
    sentence_errors: int = 0

    @property
    def wer(self) -> float:
        """Word error rate (a fraction, not a percentage)."""
        return self.words.rate

    @property
    def cer(self) -> float:
        """Character error rate (a fraction)."""
        return self.chars.rate

    @property
    def hits(self) -> int:
        return self.words.hits

    @property
    def substitutions(self) -> int:
        return self.words.substitutions

    @property
    def deletions(self) -> int:
        return self.words.deletions

    @property
    def insertions(self) -> int:
        return self.words.insertions

    @property
    def num_words(self) -> int:
        """Reference words."""
        return self.words.ref_len

    @property
    def num_chars(self) -> int:
        """Reference characters (spaces between words included)."""
        return self.chars.ref_len

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: rates, counts (``sentence_errors`` too), missing/unexpected ids, per language."""
        return {
            "wer": self.wer,
            "cer": self.cer,
            "num_utterances": self.num_utterances,
            "num_words": self.num_words,
            "num_chars": self.num_chars,
            "sentence_errors": self.sentence_errors,
            "words": asdict(self.words),
            "chars": asdict(self.chars),
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
            "by_lang": {lang: r.to_dict() for lang, r in self.by_lang.items()},
        }


def _squash(text: str) -> str:
    return " ".join(text.split())


def _counts(out: Any) -> EditCounts:
    return EditCounts(out.hits, out.substitutions, out.deletions, out.insertions)


def _score_pairs(pairs: list[tuple[str, str]]) -> tuple[EditCounts, EditCounts]:
    """Summed (word, char) counts over ``(ref, hyp)`` pairs of squashed text."""
    if not pairs:
        return EditCounts(), EditCounts()
    refs = [r for r, _ in pairs]
    hyps = [h for _, h in pairs]
    return _counts(jiwer.process_words(refs, hyps)), _counts(jiwer.process_characters(refs, hyps))


def score(
    refs: Mapping[str, str],
    hyps: Mapping[str, str],
    langs: Mapping[str, str] | None = None,
    normalize: Callable[[str], str] | None = None,
) -> ScoreReport:
    """Score hypotheses against references.

    Args:
        refs: utterance id -> reference text.
        hyps: utterance id -> hypothesis text; ids missing here count as
            empty hypotheses (all deletions).
        langs: utterance id -> language, for the per-language breakdown;
            ids absent from it count as ``"und"``.
        normalize: applied to every reference and hypothesis before scoring.

    Returns:
        A :class:`ScoreReport`; ``by_lang`` is filled when ``langs`` is given.
    """
    norm = normalize or (lambda s: s)
    pairs = {i: (_squash(norm(r)), _squash(norm(hyps.get(i, "")))) for i, r in refs.items()}
    missing = tuple(sorted(i for i in refs if i not in hyps))
    by_lang: dict[str, ScoreReport] = {}
    if langs is not None:
        groups: dict[str, list[str]] = {}
        for i in refs:
            groups.setdefault(langs.get(i, DEFAULT_LANG), []).append(i)
        by_lang = {lang: _report(ids, pairs, missing) for lang, ids in sorted(groups.items())}
    unexpected = tuple(sorted(i for i in hyps if i not in refs))
    return _report(list(refs), pairs, missing, unexpected, by_lang)


def _report(
    ids: list[str],
    pairs: Mapping[str, tuple[str, str]],
    missing: tuple[str, ...],
    unexpected: tuple[str, ...] = (),
    by_lang: dict[str, ScoreReport] | None = None,
) -> ScoreReport:
    """The report over utterances ``ids`` (``missing`` is cut down to them)."""
    words, chars = _score_pairs([pairs[i] for i in ids])
    id_set = set(ids)
    return ScoreReport(
        words=words,
        chars=chars,
        num_utterances=len(ids),
        missing=tuple(i for i in missing if i in id_set),
        unexpected=unexpected,
        by_lang=by_lang or {},
        sentence_errors=sum(pairs[i][0] != pairs[i][1] for i in ids),  # squashed: equal text == equal words
    )


def read_text_file(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, str]]:
    """Read references or hypotheses: Kaldi ``id word word...`` lines or JSONL.

    JSONL (detected by a first non-blank line starting with ``{``) needs
    ``id`` and ``text`` per line and may have ``lang``; other fields (a
    manifest's ``audio``, ``duration``...) are ignored, so a manifest works
    as a reference file.

    Returns:
        ``(texts, langs)``: id -> text and id -> language (empty for Kaldi
        files and for JSONL without ``lang``).

    Raises:
        ManifestError: bad JSON, a missing or non-string field or a duplicate
            id; the message names the file and line.
    """
    p = Path(path)
    texts: dict[str, str] = {}
    langs: dict[str, str] = {}
    lines: dict[str, int] = {}
    jsonl: bool | None = None
    for lineno, line in text_lines(p):
        if not line.strip():
            continue
        if jsonl is None:
            jsonl = line.lstrip().startswith("{")
        if jsonl:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ManifestError(p, lineno, f"invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise ManifestError(p, lineno, f"expected a JSON object, got {type(obj).__name__}")
            for key in ("id", "text", "lang"):
                if key in obj and not isinstance(obj[key], str):
                    raise ManifestError(p, lineno, f"field {key!r} must be a string")
                if key != "lang" and key not in obj:
                    raise ManifestError(p, lineno, f"missing required field {key!r}")
            utt_id, text = obj["id"], obj["text"]
            if "lang" in obj:
                langs[utt_id] = obj["lang"]
        else:
            utt_id, *rest = line.split(maxsplit=1)
            text = rest[0].strip() if rest else ""
        if utt_id in lines:
            raise ManifestError(p, lineno, f"duplicate id {utt_id!r} (first on line {lines[utt_id]})")
        lines[utt_id] = lineno
        texts[utt_id] = text
    return texts, langs


def format_report(report: ScoreReport) -> str:
    """A plain-text table: one row for all utterances, then one per language.

    Example::

        lang   utts  words     WER   sub   del   ins  chars     CER
        all       3      9  33.33%     1     1     1     37  13.51%
        en        2      6  16.67%     1     0     0     23   4.35%
        fr        1      3  66.67%     0     1     1     14  28.57%
        missing hypotheses: 1 (fr-1)
    """
    header = f"{'lang':<6} {'utts':>5} {'words':>6} {'WER':>7} {'sub':>5} {'del':>5} {'ins':>5} {'chars':>6} {'CER':>7}"

    def row(name: str, r: ScoreReport) -> str:
        return (
            f"{name:<6} {r.num_utterances:>5} {r.num_words:>6} {r.wer:>7.2%} "
            f"{r.substitutions:>5} {r.deletions:>5} {r.insertions:>5} {r.num_chars:>6} {r.cer:>7.2%}"
        )

    lines = [header, row("all", report)]
    lines += [row(lang, r) for lang, r in report.by_lang.items()]
    for name, ids in (("missing hypotheses", report.missing), ("hypotheses without reference", report.unexpected)):
        if ids:
            shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
            lines.append(f"{name}: {len(ids)} ({shown})")
    return "\n".join(lines)
