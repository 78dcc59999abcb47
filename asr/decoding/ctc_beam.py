"""CTC prefix beam search in pure Python: the reference decoder.

Keeps, for every label prefix, the probability of all alignments that end in
a blank (``p_b``) and in the prefix's last unit (``p_nb``), and extends the
best ``beam_size`` prefixes frame by frame (Hannun et al., 2014, without a
language model). With a beam as wide as the number of possible prefixes it is
exact: the score of each prefix is then ``log P(prefix | x)`` summed over all
its alignments, which the tests check against exhaustive enumeration.

It is slow (Python loops over frames x beam x units); the decoder with a
lexicon and an n-gram LM is :mod:`asr.decoding.ctc_lexicon` (flashlight's C++).

Usage::

    hyps = prefix_beam_search(log_probs[0, :T], beam_size=8)    # (T, V) -> [(ids, logp), ...]
    texts = BeamDecoder(tokenizer, beam_size=8)(log_probs, lengths)
"""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor

from asr.decoding.types import distinct_texts
from asr.registry import register
from asr.text.tokenizer import Tokenizer

__all__ = ["LM_BOOST_SCALE", "prefix_beam_search", "BeamDecoder", "HotwordBias", "parse_hotwords"]

NEG_INF = -math.inf
DEFAULT_BOOST = 0.5  # per character: recall 11 -> 67 % on sw, WER elsewhere unchanged (tools/bench_hotwords.py)
# Searches with a word LM (the CTC lexicon + LM search, the hybrid search) add boost * LM_BOOST_SCALE per
# character: tools/bench_hotwords.py on the default preset's six synth test sets, effective 0.25: CTC lexicon
# recall 0 -> 55 % at +1.6 % relative WER elsewhere, hybrid 70 -> 78 % at +1.7 %; effective 0.5 costs
# +12 % (CTC) and +84 % (hybrid) relative WER.
LM_BOOST_SCALE = 0.5


def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def parse_hotwords(spec: str | None) -> dict[str, float]:
    """``"word:boost,word2,..."`` (boost per character, default :data:`DEFAULT_BOOST`) -> ``{word: boost}``.

    Raises:
        ValueError: an empty word or a boost that is not a number.
    """
    out: dict[str, float] = {}
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        word, _, boost = item.strip().partition(":")
        try:
            value = float(boost) if boost else DEFAULT_BOOST
        except ValueError:
            raise ValueError(f"hotword {item!r}: the boost after ':' must be a number") from None
        if not word.strip() or not math.isfinite(value):
            raise ValueError(f"hotword {item!r}: give word[:boost]")
        out[word.strip().lower()] = value
    return out


class HotwordBias:
    """Contextual biasing of a prefix search towards given words (a bonus on the ranking, not the score).

    A prefix whose text ends inside a hotword gets ``boost`` per matched character, one that holds a
    completed hotword keeps ``boost`` per character of it; a partial match that breaks loses its
    bonus (the idea of icefall's context graph, computed from the prefix's text).
    """

    def __init__(self, tokenizer: Tokenizer, hotwords: dict[str, float]):
        """``hotwords``: word -> boost per character."""
        self.tokenizer, self.hotwords = tokenizer, dict(hotwords)
        self._cache: dict[tuple[int, ...], float] = {}

    def bonus(self, prefix: tuple[int, ...], final: bool = False) -> float:
        """The ranking bonus of ``prefix`` (``final``: partial matches at the end count for nothing)."""
        key = prefix + ((-1,) if final else ())
        if key not in self._cache:
            text = self.tokenizer.decode(list(prefix))
            words = text.split()
            open_word = bool(words) and not text.endswith(" ") and not final
            done = words[:-1] if open_word else words
            total = sum(self.hotwords.get(w, 0.0) * len(w) for w in done)
            if open_word:
                last = words[-1]
                total += max((b * len(last) for w, b in self.hotwords.items() if w.startswith(last)), default=0.0)
            self._cache[key] = total
        return self._cache[key]


def prefix_beam_search(
    log_probs: Tensor | np.ndarray,
    beam_size: int = 8,
    blank: int = 0,
    token_prune: int | None = None,
    bias: HotwordBias | None = None,
) -> list[tuple[tuple[int, ...], float]]:
    """Best label sequences of one utterance under CTC.

    Args:
        log_probs: ``(T, V)`` log-probabilities of one utterance (valid frames only).
        beam_size: prefixes kept after each frame.
        blank: the blank id.
        token_prune: consider only the ``token_prune`` most likely units of
            each frame (the blank always); ``None`` = all ``V`` (exact).
        bias: hotwords: prefixes are ranked by ``log_prob + bias.bonus(prefix)``.

    Returns:
        Up to ``beam_size`` ``(ids, log_prob)`` pairs, best first (with ``bias``: by the biased
        score); ``ids`` has repeats merged and no blanks, ``log_prob`` sums all its alignments.
    """
    rank = (lambda p, s: s) if bias is None else (lambda p, s: s + bias.bonus(p))
    lp = log_probs.detach().double().cpu().numpy() if isinstance(log_probs, Tensor) else np.asarray(log_probs, float)
    T, V = lp.shape
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}  # prefix -> (p_b, p_nb)
    for t in range(T):
        frame = lp[t]
        if token_prune is not None and token_prune < V:
            units = set(np.argpartition(-frame, token_prune)[:token_prune].tolist()) | {blank}
        else:
            units = range(V)
        nxt: dict[tuple[int, ...], list[float]] = {}

        def cell(prefix: tuple[int, ...]) -> list[float]:
            if prefix not in nxt:
                nxt[prefix] = [NEG_INF, NEG_INF]
            return nxt[prefix]

        for prefix, (pb, pnb) in beams.items():
            total = _logaddexp(pb, pnb)
            last = prefix[-1] if prefix else None
            for c in units:
                p = float(frame[c])
                if c == blank:
                    here = cell(prefix)
                    here[0] = _logaddexp(here[0], total + p)
                    continue
                longer = cell(prefix + (c,))
                if c == last:
                    longer[1] = _logaddexp(longer[1], pb + p)  # a blank separated the repeat
                    here = cell(prefix)
                    here[1] = _logaddexp(here[1], pnb + p)  # the repeat merges into the last unit
                else:
                    longer[1] = _logaddexp(longer[1], total + p)
        alive = [kv for kv in nxt.items() if _logaddexp(*kv[1]) > NEG_INF]  # drop impossible prefixes
        ranked = sorted(alive, key=lambda kv: rank(kv[0], _logaddexp(*kv[1])), reverse=True)[:beam_size]
        beams = {prefix: (pb, pnb) for prefix, (pb, pnb) in ranked}
    final = [(p, _logaddexp(pb, pnb)) for p, (pb, pnb) in beams.items()]
    if bias is None:
        return sorted(final, key=lambda x: x[1], reverse=True)
    return sorted(final, key=lambda x: x[1] + bias.bonus(x[0], final=True), reverse=True)


@register("decoder", "beam")
class BeamDecoder:
    """Texts of a batch by :func:`prefix_beam_search`: ``(B, T, V)``, ``(B,)`` -> ``B`` strings.

    Args:
        tokenizer: turns the best ids into text.
        beam_size: prefixes kept per frame.
        token_prune: units considered per frame (``None``: all).
    """

    def __init__(self, tokenizer: Tokenizer, beam_size: int = 8, token_prune: int | None = 16,
                 hotwords: dict[str, float] | None = None):
        self.tokenizer = tokenizer
        self.beam_size = beam_size
        self.token_prune = token_prune
        self.bias = HotwordBias(tokenizer, hotwords) if hotwords else None

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[str]:
        """Decode ``log_probs (B, T, V)`` with ``lengths (B,)`` to ``B`` texts."""
        return [alts[0][0] for alts in self.nbest(log_probs, lengths)]

    def nbest(self, log_probs: Tensor, lengths: Tensor) -> list[list[tuple[str, float]]]:
        """``B`` lists of up to ``beam_size`` ``(text, log-probability)``, best first, distinct texts."""
        lp = log_probs.detach().float().cpu()
        return [distinct_texts((self.tokenizer.decode(list(ids)), score) for ids, score in
                               prefix_beam_search(lp[b, : int(lengths[b])], self.beam_size, self.tokenizer.blank_id,
                                                  self.token_prune, self.bias))
                for b in range(lp.shape[0])]
