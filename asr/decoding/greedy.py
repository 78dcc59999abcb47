"""Greedy (best path) CTC decoding, batched.

Take the most likely unit of every frame, merge runs of the same unit, drop
blanks. Exact for the best *alignment*, not the best label sequence, but
usually close and as fast as an argmax.

Usage::

    ids = greedy_search(log_probs, lengths)        # (B, T, V), (B,) -> B lists of ids
    texts = GreedyDecoder(tokenizer)(log_probs, lengths)
"""

from __future__ import annotations

import torch
from torch import Tensor

from asr.registry import register
from asr.text.tokenizer import Tokenizer

__all__ = ["greedy_search", "GreedyDecoder"]


def greedy_search(log_probs: Tensor, lengths: Tensor | None = None, blank: int = 0) -> list[list[int]]:
    """Best-path decoding of a batch.

    Args:
        log_probs: ``(B, T, V)`` log-probabilities or logits (only the argmax matters).
        lengths: ``(B,)`` valid frames; ``None`` = all ``T``.
        blank: the blank id.

    Returns:
        ``B`` lists of unit ids: repeats merged, blanks removed.
    """
    B, T, _ = log_probs.shape
    best = log_probs.argmax(-1)  # (B, T)
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    valid = torch.arange(T, device=best.device)[None, :] < lengths.to(best.device)[:, None]
    new = torch.ones_like(valid)
    new[:, 1:] = best[:, 1:] != best[:, :-1]  # first frame of each run
    keep = (valid & new & (best != blank)).cpu()
    best = best.cpu()
    return [best[b][keep[b]].tolist() for b in range(B)]


@register("decoder", "greedy")
class GreedyDecoder:
    """Texts of a batch by :func:`greedy_search`: ``(B, T, V)``, ``(B,)`` -> ``B`` strings."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[str]:
        """Decode ``log_probs (B, T, V)`` with ``lengths (B,)`` to ``B`` texts."""
        return [self.tokenizer.decode(ids) for ids in greedy_search(log_probs, lengths, self.tokenizer.blank_id)]
