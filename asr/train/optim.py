"""Optimizer and learning-rate schedules: AdamW with warmup, as a ``LambdaLR`` with state.

Schedules are functions ``(update, warmup_steps, total_steps, min_lr_ratio) ->
factor`` of the peak LR, registered as ``build("schedule", name)``
(:mod:`asr.registry`). ``update`` counts from 1 (the first update), so no
update runs with LR 0.

Usage::

    optimizer, scheduler = build_optimizer(model, train_cfg, total_steps=10_000)
    ...; optimizer.step(); scheduler.step()
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from asr.registry import lookup, register
from asr.train.config import TrainConfig

__all__ = ["build_optimizer", "WarmupSchedule", "noam", "cosine", "constant"]


@register("schedule", "noam")
def noam(update: int, warmup_steps: int, total_steps: int, min_lr_ratio: float) -> float:
    """Linear warmup to 1 at ``warmup_steps``, then ``sqrt(warmup_steps / update)`` (peak-normalised Noam)."""
    w = max(warmup_steps, 1)
    return min(update / w, math.sqrt(w / max(update, 1)))


@register("schedule", "cosine")
def cosine(update: int, warmup_steps: int, total_steps: int, min_lr_ratio: float) -> float:
    """Linear warmup, then half a cosine from 1 down to ``min_lr_ratio`` at ``total_steps``."""
    if update < warmup_steps:
        return update / warmup_steps
    progress = min((update - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


@register("schedule", "constant")
def constant(update: int, warmup_steps: int, total_steps: int, min_lr_ratio: float) -> float:
    """Linear warmup, then 1."""
    return min(update / max(warmup_steps, 1), 1.0)


@dataclass(frozen=True)
class WarmupSchedule:
    """``LambdaLR`` factor for optimizer step ``k`` (0-based): ``schedule(k + 1, ...)``.

    A dataclass rather than a closure so that ``LambdaLR.state_dict`` records its settings.
    """

    name: str
    warmup_steps: int
    total_steps: int
    min_lr_ratio: float = 0.0

    def __call__(self, step: int) -> float:
        return lookup("schedule", self.name)(step + 1, self.warmup_steps, self.total_steps, self.min_lr_ratio)


def build_optimizer(
    model: nn.Module, cfg: TrainConfig, total_steps: int
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW over ``model``'s trainable parameters and its warmup schedule.

    Weight decay applies to matrices and convolution kernels only (``ndim >= 2``),
    not to biases, norms or attention position biases.

    Args:
        model: the module being trained (unwrapped).
        cfg: ``lr``, ``betas``, ``weight_decay``, ``schedule``, ``warmup_steps``, ``min_lr_ratio``.
        total_steps: optimizer updates planned (for the cosine schedule).

    Returns:
        ``(optimizer, scheduler)``; call ``scheduler.step()`` after every ``optimizer.step()``.
    """
    lookup("schedule", cfg.schedule)  # fail early on a typo
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas), eps=1e-8)
    schedule = WarmupSchedule(cfg.schedule, cfg.warmup_steps, max(total_steps, 1), cfg.min_lr_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=schedule)
    return optimizer, scheduler
