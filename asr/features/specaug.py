"""SpecAugment (Park et al., 2019): frequency / time masking and time warping.

:func:`spec_augment` and :func:`time_warp` are stateless; :class:`SpecAugment`
is the training-time module (identity in eval mode). Inputs are ``(B, T, F)``
with frame lengths ``(B,)``; padding is never touched.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.features.functional import frame_mask

__all__ = ["spec_augment", "time_warp", "SpecAugment"]


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
    valid = frame_mask(lengths, T)  # (B, T)
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
