"""LibriSpeech (openslr.org/12) and mini-LibriSpeech (openslr.org/31), as distributed.

Layout (the tarballs unpack into ``LibriSpeech/``)::

    LibriSpeech/<split>/<speaker>/<chapter>/<speaker>-<chapter>-<nnnn>.flac
    LibriSpeech/<split>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt   # "<utt-id> UPPER CASE TEXT"

Utterance ids are the corpus's (``1272-128104-0000``); speaker = the first field.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from asr import audio
from asr.data.corpora import CorpusError
from asr.data.manifest import Utterance
from asr.text.normalize import normalize

__all__ = ["SPLITS", "find_root", "present_splits", "read_split", "read_librispeech"]

SPLITS = ("train-clean-100", "train-clean-360", "train-other-500", "dev-clean", "dev-other", "test-clean",
          "test-other", "train-clean-5", "dev-clean-2")  # the last two: mini-LibriSpeech


def find_root(corpus: str | os.PathLike) -> Path:
    """The directory holding the split directories: ``corpus/LibriSpeech`` or ``corpus`` itself."""
    p = Path(corpus)
    for cand in (p / "LibriSpeech", p):
        if cand.is_dir() and any((cand / s).is_dir() for s in SPLITS):
            return cand
    raise CorpusError(f"{p}: no LibriSpeech split directories ({', '.join(SPLITS)}) here or in {p / 'LibriSpeech'}")


def present_splits(corpus: str | os.PathLike) -> list[str]:
    """The split directories the corpus holds (every directory under :func:`find_root`), sorted."""
    return sorted(d.name for d in find_root(corpus).iterdir() if d.is_dir())


def read_split(split_dir: str | os.PathLike) -> list[Utterance]:
    """Every utterance of one split directory, sorted by id.

    Raises:
        CorpusError: a transcript names a missing ``.flac``, or the split holds no transcripts.
        audio.AudioError: an unreadable ``.flac``.
    """
    d = Path(split_dir)
    utts = []
    trans_files = sorted(d.glob("*/*/*.trans.txt"))
    if not trans_files:
        raise CorpusError(f"{d}: no <speaker>/<chapter>/*.trans.txt transcripts")
    for trans in trans_files:
        for lineno, line in enumerate(trans.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            utt_id, _, text = line.strip().partition(" ")
            flac = trans.parent / f"{utt_id}.flac"
            if not flac.is_file():
                raise CorpusError(f"{trans}:{lineno}: {flac.name} is missing")
            utts.append(Utterance(id=utt_id, audio=str(flac), duration=audio.info(flac).duration,
                                  text=normalize(text, "en"), lang="en", speaker=utt_id.split("-")[0]))
    return sorted(utts, key=lambda u: u.id)


def read_librispeech(corpus: str | os.PathLike, splits: Sequence[str] | None = None) -> dict[str, list[Utterance]]:
    """Read some or all splits: ``{split: utterances}``.

    Args:
        corpus: the directory holding ``LibriSpeech/`` (or ``LibriSpeech/`` itself).
        splits: split names; ``None``: every standard split present.

    Raises:
        CorpusError: a requested split is absent (the message lists those present).
    """
    root = find_root(corpus)
    present = [s for s in SPLITS if (root / s).is_dir()]
    wanted = list(splits) if splits else present
    missing = [s for s in wanted if not (root / s).is_dir()]
    if missing:
        raise CorpusError(f"{root}: split(s) {missing} not found; present: {present}")
    return {s: read_split(root / s) for s in wanted}
