"""``asr finetune``: adapt a pre-trained model (multilingual or monolingual CTC) to a language.

Usage::

    asr finetune --from exp/ml/model --lang sw --train sw/train.jsonl --dev sw/dev.jsonl \\
        --out exp/ft-sw --policy top-k --k 2 --epochs 10

What it does: builds the target language's tokenizer from its training text
(``OUT/tokenizer``, kept when the run is restarted), builds a
:class:`~asr.models.multilingual.MultilingualCTC` with the pre-trained shared
encoder (and the pre-trained heads of the other languages, their tokenizers kept)
plus a head for ``--lang`` (:func:`asr.train.finetune.finetune_config`); everything
that matches by name and shape is loaded
(:func:`~asr.models.pretrained.from_pretrained`), so a changed vocabulary gets a
fresh head. A pre-trained head for the same language is reused only when its
tokenizer has exactly the same symbols. Then it trains with
:func:`asr.train.multilingual.train_multilingual` under the chosen policy and
writes ``OUT/model`` (a multilingual model directory) and ``OUT/train_summary.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from asr.config import nonnegative_float, nonnegative_int, positive_int
from asr.train.config import add_train_options

__all__ = ["add_finetune_arguments", "run_finetune"]

log = logging.getLogger(__name__)


def add_finetune_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``asr finetune``."""
    from asr.train.finetune import POLICIES

    parser.add_argument("--from", dest="init_from", type=Path, required=True,
                        help="pre-trained model directory (multilingual or monolingual CTC)")
    parser.add_argument("--lang", required=True, help="target language code (a new head unless the model has it)")
    parser.add_argument("--train", type=Path, action="append", required=True, help="training manifest (repeatable)")
    parser.add_argument("--dev", type=Path, required=True, help="validation manifest")
    parser.add_argument("--out", type=Path, required=True, help="output directory (model in OUT/model)")
    parser.add_argument("--policy", choices=POLICIES, default="full",
                        help="head: heads only; top-k: heads + last K encoder blocks; full; l2sp: full + L2-SP")
    parser.add_argument("--k", type=nonnegative_int, default=0, help="top-k: encoder blocks to train")
    parser.add_argument("--l2sp-alpha", type=nonnegative_float, default=None,
                        help="L2-SP strength (default 0.01 with --policy l2sp, else 0)")
    parser.add_argument("--units", choices=("char", "bpe", "unigram"), default="char")
    parser.add_argument("--vocab-size", type=positive_int, default=500, help="sentencepiece units, blank included")
    parser.add_argument("--phone-weight", type=nonnegative_float, default=None,
                        help="weight of the universal phone task (default: DEFAULT_WEIGHTS; 0 = off)")
    add_train_options(parser)


def run_finetune(args: argparse.Namespace) -> int:
    """``asr finetune``: build the tokenizer, initialise from ``--from``, train, print the summary."""
    from asr.train.config import train_config_from_args
    from asr.train.finetune import finetune_config
    from asr.train.tokenizer_setup import init_tokenizer
    from asr.train.multilingual import train_multilingual

    train_cfg = train_config_from_args(args)
    alpha = args.l2sp_alpha if args.l2sp_alpha is not None else (0.01 if args.policy == "l2sp" else 0.0)
    if args.policy == "top-k" and args.k < 1:
        raise ValueError("--policy top-k needs --k N (N >= 1 encoder blocks to train)")
    tokenizer = init_tokenizer(args.out, args.units, args.train, args.vocab_size)
    cfg, tokenizers, phone_tokenizer, rename = finetune_config(args.init_from, args.lang, tokenizer)
    weights = {"phone": args.phone_weight} if args.phone_weight is not None else None
    summary = train_multilingual(
        {args.lang: list(args.train)}, {args.lang: args.dev}, args.out, cfg, train_cfg, tokenizers,
        phone_tokenizer=phone_tokenizer, task_weights=weights, init_from=args.init_from,
        init_rename=rename, policy=args.policy, k=args.k, l2sp_alpha=alpha,
    )
    print(json.dumps(summary, indent=2))
    return 0
