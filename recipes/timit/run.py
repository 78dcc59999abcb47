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

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.audio import AudioError
from asr.config import load_config
from asr.data.corpora import CorpusError, write_splits

log = logging.getLogger("recipes.timit")
HERE = Path(__file__).resolve().parent
STAGES = ("prepare", "train", "decode", "score")


def _need_corpus(corpus: Path | None) -> Path:
    if corpus is None:
        raise ValueError("the prepare stage needs --corpus PATH (the TIMIT directory of the LDC distribution (TRAIN/ and TEST/ inside), or its parent)")
    return corpus


def _done(exp: Path, force: bool) -> bool:
    if (exp / "data" / "summary.json").exists() and not force:
        log.info("prepare: %s exists, skipped (--force redoes it)", exp / "data" / "summary.json")
        return True
    return False


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    include_sa: bool = False  # the two dialect sentences every speaker reads


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Manifests under ``exp/data`` and the 61 -> 39 folding table ``phones.61-39.map``."""
    from asr.data.corpora.timit import FOLD_61_TO_39, read_timit

    if _done(exp, force):
        return
    summary = write_splits(exp / "data", read_timit(_need_corpus(corpus), include_sa=cfg.include_sa))
    (exp / "data" / "phones.61-39.map").write_text(
        "".join(f"{p61} {p39 or ''}".rstrip() + "\n" for p61, p39 in sorted(FOLD_61_TO_39.items())))
    for split, s in summary.items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


def not_implemented(stage: str):
    """A stage this recipe does not have yet: fails with a message saying so."""

    def run(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
        raise NotImplementedError(
            f"stage {stage!r} is not implemented in this recipe yet (only 'prepare' is); "
            f"run with --stop-stage prepare, then train on {exp}/data/*.jsonl with 'asr train' (see README.md)")

    return run


STAGE_FUNCS = {"prepare": prepare, "train": not_implemented("train"), "decode": not_implemented("decode"),
               "score": not_implemented("score")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=None, help="the TIMIT directory of the LDC distribution (TRAIN/ and TEST/ inside), or its parent")
    p.add_argument("--exp", type=Path, required=True, help="experiment directory (everything goes here)")
    p.add_argument("--preset", default="default", help="conf/<preset>.yaml")
    p.add_argument("--config", type=Path, default=None, help="a config file instead of a preset")
    p.add_argument("--stage", choices=STAGES, default=STAGES[0])
    p.add_argument("--stop-stage", choices=STAGES, default=STAGES[-1])
    p.add_argument("--force", action="store_true", help="redo stages whose outputs exist")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(RecipeConfig, args.config or HERE / "conf" / f"{args.preset}.yaml")
        args.exp.mkdir(parents=True, exist_ok=True)
        first, last = STAGES.index(args.stage), STAGES.index(args.stop_stage)
        for name in STAGES[first : last + 1]:
            log.info("stage %s", name)
            STAGE_FUNCS[name](cfg, args.exp, args.corpus, force=args.force)
    except (CorpusError, AudioError, ValueError, FileNotFoundError, NotImplementedError) as e:
        print(f"{Path(__file__).parent.name}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
