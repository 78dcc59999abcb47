"""The multilingual multi-task loss: per-language CTC, universal-phone CTC, language ID, adversarial domain.

It reads :meth:`~asr.models.multilingual.MultilingualCTC.forward`'s output dict
and a batch of labels (:func:`~asr.data.labels.collate_multilingual`). A label
length of ``-1`` (or a missing key) marks an utterance without that label: it is
masked out of that task only (its gradient there is exactly zero) and still
trains the other tasks.

Usage::

    out = model(wav, wav_lengths, langs=["en", "de", "en"])
    loss, parts = multitask_loss(out, batch, {"ctc": 1.0, "phone": 0.3, "lid": 0.1})
    loss.backward()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from asr.losses.ctc import ctc_loss

__all__ = ["multitask_loss", "DEFAULT_WEIGHTS"]

DEFAULT_WEIGHTS: dict[str, float] = {"ctc": 1.0, "phone": 0.3, "lid": 0.1, "domain": 0.1}  # task -> loss weight


def _per_utt_ctc(logits: Tensor, lengths: Tensor, targets: Tensor, target_lengths: Tensor, impl: str) -> Tensor:
    """``(N,)`` CTC losses, each over its target length (the ``'mean'`` convention before averaging)."""
    losses = ctc_loss(
        logits, targets, lengths, target_lengths, blank=0, reduction="none", zero_infinity=True, impl=impl
    )  # (N,)
    return losses / target_lengths.clamp(min=1).to(losses.dtype)


def _present(batch: Mapping[str, Any], key: str, n: int, device: torch.device) -> Tensor:
    """``(n,)`` bool: utterances with label ``key`` (``{key[:-1]}_lengths >= 0``); all False without the key."""
    lengths = batch.get(f"{key[:-1]}_lengths")
    if lengths is None or batch.get(key) is None:
        return torch.zeros(n, dtype=torch.bool, device=device)
    return torch.as_tensor(lengths, device=device) >= 0


def multitask_loss(
    outputs: Mapping[str, Any],
    batch: Mapping[str, Any],
    weights: Mapping[str, float] | None = None,
    impl: str = "auto",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Weighted sum of the per-language CTC, universal-phone CTC and language-ID losses.

    An utterance without a label for a task (length ``-1``, or no such key in
    ``batch``) is left out of that task's loss only, so that task's gradient
    with respect to it is exactly zero; it still trains the other tasks.

    Args:
        outputs: :meth:`~asr.models.multilingual.MultilingualCTC.forward`'s dict
            (``hidden (B, T', D)``, ``lengths (B,)``, ``logits``/``rows`` per language,
            ``phone_logits (B, T', P)``, ``lang_logits (B, L)``, ``domain_logits (B, C)``).
        batch: ``tokens (B, L)`` and ``token_lengths (B,)``; optionally ``phones (B, Lp)``
            and ``phone_lengths (B,)``; ``lid_mask (B,)`` bool to leave utterances out of
            language ID (default: all in); ``domains (B,)`` int64 domain classes, ``-1``
            where unknown (default: no domain labels). Label tensors may live on the CPU.
        weights: task -> weight (``ctc``, ``phone``, ``lid``, ``domain``; missing ones from
            :data:`DEFAULT_WEIGHTS`; 0 skips the task), and ``ctc/<lang>`` to scale one
            language's utterances inside the CTC task (default 1).
        impl: CTC implementation (:func:`asr.losses.ctc_loss`).

    Returns:
        ``(total, parts)``: the scalar to back-propagate and detached scalars
        ``ctc``, ``ctc/<lang>``, ``phone``, ``lid``, ``domain``, ``total`` (a task mean over
        its labelled utterances; 0 when none), plus ``n_<task>`` label counts.
    """
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    hidden: Tensor = outputs["hidden"]
    device, B = hidden.device, hidden.shape[0]
    lengths: Tensor = outputs["lengths"]
    zero = hidden.float().sum() * 0.0  # keeps the graph connected when a task has no labels
    total = zero
    parts: dict[str, Tensor] = {}

    if w["ctc"] and "logits" in outputs:
        present = _present(batch, "tokens", B, device)
        tokens = batch.get("tokens")
        tok_lengths = batch.get("token_lengths")
        task, count = zero, 0
        for lang, logits in outputs["logits"].items():
            rows: Tensor = outputs["rows"][lang]
            keep = present.index_select(0, rows)  # (B_lang,)
            n = int(keep.sum())
            if n == 0:
                continue
            sel = keep.nonzero().squeeze(1)  # positions inside this language's rows
            r = rows.index_select(0, sel)
            losses = _per_utt_ctc(
                logits.index_select(0, sel),
                lengths.index_select(0, r),
                torch.as_tensor(tokens).to(device).index_select(0, r),
                torch.as_tensor(tok_lengths).to(device).index_select(0, r),
                impl,
            )
            parts[f"ctc/{lang}"] = losses.detach().mean()
            task = task + w.get(f"ctc/{lang}", 1.0) * losses.sum()
            count += n
        task = task / max(count, 1)
        parts["ctc"], parts["n_ctc"] = task.detach(), torch.tensor(float(count))
        total = total + w["ctc"] * task

    if w["phone"] and "phone_logits" in outputs:
        present = _present(batch, "phones", B, device)
        r = present.nonzero().squeeze(1)
        task = zero
        if r.numel():
            losses = _per_utt_ctc(
                outputs["phone_logits"].index_select(0, r),
                lengths.index_select(0, r),
                torch.as_tensor(batch["phones"]).to(device).index_select(0, r),
                torch.as_tensor(batch["phone_lengths"]).to(device).index_select(0, r),
                impl,
            )
            task = losses.mean()
        parts["phone"], parts["n_phone"] = task.detach(), torch.tensor(float(r.numel()))
        total = total + w["phone"] * task

    if w["lid"] and "lang_logits" in outputs:
        lid_mask = batch.get("lid_mask")
        if lid_mask is None:
            present = torch.ones(B, dtype=torch.bool, device=device)
        else:
            present = torch.as_tensor(lid_mask).to(device)
        r = present.nonzero().squeeze(1)
        task = zero
        if r.numel():
            labels = outputs["lang_ids"]  # (B,)
            task = F.cross_entropy(outputs["lang_logits"].float().index_select(0, r), labels.index_select(0, r))
        parts["lid"], parts["n_lid"] = task.detach(), torch.tensor(float(r.numel()))
        total = total + w["lid"] * task

    if w["domain"] and "domain_logits" in outputs and batch.get("domains") is not None:
        labels = torch.as_tensor(batch["domains"]).to(device)  # (B,)
        r = (labels >= 0).nonzero().squeeze(1)
        task = zero
        if r.numel():
            task = F.cross_entropy(outputs["domain_logits"].float().index_select(0, r), labels.index_select(0, r))
        parts["domain"], parts["n_domain"] = task.detach(), torch.tensor(float(r.numel()))
        total = total + w["domain"] * task

    parts["total"] = total.detach()
    return total, parts
