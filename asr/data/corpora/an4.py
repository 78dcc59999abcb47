"""CMU AN4 (alphanumeric census database), the NIST SPHERE distribution ``an4_sphere.tar.gz``.

Layout::

    an4/etc/an4_{train,test}.fileids         "an4_clstk/fash/an251-fash-b" per line
    an4/etc/an4_{train,test}.transcription   "<s> RUBOUT G M E F THREE NINE </s> (an251-fash-b)"
    an4/wav/an4_clstk/<spk>/<id>.sph          training audio (16 kHz SPHERE)
    an4/wav/an4test_clstk/<spk>/<id>.sph      test audio

Utterance id = the id in parentheses of the transcription file; speaker = the
directory the fileids name. Splits: ``train`` and ``test``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from asr import audio
from asr.data.corpora import CorpusError
from asr.data.manifest import Utterance
from asr.text.normalize import normalize

__all__ = ["SPLITS", "find_root", "present_splits", "read_an4"]

SPLITS = ("train", "test")
_LINE = re.compile(r"^(?P<text>.*?)\s*\((?P<id>[^()\s]+)\)\s*$")


def find_root(corpus: str | os.PathLike) -> Path:
    """The ``an4`` directory (``corpus`` or ``corpus/an4``)."""
    p = Path(corpus)
    for cand in (p, p / "an4"):
        if (cand / "etc").is_dir() and (cand / "wav").is_dir():
            return cand
    raise CorpusError(f"{corpus}: no etc/ and wav/ directories (AN4 sphere layout) here or in an4/")


def present_splits(root: Path) -> list[str]:
    """The splits whose ``etc/an4_<split>.{fileids,transcription}`` both exist."""
    return [s for s in SPLITS
            if all((root / "etc" / f"an4_{s}.{ext}").is_file() for ext in ("fileids", "transcription"))]


def read_split(root: Path, split: str) -> list[Utterance]:
    """One split's utterances in transcription-file order.

    Raises:
        CorpusError: a missing list file, a malformed line, or an id without a fileid or audio.
    """
    fileids_path = root / "etc" / f"an4_{split}.fileids"
    trans_path = root / "etc" / f"an4_{split}.transcription"
    for p in (fileids_path, trans_path):
        if not p.is_file():
            raise CorpusError(f"{p}: missing")
    fileids = {Path(line.strip()).name: line.strip() for line in fileids_path.read_text().splitlines() if line.strip()}
    utts = []
    for lineno, line in enumerate(trans_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        m = _LINE.match(line.strip())
        if m is None:
            raise CorpusError(f"{trans_path}:{lineno}: expected 'TEXT (utterance-id)', got {line!r}")
        utt_id = m.group("id")
        if utt_id not in fileids:
            raise CorpusError(f"{trans_path}:{lineno}: {utt_id} is not in {fileids_path}")
        sph = root / "wav" / f"{fileids[utt_id]}.sph"
        if not sph.is_file():
            raise CorpusError(f"{trans_path}:{lineno}: audio {sph} is missing")
        words = [w for w in m.group("text").split() if w.lower() not in ("<s>", "</s>", "<sil>")]
        utts.append(Utterance(id=utt_id, audio=str(sph), duration=audio.info(sph).duration,
                              text=normalize(" ".join(words), "en"), lang="en",
                              speaker=Path(fileids[utt_id]).parent.name))
    return utts


def read_an4(corpus: str | os.PathLike, splits: Sequence[str] = SPLITS) -> dict[str, list[Utterance]]:
    """``{"train": [...], "test": [...]}`` (or the ``splits`` asked for)."""
    root = find_root(corpus)
    return {s: read_split(root, s) for s in splits}
