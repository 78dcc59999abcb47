"""Feature modules: :class:`FeatureExtractor` (waveforms to model input) and global CMVN.

Thin ``nn.Module`` wrappers over :mod:`asr.features.functional`: they hold the
config and buffers (:class:`GlobalCMVN`'s ``mean, std``) and call the functions.
:class:`CMVNStats` accumulates the statistics a :class:`GlobalCMVN` is built from.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from asr.features.config import FeatureConfig
from asr.features.functional import fbank, frame_mask, mfcc, normalise_and_context, num_frames, zero_padding

__all__ = ["CMVNStats", "GlobalCMVN", "FeatureExtractor"]


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
            x = x[frame_mask(lengths.cpu(), T)]  # (N, F)
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
        return zero_padding((feats - self.mean) / self.std, lengths)

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


_EXTRACTORS = {"fbank": fbank, "mfcc": mfcc}  # FeatureConfig.kind -> function


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
