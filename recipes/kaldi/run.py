#!/usr/bin/env python3
"""Recipe for any Kaldi data directory (or a directory of them, one per split).

Usage:
    python recipes/kaldi/run.py --corpus kaldi/egs/x/s5/data --exp exp/x --stop-stage prepare   # data/{train,test,...}
    python recipes/kaldi/run.py --corpus data/train --exp exp/x --stop-stage prepare             # one dir: split "train"

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<split>.jsonl per data directory (split = its name); text normalized in ``lang``;
              relative wav.scp paths resolved against ``audio_root`` (default: the current directory, as Kaldi does)
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

log = logging.getLogger("recipes.kaldi")
HERE = Path(__file__).resolve().parent
STAGES = ("prepare", "train", "decode", "score")


def _need_corpus(corpus: Path | None) -> Path:
    if corpus is None:
        raise ValueError("the prepare stage needs --corpus PATH (a Kaldi data directory (wav.scp, text, utt2spk, optional segments), or a directory of them)")
    return corpus


def _done(exp: Path, force: bool) -> bool:
    if (exp / "data" / "summary.json").exists() and not force:
        log.info("prepare: %s exists, skipped (--force redoes it)", exp / "data" / "summary.json")
        return True
    return False


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    lang: str = "en"  # language of every utterance (normalization rules)
    audio_root: str = ""  # base of relative wav.scp paths; "" = the current directory


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """One manifest per Kaldi data directory under ``exp/data``."""
    import dataclasses

    from asr.data.kaldi import read_kaldi_dir
    from asr.text.normalize import normalize

    if _done(exp, force):
        return
    root = _need_corpus(corpus)
    dirs = [root] if (root / "wav.scp").is_file() else sorted(d for d in root.iterdir() if (d / "wav.scp").is_file())
    if not dirs:
        raise CorpusError(f"{root}: not a Kaldi data directory (no wav.scp), nor a directory of them")
    splits = {}
    for d in dirs:
        utts = read_kaldi_dir(d, lang=cfg.lang, audio_root=cfg.audio_root or None)
        splits[d.name] = [dataclasses.replace(u, text=normalize(u.text, cfg.lang)) for u in utts]
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
    p.add_argument("--corpus", type=Path, default=None, help="a Kaldi data directory (wav.scp, text, utt2spk, optional segments), or a directory of them")
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
