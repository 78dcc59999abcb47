"""Readers of speech corpora as their publishers distribute them, one module per corpus.

Each reader walks the corpus directory, reads the transcripts in the
publisher's format, normalizes them (:func:`asr.text.normalize.normalize`:
lower case, no punctuation) and returns ``{split: [Utterance, ...]}``;
durations come from the audio headers. The recipes under ``recipes/<corpus>``
write the result as ``EXP/data/<split>.jsonl`` with :func:`write_splits`.

* :mod:`~asr.data.corpora.librispeech`  ``LibriSpeech/<split>/<spk>/<chapter>/*.flac``
* :mod:`~asr.data.corpora.commonvoice`  ``cv-corpus-*/<locale>/{train,dev,test}.tsv`` + ``clips/*.mp3``
* :mod:`~asr.data.corpora.timit`        ``TIMIT/{TRAIN,TEST}/DR*/<SPK>/<UTT>.{WAV,PHN,WRD,TXT}``
* :mod:`~asr.data.corpora.an4`          ``an4/wav/**.sph`` + ``an4/etc/an4_{train,test}.{fileids,transcription}``
* :mod:`~asr.data.corpora.asterisk`     ``asterisk/sounds/<lang dir>/**.wav`` + ``doc/asterisk-core-sounds-<lang>/*.txt.gz``
* Kaldi data directories: :func:`asr.data.kaldi.read_kaldi_dir`.

A corpus may hold any subset of its standard splits (LibriSpeech is often just
train-clean-100, dev-clean and test-clean): the recipes keep the splits that are
there (:func:`select_splits`, one warning naming the others) and fail only when
no training split or no test split is left; :func:`prepared_splits` says which
splits the prepare stage wrote.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from asr.data.manifest import Utterance, speakers, write_manifest

__all__ = ["CorpusError", "select_splits", "write_splits", "prepared_splits"]

log = logging.getLogger(__name__)


class CorpusError(ValueError):
    """A corpus directory does not have the layout its reader expects (the message says what is missing)."""


def write_splits(data_dir: str | os.PathLike, splits: Mapping[str, Sequence[Utterance]]) -> dict[str, dict]:
    """Write ``data_dir/<split>.jsonl`` for every split and ``data_dir/summary.json``.

    Returns:
        ``{split: {"utts", "hours", "speakers", "langs"}}`` (also in ``summary.json``).
    """
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    summary = {}
    for split, utts in splits.items():
        write_manifest(d / f"{split}.jsonl", utts)
        summary[split] = {"utts": len(utts), "hours": round(sum(u.duration for u in utts) / 3600, 4),
                          "speakers": len(speakers(utts)), "langs": sorted({u.lang for u in utts})}
    (d / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def select_splits(where: str | os.PathLike, wanted: Sequence[str], present: Collection[str], *,
                  train: Collection[str] = (), test: Collection[str] = ()) -> list[str]:
    """The splits of ``wanted`` that the corpus holds, in ``wanted``'s order; one warning names the rest.

    Args:
        where: the corpus directory (named in the warning and the error).
        wanted: the splits the preset asks for.
        present: the splits the corpus holds (with utterances).
        train: the training splits: when ``wanted`` holds some, at least one must be present.
        test: the scored splits: likewise.

    Raises:
        CorpusError: no training split or no test split left (the message names ``where`` and what is missing).

    >>> select_splits("/data/LibriSpeech", ["train-clean-100", "test-clean", "test-other"],
    ...               {"train-clean-100", "test-clean"}, train=["train-clean-100"], test=["test-clean", "test-other"])
    ['train-clean-100', 'test-clean']
    """
    kept = [s for s in wanted if s in present]
    for role, names in (("training", [s for s in wanted if s in train]), ("test", [s for s in wanted if s in test])):
        if names and not any(s in present for s in names):
            raise CorpusError(f"{where}: no {role} split: {', '.join(names)} not found "
                              f"(the corpus holds {', '.join(sorted(present)) or 'none of the standard splits'})")
    missing = [s for s in wanted if s not in present]
    if missing:
        log.warning("%s: split(s) %s not found; using %s", where, ", ".join(missing), ", ".join(kept))
    return kept


def prepared_splits(data_dir: str | os.PathLike) -> list[str] | None:
    """The splits :func:`write_splits` wrote to ``data_dir`` (its ``summary.json``); ``None`` before prepare ran."""
    path = Path(data_dir) / "summary.json"
    if not path.is_file():
        return None
    return [k for k, v in json.loads(path.read_text()).items() if isinstance(v, dict) and "utts" in v]
