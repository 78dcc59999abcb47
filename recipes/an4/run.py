#!/usr/bin/env python3
"""Recipe for CMU AN4 (census alphanumerics), the NIST SPHERE distribution.

Usage:
    python recipes/an4/run.py --corpus /data/an4 --exp exp/an4 --stop-stage prepare

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/{train,test}.jsonl; ids as in etc/an4_*.transcription, speaker from the fileids
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

log = logging.getLogger("recipes.an4")
HERE = Path(__file__).resolve().parent
STAGES = ("prepare", "train", "decode", "score")


def _need_corpus(corpus: Path | None) -> Path:
    if corpus is None:
        raise ValueError("the prepare stage needs --corpus PATH (the an4 directory of an4_sphere.tar.gz (etc/ and wav/ inside), or its parent)")
    return corpus


def _done(exp: Path, force: bool) -> bool:
    if (exp / "data" / "summary.json").exists() and not force:
        log.info("prepare: %s exists, skipped (--force redoes it)", exp / "data" / "summary.json")
        return True
    return False


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    dev_speakers: int = 0  # training speakers held out as EXP/data/dev.jsonl (0: none)


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """``exp/data/{train,test}.jsonl`` (and ``dev.jsonl``: the last ``dev_speakers`` training speakers, at most half of them)."""
    from asr.data.corpora.an4 import read_an4

    if _done(exp, force):
        return
    splits = read_an4(_need_corpus(corpus))
    spks = sorted({u.speaker for u in splits["train"]})
    n_dev = min(cfg.dev_speakers, len(spks) // 2)  # never more than half the training speakers
    if n_dev > 0:
        held = set(spks[-n_dev:])
        splits["dev"] = [u for u in splits["train"] if u.speaker in held]
        splits["train"] = [u for u in splits["train"] if u.speaker not in held]
    for split, s in write_splits(exp / "data", splits).items():
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
    p.add_argument("--corpus", type=Path, default=None, help="the an4 directory of an4_sphere.tar.gz (etc/ and wav/ inside), or its parent")
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
