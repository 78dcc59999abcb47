"""Cross-entropy training of a hybrid frame classifier on HMM-state alignments.

The network (:mod:`asr.models.frame_classifier`) is trained on fixed-size
chunks cut from the utterances, each with its model's context of real
neighbouring frames on both sides (edge-replicated at utterance ends),
Kaldi's way; AdamW with linear warm-up and cosine decay.

Usage::

    model = build_frame_classifier(FrameClassifierConfig(kind="tdnn", input_dim=39, num_pdfs=topo.num_pdfs))
    history = train_frame_classifier(model, feats, targets, FrameTrainConfig(epochs=6))
    frame_accuracy(model, dev_feats, dev_targets)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.models.adversarial import dann_lambda, grad_reverse

__all__ = ["FrameTrainConfig", "train_frame_classifier", "frame_accuracy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameTrainConfig:
    """Cross-entropy training of a frame classifier.

    Attributes:
        epochs: passes over the training frames.
        lr: peak Adam learning rate (linear warm-up over the first 5% of
            steps, cosine decay to 5% of it).
        weight_decay: AdamW decoupled weight decay.
        chunk: frames per training chunk (plus the model's context each side).
        batch_chunks: chunks per minibatch.
        label_smoothing: cross-entropy label smoothing.
        seed: shuffling and initialisation.
    """

    epochs: int = 6
    lr: float = 2e-3
    weight_decay: float = 1e-4
    chunk: int = 40
    batch_chunks: int = 64
    label_smoothing: float = 0.0
    seed: int = 0


def _chunks(feats: Sequence[Tensor], targets: Sequence[Tensor], size: int, context: int) -> tuple[Tensor, Tensor]:
    """Cut every utterance into ``size``-frame chunks with ``context`` real (or edge-replicated) frames each side.

    Returns:
        inputs ``(C, size + 2 context, F)`` and targets ``(C, size)`` (``-100`` pads the last chunk).
    """
    xs, ys = [], []
    for x, y in zip(feats, targets):
        T = x.shape[0]
        padded = F.pad(x.T[None], (context, context + size), mode="replicate")[0].T  # (T + 2c + size, F)
        yp = F.pad(y, (0, size), value=-100)
        for s in range(0, T, size):
            xs.append(padded[s : s + size + 2 * context])
            ys.append(yp[s : s + size])
    return torch.stack(xs), torch.stack(ys)


def train_frame_classifier(
    model: nn.Module,
    feats: Sequence[Tensor],
    targets: Sequence[Tensor],
    cfg: FrameTrainConfig | None = None,
    valid: tuple[Sequence[Tensor], Sequence[Tensor]] | None = None,
    unlabeled: Sequence[Tensor] | None = None,
    adversarial_weight: float = 0.0,
) -> list[dict[str, float]]:
    """Train ``model`` with frame cross-entropy on state alignments.

    With ``unlabeled`` audio of another domain and ``adversarial_weight > 0``, training is
    domain-adversarial (Ganin & Lempitsky 2015): a classifier behind gradient reversal
    learns from each chunk's mean last hidden layer (``model.hidden``) whether it came from
    the labeled or the unlabeled domain; every step sees as many unlabeled chunks as labeled
    ones, and the reversal strength ramps up over training (:func:`dann_lambda`), so the
    hidden layer learns to hide the domain while it classifies states.

    Args:
        model: from :func:`build_frame_classifier` (trained in place).
        feats: per utterance ``(T_i, F)`` features.
        targets: per utterance ``(T_i,)`` int64 pdf ids (the alignment).
        cfg: schedule.
        valid: optional held-out ``(feats, targets)`` for frame accuracy per epoch.
        unlabeled: per utterance ``(T_j, F)`` features of the other domain (no targets).
        adversarial_weight: weight of the domain loss.

    Returns:
        Per epoch ``{"epoch", "loss", "train_acc", "valid_acc", "seconds"}``, plus
        ``"domain_loss"`` and ``"domain_acc"`` when adversarial.
    """
    cfg = cfg or FrameTrainConfig()
    gen = torch.Generator().manual_seed(cfg.seed)
    x_all, y_all = _chunks(feats, targets, cfg.chunk, model.context)
    num_batches = max(1, math.ceil(x_all.shape[0] / cfg.batch_chunks))
    total_steps = cfg.epochs * num_batches
    adversary: nn.Module | None = None
    params = list(model.parameters())
    if unlabeled and adversarial_weight > 0:
        x_unl, _ = _chunks(unlabeled, [torch.zeros(u.shape[0], dtype=torch.long) for u in unlabeled], cfg.chunk,
                           model.context)
        width = model.output.in_features
        adversary = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 2))
        params += list(adversary.parameters())
    opt = torch.optim.AdamW([p for p in params if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay)
    warmup = max(1, total_steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return cfg.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    history = []
    step = 0
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(x_all.shape[0], generator=gen)
        loss_sum = correct = frames = d_sum = d_hit = 0.0
        for b in range(num_batches):
            idx = order[b * cfg.batch_chunks : (b + 1) * cfg.batch_chunks]
            x, y = x_all[idx], y_all[idx]
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            if adversary is None:
                logits = model(x, pad=False)  # (b, chunk, pdfs)
            else:
                u = x_unl[torch.randint(0, x_unl.shape[0], (x.shape[0],), generator=gen)]
                hidden = model.hidden(torch.cat([x, u]), pad=False)  # (2b, chunk, H): one batch, shared norms
                logits = model.output(hidden[: x.shape[0]])
                domain = torch.cat([torch.zeros(x.shape[0]), torch.ones(u.shape[0])]).long()
                lambd = dann_lambda(step / max(1, total_steps - 1))
                d_logits = adversary(grad_reverse(hidden.mean(1), lambd))  # (2b, 2)
                d_loss = F.cross_entropy(d_logits, domain)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100,
                                 label_smoothing=cfg.label_smoothing)
            loss = ce
            if adversary is not None:
                d_sum += float(d_loss.detach())
                d_hit += float((d_logits.argmax(-1) == domain).float().mean())
                loss = ce + adversarial_weight * d_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            mask = y >= 0
            n = float(mask.sum())
            loss_sum += float(ce.detach()) * n
            frames += n
            correct += float(((logits.argmax(-1) == y) & mask).sum())
        row = {"epoch": epoch + 1, "loss": round(loss_sum / max(frames, 1), 4),
               "train_acc": round(correct / max(frames, 1), 4), "seconds": round(time.perf_counter() - t0, 1)}
        if adversary is not None:
            row["domain_loss"], row["domain_acc"] = round(d_sum / num_batches, 4), round(d_hit / num_batches, 4)
        if valid is not None:
            row["valid_acc"] = round(frame_accuracy(model, *valid), 4)
        log.info("frame classifier epoch %d: %s", epoch + 1, row)
        history.append(row)
    model.eval()
    return history


@torch.no_grad()
def frame_accuracy(model: nn.Module, feats: Sequence[Tensor], targets: Sequence[Tensor]) -> float:
    """Share of frames whose arg-max pdf is the aligned one (eval mode, whole utterances)."""
    was_training = model.training
    model.eval()
    hit = total = 0
    for x, y in zip(feats, targets):
        pred = model(x[None]).argmax(-1)[0]
        hit += int((pred == y).sum())
        total += y.numel()
    model.train(was_training)
    return hit / max(total, 1)
