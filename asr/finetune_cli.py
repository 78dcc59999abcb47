"""``asr finetune``: adapt a pre-trained model (multilingual or monolingual CTC) to a language.

Usage::

    asr finetune --from exp/ml/model --lang sw --train sw/train.jsonl --dev sw/dev.jsonl \\
        --out exp/ft-sw --policy top-k --k 2 --epochs 10

What it does: builds the target language's tokenizer from its training text
(``OUT/tokenizer``, kept when the run is restarted), builds a
:class:`~asr.models.multilingual.MultilingualCTC` with the pre-trained shared
encoder (and the pre-trained heads of the other languages, their tokenizers kept)
plus a head for ``--lang``; everything that matches by name and shape is loaded
(:func:`~asr.models.multilingual.from_pretrained`), so a changed vocabulary gets a
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
from typing import Any

from asr.train.config import add_train_options

__all__ = ["add_finetune_arguments", "run_finetune", "finetune_config"]

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
    parser.add_argument("--k", type=int, default=0, help="top-k: encoder blocks to train")
    parser.add_argument("--l2sp-alpha", type=float, default=None,
                        help="L2-SP strength (default 0.01 with --policy l2sp, else 0)")
    parser.add_argument("--units", choices=("char", "bpe", "unigram"), default="char")
    parser.add_argument("--vocab-size", type=int, default=500, help="sentencepiece units, blank included")
    parser.add_argument("--phone-weight", type=float, default=None,
                        help="weight of the universal phone task (default: DEFAULT_WEIGHTS; 0 = off)")
    add_train_options(parser)


def _same_symbols(a: Any, b: Any) -> bool:
    """Two tokenizers with the same kind and the same id -> symbol table."""
    ta, tb = getattr(a, "table", None), getattr(b, "table", None)
    if ta is None or tb is None:
        return False
    return a.kind == b.kind and list(ta.symbols) == list(tb.symbols)


def finetune_config(init_from: str | Path, lang: str, tokenizer: Any) -> tuple[Any, dict[str, Any], Any, dict]:
    """The target structure for fine-tuning ``init_from`` on ``lang``.

    Returns:
        ``(cfg, tokenizers, phone_tokenizer, rename)``: a
        :class:`~asr.models.multilingual.MultilingualConfig` (the pre-trained one with
        ``lang``'s head set to ``tokenizer``'s size, or a one-language config over a
        monolingual model's encoder), the tokenizers to save (pre-trained ones of the
        other languages + ``tokenizer``), the pre-trained phone tokenizer (or ``None``),
        and the prefix renames for :func:`~asr.models.multilingual.from_pretrained`
        (moving a same-language head with another symbol table out of the way).
    """
    from asr.models.multilingual import (
        FORMAT,
        MultilingualConfig,
        _read_any_config,
        load_multilingual_dir,
        pretrained_base,
    )

    config = _read_any_config(init_from)
    rename: dict[str, str] = {}
    if config["format"] != FORMAT:  # monolingual CTC: its output layer "head.*" is not used
        cfg = MultilingualConfig(base=pretrained_base(init_from), languages=(lang,),
                                 vocab_sizes=(tokenizer.vocab_size,))
        return cfg, {lang: tokenizer}, None, rename
    _, old_tokenizers, old_cfg = load_multilingual_dir(init_from)
    phone_tokenizer = old_tokenizers.pop("<phones>", None)
    if lang in old_cfg.languages and not _same_symbols(old_tokenizers.get(lang), tokenizer):
        rename[f"heads.{lang}."] = f"replaced_heads.{lang}."  # -> "unexpected": the head starts fresh
    cfg = old_cfg.with_language(lang, tokenizer.vocab_size)
    tokenizers = {k: v for k, v in old_tokenizers.items() if k != lang}
    tokenizers[lang] = tokenizer
    return cfg, tokenizers, phone_tokenizer, rename


def run_finetune(args: argparse.Namespace) -> int:
    """``asr finetune``: build the tokenizer, initialise from ``--from``, train, print the summary."""
    from asr.train.config import train_config_from_args
    from asr.train.loop import init_tokenizer
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
