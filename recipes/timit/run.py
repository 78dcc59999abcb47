#!/usr/bin/env python3
"""Recipe for TIMIT (LDC93S1): phone recognition, phone error rate on the 39 folded phones.

Usage:
    python recipes/timit/run.py --corpus /data/TIMIT --exp exp/timit --stop-stage prepare

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/{train,dev,test}.jsonl (Kaldi's split: TRAIN, 50 dev speakers, 24-speaker core test;
              SA1/SA2 excluded unless ``include_sa: true``), id <SPK>_<UTT>, text = the words,
              ``phones61`` / ``phones`` (39-folded) per row; EXP/data/phones.61-39.map for scoring
    train, decode, score   not implemented yet: they stop with a message (see README.md)
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import write_splits
from asr.recipe import need_corpus, not_implemented, prepared, run_recipe

log = logging.getLogger("recipes.timit")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "the TIMIT directory of the LDC distribution (TRAIN/ and TEST/ inside), or its parent"


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    include_sa: bool = False  # the two dialect sentences every speaker reads


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Manifests under ``exp/data`` and the 61 -> 39 folding table ``phones.61-39.map``."""
    from asr.data.corpora.timit import FOLD_61_TO_39, read_timit

    if prepared(exp, force):
        return
    summary = write_splits(exp / "data", read_timit(need_corpus(corpus, CORPUS_HELP), include_sa=cfg.include_sa))
    (exp / "data" / "phones.61-39.map").write_text(
        "".join(f"{p61} {p39 or ''}".rstrip() + "\n" for p61, p39 in sorted(FOLD_61_TO_39.items())))
    for split, s in summary.items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


STAGE_FUNCS = {"prepare": prepare, "train": not_implemented("train"), "decode": not_implemented("decode"),
               "score": not_implemented("score")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
