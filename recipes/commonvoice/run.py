#!/usr/bin/env python3
"""Recipe for Mozilla Common Voice, one or several locales at once.

Usage:
    python recipes/commonvoice/run.py --corpus /data/cv-corpus-17.0-2024-03-15 --exp exp/cv --stop-stage prepare

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<locale>/{train,dev,test}.jsonl per locale of the preset's ``locales``, and
              EXP/data/{train,dev,test}.jsonl with all of them (the multilingual training set);
              utterance id = clip name without .mp3, speaker = client_id, lang = locale
    train, decode, score   not implemented yet: they stop with a message (see README.md)
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import write_splits
from asr.recipe import need_corpus, not_implemented, prepared, run_recipe

log = logging.getLogger("recipes.commonvoice")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "a cv-corpus-* directory, or the directory holding one or several of them"


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    locales: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
    splits: tuple[str, ...] = ("train", "dev", "test")


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Per-locale and pooled manifests under ``exp/data``."""
    from asr.data.corpora.commonvoice import read_commonvoice

    if prepared(exp, force):
        return
    per_locale = read_commonvoice(need_corpus(corpus, CORPUS_HELP), cfg.locales, cfg.splits)
    for locale, splits in per_locale.items():
        for split, s in write_splits(exp / "data" / locale, splits).items():
            log.info("%s/%s: %d utterances, %.2f h, %d speakers", locale, split, s["utts"], s["hours"], s["speakers"])
    write_splits(exp / "data", {split: [u for loc in cfg.locales for u in per_locale[loc][split]]
                                for split in cfg.splits})


STAGE_FUNCS = {"prepare": prepare, "train": not_implemented("train"), "decode": not_implemented("decode"),
               "score": not_implemented("score")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
