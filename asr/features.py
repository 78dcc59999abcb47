"""Acoustic features: Kaldi-compatible fbank / MFCC, deltas, splicing, CMVN, SpecAugment.

The math lives in stateless functions; :class:`FeatureExtractor`,
:class:`GlobalCMVN` and :class:`SpecAugment` are thin ``nn.Module`` wrappers.

Layout everywhere: features are ``(B, T, F)`` float32 with integer frame
lengths ``(B,)``; frames at or beyond an utterance's own length are zero.

Input scaling
-------------
Waveforms arrive as floats in [-1, 1] (what :func:`asr.audio.load_audio`
returns). Kaldi works on int16-valued samples, so before framing we multiply by
``FeatureConfig.waveform_scale`` (default ``32768.0`` = 2**15, as wenet does).
With that default a 16-bit file gives the same numbers as Kaldi's
``compute-fbank-feats`` / ``compute-mfcc-feats`` on that file, ``dither`` is in
int16 units (1.0 = one LSB) and ``energy_floor`` means what it means in Kaldi.
Set ``waveform_scale=1.0`` to work on the [-1, 1] values directly (then the
log-mel values are lower by ``2 * log(32768) ~= 20.8``).

Usage::

    cfg = FeatureConfig(kind="mfcc", deltas=2, cmvn="utterance")
    extractor = FeatureExtractor(cfg)
    feats, frame_lengths = extractor(wav, wav_lengths)   # (B, T', 39), (B,)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.audio import SAMPLE_RATE

__all__ = [
    "FeatureConfig",
    "num_frames",
    "fbank",
    "mfcc",
    "feature_constants",
    "base_features",
    "normalise_and_context",
    "compute_deltas",
    "splice",
    "utterance_cmvn",
    "CMVNStats",
    "GlobalCMVN",
    "spec_augment",
    "time_warp",
    "SpecAugment",
    "FeatureExtractor",
]

EPSILON = torch.finfo(torch.float32).eps  # 1.19e-07: Kaldi's floor before every log
INT16_SCALE = 32768.0  # [-1, 1] floats -> int16 sample values, as Kaldi reads them
_DEFAULT_MEL_BINS = {"fbank": 80, "mfcc": 23}  # 80: end-to-end models; 23: Kaldi's MFCC default

FeatureKind = Literal["fbank", "mfcc"]
CMVNKind = Literal["none", "utterance", "global"]


@dataclass(frozen=True)
class FeatureConfig:
    """Feature options, values only; saved in a model's JSON config.

    Attributes:
        kind: ``"fbank"`` (log-mel filterbank) or ``"mfcc"``.
        sample_rate: waveform rate in Hz.
        frame_length_ms: analysis window, 25 ms = 400 samples at 16 kHz.
        frame_shift_ms: hop, 10 ms = 160 samples at 16 kHz (100 frames per second).
        num_mel_bins: triangular mel filters; ``None`` picks 80 for fbank, 23 for mfcc.
        num_ceps: MFCC coefficients kept, c0 included (mfcc only).
        cepstral_lifter: sinusoidal lifter constant; 0 disables (mfcc only).
        preemphasis: ``x[n] - a * x[n-1]`` within each frame; 0 disables.
        dither: Gaussian noise std added to each frame, in scaled units (1.0 =
            one int16 step with the default scale). :class:`FeatureExtractor`
            applies it in training mode only.
        low_freq: lowest mel filter edge in Hz.
        high_freq: highest mel filter edge in Hz; ``<= 0`` is an offset from Nyquist.
        snip_edges: Kaldi's end handling. True: only frames that fit wholly in
            the signal, ``1 + (N - L) // S`` of them. False: ``(N + S // 2) // S``
            frames centred on multiples of the shift, the signal reflected at the ends.
        use_energy: fbank: prepend a log-energy column; mfcc: replace c0 by log
            energy (Kaldi's ``--use-energy``; raw energy, before pre-emphasis).
        energy_floor: floor on that energy (absolute, before the log); 0 = none.
        remove_dc_offset: subtract each frame's mean before anything else.
        waveform_scale: multiply [-1, 1] samples by this first (see module docstring).
        deltas: order of delta features appended (0 = none, 2 = deltas + delta-deltas).
        delta_window: half-width of the delta regression window, in frames.
        cmvn: ``"none"``, ``"utterance"`` (per-utterance mean/variance), or
            ``"global"`` (dataset statistics held by a :class:`GlobalCMVN`).
    """

    kind: FeatureKind = "fbank"
    sample_rate: int = SAMPLE_RATE
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    num_mel_bins: int | None = None
    num_ceps: int = 13
    cepstral_lifter: float = 22.0
    preemphasis: float = 0.97
    dither: float = 0.0
    low_freq: float = 20.0
    high_freq: float = 0.0
    snip_edges: bool = True
    use_energy: bool = False
    energy_floor: float = 0.0
    remove_dc_offset: bool = True
    waveform_scale: float = INT16_SCALE
    deltas: int = 0
    delta_window: int = 2
    cmvn: CMVNKind = "none"

    def __post_init__(self) -> None:
        if self.kind not in _DEFAULT_MEL_BINS:
            raise ValueError(f"FeatureConfig.kind must be 'fbank' or 'mfcc', got {self.kind!r}")
        if self.cmvn not in ("none", "utterance", "global"):
            raise ValueError(f"FeatureConfig.cmvn must be 'none', 'utterance' or 'global', got {self.cmvn!r}")
        if self.window_size < 2 or self.window_shift < 1:
            raise ValueError(
                f"frame_length_ms={self.frame_length_ms} / frame_shift_ms={self.frame_shift_ms} give "
                f"{self.window_size} / {self.window_shift} samples at {self.sample_rate} Hz"
            )
        if self.mel_bins <= 3:
            raise ValueError(f"need more than 3 mel bins, got {self.mel_bins}")
        if self.kind == "mfcc" and not 1 <= self.num_ceps <= self.mel_bins:
            raise ValueError(f"num_ceps={self.num_ceps} must be in [1, num_mel_bins={self.mel_bins}]")
        if not 0.0 <= self.preemphasis <= 1.0:
            raise ValueError(f"preemphasis must be in [0, 1], got {self.preemphasis}")
        if self.deltas < 0 or self.delta_window < 1:
            raise ValueError(f"deltas={self.deltas} must be >= 0 and delta_window={self.delta_window} >= 1")

    # --- derived sizes -------------------------------------------------------
    @property
    def window_size(self) -> int:
        """Frame length in samples (Kaldi truncates: 25 ms at 16 kHz -> 400)."""
        return int(self.sample_rate * 0.001 * self.frame_length_ms)

    @property
    def window_shift(self) -> int:
        """Frame shift in samples (10 ms at 16 kHz -> 160)."""
        return int(self.sample_rate * 0.001 * self.frame_shift_ms)

    @property
    def n_fft(self) -> int:
        """FFT size: the window size rounded up to a power of two (400 -> 512)."""
        return 1 << (self.window_size - 1).bit_length()

    @property
    def mel_bins(self) -> int:
        """``num_mel_bins`` with ``None`` resolved for this ``kind``."""
        return self.num_mel_bins if self.num_mel_bins is not None else _DEFAULT_MEL_BINS[self.kind]

    @property
    def base_dim(self) -> int:
        """Dimension of the fbank / mfcc output, before deltas."""
        return self.num_ceps if self.kind == "mfcc" else self.mel_bins + int(self.use_energy)

    @property
    def dim(self) -> int:
        """Dimension of :class:`FeatureExtractor`'s output (deltas included)."""
        return self.base_dim * (self.deltas + 1)

    # --- (de)serialisation ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-safe dict of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise (they are usually typos)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown FeatureConfig keys: {unknown}")
        return cls(**d)


# ---------------------------------------------------------------------------
# Framing and the constant matrices
# ---------------------------------------------------------------------------


def num_frames(num_samples: int | Tensor, cfg: FeatureConfig) -> int | Tensor:
    """Frames a signal of ``num_samples`` samples gives (Kaldi's ``NumFrames``).

    Args:
        num_samples: an int, or an integer tensor of any shape (e.g. lengths ``(B,)``).
        cfg: uses ``window_size``, ``window_shift`` and ``snip_edges``.

    Returns:
        Same type and shape as ``num_samples``.
    """
    size, shift = cfg.window_size, cfg.window_shift
    if not cfg.snip_edges:
        return (num_samples + shift // 2) // shift
    n = (num_samples - size) // shift + 1  # <= 0 whenever num_samples < size
    if isinstance(n, Tensor):
        return n.clamp(min=0)
    return max(0, n)


@functools.lru_cache(maxsize=32)
def _povey_window(size: int) -> Tensor:
    """``(size,)``: Kaldi's default window, a Hann window to the power 0.85."""
    return torch.hann_window(size, periodic=False, dtype=torch.float32).pow(0.85)


@functools.lru_cache(maxsize=32)
def _mel_banks(num_bins: int, n_fft: int, sample_rate: float, low: float, high: float) -> Tensor:
    """``(num_bins, n_fft // 2 + 1)``: triangular mel filters over the rfft bins."""
    from torchaudio.compliance.kaldi import get_mel_banks

    banks, _ = get_mel_banks(num_bins, n_fft, float(sample_rate), low, high, 100.0, -500.0, 1.0)
    return F.pad(banks.float(), (0, 1))  # Kaldi's filters never reach the Nyquist bin


@functools.lru_cache(maxsize=32)
def _dct_lifter_matrix(num_mel_bins: int, num_ceps: int, lifter: float) -> Tensor:
    """``(num_mel_bins, num_ceps)``: orthonormal DCT-II, columns scaled by the lifter."""
    n = torch.arange(num_mel_bins, dtype=torch.float64)
    k = torch.arange(num_ceps, dtype=torch.float64)
    dct = torch.cos(math.pi / num_mel_bins * (n[:, None] + 0.5) * k[None, :]) * math.sqrt(2.0 / num_mel_bins)
    dct[:, 0] = math.sqrt(1.0 / num_mel_bins)
    if lifter != 0.0:
        dct = dct * (1.0 + 0.5 * lifter * torch.sin(math.pi * k / lifter))[None, :]
    return dct.float()


def _prepare(wav: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
    """``(T,)`` or ``(B, T)`` -> float32 ``(B, T)`` and int64 lengths ``(B,)``."""
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    if wav.dim() != 2:
        raise ValueError(f"waveform must be (T,) or (B, T), got shape {tuple(wav.shape)}")
    wav = wav.float()
    B, T = wav.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long, device=wav.device)
    else:
        lengths = torch.as_tensor(lengths, device=wav.device).long().reshape(-1)
        if lengths.numel() != B:
            raise ValueError(f"{lengths.numel()} lengths for a batch of {B} waveforms")
        if B and (int(lengths.max()) > T or int(lengths.min()) < 0):
            raise ValueError(f"lengths {lengths.tolist()} outside [0, {T}]")
    return wav, lengths


def _frames(wav: Tensor, lengths: Tensor, cfg: FeatureConfig, static: bool = False) -> tuple[Tensor, Tensor]:
    """Cut each signal into overlapping frames.

    Args:
        wav: ``(B, N)`` float32; lengths: ``(B,)`` valid samples per row.
        static: take ``T`` from the padded width ``N`` (``num_frames(N)``)
            instead of ``max(frame_lengths)``, so no size depends on tensor
            values (``torch.export``); frames past each utterance differ, the
            others are the same.

    Returns:
        frames ``(B, T, window_size)`` with ``T = max(frame_lengths)``, and
        frame_lengths ``(B,)``. Frames past an utterance's length hold junk.
    """
    size, shift = cfg.window_size, cfg.window_shift
    frame_lengths = num_frames(lengths, cfg)
    B = wav.shape[0]
    if static:
        if cfg.snip_edges:  # every frame of the padded width; the samples past the last one are ignored
            return wav.unfold(1, size, shift), frame_lengths
        T = num_frames(wav.shape[1], cfg)
    else:
        T = int(frame_lengths.max()) if B else 0
        if T == 0:
            return wav.new_zeros(B, 0, size), frame_lengths
    need = (T - 1) * shift + size
    if cfg.snip_edges:
        wav = F.pad(wav, (0, max(0, need - wav.shape[1])))[:, :need]
    else:
        # Frame t is centred on t * shift + shift / 2; reflect each utterance at
        # its own ends, Kaldi style: [..., 1, 0 | 0, 1, ... n-1 | n-1, n-2, ...].
        pad = size // 2 - shift // 2
        n = lengths[:, None]
        idx = torch.arange(need, device=wav.device)[None, :] - pad  # (1, need)
        idx = torch.where(idx < 0, -idx - 1, idx)
        idx = torch.where(idx >= n, 2 * n - 1 - idx, idx)
        idx = torch.minimum(idx.clamp(min=0), (n - 1).clamp(min=0))  # (B, need)
        wav = wav.gather(1, idx)
    return wav.unfold(1, size, shift), frame_lengths  # (B, T, size)


def _frame_mask(frame_lengths: Tensor, T: int) -> Tensor:
    """``(B, T)`` bool, True on frames inside each utterance."""
    return torch.arange(T, device=frame_lengths.device)[None, :] < frame_lengths[:, None]


# ---------------------------------------------------------------------------
# fbank / mfcc
# ---------------------------------------------------------------------------


def feature_constants(cfg: FeatureConfig, kind: str | None = None) -> dict[str, Tensor]:
    """The constant matrices of fbank (``kind="fbank"``) or mfcc (default ``cfg.kind``).

    ``{"window": (L,), "mel_banks": (M, n_fft // 2 + 1)}``, plus ``"dct": (M, C)``
    for mfcc. Fresh tensors, so a module may register them as buffers.
    """
    consts = {
        "window": _povey_window(cfg.window_size).clone(),
        "mel_banks": _mel_banks(cfg.mel_bins, cfg.n_fft, cfg.sample_rate, cfg.low_freq, cfg.high_freq).clone(),
    }
    if (kind or cfg.kind) == "mfcc":
        consts["dct"] = _dct_lifter_matrix(cfg.mel_bins, cfg.num_ceps, float(cfg.cepstral_lifter)).clone()
    return consts


def _spectral(frames: Tensor, cfg: FeatureConfig, consts: dict[str, Tensor]) -> Tensor:
    """Frames ``(B, T, L)`` -> fbank ``(B, T, M [+1])`` or, with ``consts["dct"]``, mfcc ``(B, T, C)``.

    Kaldi's order: DC removal, raw log energy, pre-emphasis, window, power
    spectrum, mel, log; mfcc: DCT + lifter, c0 replaced by the energy with
    ``use_energy`` (fbank: energy prepended).
    """
    if cfg.remove_dc_offset:
        frames = frames - frames.mean(dim=-1, keepdim=True)
    # Kaldi's default raw energy: after DC removal, before pre-emphasis and window.
    log_energy = frames.pow(2).sum(-1).clamp(min=EPSILON).log()  # (B, T)
    if cfg.energy_floor > 0.0:
        log_energy = log_energy.clamp(min=math.log(cfg.energy_floor))
    if cfg.preemphasis != 0.0:
        previous = torch.cat([frames[..., :1], frames[..., :-1]], dim=-1)  # x[-1] := x[0]
        frames = frames - cfg.preemphasis * previous
    frames = frames * consts["window"].to(frames.device)
    spectrum = torch.fft.rfft(frames, n=cfg.n_fft)  # zero-pads each frame to n_fft
    power = spectrum.real.square() + spectrum.imag.square()  # (B, T, n_fft // 2 + 1)
    feats = torch.matmul(power, consts["mel_banks"].to(power.device).T).clamp(min=EPSILON).log()  # (B, T, M)
    if "dct" in consts:
        feats = torch.matmul(feats, consts["dct"].to(feats.device))  # (B, T, C)
        if cfg.use_energy:
            feats = torch.cat([log_energy.unsqueeze(-1), feats[..., 1:]], dim=-1)
    elif cfg.use_energy:
        feats = torch.cat([log_energy.unsqueeze(-1), feats], dim=-1)
    return feats


def base_features(
    wav: Tensor,
    lengths: Tensor,
    cfg: FeatureConfig,
    consts: dict[str, Tensor] | None = None,
    static: bool = False,
) -> tuple[Tensor, Tensor]:
    """fbank or mfcc (``consts`` decide: :func:`feature_constants`) of a prepared batch.

    Args:
        wav: ``(B, N)`` float32 in [-1, 1]; lengths: ``(B,)`` int64 samples.
        consts: from :func:`feature_constants` (default: those of ``cfg.kind``).
        static: frame count from ``N``, no dither (the export path; see :func:`_frames`).

    Returns:
        feats ``(B, T, cfg.base_dim)``, zero past each utterance; frame_lengths ``(B,)``.
    """
    consts = feature_constants(cfg) if consts is None else consts
    frames, frame_lengths = _frames(wav * cfg.waveform_scale, lengths, cfg, static)  # (B, T, L)
    B, T = frames.shape[:2]
    dim = consts["dct"].shape[1] if "dct" in consts else consts["mel_banks"].shape[0] + int(cfg.use_energy)
    if not static and T == 0:  # every signal shorter than one window
        return frames.new_zeros(B, 0, dim), frame_lengths
    if cfg.dither != 0.0 and not static:
        frames = frames + cfg.dither * torch.randn_like(frames)
    feats = _spectral(frames, cfg, consts)
    return feats * _frame_mask(frame_lengths, feats.shape[1]).unsqueeze(-1), frame_lengths


def fbank(
    wav: Tensor, lengths: Tensor | None = None, cfg: FeatureConfig | None = None
) -> tuple[Tensor, Tensor]:
    """Log-mel filterbank energies, numerically Kaldi's ``compute-fbank-feats``.

    Args:
        wav: ``(T,)`` or ``(B, T)`` float waveform in [-1, 1] (scaled by
            ``cfg.waveform_scale`` inside).
        lengths: ``(B,)`` valid samples per row; ``None`` = all of ``T``.
        cfg: options (``kind`` is ignored); ``None`` = ``FeatureConfig("fbank")``.

    Returns:
        feats ``(B, T', M)`` float32 with ``M = mel_bins + use_energy`` (energy
        first), zero past each utterance's frames; frame_lengths ``(B,)`` int64.
    """
    cfg = cfg or FeatureConfig(kind="fbank")
    return base_features(*_prepare(wav, lengths), cfg, feature_constants(cfg, "fbank"))


def mfcc(
    wav: Tensor, lengths: Tensor | None = None, cfg: FeatureConfig | None = None
) -> tuple[Tensor, Tensor]:
    """Mel-frequency cepstra, numerically Kaldi's ``compute-mfcc-feats``.

    DCT-II (orthonormal) of the log-mel energies, then the sinusoidal lifter.
    c0 is kept; with ``cfg.use_energy`` it is replaced by the log energy.

    Args:
        wav: ``(T,)`` or ``(B, T)`` float waveform in [-1, 1].
        lengths: ``(B,)`` valid samples per row; ``None`` = all of ``T``.
        cfg: options (``kind`` is ignored); ``None`` = ``FeatureConfig("mfcc")``.

    Returns:
        feats ``(B, T', num_ceps)`` float32, zero past each utterance's frames;
        frame_lengths ``(B,)`` int64.
    """
    cfg = cfg or FeatureConfig(kind="mfcc")
    return base_features(*_prepare(wav, lengths), cfg, feature_constants(cfg, "mfcc"))


_EXTRACTORS = {"fbank": fbank, "mfcc": mfcc}  # FeatureConfig.kind -> function


# ---------------------------------------------------------------------------
# Context: deltas and splicing
# ---------------------------------------------------------------------------


def _gather_context(feats: Tensor, offsets: Tensor, lengths: Tensor | None) -> Tensor:
    """``(B, T, F)`` -> ``(B, T, K, F)``: frame ``t + offsets[k]``, clamped into the utterance.

    Edge frames are replicated: each utterance is clamped to ``[0, length - 1]``
    (its own length, not the padded ``T``).
    """
    B, T, D = feats.shape
    last = (lengths.to(feats.device) - 1).clamp(min=0) if lengths is not None else feats.new_full((B,), T - 1).long()
    t = torch.arange(T, device=feats.device)
    idx = t[None, :, None] + offsets.to(feats.device)[None, None, :]  # (1, T, K)
    idx = torch.minimum(idx.clamp(min=0), last[:, None, None])  # (B, T, K)
    K = offsets.numel()
    out = feats.gather(1, idx.reshape(B, T * K, 1).expand(B, T * K, D))
    return out.reshape(B, T, K, D)


def _zero_padding(feats: Tensor, lengths: Tensor | None) -> Tensor:
    if lengths is None:
        return feats
    return feats * _frame_mask(lengths.to(feats.device), feats.shape[1]).unsqueeze(-1)


@functools.lru_cache(maxsize=16)
def _delta_scales(order: int, window: int) -> Tensor:
    """``(order + 1, 2 * order * window + 1)``: Kaldi's ``DeltaFeatures`` filters, centred."""
    scales = [torch.ones(1, dtype=torch.float64)]
    j = torch.arange(-window, window + 1, dtype=torch.float64)
    normalizer = float((j * j).sum())
    for _ in range(order):
        prev = scales[-1]
        cur = torch.zeros(prev.numel() + 2 * window, dtype=torch.float64)
        for i, w in enumerate(j.tolist()):
            cur[i : i + prev.numel()] += w * prev
        scales.append(cur / normalizer)
    K = 2 * order * window + 1
    return torch.stack([F.pad(s, ((K - s.numel()) // 2,) * 2) for s in scales]).float()


def compute_deltas(
    feats: Tensor, order: int = 2, window: int = 2, lengths: Tensor | None = None
) -> Tensor:
    """Append delta features, like Kaldi's ``add-deltas``.

    Delta of order ``i`` is the regression filter over ``2 * window + 1``
    frames applied ``i`` times; edge frames are replicated (per utterance when
    ``lengths`` is given).

    Args:
        feats: ``(B, T, F)``.
        order: highest delta order (2 = deltas and delta-deltas).
        window: regression half-width in frames.
        lengths: ``(B,)`` valid frames; output frames past them are zero.

    Returns:
        ``(B, T, F * (order + 1))``: ``[static | delta | delta-delta ...]`` blocks of ``F``.
    """
    if order == 0:
        return _zero_padding(feats, lengths)
    B, T, D = feats.shape
    if T == 0:
        return feats.new_zeros(B, 0, D * (order + 1))
    scales = _delta_scales(order, window).to(feats.device, feats.dtype)  # (order + 1, K)
    offsets = torch.arange(-order * window, order * window + 1)
    context = _gather_context(feats, offsets, lengths)  # (B, T, K, F)
    out = torch.einsum("btkf,ok->btof", context, scales).reshape(B, T, D * (order + 1))
    return _zero_padding(out, lengths)


def splice(feats: Tensor, left: int, right: int, lengths: Tensor | None = None) -> Tensor:
    """Stack each frame with its neighbours (Kaldi's ``splice-feats``).

    Args:
        feats: ``(B, T, F)``.
        left, right: context frames before and after.
        lengths: ``(B,)`` valid frames; edge replication then uses each
            utterance's own last frame, and output frames past it are zero.

    Returns:
        ``(B, T, F * (left + 1 + right))``; block ``k`` is frame ``t - left + k``.
    """
    if left < 0 or right < 0:
        raise ValueError(f"splice context must be >= 0, got left={left}, right={right}")
    B, T, D = feats.shape
    if T == 0:
        return feats.new_zeros(B, 0, D * (left + 1 + right))
    context = _gather_context(feats, torch.arange(-left, right + 1), lengths)
    return _zero_padding(context.reshape(B, T, D * (left + 1 + right)), lengths)


# ---------------------------------------------------------------------------
# CMVN
# ---------------------------------------------------------------------------


def utterance_cmvn(
    feats: Tensor, lengths: Tensor | None = None, norm_vars: bool = True, eps: float = 1e-5
) -> Tensor:
    """Per-utterance mean (and variance) normalisation over valid frames only.

    Args:
        feats: ``(B, T, F)``.
        lengths: ``(B,)`` valid frames; padding neither enters the statistics
            nor leaves non-zero values.
        norm_vars: also divide by the standard deviation (floored at ``eps``).

    Returns:
        ``(B, T, F)``.
    """
    B, T, _ = feats.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long, device=feats.device)
    lengths = lengths.to(feats.device)
    mask = _frame_mask(lengths, T).unsqueeze(-1).to(feats.dtype)  # (B, T, 1)
    count = lengths.clamp(min=1).to(feats.dtype)[:, None, None]  # (B, 1, 1)
    mean = (feats * mask).sum(1, keepdim=True) / count
    out = feats - mean
    if norm_vars:
        var = (out.square() * mask).sum(1, keepdim=True) / count
        out = out / var.sqrt().clamp(min=eps)
    return out * mask


class CMVNStats:
    """Accumulates per-dimension count, sum and sum of squares (float64) over a dataset.

    Usage::

        stats = CMVNStats()
        for feats, lengths in batches:   # (B, T, F), (B,)
            stats.update(feats, lengths)
        cmvn = stats.finalize()          # GlobalCMVN
    """

    def __init__(self) -> None:
        self.count = 0
        self.sum: Tensor | None = None  # (F,)
        self.sum_sq: Tensor | None = None  # (F,)

    def update(self, feats: Tensor, lengths: Tensor | None = None) -> None:
        """Add the valid frames of ``feats (B, T, F)``; ``lengths (B,)`` marks them."""
        B, T, D = feats.shape
        x = feats.detach().to("cpu", torch.float64)
        if lengths is not None:
            x = x[_frame_mask(lengths.cpu(), T)]  # (N, F)
        else:
            x = x.reshape(B * T, D)
        if self.sum is None:
            self.sum = torch.zeros(D, dtype=torch.float64)
            self.sum_sq = torch.zeros(D, dtype=torch.float64)
        elif self.sum.numel() != D:
            raise ValueError(f"feature dim {D} differs from the {self.sum.numel()} accumulated so far")
        self.count += x.shape[0]
        self.sum += x.sum(0)
        self.sum_sq += x.square().sum(0)

    def finalize(self, norm_vars: bool = True, floor: float = 1e-5) -> GlobalCMVN:
        """The :class:`GlobalCMVN` for the frames seen so far."""
        return GlobalCMVN.from_stats(self, norm_vars=norm_vars, floor=floor)


class GlobalCMVN(nn.Module):
    """``(x - mean) / std`` with dataset statistics held as buffers ``mean, std (F,)``.

    Saved inside the model's state dict, and as JSON (:meth:`save` /
    :meth:`load`) so a model directory can carry it on its own.
    """

    def __init__(self, mean: Tensor, std: Tensor):
        super().__init__()
        if mean.shape != std.shape or mean.dim() != 1:
            raise ValueError(f"mean {tuple(mean.shape)} and std {tuple(std.shape)} must both be (F,)")
        self.register_buffer("mean", mean.detach().float().clone())
        self.register_buffer("std", std.detach().float().clone())

    @classmethod
    def identity(cls, dim: int) -> GlobalCMVN:
        """Mean 0, std 1: a placeholder whose buffers a checkpoint later fills."""
        return cls(torch.zeros(dim), torch.ones(dim))

    @classmethod
    def from_stats(cls, stats: CMVNStats, norm_vars: bool = True, floor: float = 1e-5) -> GlobalCMVN:
        """From accumulated :class:`CMVNStats`; std is floored at ``floor`` (ones if not ``norm_vars``)."""
        if stats.sum is None or stats.count == 0:
            raise ValueError("CMVNStats is empty: call update() with some frames first")
        mean = stats.sum / stats.count
        var = (stats.sum_sq / stats.count - mean.square()).clamp(min=0.0)
        std = var.sqrt().clamp(min=floor) if norm_vars else torch.ones_like(mean)
        return cls(mean, std)

    @property
    def dim(self) -> int:
        return self.mean.numel()

    def forward(self, feats: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``(B, T, F)`` -> ``(B, T, F)``; frames past ``lengths (B,)`` stay zero."""
        return _zero_padding((feats - self.mean) / self.std, lengths)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> GlobalCMVN:
        return cls(torch.tensor(d["mean"]), torch.tensor(d["std"]))

    def save(self, path: str | os.PathLike) -> None:
        """Write ``{"mean": [...], "std": [...]}`` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict()) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> GlobalCMVN:
        """Read what :meth:`save` wrote."""
        return cls.from_dict(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------------------
# SpecAugment
# ---------------------------------------------------------------------------


def _uniform_int(high: Tensor, shape: tuple[int, ...], generator: torch.Generator | None, device) -> Tensor:
    """Integers uniform in ``[0, high]`` (inclusive; ``high`` broadcasts against ``shape``)."""
    rng_device = generator.device if generator is not None else device
    u = torch.rand(shape, generator=generator, device=rng_device).to(device)
    return (u * (high + 1).to(u.dtype)).floor().long().minimum(high)


def spec_augment(
    feats: Tensor,
    lengths: Tensor,
    num_freq_masks: int = 2,
    freq_mask_width: int = 27,
    num_time_masks: int = 5,
    time_mask_ratio: float = 0.05,
    mask_value: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Frequency and time masking (Park et al., 2019), inside each utterance only.

    Each frequency mask zeroes ``w ~ U{0..min(freq_mask_width, F)}`` adjacent
    bins over the utterance's valid frames; each time mask zeroes ``w ~
    U{0..floor(time_mask_ratio * length)}`` adjacent frames, so masks scale
    with each utterance's own length (ESPnet's ratio-based policy; 5 masks of at
    most 5% follow its LibriSpeech conformer recipe). Padding is never touched.

    Args:
        feats: ``(B, T, F)``.
        lengths: ``(B,)`` valid frames.
        generator: for reproducible masks; ``None`` uses the global RNG.

    Returns:
        ``(B, T, F)``, a new tensor.
    """
    B, T, D = feats.shape
    device = feats.device
    lengths = lengths.to(device).long()
    valid = _frame_mask(lengths, T)  # (B, T)
    mask = torch.zeros(B, T, D, dtype=torch.bool, device=device)
    if num_freq_masks > 0 and D > 0:
        widest = torch.tensor(min(freq_mask_width, D), device=device)  # clipped to F
        width = _uniform_int(widest, (B, num_freq_masks), generator, device)
        start = _uniform_int(D - width, (B, num_freq_masks), generator, device)
        f = torch.arange(D, device=device)[None, None, :]
        bins = ((f >= start[..., None]) & (f < (start + width)[..., None])).any(1)  # (B, F)
        mask |= bins[:, None, :] & valid[:, :, None]
    if num_time_masks > 0 and T > 0:
        max_width = (lengths.double() * time_mask_ratio).floor().long()[:, None]  # (B, 1)
        shape = (B, num_time_masks)
        width = _uniform_int(max_width.expand(shape), shape, generator, device)
        start = _uniform_int(lengths[:, None] - width, shape, generator, device)
        t = torch.arange(T, device=device)[None, None, :]
        frames = ((t >= start[..., None]) & (t < (start + width)[..., None])).any(1)  # (B, T)
        mask |= (frames & valid)[:, :, None]
    return feats.masked_fill(mask, mask_value)


def time_warp(
    feats: Tensor, lengths: Tensor, max_warp: int = 5, generator: torch.Generator | None = None
) -> Tensor:
    """Stretch each utterance's first part and squeeze the rest (SpecAugment's time warp).

    A centre ``c ~ U{max_warp + 1 .. length - max_warp - 1}`` moves to
    ``c + w``, ``w ~ U{-max_warp..max_warp}``; both sides are linearly
    resampled, so the length is unchanged and neither side vanishes.
    Utterances shorter than ``2 * max_warp + 2`` frames are left as is.

    Args:
        feats: ``(B, T, F)``; lengths: ``(B,)`` valid frames.

    Returns:
        ``(B, T, F)``, a new tensor; padding untouched.
    """
    B = feats.shape[0]
    out = feats.clone()
    if max_warp <= 0 or B == 0:
        return out
    lengths = lengths.long().cpu()
    span = (lengths - 2 * max_warp - 2).clamp(min=0)  # centres allowed: [max_warp + 1, n - max_warp - 1]
    centre = _uniform_int(span, (B,), generator, torch.device("cpu")) + max_warp + 1
    shift = _uniform_int(torch.tensor(2 * max_warp), (B,), generator, torch.device("cpu")) - max_warp
    for b in range(B):
        n, c, w = int(lengths[b]), int(centre[b]), int(shift[b])
        if n < 2 * max_warp + 2 or w == 0:
            continue
        x = feats[b, :n].T.unsqueeze(0)  # (1, F, n)
        left = F.interpolate(x[..., :c], size=c + w, mode="linear", align_corners=False)
        right = F.interpolate(x[..., c:], size=n - c - w, mode="linear", align_corners=False)
        out[b, :n] = torch.cat([left, right], dim=-1)[0].T
    return out


class SpecAugment(nn.Module):
    """Training-time SpecAugment: optional time warp, then :func:`spec_augment`.

    Identity in eval mode. Options are those of :func:`spec_augment` plus
    ``max_time_warp`` (frames; 0 = off).
    """

    def __init__(
        self,
        num_freq_masks: int = 2,
        freq_mask_width: int = 27,
        num_time_masks: int = 5,
        time_mask_ratio: float = 0.05,
        max_time_warp: int = 0,
        mask_value: float = 0.0,
    ):
        super().__init__()
        self.num_freq_masks = num_freq_masks
        self.freq_mask_width = freq_mask_width
        self.num_time_masks = num_time_masks
        self.time_mask_ratio = time_mask_ratio
        self.max_time_warp = max_time_warp
        self.mask_value = mask_value

    def forward(self, feats: Tensor, lengths: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``(B, T, F)``, lengths ``(B,)`` -> ``(B, T, F)``."""
        if not self.training:
            return feats
        if self.max_time_warp > 0:
            feats = time_warp(feats, lengths, self.max_time_warp, generator)
        return spec_augment(
            feats,
            lengths,
            self.num_freq_masks,
            self.freq_mask_width,
            self.num_time_masks,
            self.time_mask_ratio,
            self.mask_value,
            generator,
        )

    def extra_repr(self) -> str:
        return (
            f"freq_masks={self.num_freq_masks}x{self.freq_mask_width}, "
            f"time_masks={self.num_time_masks}x{self.time_mask_ratio:g}, warp={self.max_time_warp}"
        )


# ---------------------------------------------------------------------------
# The module models use
# ---------------------------------------------------------------------------


def normalise_and_context(
    feats: Tensor, frame_lengths: Tensor, cfg: FeatureConfig, cmvn: nn.Module | None
) -> Tensor:
    """After fbank / mfcc: CMVN (``cfg.cmvn``: utterance, or the given global one), then deltas.

    ``feats (B, T, base_dim)``, ``frame_lengths (B,)`` -> ``(B, T, cfg.dim)``.
    """
    if cfg.cmvn == "utterance":
        feats = utterance_cmvn(feats, frame_lengths)
    elif cmvn is not None:
        feats = cmvn(feats, frame_lengths)
    if cfg.deltas > 0:
        feats = compute_deltas(feats, cfg.deltas, cfg.delta_window, frame_lengths)
    return feats


class FeatureExtractor(nn.Module):
    """Waveforms to model input: fbank / mfcc, then CMVN, then deltas.

    Dither (``cfg.dither``) is applied in training mode only, so evaluation is
    deterministic. With ``cfg.cmvn == "global"`` the statistics live in
    ``self.cmvn`` (a :class:`GlobalCMVN` over the base features, before
    deltas); pass one in, or fill it from a checkpoint / :meth:`set_cmvn`.
    Accumulate those statistics from :meth:`base_features`.
    """

    def __init__(self, cfg: FeatureConfig | None = None, cmvn: GlobalCMVN | None = None):
        super().__init__()
        self.cfg = cfg or FeatureConfig()
        self.cmvn: GlobalCMVN | None = None
        if self.cfg.cmvn == "global":
            self.set_cmvn(cmvn or GlobalCMVN.identity(self.cfg.base_dim))
        elif cmvn is not None:
            raise ValueError(f"a GlobalCMVN was given but cfg.cmvn is {self.cfg.cmvn!r}")

    @property
    def dim(self) -> int:
        """Output feature dimension ``F``."""
        return self.cfg.dim

    def set_cmvn(self, cmvn: GlobalCMVN) -> None:
        """Install global statistics (dimension must be ``cfg.base_dim``)."""
        if cmvn.dim != self.cfg.base_dim:
            raise ValueError(f"GlobalCMVN has dim {cmvn.dim}, features have {self.cfg.base_dim}")
        self.cmvn = cmvn

    def num_frames(self, num_samples: int | Tensor) -> int | Tensor:
        """Frames produced for ``num_samples`` samples (int or integer tensor)."""
        return num_frames(num_samples, self.cfg)

    def base_features(self, wav: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """fbank / mfcc only: ``(B, T)`` -> ``(B, T', cfg.base_dim)``, frame lengths ``(B,)``."""
        cfg = self.cfg if self.training else dataclasses.replace(self.cfg, dither=0.0)
        return _EXTRACTORS[cfg.kind](wav, lengths, cfg)

    def forward(self, wav: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``wav (B, T)`` or ``(T,)``, ``lengths (B,)`` -> ``feats (B, T', dim)``, ``frame_lengths (B,)``."""
        feats, frame_lengths = self.base_features(wav, lengths)  # 1. fbank / mfcc
        return normalise_and_context(feats, frame_lengths, self.cfg, self.cmvn), frame_lengths  # 2., 3.

    def extra_repr(self) -> str:
        return f"kind={self.cfg.kind}, dim={self.dim}, cmvn={self.cfg.cmvn}"
