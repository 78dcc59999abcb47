#!/usr/bin/env python3
"""Recipe for any Kaldi data directory (or a directory of them, one per split): both systems.

Usage:
    python recipes/kaldi/run.py --corpus kaldi/egs/x/s5/data --exp exp/x                        # data/{train,dev,test}
    python recipes/kaldi/run.py --corpus kaldi/egs/x/s5/data --exp exp/x --stop-stage prepare
    python recipes/kaldi/run.py --corpus data/train --exp exp/x --stop-stage prepare          # one dir: split "train"
    python recipes/kaldi/run.py --exp exp/x --stage decode

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<split>.jsonl per data directory (split = its name); text normalized in ``lang``;
              relative wav.scp paths resolved against ``audio_root`` (default: the current directory, as Kaldi does)
    train     EXP/lang/{lexicon.txt,lm.arpa} (``lexicon``: e.g. the recipe's data/local/dict/lexicon.txt,
              else espeak-ng G2P of the training words; ``lm``, else a trigram of the training text),
              then the hybrid model (EXP/hybrid/model) and the CTC model (EXP/ctc/model)
    decode    every test split with every system -> EXP/decode.json
    score     WER / CER per system and test split -> EXP/results.json (``asr compare EXP``)
    report    EXP/report.md, results.png, results.csv

The training split is ``train_split``; the CTC model validates on ``dev_split`` (default: the
split named dev, else the first test split); test splits are ``test_splits`` (default: every
split but the training one). Named splits the corpus lacks are left out with one warning; with
a directory of data directories, prepare fails when the training split or every test split is
missing (one data directory is just converted). Utterances of a ``segments`` file are read
from their recordings (offset and duration), not cut into files.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from asr.data.corpora import CorpusError, select_splits, write_splits
from asr.data.lang import prepare_lang
from asr.recipe import need_corpus, prepared, run_recipe, system_stages
from asr.systems import (
    Experiment,
    LangData,
    SystemsConfig,
    train_systems,
)

log = logging.getLogger("recipes.kaldi")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "a Kaldi data directory (wav.scp, text, utt2spk, optional segments), or a directory of them"


@dataclass(frozen=True)
class RecipeConfig(SystemsConfig):
    """The values of a preset (``conf/<preset>.yaml``); the systems' keys are :class:`asr.systems.SystemsConfig`'s."""

    lang: str = "en"  # language of every utterance (normalization rules, espeak-ng voice)
    audio_root: str = ""  # base of relative wav.scp paths; "" = the current directory
    train_split: str = "train"
    dev_split: str = ""  # "" = "dev" if prepared, else the first test split
    test_splits: tuple[str, ...] = ()  # () = every prepared split but train_split


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
    if dirs != [root]:  # a directory of splits: the named ones it lacks are left out, with one warning
        names = [d.name for d in dirs]
        tests = list(cfg.test_splits) or [n for n in names if n != cfg.train_split] or ["test"]
        wanted = [s for s in dict.fromkeys((cfg.train_split, cfg.dev_split, *tests)) if s]
        select_splits(root, wanted, names, train=[cfg.train_split], test=tests)
    splits = {}
    for d in dirs:
        utts = read_kaldi_dir(d, lang=cfg.lang, audio_root=cfg.audio_root or None)
        splits[d.name] = [dataclasses.replace(u, text=normalize(u.text, cfg.lang)) for u in utts]
    for split, s in write_splits(exp / "data", splits).items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


def experiment(cfg: RecipeConfig, exp: Path) -> Experiment:
    """Both systems on the prepared splits: one hybrid model, one CTC model.

    Raises:
        FileNotFoundError: the training split (or a named dev / test split) was not prepared.
    """
    data = exp / "data"
    prepared_splits = sorted(p.stem for p in data.glob("*.jsonl"))
    if cfg.train_split not in prepared_splits:
        raise FileNotFoundError(f"{data / cfg.train_split}.jsonl (train_split): not prepared; the prepared splits are "
                                f"{prepared_splits} (run prepare, or set train_split)")
    # named test / dev splits the corpus lacks are left out (prepare warned about them)
    tests = tuple(s for s in cfg.test_splits or prepared_splits if s in prepared_splits and s != cfg.train_split)
    if not tests:
        raise ValueError(f"{data}: no test split besides {cfg.train_split!r}")
    dev = next((s for s in (cfg.dev_split, "dev") if s in prepared_splits), tests[0])
    lm = cfg.lm_for(cfg.lang) or exp / "lang" / "lm.arpa"
    lang = LangData(name="", lang=cfg.lang, train=data / f"{cfg.train_split}.jsonl", dev=data / f"{dev}.jsonl",
                    tests={t: data / f"{t}.jsonl" for t in tests}, lexicon=exp / "lang" / "lexicon.txt",
                    hybrid_lm=lm, ctc_lm=lm)
    return Experiment(exp, (lang,), cfg.systems, cfg.hybrid, cfg.ctc_settings(), hybrid_max_utts=cfg.hybrid_max_utts)


def train(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Lexicon and word LM under ``exp/lang``, then every system (each skips or resumes what exists)."""
    xp = experiment(cfg, exp)
    if xp.langs[0].dev.stem not in (cfg.dev_split, "dev"):
        log.warning("no dev split prepared: the CTC model validates on the test split %s", xp.langs[0].dev.stem)
    prepare_lang(exp / "lang", xp.langs[0].train, cfg.lang, cfg.lexicon_for(cfg.lang), cfg.lm_for(cfg.lang),
                 cfg.lm_order, cfg.keep_stress, force)
    train_systems(xp, force)


STAGE_FUNCS = {"prepare": prepare, "train": train,
               **system_stages(experiment, lambda cfg, exp: f"Kaldi data recipe report ({exp.name})")}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
