#!/usr/bin/env python3
"""Recipe for Mozilla Common Voice, one or several locales at once: both systems, each locale scored on its own.

Usage:
    python recipes/commonvoice/run.py --corpus /data/cv-corpus-17.0-2024-03-15 --exp exp/cv          # every stage
    python recipes/commonvoice/run.py --corpus /data/cv-corpus-17.0-2024-03-15 --exp exp/cv --stop-stage prepare
    python recipes/commonvoice/run.py --exp exp/cv --stage report

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<locale>/{train,dev,test}.jsonl per locale of the preset's ``locales``, and
              EXP/data/{train,dev,test}.jsonl with all of them (the multilingual training set);
              utterance id = clip name without .mp3, speaker = client_id, lang = locale
    train     per locale EXP/lang/<locale>/{lexicon.txt,lm.arpa} (the preset's ``lexicon`` /
              ``lm``, ``{lang}`` standing for the locale, else espeak-ng G2P of the training words
              and a trigram of the training text); one hybrid model per locale
              (EXP/hybrid/<locale>/model) and one CTC model for all locales (EXP/ctc/model,
              characters or BPE of every locale, trained on the pooled manifests)
    decode    each locale's test set with every system (the CTC lexicon decoder with that locale's LM)
    score     WER / CER per system and locale -> EXP/results.json (test sets named by locale)
    report    EXP/report.md, results.png, results.csv

``max_train_hours`` caps each locale's training data (a random subset, the same for both systems).
A locale whose dev.tsv is missing or empty is validated on its test set (one warning at prepare);
prepare fails, naming the locale's directory, when its train or test split is missing.
"""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import prepared_splits, select_splits, write_splits
from asr.data.lang import prepare_lang
from asr.data.manifest import read_manifest, subset_manifest, write_manifest
from asr.recipe import need_corpus, prepared, run_recipe, system_stages
from asr.systems import (
    Experiment,
    LangData,
    SystemsConfig,
    train_systems,
)

log = logging.getLogger("recipes.commonvoice")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "a cv-corpus-* directory, or the directory holding one or several of them"


@dataclass(frozen=True)
class RecipeConfig(SystemsConfig):
    """The values of a preset (``conf/<preset>.yaml``); the systems' keys are :class:`asr.systems.SystemsConfig`'s."""

    locales: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
    splits: tuple[str, ...] = ("train", "dev", "test")
    max_train_hours: float = 0.0  # per locale; 0 = all of train.tsv


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Per-locale and pooled manifests under ``exp/data``."""
    from asr.data.corpora.commonvoice import find_locales, read_commonvoice

    if prepared(exp, force):
        return
    corpus = need_corpus(corpus, CORPUS_HELP)
    per_locale = read_commonvoice(corpus, cfg.locales, cfg.splits)
    locale_dirs = find_locales(corpus)
    for locale, found in per_locale.items():  # a missing or empty tsv: that split is left out (dev) or fails
        kept = select_splits(locale_dirs[locale], cfg.splits, [s for s, utts in found.items() if utts],
                             train=["train"], test=["test"])
        per_locale[locale] = {s: found[s] for s in kept}
        for split, s in write_splits(exp / "data" / locale, per_locale[locale]).items():
            log.info("%s/%s: %d utterances, %.2f h, %d speakers", locale, split, s["utts"], s["hours"], s["speakers"])
    pooled = {split: [u for loc in cfg.locales for u in per_locale[loc].get(split, [])] for split in cfg.splits}
    write_splits(exp / "data", {split: utts for split, utts in pooled.items() if utts})


def _check_splits(cfg: RecipeConfig) -> None:
    missing = [s for s in ("train", "test") if s not in cfg.splits]
    if missing:
        raise ValueError(f"splits {list(cfg.splits)}: the train stage needs train and test (missing {missing})")


def _dev(cfg: RecipeConfig, data: Path) -> Path:
    """``data/dev.jsonl``, or ``data/test.jsonl`` when the corpus had no dev split there."""
    return data / ("dev.jsonl" if "dev" in (prepared_splits(data) or cfg.splits) else "test.jsonl")


def _train_manifest(cfg: RecipeConfig, exp: Path, locale: str) -> Path:
    """The locale's training manifest: ``train.jsonl``, or ``train_capped.jsonl`` under ``max_train_hours``."""
    return exp / "data" / locale / ("train_capped.jsonl" if cfg.max_train_hours else "train.jsonl")


def experiment(cfg: RecipeConfig, exp: Path) -> Experiment:
    """One hybrid model per locale, one CTC model over all of them; one test set per locale."""
    _check_splits(cfg)
    langs = []
    for loc in cfg.locales:
        lm = cfg.lm_for(loc) or exp / "lang" / loc / "lm.arpa"
        langs.append(LangData(name=loc, lang=loc, train=_train_manifest(cfg, exp, loc),
                              dev=_dev(cfg, exp / "data" / loc), tests={loc: exp / "data" / loc / "test.jsonl"},
                              lexicon=exp / "lang" / loc / "lexicon.txt", hybrid_lm=lm, ctc_lm=lm))
    pooled_train = exp / "data" / ("train_capped.jsonl" if cfg.max_train_hours else "train.jsonl")
    return Experiment(exp, tuple(langs), cfg.systems, cfg.hybrid, cfg.ctc_settings(), ctc_train=(pooled_train,),
                      ctc_dev=_dev(cfg, exp / "data"), hybrid_max_utts=cfg.hybrid_max_utts)


def train(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Per locale a lexicon and a word LM under ``exp/lang/<locale>``, then every system."""
    xp = experiment(cfg, exp)
    no_dev = [lang.name for lang in xp.langs if lang.dev.stem == "test"]
    if no_dev:
        log.warning("no dev split for %s: %s test set validates (the CTC model: %s)", ", ".join(no_dev),
                    "its" if len(no_dev) == 1 else "their", xp.ctc_dev.relative_to(exp))
    if cfg.max_train_hours:
        capped = []
        for lang in xp.langs:
            full = exp / "data" / lang.name / "train.jsonl"
            if subset_manifest(full, lang.train, max_hours=cfg.max_train_hours) == full:  # under the cap already
                shutil.copyfile(full, lang.train)
            capped += read_manifest(lang.train)
        write_manifest(xp.ctc_train[0], capped)
    for lang in xp.langs:
        prepare_lang(exp / "lang" / lang.name, lang.train, lang.lang, cfg.lexicon_for(lang.lang), cfg.lm_for(lang.lang),
                     cfg.lm_order, cfg.keep_stress, force)
    train_systems(xp, force)


def _title(cfg: RecipeConfig, exp: Path) -> str:
    return f"Common Voice recipe report ({', '.join(cfg.locales)})"


NOTES = ["Test sets are locales; the `all` row pools them (weighted by words). One hybrid model per locale "
         "(params summed over locales), one CTC model for all."]


STAGE_FUNCS = {"prepare": prepare, "train": train, **system_stages(experiment, _title, NOTES)}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
