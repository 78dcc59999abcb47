"""Pieces of the multilingual heads: per-language phone-inventory masks (Allosaurus) and utterance pooling.

Usage::

    mask = phone_inventory_mask([(1, 2, 5), ()], num_phones=8)          # (2, 8) bool, language x phone
    logits = phone_logits.masked_fill(~mask[lang_idx][:, None, :], MASKED_LOGIT)   # (B, T', P)
    pooled = masked_mean(hidden, lengths)                                # (B, T', D) -> (B, D)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from asr.models.encoders import padding_mask

__all__ = ["MASKED_LOGIT", "phone_inventory_mask", "masked_mean"]

# Logit of a phone outside a language's inventory. Finite, unlike Allosaurus' -inf, so the CTC
# backward never meets -inf - -inf; exp(-1e4 - max) is exactly 0 in float32/bf16, so such phones
# still get exactly zero probability.
MASKED_LOGIT = -1e4


def phone_inventory_mask(inventories: Sequence[Sequence[int]], num_phones: int) -> Tensor:
    """``(L, P)`` bool: True where language ``i`` may emit phone ``p`` (blank, id 0, always).

    Args:
        inventories: per language, the phone ids it uses; an empty one allows every phone.
        num_phones: ``P``, blank included.
    """
    mask = torch.ones(len(inventories), num_phones, dtype=torch.bool)
    for i, inv in enumerate(inventories):
        if inv and num_phones:
            mask[i] = False
            mask[i, list(inv)] = True
            mask[i, 0] = True
    return mask


def masked_mean(x: Tensor, lengths: Tensor) -> Tensor:
    """Mean over each utterance's valid frames: ``x (B, T, D)``, ``lengths (B,)`` -> ``(B, D)`` (0 when empty)."""
    valid = padding_mask(lengths, x.shape[1]).to(x.dtype)[:, :, None]  # (B, T, 1)
    return (x * valid).sum(1) / valid.sum(1).clamp(min=1.0)
