"""The only audio I/O in asr: read, write, mix down, resample.

Everything that touches an audio file goes through this module, so that one
place decides which formats are read (soundfile: wav, flac, ogg/vorbis, mp3,
NIST SPHERE) and how bad files are reported (:class:`AudioError`, which always
names the file and the problem).

Waveforms are float32 tensors in [-1, 1] of shape ``(T,)`` (mono) at
:data:`SAMPLE_RATE` unless a caller asks for another rate.
"""

from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from asr.errors import InputError

SAMPLE_RATE = 16000  # Hz: the rate every model in asr works at

__all__ = [
    "decode_audio",
    "SAMPLE_RATE",
    "AudioError",
    "AudioInfo",
    "info",
    "load_audio",
    "save_audio",
    "read_pcm16",
    "codec_round_trip",
    "resample",
    "to_mono",
]


class AudioError(InputError, RuntimeError):
    """An audio file is missing, empty, truncated or cannot be decoded (an :class:`~asr.errors.InputError`).

    ``str(err)`` reads ``"<path>: <problem>"``; ``err.path`` and ``err.problem``
    hold the parts.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says: rate in Hz, frames per channel, channels."""

    path: str
    sample_rate: int
    num_frames: int
    channels: int
    format: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.sample_rate


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise AudioError(path, "no such file")
    if path.is_dir():
        raise AudioError(path, "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")


def _check_wav_complete(path: Path) -> None:
    """Raise if a RIFF/WAVE file's data chunk is shorter than its header says.

    libsndfile quietly reads what is there; a truncated download or an
    interrupted write would then train on a silently cut utterance.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not RIFF/WAVE (e.g. RF64, or SPHERE named .wav): soundfile decides
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                available = size - pos - 8
                if chunk_size != 0xFFFFFFFF and chunk_size > available:
                    raise AudioError(
                        path,
                        f"truncated: header declares {chunk_size} bytes of audio, "
                        f"file holds {available}",
                    )
                return
            pos += 8 + chunk_size + (chunk_size & 1)
        raise AudioError(path, "truncated: RIFF/WAVE file has no data chunk")


def info(path: str | os.PathLike) -> AudioInfo:
    """Read a file's header without decoding the samples.

    Raises:
        AudioError: missing, empty, truncated or undecodable file.
    """
    p = Path(path)
    _check_exists(p)
    if p.suffix.lower() == ".wav":
        _check_wav_complete(p)
    try:
        i = sf.info(str(p))
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError
        raise AudioError(p, f"cannot decode audio ({e})") from None
    if i.frames <= 0 and i.format != "MPEG":
        raise AudioError(p, "no audio samples")
    return AudioInfo(str(p), int(i.samplerate), int(i.frames), int(i.channels), i.format)


def to_mono(wav: torch.Tensor) -> torch.Tensor:
    """Average channels: ``(T, C)`` or ``(T,)`` -> ``(T,)``."""
    return wav.mean(dim=1) if wav.dim() == 2 else wav


@functools.lru_cache(maxsize=16)
def _resampler(orig_rate: int, new_rate: int, dtype: torch.dtype) -> torch.nn.Module:
    import torchaudio.transforms as AT

    return AT.Resample(orig_rate, new_rate, dtype=dtype)  # the sinc kernel is built once


def resample(wav: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Band-limited (windowed sinc) resampling along the last axis: ``(..., T)`` -> ``(..., T')``."""
    if orig_rate == new_rate:
        return wav
    return _resampler(int(orig_rate), int(new_rate), wav.dtype).to(wav.device)(wav)


def load_audio(
    path: str | os.PathLike,
    sample_rate: int | None = SAMPLE_RATE,
    offset: float = 0.0,
    duration: float | None = None,
) -> torch.Tensor:
    """Read a file as a mono float32 waveform.

    Args:
        path: any format soundfile reads (wav, flac, ogg, mp3, NIST SPHERE).
        sample_rate: resample to this rate in Hz; ``None`` keeps the file's rate.
        offset: start reading at this many seconds (for segments).
        duration: read at most this many seconds; ``None`` reads to the end.

    Returns:
        ``(T,)`` float32 tensor in [-1, 1].

    Raises:
        AudioError: the file is missing, empty, truncated or undecodable, or the
            segment asked for lies outside it.
    """
    p = Path(path)
    meta = info(p)
    sr = meta.sample_rate
    start = int(round(offset * sr))
    stop = None if duration is None else start + int(round(duration * sr))
    if meta.num_frames > 0 and start >= meta.num_frames:
        raise AudioError(p, f"segment offset {offset:.3f}s is past the end ({meta.duration:.3f}s)")
    try:
        data, sr = sf.read(str(p), start=start, stop=stop, dtype="float32", always_2d=True)
    except Exception as e:
        raise AudioError(p, f"cannot decode audio ({e})") from None
    return _mono_float(data, sr, p, sample_rate)


def _mono_float(data: np.ndarray, sr: int, name: str | os.PathLike, sample_rate: int | None) -> torch.Tensor:
    """soundfile's ``(S, C)`` float32 -> ``(S,)`` mono at ``sample_rate``; empty or non-finite audio raises."""
    if data.shape[0] == 0:
        raise AudioError(name, "no audio samples")
    if not np.isfinite(data).all():
        raise AudioError(name, "audio holds NaN or infinite samples")
    wav = to_mono(torch.from_numpy(np.ascontiguousarray(data)))
    if sample_rate is not None and sr != sample_rate:
        wav = resample(wav, sr, sample_rate)
    return wav.contiguous()


def decode_audio(data: bytes, name: str = "<upload>", sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Audio file bytes in memory (any format soundfile reads) -> ``(S,)`` float32 mono at ``sample_rate``.

    Raises:
        AudioError: empty, undecodable, or non-finite audio (``name`` is what the message calls it).
    """
    import io

    if not data:
        raise AudioError(name, "empty file")
    try:
        samples, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as e:
        raise AudioError(name, f"cannot decode audio ({e})") from None
    return _mono_float(samples, sr, name, sample_rate)


def save_audio(
    path: str | os.PathLike,
    wav: torch.Tensor | np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    subtype: str = "PCM_16",
) -> None:
    """Write a ``(T,)`` or ``(T, C)`` waveform; the format follows the suffix.

    The file is written to a temporary name and renamed, so a killed writer
    never leaves a half-written file under the real name.
    """
    p = Path(path)
    data = wav.detach().cpu().numpy() if isinstance(wav, torch.Tensor) else np.asarray(wav)
    data = np.clip(data, -1.0, 1.0)
    tmp = p.with_name(p.name + ".part")
    fmt = p.suffix.lstrip(".").upper() or "WAV"
    fmt = {"OGG": "OGG", "SPH": "NIST", "MP3": "MP3"}.get(fmt, fmt)
    if fmt == "OGG" and subtype == "PCM_16":
        subtype = "VORBIS"
    if fmt == "MP3" and subtype == "PCM_16":
        subtype = "MPEG_LAYER_III"
    sf.write(str(tmp), data, sample_rate, subtype=subtype, format=fmt)
    os.replace(tmp, p)


def read_pcm16(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """A file's samples as they are stored: ``(T,)`` int16 (channels mixed down) and its own sample rate.

    For engines that hand over audio as files (synthesizers); no resampling, no float conversion.

    Raises:
        AudioError: missing, empty or undecodable.
    """
    p = Path(path)
    _check_exists(p)
    try:
        data, rate = sf.read(str(p), dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(p, f"cannot decode audio ({e})") from None
    mono = data[:, 0] if data.shape[1] == 1 else np.round(data.mean(axis=1)).astype(np.int16)
    return mono, int(rate)


def codec_round_trip(wav: np.ndarray, sample_rate: int, subtype: str, fmt: str = "WAV") -> np.ndarray:
    """``(T,)`` float64 samples encoded with a libsndfile codec (``ULAW``, ``ALAW``, ``GSM610``,
    ``VORBIS``, ...) and decoded again, in memory: what a channel with that codec does to audio."""
    import io

    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(wav, dtype=np.float64), -1.0, 1.0), sample_rate, format=fmt, subtype=subtype)
    buf.seek(0)
    decoded, _ = sf.read(buf, dtype="float64")
    return decoded
