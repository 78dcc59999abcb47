"""Text: normalization, symbol tables, lexicons, g2p and tokenizers.

* :func:`normalize` -- per-language text normalization for training and scoring;
* :class:`SymbolTable` -- ``words.txt`` / ``tokens.txt``;
* :class:`Lexicon`, :func:`g2p`, :func:`build_lexicon`, :func:`extend_with_g2p` --
  pronunciations (espeak-ng);
* :class:`Tokenizer` and its kinds ``char``, ``sentencepiece``, ``phone``;
  :func:`load_tokenizer` reads any saved one.
"""

from asr.text.g2p import build_lexicon, extend_with_g2p, g2p
from asr.text.lexicon import Lexicon, Pronunciation
from asr.text.normalize import Normalizer, normalize
from asr.text.symbols import BLANK, EPS, UNK, SymbolTable
from asr.text.tokenizer import (
    TOKENIZERS,
    CharTokenizer,
    PhoneTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    load_tokenizer,
    register_tokenizer,
)

__all__ = [
    "normalize",
    "Normalizer",
    "SymbolTable",
    "EPS",
    "BLANK",
    "UNK",
    "Lexicon",
    "Pronunciation",
    "g2p",
    "build_lexicon",
    "extend_with_g2p",
    "Tokenizer",
    "CharTokenizer",
    "SentencePieceTokenizer",
    "PhoneTokenizer",
    "TOKENIZERS",
    "register_tokenizer",
    "load_tokenizer",
]
