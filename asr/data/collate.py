"""Batching: pad variable-length samples and keep integer lengths.

Pure functions, usable as a DataLoader ``collate_fn``; for another pad id use
``functools.partial(collate_waveforms, pad_id=k)`` (picklable, so it works
with worker processes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["pad_sequences", "collate_waveforms"]


def pad_sequences(seqs: Sequence[torch.Tensor], pad_value: float | int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack tensors of different lengths along a new batch axis.

    Args:
        seqs: ``B`` tensors of shape ``(L_i, *rest)``, same ``rest`` and dtype.
        pad_value: value written past each sequence's end.

    Returns:
        ``(padded, lengths)``: ``(B, L_max, *rest)`` and ``(B,)`` int64.
        With ``B == 0`` the result is ``(0, 0)`` and ``(0,)``.
    """
    lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.int64)
    if not seqs:
        return torch.zeros(0, 0), lengths
    rest = seqs[0].shape[1:]
    padded = seqs[0].new_full((len(seqs), int(lengths.max()), *rest), pad_value)
    for i, s in enumerate(seqs):
        padded[i, : s.shape[0]] = s
    return padded, lengths


def collate_waveforms(items: Sequence[dict[str, Any] | None], pad_id: int = 0) -> dict[str, Any]:
    """Batch dataset items, dropping the skipped ones.

    Args:
        items: dicts from :class:`~asr.data.dataset.AudioDataset`, each with
            ``id``, ``wav`` ``(T_i,)``, ``text``, ``lang``, ``speaker``,
            ``duration`` and optionally ``tokens`` (``(L_i,)`` tensor or list
            of ints). Skipped items ``{"id", "error"}`` and ``None`` (a
            transform's "drop") are left out of the batch.
        pad_id: token id used to pad ``tokens``.

    Returns:
        dict with

        * ``wav``: ``(B, T_max)`` float32, zero-padded
        * ``wav_lengths``: ``(B,)`` int64, samples per utterance
        * ``ids``, ``texts``, ``langs``, ``speakers``: lists of ``B`` str
        * ``durations``: list of ``B`` float seconds
        * ``skipped``: dict id -> ``"<path>: <problem>"`` for the left-out
          bad items of this batch (empty when none)
        * ``tokens``: ``(B, L_max)`` int64 padded with ``pad_id`` and
          ``token_lengths``: ``(B,)`` int64, only when the items carry tokens

        ``B`` may be 0 when every item was skipped.

    Raises:
        ValueError: some items carry ``tokens`` and others do not.
    """
    skipped = {it["id"]: it["error"] for it in items if it is not None and "error" in it}
    good = [it for it in items if it is not None and "error" not in it]
    wav, wav_lengths = pad_sequences([it["wav"] for it in good], 0.0)
    batch: dict[str, Any] = {
        "wav": wav.float(),
        "wav_lengths": wav_lengths,
        "ids": [it["id"] for it in good],
        "texts": [it["text"] for it in good],
        "langs": [it["lang"] for it in good],
        "speakers": [it["speaker"] for it in good],
        "durations": [it["duration"] for it in good],
        "skipped": skipped,
    }
    with_tokens = sum("tokens" in it for it in good)
    if with_tokens not in (0, len(good)):
        raise ValueError(f"{with_tokens} of {len(good)} items carry 'tokens': all or none must")
    if good and with_tokens:
        tokens = [torch.as_tensor(it["tokens"], dtype=torch.int64) for it in good]
        batch["tokens"], batch["token_lengths"] = pad_sequences(tokens, pad_id)
    return batch
