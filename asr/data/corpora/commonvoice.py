"""Mozilla Common Voice, as downloaded from commonvoice.mozilla.org.

Layout (one directory per locale, several releases may sit side by side)::

    cv-corpus-<version>/<locale>/{train,dev,test,validated,...}.tsv
    cv-corpus-<version>/<locale>/clips/<clip>.mp3

The tsv files are tab-separated with a header (``client_id path sentence
up_votes down_votes age gender accents ...``) and no quoting. Utterance id =
clip file name without extension; speaker = ``client_id``; ``lang`` = the locale.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from asr import audio
from asr.data.corpora import CorpusError
from asr.data.manifest import Utterance
from asr.text.normalize import normalize

__all__ = ["SPLITS", "find_locales", "read_tsv", "read_commonvoice"]

SPLITS = ("train", "dev", "test")


def find_locales(corpus: str | os.PathLike) -> dict[str, Path]:
    """Locale -> its directory, looking in ``corpus`` (a ``cv-corpus-*`` directory, its parent, or one locale).

    When several releases hold a locale, the last in sorted order (the newest) wins.
    """
    p = Path(corpus)
    found: dict[str, Path] = {}
    if (p / "clips").is_dir():
        return {p.name: p}
    releases = sorted(p.glob("cv-corpus-*")) or [p]
    for release in releases:
        for d in sorted(release.iterdir()) if release.is_dir() else []:
            if d.is_dir() and (d / "clips").is_dir():
                found[d.name] = d
    return found


def _duration(path: Path) -> float:
    """Seconds of an mp3 (its header, else decoding it when the header does not say)."""
    d = audio.info(path).duration
    return d if d > 0 else audio.load_audio(path, sample_rate=None).shape[0] / audio.info(path).sample_rate


def read_tsv(locale_dir: str | os.PathLike, split: str, locale: str | None = None) -> list[Utterance]:
    """One split's utterances in tsv order.

    Raises:
        CorpusError: missing tsv or columns, or a clip that is not in ``clips/``.
    """
    d = Path(locale_dir)
    locale = locale or d.name
    lang = locale.split("-")[0].lower()  # "en", "fr", "zh" (normalization rules are per language)
    tsv = d / f"{split}.tsv"
    if not tsv.is_file():
        raise CorpusError(f"{tsv}: missing")
    utts = []
    with open(tsv, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        need = {"client_id", "path", "sentence"}
        if not need <= set(reader.fieldnames or ()):
            raise CorpusError(f"{tsv}: header lacks {sorted(need - set(reader.fieldnames or ()))}")
        for row in reader:
            clip = d / "clips" / row["path"]
            if not clip.is_file():
                raise CorpusError(f"{tsv}:{reader.line_num}: clip {clip} is missing")
            utts.append(Utterance(id=Path(row["path"]).stem, audio=str(clip), duration=_duration(clip),
                                  text=normalize(row["sentence"], lang), lang=locale, speaker=row["client_id"]))
    return utts


def read_commonvoice(corpus: str | os.PathLike, locales: Sequence[str],
                     splits: Sequence[str] = SPLITS) -> dict[str, dict[str, list[Utterance]]]:
    """``{locale: {split: utterances}}`` for each requested locale; a split whose tsv is missing is left out.

    Raises:
        CorpusError: a requested locale is not in the corpus (the message lists those present).
    """
    found = find_locales(corpus)
    missing = [loc for loc in locales if loc not in found]
    if missing:
        raise CorpusError(f"{corpus}: locale(s) {missing} not found; present: {sorted(found)}")
    return {loc: {s: read_tsv(found[loc], s, loc) for s in splits if (found[loc] / f"{s}.tsv").is_file()}
            for loc in locales}
