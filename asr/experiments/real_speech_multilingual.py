"""Does a real Spanish speaker gain from synthetic English, French and Italian? (experiment 4 of the Asterisk recipe)

The hybrid system's multilingual model shares everything but the words: one
phone inventory (espeak-ng's IPA symbols, the same symbol for the same sound in
every language, as Kaldi's multilingual Babel recipes pool their phone sets),
one HMM set and one frame classifier, trained on the synthetic speech of every
language of ``cfg.multi_langs`` at once. A word spelled alike in two languages
keeps both pronunciations (the alignment picks one).

For each target language of ``cfg.multi_targets`` the starting points are

* ``mono``    a model of the same recipe on the target's synthetic speech alone;
* ``pooled``  the multilingual model (the target's synthetic speech and every other
  language's);
* ``scratch`` no synthetic speech (the real minutes alone; not at 0 minutes);

each fine-tuned on ``cfg.multi_minutes`` of the real speaker's audio
(:func:`asr.train.hybrid.finetune_hybrid`; 0: none, the model decodes as it is, the
pooled one through the target's lexicon and LM) and tested on the real test set with
the target's domain LM.

Layout under ``EXP/multilingual``: ``synth/<lang>`` (each language's synthetic corpus,
text condition ``cfg.multi_condition``), ``lang/<lang>`` (lexicon and domain LM, as
:func:`asr.experiments.real_speech.make_lang`), ``pooled/`` (the pooled training set,
lexicon and model), ``<target>/mono`` and ``<target>/<N>min/results.json`` (variants
``hybrid-<start>``, each with ``train_hours``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asr.config import from_dict
from asr.data.manifest import read_manifest, subset_manifest, total_duration, write_manifest
from asr.experiments.real_speech import (
    MULTI_STARTS,
    REAL_TEST,
    RealData,
    TransferConfig,
    _decode_hybrid_run,
    make_lang,
    make_synthetic,
    size_dir,
)
from asr.systems import RESULTS_JSON, train_hybrid_system
from asr.text.lexicon import Lexicon

__all__ = ["STARTS", "pooled_lexicon", "make_multilingual_data", "run_multilingual"]

log = logging.getLogger(__name__)

STARTS = MULTI_STARTS


def pooled_lexicon(lexicons: Sequence[Lexicon]) -> Lexicon:
    """One lexicon of several languages: every word with every pronunciation any of them gives it."""
    out = Lexicon()
    for lex in lexicons:
        for w in lex:
            have = set(out.pronunciations(w)) if w in out else set()
            for p in lex.pronunciations(w):
                if p not in have:
                    out.add(w, p, lex.prob(w, p))
    return out


def make_multilingual_data(exp: Path, reals: Mapping[str, RealData], cfg: TransferConfig, jobs: int | None = None
                           ) -> dict[str, tuple[Path, Path, Path]]:
    """Each language's synthetic corpus and language resources: ``{lang: (train manifest, lexicon, LM)}``.

    Synthetic speech of ``cfg.multi_hours`` per language in the text condition ``cfg.multi_condition``
    (the ``prompts`` condition says the language's real training prompts), and the pooled training set
    and lexicon in ``EXP/multilingual/pooled``.
    """
    root = exp / "multilingual"
    scfg = dataclasses.replace(cfg, synth_hours=cfg.multi_hours)
    out: dict[str, tuple[Path, Path, Path]] = {}
    for lang, real in reals.items():
        train = make_synthetic(root / "synth" / lang, real, scfg, cfg.multi_condition, jobs=jobs)
        lexicon, lm = make_lang(root / "lang" / lang, real, [train], cfg.lm_order)
        out[lang] = (train, lexicon, lm)
    pooled = root / "pooled"
    pooled.mkdir(parents=True, exist_ok=True)
    utts = {lang: read_manifest(train) for lang, (train, _, _) in out.items()}
    lexicons = {lang: Lexicon.from_file(lexicon) for lang, (_, lexicon, _) in out.items()}
    write_manifest(pooled / "train.jsonl", [u for us in utts.values() for u in us])
    lex = pooled_lexicon(list(lexicons.values()))
    lex.to_file(pooled / "lexicon.txt", with_probs=lex.has_probs)
    info = {"langs": list(out), "lexicon_words": len(lex), "phones": len(lex.phones()),
            "phones_per_lang": {lang: len(x.phones()) for lang, x in lexicons.items()},
            "train_hours": {lang: round(total_duration(us) / 3600, 4) for lang, us in utts.items()}}
    (pooled / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    log.info("multilingual data: %s", info)
    return out


def _train(train: Path, lexicon: Path, model: Path, hybrid: Mapping[str, Any], dev: Path | None = None) -> float:
    """Train one hybrid model unless it exists; its training seconds (0 when it existed)."""
    t0 = time.perf_counter()
    exists = (model / "config.json").is_file()
    train_hybrid_system(train, dev, lexicon, model, hybrid)
    return 0.0 if exists else time.perf_counter() - t0


def run_multilingual(exp: Path, reals: Mapping[str, RealData], data: Mapping[str, tuple[Path, Path, Path]],
                     cfg: TransferConfig, force: bool = False) -> dict[str, Any]:
    """Every target language at every size from every starting point -> ``{target: {size: results}}``.

    Args:
        exp: the experiment directory.
        reals: the real speaker's manifests of every target language.
        data: :func:`make_multilingual_data`'s resources (every language of the pooled model).
        cfg: ``multi_targets``, ``multi_minutes``, ``multi_starts``, ``hybrid``, ``hybrid_finetune``.
        force: redo runs whose results exist.
    """
    from asr.models.hybrid import with_vocabulary
    from asr.train.hybrid import HybridFinetuneConfig, finetune_hybrid

    root = exp / "multilingual"
    ft_cfg = from_dict(HybridFinetuneConfig, cfg.hybrid_finetune, source="transfer.hybrid_finetune")
    pooled = root / "pooled" / "hybrid" / "model"
    pooled_s = _train(root / "pooled" / "train.jsonl", root / "pooled" / "lexicon.txt", pooled, cfg.hybrid) \
        if "pooled" in cfg.multi_starts else 0.0
    out: dict[str, Any] = {}
    for target in cfg.multi_targets:
        if target not in reals or target not in data:
            log.warning("multilingual: no real data for target %r, skipped", target)
            continue
        real, (synth, lexicon, lm) = reals[target], data[target]
        mono = root / target / "mono" / "hybrid" / "model"
        mono_s = _train(synth, lexicon, mono, cfg.hybrid) if "mono" in cfg.multi_starts else 0.0
        inits = {"pooled": (pooled, pooled_s, sorted(data)), "mono": (mono, mono_s, [target]), "scratch": (None, 0.0, [])}
        out[target] = {}
        for minutes in cfg.multi_minutes:
            size = size_dir(root / target, minutes)
            if (size / RESULTS_JSON).is_file() and not force:
                out[target][size.name] = json.loads((size / RESULTS_JSON).read_text())
                continue
            subset = subset_manifest(real.train, size / "train.jsonl", max_hours=minutes / 60, seed=cfg.seed) \
                if minutes else None
            hours = total_duration(read_manifest(subset)) / 3600 if subset else 0.0
            results: dict[str, Any] = {}
            for start in cfg.multi_starts:
                init, pre_s, sources = inits[start]
                model, t0 = size / start / "hybrid" / "model", time.perf_counter()
                if init is None:  # scratch: the real minutes alone
                    if subset is None:
                        continue
                    _train(subset, lexicon, model, cfg.hybrid, dev=real.dev)
                elif subset is None and start == "pooled":
                    with_vocabulary(init, model, lexicon, lm)  # its phones, the target's words and LM
                elif subset is None:
                    model = init
                elif not (model / "config.json").is_file() or force:
                    finetune_hybrid(init, subset, real.dev, model, lexicon, ft_cfg)
                train_s = pre_s + time.perf_counter() - t0
                entry = _decode_hybrid_run(model, real, lm, train_s, {"start": start, "sources": sources})
                results[f"hybrid-{start}"] = {REAL_TEST: {**entry, "train_hours": round(hours, 4)}}
            size.mkdir(parents=True, exist_ok=True)
            (size / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
            out[target][size.name] = results
    return out
