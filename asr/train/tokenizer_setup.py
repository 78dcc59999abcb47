"""The run's tokenizer: built once from the training transcripts, kept in ``OUT/tokenizer``.

Usage::

    tokenizer = init_tokenizer("exp/ctc", "bpe", ["data/train.jsonl"], vocab_size=500)
    train_ctc(["data/train.jsonl"], "data/dev.jsonl", "exp/ctc", ModelConfig.preset("tiny"), cfg, tokenizer)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from asr.data.trainable import read_manifests
from asr.text.normalize import normalize
from asr.text.tokenizer import Tokenizer

__all__ = ["init_tokenizer", "UNITS"]

UNITS = ("char", "bpe", "unigram", "phone")


def init_tokenizer(
    out_dir: str | os.PathLike,
    units: str,
    train_manifests: str | os.PathLike | Sequence[str | os.PathLike],
    vocab_size: int = 500,
    lexicon: str | os.PathLike | None = None,
) -> Tokenizer:
    """The run's tokenizer: ``OUT/tokenizer`` when it exists (a restarted run keeps its units),
    else built from the normalized training transcripts and saved there (by rank 0).

    Args:
        out_dir: the training output directory.
        units: ``char``, ``bpe`` / ``unigram`` (sentencepiece, ``vocab_size`` ids
            with the blank) or ``phone`` (a :class:`~asr.text.lexicon.Lexicon`
            file, ``|`` between words).
        train_manifests: where the transcripts come from.
        vocab_size: sentencepiece only.
        lexicon: phone units only: ``lexicon.txt``.
    """
    import tempfile

    from asr.text.lexicon import Lexicon
    from asr.text.tokenizer import CharTokenizer, PhoneTokenizer, SentencePieceTokenizer, load_tokenizer

    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, got {units!r}")
    directory = Path(out_dir) / "tokenizer"
    if (directory / "tokenizer.json").is_file():
        tokenizer = load_tokenizer(directory)
        kind = {"bpe": "sentencepiece", "unigram": "sentencepiece"}.get(units, units)
        if tokenizer.kind != kind:
            raise ValueError(f"{directory} holds a {tokenizer.kind} tokenizer, not {units}; use another out_dir")
        return tokenizer
    main = int(os.environ.get("RANK", "0")) == 0
    texts = [normalize(u.text, u.lang) for u in read_manifests(train_manifests)]
    if units in ("bpe", "unigram"):
        with tempfile.TemporaryDirectory() as tmp:  # other ranks train the same model, keep it to themselves
            return SentencePieceTokenizer.train(texts, vocab_size, directory if main else tmp, model_type=units)
    if units == "char":
        tokenizer = CharTokenizer.build(texts)
    else:
        if lexicon is None:
            raise ValueError("phone units need a lexicon file")
        tokenizer = PhoneTokenizer.from_lexicon(Lexicon.from_file(lexicon), word_boundary="|")
    if main:
        tokenizer.save(directory)
    return tokenizer
