"""The decode contract both roads share: what a recognizer returns and what decoding a manifest reports.

* :class:`WordSpan`: one recognised word with its time span in seconds.
* :class:`Hypothesis`: the text of one waveform and, when asked for, its words.
* :class:`Recognizer`: a loaded model + search; batches of 16 kHz waveforms in,
  hypotheses out. The CTC road implements it in :class:`asr.decoding.ctc.Transcriber`,
  the hybrid road in :class:`asr.decoding.hybrid.HybridRecognizer`; which one a
  model directory needs is decided in one table, :data:`asr.systems.SYSTEMS`.
* :class:`DecodeStats`: what :func:`asr.decoding.manifest.decode_manifest` reports
  for either system (same fields, same meaning).

* :class:`StreamingRecognizer`: the stateful sibling of :class:`Recognizer` (audio
  in as it arrives, partial hypotheses out, a final one per utterance). Only the
  interface is defined so far: the streaming decoders of both roads implement it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = ["WordSpan", "Hypothesis", "Recognizer", "StreamingRecognizer", "DecodeStats", "distinct_texts",
           "AUTO_LANGUAGE"]


AUTO_LANGUAGE = "auto"  # the language option that asks a multilingual model's language-ID head (asr.decoding.ctc_lid)

@dataclass(frozen=True)
class WordSpan:
    """A word and where it is: ``start``/``end`` in seconds, ``score`` the mean frame log-probability (CTC; 0.0 where the search gives none)."""

    word: str
    start: float
    end: float
    score: float = 0.0


@dataclass(frozen=True)
class Hypothesis:
    """The recognised text of one waveform; ``words`` with times when they were asked for (else empty);
    ``alternatives``: the n-best ``(text, score)`` list, best first (its first text is ``text``), when asked for;
    ``language`` / ``language_prob``: the language a language-ID head chose and its probability (else ``""`` / ``None``)."""

    text: str
    words: tuple[WordSpan, ...] = ()
    alternatives: tuple[tuple[str, float], ...] = ()
    language: str = ""
    language_prob: float | None = None


def distinct_texts(scored: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """An n-best list with each text once (its first, best, score kept), in order; ``[("", 0.0)]`` if empty."""
    seen: dict[str, float] = {}
    for text, score in scored:
        seen.setdefault(text, score)
    return list(seen.items()) or [("", 0.0)]


@runtime_checkable
class Recognizer(Protocol):
    """A trained model with its search: ``B`` waveforms in, ``B`` hypotheses out.

    Attributes:
        system: the system's name in :data:`asr.systems.SYSTEMS` (``"ctc"``, ``"hybrid"``).
        device: where the network runs.
        decoder_name: a short name of the search (``"greedy"``, ``"lexicon"``, ``"word"``, ``"phone"``, ...).
    """

    system: str
    device: torch.device
    decoder_name: str

    def transcribe(self, wavs: Sequence[Tensor], with_times: bool = False) -> list[Hypothesis]:
        """``B`` waveforms ``(S_i,)`` at 16 kHz in [-1, 1] -> ``B`` hypotheses (word times if ``with_times``)."""
        ...


@runtime_checkable
class StreamingRecognizer(Protocol):
    """One utterance (or stream) at a time, fed as it arrives: the stateful interface.

    ``accept`` takes the next samples, ``partial`` reads the best hypothesis so far,
    ``finalize`` flushes the look-ahead and returns the final hypothesis, and ``reset``
    starts the next utterance with the model kept.
    """

    system: str

    def accept(self, samples: Tensor) -> None:
        """Feed ``(S,)`` more samples at 16 kHz."""
        ...

    def partial(self) -> Hypothesis:
        """The best hypothesis of what has been fed so far (may change)."""
        ...

    def finalize(self) -> Hypothesis:
        """The final hypothesis of the utterance (nothing more will be fed)."""
        ...

    def reset(self) -> None:
        """Forget the utterance; the next ``accept`` starts a new one."""
        ...


@dataclass
class DecodeStats:
    """What decoding a manifest did, the same for every system.

    Attributes:
        num_utts: utterances in the manifest (every one gets a hypothesis row).
        skipped: id -> reason for those whose audio could not be read (empty hypothesis).
        audio_seconds: audio decoded.
        wall_seconds: wall time of the decoding loop (audio reading included; model
            loading and one warm-up call not).
        compute_seconds: network and search only.
        decoder: the recognizer's search (:attr:`Recognizer.decoder_name`).
        device: where the network ran.
        system: ``"ctc"`` or ``"hybrid"``.
        jobs: worker processes that decoded it.
    """

    num_utts: int
    skipped: dict[str, str] = field(default_factory=dict)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    compute_seconds: float = 0.0
    decoder: str = ""
    device: str = "cpu"
    system: str = ""
    jobs: int = 1

    @property
    def rtf(self) -> float:
        """Real-time factor: wall seconds per audio second."""
        return self.wall_seconds / max(self.audio_seconds, 1e-9)

    @property
    def rtf_compute(self) -> float:
        """Network and search seconds per audio second."""
        return self.compute_seconds / max(self.audio_seconds, 1e-9)

    def to_dict(self) -> dict[str, Any]:
        """The fields and both RTFs, rounded for JSON."""
        return {"system": self.system, "num_utts": self.num_utts, "skipped": dict(self.skipped),
                "audio_seconds": round(self.audio_seconds, 2), "wall_seconds": round(self.wall_seconds, 3),
                "compute_seconds": round(self.compute_seconds, 3), "rtf": round(self.rtf, 4),
                "rtf_compute": round(self.rtf_compute, 4), "decoder": self.decoder, "device": self.device,
                "jobs": self.jobs}
