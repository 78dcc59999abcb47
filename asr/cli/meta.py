"""``asr meta-train``: meta-learn a multilingual CTC initialization (Reptile or first-order MAML).

Usage::

    asr meta-train --train en=en/train.jsonl --train de=de/train.jsonl --train fr=fr/train.jsonl \\
        --dev en=en/dev.jsonl --out exp/reptile --method reptile --outer-steps 300 \\
        --tasks-per-step 3 --inner-steps 3 --inner-lr 1e-3 --outer-optimizer sgd --lr 1.0
    asr finetune --from exp/reptile/model --lang sw --train sw/train.jsonl --dev sw/dev.jsonl --out exp/ft-sw

Each language is a task. Its tokenizer is built from its training text
(``OUT/tokenizers/<lang>``, kept when the run is restarted); the model is the
multilingual CTC of the chosen preset, one head per language
(:func:`asr.train.meta.meta_train`); ``OUT/model`` is a multilingual model
directory that ``asr finetune`` starts from. The same command again resumes
a killed run from its latest checkpoint.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from asr.config import positive_float, positive_int
from asr.train.config import add_train_options

__all__ = ["add_meta_arguments", "run_meta"]


def _lang_path(value: str) -> tuple[str, Path]:
    lang, sep, path = value.partition("=")
    if not sep or not lang or not path:
        raise argparse.ArgumentTypeError(f"{value!r}: expected LANG=MANIFEST, e.g. en=data/en/train.jsonl")
    return lang, Path(path)


def add_meta_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``asr meta-train``."""
    from asr.models.ctc import PRESETS
    from asr.train.meta import METHODS

    parser.add_argument("--train", type=_lang_path, action="append", required=True,
                        help="LANG=MANIFEST of one task (repeatable; a language may repeat)")
    parser.add_argument("--dev", type=_lang_path, action="append", default=[], help="LANG=MANIFEST to validate on")
    parser.add_argument("--out", type=Path, required=True, help="output directory (model in OUT/model)")
    parser.add_argument("--method", choices=METHODS, default="reptile")
    parser.add_argument("--outer-steps", type=positive_int, default=200, help="meta-updates")
    parser.add_argument("--tasks-per-step", type=positive_int, default=4)
    parser.add_argument("--inner-steps", type=positive_int, default=3)
    parser.add_argument("--inner-lr", type=positive_float, default=1e-3)
    parser.add_argument("--inner-optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--outer-optimizer", choices=("adam", "sgd"), default="adam",
                        help="sgd with --lr 1: Reptile's step size eps (annealed by the schedule)")
    parser.add_argument("--temperature", type=positive_float, default=1.0, help="task sampling size^(1/T)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="the shared encoder's size")
    parser.add_argument("--units", choices=("char", "bpe", "unigram"), default="char")
    parser.add_argument("--vocab-size", type=positive_int, default=500, help="sentencepiece units, blank included")
    add_train_options(parser)


def run_meta(args: argparse.Namespace) -> int:
    """``asr meta-train``: tokenizers, model, meta-training; prints the summary."""
    from asr.models.ctc import ModelConfig
    from asr.models.multilingual import MultilingualConfig
    from asr.train.config import train_config_from_args
    from asr.train.meta import MetaConfig, meta_train
    from asr.train.tokenizer_setup import init_tokenizer

    train: dict[str, list[Path]] = {}
    for lang, path in args.train:
        train.setdefault(lang, []).append(path)
    dev = dict(args.dev)
    unknown = sorted(set(dev) - set(train))
    if unknown:
        raise ValueError(f"--dev for {unknown}: no --train manifest for that language")
    meta = MetaConfig(method=args.method, outer_steps=args.outer_steps, tasks_per_step=args.tasks_per_step,
                      inner_steps=args.inner_steps, inner_lr=args.inner_lr, inner_optimizer=args.inner_optimizer,
                      outer_optimizer=args.outer_optimizer, temperature=args.temperature)
    tokenizers = {lang: init_tokenizer(args.out / "tokenizers" / lang, args.units, paths, args.vocab_size)
                  for lang, paths in train.items()}
    cfg = MultilingualConfig(base=ModelConfig.preset(args.preset))
    summary = meta_train(train, dev, args.out, cfg, train_config_from_args(args), meta, tokenizers)
    print(json.dumps(summary, indent=2))
    return 0
