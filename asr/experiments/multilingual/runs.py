"""The training runs of the experiments: each a :func:`~asr.train.multilingual.train_multilingual`
directory under ``OUT/runs`` (a finished one returns its summary at once, a killed one resumes).

Usage::

    summary = train_sources(inp)                    # runs/pretrain: the sources, from scratch
    summary = train_finetuned(inp, 10.0, "top-k")   # runs/ft-top-k-10min: pre-trained, fine-tuned on the target
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asr.experiments.multilingual.config import RUNS, minutes_label
from asr.experiments.multilingual.data import Inputs

__all__ = ["train_monolingual", "train_sources", "train_meta", "train_finetuned", "finetune_run_name"]


def _run_dir(inp: Inputs, name: str) -> Path:
    return inp.out / RUNS / name


def _weights(inp: Inputs, **extra: float) -> dict[str, float]:
    return {"phone": inp.cfg.phone_weight, **extra}


def _multilingual_config(inp: Inputs, langs: Sequence[str]) -> Any:
    """Structure of a pre-trained or joint model: one head per language, the universal phone head."""
    from asr.models.multilingual import MultilingualConfig

    with_phones = inp.cfg.phone_weight > 0
    return MultilingualConfig(
        base=inp.cfg.model_config(),
        languages=tuple(langs),
        vocab_sizes=tuple(inp.tokenizers[lang].vocab_size for lang in langs),
        num_phones=inp.phones.vocab_size if with_phones else 0,
        phone_inventories=tuple(inp.inventories[lang] for lang in langs) if with_phones else (),
        lang_id=inp.cfg.lang_id,
    )


def train_monolingual(inp: Inputs, lang: str, manifest: Path, name: str) -> dict[str, Any]:
    """A character CTC model of one language from scratch (no phone head) -> ``runs/<name>``."""
    from asr.models.multilingual import MultilingualConfig
    from asr.train.multilingual import train_multilingual

    kind = "scratch" if lang == inp.target else "source"
    cfg = MultilingualConfig(base=inp.cfg.model_config(), languages=(lang,),
                             vocab_sizes=(inp.tokenizers[lang].vocab_size,))
    return train_multilingual({lang: manifest}, {lang: inp.dev[lang]}, _run_dir(inp, name), cfg,
                              inp.cfg.train_config(kind), {lang: inp.tokenizers[lang]})


def train_sources(inp: Inputs, target_minutes: float | None = None) -> dict[str, Any]:
    """The model pre-trained on the sources (``runs/pretrain``), or, with ``target_minutes``, the
    joint model of the sources + that target subset (``runs/joint-<N>min``), from scratch."""
    from asr.train.multilingual import train_multilingual

    manifests: dict[str, Any] = dict(inp.train)
    name = "pretrain"
    if target_minutes is not None:
        manifests[inp.target] = inp.subsets[target_minutes]
        name = f"joint-{minutes_label(target_minutes)}"
    langs = list(manifests)
    phones = inp.phones if inp.cfg.phone_weight > 0 else None
    return train_multilingual(manifests, {lang: inp.dev[lang] for lang in langs}, _run_dir(inp, name),
                              _multilingual_config(inp, langs),
                              inp.cfg.train_config("source" if target_minutes is None else "joint"),
                              {lang: inp.tokenizers[lang] for lang in langs}, phone_tokenizer=phones,
                              task_weights=_weights(inp), temperature=inp.cfg.temperature)


def train_meta(inp: Inputs, method: str) -> dict[str, Any]:
    """An initialization meta-trained on the sources (``runs/meta-<method>``, :func:`asr.train.meta.meta_train`)
    with the pre-training's compute: as many forward/backward batches as ``runs/pretrain`` made updates."""
    from asr.train.meta import meta_train

    budget = int(train_sources(inp)["steps"])  # one batch per update (grad_accum 1 in the presets)
    probe = inp.cfg.meta_config(method, 1)
    meta = inp.cfg.meta_config(method, max(1, budget // probe.batches_per_step))
    langs = list(inp.train)
    phones = inp.phones if inp.cfg.phone_weight > 0 else None
    return meta_train(dict(inp.train), {lang: inp.dev[lang] for lang in langs}, _run_dir(inp, f"meta-{method}"),
                      _multilingual_config(inp, langs), inp.cfg.meta_train_config(method), meta,
                      {lang: inp.tokenizers[lang] for lang in langs}, phone_tokenizer=phones,
                      task_weights=_weights(inp))


def finetune_run_name(policy: str, minutes: float, init: str = "pretrain") -> str:
    """``ft-<policy>-<N>min`` (from ``runs/pretrain``), ``ft-<policy>-<init>-<N>min`` from another run."""
    return f"ft-{policy}-{minutes_label(minutes)}" if init == "pretrain" else f"ft-{policy}-{init}-{minutes_label(minutes)}"


def train_finetuned(
    inp: Inputs,
    minutes: float,
    policy: str = "full",
    name: str | None = None,
    keep_layers: int | None = None,
    progressive: bool = False,
    adversarial: bool = False,
    init: str = "pretrain",
) -> dict[str, Any]:
    """Fine-tune the pre-trained model on the target's ``minutes`` subset.

    Args:
        policy: ``head``, ``top-k``, ``full`` or ``l2sp``.
        name: run directory name (default :func:`finetune_run_name`).
        init: the starting run: ``pretrain`` or ``meta-<method>`` (:func:`train_meta`).
        keep_layers: layer transfer: copy only the first k encoder blocks, the rest fresh.
        progressive: a new encoder column beside the frozen pre-trained one.
        adversarial: add the gradient-reversal speaker classifier.
    """
    from asr.train.finetune import finetune_config
    from asr.train.finetune import layer_transfer_rename
    from asr.train.multilingual import train_multilingual

    pre = _run_dir(inp, init)
    if init == "pretrain":
        train_sources(inp)
    else:
        train_meta(inp, init.removeprefix("meta-"))
    cfg, tokenizers, phone_tokenizer, rename = finetune_config(pre / "model", inp.target, inp.tokenizers[inp.target])
    inventory = inp.inventories[inp.target] if cfg.num_phones else None
    cfg = cfg.with_language(inp.target, inp.tokenizers[inp.target].vocab_size, inventory)
    if keep_layers is not None:
        rename = {**rename, **layer_transfer_rename(cfg.base.num_layers, keep_layers)}
    if progressive:
        cfg = dataclasses.replace(cfg, progressive=True)
    weights = _weights(inp, domain=inp.cfg.adversarial_weight)
    return train_multilingual(
        {inp.target: inp.subsets[minutes]}, {inp.target: inp.dev[inp.target]},
        _run_dir(inp, name or finetune_run_name(policy, minutes, init)), cfg, inp.cfg.train_config("finetune"),
        tokenizers, phone_tokenizer=phone_tokenizer, task_weights=weights, init_from=pre / "model",
        init_rename=rename, policy=policy, k=inp.cfg.top_k if policy == "top-k" else 0,
        l2sp_alpha=inp.cfg.l2sp_alpha if policy == "l2sp" else 0.0, adversarial=adversarial,
    )
