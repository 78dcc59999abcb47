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

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import write_splits
from asr.recipe import need_corpus, not_implemented, prepared, run_recipe

log = logging.getLogger("recipes.kaldi")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "a Kaldi data directory (wav.scp, text, utt2spk, optional segments), or a directory of them"


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

    if prepared(exp, force):
        return
    root = need_corpus(corpus, CORPUS_HELP)
    dirs = [root] if (root / "wav.scp").is_file() else sorted(d for d in root.iterdir() if (d / "wav.scp").is_file())
    if not dirs:
        raise CorpusError(f"{root}: not a Kaldi data directory (no wav.scp), nor a directory of them")
    splits = {}
    for d in dirs:
        utts = read_kaldi_dir(d, lang=cfg.lang, audio_root=cfg.audio_root or None)
        splits[d.name] = [dataclasses.replace(u, text=normalize(u.text, cfg.lang)) for u in utts]
    for split, s in write_splits(exp / "data", splits).items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


STAGE_FUNCS = {"prepare": prepare, "train": not_implemented("train"), "decode": not_implemented("decode"),
               "score": not_implemented("score")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
