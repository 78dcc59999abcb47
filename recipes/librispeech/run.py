#!/usr/bin/env python3
"""Recipe for LibriSpeech and mini-LibriSpeech, read as openslr.org distributes them: both systems.

Usage:
    python recipes/librispeech/run.py --corpus /data --exp exp/librispeech                 # every stage, conf/default.yaml
    python recipes/librispeech/run.py --corpus /data --exp exp/mini --preset mini          # mini-LibriSpeech
    python recipes/librispeech/run.py --corpus /data --exp exp/librispeech --stop-stage prepare
    python recipes/librispeech/run.py --exp exp/librispeech --stage decode                 # from decode on

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<split>.jsonl for each split in the preset's ``splits``
              (ids as in the corpus, e.g. 1272-128104-0000; text lower case, no punctuation)
    train     EXP/lang/{lexicon.txt,lm.arpa} (the preset's dictionary, else espeak-ng G2P of the
              training words; the preset's ARPA, else a trigram of the training text), then the
              hybrid model (EXP/hybrid/model) and the CTC model (EXP/ctc/model)
    decode    every test split with every system -> EXP/<system>/hyp/..., EXP/decode.json
    score     WER / CER per system and test split -> EXP/results.json (``asr compare EXP``)
    report    EXP/report.md, results.png, results.csv

Training splits are the ``train*`` ones of ``splits`` (or ``train_splits``), the CTC model
validates on the first ``dev*`` one (``dev_split``), and every other split is a test set
(``test_splits``). Splits of the preset that the corpus lacks are left out with one warning
(without a dev split the first test split validates); prepare fails only when no training or
no test split is left. A stage whose outputs exist is skipped unless ``--force``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import prepared_splits, select_splits, write_splits
from asr.data.lang import prepare_lang
from asr.data.manifest import read_manifest, write_manifest
from asr.recipe import need_corpus, prepared, run_recipe, system_stages
from asr.systems import (
    Experiment,
    LangData,
    SystemsConfig,
    train_systems,
)

log = logging.getLogger("recipes.librispeech")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "the directory holding LibriSpeech/ (as unpacked from openslr.org/12 or /31)"
LANG = "en"


@dataclass(frozen=True)
class RecipeConfig(SystemsConfig):
    """The values of a preset (``conf/<preset>.yaml``); the systems' keys are :class:`asr.systems.SystemsConfig`'s."""

    splits: tuple[str, ...] = ("train-clean-100", "dev-clean", "dev-other", "test-clean", "test-other")
    train_splits: tuple[str, ...] = ()  # () = the train* splits
    dev_split: str = ""  # "" = the first dev* split (none prepared: the first test split)
    test_splits: tuple[str, ...] = ()  # () = every split that is not a training split

    def roles(self, prepared: Collection[str] | None = None,
              check: bool = True) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
        """``(training splits, validation split, test splits)`` among the ``prepared`` splits (``None``: all).

        The validation split is ``dev_split``, else the first dev* split, else (none prepared) the first test split.

        Raises:
            ValueError: no training or no test split (unless ``check`` is false).
        """
        def ok(split: str) -> bool:
            return prepared is None or split in prepared

        train = tuple(filter(ok, self.train_splits or (s for s in self.splits if s.startswith("train"))))
        tests = tuple(filter(ok, self.test_splits or (s for s in self.splits if s not in train)))
        devs = [self.dev_split] if self.dev_split else []
        dev = next(filter(ok, devs + [s for s in self.splits if s.startswith("dev")]), tests[0] if tests else "")
        for what, value in (("training", train), ("test", tests)):
            if check and not value:
                have = [s for s in self.splits if ok(s)]
                raise ValueError(f"no {what} split among splits {have}: the train stage needs train* and test "
                                 "splits (or train_splits / test_splits)")
        return train, dev, tests


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Read the preset's splits from ``corpus`` and write ``exp/data/<split>.jsonl``."""
    from asr.data.corpora.librispeech import find_root, present_splits, read_librispeech

    if prepared(exp, force):
        return
    root = find_root(need_corpus(corpus, CORPUS_HELP))
    train, _, tests = cfg.roles(check=False)
    kept = select_splits(root, cfg.splits, present_splits(root), train=train, test=tests)
    summary = write_splits(exp / "data", read_librispeech(root, kept))
    for split, s in summary.items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


def _train_manifest(cfg: RecipeConfig, exp: Path) -> Path:
    """The training manifest: the training split's, or ``data/train.jsonl`` (all of them) when there are several."""
    train, _, _ = cfg.roles(prepared_splits(exp / "data"))
    return exp / "data" / (f"{train[0]}.jsonl" if len(train) == 1 else "train.jsonl")


def experiment(cfg: RecipeConfig, exp: Path) -> Experiment:
    """Both systems on the preset's splits: one language, one hybrid model, one CTC model."""
    _, dev, tests = cfg.roles(prepared_splits(exp / "data"))
    data = exp / "data"
    lm = cfg.lm_for(LANG) or exp / "lang" / "lm.arpa"
    lang = LangData(name="", lang=LANG, train=_train_manifest(cfg, exp), dev=data / f"{dev}.jsonl",
                    tests={t: data / f"{t}.jsonl" for t in tests}, lexicon=exp / "lang" / "lexicon.txt",
                    hybrid_lm=lm, ctc_lm=lm)
    return Experiment(exp, (lang,), cfg.systems, cfg.hybrid, cfg.ctc_settings(), hybrid_max_utts=cfg.hybrid_max_utts)


def train(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Lexicon and word LM under ``exp/lang``, then every system (each skips or resumes what exists)."""
    xp = experiment(cfg, exp)
    splits, dev, _ = cfg.roles(prepared_splits(exp / "data"))
    if not dev.startswith("dev") and dev != cfg.dev_split:
        log.warning("no dev split prepared: the CTC model validates on the test split %s", dev)
    if len(splits) > 1:  # the hybrid system trains on one manifest
        write_manifest(xp.langs[0].train, [u for s in splits for u in read_manifest(exp / "data" / f"{s}.jsonl")])
    prepare_lang(exp / "lang", xp.langs[0].train, LANG, cfg.lexicon_for(LANG), cfg.lm_for(LANG), cfg.lm_order,
                 cfg.keep_stress, force)
    train_systems(xp, force)


STAGE_FUNCS = {"prepare": prepare, "train": train, **system_stages(experiment, "LibriSpeech recipe report")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
