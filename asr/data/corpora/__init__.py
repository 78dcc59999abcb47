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
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from asr.data.manifest import Utterance, speakers, write_manifest

__all__ = ["CorpusError", "write_splits"]


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
