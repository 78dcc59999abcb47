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
import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from asr.data.manifest import Utterance
from asr.decoding.hybrid_search import DecoderConfig, HybridDecoder, LexiconTree, phone_loop_lexicon
from asr.decoding.types import Hypothesis, WordSpan
from asr.models.hybrid import HybridModel, load_hybrid
from asr.text.g2p import g2p
from asr.text.normalize import normalize

__all__ = ["MODES", "HybridRecognizer", "decoder_config", "phone_references"]

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
        **overrides: :class:`DecoderConfig` fields (``beam``, ``lm_weight``, ...; ``None`` keeps the model's).
    """

    system = "hybrid"

    def __init__(self, model: str | os.PathLike | HybridModel, device: str | torch.device = "cpu",
                 lm: str | os.PathLike | None = None, mode: str = "word", **overrides: Any):
        self.model = model if isinstance(model, HybridModel) else load_hybrid(model, lm)
        self.device = torch.device("cpu")
        self.decoder_name = mode
        self.cfg = decoder_config(self.model, mode, **overrides)
        m = self.model
        if mode == "word":
            tree, ngram = LexiconTree.build(m.lexicon, m.topo, m.lm), m.lm
        else:
            tree, ngram = LexiconTree.build(phone_loop_lexicon(m.topo.phones), m.topo, m.phone_lm), m.phone_lm
        self.decoder = HybridDecoder(tree, ngram, self.cfg)

    def transcribe(self, wavs: Sequence[Tensor], with_times: bool = False) -> list[Hypothesis]:
        """``B`` waveforms ``(S_i,)`` -> ``B`` hypotheses (words with times in seconds when ``with_times``)."""
        out = []
        for wav in wavs:
            result = self.decoder.decode(self.model.loglikes(wav).numpy())  # loglikes: (T, num_pdfs)
            words = tuple(WordSpan(w, s, e) for w, s, e in result.times(self.model.frame_shift)) if with_times else ()
            out.append(Hypothesis(result.text, words))
        return out


def phone_references(model: HybridModel, utts: Sequence[Utterance]) -> dict[str, str]:
    """Reference phone strings for a PER: each word's first pronunciation in the lexicon, else espeak-ng G2P."""
    refs = {}
    for u in utts:
        words = normalize(u.text, u.lang).split()
        missing = [w for w in words if w not in model.lexicon]
        extra = g2p(missing, u.lang) if missing else {}
        refs[u.id] = " ".join(p for w in words for p in (model.lexicon.pronounce(w) if w in model.lexicon else extra[w]))
    return refs
