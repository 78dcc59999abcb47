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

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.audio import AudioError
from asr.config import load_config
from asr.data.corpora import CorpusError, write_splits

log = logging.getLogger("recipes.commonvoice")
HERE = Path(__file__).resolve().parent
STAGES = ("prepare", "train", "decode", "score")


def _need_corpus(corpus: Path | None) -> Path:
    if corpus is None:
        raise ValueError("the prepare stage needs --corpus PATH (a cv-corpus-* directory, or the directory holding one or several of them)")
    return corpus


def _done(exp: Path, force: bool) -> bool:
    if (exp / "data" / "summary.json").exists() and not force:
        log.info("prepare: %s exists, skipped (--force redoes it)", exp / "data" / "summary.json")
        return True
    return False


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    locales: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
    splits: tuple[str, ...] = ("train", "dev", "test")


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Per-locale and pooled manifests under ``exp/data``."""
    from asr.data.corpora.commonvoice import read_commonvoice

    if _done(exp, force):
        return
    per_locale = read_commonvoice(_need_corpus(corpus), cfg.locales, cfg.splits)
    for locale, splits in per_locale.items():
        for split, s in write_splits(exp / "data" / locale, splits).items():
            log.info("%s/%s: %d utterances, %.2f h, %d speakers", locale, split, s["utts"], s["hours"], s["speakers"])
    write_splits(exp / "data", {split: [u for loc in cfg.locales for u in per_locale[loc][split]]
                                for split in cfg.splits})


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
    p.add_argument("--corpus", type=Path, default=None, help="a cv-corpus-* directory, or the directory holding one or several of them")
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
