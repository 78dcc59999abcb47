"""Voice activity detection: where the speech is in a waveform, so that silence is not decoded.

Two detectors behind one call, :func:`speech_segments`:

* ``"silero"``: the silero-vad network (``pip install silero-vad``; the package ships its model
  file, nothing is downloaded), 32 ms frames, the package's own segmentation rules;
* ``"energy"``: a fallback with no dependency: 30 ms frames whose energy is within ``range_db``
  of the loudest frame's (and above an absolute floor) are speech; gaps shorter than
  ``min_silence_s`` are bridged, segments shorter than ``min_speech_s`` dropped.

``"auto"`` (the default) takes silero-vad when it is installed, else the energy detector. Segments
are padded by ``pad_s`` on each side (clipped to the waveform) and returned in seconds.

Usage::

    segs = speech_segments(wav)                 # [(0.42, 2.91), (3.60, 7.02)] for a (S,) 16 kHz waveform
    detector_name()                             # "silero" or "energy"
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE

__all__ = ["DETECTORS", "detector_name", "speech_segments", "energy_segments"]

DETECTORS = ("auto", "silero", "energy")


@functools.lru_cache(maxsize=1)
def _silero():
    """The silero-vad model (TorchScript file shipped in the package), or ``None`` when not installed."""
    try:
        from silero_vad import load_silero_vad
    except ImportError:
        return None
    return load_silero_vad()


def detector_name(detector: str = "auto") -> str:
    """The detector ``detector`` resolves to here (``auto``: silero when installed, else energy).

    Raises:
        ValueError: an unknown detector, or ``silero`` asked for without the package.
    """
    if detector not in DETECTORS:
        raise ValueError(f"VAD {detector!r}: one of {DETECTORS}")
    if detector == "energy":
        return "energy"
    if _silero() is None:
        if detector == "silero":
            raise ValueError("VAD 'silero' needs the silero-vad package (pip install silero-vad)")
        return "energy"
    return "silero"


def _merge(segs: list[tuple[float, float]], pad_s: float, total_s: float) -> list[tuple[float, float]]:
    """Pad, clip and merge overlapping segments (seconds)."""
    out: list[tuple[float, float]] = []
    for s, e in segs:
        s, e = max(0.0, s - pad_s), min(total_s, e + pad_s)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in out]


def energy_segments(wav: Tensor, range_db: float = 35.0, floor_db: float = -60.0, min_speech_s: float = 0.2,
                    min_silence_s: float = 0.3, frame_s: float = 0.03) -> list[tuple[float, float]]:
    """Speech segments ``[(start_s, end_s), ...]`` of ``(S,)`` 16 kHz by frame energy (unpadded)."""
    frame = int(frame_s * SAMPLE_RATE)
    n = wav.shape[0] // frame
    if n == 0:
        return []
    energy_db = 10 * torch.log10(wav[: n * frame].double().reshape(n, frame).pow(2).mean(dim=1) + 1e-12)
    threshold = max(float(energy_db.max()) - range_db, floor_db)
    voiced = (energy_db > threshold).tolist()
    segs: list[list[int]] = []
    for i, v in enumerate(voiced):
        if not v:
            continue
        if segs and (i - segs[-1][1]) * frame_s <= min_silence_s:
            segs[-1][1] = i + 1
        else:
            segs.append([i, i + 1])
    return [(a * frame_s, b * frame_s) for a, b in segs if (b - a) * frame_s >= min_speech_s]


def speech_segments(wav: Tensor, detector: str = "auto", threshold: float = 0.5, pad_s: float = 0.2,
                    min_speech_s: float = 0.25, min_silence_s: float = 0.3) -> list[tuple[float, float]]:
    """Where ``wav`` ``(S,)`` (16 kHz, mono) holds speech: sorted, non-overlapping ``(start_s, end_s)``.

    Args:
        wav: the waveform.
        detector: ``auto``, ``silero`` or ``energy`` (see the module docstring).
        threshold: silero's speech probability threshold.
        pad_s: seconds added on each side of a segment (merged where they meet).
        min_speech_s, min_silence_s: shorter speech is dropped, shorter silences bridged.
    """
    total = wav.shape[0] / SAMPLE_RATE
    if wav.shape[0] < SAMPLE_RATE // 100:
        return []
    if detector_name(detector) == "energy":
        segs = energy_segments(wav, min_speech_s=min_speech_s, min_silence_s=min_silence_s)
    else:
        from silero_vad import get_speech_timestamps

        model = _silero()
        model.reset_states()
        with torch.no_grad():
            stamps = get_speech_timestamps(wav.float().contiguous(), model, threshold=threshold,
                                           sampling_rate=SAMPLE_RATE, min_speech_duration_ms=int(min_speech_s * 1000),
                                           min_silence_duration_ms=int(min_silence_s * 1000), speech_pad_ms=0)
        segs = [(d["start"] / SAMPLE_RATE, d["end"] / SAMPLE_RATE) for d in stamps]
    return _merge([(s, e) for s, e in segs if e > s and math.isfinite(e)], pad_s, total)
