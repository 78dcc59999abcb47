"""JSONL manifests: one utterance per line.

A manifest line looks like::

    {"id": "spk1-0001", "audio": "wav/spk1-0001.wav", "duration": 2.35,
     "text": "hello world", "lang": "en", "speaker": "spk1"}

Required fields: ``id``, ``audio``, ``duration`` (seconds) and ``text``.
Optional: ``lang`` (default ``"und"``), ``speaker`` (default: the utterance
id, Kaldi's convention when speakers are unknown) and ``offset`` (seconds; its
presence marks a segment ``[offset, offset + duration)`` of a longer
recording). Any other field is kept in :attr:`Utterance.extra` and written back
unchanged.

Relative ``audio`` paths are resolved against the manifest file's directory
when read, and written relative to it again when the audio lies under it, so
a corpus directory can be moved as a whole.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr import errors

__all__ = [
    "ManifestError",
    "Utterance",
    "read_manifest",
    "write_manifest",
    "filter_manifest",
    "total_duration",
    "speakers",
    "subset_manifest",
]

log = logging.getLogger(__name__)

DEFAULT_LANG = "und"  # ISO 639 "undetermined"

_STANDARD_FIELDS = ("id", "audio", "offset", "duration", "text", "lang", "speaker")
_REQUIRED_FIELDS = ("id", "audio", "duration", "text")


class ManifestError(ValueError):
    """A manifest-like text file (JSONL manifest, Kaldi data file, hypothesis
    file) is malformed.

    ``str(err)`` reads ``"<path>:<line>: <problem>"`` (``"<path>: <problem>"``
    when no single line is at fault); ``err.path``, ``err.line`` and
    ``err.problem`` hold the parts.
    """

    def __init__(self, path: str | os.PathLike, line: int | None, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Utterance:
    """One row of a manifest.

    Attributes:
        id: unique utterance id.
        audio: path of the audio file (absolute once read from a manifest).
        duration: length in seconds (of the segment when ``offset`` is set).
        text: transcript, as written in the manifest (no normalisation).
        lang: language code, ``"und"`` when unknown.
        speaker: speaker id; defaults to the utterance id.
        offset: start in seconds within ``audio`` for a segment; ``None`` means
            the utterance is the whole file.
        extra: any other manifest fields, kept through read/write round trips.
    """

    id: str
    audio: str
    duration: float
    text: str
    lang: str = DEFAULT_LANG
    speaker: str = ""
    offset: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("utterance id must be a non-empty string")
        if not self.speaker:
            object.__setattr__(self, "speaker", self.id)
        clash = set(self.extra) & set(_STANDARD_FIELDS)
        if clash:
            raise ValueError(f"utterance {self.id}: extra fields shadow standard fields {sorted(clash)}")

    @property
    def end(self) -> float:
        """End time in seconds within ``audio`` (``offset + duration``)."""
        return (self.offset or 0.0) + self.duration


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _parse_row(obj: Any, base_dir: Path, path: Path, lineno: int) -> Utterance:
    """Check one decoded JSON line and turn it into an :class:`Utterance`."""

    def fail(problem: str) -> ManifestError:
        return ManifestError(path, lineno, problem)

    if not isinstance(obj, dict):
        raise fail(f"expected a JSON object, got {type(obj).__name__}")
    for key in _REQUIRED_FIELDS:
        if key not in obj:
            raise fail(f"missing required field {key!r}")
    for key in ("id", "audio", "text", "lang", "speaker"):
        if key in obj and not isinstance(obj[key], str):
            raise fail(f"field {key!r} must be a string, got {type(obj[key]).__name__}")
    for key in ("id", "audio"):
        if not obj[key]:
            raise fail(f"field {key!r} is empty")
    for key in ("duration", "offset"):
        if key in obj and not (_is_number(obj[key]) and obj[key] >= 0):
            raise fail(f"field {key!r} must be a finite number >= 0, got {obj[key]!r}")
    audio = obj["audio"]
    if not os.path.isabs(audio):
        audio = os.path.normpath(os.path.join(base_dir, audio))
    offset = obj.get("offset")
    return Utterance(
        id=obj["id"],
        audio=audio,
        duration=float(obj["duration"]),
        text=obj["text"],
        lang=obj.get("lang", DEFAULT_LANG),
        speaker=obj.get("speaker", ""),
        offset=None if offset is None else float(offset),
        extra={k: v for k, v in obj.items() if k not in _STANDARD_FIELDS},
    )


def text_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file; a line that is not UTF-8 is a :class:`ManifestError`."""
    return errors.text_lines(path, ManifestError)


def read_manifest(path: str | os.PathLike) -> list[Utterance]:
    """Read a JSONL manifest; blank lines are ignored.

    Raises:
        ManifestError: bad JSON, missing required field, wrong type or
            duplicate id; the message names the file and line.
        FileNotFoundError: no such manifest.
    """
    p = Path(path)
    base_dir = p.absolute().parent
    utts: list[Utterance] = []
    seen: dict[str, int] = {}
    for lineno, line in text_lines(p):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ManifestError(p, lineno, f"invalid JSON ({e.msg} at column {e.colno})") from None
        utt = _parse_row(obj, base_dir, p, lineno)
        if utt.id in seen:
            raise ManifestError(p, lineno, f"duplicate id {utt.id!r} (first on line {seen[utt.id]})")
        seen[utt.id] = lineno
        utts.append(utt)
    return utts


def _row(utt: Utterance, base_dir: Path) -> dict[str, Any]:
    """The JSON object written for ``utt``; audio relative to ``base_dir`` when under it."""
    audio = Path(utt.audio).absolute()
    try:
        audio_str = audio.relative_to(base_dir).as_posix()
    except ValueError:
        audio_str = str(audio)
    row: dict[str, Any] = {"id": utt.id, "audio": audio_str}
    if utt.offset is not None:
        row["offset"] = utt.offset
    row.update(duration=utt.duration, text=utt.text, lang=utt.lang, speaker=utt.speaker)
    row.update(utt.extra)
    return row


def write_manifest(path: str | os.PathLike, utts: Iterable[Utterance]) -> None:
    """Write ``utts`` as JSONL, atomically (temporary file, then rename).

    Audio paths under the manifest's directory are written relative to it;
    others stay absolute. Parent directories are created.

    Raises:
        ValueError: two utterances share an id.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    base_dir = p.absolute().parent
    seen: set[str] = set()
    tmp = p.with_name(p.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for utt in utts:
                if utt.id in seen:
                    raise ValueError(f"{p}: duplicate utterance id {utt.id!r}")
                seen.add(utt.id)
                f.write(json.dumps(_row(utt, base_dir), ensure_ascii=False) + "\n")
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)


def filter_manifest(
    utts: Iterable[Utterance],
    min_duration: float = 0.0,
    max_duration: float = math.inf,
    langs: Iterable[str] | None = None,
) -> list[Utterance]:
    """Keep utterances with ``min_duration <= duration <= max_duration`` (seconds)
    and, when ``langs`` is given, whose language is in it. Order is kept."""
    keep = None if langs is None else set(langs)
    return [
        u
        for u in utts
        if min_duration <= u.duration <= max_duration and (keep is None or u.lang in keep)
    ]


def total_duration(utts: Iterable[Utterance]) -> float:
    """Sum of durations in seconds."""
    return float(sum(u.duration for u in utts))


def speakers(utts: Sequence[Utterance]) -> dict[str, list[str]]:
    """Speaker id -> utterance ids in manifest order (Kaldi's ``spk2utt``).

    ``sorted(speakers(utts))`` is the list of distinct speakers.
    """
    out: dict[str, list[str]] = {}
    for u in utts:
        out.setdefault(u.speaker, []).append(u.id)
    return out


def subset_manifest(src: str | os.PathLike, dst: str | os.PathLike, max_utts: int = 0, max_hours: float = 0.0,
                    seed: int = 0) -> Path:
    """A random subset of a manifest, in its order: at most ``max_utts`` utterances and ``max_hours``
    of audio (0: no limit). Returns ``src`` itself when nothing is left out, else ``dst`` (written)."""
    if not max_utts and not max_hours:
        return Path(src)
    utts = read_manifest(src)
    order = list(range(len(utts)))
    random.Random(seed).shuffle(order)
    keep, seconds = [], 0.0
    for i in order:
        if (max_utts and len(keep) >= max_utts) or (max_hours and seconds + utts[i].duration > max_hours * 3600):
            break
        keep.append(i)
        seconds += utts[i].duration
    if len(keep) == len(utts):
        return Path(src)
    write_manifest(dst, [utts[i] for i in sorted(keep)])
    log.info("%s: %d of %d utterances of %s (%.2f h)", dst, len(keep), len(utts), src, seconds / 3600)
    return Path(dst)
