"""Training loop of the CTC system: resumable, distributed, deterministic.

Usage (the CLI's ``asr train --system ctc`` calls the same function)::

    from asr.models.ctc import ModelConfig
    from asr.train.config import TrainConfig
    from asr.train.loop import train_ctc

    summary = train_ctc(["data/train.jsonl"], "data/dev.jsonl", "exp/ctc",
                        ModelConfig.preset("tiny"), TrainConfig(epochs=20), tokenizer)

    torchrun --nproc_per_node 2 -m asr train --system ctc ...     # the same, with DDP

What one call does:

1. joins the process group when started by ``torchrun`` (:mod:`asr.train.distributed`);
2. reads the manifests, drops utterances outside the duration limits and those
   too short for their transcript after x4 subsampling (logged with a count);
3. builds the model (seeded), and on a fresh start its global CMVN statistics;
4. batches by duration (:class:`~asr.data.DurationBucketSampler`, a budget of
   padded seconds, this rank's share of the batches);
5. resumes from the latest checkpoint in ``OUT/checkpoints`` if there is one
   (weights, optimizer, scheduler, sampler position, RNGs, metrics rows);
6. trains: SpecAugment and dropout inside the model, CTC loss through
   :func:`asr.losses.ctc_loss`, bf16 autocast on CUDA, gradient accumulation,
   gradient clipping, AdamW with warmup; a checkpoint every
   ``checkpoint_every`` updates and at the end of each epoch;
7. validates each epoch (dev CTC loss, greedy WER/CER) into ``OUT/metrics.csv``
   and redraws ``OUT/curves.png`` (at most every 5 minutes, and at the end);
8. averages the last ``average_last`` epoch checkpoints into the final
   self-contained model directory ``OUT/model`` and writes ``OUT/train_summary.json``.

Determinism: every micro-batch reseeds torch's RNG from ``(seed, epoch,
global batch index)``, where the global index is the batch's position in the
epoch's batch list shared by all ranks. So a run killed and resumed follows
the uninterrupted run exactly (on CPU, bit for bit), and ``N`` DDP processes
with ``grad_accum = a`` see the same batches, masks and dropout as one
process with ``grad_accum = N * a``: their loss trajectories agree up to
floating-point summation order.

Files under ``OUT``: ``run_config.json``, ``metrics.csv``, ``curves.png``,
``checkpoints/{ckpt-XXXXXXXX,epoch-XXX}/``, ``model/``, ``train_summary.json``,
and ``tensorboard/`` when the ``tensorboard`` package is installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from asr.audio import SAMPLE_RATE
from asr.data.collate import collate_waveforms
from asr.data.dataset import AudioDataset, SkipReport
from asr.data.manifest import Utterance
from asr.data.sampler import DurationBucketSampler
from asr.data.trainable import filter_trainable, read_manifests
from asr.data.transforms import AddTargets, stable_int
from asr.features import CMVNStats, FeatureExtractor
from asr.losses import ctc_loss
from asr.models.ctc import CTCModel, ModelConfig, save_model_dir
from asr.text.normalize import normalize
from asr.text.tokenizer import Tokenizer
from asr.train import checkpoint as ckpt
from asr.train.config import TrainConfig
from asr.train.distributed import DistContext, all_reduce_sum, barrier, setup, teardown, wrap_model
from asr.train.evaluate import evaluate
from asr.train.metrics_log import CURVES_PNG, METRICS_CSV, PLOT_INTERVAL_S, MetricsLog, plot_curves
from asr.train.optim import build_optimizer
from asr.train.run_config import save_run_config

__all__ = ["train_ctc"]

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
SUMMARY_JSON = "train_summary.json"
MODEL_DIR = "model"


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------


def train_ctc(
    train_manifests: str | os.PathLike | Sequence[str | os.PathLike],
    dev_manifest: str | os.PathLike,
    out_dir: str | os.PathLike,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    tokenizer: Tokenizer,
) -> dict[str, Any]:
    """Train a CTC model; started again with the same arguments, resume where it stopped.

    Args:
        train_manifests: one JSONL manifest or several (concatenated).
        dev_manifest: validation manifest (loss and greedy WER each epoch).
        out_dir: everything goes here (see the module docstring).
        model_cfg: structure; ``vocab_size`` is taken from ``tokenizer``.
        train_cfg: hyperparameters.
        tokenizer: text -> label ids (saved into the final model directory).

    Returns:
        The training summary (also ``OUT/train_summary.json``): ``model_dir``,
        ``steps``, ``epochs``, ``params``, ``dev_loss``, ``dev_wer``, ``dev_cer``,
        ``train_utts``, ``dropped``, ``wall_s``. A finished run returns its summary at once.
    """
    out = Path(out_dir)
    if (out / SUMMARY_JSON).is_file():
        log.info("%s: training already finished; delete %s to train again", out, SUMMARY_JSON)
        return json.loads((out / SUMMARY_JSON).read_text())
    ctx = setup(train_cfg.device)
    t0 = time.perf_counter()
    model_cfg = dataclasses.replace(model_cfg, vocab_size=tokenizer.vocab_size)
    write_run_config(out, model_cfg, train_cfg, tokenizer, ctx)
    model = init_model(model_cfg, train_cfg.seed)
    data = init_data(train_manifests, dev_manifest, tokenizer, model, train_cfg, ctx)
    optimizer, scheduler = build_optimizer(model, train_cfg, total_steps=planned_steps(data.sampler, train_cfg))
    metrics = MetricsLog(out / METRICS_CSV, enabled=ctx.is_main)
    state = resume_or_start(out / CHECKPOINTS, model, optimizer, scheduler, data, metrics, train_cfg, ctx)
    model.to(ctx.device)
    run = Run(ctx, train_cfg, out, model, wrap_model(model, ctx), optimizer, scheduler, data, tokenizer, metrics, state)
    log_start(run)
    for epoch in range(state.epoch, train_cfg.epochs if train_cfg.epochs > 0 else 1 << 30):
        if train_cfg.max_steps and state.step >= train_cfg.max_steps:
            break
        train_one_epoch(run, epoch)
        end_epoch(run, epoch)
    summary = finalize(run, wall_s=time.perf_counter() - t0)
    teardown(ctx)
    return summary


# ---------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------


@dataclass
class TrainState:
    """Where training stands; saved in every checkpoint's ``state.json``."""

    step: int = 0  # optimizer updates done
    epoch: int = 0  # epoch in progress (or just finished, when epoch_complete)
    batches_consumed: int = 0  # this rank's batches of `epoch` already trained on
    epoch_complete: bool = False
    metrics_rows: int = 0  # rows of metrics.csv written up to this state
    window: dict[str, float] = field(default_factory=lambda: {"loss": 0.0, "count": 0.0, "audio_s": 0.0})


@dataclass
class TrainData:
    """Utterances, their label ids, the loaders and the training sampler."""

    train: list[Utterance]
    dev: list[Utterance]
    targets: dict[str, list[int]]  # utterance id -> label ids (train and dev)
    refs: dict[str, str]  # dev id -> normalized reference text
    sampler: DurationBucketSampler
    loader: DataLoader
    dev_loader: DataLoader
    transform: AddTargets
    dropped: dict[str, int]


@dataclass
class Run:
    """Handles shared by the steps of one training run."""

    ctx: DistContext
    cfg: TrainConfig
    out: Path
    model: CTCModel  # the module itself
    ddp_model: nn.Module  # what the forward pass goes through (DDP wrapper or the module)
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    data: TrainData
    tokenizer: Tokenizer
    metrics: MetricsLog
    state: TrainState
    skipped: SkipReport = field(default_factory=SkipReport)
    t_start: float = field(default_factory=time.perf_counter)
    t_window: float = field(default_factory=time.perf_counter)
    t_plot: float = field(default_factory=time.perf_counter)
    loss_sum: Tensor | None = None  # losses of the window not yet in state.window (kept on the device)

    @property
    def amp(self) -> bool:
        """bf16 autocast on: ``amp == "bf16"``, or ``"auto"`` on CUDA."""
        return self.cfg.autocast(self.ctx.device)


def write_run_config(
    out: Path, model_cfg: ModelConfig, cfg: TrainConfig, tokenizer: Tokenizer, ctx: DistContext
) -> None:
    """Record the run's configuration in ``OUT/run_config.json``; refuse to resume a different model.

    Raises:
        ValueError: ``OUT`` holds a run with another model structure or vocabulary.
    """
    config = {
        "model": model_cfg.to_dict(),
        "train": cfg.to_dict(),
        "tokenizer": {"kind": tokenizer.kind, "vocab_size": tokenizer.vocab_size},
        "world_size": ctx.world_size,
    }
    save_run_config(out, config, ctx, fixed=("model", "tokenizer"))


def init_model(model_cfg: ModelConfig, seed: int) -> CTCModel:
    """A freshly initialised :class:`CTCModel` (same seed, same weights on every rank)."""
    torch.manual_seed(seed)
    return CTCModel(model_cfg)


def init_data(
    train_manifests: str | os.PathLike | Sequence[str | os.PathLike],
    dev_manifest: str | os.PathLike,
    tokenizer: Tokenizer,
    model: CTCModel,
    cfg: TrainConfig,
    ctx: DistContext,
) -> TrainData:
    """Read, filter and tokenize the data; build the sampler and the loaders.

    Training utterances are dropped when outside ``[min_duration,
    max_duration]`` or when their encoder output (at the fastest speed
    perturbation) has fewer frames than CTC needs (labels + repeats):
    :func:`asr.data.trainable.filter_trainable`.
    """
    train_all, dev = read_manifests(train_manifests), read_manifests(dev_manifest)
    targets: dict[str, list[int]] = {}
    for u in [*train_all, *dev]:
        targets[u.id] = tokenizer.encode(normalize(u.text, u.lang))
    train, dropped = filter_trainable(train_all, targets, model.output_lengths, cfg.min_duration, cfg.max_duration,
                                      cfg.speed_perturb)
    if not train:
        raise ValueError(f"no usable training utterance in {train_manifests} (dropped: {dropped})")
    if ctx.is_main and any(dropped.values()):
        log.warning("left out %s of %d training utterances", dropped, len(train_all))
    transform = AddTargets(targets, cfg.speed_perturb, cfg.seed)
    sampler = DurationBucketSampler(
        [u.duration / min(cfg.speed_perturb, default=1.0) for u in train],
        cfg.max_batch_seconds,
        num_buckets=cfg.num_buckets,
        shuffle=True,
        seed=cfg.seed,
        rank=ctx.rank,
        world_size=ctx.world_size,
    )
    loader = DataLoader(
        AudioDataset(train, transform=transform),
        batch_sampler=sampler,
        collate_fn=collate_waveforms,
        num_workers=cfg.num_workers,
    )
    dev_sampler = DurationBucketSampler([u.duration for u in dev], cfg.max_batch_seconds, num_buckets=1, shuffle=False)
    dev_loader = DataLoader(
        AudioDataset(dev, transform=AddTargets(targets)),
        batch_sampler=dev_sampler,
        collate_fn=collate_waveforms,
        num_workers=cfg.num_workers,
    )
    refs = {u.id: normalize(u.text, u.lang) for u in dev}
    return TrainData(train, dev, targets, refs, sampler, loader, dev_loader, transform, dropped)


def planned_steps(sampler: DurationBucketSampler, cfg: TrainConfig) -> int:
    """Optimizer updates the run will make (for the cosine schedule)."""
    sampler.set_epoch(0)
    per_epoch = math.ceil(len(sampler) / cfg.grad_accum)  # epochs differ by a batch or two at most
    total = per_epoch * max(cfg.epochs, 1)
    return min(total, cfg.max_steps) if cfg.max_steps else total


def compute_cmvn(frontend: FeatureExtractor, utts: Sequence[Utterance], max_utts: int) -> None:
    """Fill ``frontend``'s global CMVN from the first ``max_utts`` utterances (no-op without global CMVN)."""
    if frontend.cfg.cmvn != "global":
        return
    stats = CMVNStats()
    frontend.eval()
    with torch.no_grad():
        for item in AudioDataset(utts[:max_utts]):
            if "error" not in item:  # bad audio was logged by the dataset
                feats, lengths = frontend.base_features(item["wav"][None])
                stats.update(feats, lengths)
    frontend.set_cmvn(stats.finalize())
    frontend.train()


def resume_or_start(
    ckpt_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    data: Any,
    metrics: MetricsLog,
    cfg: TrainConfig,
    ctx: DistContext,
    fresh_cmvn: bool = True,
) -> TrainState:
    """Load the latest checkpoint (and cut ``metrics.csv`` back to it), or start fresh.

    ``model`` has a ``frontend`` (:class:`~asr.features.FeatureExtractor`) and
    ``data`` a ``train`` list and a ``sampler``; a fresh start fills the global
    CMVN from the training data unless ``fresh_cmvn`` is off (pre-trained weights).
    """
    path = ckpt.latest_checkpoint(ckpt_dir)
    if path is None:
        if ctx.is_main and fresh_cmvn:  # DDP copies rank 0's buffers to the other ranks
            compute_cmvn(model.frontend, data.train, cfg.cmvn_max_utts)
        metrics.truncate(0)
        return TrainState()
    saved = ckpt.load_checkpoint(path, model, optimizer, scheduler)
    state = TrainState(**{f.name: saved[f.name] for f in dataclasses.fields(TrainState) if f.name in saved})
    if state.epoch_complete:
        state = dataclasses.replace(state, epoch=state.epoch + 1, batches_consumed=0, epoch_complete=False)
    else:
        data.sampler.load_state_dict(saved["sampler"])
    data.sampler.set_epoch(state.epoch)
    metrics.truncate(state.metrics_rows)
    if ctx.is_main:
        log.info("resumed from %s: update %d, epoch %d, batch %d",
                 path, state.step, state.epoch, state.batches_consumed)
    return state


def log_start(run: Run) -> None:
    """One line about the run (rank 0)."""
    if run.ctx.is_main:
        hours = sum(u.duration for u in run.data.train) / 3600
        log.info(
            "training %s (%s, %.2f M params) on %d utts (%.2f h), %d process(es), device %s, amp %s",
            run.model.cfg.encoder,
            run.tokenizer.kind,
            run.model.num_parameters() / 1e6,
            len(run.data.train),
            hours,
            run.ctx.world_size,
            run.ctx.device,
            "bf16" if run.amp else "off",
        )


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def batch_loss(model: nn.Module, batch: dict[str, Any], device: torch.device, amp: bool, impl: str) -> Tensor:
    """Mean CTC loss (per label, then over utterances) of one batch; ``model`` may be DDP-wrapped.

    A batch whose utterances were all skipped (bad audio) still runs one
    forward pass on silence and returns ``0 * output``, so every parameter
    gets a (zero) gradient and DDP ranks stay in step.
    """
    if not batch["ids"]:
        wav = torch.zeros(1, SAMPLE_RATE, device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits, _ = model(wav, torch.tensor([SAMPLE_RATE], device=device))
        return logits.float().sum() * 0.0
    wav, wav_lengths = batch["wav"].to(device), batch["wav_lengths"].to(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        logits, out_lengths = model(wav, wav_lengths)  # (B, T', V), (B,)
    return ctc_loss(
        logits,
        batch["tokens"].to(device),
        out_lengths,
        batch["token_lengths"].to(device),
        blank=0,
        reduction="mean",
        zero_infinity=True,
        impl=impl,
    )


def train_one_epoch(run: Run, epoch: int, loss_fn: Callable[[dict[str, Any]], Tensor] | None = None,
                    train_mode: Callable[[], None] | None = None) -> None:
    """Train on this rank's batches of ``epoch`` from ``state.batches_consumed`` on.

    Args:
        run: the run (any object with ``Run``'s fields: the multilingual loop passes its own).
        epoch: the epoch (sets the sampler's shuffle and the augmentation's seed).
        loss_fn: batch -> mean loss to minimise (default: :func:`batch_loss` of ``run.ddp_model``).
        train_mode: puts the model in training mode (default: ``run.ddp_model.train()``; the
            fine-tuning policies keep frozen modules in eval mode).
    """
    from tqdm import tqdm

    cfg, ctx, state = run.cfg, run.ctx, run.state
    if state.epoch != epoch:
        run.state = state = dataclasses.replace(state, epoch=epoch, batches_consumed=0, epoch_complete=False)
    run.data.sampler.set_epoch(epoch)
    run.data.transform.epoch = epoch
    total = state.batches_consumed + len(run.data.sampler)  # this rank's batches in the epoch
    accum = cfg.grad_accum
    if loss_fn is None:
        loss_fn = lambda batch: batch_loss(run.ddp_model, batch, ctx.device, run.amp, cfg.ctc_impl)  # noqa: E731
    (train_mode or run.ddp_model.train)()
    bar = tqdm(total=total, initial=state.batches_consumed, desc=f"epoch {epoch}", leave=False,
               disable=not (cfg.progress and ctx.is_main), dynamic_ncols=True)
    k = state.batches_consumed  # index of the next batch among this rank's batches
    for batch in run.data.loader:
        group_start = k // accum * accum
        group_size = min(accum, total - group_start)
        last_in_group = k + 1 - group_start == group_size
        torch.manual_seed(stable_int(cfg.seed, epoch, k * ctx.world_size + ctx.rank))
        sync = contextlib.nullcontext() if last_in_group or not ctx.distributed else run.ddp_model.no_sync()
        with sync:
            loss = loss_fn(batch)
            (loss / group_size).backward()
        run.skipped.update(batch["skipped"])
        run.loss_sum = loss.detach() if run.loss_sum is None else run.loss_sum + loss.detach()  # no GPU sync
        state.window["count"] += 1
        state.window["audio_s"] += float(sum(batch["durations"]))
        k += 1
        bar.update(1)
        if not last_in_group:
            continue
        grad_norm, lr = optimizer_step(run)
        state.step += 1
        state.batches_consumed = k
        if state.step % cfg.log_every == 0:
            log_train(run, grad_norm, lr)
            bar.set_postfix(loss=f"{run.metrics.last_loss:.3f}", lr=f"{run.scheduler.get_last_lr()[0]:.2e}")
        if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0:
            save_step_checkpoint(run)
        if cfg.max_steps and state.step >= cfg.max_steps:
            break
    bar.close()


def optimizer_step(run: Run) -> tuple[Tensor, float]:
    """Clip, step the optimizer and the schedule, zero the gradients.

    Returns:
        The gradient norm before clipping (a 0-dim tensor, read only when
        logged so that no step waits for the GPU) and this update's learning rate.
    """
    lr = run.optimizer.param_groups[0]["lr"]
    params = [p for p in run.model.parameters() if p.grad is not None]
    if run.cfg.clip_grad_norm > 0:
        norm = nn.utils.clip_grad_norm_(params, run.cfg.clip_grad_norm)
    else:
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    return norm, lr


def fold_loss(run: Run) -> None:
    """Move the on-device loss sum into the JSON-safe ``state.window``."""
    if run.loss_sum is not None:
        run.state.window["loss"] += float(run.loss_sum)
        run.loss_sum = None


def log_train(run: Run, grad_norm: Tensor, lr: float) -> None:
    """Write a ``train`` row: mean loss of the window's batches over all ranks, LR, throughput."""
    fold_loss(run)
    w = run.state.window
    loss_sum, count, audio_s = all_reduce_sum([w["loss"], w["count"], w["audio_s"]], run.ctx)
    now = time.perf_counter()
    run.metrics.append(
        step=run.state.step,
        epoch=run.state.epoch,
        split="train",
        loss=loss_sum / max(count, 1),
        lr=lr,
        grad_norm=float(grad_norm),
        audio_s_per_s=audio_s / max(now - run.t_window, 1e-9),
        elapsed_s=now - run.t_start,
    )
    run.state.metrics_rows = run.metrics.rows
    run.state.window = {"loss": 0.0, "count": 0.0, "audio_s": 0.0}
    run.t_window = now


def _checkpoint_state(run: Run) -> dict[str, Any]:
    fold_loss(run)
    s = run.state
    return {
        **dataclasses.asdict(s),
        "sampler": run.data.sampler.state_dict(batches_consumed=s.batches_consumed),
        "world_size": run.ctx.world_size,
    }


def save_step_checkpoint(run: Run) -> None:
    """``checkpoints/ckpt-<step>`` (rank 0), keeping the newest ``keep_checkpoints``."""
    if run.ctx.is_main:
        d = run.out / CHECKPOINTS
        ckpt.save_checkpoint(d / f"ckpt-{run.state.step:08d}", run.model, run.optimizer, run.scheduler,
                             _checkpoint_state(run))
        ckpt.prune_checkpoints(d, "ckpt-", max(run.cfg.keep_checkpoints, 1))
    barrier(run.ctx)


def end_epoch(run: Run, epoch: int) -> None:
    """Validate; write the ``dev`` row, the epoch checkpoint and (now and then) the curves."""
    ctx, state = run.ctx, run.state
    if ctx.is_main:
        dev = evaluate(run.model, run.data.dev_loader, run.tokenizer, run.data.refs, ctx.device, run.amp)
        run.metrics.append(step=state.step, epoch=epoch, split="dev", loss=dev["loss"], wer=dev["wer"],
                           cer=dev["cer"], elapsed_s=time.perf_counter() - run.t_start)
        state.metrics_rows = run.metrics.rows
        log.info("epoch %d (update %d): dev loss %.4f, WER %.2f%%, CER %.2f%%",
                 epoch, state.step, dev["loss"], 100 * dev["wer"], 100 * dev["cer"])
        if run.skipped.count:
            log.warning("%s", run.skipped)
        state.epoch_complete = True
        d = run.out / CHECKPOINTS
        ckpt.save_checkpoint(d / f"epoch-{epoch:03d}", run.model, run.optimizer, run.scheduler, _checkpoint_state(run))
        ckpt.prune_checkpoints(d, "epoch-", max(run.cfg.average_last, 1))
        if time.perf_counter() - run.t_plot > PLOT_INTERVAL_S:
            plot_curves(run.out / METRICS_CSV, run.out / CURVES_PNG)
            run.t_plot = time.perf_counter()
    state.epoch_complete = True
    barrier(ctx)


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Write ``train_summary.json`` atomically: its presence marks a finished run."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, path)


def finalize(run: Run, wall_s: float) -> dict[str, Any]:
    """Average the last epoch checkpoints, evaluate, write ``OUT/model`` and the summary (rank 0)."""
    ctx, out, cfg = run.ctx, run.out, run.cfg
    summary_path = out / SUMMARY_JSON
    if ctx.is_main:
        epochs = ckpt.list_checkpoints(out / CHECKPOINTS, "epoch-")[-max(cfg.average_last, 1):]
        if len(epochs) > 1:
            run.model.load_state_dict(ckpt.average_checkpoints(epochs))
            log.info("final model: average of %s", ", ".join(p.name for p in epochs))
        dev = evaluate(run.model, run.data.dev_loader, run.tokenizer, run.data.refs, ctx.device, run.amp)
        run.metrics.append(step=run.state.step, epoch=run.state.epoch, split="final", loss=dev["loss"],
                           wer=dev["wer"], cer=dev["cer"], elapsed_s=time.perf_counter() - run.t_start)
        run.metrics.close()
        plot_curves(out / METRICS_CSV, out / CURVES_PNG)
        summary = {
            "model_dir": str(out / MODEL_DIR),
            "steps": run.state.step,
            "epochs": run.state.epoch + int(run.state.epoch_complete),
            "params": run.model.num_parameters(),
            "averaged": [p.name for p in epochs],
            "dev_loss": dev["loss"],
            "dev_wer": dev["wer"],
            "dev_cer": dev["cer"],
            "train_utts": len(run.data.train),
            "train_hours": sum(u.duration for u in run.data.train) / 3600,
            "dropped": run.data.dropped,
            "skipped": run.skipped.count,
            "world_size": ctx.world_size,
            "wall_s": wall_s,
        }
        save_model_dir(out / MODEL_DIR, run.model, run.tokenizer, extra={"training": summary})
        write_summary(summary_path, summary)
        log.info("final dev WER %.2f%% -> %s", 100 * dev["wer"], out / MODEL_DIR)
    barrier(ctx)
    return json.loads(summary_path.read_text())
