"""Multi-task labels that may be absent: phone transcripts and batches of per-task label tensors.

Every utterance has its language's tokens; a phone label comes from a manifest
row's ``phones`` field (:data:`PHONES_FIELD`, space-separated phones) or from a
phone tokenizer's lexicon, and may be missing (an out-of-lexicon word): it is
then *absent*, a length of :data:`ABSENT` in the batch, masked out of the phone
loss rather than dropped (:func:`asr.losses.multitask.multitask_loss`).

Usage::

    phones = {u.id: phone_ids(u, normalize(u.text, u.lang), phone_tokenizer) for u in utts}
    loader = DataLoader(AudioDataset(utts, transform=AddMultitaskTargets(targets, phones)),
                        batch_sampler=sampler, collate_fn=collate_multilingual)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from asr.data.collate import collate_waveforms, pad_sequences
from asr.data.manifest import Utterance
from asr.text.tokenizer import Tokenizer

__all__ = ["ABSENT", "PHONES_FIELD", "phone_ids", "collate_multilingual"]

ABSENT = -1  # a label length marking "this utterance has no label for this task"
PHONES_FIELD = "phones"  # manifest field with a space-separated phone transcript


def phone_ids(u: Utterance, text: str, phone_tokenizer: Tokenizer | None) -> list[int] | None:
    """Phone ids of an utterance: its ``phones`` field, else the lexicon; ``None`` when unknown.

    Args:
        u: the manifest row.
        text: its normalized transcript.
        phone_tokenizer: the universal phone tokenizer (``None``: no phone labels at all).
    """
    if phone_tokenizer is None:
        return None
    field_value = u.extra.get(PHONES_FIELD)
    if isinstance(field_value, str) and field_value.strip():
        encode_phones = getattr(phone_tokenizer, "encode_phones", None)
        if encode_phones is not None:
            return encode_phones(field_value.split())
    lexicon = getattr(phone_tokenizer, "lexicon", None)
    if lexicon is None or any(w not in lexicon for w in text.split()):
        return None
    ids = phone_tokenizer.encode(text)
    return ids or None


def _pad_optional(seqs: Sequence[Sequence[int] | None]) -> tuple[Tensor, Tensor]:
    """``B`` id lists or ``None`` -> ``(B, L_max)`` int64 (0-padded), ``(B,)`` int64 lengths, -1 where ``None``."""
    tensors = [torch.as_tensor(s if s is not None else [], dtype=torch.int64) for s in seqs]
    padded, lengths = pad_sequences(tensors, 0)
    if not tensors:
        return torch.zeros(0, 0, dtype=torch.int64), lengths
    absent = torch.tensor([s is None for s in seqs], dtype=torch.bool)
    return padded.long(), lengths.masked_fill(absent, ABSENT)


def collate_multilingual(items: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """Batch items of possibly several languages, with per-task labels that may be absent.

    Args:
        items: :class:`~asr.data.dataset.AudioDataset` dicts (``lang`` included), each
            optionally with ``tokens`` (ids in its language's vocabulary) and ``phones``
            (universal phone ids); a missing or ``None`` label is "absent".

    Returns:
        :func:`~asr.data.collate.collate_waveforms`'s dict (``wav (B, S)``, ``wav_lengths (B,)``,
        ``ids``, ``langs``, ``durations``, ``skipped``, ...) plus ``tokens (B, L)`` /
        ``token_lengths (B,)`` (row ``i`` in language ``langs[i]``'s vocabulary) and
        ``phones (B, Lp)`` / ``phone_lengths (B,)``, all int64, lengths ``-1`` where absent
        (:data:`ABSENT`).
    """
    good = [it for it in items if it is not None and "error" not in it]
    tokens = [it.get("tokens") for it in good]
    phones = [it.get("phones") for it in good]
    stripped = [
        {k: v for k, v in it.items() if k not in ("tokens", "phones")} if it is not None else None for it in items
    ]
    batch = collate_waveforms(stripped)
    batch["tokens"], batch["token_lengths"] = _pad_optional(tokens)
    batch["phones"], batch["phone_lengths"] = _pad_optional(phones)
    return batch
