"""Training options of the CTC system: one frozen dataclass, loadable from flat YAML.

Every hyperparameter of :func:`asr.train.loop.train_ctc` is here, with its
meaning; ``asr.config.load_config(TrainConfig, "conf/train.yaml")`` reads one
and rejects unknown keys. The model's structure is :class:`asr.models.ctc.ModelConfig`.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asr.config import nonnegative_int, positive_float, positive_int

if TYPE_CHECKING:
    import torch

__all__ = ["TrainConfig", "add_train_options", "train_config_from_args"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train (what to train is :class:`~asr.models.ctc.ModelConfig`).

    Attributes:
        seed: every random choice (init, batches, dropout, SpecAugment,
            speed perturbation) derives from it; same seed, same result.
        epochs: passes over the training data.
        max_steps: stop after this many optimizer updates (0 = no limit);
            the epoch in progress is then validated and training ends.
        max_batch_seconds: padded audio per batch, in seconds, per process
            (``len(batch) * longest utterance``); the effective batch is
            ``max_batch_seconds * grad_accum * world_size``.
        num_buckets: duration buckets of the batch sampler.
        grad_accum: batches whose gradients add up to one update.
        lr: peak learning rate (AdamW).
        betas: AdamW's betas.
        weight_decay: AdamW's decoupled weight decay (not on biases and norms).
        schedule: registered LR schedule: ``noam`` (linear warmup, then
            inverse square root), ``cosine`` (linear warmup, cosine down to
            ``min_lr_ratio * lr`` at the last step) or ``constant`` (warmup, then flat).
        warmup_steps: updates of linear warmup to ``lr``.
        min_lr_ratio: the cosine schedule's floor, relative to ``lr``.
        clip_grad_norm: clip the global gradient norm to this (0 = off).
        min_duration, max_duration: utterances outside [min, max] seconds are
            not trained on.
        speed_perturb: speed factors drawn per utterance and epoch (e.g.
            ``[0.9, 1.0, 1.1]``); empty = off.
        cmvn_max_utts: training utterances (manifest order) whose frames give
            the global CMVN statistics.
        checkpoint_every: write a checkpoint every this many updates (0 = only
            at the end of each epoch).
        keep_checkpoints: step checkpoints kept (epoch ones: ``max(average_last, 1)``).
        average_last: the final model averages the last this many epoch
            checkpoints (1 = the last one as is).
        log_every: a ``train`` row in ``metrics.csv`` every this many updates.
        num_workers: DataLoader worker processes (0 = load in the training process).
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``.
        amp: ``auto`` (bf16 autocast on CUDA, none on CPU), ``bf16`` or ``none``.
        ctc_impl: :func:`asr.losses.ctc_loss` implementation: ``auto``, ``torch``, ``fused``.
        progress: tqdm progress bars (rank 0).
    """

    seed: int = 0
    epochs: int = 30
    max_steps: int = 0
    max_batch_seconds: float = 120.0
    num_buckets: int = 10
    grad_accum: int = 1
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = 1e-3
    schedule: str = "noam"
    warmup_steps: int = 500
    min_lr_ratio: float = 0.02
    clip_grad_norm: float = 5.0
    min_duration: float = 0.2
    max_duration: float = 30.0
    speed_perturb: tuple[float, ...] = ()
    cmvn_max_utts: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    average_last: int = 3
    log_every: int = 20
    num_workers: int = 0
    device: str = "auto"
    amp: str = "auto"
    ctc_impl: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        if self.grad_accum < 1:
            raise ValueError(f"grad_accum must be >= 1, got {self.grad_accum}")
        if self.amp not in ("auto", "bf16", "none"):
            raise ValueError(f"amp must be 'auto', 'bf16' or 'none', got {self.amp!r}")
        if self.epochs < 1 and self.max_steps < 1:
            raise ValueError("need epochs >= 1 or max_steps >= 1")

    def autocast(self, device: torch.device) -> bool:
        """bf16 autocast on: ``amp == "bf16"``, or ``"auto"`` on CUDA."""
        return self.amp == "bf16" or (self.amp == "auto" and device.type == "cuda")

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-safe dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


# command-line flag -> TrainConfig field, for the options every training command shares
_FLAG_FIELDS = {"epochs": "epochs", "max_steps": "max_steps", "batch_seconds": "max_batch_seconds",
                "grad_accum": "grad_accum", "lr": "lr", "warmup_steps": "warmup_steps", "device": "device",
                "seed": "seed"}


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The training options shared by ``asr train`` and ``asr finetune`` (see :func:`train_config_from_args`)."""
    parser.add_argument("--train-config", type=Path, default=None, help="YAML of TrainConfig fields")
    parser.add_argument("--epochs", type=positive_int, default=None)
    parser.add_argument("--max-steps", type=nonnegative_int, default=None)
    parser.add_argument("--batch-seconds", type=positive_float, default=None, help="padded audio seconds per batch")
    parser.add_argument("--grad-accum", type=positive_int, default=None)
    parser.add_argument("--lr", type=positive_float, default=None)
    parser.add_argument("--warmup-steps", type=nonnegative_int, default=None)
    parser.add_argument("--device", default=None, help="auto, cpu or cuda")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-progress", action="store_true")


def train_config_from_args(args: argparse.Namespace) -> TrainConfig:
    """``--train-config`` YAML (or the defaults) with the flags given on the command line on top."""
    from asr.config import load_config

    flags = {field: getattr(args, flag) for flag, field in _FLAG_FIELDS.items() if getattr(args, flag) is not None}
    if args.no_progress:
        flags["progress"] = False
    return load_config(TrainConfig, args.train_config, **flags) if args.train_config else TrainConfig(**flags)
