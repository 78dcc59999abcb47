"""The Asterisk PBX prompts: real recordings of one professional speaker per language (CC-BY-SA 3.0).

Debian's ``asterisk-core-sounds-<lang>-wav`` and ``asterisk-core-sounds-<lang>``
packages install, under a root such as ``/usr/share``::

    <root>/asterisk/sounds/<lang dir>/<key>.wav        8 kHz 16-bit mono; keys may hold folders (digits/5)
    <root>/doc/asterisk-core-sounds-<lang>/core-sounds-<lang>.txt.gz   "<key>: <Text>." per line

with ``<lang dir>`` such as ``en_US_f_Allison`` (:data:`LANG_DIRS`; the
alternatives link ``<root>/asterisk/sounds/<lang>`` points at it). The
transcript file has quirks, all handled here and counted in :class:`ReadReport`:
``;`` comment lines and a byte-order mark, non-speech entries (``[beep tone]``,
``<beep ascending>``, ``(1 second of silence)``), annotations after the words
(``at [@]``), keypad symbols (``press * then #``), digits, curly quotes and
ellipses, several sentences in one prompt, duplicate keys, and entries whose
audio is missing (and audio without an entry).

Transcripts are normalized per language (:func:`prompt_text`: symbols spoken as
the prompt says them, digits spelled out in words, punctuation removed). The
speaker of every utterance is the ``<lang dir>``; ``extra`` keeps the prompt
``key`` and its ``raw`` text.

Splits are by prompt (:func:`split_prompts`): a held-out (dev or test) prompt's
text never occurs inside any other prompt's text, so no test text appears in
any training text; the assignment is a hash of the text, deterministic, and the
recipe publishes it (``recipes/asterisk/splits/<lang>.tsv``, :func:`write_split_file`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asr import audio
from asr.data.corpora import CorpusError
from asr.data.manifest import Utterance
from asr.text.normalize import normalize

__all__ = ["LANG_DIRS", "PACKAGES", "DEFAULT_ROOT", "SPLITS", "ReadReport", "Prompt", "find_lang_dir",
           "transcript_path", "read_transcripts", "prompt_text", "read_asterisk", "split_prompts",
           "contains_text", "read_split_file", "write_split_file", "apt_command"]

DEFAULT_ROOT = Path("/usr/share")
SPLITS = ("train", "dev", "test")
# The speaker directory each Debian package installs (asterisk-core-sounds 1.6.1).
LANG_DIRS = {"en": "en_US_f_Allison", "es": "es_MX_f_Allison", "fr": "fr_CA_f_June", "it": "it_IT_m_Carlo",
             "ru": "ru_RU_f_IvonaFullVoice"}
PACKAGES = ("asterisk-core-sounds-{lang}-wav", "asterisk-core-sounds-{lang}")
# Keypad symbols as the prompts speak them.
SYMBOLS = {
    "en": {"*": "star", "#": "pound", "@": "at", "+": "plus", "=": "equals", "$": "dollar"},
    "es": {"*": "asterisco", "#": "numeral"},
    "fr": {"*": "étoile", "#": "dièse"},
    "it": {"*": "asterisco", "#": "cancelletto"},
    "ru": {"*": "звёздочка", "#": "решётка"},
}
NONSPEECH_FOLDERS = ("silence",)
_ANNOTATION = re.compile(r"\[[^\]]*\]|<[^>]*>")
_PUNCT_MAP = str.maketrans({"\u201c": " ", "\u201d": " ", "\u201e": " ", "\u00ab": " ", "\u00bb": " ",
                            "\u2018": "'", "\u2019": "'", "\u2026": " ", "/": " ", "(": " ", ")": " "})


def apt_command(langs: Iterable[str]) -> str:
    """The ``apt-get install`` line for ``langs``' prompts and transcripts."""
    return "apt-get install " + " ".join(p.format(lang=lang) for lang in langs for p in PACKAGES)


@dataclass
class ReadReport:
    """What reading one language left out, by reason (prompt keys; line numbers for malformed lines)."""

    nonspeech: list[str] = field(default_factory=list)
    missing_audio: list[str] = field(default_factory=list)
    no_transcript: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    malformed: list[int] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """``{reason: count}``."""
        return {k: len(v) for k, v in vars(self).items()}

    def __str__(self) -> str:
        return ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in self.counts().items() if n) or "nothing left out"


@dataclass(frozen=True)
class Prompt:
    """One transcript entry: ``key`` (``digits/5``), its text as written, its line number."""

    key: str
    raw: str
    line: int


def find_lang_dir(root: str | os.PathLike, lang: str) -> Path:
    """``<root>/asterisk/sounds/<lang dir>`` (:data:`LANG_DIRS`, else ``<lang>`` or the one ``<lang>_*`` folder).

    Raises:
        CorpusError: no such folder (the message names the packages to install).
    """
    sounds = Path(root) / "asterisk" / "sounds"
    cands = [sounds / LANG_DIRS[lang]] if lang in LANG_DIRS else []
    cands.append(sounds / lang)
    if sounds.is_dir():
        cands += sorted(p for p in sounds.glob(f"{lang}_*") if p.is_dir() and not p.is_symlink())
    for c in cands:
        if c.is_dir():
            return c.resolve()
    raise CorpusError(f"{sounds}: no prompts for {lang!r} (install them: {apt_command([lang])})")


def transcript_path(root: str | os.PathLike, lang: str) -> Path:
    """``<root>/doc/asterisk-core-sounds-<lang>/core-sounds-<lang>.txt[.gz]``.

    Raises:
        CorpusError: neither file exists.
    """
    d = Path(root) / "doc" / f"asterisk-core-sounds-{lang}"
    for name in (f"core-sounds-{lang}.txt.gz", f"core-sounds-{lang}.txt"):
        if (d / name).is_file():
            return d / name
    raise CorpusError(f"{d}: no core-sounds-{lang}.txt.gz (install it: apt-get install asterisk-core-sounds-{lang})")


def read_transcripts(path: str | os.PathLike, report: ReadReport | None = None) -> list[Prompt]:
    """The entries of a ``core-sounds-<lang>.txt[.gz]`` file, in file order, first of duplicate keys kept.

    Comment (``;``) and blank lines are skipped; lines without ``key: text`` go to ``report.malformed``.
    """
    report = report if report is not None else ReadReport()
    p = Path(path)
    data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith(";"):
            continue
        key, sep, raw = line.partition(":")
        key = key.strip()
        if not sep or not key or " " in key:
            report.malformed.append(n)
            continue
        if key in seen:
            report.duplicates.append(key)
            continue
        seen.add(key)
        prompts.append(Prompt(key, raw.strip(), n))
    return prompts


def prompt_text(raw: str, lang: str) -> str | None:
    """The words a prompt speaks, normalized (lower case, digits in words, no punctuation); ``None``: no speech.

    ``[...]`` and ``<...>`` are annotations (``at [@]`` says "at"); a prompt wholly in
    parentheses is a description (``(1 second of silence)``); keypad symbols are spoken
    (:data:`SYMBOLS`).
    """
    text = raw.strip()
    if text.startswith("(") and text.endswith(")"):
        return None
    text = _ANNOTATION.sub(" ", text)
    for sym, word in SYMBOLS.get(lang, {}).items():
        text = text.replace(sym, f" {word} ")
    text = normalize(text.translate(_PUNCT_MAP), lang)
    return text or None


def read_asterisk(root: str | os.PathLike, lang: str) -> tuple[list[Utterance], ReadReport]:
    """Every speech prompt of ``lang`` under ``root``, in transcript order, and what was left out.

    Utterance ids are ``ast-<lang>-<key with / as ->``; audio is the 8 kHz file itself
    (readers resample on load); ``extra`` holds ``key`` and ``raw``.

    Raises:
        CorpusError: no prompt folder or no transcript file for ``lang``.
    """
    report = ReadReport()
    lang_dir = find_lang_dir(root, lang)
    prompts = read_transcripts(transcript_path(root, lang), report)
    keys = set()
    utts: list[Utterance] = []
    for pr in prompts:
        keys.add(pr.key)
        wav = lang_dir / f"{pr.key}.wav"
        text = None if pr.key.split("/")[0] in NONSPEECH_FOLDERS else prompt_text(pr.raw, lang)
        if text is None:
            report.nonspeech.append(pr.key)
            continue
        if not wav.is_file():
            report.missing_audio.append(pr.key)
            continue
        try:
            duration = audio.info(wav).duration
        except audio.AudioError as e:
            report.unreadable[pr.key] = str(e)
            continue
        utts.append(Utterance(id=f"ast-{lang}-{pr.key.replace('/', '-')}", audio=str(wav), duration=round(duration, 4),
                              text=text, lang=lang, speaker=lang_dir.name, extra={"key": pr.key, "raw": pr.raw}))
    on_disk = (str(p.relative_to(lang_dir).with_suffix("")) for p in lang_dir.rglob("*.wav"))
    report.no_transcript = sorted(k for k in on_disk if k not in keys)
    return utts, report


def contains_text(text: str, inner: str) -> bool:
    """Whether the word sequence ``inner`` occurs in ``text`` (whole words)."""
    return f" {inner} " in f" {text} "


def _hash01(seed: int, text: str) -> float:
    return int(hashlib.sha1(f"{seed}:{text}".encode()).hexdigest()[:12], 16) / float(1 << 48)


def split_prompts(utts: Sequence[Utterance], dev_fraction: float = 0.1, test_fraction: float = 0.2,
                  min_words: int = 3, seed: int = 0, published: Mapping[str, str] | None = None,
                  ) -> dict[str, list[Utterance]]:
    """Split one speaker's prompts into train / dev / test by text.

    Held-out candidates are texts of at least ``min_words`` words that occur inside no
    other prompt's text (so a held-out text is in no training text); prompts with the same
    text stay together. Candidates are ranked by a hash of their text and taken for test,
    then dev, until each holds its fraction of the total duration. ``published`` (key ->
    split, :func:`read_split_file`) overrides the rule for the keys it lists; a prompt it
    does not list follows the rule.

    Returns:
        ``{"train": [...], "dev": [...], "test": [...]}``, each in input order.
    """
    by_text: dict[str, list[Utterance]] = {}
    for u in utts:
        by_text.setdefault(u.text, []).append(u)
    texts = list(by_text)
    total = sum(u.duration for u in utts)
    assign: dict[str, str] = {}
    cands = [t for t in texts if len(t.split()) >= min_words
             and not any(o != t and contains_text(o, t) for o in texts)]
    budget = {"test": test_fraction * total, "dev": dev_fraction * total}
    split = "test"
    for t in sorted(cands, key=lambda t: _hash01(seed, t)):
        if split == "test" and budget["test"] <= 0:
            split = "dev"
        if split == "dev" and budget["dev"] <= 0:
            break
        assign[t] = split
        budget[split] -= sum(u.duration for u in by_text[t])
    out: dict[str, list[Utterance]] = {s: [] for s in SPLITS}
    for u in utts:
        key = u.extra.get("key", u.id)
        s = published.get(key) if published else None
        out[s if s in SPLITS else assign.get(u.text, "train")].append(u)
    return out


def read_split_file(path: str | os.PathLike) -> dict[str, str]:
    """``key -> split`` from a published ``<key>\\t<split>`` file (``#`` comments)."""
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, _, split = line.partition("\t")
        if split.strip() not in SPLITS:
            raise CorpusError(f"{path}:{n}: expected '<key>\\t<train|dev|test>', got {line!r}")
        out[key.strip()] = split.strip()
    return out


def write_split_file(path: str | os.PathLike, splits: Mapping[str, Sequence[Utterance]], header: str = "") -> None:
    """Write ``<key>\\t<split>`` for every utterance (sorted by key), with ``header`` as ``#`` lines."""
    rows = sorted((u.extra.get("key", u.id), s) for s, us in splits.items() for u in us)
    lines = [f"# {h}" for h in header.splitlines()] + [f"{k}\t{s}" for k, s in rows]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
