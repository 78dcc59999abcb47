#!/usr/bin/env python3
"""Recipe for LibriSpeech and mini-LibriSpeech, read as openslr.org distributes them.

Usage:
    python recipes/librispeech/run.py --corpus /data --exp exp/librispeech --stop-stage prepare
    python recipes/librispeech/run.py --corpus /data --exp exp/mini --preset mini --stop-stage prepare

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<split>.jsonl for each split in the preset's ``splits``
              (ids as in the corpus, e.g. 1272-128104-0000; text lower case, no punctuation)
    train, decode, score   not implemented yet: they stop with a message (see README.md)
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import write_splits
from asr.recipe import need_corpus, not_implemented, prepared, run_recipe

log = logging.getLogger("recipes.librispeech")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "the directory holding LibriSpeech/ (as unpacked from openslr.org/12 or /31)"


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    splits: tuple[str, ...] = ("train-clean-100", "dev-clean", "dev-other", "test-clean", "test-other")


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Read the preset's splits from ``corpus`` and write ``exp/data/<split>.jsonl``."""
    from asr.data.corpora.librispeech import read_librispeech

    if prepared(exp, force):
        return
    summary = write_splits(exp / "data", read_librispeech(need_corpus(corpus, CORPUS_HELP), cfg.splits))
    for split, s in summary.items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


STAGE_FUNCS = {"prepare": prepare, "train": not_implemented("train"), "decode": not_implemented("decode"),
               "score": not_implemented("score")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
