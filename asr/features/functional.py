"""Stateless feature math: framing, fbank / MFCC, deltas, splicing, per-utterance CMVN.

Every function takes tensors and a :class:`~asr.features.config.FeatureConfig`
(or plain options) and holds no state; the ``nn.Module`` wrappers are in
:mod:`asr.features.frontend` and :mod:`asr.features.specaug`. Features are
``(B, T, F)`` float32 with integer frame lengths ``(B,)``.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.features.config import FeatureConfig

__all__ = [
    "num_frames",
    "frame_mask",
    "zero_padding",
    "feature_constants",
    "base_features",
    "fbank",
    "mfcc",
    "compute_deltas",
    "splice",
    "utterance_cmvn",
    "normalise_and_context",
]

EPSILON = torch.finfo(torch.float32).eps  # 1.19e-07: Kaldi's floor before every log


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


def frame_mask(frame_lengths: Tensor, T: int) -> Tensor:
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
    return feats * frame_mask(frame_lengths, feats.shape[1]).unsqueeze(-1), frame_lengths


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


def zero_padding(feats: Tensor, lengths: Tensor | None) -> Tensor:
    """``(B, T, F)`` with the frames at or past ``lengths (B,)`` zeroed; ``None``: unchanged."""
    if lengths is None:
        return feats
    return feats * frame_mask(lengths.to(feats.device), feats.shape[1]).unsqueeze(-1)


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
        return zero_padding(feats, lengths)
    B, T, D = feats.shape
    if T == 0:
        return feats.new_zeros(B, 0, D * (order + 1))
    scales = _delta_scales(order, window).to(feats.device, feats.dtype)  # (order + 1, K)
    offsets = torch.arange(-order * window, order * window + 1)
    context = _gather_context(feats, offsets, lengths)  # (B, T, K, F)
    out = torch.einsum("btkf,ok->btof", context, scales).reshape(B, T, D * (order + 1))
    return zero_padding(out, lengths)


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
    return zero_padding(context.reshape(B, T, D * (left + 1 + right)), lengths)


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
    mask = frame_mask(lengths, T).unsqueeze(-1).to(feats.dtype)  # (B, T, 1)
    count = lengths.clamp(min=1).to(feats.dtype)[:, None, None]  # (B, 1, 1)
    mean = (feats * mask).sum(1, keepdim=True) / count
    out = feats - mean
    if norm_vars:
        var = (out.square() * mask).sum(1, keepdim=True) / count
        out = out / var.sqrt().clamp(min=eps)
    return out * mask


# ---------------------------------------------------------------------------
# Model input: CMVN, then deltas
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
