"""Meta-learning an initialization over tasks: Reptile and first-order MAML.

Multilingual pre-training fits one model to every source language at once;
meta-learning trains the initialization so that a few steps on a new task
(a language, a speaker, a voice) go far (Finn et al., MAML, 2017; Nichol et
al., Reptile, 2018; Hsu et al., MetaASR, 2020, for CTC on low-resource
languages). One outer step:

1. draw ``tasks_per_step`` tasks (languages, by ``size^(1/T)``);
2. for each, copy the meta-parameters into a *fast* model and take
   ``inner_steps`` optimizer steps on its support batches (a fresh inner
   optimizer per task; the meta-parameters are not touched);
3. the outer gradient, averaged over the tasks:

   * **Reptile**: ``theta - theta_task`` (the weights' move, read as a gradient);
   * **FOMAML**: the query batch's loss gradient at the adapted weights
     ``theta_task`` (first order: no second derivatives through the inner steps);

4. one step of the outer optimizer (AdamW with :class:`~asr.train.config.TrainConfig`'s
   schedule, or plain SGD: Reptile with SGD at learning rate ``eps`` is
   ``theta += eps * mean(theta_task - theta)``). Float buffers (BatchNorm statistics)
   become the tasks' mean.

Usage::

    meta = MetaConfig(method="reptile", outer_steps=300, tasks_per_step=4, inner_steps=3)
    summary = meta_train({"en": ..., "de": ..., "fr": ...}, {"en": ...}, "exp/reptile",
                         MultilingualConfig(base=ModelConfig.preset("tiny")), TrainConfig(lr=1e-3),
                         meta, tokenizers)
    # then, like any multilingual model directory:  asr finetune --init exp/reptile/model ...

Every outer step's tasks and batches are drawn from ``(seed, step, task)`` and
torch is reseeded from ``(seed, step, rank)``, so a run resumed from a checkpoint
(every ``checkpoint_every`` outer steps, atomic) continues exactly as the
uninterrupted one. Under ``torchrun`` the tasks of an outer step are dealt out
over the ranks and the outer gradient is summed over them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from asr.data.dataset import AudioDataset, SkipReport
from asr.data.labels import collate_multilingual
from asr.data.manifest import Utterance
from asr.data.transforms import stable_int
from asr.losses.multitask import multitask_loss
from asr.models.multilingual import MultilingualConfig, MultilingualCTC, save_multilingual_dir
from asr.text.tokenizer import Tokenizer
from asr.train import checkpoint as ckpt
from asr.train.config import TrainConfig
from asr.train.distributed import DistContext, barrier, setup, teardown
from asr.train.loop import CHECKPOINTS, MODEL_DIR, SUMMARY_JSON, compute_cmvn, write_summary
from asr.train.metrics_log import CURVES_PNG, METRICS_CSV, MetricsLog, plot_curves
from asr.train.multilingual import _evaluate_all, _init_data, _resolve_config
from asr.train.optim import WarmupSchedule, build_optimizer
from asr.train.run_config import save_run_config

__all__ = ["METHODS", "MetaConfig", "Task", "TaskSampler", "meta_update", "meta_train"]

log = logging.getLogger(__name__)

METHODS = ("reptile", "fomaml")
Batch = dict[str, Any]
LossFn = Callable[[nn.Module, Batch], Tensor]


@dataclass(frozen=True)
class MetaConfig:
    """Meta-training options (the rest comes from :class:`~asr.train.config.TrainConfig`).

    Attributes:
        method: ``reptile`` or ``fomaml``.
        outer_steps: meta-updates of the run.
        tasks_per_step: tasks (languages) per meta-update (over all ranks).
        inner_steps: optimizer steps on a task's support batches.
        inner_lr: the inner optimizer's learning rate.
        inner_optimizer: ``adam`` (fresh for every task, as in the Reptile paper) or ``sgd``.
        outer_optimizer: ``adam`` (AdamW) or ``sgd``, either under the schedule of ``TrainConfig``
            (``lr``, ``schedule``, ``warmup_steps``, ``min_lr_ratio``) over ``outer_steps``.
        temperature: task sampling by ``size^(1/T)`` (1: by size, large: uniform).
    """

    method: str = "reptile"
    outer_steps: int = 200
    tasks_per_step: int = 4
    inner_steps: int = 3
    inner_lr: float = 1e-3
    inner_optimizer: str = "adam"
    outer_optimizer: str = "adam"
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"meta method must be one of {list(METHODS)}, got {self.method!r}")
        for name in ("outer_steps", "tasks_per_step", "inner_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"meta {name} must be >= 1, got {getattr(self, name)}")
        if self.inner_optimizer not in ("adam", "sgd") or self.outer_optimizer not in ("adam", "sgd"):
            raise ValueError("meta inner_optimizer and outer_optimizer are 'adam' or 'sgd'")
        if self.inner_lr <= 0 or self.temperature <= 0:
            raise ValueError("meta inner_lr and temperature must be > 0")

    @property
    def batches_per_task(self) -> int:
        """Forward/backward passes per task: the support steps (+ the query batch for FOMAML)."""
        return self.inner_steps + (self.method == "fomaml")

    @property
    def batches_per_step(self) -> int:
        """Forward/backward passes per meta-update (the pre-training compute is counted in these)."""
        return self.tasks_per_step * self.batches_per_task


@dataclass
class Task:
    """One task of an outer step: its name, support batches and (FOMAML) query batch."""

    name: str
    support: list[Batch]
    query: Batch | None = None


# ---------------------------------------------------------------------------
# One meta-update
# ---------------------------------------------------------------------------


def _inner_optimizer(params: list[nn.Parameter], cfg: MetaConfig) -> torch.optim.Optimizer:
    if cfg.inner_optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.inner_lr)
    return torch.optim.Adam(params, lr=cfg.inner_lr, betas=(0.9, 0.98))


def _all_reduce_(tensors: Sequence[Tensor], ctx: DistContext | None) -> None:
    if ctx is not None and ctx.distributed and tensors:
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat)
        offset = 0
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()


def meta_update(
    model: nn.Module,
    fast: nn.Module,
    tasks: Sequence[Task],
    loss_fn: LossFn,
    cfg: MetaConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: Any | None = None,
    clip_grad_norm: float = 0.0,
    ctx: DistContext | None = None,
    num_tasks: int | None = None,
) -> dict[str, float]:
    """One outer step of Reptile or FOMAML on ``model`` (the meta-parameters).

    Args:
        model: the meta-model; only ``optimizer.step()`` changes its parameters.
        fast: a module of the same structure (``copy.deepcopy(model)``): the inner loops run on it.
        tasks: this rank's tasks; each has ``cfg.inner_steps`` support batches (and a query batch
            for FOMAML).
        loss_fn: ``(module, batch) -> scalar loss``.
        cfg: method, inner steps and optimizer.
        optimizer: the outer optimizer over ``model``'s trainable parameters.
        scheduler: stepped after it (optional).
        clip_grad_norm: clip the outer gradient's norm (0: off).
        ctx: with DDP, the outer gradient and buffers are summed over ranks.
        num_tasks: tasks over all ranks (default ``len(tasks)``).

    Returns:
        ``support_loss`` (mean over the tasks' inner steps), ``query_loss`` (FOMAML; NaN for Reptile),
        ``grad_norm`` (outer, before clipping), ``lr`` (outer).
    """
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    meta_params = dict(model.named_parameters())
    fast_params = dict(fast.named_parameters())
    inner_params = [fast_params[n] for n in names]
    grads = {n: torch.zeros_like(meta_params[n]) for n in names}
    buffers = {n: torch.zeros_like(b) for n, b in model.named_buffers() if b.is_floating_point()}
    total = num_tasks or len(tasks)
    sums = torch.zeros(3, dtype=torch.float64, device=meta_params[names[0]].device)  # support loss, query loss, tasks
    for task in tasks:
        if len(task.support) != cfg.inner_steps or (cfg.method == "fomaml" and task.query is None):
            raise ValueError(f"task {task.name}: {len(task.support)} support batches for {cfg.inner_steps} inner steps"
                             + (", no query batch" if cfg.method == "fomaml" and task.query is None else ""))
        fast.load_state_dict(model.state_dict())
        fast.train()
        inner = _inner_optimizer(inner_params, cfg)
        for batch in task.support:
            inner.zero_grad(set_to_none=True)
            loss = loss_fn(fast, batch)
            loss.backward()
            if clip_grad_norm > 0:
                nn.utils.clip_grad_norm_(inner_params, clip_grad_norm)
            inner.step()
            sums[0] += loss.detach().double() / cfg.inner_steps  # no device sync per step
        with torch.no_grad():
            if cfg.method == "reptile":
                for n in names:
                    grads[n] += meta_params[n] - fast_params[n]
        if cfg.method == "fomaml":
            inner.zero_grad(set_to_none=True)
            loss = loss_fn(fast, task.query)
            loss.backward()
            sums[1] += loss.detach().double()
            with torch.no_grad():
                for n in names:
                    if fast_params[n].grad is not None:
                        grads[n] += fast_params[n].grad
        with torch.no_grad():
            fast_buffers = dict(fast.named_buffers())
            for n in buffers:
                buffers[n] += fast_buffers[n]
        sums[2] += 1
    _all_reduce_([*grads.values(), *buffers.values(), sums], ctx)
    lr = optimizer.param_groups[0]["lr"]
    for n in names:
        meta_params[n].grad = grads[n] / total
    params = [meta_params[n] for n in names]
    if clip_grad_norm > 0:
        norm = float(nn.utils.clip_grad_norm_(params, clip_grad_norm))
    else:
        norm = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])))
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    with torch.no_grad():
        model_buffers = dict(model.named_buffers())
        for n, b in buffers.items():
            model_buffers[n].copy_(b / total)
    count = max(float(sums[2]), 1.0)
    return {"support_loss": float(sums[0]) / count,
            "query_loss": float(sums[1]) / count if cfg.method == "fomaml" else float("nan"),
            "grad_norm": norm, "lr": lr}


# ---------------------------------------------------------------------------
# Tasks from training utterances
# ---------------------------------------------------------------------------


class TaskSampler:
    """Tasks of each outer step, drawn from ``(seed, step, task index)`` only (resumable, rank-independent).

    A task is a language of the training utterances; its batches are random draws of its
    utterances within ``max_batch_seconds`` of padded audio. Languages are drawn by
    ``size^(1/T)`` without replacement while there are enough of them.
    """

    def __init__(self, utts: Sequence[Utterance], dataset: AudioDataset, max_batch_seconds: float,
                 temperature: float = 1.0, seed: int = 0):
        self.utts, self.dataset, self.max_batch_seconds, self.seed = list(utts), dataset, max_batch_seconds, seed
        self.by_lang: dict[str, list[int]] = {}
        for i, u in enumerate(self.utts):
            self.by_lang.setdefault(u.lang, []).append(i)
        hours = {lang: sum(self.utts[i].duration for i in idx) for lang, idx in self.by_lang.items()}
        weights = {lang: h ** (1.0 / temperature) for lang, h in hours.items()}
        z = sum(weights.values())
        self.probabilities = {lang: w / z for lang, w in sorted(weights.items())}

    def languages(self, step: int, n: int) -> list[str]:
        """The ``n`` task languages of outer step ``step``."""
        rng = random.Random(stable_int(self.seed, "tasks", step))
        pool = dict(self.probabilities)
        out = []
        for _ in range(n):
            if not pool:
                pool = dict(self.probabilities)  # more tasks than languages: draw again
            lang = rng.choices(list(pool), weights=list(pool.values()))[0]
            out.append(lang)
            pool.pop(lang)
        return out

    def batch(self, lang: str, rng: random.Random) -> Batch:
        """Random utterances of ``lang`` within the padded-seconds budget (at least one)."""
        idx = self.by_lang[lang]
        chosen: list[int] = []
        longest = 0.0
        for i in rng.sample(idx, len(idx)):
            d = self.utts[i].duration
            if chosen and (len(chosen) + 1) * max(longest, d) > self.max_batch_seconds:
                break
            chosen.append(i)
            longest = max(longest, d)
        return collate_multilingual([self.dataset[i] for i in chosen])

    def tasks(self, step: int, cfg: MetaConfig, rank: int = 0, world_size: int = 1) -> list[Task]:
        """This rank's tasks of outer step ``step`` (task ``j`` goes to rank ``j % world_size``)."""
        out = []
        for j, lang in enumerate(self.languages(step, cfg.tasks_per_step)):
            if j % world_size != rank:
                continue
            rng = random.Random(stable_int(self.seed, "batches", step, j))
            support = [self.batch(lang, rng) for _ in range(cfg.inner_steps)]
            query = self.batch(lang, rng) if cfg.method == "fomaml" else None
            out.append(Task(lang, support, query))
        return out


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def _loss_fn(device: torch.device, amp: bool, weights: Mapping[str, float], impl: str) -> LossFn:
    def loss(module: nn.Module, batch: Batch) -> Tensor:
        wav, wav_lengths = batch["wav"].to(device), batch["wav_lengths"].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = module(wav, wav_lengths, batch["langs"])
        return multitask_loss(out, batch, weights, impl=impl)[0]

    return loss


def _outer_optimizer(model: nn.Module, train_cfg: TrainConfig, meta: MetaConfig) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW (:func:`asr.train.optim.build_optimizer`) or SGD, each under ``train_cfg``'s schedule over the outer
    steps (Reptile's step size ``eps``: SGD at ``lr`` 1, cosine down to ``min_lr_ratio``, as Nichol et al. anneal it)."""
    if meta.outer_optimizer == "sgd":
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=train_cfg.lr)
        schedule = WarmupSchedule(train_cfg.schedule, train_cfg.warmup_steps, meta.outer_steps, train_cfg.min_lr_ratio)
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=schedule)
    return build_optimizer(model, train_cfg, total_steps=meta.outer_steps)


def meta_train(
    manifests: Mapping[str, Any],
    dev: Mapping[str, Any],
    out_dir: str | os.PathLike,
    cfg: MultilingualConfig,
    train_cfg: TrainConfig,
    meta: MetaConfig,
    tokenizers: Mapping[str, Tokenizer],
    phone_tokenizer: Tokenizer | None = None,
    task_weights: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Meta-train a multilingual CTC model over its languages; the same call again resumes.

    Args:
        manifests: language (task) -> training manifest(s).
        dev: language -> validation manifest(s) (final dev rows; languages without one are not validated).
        out_dir: ``run_config.json``, ``metrics.csv``, ``curves.png``, ``checkpoints/``, ``model/``
            (what :func:`asr.train.multilingual.train_multilingual` and ``asr finetune`` load),
            ``train_summary.json``.
        cfg: the model (heads sized by the tokenizers, as ``train_multilingual`` does).
        train_cfg: ``lr`` and schedule of the outer optimizer, ``max_batch_seconds`` of every batch,
            ``clip_grad_norm``, ``checkpoint_every`` (outer steps), ``keep_checkpoints``, ``log_every``,
            ``seed``, ``device``, ``amp``, duration limits, ``cmvn_max_utts``.
        meta: the method and its steps.
        tokenizers, phone_tokenizer, task_weights: as for ``train_multilingual``.

    Returns:
        The summary (also ``OUT/train_summary.json``): ``model_dir``, ``method``, ``outer_steps``,
        ``batches`` (forward/backward passes, all ranks), ``audio_hours_presented``, ``dev``, ``dev_wer``,
        ``train_utts_per_lang``, ``wall_s``. A finished run returns its summary at once.
    """
    out = Path(out_dir)
    if (out / SUMMARY_JSON).is_file():
        log.info("%s: meta-training already finished; delete %s to train again", out, SUMMARY_JSON)
        return json.loads((out / SUMMARY_JSON).read_text())
    if len(manifests) < 1:
        raise ValueError("no training manifests")
    ctx = setup(train_cfg.device)
    t0 = time.perf_counter()
    cfg = _resolve_config(cfg, list(manifests), tokenizers, phone_tokenizer)
    save_run_config(out, {"model": cfg.to_dict(), "train": train_cfg.to_dict(), "meta": dataclasses.asdict(meta),
                          "tokenizers": {lang: {"kind": t.kind, "vocab_size": t.vocab_size}
                                         for lang, t in sorted(tokenizers.items())},
                          "world_size": ctx.world_size}, ctx, fixed=("model", "meta", "tokenizers"))
    torch.manual_seed(train_cfg.seed)
    model = MultilingualCTC(cfg)
    data = _init_data(manifests, dev, tokenizers, phone_tokenizer, model, train_cfg, ctx, meta.temperature)
    optimizer, scheduler = _outer_optimizer(model, train_cfg, meta)
    metrics = MetricsLog(out / METRICS_CSV, enabled=ctx.is_main)
    ckpt_dir = out / CHECKPOINTS
    start, latest = 0, ckpt.latest_checkpoint(ckpt_dir)
    if latest is None:
        compute_cmvn(model.frontend, data.train, train_cfg.cmvn_max_utts)  # every rank: the same numbers
        metrics.truncate(0)
    else:
        saved = ckpt.load_checkpoint(latest, model, optimizer, scheduler)
        start = int(saved["step"])
        metrics.truncate(int(saved["metrics_rows"]))
        log.info("resumed from %s: outer step %d", latest, start)
    model.to(ctx.device)
    fast = copy.deepcopy(model)
    sampler = TaskSampler(data.train, AudioDataset(data.train, transform=data.transform), train_cfg.max_batch_seconds,
                          meta.temperature, train_cfg.seed)
    amp = train_cfg.autocast(ctx.device)
    loss_fn = _loss_fn(ctx.device, amp, dict(task_weights or {}), train_cfg.ctc_impl)
    if ctx.is_main:
        log.info("meta-training (%s) over %s: %d outer steps x %d tasks x %d batches, %.2f M params",
                 meta.method, {k: round(v, 3) for k, v in sampler.probabilities.items()}, meta.outer_steps,
                 meta.tasks_per_step, meta.batches_per_task, model.num_parameters() / 1e6)
    skipped = SkipReport()
    t_window, audio = time.perf_counter(), 0.0
    for step in range(start, meta.outer_steps):
        data.transform.epoch = step  # speed perturbation drawn per outer step
        torch.manual_seed(stable_int(train_cfg.seed, "meta", step, ctx.rank))
        tasks = sampler.tasks(step, meta, ctx.rank, ctx.world_size)
        for t in tasks:
            for b in (*t.support, *((t.query,) if t.query is not None else ())):
                skipped.update(b["skipped"])
                audio += float(sum(b["durations"]))
        stats = meta_update(model, fast, tasks, loss_fn, meta, optimizer, scheduler, train_cfg.clip_grad_norm, ctx,
                            num_tasks=meta.tasks_per_step)
        done = step + 1
        if done % train_cfg.log_every == 0 or done == meta.outer_steps:
            now = time.perf_counter()
            metrics.append(step=done, epoch=0, split="train", loss=stats["support_loss"], lr=stats["lr"],
                           grad_norm=stats["grad_norm"], audio_s_per_s=audio / max(now - t_window, 1e-9),
                           elapsed_s=now - t0)
            if meta.method == "fomaml":
                metrics.append(step=done, epoch=0, split="query", loss=stats["query_loss"], elapsed_s=now - t0)
            t_window, audio = now, 0.0
        if ctx.is_main and train_cfg.checkpoint_every and done % train_cfg.checkpoint_every == 0:
            ckpt.save_checkpoint(ckpt_dir / f"ckpt-{done:08d}", model, optimizer, scheduler,
                                 {"step": done, "metrics_rows": metrics.rows})
            ckpt.prune_checkpoints(ckpt_dir, "ckpt-", train_cfg.keep_checkpoints)
        barrier(ctx)
    summary = _finalize(out, ctx, model, data, tokenizers, phone_tokenizer, metrics, meta, train_cfg, skipped,
                        time.perf_counter() - t0)
    teardown(ctx)
    return summary


@dataclass
class _EvalRun:
    """What :func:`asr.train.multilingual._evaluate_all` reads."""

    model: MultilingualCTC
    data: Any
    tokenizers: Mapping[str, Tokenizer]
    ctx: DistContext
    amp: bool = False


def _finalize(out: Path, ctx: DistContext, model: MultilingualCTC, data: Any, tokenizers: Mapping[str, Tokenizer],
              phone_tokenizer: Tokenizer | None, metrics: MetricsLog, meta: MetaConfig, train_cfg: TrainConfig,
              skipped: SkipReport, wall_s: float) -> dict[str, Any]:
    summary_path = out / SUMMARY_JSON
    if ctx.is_main:
        kept = {lang: t for lang, t in tokenizers.items() if lang in model.languages}
        res = _evaluate_all(_EvalRun(model, data, kept, ctx)) if data.dev_loaders else {}
        for lang, r in res.items():
            metrics.append(step=meta.outer_steps, epoch=0, split="final" if lang == "all" else f"final/{lang}",
                           loss=r["loss"], wer=r["wer"], cer=r["cer"], elapsed_s=wall_s)
        plot_curves(out / METRICS_CSV, out / CURVES_PNG)
        batches = meta.outer_steps * meta.batches_per_step
        per_lang = {lang: sum(u.lang == lang for u in data.train) for lang in sorted({u.lang for u in data.train})}
        summary = {
            "model_dir": str(out / MODEL_DIR), "method": meta.method, "meta": dataclasses.asdict(meta),
            "outer_steps": meta.outer_steps, "steps": meta.outer_steps, "epochs": 0, "batches": batches,
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "train_hours": sum(u.duration for u in data.train) / 3600,
            "audio_hours_presented_estimate": round(batches * train_cfg.max_batch_seconds / 3600, 3),
            "params": sum(p.numel() for p in model.parameters()), "languages": list(model.languages),
            "dev": {lang: r for lang, r in res.items() if lang != "all"},
            "dev_wer": res.get("all", {}).get("wer", math.nan), "dev_cer": res.get("all", {}).get("cer", math.nan),
            "train_utts_per_lang": per_lang, "skipped": skipped.count, "world_size": ctx.world_size, "wall_s": wall_s,
        }
        save_multilingual_dir(out / MODEL_DIR, model, kept, phone_tokenizer, extra={"training": summary})
        write_summary(summary_path, summary)
        log.info("meta-training done: dev WER %.2f%% -> %s", 100 * summary["dev_wer"], out / MODEL_DIR)
    barrier(ctx)
    return json.loads(summary_path.read_text())
