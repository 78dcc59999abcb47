"""Validation of a CTC model: dev loss and greedy WER / CER over a loader.

Usage::

    dev = evaluate(model, dev_loader, tokenizer, refs, torch.device("cpu"))
    print(dev["loss"], dev["wer"], dev["cer"], dev["utts"])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from asr.decoding.greedy import greedy_search
from asr.losses import ctc_loss
from asr.metrics import score
from asr.text.tokenizer import Tokenizer

__all__ = ["evaluate"]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: DataLoader,
    tokenizer: Tokenizer,
    refs: dict[str, str],
    device: torch.device,
    amp: bool = False,
) -> dict[str, float]:
    """Dev CTC loss (per label, averaged over utterances) and greedy WER / CER.

    Args:
        model: the unwrapped model, ``forward(wav (B, S), wav_lengths (B,)) -> logits (B, T', V), (B,)``
            (put in eval mode, then back in train mode).
        loader: batches carrying ``tokens (B, L)`` and ``token_lengths (B,)``.
        tokenizer: label ids -> text.
        refs: utterance id -> normalized reference.
        device: where the forward pass runs.
        amp: bf16 autocast.

    Returns:
        ``{"loss", "wer", "cer", "utts"}``.
    """
    was_training = model.training
    model.eval()
    loss_sum, n = 0.0, 0
    hyps: dict[str, str] = {}
    for batch in loader:
        if not batch["ids"]:
            continue
        wav, wav_lengths = batch["wav"].to(device), batch["wav_lengths"].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits, out_lengths = model(wav, wav_lengths)
        losses = ctc_loss(logits, batch["tokens"].to(device), out_lengths, batch["token_lengths"].to(device),
                          reduction="none", zero_infinity=True, impl="torch")
        loss_sum += float((losses / batch["token_lengths"].to(device).clamp(min=1)).sum())
        n += len(batch["ids"])
        for utt_id, ids in zip(batch["ids"], greedy_search(logits.float(), out_lengths)):
            hyps[utt_id] = tokenizer.decode(ids)
    model.train(was_training)
    report = score(refs, hyps)
    return {"loss": loss_sum / max(n, 1), "wer": report.wer, "cer": report.cer, "utts": n}
