"""Training loop of the multilingual multi-task CTC system (and of fine-tuning a pre-trained one).

Usage::

    from asr.models.multilingual import MultilingualConfig
    from asr.train.multilingual import train_multilingual

    summary = train_multilingual(
        {"en": "en/train.jsonl", "sw": "sw/train.jsonl"}, {"en": "en/dev.jsonl", "sw": "sw/dev.jsonl"},
        "exp/ml", MultilingualConfig(base=ModelConfig.preset("tiny")), TrainConfig(epochs=20),
        {"en": tok_en, "sw": tok_sw}, temperature=3.0)

    # low-resource fine-tuning from a pre-trained model directory (what ``asr finetune`` runs):
    train_multilingual({"sw": ...}, {"sw": ...}, "exp/ft", cfg, train_cfg, {"sw": tok_sw},
                       init_from="exp/ml/model", policy="top-k", k=2)

What one call does (the pieces of :mod:`asr.train.loop` are reused: its
:class:`~asr.train.loop.TrainState`, optimizer step and step checkpoints, with
:mod:`asr.train.metrics_log`, :mod:`asr.train.evaluate` and :mod:`asr.train.checkpoint`):

1. reads every language's manifests (the dict key is the language, whatever the
   rows say), drops utterances outside the duration limits or too short for their
   transcript (:func:`asr.data.trainable.filter_trainable`), and tokenizes each with its
   language's tokenizer; phone labels (:func:`asr.data.labels.phone_ids`) come
   from a row's ``phones`` field (space-separated phones) or, with a
   :class:`~asr.text.tokenizer.PhoneTokenizer`, from its lexicon; an utterance with
   an out-of-lexicon word has no phone label (length ``-1``: masked, not dropped);
2. builds :class:`~asr.models.multilingual.MultilingualCTC` (seeded) with one head
   per language, or initialises it from ``init_from`` (whatever matches by name and
   shape: :func:`~asr.models.pretrained.from_pretrained`; the report is logged and
   kept in the summary), else computes global CMVN statistics;
3. applies the fine-tuning policy (:func:`asr.train.finetune.apply_policy`) before
   the optimizer is built, so only trainable parameters are in it; blocks whose
   parameters are all frozen run in eval mode (no dropout, fixed BatchNorm statistics);
4. draws one-language batches with :class:`~asr.data.lang_sampler.LanguageBalancedSampler`
   (languages by ``size^(1/T)``), trains on :func:`~asr.losses.multitask.multitask_loss`
   plus the L2-SP pull toward the starting weights when ``l2sp_alpha > 0``; with
   ``adversarial=True`` a speaker classifier behind gradient reversal (the model's
   ``domain_head``, one class per training speaker) joins the tasks, its reversal strength
   following :func:`~asr.train.finetune.dann_lambda` over the run's progress;
5. checkpoints atomically (every ``checkpoint_every`` updates and each epoch's end)
   and resumes from the latest one when the same call is made again;
6. validates each language each epoch: rows ``dev/<lang>`` (CTC loss, greedy WER/CER)
   and a ``dev`` row (loss weighted by utterances, WER/CER averaged over languages)
   in ``OUT/metrics.csv``;
7. averages the last ``average_last`` epoch checkpoints into ``OUT/model``
   (:func:`~asr.models.multilingual.save_multilingual_dir`) and writes ``OUT/train_summary.json``.

Determinism follows :mod:`asr.train.loop`: each micro-batch reseeds torch from
``(seed, epoch, global batch index)``, so a resumed run follows the uninterrupted one.
Under ``torchrun`` the model is wrapped in DDP with ``find_unused_parameters``
(a batch of one language leaves the other heads without a gradient).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from asr.audio import SAMPLE_RATE
from asr.data.collate import collate_waveforms
from asr.data.dataset import AudioDataset, SkipReport
from asr.data.labels import collate_multilingual, phone_ids
from asr.data.lang_sampler import LanguageBalancedSampler
from asr.data.manifest import Utterance
from asr.data.sampler import DurationBucketSampler
from asr.data.trainable import filter_trainable, read_manifests
from asr.data.transforms import AddMultitaskTargets, AddTargets
from asr.losses.multitask import multitask_loss
from asr.models.multilingual import FORMAT, MultilingualConfig, MultilingualCTC, save_multilingual_dir
from asr.models.pretrained import LoadReport, from_pretrained
from asr.text.normalize import normalize
from asr.text.tokenizer import Tokenizer
from asr.train import checkpoint as ckpt
from asr.train.config import TrainConfig
from asr.train.distributed import DistContext, barrier, setup, teardown
from asr.train.evaluate import evaluate
from asr.train.finetune import apply_policy, dann_lambda, l2sp_penalty, reference_state
from asr.train.loop import (
    CHECKPOINTS,
    MODEL_DIR,
    SUMMARY_JSON,
    TrainState,
    fold_loss,
    resume_or_start,
    train_one_epoch,
    write_summary,
)
from asr.train.metrics_log import CURVES_PNG, METRICS_CSV, PLOT_INTERVAL_S, MetricsLog, plot_curves
from asr.train.optim import build_optimizer
from asr.train.run_config import save_run_config

__all__ = ["train_multilingual", "LanguageView"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


class LanguageView(nn.Module):
    """One language of a :class:`MultilingualCTC` seen as a monolingual CTC model
    (``forward(wav (B, S), wav_lengths (B,)) -> logits (B, T', V_lang), lengths (B,)``),
    so that :func:`asr.train.evaluate.evaluate` scores it."""

    def __init__(self, model: MultilingualCTC, lang: str):
        super().__init__()
        self.model = model
        self.lang = lang

    def forward(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``wav (B, S)``, ``wav_lengths (B,)`` -> ``logits (B, T', V_lang)``, ``(B,)``."""
        out = self.model(wav, wav_lengths, [self.lang] * wav.shape[0])
        return out["logits"][self.lang], out["lengths"]


@dataclass
class MultiData:
    """Utterances, labels, loaders and the language-balanced sampler (the fields the loop helpers read)."""

    train: list[Utterance]
    dev: dict[str, list[Utterance]]
    refs: dict[str, dict[str, str]]  # lang -> dev id -> normalized reference
    sampler: LanguageBalancedSampler
    loader: DataLoader
    dev_loaders: dict[str, DataLoader]
    transform: AddMultitaskTargets
    dropped: dict[str, int]
    phone_labels: int  # training utterances with a phone label


def _init_data(
    manifests: Mapping[str, Any],
    dev: Mapping[str, Any],
    tokenizers: Mapping[str, Tokenizer],
    phone_tokenizer: Tokenizer | None,
    model: MultilingualCTC,
    cfg: TrainConfig,
    ctx: DistContext,
    temperature: float,
) -> MultiData:
    train_all = [dataclasses.replace(u, lang=lang) for lang, m in manifests.items() for u in read_manifests(m)]
    dev_utts = {lang: [dataclasses.replace(u, lang=lang) for u in read_manifests(m)] for lang, m in dev.items()}
    targets: dict[str, list[int]] = {}
    phones: dict[str, list[int] | None] = {}
    seen: dict[str, tuple[str, str]] = {}
    for u in [*train_all, *(u for us in dev_utts.values() for u in us)]:
        if seen.setdefault(u.id, (u.lang, u.text)) != (u.lang, u.text):
            raise ValueError(f"utterance id {u.id!r} occurs with two languages or transcripts; ids must be unique")
        text = normalize(u.text, u.lang)
        targets[u.id] = tokenizers[u.lang].encode(text)
        phones[u.id] = phone_ids(u, text, phone_tokenizer)
    train, dropped = filter_trainable(train_all, targets, model.output_lengths, cfg.min_duration, cfg.max_duration,
                                      cfg.speed_perturb)
    missing = sorted(set(manifests) - {u.lang for u in train})
    if missing:
        raise ValueError(f"no usable training utterance for language(s) {missing} (dropped: {dropped})")
    if ctx.is_main and any(dropped.values()):
        log.warning("left out %s of %d training utterances", dropped, len(train_all))
    transform = AddMultitaskTargets(targets, phones, cfg.speed_perturb, cfg.seed)
    slowest = min(cfg.speed_perturb, default=1.0)
    sampler = LanguageBalancedSampler(
        [u.lang for u in train],
        [u.duration / slowest for u in train],
        cfg.max_batch_seconds,
        temperature=temperature,
        num_buckets=cfg.num_buckets,
        seed=cfg.seed,
        rank=ctx.rank,
        world_size=ctx.world_size,
    )
    loader = DataLoader(AudioDataset(train, transform=transform), batch_sampler=sampler,
                        collate_fn=collate_multilingual, num_workers=cfg.num_workers)
    dev_loaders = {}
    for lang, utts in dev_utts.items():
        s = DurationBucketSampler([u.duration for u in utts], cfg.max_batch_seconds, num_buckets=1, shuffle=False)
        dev_loaders[lang] = DataLoader(AudioDataset(utts, transform=AddTargets(targets)), batch_sampler=s,
                                       collate_fn=collate_waveforms, num_workers=cfg.num_workers)
    refs = {lang: {u.id: normalize(u.text, lang) for u in utts} for lang, utts in dev_utts.items()}
    n_phones = sum(phones[u.id] is not None for u in train)
    return MultiData(train, dev_utts, refs, sampler, loader, dev_loaders, transform, dropped, n_phones)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


@dataclass
class MultiRun:
    """Handles of one run; attribute names follow :class:`asr.train.loop.Run` so that its
    helpers (``train_one_epoch``, ``optimizer_step``, ``save_step_checkpoint``) apply."""

    ctx: DistContext
    cfg: TrainConfig
    out: Path
    model: MultilingualCTC
    ddp_model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    data: MultiData
    tokenizers: dict[str, Tokenizer]
    metrics: MetricsLog
    state: TrainState
    weights: dict[str, float]
    reference: dict[str, Tensor]
    l2sp_alpha: float
    speaker_ids: dict[str, int] = field(default_factory=dict)  # adversarial training: speaker -> domain class
    total_steps: int = 1  # planned updates (the reversal-strength schedule's progress)
    skipped: SkipReport = field(default_factory=SkipReport)
    t_start: float = field(default_factory=time.perf_counter)
    t_window: float = field(default_factory=time.perf_counter)
    t_plot: float = field(default_factory=time.perf_counter)
    loss_sum: Tensor | None = None

    @property
    def amp(self) -> bool:
        """bf16 autocast on: ``amp == "bf16"``, or ``"auto"`` on CUDA."""
        return self.cfg.autocast(self.ctx.device)


def _resolve_config(
    cfg: MultilingualConfig,
    languages: Sequence[str],
    tokenizers: Mapping[str, Tokenizer],
    phone_tokenizer: Tokenizer | None,
) -> MultilingualConfig:
    """``cfg`` with every trained language's head sized by its tokenizer (new languages appended)
    and the phone head sized by ``phone_tokenizer``."""
    missing = sorted(set(languages) - set(tokenizers))
    if missing:
        raise ValueError(f"no tokenizer for language(s) {missing}")
    if not cfg.token_heads:
        raise ValueError("train_multilingual trains the per-language token heads: cfg.token_heads must be True")
    for lang in languages:
        if lang not in cfg.languages or cfg.vocab_size(lang) != tokenizers[lang].vocab_size:
            cfg = cfg.with_language(lang, tokenizers[lang].vocab_size)
    if phone_tokenizer is not None:
        cfg = dataclasses.replace(cfg, num_phones=phone_tokenizer.vocab_size)
    return cfg


def _is_progressive(model_dir: str | os.PathLike) -> bool:
    """Whether a model directory holds a multilingual model with a progressive encoder."""
    config = json.loads((Path(model_dir) / "config.json").read_text())
    return bool(config.get("format") == FORMAT and config["model"].get("progressive"))


def set_train_mode(model: nn.Module) -> None:
    """``model.train()``, then eval mode for every module of ``frontend``/``encoder`` whose
    parameters are all frozen (a frozen block keeps its dropout off and BatchNorm statistics fixed)."""
    model.train()
    for part in (model.frontend, model.encoder):
        for m in part.modules():
            params = list(m.parameters())
            if params and not any(p.requires_grad for p in params):
                m.eval()


def train_multilingual(
    manifests: Mapping[str, Any],
    dev: Mapping[str, Any],
    out_dir: str | os.PathLike,
    cfg: MultilingualConfig,
    train_cfg: TrainConfig,
    tokenizers: Mapping[str, Tokenizer],
    phone_tokenizer: Tokenizer | None = None,
    task_weights: Mapping[str, float] | None = None,
    temperature: float = 1.0,
    init_from: str | os.PathLike | None = None,
    policy: str = "full",
    k: int = 0,
    l2sp_alpha: float = 0.0,
    init_rename: Mapping[str, str] | None = None,
    adversarial: bool = False,
) -> dict[str, Any]:
    """Train a multilingual multi-task CTC model; the same call again resumes where it stopped.

    Args:
        manifests: language -> training manifest(s) (one path or a list).
        dev: language -> validation manifest(s); languages without one are not validated.
        out_dir: everything goes here (``run_config.json``, ``metrics.csv``, ``curves.png``,
            ``checkpoints/``, ``model/``, ``train_summary.json``).
        cfg: structure; each trained language's head gets its tokenizer's size (appended
            if new), the phone head ``phone_tokenizer``'s size.
        train_cfg: hyperparameters (:class:`~asr.train.config.TrainConfig`).
        tokenizers: language -> tokenizer, for every trained language (others, e.g. the
            pre-trained languages kept in the model, are saved with it when given).
        phone_tokenizer: universal phone tokenizer (phone labels; see the module docstring).
        task_weights: :func:`~asr.losses.multitask.multitask_loss` weights
            (default :data:`~asr.losses.multitask.DEFAULT_WEIGHTS`).
        temperature: language sampling ``size^(1/T)``.
        init_from: a pre-trained model directory (multilingual or monolingual CTC):
            matching tensors are loaded, the rest keeps its fresh initialisation.
        policy: ``head``, ``top-k``, ``full`` or ``l2sp`` (:func:`asr.train.finetune.apply_policy`).
        k: encoder blocks trained by ``top-k``.
        l2sp_alpha: L2-SP strength (pull of ``frontend``/``encoder`` toward their starting
            values); used whenever > 0 (policy ``l2sp`` with 0 warns and trains like ``full``).
        init_rename: prefix renames of the pre-trained tensor names
            (:func:`~asr.models.pretrained.load_matching_state_dict`). With
            ``cfg.progressive`` and a non-progressive ``init_from``, ``encoder.`` is renamed
            ``encoder.source.`` as well: the pre-trained encoder becomes the frozen column.
        adversarial: domain-adversarial training against the training speakers: ``cfg.num_domains``
            is set to their count and the model's speaker head (behind gradient reversal)
            is trained with weight ``task_weights["domain"]``.

    Returns:
        The summary (also ``OUT/train_summary.json``): ``model_dir``, ``steps``, ``epochs``,
        ``params``, ``trainable_params``, ``languages``, ``dev`` (language -> ``{loss, wer,
        cer, utts}``), ``dev_loss``, ``dev_wer`` (mean over languages), ``train_utts``,
        ``train_utts_per_lang``, ``phone_labels``, ``dropped``, ``init`` (the load report
        or ``None``), ``policy``, ``wall_s``. A finished run returns its summary at once.
    """
    out = Path(out_dir)
    if (out / SUMMARY_JSON).is_file():
        log.info("%s: training already finished; delete %s to train again", out, SUMMARY_JSON)
        return json.loads((out / SUMMARY_JSON).read_text())
    if not manifests:
        raise ValueError("no training manifests")
    if policy == "l2sp" and l2sp_alpha <= 0:
        log.warning("policy l2sp with l2sp_alpha=%g: no pull toward the pre-trained weights", l2sp_alpha)
    if cfg.progressive and init_from is None:
        raise ValueError("a progressive column needs init_from: the pre-trained model of its frozen source column")
    ctx = setup(train_cfg.device)
    t0 = time.perf_counter()
    cfg = _resolve_config(cfg, list(manifests), tokenizers, phone_tokenizer)
    speaker_ids: dict[str, int] = {}
    if adversarial:
        speakers = sorted({u.speaker for m in manifests.values() for u in read_manifests(m)})
        if len(speakers) < 2:
            raise ValueError(f"adversarial training needs >= 2 training speakers, got {speakers}")
        speaker_ids = {s: i for i, s in enumerate(speakers)}
        cfg = dataclasses.replace(cfg, num_domains=len(speakers))
    if cfg.progressive and init_from is not None and not _is_progressive(init_from):
        init_rename = {**(init_rename or {}), "encoder.": "encoder.source."}
    weights = dict(task_weights or {})
    save_run_config(out, {
        "model": cfg.to_dict(),
        "train": train_cfg.to_dict(),
        "tokenizers": {lang: {"kind": t.kind, "vocab_size": t.vocab_size} for lang, t in sorted(tokenizers.items())},
        "phone_tokenizer": phone_tokenizer.vocab_size if phone_tokenizer is not None else None,
        "task_weights": weights,
        "temperature": temperature,
        "init_from": str(init_from) if init_from is not None else None,
        "policy": policy,
        "k": k,
        "l2sp_alpha": l2sp_alpha,
        "adversarial": adversarial,
        "world_size": ctx.world_size,
    }, ctx, fixed=("model", "tokenizers", "init_from", "policy", "k"))

    torch.manual_seed(train_cfg.seed)
    report: LoadReport | None = None
    if init_from is not None:
        model, report = from_pretrained(init_from, cfg, rename=init_rename)
    else:
        model = MultilingualCTC(cfg)
    trainable = apply_policy(model, policy, k)
    reference = reference_state(model) if l2sp_alpha > 0 else {}

    data = _init_data(manifests, dev, tokenizers, phone_tokenizer, model, train_cfg, ctx, temperature)
    data.sampler.set_epoch(0)
    total_steps = math.ceil(len(data.sampler) / train_cfg.grad_accum) * max(train_cfg.epochs, 1)
    if train_cfg.max_steps:
        total_steps = min(total_steps, train_cfg.max_steps)
    optimizer, scheduler = build_optimizer(model, train_cfg, total_steps=total_steps)
    metrics = MetricsLog(out / METRICS_CSV, enabled=ctx.is_main)
    state = resume_or_start(out / CHECKPOINTS, model, optimizer, scheduler, data, metrics, train_cfg, ctx,
                             fresh_cmvn=init_from is None)
    model.to(ctx.device)
    reference = {n: t.to(ctx.device) for n, t in reference.items()}
    ddp_model: nn.Module = model
    if ctx.distributed:
        device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        ddp_model = nn.parallel.DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=True)
    kept = {lang: t for lang, t in tokenizers.items() if lang in cfg.languages}
    run = MultiRun(ctx, train_cfg, out, model, ddp_model, optimizer, scheduler, data, kept, metrics,
                   state, weights, reference, l2sp_alpha, speaker_ids, total_steps)
    if ctx.is_main:
        per_lang = {lang: sum(u.lang == lang for u in data.train) for lang in manifests}
        log.info("training %s languages %s (%d utts, sampling %s), policy %s: %d of %d tensors trainable, %.2f M params",
                 len(manifests), per_lang, len(data.train),
                 {k_: round(v, 3) for k_, v in data.sampler.probabilities.items()}, policy, len(trainable),
                 len(list(model.parameters())), model.num_parameters() / 1e6)
    for epoch in range(state.epoch, train_cfg.epochs if train_cfg.epochs > 0 else 1 << 30):
        if train_cfg.max_steps and run.state.step >= train_cfg.max_steps:
            break
        _train_one_epoch(run, epoch)
        _end_epoch(run, epoch)
    summary = _finalize(run, report, policy, phone_tokenizer, wall_s=time.perf_counter() - t0)
    teardown(ctx)
    return summary


def _batch_loss(run: MultiRun, batch: dict[str, Any]) -> Tensor:
    """Multi-task loss of one batch (+ L2-SP); an all-skipped batch gives a connected zero."""
    device = run.ctx.device
    if not batch["ids"]:
        wav = torch.zeros(1, SAMPLE_RATE, device=device)
        lang = next(iter(run.data.dev_loaders), None) or run.data.train[0].lang
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=run.amp):
            out = run.ddp_model(wav, torch.tensor([SAMPLE_RATE], device=device), [lang])
        return sum(v.float().sum() for v in out["logits"].values()) * 0.0 + out["hidden"].float().sum() * 0.0
    wav, wav_lengths = batch["wav"].to(device), batch["wav_lengths"].to(device)
    domain_lambda = 1.0
    if run.speaker_ids:  # adversarial: speaker classes, reversal strength ramped up over the run
        batch["domains"] = torch.tensor([run.speaker_ids.get(s, -1) for s in batch["speakers"]], dtype=torch.long)
        domain_lambda = dann_lambda(min(run.state.step / max(run.total_steps, 1), 1.0))
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=run.amp):
        out = run.ddp_model(wav, wav_lengths, batch["langs"], domain_lambda=domain_lambda)
    loss, _ = multitask_loss(out, batch, run.weights, impl=run.cfg.ctc_impl)
    if run.l2sp_alpha > 0:
        loss = loss + l2sp_penalty(run.model, run.reference, run.l2sp_alpha)
    return loss


def _train_one_epoch(run: MultiRun, epoch: int) -> None:
    """One epoch of :func:`asr.train.loop.train_one_epoch` with the multi-task loss (frozen modules kept in eval)."""
    train_one_epoch(run, epoch, loss_fn=lambda batch: _batch_loss(run, batch), train_mode=lambda: set_train_mode(run.model))


def _evaluate_all(run: MultiRun) -> dict[str, dict[str, float]]:
    """Per-language dev ``{loss, wer, cer, utts}`` (greedy decoding), plus ``"all"``: loss
    weighted by utterances, WER/CER averaged over languages."""
    res = {}
    for lang, loader in run.data.dev_loaders.items():
        res[lang] = evaluate(LanguageView(run.model, lang), loader, run.tokenizers[lang], run.data.refs[lang],
                             run.ctx.device, run.amp)
    n = sum(r["utts"] for r in res.values())
    langs = [r for r in res.values() if r["utts"]]
    res["all"] = {
        "loss": sum(r["loss"] * r["utts"] for r in res.values()) / max(n, 1),
        "wer": sum(r["wer"] for r in langs) / max(len(langs), 1),
        "cer": sum(r["cer"] for r in langs) / max(len(langs), 1),
        "utts": n,
    }
    set_train_mode(run.model)
    return res


def _log_dev(run: MultiRun, res: dict[str, dict[str, float]], epoch: int, split: str) -> None:
    now = time.perf_counter() - run.t_start
    for lang, r in res.items():
        name = split if lang == "all" else f"{split}/{lang}"
        run.metrics.append(step=run.state.step, epoch=epoch, split=name, loss=r["loss"], wer=r["wer"], cer=r["cer"],
                           elapsed_s=now)
    run.state.metrics_rows = run.metrics.rows


def _end_epoch(run: MultiRun, epoch: int) -> None:
    """Validate every language; write the dev rows, the epoch checkpoint and (now and then) the curves."""
    ctx, state = run.ctx, run.state
    if ctx.is_main:
        res = _evaluate_all(run)
        _log_dev(run, res, epoch, "dev")
        log.info("epoch %d (update %d): dev %s", epoch, state.step,
                 ", ".join(f"{lang} loss {r['loss']:.3f} WER {100 * r['wer']:.1f}%" for lang, r in res.items()))
        if run.skipped.count:
            log.warning("%s", run.skipped)
        state.epoch_complete = True
        fold_loss(run)
        d = run.out / CHECKPOINTS
        ckpt.save_checkpoint(d / f"epoch-{epoch:03d}", run.model, run.optimizer, run.scheduler, {
            **dataclasses.asdict(state),
            "sampler": run.data.sampler.state_dict(batches_consumed=state.batches_consumed),
            "world_size": ctx.world_size,
        })
        ckpt.prune_checkpoints(d, "epoch-", max(run.cfg.average_last, 1))
        if time.perf_counter() - run.t_plot > PLOT_INTERVAL_S:
            plot_curves(run.out / METRICS_CSV, run.out / CURVES_PNG)
            run.t_plot = time.perf_counter()
    state.epoch_complete = True
    barrier(ctx)


def _finalize(
    run: MultiRun, report: LoadReport | None, policy: str, phone_tokenizer: Tokenizer | None, wall_s: float
) -> dict[str, Any]:
    """Average the last epoch checkpoints, evaluate, write ``OUT/model`` and the summary (rank 0)."""
    ctx, out, cfg = run.ctx, run.out, run.cfg
    summary_path = out / SUMMARY_JSON
    if ctx.is_main:
        epochs = ckpt.list_checkpoints(out / CHECKPOINTS, "epoch-")[-max(cfg.average_last, 1):]
        if len(epochs) > 1:
            averaged = ckpt.average_checkpoints(epochs)
            frozen = {n for n, p in run.model.named_parameters() if not p.requires_grad}
            current = run.model.state_dict()
            run.model.load_state_dict({n: current[n] if n in frozen else t for n, t in averaged.items()})
            log.info("final model: average of %s", ", ".join(p.name for p in epochs))
        res = _evaluate_all(run)
        _log_dev(run, res, run.state.epoch, "final")
        plot_curves(out / METRICS_CSV, out / CURVES_PNG)
        trainable = sum(p.numel() for p in run.model.parameters() if p.requires_grad)
        summary = {
            "model_dir": str(out / MODEL_DIR),
            "steps": run.state.step,
            "epochs": run.state.epoch + int(run.state.epoch_complete),
            "params": sum(p.numel() for p in run.model.parameters()),
            "trainable_params": trainable,
            "languages": list(run.model.languages),
            "averaged": [p.name for p in epochs],
            "dev": {lang: r for lang, r in res.items() if lang != "all"},
            "dev_loss": res["all"]["loss"],
            "dev_wer": res["all"]["wer"],
            "dev_cer": res["all"]["cer"],
            "train_utts": len(run.data.train),
            "train_utts_per_lang": {lang: sum(u.lang == lang for u in run.data.train)
                                    for lang in sorted({u.lang for u in run.data.train})},
            "train_hours": sum(u.duration for u in run.data.train) / 3600,
            "phone_labels": run.data.phone_labels,
            "dropped": run.data.dropped,
            "skipped": run.skipped.count,
            "init": None if report is None else {
                "loaded": len(report.loaded),
                "reinitialized": report.reinitialized,
                "unexpected": report.unexpected,
            },
            "policy": policy,
            "l2sp_alpha": run.l2sp_alpha,
            "adversarial_speakers": len(run.speaker_ids),
            "world_size": ctx.world_size,
            "wall_s": wall_s,
        }
        save_multilingual_dir(out / MODEL_DIR, run.model, run.tokenizers, phone_tokenizer,
                              extra={"training": summary})
        write_summary(summary_path, summary)
        log.info("final dev WER %.2f%% (mean over languages) -> %s", 100 * res["all"]["wer"], out / MODEL_DIR)
    barrier(ctx)
    return json.loads(summary_path.read_text())
