"""Language resources of a corpus: the pronunciation lexicon and the word n-gram both systems decode with.

For a corpus that comes without them, :func:`prepare_lang` makes the pronunciation
lexicon (a dictionary the user gives, read by :func:`asr.text.dictionary.read_pronunciations`,
else espeak-ng G2P of the training words) and the word LM (an ARPA the user gives,
else a Kneser-Ney trigram of the training transcripts).

Usage::

    lexicon, lm = prepare_lang("exp/lang", "exp/data/train.jsonl", "en")
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from asr.data.manifest import read_manifest
from asr.text.lm import train_ngram
from asr.text.dictionary import read_pronunciations
from asr.text.g2p import build_lexicon, extend_with_g2p
from asr.text.lexicon import Lexicon
from asr.text.normalize import normalize

__all__ = ["prepare_lang"]

log = logging.getLogger(__name__)


def _transcripts(manifests: Sequence[str | os.PathLike]) -> list[list[str]]:
    """Normalized words of every utterance of the manifests."""
    return [normalize(u.text, u.lang).split() for m in manifests for u in read_manifest(m)]


def prepare_lang(out: str | os.PathLike, train: str | os.PathLike | Sequence[str | os.PathLike], lang: str,
                 lexicon: str | os.PathLike | None = None, lm: str | os.PathLike | None = None, lm_order: int = 3,
                 keep_stress: bool = False, force: bool = False) -> tuple[Path, Path]:
    """The pronunciation lexicon and word LM of one language, in ``out/lexicon.txt`` and ``out/lm.arpa``.

    Args:
        out: directory for the two files (kept when they exist, unless ``force``).
        train: training manifest(s): the words to pronounce and the LM's text.
        lang: language code (espeak-ng voice, normalization).
        lexicon: a dictionary (:func:`read_pronunciations`); training words it lacks are
            pronounced by espeak-ng (logged: its phones are IPA, not the dictionary's).
            ``None``: espeak-ng G2P of every training word.
        lm: an ARPA file to use instead of training one (returned as given).
        lm_order: order of the trained Kneser-Ney LM; its vocabulary is the lexicon's
            words (those unseen in training get back-off mass), so both systems
            decode the same words.
        keep_stress: see :func:`read_pronunciations`.

    Returns:
        ``(lexicon path, LM path)``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifests = [train] if isinstance(train, (str, os.PathLike)) else list(train)
    lex_path, lm_path = out / "lexicon.txt", out / "lm.arpa"
    texts: list[list[str]] | None = None
    if force or not lex_path.exists():
        texts = _transcripts(manifests)
        words = sorted({w for t in texts for w in t})
        if lexicon:
            lex = read_pronunciations(lexicon, keep_stress=keep_stress)
            missing = [w for w in words if w not in lex]
            if missing:
                log.warning("%s: %d of %d training words missing, pronounced by espeak-ng G2P (%s): %s", lexicon,
                            len(missing), len(words), lang, " ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
                extend_with_g2p(lex, missing, lang)
        else:
            lex = build_lexicon(words, lang)
        lex.to_file(lex_path, with_probs=lex.has_probs)
        log.info("%s: %d words", lex_path, len(lex))
    if lm:
        if not Path(lm).is_file():
            raise FileNotFoundError(f"{lm}: no such LM file (the config's lm:)")
        return lex_path, Path(lm)
    if force or not lm_path.exists():
        texts = texts if texts is not None else _transcripts(manifests)
        vocab = Lexicon.from_file(lex_path).words()
        train_ngram(texts, order=lm_order, vocab=vocab).to_arpa(lm_path)
        log.info("%s: order %d, %d training sentences", lm_path, lm_order, len(texts))
    return lex_path, lm_path
