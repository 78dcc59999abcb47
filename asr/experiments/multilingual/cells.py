"""The experiments' cells: one function each, returning the JSON of ``OUT/results/<cell>.json``.

Usage::

    cell = cell_finetune(inp, decoders, 10.0, "top-k")    # trains what it needs, then scores the target
    for name, fn in _cells(inp):                          # every configured cell, in running order
        result = fn(decoders)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from asr.data.manifest import read_manifest
from asr.experiments.multilingual.config import WORD_BOUNDARY, minutes_label
from asr.experiments.multilingual.data import Inputs, _write_lm
from asr.experiments.multilingual.evaluation import (
    Decoders,
    _refs,
    _train_info,
    decode_test,
    evaluate,
    greedy,
    score_subset,
)
from asr.experiments.multilingual.runs import (
    _run_dir,
    finetune_run_name,
    train_finetuned,
    train_meta,
    train_monolingual,
    train_sources,
)
from asr.text.normalize import normalize
from asr.text.tokenizer import PhoneTokenizer, load_tokenizer

__all__ = ["cell_scratch", "cell_joint", "cell_finetune", "cell_source", "cell_layers", "cell_progressive",
           "cell_adversarial", "cell_new_words", "cell_meta", "dev_curve", "steps_to_reach"]

log = logging.getLogger(__package__)  # one logger for the experiment package: asr.experiments.multilingual


def _target_cell(inp: Inputs, dec: Decoders, run: str, summary: Mapping[str, Any], minutes: float,
                 **extra: Any) -> dict[str, Any]:
    """A cell's JSON: the target's test scores of ``runs/<run>``, its training summary, the subset size."""
    return {"lang": inp.target, "minutes": minutes, "audio_minutes": inp.subset_minutes[minutes], "run": run,
            "train": _train_info(summary), **evaluate(inp, dec, run, inp.target, inp.target_lm(minutes)), **extra}


def cell_scratch(inp: Inputs, dec: Decoders, minutes: float) -> dict[str, Any]:
    """(a) the target from scratch at ``minutes``."""
    run = f"scratch-{minutes_label(minutes)}"
    summary = train_monolingual(inp, inp.target, inp.subsets[minutes], run)
    return _target_cell(inp, dec, run, summary, minutes)


def cell_joint(inp: Inputs, dec: Decoders, minutes: float) -> dict[str, Any]:
    """(b) joint training on the sources + the target subset; the target's scores."""
    summary = train_sources(inp, minutes)
    return _target_cell(inp, dec, f"joint-{minutes_label(minutes)}", summary, minutes)


def cell_finetune(inp: Inputs, dec: Decoders, minutes: float, policy: str) -> dict[str, Any]:
    """(c) the pre-trained model fine-tuned on the target subset with ``policy``."""
    run = finetune_run_name(policy, minutes)
    summary = train_finetuned(inp, minutes, policy)
    return _target_cell(inp, dec, run, summary, minutes, policy=policy)


def cell_source(inp: Inputs, dec: Decoders, lang: str, with_joint: bool) -> dict[str, Any]:
    """(d) one source language: its monolingual model vs the pre-trained (and joint) multilingual ones."""
    lm = inp.lms[lang]
    runs = {"mono": (f"mono-{lang}", train_monolingual(inp, lang, inp.train[lang], f"mono-{lang}")),
            "pretrained": ("pretrain", train_sources(inp))}
    if with_joint:
        transfer = inp.cfg.transfer_minutes
        runs["joint"] = (f"joint-{minutes_label(transfer)}", train_sources(inp, transfer))
    cell: dict[str, Any] = {"lang": lang}
    for key, (run, summary) in runs.items():
        cell[key] = {"run": run, "train": _train_info(summary), **evaluate(inp, dec, run, lang, lm)}
    for key in runs:
        if key != "mono":
            for metric in ("greedy", "lm"):
                base = cell["mono"][metric]["wer"]
                cell[key][metric]["rel_wer_change"] = (cell[key][metric]["wer"] - base) / base if base else None
    return cell


def cell_layers(inp: Inputs, dec: Decoders, k: int) -> dict[str, Any]:
    """(e) the first ``k`` encoder blocks from the pre-trained model, the rest fresh, at ``transfer_minutes``."""
    minutes = inp.cfg.transfer_minutes
    num_layers = inp.cfg.model_config().num_layers
    # k = num_layers copies everything: exactly the full fine-tuning run, reused
    run = finetune_run_name("full", minutes) if k == num_layers else f"layers-k{k}-{minutes_label(minutes)}"
    summary = train_finetuned(inp, minutes, "full", name=run, keep_layers=None if k == num_layers else k)
    return _target_cell(inp, dec, run, summary, minutes, k=k, num_layers=num_layers)


def cell_progressive(inp: Inputs, dec: Decoders) -> dict[str, Any]:
    """(f) a progressive column at ``transfer_minutes``, beside full (and head-only, when configured) fine-tuning."""
    minutes = inp.cfg.transfer_minutes
    run = f"progressive-{minutes_label(minutes)}"
    summary = train_finetuned(inp, minutes, "full", name=run, progressive=True)
    cell = _target_cell(inp, dec, run, summary, minutes)
    for policy in ("full", *(["head"] if "head" in inp.cfg.policies else [])):
        base = finetune_run_name(policy, minutes)
        cell[f"finetune/{policy}"] = _target_cell(inp, dec, base, train_finetuned(inp, minutes, policy), minutes)
    return cell


def cell_adversarial(inp: Inputs, dec: Decoders) -> dict[str, Any]:
    """(g) full fine-tuning with vs without the speaker-adversarial head, on unseen test speakers."""
    minutes = inp.cfg.transfer_minutes
    run = f"adversarial-{minutes_label(minutes)}"
    summary = train_finetuned(inp, minutes, "full", name=run, adversarial=True)
    base = finetune_run_name("full", minutes)
    train_speakers = {u.speaker for u in read_manifest(inp.subsets[minutes])}
    test_speakers = {u.speaker for u in read_manifest(inp.test[inp.target])}
    return _target_cell(inp, dec, run, summary, minutes,
                        baseline=_target_cell(inp, dec, base, train_finetuned(inp, minutes, "full"), minutes),
                        train_speakers=len(train_speakers), test_speakers=len(test_speakers),
                        test_speakers_seen_in_training=len(train_speakers & test_speakers),
                        adversarial_speakers=summary.get("adversarial_speakers"))


def cell_new_words(inp: Inputs, dec: Decoders) -> dict[str, Any] | None:
    """(h) sentences with words never in the training transcripts: character head vs universal phone head.

    The model is the full fine-tuning at ``transfer_minutes``. Decoders (all but greedy with
    lexicon + word trigram of the target's training text):

    * ``char-greedy``; ``char-lm``: the training vocabulary (it cannot output a new word);
    * ``char-g2p``: the G2P lexicon's vocabulary (training words + every test word, spelled in
      characters; the LM gives the new words its unigram back-off mass);
    * ``phone-g2p``: the same vocabulary spelled in phones (espeak-ng), through the universal
      phone head masked to the target's inventory.

    Returns ``None`` when the models have no phone head (``phone_weight == 0``).
    """
    if inp.cfg.phone_weight <= 0:
        log.info("new_words: phone_weight is 0, the models have no phone head; skipped")
        return None
    minutes = inp.cfg.transfer_minutes
    run = finetune_run_name("full", minutes)
    summary = train_finetuned(inp, minutes, "full")
    t0 = time.perf_counter()
    target, lexicon = inp.target, inp.lexicons[inp.target]
    model_dir = _run_dir(inp, run) / "model"
    char_tok = load_tokenizer(model_dir / "tokenizers" / target)
    phone_table = load_tokenizer(model_dir / "phone_tokenizer")
    phone_tok = PhoneTokenizer(lexicon, phone_table.table, WORD_BOUNDARY)  # the target's G2P lexicon, model's phones
    texts = [normalize(u.text, target) for u in read_manifest(inp.subsets[minutes])]
    g2p_lm = _write_lm(inp.out / "lm" / f"{target}-{minutes_label(minutes)}-g2p.arpa", texts, inp.cfg.lm_order,
                       vocab=lexicon.words())
    variants = {
        "char-greedy": ("char", greedy(char_tok)),
        "char-lm": ("char", dec.lexicon(char_tok, inp.target_lm(minutes))),
        "char-g2p": ("char", dec.lexicon(char_tok, g2p_lm)),
        "phone-g2p": ("phone", dec.lexicon(phone_tok, g2p_lm, words=lexicon.words())),
    }
    hyps = decode_test(model_dir, target, inp.test[target], variants)
    refs = _refs(inp.test[target], target)
    seen = inp.subset_words[minutes]
    new_ids = [i for i, r in refs.items() if any(w not in seen for w in r.split())]
    old_ids = [i for i in refs if i not in set(new_ids)]
    out: dict[str, Any] = {"lang": target, "minutes": minutes, "run": run, "train": _train_info(summary),
                           "new_word_sentences": len(new_ids), "other_sentences": len(old_ids),
                           "lexicon_words": len(lexicon), "training_words": len(seen)}
    for name, h in hyps.items():
        out[name] = {"new": score_subset(refs, h, new_ids), "other": score_subset(refs, h, old_ids),
                     "all": score_subset(refs, h)}
        new_words = {w for i in new_ids for w in refs[i].split() if w not in seen}
        out[name]["new_words_recognised"] = sum(
            1 for i in new_ids for w in set(refs[i].split()) & set(h[i].split()) if w in new_words)
    out["eval_s"] = round(time.perf_counter() - t0, 2)
    return out


def dev_curve(inp: Inputs, run: str) -> list[list[float]]:
    """``[[update, dev WER, dev CER], ...]`` of the target, one point per epoch of ``runs/<run>`` (greedy)."""
    from asr.train.metrics_log import read_metrics

    rows = read_metrics(_run_dir(inp, run) / "metrics.csv")
    return [[int(r["step"]), r["wer"], r["cer"]] for r in rows if r["split"] == f"dev/{inp.target}"]


def steps_to_reach(curve: list[list[float]], wer: float) -> int | None:
    """The first update at which ``curve``'s dev WER is at most ``wer`` (``None``: never)."""
    return next((int(step) for step, w, _ in curve if w <= wer + 1e-9), None)


def cell_meta(inp: Inputs, dec: Decoders, minutes: float, method: str) -> dict[str, Any]:
    """(i) an initialization meta-trained on the sources (Reptile or FOMAML, the pre-training's compute),
    fully fine-tuned on the target subset like the pre-trained model; beside that fine-tuning, the
    dev WER against fine-tuning updates of both and the updates this one needs to reach the other's final dev WER."""
    init = f"meta-{method}"
    run = finetune_run_name("full", minutes, init)
    summary = train_finetuned(inp, minutes, "full", init=init)
    base_run = finetune_run_name("full", minutes)
    base_summary = train_finetuned(inp, minutes, "full")
    curve, base = dev_curve(inp, run), dev_curve(inp, base_run)
    reach = steps_to_reach(curve, base[-1][1]) if base else None
    return _target_cell(inp, dec, run, summary, minutes, method=method,
                        meta_train=_train_info(train_meta(inp, method)), dev_curve=curve,
                        baseline={"run": base_run, "dev_curve": base, "steps": base_summary["steps"]},
                        steps_to_baseline_final=reach,
                        steps_ratio=None if reach is None or not base_summary["steps"] else
                        round(reach / base_summary["steps"], 3))


def _cells(inp: Inputs) -> list[tuple[str, Callable[[Decoders], dict[str, Any] | None]]]:
    """Every cell of the configured experiments, in running order: (name, function of the decoders)."""
    cfg, cells = inp.cfg, []
    ex = set(cfg.experiments)
    minutes = [float(m) for m in cfg.minutes]
    if "scratch" in ex:
        cells += [(f"scratch/{minutes_label(m)}", lambda d, m=m: cell_scratch(inp, d, m)) for m in minutes]
    if "joint" in ex:
        cells += [(f"joint/{minutes_label(m)}", lambda d, m=m: cell_joint(inp, d, m)) for m in minutes]
    if "finetune" in ex:
        cells += [(f"finetune/{p}/{minutes_label(m)}", lambda d, m=m, p=p: cell_finetune(inp, d, m, p))
                  for m in minutes for p in cfg.policies]
    if "sources" in ex:
        cells += [(f"sources/{lang}", lambda d, lang=lang: cell_source(inp, d, lang, "joint" in ex))
                  for lang in inp.sources]
    if "layers" in ex:
        ks = cfg.layer_ks or tuple(range(cfg.model_config().num_layers + 1))
        cells += [(f"layers/k{k}", lambda d, k=k: cell_layers(inp, d, k)) for k in ks]
    if "progressive" in ex:
        cells.append((f"progressive/{minutes_label(cfg.transfer_minutes)}", lambda d: cell_progressive(inp, d)))
    if "adversarial" in ex:
        cells.append((f"adversarial/{minutes_label(cfg.transfer_minutes)}", lambda d: cell_adversarial(inp, d)))
    if "new_words" in ex:
        cells.append((f"new_words/{minutes_label(cfg.transfer_minutes)}", lambda d: cell_new_words(inp, d)))
    if "meta" in ex:
        cells += [(f"meta/{method}/{minutes_label(m)}", lambda d, m=m, method=method: cell_meta(inp, d, m, method))
                  for method in cfg.meta_methods for m in minutes]
    return cells
