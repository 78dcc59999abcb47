"""CTC decoding with a lexicon and a word n-gram LM (shallow fusion), and word timestamps.

The search is flashlight's lexicon beam search through torchaudio's
``ctc_decoder``: hypotheses may only spell words of the lexicon (a trie of
token spellings), and every completed word adds ``lm_weight * log P_LM(word |
history) + word_score`` to its CTC score. The LM is an ARPA (or KenLM binary)
file; the lexicon is made from the LM's unigrams (or a word list) by spelling
each word with the model's tokenizer, so it always matches the model's units.

Word boundaries depend on the tokenizer:

* a ``|`` token between words (char tokenizer, phone tokenizer with a
  boundary): spellings end in ``|``, which is also flashlight's silence, and
  :class:`LexiconDecoder` appends one frame holding only ``|`` so the last
  word of an utterance is closed like the others;
* sentencepiece (``▁`` starts a word) and phones without a boundary: spellings
  have no terminator and the blank doubles as silence; a word's last unit
  then cannot repeat over frames once the word is complete (flashlight's
  limitation), which costs little with peaky CTC outputs.

:func:`word_timestamps` aligns a known token sequence to the frames with
``torchaudio.functional.forced_align`` and groups the token spans into words.

Usage::

    decoder = LexiconDecoder(tokenizer, lm="lm.arpa", lm_weight=1.0)
    texts = decoder(log_probs, lengths)                         # (B, T, V), (B,) -> B strings
    words = word_timestamps(log_probs[0, :T], ids, tokenizer, frame_shift_s=0.04)
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from asr.decoding.ctc_beam import LM_BOOST_SCALE
from asr.decoding.types import WordSpan, distinct_texts
from asr.errors import InputError, text_lines
from asr.registry import register
from asr.text.symbols import BLANK, UNK
from asr.text.tokenizer import WORD_BOUNDARY, Tokenizer

__all__ = [
    "LexiconDecoder",
    "LexiconHypothesis",
    "WordSpan",
    "arpa_words",
    "spell_words",
    "word_timestamps",
]

WORD_START = "▁"  # sentencepiece's word-start mark


def arpa_words(path: str | os.PathLike) -> list[str]:
    """The words of an ARPA LM's unigram section, without ``<s>``, ``</s>`` and ``<unk>``.

    Args:
        path: a text ARPA file (``.arpa``; not gzip).
    """
    words: list[str] = []
    section = None
    try:
        for _, line in text_lines(path):  # a line that is not UTF-8: InputError naming file and line
            line = line.strip()
            if line.startswith("\\"):
                section = line
                continue
            if section == "\\1-grams:" and line:
                fields = line.split()
                if len(fields) >= 2 and fields[1] not in ("<s>", "</s>", "<unk>", "<UNK>"):
                    words.append(fields[1])
    except FileNotFoundError:
        raise InputError(f"{path}: no such language model file") from None
    return words


def spell_words(words: Iterable[str], tokenizer: Tokenizer) -> dict[str, list[str]]:
    """Token spelling of each word, for a lexicon.

    Words the tokenizer cannot spell without ``<unk>`` are left out. With a
    ``|`` token in the vocabulary the spelling ends in it.

    Returns:
        word -> list of token strings, in the order of ``words``.
    """
    tokens = tokenizer.tokens
    boundary = [WORD_BOUNDARY] if WORD_BOUNDARY in tokens else []
    out: dict[str, list[str]] = {}
    for word in words:
        if word in out or not word:
            continue
        ids = tokenizer.encode(word)
        if not ids or tokenizer.unk_id in ids:
            continue
        out[word] = [tokens[i] for i in ids] + boundary
    return out


@dataclass(frozen=True)
class LexiconHypothesis:
    """One decoding result: its words, the token ids of its path (blanks, repeats and ``|``
    removed), the total score (acoustic + weighted LM + word scores), and each token's output frame."""

    words: list[str]
    tokens: list[int]
    score: float
    timesteps: list[int]

    @property
    def text(self) -> str:
        """The words joined by spaces."""
        return " ".join(self.words)


def _kenlm_reason(e: Exception) -> str:
    """The useful part of a kenlm exception: what is wrong and where (drops the C++ location and hints)."""
    text = str(e)
    if "Exception." in text:
        text = text.split("Exception.", 1)[1]
    text = text.split("Loading the LM will be faster", 1)[0]
    return " ".join(text.split()) or type(e).__name__


@register("decoder", "lexicon")
class LexiconDecoder:
    """Lexicon-constrained beam search with an optional word n-gram LM (flashlight, via torchaudio).

    Args:
        tokenizer: the model's tokenizer (its ``tokens`` are the emission columns).
        lm: ARPA or KenLM binary file; ``None`` searches with the lexicon only.
        words: vocabulary of the lexicon; default: the ARPA file's unigrams.
        beam_size: hypotheses kept per frame.
        beam_size_token: units tried per frame (``None``: all).
        beam_threshold: drop hypotheses this far below the best.
        lm_weight: weight of the LM's natural-log probabilities.
        word_score: added per word (insertion bonus when positive).
        unk_score: score of an out-of-lexicon word (``-inf``: never).
        sil_score: added per silence frame.
        nbest: hypotheses returned per utterance by :meth:`decode`.
        log_add: merge equal hypotheses by log-add instead of max.
        hotwords: word -> boost per character (:func:`asr.decoding.ctc_beam.parse_hotwords`): each
            is added to the lexicon (spelled by the tokenizer, so words the LM never saw can be
            output; the LM gives them its ``<unk>`` probability) and its LM score gains
            ``boost * LM_BOOST_SCALE * len(word)`` (the lexicon trie's look-ahead too), as a unigram
            bonus. Needs an LM.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        lm: str | os.PathLike | None = None,
        words: Iterable[str] | None = None,
        beam_size: int = 50,
        beam_size_token: int | None = None,
        beam_threshold: float = 25.0,
        lm_weight: float = 2.0,
        word_score: float = 0.0,
        unk_score: float = -math.inf,
        sil_score: float = 0.0,
        nbest: int = 1,
        log_add: bool = False,
        hotwords: dict[str, float] | None = None,
    ):
        from torchaudio.models.decoder import ctc_decoder

        if words is None:
            if lm is None:
                raise ValueError("LexiconDecoder needs a word list or an ARPA LM to take the words from")
            if str(lm).endswith((".arpa", ".txt")):
                words = arpa_words(lm)
            else:
                raise ValueError(f"give words= for a binary LM ({lm}); only ARPA files list their words")
        self.tokenizer = tokenizer
        hotwords = dict(hotwords or {})
        if hotwords and lm is None:
            raise ValueError("hotwords with the lexicon decoder need an LM (the bonus rides on its word scores)")
        words = list(dict.fromkeys([*words, *hotwords]))
        self.lexicon = spell_words(words, tokenizer)
        unspelled = sorted(w for w in hotwords if w not in self.lexicon)
        if unspelled:
            raise ValueError(f"hotwords {unspelled}: not spelled by the model's units")
        if not self.lexicon:
            raise ValueError("no word of the vocabulary can be spelled with this tokenizer")
        tokens = tokenizer.tokens
        self.boundary_id = tokens.index(WORD_BOUNDARY) if WORD_BOUNDARY in tokens else None
        with tempfile.TemporaryDirectory(prefix="asr-lexicon-") as tmp:
            lexicon_file = Path(tmp) / "lexicon.txt"
            lexicon_file.write_text(
                "".join(f"{w} {' '.join(s)}\n" for w, s in self.lexicon.items()), encoding="utf-8"
            )
            try:
                lm_arg: Any = None if lm is None else str(lm)
                if hotwords:
                    lm_arg = _boosted_lm(str(lm), lexicon_file, {w: b * LM_BOOST_SCALE * len(w) / lm_weight if lm_weight else 0.0
                                                                 for w, b in hotwords.items()})
                self._decoder = ctc_decoder(
                    lexicon=str(lexicon_file),
                    tokens=list(tokens),
                    lm=lm_arg,
                    nbest=nbest,
                    beam_size=beam_size,
                    beam_size_token=beam_size_token,
                    beam_threshold=beam_threshold,
                    lm_weight=lm_weight,
                    word_score=word_score,
                    unk_score=unk_score,
                    sil_score=sil_score,
                    log_add=log_add,
                    blank_token=BLANK,
                    sil_token=WORD_BOUNDARY if self.boundary_id is not None else BLANK,
                    unk_word=UNK,
                )
            except RuntimeError as e:  # kenlm's message says "Byte: N" but not which file
                if lm is None:
                    raise
                raise InputError(f"{lm}: kenlm cannot load this LM ({_kenlm_reason(e)})") from None

    def decode(self, log_probs: Tensor, lengths: Tensor | None = None) -> list[list[LexiconHypothesis]]:
        """N-best hypotheses of a batch.

        Args:
            log_probs: ``(B, T, V)`` log-probabilities (any device; copied to CPU float32).
            lengths: ``(B,)`` valid frames; ``None`` = all ``T``.

        Returns:
            ``B`` lists of up to ``nbest`` :class:`LexiconHypothesis`, best first.
        """
        emissions = log_probs.detach().to("cpu", torch.float32)
        B, T, V = emissions.shape
        lengths = torch.full((B,), T, dtype=torch.int32) if lengths is None else lengths.detach().cpu().int()
        if self.boundary_id is not None:  # close the last word: one more frame that is surely "|"
            emissions = torch.cat([emissions, emissions.new_full((B, 1, V), -1e4)], dim=1)
            emissions[torch.arange(B), lengths.long()] = -1e4
            emissions[torch.arange(B), lengths.long(), self.boundary_id] = 0.0
            lengths = lengths + 1
        results = self._decoder(emissions.contiguous(), lengths)
        out = []
        for hyps in results:
            nbest = []
            for h in hyps:
                # flashlight's token list starts with its initial silence state, so its
                # frame numbers are one ahead of the emission rows: shift them back.
                kept = [
                    (int(i), max(int(t) - 1, 0))
                    for i, t in zip(h.tokens, h.timesteps)
                    if i not in (0, self.boundary_id)
                ]
                nbest.append(
                    LexiconHypothesis(
                        words=[w for w in h.words if w],
                        tokens=[i for i, _ in kept],
                        score=float(h.score),
                        timesteps=[t for _, t in kept],
                    )
                )
            out.append(nbest)
        return out

    def __call__(self, log_probs: Tensor, lengths: Tensor | None = None) -> list[str]:
        """Best texts of a batch: ``(B, T, V)``, ``(B,)`` -> ``B`` strings."""
        return [hyps[0].text if hyps else "" for hyps in self.decode(log_probs, lengths)]

    def nbest(self, log_probs: Tensor, lengths: Tensor | None = None) -> list[list[tuple[str, float]]]:
        """``B`` lists of up to ``nbest`` ``(text, search score)``, best first, distinct texts."""
        return [distinct_texts((h.text, h.score) for h in hyps) for hyps in self.decode(log_probs, lengths)]


def _boosted_lm(lm: str, lexicon_file: Path, bonus: dict[str, float]) -> Any:
    """KenLM over the lexicon's word dictionary with ``bonus[word]`` added to the word's score (before
    ``lm_weight``): a :class:`torchaudio.models.decoder.CTCDecoderLM` that hands KenLM's own states on."""
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import create_word_dict, load_words
    from torchaudio.models.decoder import CTCDecoderLM

    word_dict = create_word_dict(load_words(str(lexicon_file)))  # the dictionary ctc_decoder builds too
    kenlm = KenLM(lm, word_dict)
    extra = {word_dict.get_index(w): b for w, b in bonus.items()}

    class BoostedLM(CTCDecoderLM):
        def start(self, start_with_nothing: bool) -> Any:
            return kenlm.start(start_with_nothing)

        def score(self, state: Any, usr_token_idx: int) -> tuple[Any, float]:
            nxt, s = kenlm.score(state, usr_token_idx)
            return nxt, s + extra.get(usr_token_idx, 0.0)

        def finish(self, state: Any) -> tuple[Any, float]:
            return kenlm.finish(state)

    return BoostedLM()


# ---------------------------------------------------------------------------
# Word timestamps
# ---------------------------------------------------------------------------


def word_timestamps(
    log_probs: Tensor,
    ids: Sequence[int],
    tokenizer: Tokenizer,
    frame_shift_s: float,
    duration_s: float | None = None,
) -> list[WordSpan]:
    """Force-align ``ids`` to one utterance's frames and return each word's time span.

    Args:
        log_probs: ``(T, V)`` log-probabilities of one utterance (valid frames only).
        ids: its token ids (no blanks), e.g. from a decoder; ``|`` tokens, if
            any, separate words; with sentencepiece a ``▁`` piece starts one.
        tokenizer: gives token strings and the text of each word.
        frame_shift_s: seconds per output frame (:attr:`CTCModel.frame_shift_s`).
        duration_s: clip the end times to this (the audio's length).

    Returns:
        Words in order; ``start`` is the first frame of the word's first token,
        ``end`` the end of its last token's last frame, so spans are monotone
        and do not overlap.

    Raises:
        ValueError: more tokens (plus the blanks repeats need) than frames.
    """
    import torchaudio.functional as AF

    ids = [int(i) for i in ids if i != tokenizer.blank_id]
    words: list[list[int]] = [[]]  # positions into ids, per word
    tokens = tokenizer.tokens
    boundary = tokens.index(WORD_BOUNDARY) if WORD_BOUNDARY in tokens else None
    for k, i in enumerate(ids):
        if i == boundary:
            words.append([])
            continue
        if tokens[i].startswith(WORD_START) and words[-1]:
            words.append([])
        words[-1].append(k)
    words = [w for w in words if w]
    if not words:
        return []
    T = log_probs.shape[0]
    repeats = sum(a == b for a, b in zip(ids, ids[1:]))
    if len(ids) + repeats > T:
        raise ValueError(f"{len(ids)} tokens ({repeats} repeats) cannot be aligned to {T} frames")
    lp = log_probs.detach().to("cpu", torch.float32)[None]  # (1, T, V)
    targets = torch.tensor([ids], dtype=torch.int32)
    alignment, scores = AF.forced_align(lp, targets, blank=tokenizer.blank_id)
    spans = AF.merge_tokens(alignment[0], scores[0].exp(), blank=tokenizer.blank_id)  # one per token of ids
    out = []
    for w in words:
        first, last = spans[w[0]], spans[w[-1]]
        start, end = first.start * frame_shift_s, last.end * frame_shift_s
        if duration_s is not None:
            start, end = min(start, duration_s), min(end, duration_s)
        frame_scores = scores[0, first.start : last.end]
        out.append(
            WordSpan(
                word=tokenizer.decode([ids[k] for k in w]),
                start=round(start, 3),
                end=round(end, 3),
                score=float(frame_scores.mean()) if frame_scores.numel() else 0.0,
            )
        )
    return out
