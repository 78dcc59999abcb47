#!/usr/bin/env python3
"""Recipe for CMU AN4 (census alphanumerics), the NIST SPHERE distribution: both systems.

Usage:
    python recipes/an4/run.py --corpus /data/an4 --exp exp/an4                      # every stage, conf/default.yaml
    python recipes/an4/run.py --corpus /data/an4 --exp exp/an4 --stop-stage prepare
    python recipes/an4/run.py --exp exp/an4 --stage score                           # re-score and report

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/{train,dev,test}.jsonl; ids as in etc/an4_*.transcription, speaker from the fileids;
              the corpus's pronunciation dictionary etc/an4.dic copied to EXP/data/an4.dic
    train     EXP/lang/{lexicon.txt,lm.arpa} (the preset's ``lexicon``, else EXP/data/an4.dic, else
              espeak-ng G2P; a trigram of the training text unless ``lm`` is given), then the hybrid
              model (EXP/hybrid/model) and the CTC model (EXP/ctc/model)
    decode    the test set with every system -> EXP/decode.json
    score     WER / CER -> EXP/results.json (``asr compare EXP``)
    report    EXP/report.md, results.png, results.csv

AN4 has two splits and the recipe needs both: prepare fails, naming the corpus, when
etc/an4_train.* or etc/an4_test.* is missing.
"""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import select_splits, write_splits
from asr.data.lang import prepare_lang
from asr.recipe import need_corpus, prepared, run_recipe, system_stages
from asr.systems import (
    Experiment,
    LangData,
    SystemsConfig,
    train_systems,
)

log = logging.getLogger("recipes.an4")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "the an4 directory of an4_sphere.tar.gz (etc/ and wav/ inside), or its parent"
LANG = "en"


@dataclass(frozen=True)
class RecipeConfig(SystemsConfig):
    """The values of a preset (``conf/<preset>.yaml``); the systems' keys are :class:`asr.systems.SystemsConfig`'s."""

    dev_speakers: int = 0  # training speakers held out as EXP/data/dev.jsonl (0: none; the test set validates)


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """``exp/data/{train,test}.jsonl`` (and ``dev.jsonl``: the last ``dev_speakers`` training speakers, at most half of them)."""
    from asr.data.corpora.an4 import SPLITS, find_root, present_splits, read_an4

    if prepared(exp, force):
        return
    root = find_root(need_corpus(corpus, CORPUS_HELP))
    splits = read_an4(root, select_splits(root, SPLITS, present_splits(root), train=["train"], test=["test"]))
    spks = sorted({u.speaker for u in splits["train"]})
    n_dev = min(cfg.dev_speakers, len(spks) // 2)  # never more than half the training speakers
    if n_dev > 0:
        held = set(spks[-n_dev:])
        splits["dev"] = [u for u in splits["train"] if u.speaker in held]
        splits["train"] = [u for u in splits["train"] if u.speaker not in held]
    for split, s in write_splits(exp / "data", splits).items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])
    if (root / "etc" / "an4.dic").is_file():
        shutil.copyfile(root / "etc" / "an4.dic", exp / "data" / "an4.dic")


def experiment(cfg: RecipeConfig, exp: Path) -> Experiment:
    """Both systems on AN4: one hybrid model, one CTC model, the test set."""
    data = exp / "data"
    dev = data / "dev.jsonl" if (data / "dev.jsonl").exists() else data / "test.jsonl"
    lm = cfg.lm_for(LANG) or exp / "lang" / "lm.arpa"
    lang = LangData(name="", lang=LANG, train=data / "train.jsonl", dev=dev, tests={"test": data / "test.jsonl"},
                    lexicon=exp / "lang" / "lexicon.txt", hybrid_lm=lm, ctc_lm=lm)
    return Experiment(exp, (lang,), cfg.systems, cfg.hybrid, cfg.ctc_settings(), hybrid_max_utts=cfg.hybrid_max_utts)


def train(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Lexicon and word LM under ``exp/lang``, then every system (each skips or resumes what exists)."""
    xp = experiment(cfg, exp)
    if xp.langs[0].dev.name == "test.jsonl":
        log.warning("no dev set (dev_speakers: 0): the test set validates the CTC model")
    dictionary = cfg.lexicon_for(LANG) or (exp / "data" / "an4.dic" if (exp / "data" / "an4.dic").exists() else None)
    prepare_lang(exp / "lang", xp.langs[0].train, LANG, dictionary, cfg.lm_for(LANG), cfg.lm_order, cfg.keep_stress,
                 force)
    train_systems(xp, force)


STAGE_FUNCS = {"prepare": prepare, "train": train, **system_stages(experiment, "AN4 recipe report")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
