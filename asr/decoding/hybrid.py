"""The hybrid road's :class:`~asr.decoding.types.Recognizer`: a hybrid model directory and its search.

:class:`HybridRecognizer` loads a model directory (:func:`asr.models.hybrid.load_hybrid`),
builds the lexicon prefix tree once and searches each waveform's scaled
log-likelihoods with :class:`asr.decoding.hybrid_search.HybridDecoder`. Two modes:

* ``"word"``: the lexicon and the word n-gram (speech recognition);
* ``"phone"``: a phone loop and the phone n-gram (phone recognition; score
  against :func:`phone_references` for a PER).

The search options default to those the model directory was saved with
(``config.json`` ``"decoding"``, one set per mode); keyword overrides replace them.

Usage::

    recognizer = HybridRecognizer("exp/hybrid/model", beam=13.0)
    hyp = recognizer.transcribe([wav], with_times=True)[0]    # Hypothesis(text, words)
    phones = HybridRecognizer(model, mode="phone").transcribe([wav])[0].text
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from asr.data.manifest import Utterance
from asr.decoding.ctc_beam import LM_BOOST_SCALE
from asr.decoding.hybrid_search import DecoderConfig, HybridDecoder, LexiconTree, phone_loop_lexicon
from asr.decoding.types import Hypothesis, WordSpan
from asr.models.hybrid import HybridModel, load_hybrid, usable_lexicon
from asr.text.lexicon import Lexicon
from asr.text.g2p import g2p
from asr.text.normalize import normalize

__all__ = ["MODES", "HybridRecognizer", "decoder_config", "phone_references", "with_hotwords"]

MODES = ("word", "phone")


def decoder_config(model: HybridModel, mode: str = "word", **overrides: Any) -> DecoderConfig:
    """The model's saved search options for ``mode``, with the non-``None`` ``overrides`` applied."""
    if mode not in MODES:
        raise ValueError(f"decoding mode must be one of {MODES}, got {mode!r}")
    cfg = DecoderConfig(**model.decoding.get(mode, {}))
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


class HybridRecognizer:
    """A hybrid model and its token-passing search; decodes one waveform at a time on the CPU.

    Args:
        model: a model directory or a loaded :class:`HybridModel`.
        device: accepted for the common interface; the hybrid system runs on the CPU.
        lm: decode with this ARPA word LM instead of the model's (directories only).
        mode: ``"word"`` or ``"phone"``.
        n_best: ``Hypothesis.alternatives`` of up to this many distinct word sequences (the search's
            final tokens: :meth:`~asr.decoding.hybrid_search.HybridDecoder.decode`).
        hotwords: word -> boost per character (word mode): words the lexicon lacks are pronounced
            by espeak-ng (:func:`asr.text.g2p.g2p` in the model's language) and added; each gains
            ``boost * LM_BOOST_SCALE * len(word)`` where it ends (and in the tree's LM look-ahead).
        **overrides: :class:`DecoderConfig` fields (``beam``, ``lm_weight``, ...; ``None`` keeps the model's).
    """

    system = "hybrid"

    def __init__(self, model: str | os.PathLike | HybridModel, device: str | torch.device = "cpu",
                 lm: str | os.PathLike | None = None, mode: str = "word", n_best: int = 1,
                 hotwords: dict[str, float] | None = None, **overrides: Any):
        self.model = model if isinstance(model, HybridModel) else load_hybrid(model, lm)
        self.device = torch.device("cpu")
        self.n_best = n_best
        self.decoder_name = mode
        self.cfg = decoder_config(self.model, mode, **overrides)
        m = self.model
        bonus = {w: b * LM_BOOST_SCALE * len(w) for w, b in (hotwords or {}).items()}
        if bonus and mode != "word":
            raise ValueError("hotwords: word recognition only (not --mode phone)")
        if mode == "word":
            # the words the search spells (hotwords included): word confidences read their phones here
            self.lexicon = with_hotwords(m, bonus) if bonus else m.lexicon
            lm_weight = self.cfg.lm_weight or 1.0
            tree = LexiconTree.build(self.lexicon, m.topo, m.lm, {w: b / lm_weight for w, b in bonus.items()})
            ngram = m.lm
        else:
            self.lexicon = phone_loop_lexicon(m.topo.phones)
            tree, ngram = LexiconTree.build(self.lexicon, m.topo, m.phone_lm), m.phone_lm
        self.decoder = HybridDecoder(tree, ngram, self.cfg, bonus)
        self._word_pdfs: dict[str, np.ndarray] = {}

    def transcribe(self, wavs: Sequence[Tensor], with_times: bool = False) -> list[Hypothesis]:
        """``B`` waveforms ``(S_i,)`` -> ``B`` hypotheses; with ``with_times`` each word's times in seconds and
        its confidence (``WordSpan.score``: the log of :meth:`word_confidence`)."""
        out = []
        for wav in wavs:
            ll = self.model.loglikes(wav).numpy()  # (T, num_pdfs)
            result = self.decoder.decode(ll, nbest=self.n_best)
            words: tuple[WordSpan, ...] = ()
            if with_times:
                post = self.posteriors(ll)
                words = tuple(WordSpan(w, s, e, math.log(max(self.word_confidence(post, w, a, b), 1e-10)))
                              for (w, s, e), a, b in zip(result.times(self.model.frame_shift), result.starts,
                                                         result.ends))
            out.append(Hypothesis(result.text, words, tuple(result.alternatives)))
        return out

    def posteriors(self, loglikes: np.ndarray) -> np.ndarray:
        """The classifier's state posteriors ``p(s | x)`` back from scaled log-likelihoods: ``(T, P)`` -> ``(T, P)``."""
        m = self.model
        return np.exp(loglikes + m.prior_scale * m.log_prior.numpy()[None, :])

    def word_confidence(self, post: np.ndarray, word: str, start: int, end: int) -> float:
        """Confidence in [0, 1] of ``word`` (a word of the search's lexicon, hotwords included; a phone in
        phone mode) on frames ``[start, end)``: the mean over its frames of the posterior mass of the
        HMM states of its phones (any of its pronunciations).

        A frame the classifier gives to other phones lowers it; a word that the LM pushed in over
        audio of other phones scores near 0.
        """
        if end <= start:
            return 0.0
        pdfs = self._word_pdfs.get(word)
        if pdfs is None:
            phones = {ph for pron in self.lexicon.pronunciations(word) for ph in pron}
            pdfs = np.unique(np.concatenate([self.model.topo.pdfs(ph) for ph in phones]))
            self._word_pdfs[word] = pdfs
        return float(np.clip(post[start:end][:, pdfs].sum(axis=1).mean(), 0.0, 1.0))


def with_hotwords(model: HybridModel, hotwords: Iterable[str]) -> Lexicon:
    """The model's lexicon plus the hotwords it lacks, pronounced by espeak-ng in the model's language.

    Raises:
        ValueError: a hotword whose pronunciation holds a phone the model does not have.
    """
    lexicon = Lexicon({w: model.lexicon.pronunciations(w) for w in model.lexicon})
    new = [w for w in hotwords if w not in lexicon]
    if new:
        for w, phones in g2p(new, model.lang).items():
            if phones:
                lexicon.add(w, phones)
    usable, lost = usable_lexicon(lexicon, model.topo.phones)
    bad = sorted(set(lost) & set(new))
    if bad or any(w not in usable for w in new):
        raise ValueError(f"hotwords {bad or [w for w in new if w not in usable]}: espeak-ng pronounces them with "
                         "phones this model does not have")
    return usable


def phone_references(model: HybridModel, utts: Sequence[Utterance]) -> dict[str, str]:
    """Reference phone strings for a PER: each word's first pronunciation in the lexicon, else espeak-ng G2P."""
    refs = {}
    for u in utts:
        words = normalize(u.text, u.lang).split()
        missing = [w for w in words if w not in model.lexicon]
        extra = g2p(missing, u.lang) if missing else {}
        refs[u.id] = " ".join(p for w in words for p in (model.lexicon.pronounce(w) if w in model.lexicon else extra[w]))
    return refs
