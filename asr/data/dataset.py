"""A map-style dataset of waveforms that survives bad audio files.

:class:`AudioDataset` loads one utterance per index through
:func:`asr.audio.load_audio`. A row whose audio is missing, empty, truncated or
undecodable does not end the epoch: the dataset logs a warning naming the file
and the problem and returns a *skipped item* ``{"id": ..., "error": ...}``
instead of a sample. :func:`asr.data.collate.collate_waveforms` drops such
items and carries their ids and errors in ``batch["skipped"]``, so the report
reaches the training loop even from DataLoader worker processes (whose own
copies of the dataset are out of reach). Accumulate them with
:class:`SkipReport`.

:func:`validate` is the cheap pre-scan (headers only) to run before epoch 1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import Dataset

from asr import audio
from asr.data.manifest import Utterance

__all__ = ["AudioDataset", "SkipReport", "validate"]

log = logging.getLogger(__name__)

# Segment ends may overshoot the file by rounding in the manifest; tolerate this much.
SEGMENT_END_TOLERANCE = 0.01  # seconds


@dataclass
class SkipReport:
    """Utterances left out, with why: ``errors`` maps id -> ``"<path>: <problem>"``.

    Usage in a training loop::

        report = SkipReport()
        for batch in loader:
            report.update(batch["skipped"])
            ...
        if report.count:
            log.warning("%s", report)
    """

    errors: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Number of distinct utterances skipped."""
        return len(self.errors)

    @property
    def ids(self) -> list[str]:
        """Skipped utterance ids, sorted."""
        return sorted(self.errors)

    def add(self, utt_id: str, error: str) -> None:
        """Record one skipped utterance."""
        self.errors[utt_id] = error

    def update(self, skipped: Mapping[str, str]) -> None:
        """Merge a batch's ``skipped`` mapping (id -> error)."""
        self.errors.update(skipped)

    def __str__(self) -> str:
        if not self.errors:
            return "no utterances skipped"
        lines = [f"{self.count} utterance(s) skipped:"]
        lines += [f"  {i}: {self.errors[i]}" for i in self.ids]
        return "\n".join(lines)


def _load(utt: Utterance, sample_rate: int) -> torch.Tensor:
    """``(T,)`` float32 waveform of ``utt`` (its segment when ``offset`` is set)."""
    if utt.offset is None:
        return audio.load_audio(utt.audio, sample_rate)
    return audio.load_audio(utt.audio, sample_rate, offset=utt.offset, duration=utt.duration)


class AudioDataset(Dataset):
    """Utterances as waveforms.

    ``dataset[i]`` is a dict::

        {"id": str, "wav": (T,) float32 tensor, "text": str, "lang": str,
         "speaker": str, "duration": float}

    passed through ``transform`` when given (a per-sample function in the
    wenet style: tokenize, perturb, ...; returning ``None`` drops the sample
    without calling it an error). For a bad audio file it is instead the
    skipped item ``{"id": str, "error": "<path>: <problem>"}``; a warning is
    logged once per utterance and :attr:`report` records it (in this process
    only, see the module docstring).

    Args:
        utts: manifest rows.
        sample_rate: waveforms are resampled to this rate in Hz.
        transform: optional ``dict -> dict | None`` applied to good samples.
    """

    def __init__(
        self,
        utts: Sequence[Utterance],
        sample_rate: int = audio.SAMPLE_RATE,
        transform: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ):
        self.utts = list(utts)
        self.sample_rate = sample_rate
        self.transform = transform
        self.report = SkipReport()

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        utt = self.utts[index]
        try:
            wav = _load(utt, self.sample_rate)
        except audio.AudioError as e:
            if utt.id not in self.report.errors:
                log.warning("skipping utterance %s: %s", utt.id, e)
            self.report.add(utt.id, str(e))
            return {"id": utt.id, "error": str(e)}
        item: dict[str, Any] = {
            "id": utt.id,
            "wav": wav,
            "text": utt.text,
            "lang": utt.lang,
            "speaker": utt.speaker,
            "duration": wav.shape[0] / self.sample_rate,
        }
        return self.transform(item) if self.transform is not None else item


def validate(utts: Iterable[Utterance]) -> tuple[list[Utterance], SkipReport]:
    """Pre-scan audio headers (no decoding) before training.

    Checks that every file exists and decodes as audio, and that segments lie
    inside their recording. Each file's header is read once, however many
    segments it holds.

    Returns:
        ``(good, report)``: the usable utterances in their original order, and
        a :class:`SkipReport` of the others with reasons.
    """
    infos: dict[str, audio.AudioInfo | audio.AudioError] = {}
    good: list[Utterance] = []
    report = SkipReport()
    for utt in utts:
        if utt.audio not in infos:
            try:
                infos[utt.audio] = audio.info(utt.audio)
            except audio.AudioError as e:
                infos[utt.audio] = e
        meta = infos[utt.audio]
        if isinstance(meta, audio.AudioError):
            report.add(utt.id, str(meta))
        elif utt.offset is not None and utt.end > meta.duration + SEGMENT_END_TOLERANCE:
            report.add(
                utt.id,
                f"{utt.audio}: segment {utt.offset:.3f}-{utt.end:.3f}s ends past the "
                f"end of the file ({meta.duration:.3f}s)",
            )
        else:
            good.append(utt)
    return good, report
