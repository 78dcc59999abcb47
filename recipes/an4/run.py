#!/usr/bin/env python3
"""Recipe for CMU AN4 (census alphanumerics), the NIST SPHERE distribution.

Usage:
    python recipes/an4/run.py --corpus /data/an4 --exp exp/an4 --stop-stage prepare

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/{train,test}.jsonl; ids as in etc/an4_*.transcription, speaker from the fileids
    train, decode, score   not implemented yet: they stop with a message (see README.md)
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import write_splits
from asr.recipe import need_corpus, not_implemented, prepared, run_recipe

log = logging.getLogger("recipes.an4")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "the an4 directory of an4_sphere.tar.gz (etc/ and wav/ inside), or its parent"


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    dev_speakers: int = 0  # training speakers held out as EXP/data/dev.jsonl (0: none)


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """``exp/data/{train,test}.jsonl`` (and ``dev.jsonl``: the last ``dev_speakers`` training speakers, at most half of them)."""
    from asr.data.corpora.an4 import read_an4

    if prepared(exp, force):
        return
    splits = read_an4(need_corpus(corpus, CORPUS_HELP))
    spks = sorted({u.speaker for u in splits["train"]})
    n_dev = min(cfg.dev_speakers, len(spks) // 2)  # never more than half the training speakers
    if n_dev > 0:
        held = set(spks[-n_dev:])
        splits["dev"] = [u for u in splits["train"] if u.speaker in held]
        splits["train"] = [u for u in splits["train"] if u.speaker not in held]
    for split, s in write_splits(exp / "data", splits).items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


STAGE_FUNCS = {"prepare": prepare, "train": not_implemented("train"), "decode": not_implemented("decode"),
               "score": not_implemented("score")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
