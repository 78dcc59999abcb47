#!/usr/bin/env python3
"""Recipe for TIMIT (LDC93S1): phone recognition with both systems, phone error rate on the 39 folded phones.

Usage:
    python recipes/timit/run.py --corpus /data/TIMIT --exp exp/timit                     # every stage, conf/default.yaml
    python recipes/timit/run.py --corpus /data/TIMIT --exp exp/timit --stop-stage prepare
    python recipes/timit/run.py --exp exp/timit --stage decode

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/{train,dev,test}.jsonl (Kaldi's split: TRAIN, 50 dev speakers, 24-speaker core test;
              SA1/SA2 excluded unless ``include_sa: true``), id <SPK>_<UTT>, text = the words,
              ``phones61`` / ``phones`` (39-folded) per row; EXP/data/phones.61-39.map for scoring;
              EXP/data/phones/<split>.jsonl: the same rows with text = the 39 folded phones
    train     EXP/lang: a lexicon whose words are the 39 phones (``sil`` -> the silence HMM), the CTC
              units (the 39 phones), a phone n-gram of the training transcriptions (``lm_order``,
              a bigram as in Kaldi's recipe); then the hybrid model (EXP/hybrid/model) and the CTC
              model (EXP/ctc/model, phone units), both trained on the phone transcriptions
    decode    dev and core test with every system -> EXP/decode.json (a corpus without dev speakers:
              core test only, and it validates the CTC model; without TRAIN/ or core-test speakers
              prepare fails)
    score     phone error rate (the ``wer`` of results.json: its "words" are phones) -> EXP/results.json
    report    EXP/report.md, results.png, results.csv

Both systems are trained on the 39 folded phones directly (Kaldi trains on 48 and folds its
output to 39; this recipe folds first). ``sil`` (pauses, closures, h#) is one of the 39 and is
scored like any phone.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
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

log = logging.getLogger("recipes.timit")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = "the TIMIT directory of the LDC distribution (TRAIN/ and TEST/ inside), or its parent"
LANG = "en"
SPLITS = ("train", "dev", "test")
SILENCE = "sil"  # the 39-set's silence class, decoded with the hybrid system's silence HMM


@dataclass(frozen=True)
class RecipeConfig(SystemsConfig):
    """The values of a preset (``conf/<preset>.yaml``); the systems' keys are :class:`asr.systems.SystemsConfig`'s
    (``lexicon`` unused: the words are phones; ``lm``: an ARPA phone LM)."""

    include_sa: bool = False  # the two dialect sentences every speaker reads


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None, force: bool = False) -> None:
    """Manifests under ``exp/data``, their phone versions under ``exp/data/phones``, and the 61 -> 39 table."""
    from asr.data.corpora.timit import FOLD_61_TO_39, find_root, read_timit

    if prepared(exp, force):
        return
    root = find_root(need_corpus(corpus, CORPUS_HELP))
    found = read_timit(root, include_sa=cfg.include_sa)
    splits = {s: found[s] for s in select_splits(root, SPLITS, found, train=["train"], test=["test"])}
    for split, utts in splits.items():
        write_manifest(exp / "data" / "phones" / f"{split}.jsonl",
                       [dataclasses.replace(u, text=u.extra["phones"]) for u in utts])
    summary = write_splits(exp / "data", splits)
    (exp / "data" / "phones.61-39.map").write_text(
        "".join(f"{p61} {p39 or ''}".rstrip() + "\n" for p61, p39 in sorted(FOLD_61_TO_39.items())))
    for split, s in summary.items():
        log.info("%s: %d utterances, %.2f h, %d speakers", split, s["utts"], s["hours"], s["speakers"])


def _splits(exp: Path) -> list[str]:
    """The splits the prepare stage wrote (dev is left out when the corpus has no dev speaker)."""
    return prepared_splits(exp / "data") or list(SPLITS)


def experiment(cfg: RecipeConfig, exp: Path) -> Experiment:
    """Both systems on the phone transcriptions: one hybrid model, one CTC model with phone units."""
    phones = exp / "data" / "phones"
    lm = cfg.lm_for(LANG) or exp / "lang" / "lm.arpa"
    splits = _splits(exp)
    dev = "dev" if "dev" in splits else "test"  # no dev speaker: the core test set validates
    lang = LangData(name="", lang=LANG, train=phones / "train.jsonl", dev=phones / f"{dev}.jsonl",
                    tests={s: phones / f"{s}.jsonl" for s in ("dev", "test") if s in splits},
                    lexicon=exp / "lang" / "lexicon.txt", hybrid_lm=lm, ctc_lm=lm)
    ctc = dataclasses.replace(cfg.ctc_settings(), units="phone", word_boundary="")
    return Experiment(exp, (lang,), cfg.systems, cfg.hybrid, ctc, ctc_lexicon=exp / "lang" / "units.txt",
                      hybrid_max_utts=cfg.hybrid_max_utts)


def train(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Phone lexicon, CTC units and phone LM under ``exp/lang``, then every system."""
    from asr.data.corpora.timit import PHONES_39

    if cfg.lexicon:
        raise ValueError(f"lexicon: {cfg.lexicon}: the TIMIT recipe recognizes phones and takes no lexicon")
    xp = experiment(cfg, exp)
    if xp.langs[0].dev.stem == "test":
        log.warning("no dev split prepared: the CTC model validates on the core test set")
    for split in _splits(exp):
        if not (exp / "data" / "phones" / f"{split}.jsonl").is_file():
            raise FileNotFoundError(f"{exp / 'data' / 'phones' / split}.jsonl: missing; run the prepare stage "
                                    "(with --force if it ran before this recipe wrote phone manifests)")
    lang_dir = exp / "lang"
    lang_dir.mkdir(parents=True, exist_ok=True)
    (lang_dir / "phones.lex").write_text("".join(f"{p} {'SIL' if p == SILENCE else p}\n" for p in PHONES_39))
    (lang_dir / "units.txt").write_text("".join(f"{p} {p}\n" for p in PHONES_39))
    prepare_lang(lang_dir, xp.langs[0].train, LANG, lang_dir / "phones.lex", cfg.lm_for(LANG), cfg.lm_order,
                 force=force)
    train_systems(xp, force)


def _notes(cfg: RecipeConfig, exp: Path) -> list[str]:
    """What the WER column means here (the report's note)."""
    refs = read_manifest(exp / "data" / "phones" / "test.jsonl")
    return [f"The WER column is the **phone error rate** on the 39 folded phones ({len(refs)} core-test "
            "utterances; ``sil`` scored as a phone); CER is meaningless here."]


STAGE_FUNCS = {"prepare": prepare, "train": train,
               **system_stages(experiment, "TIMIT recipe report (phone recognition)", _notes)}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
