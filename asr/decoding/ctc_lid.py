"""Spoken language identification and decoding with the chosen language's head (``language="auto"``).

A multilingual CTC model trained with a language-ID head (``MultilingualConfig(lang_id=True)``)
runs its shared encoder once per batch; the head's mean-pooled posterior picks each waveform's
language, and that language's token head and search (its own tokenizer, and its lexicon + LM where
the model directory saved one: :func:`asr.decoding.loaders.save_ctc_decoding`) decode it.

Usage::

    rec = LanguageIdTranscriber("exp/lid/model", decoders={"en": ("lexicon", {"lm": "lm/en.arpa"})})
    hyp = rec.transcribe([wav])[0]            # hyp.language == "en", hyp.language_prob == 0.97
    probs = rec.identify([wav])[0]            # {"en": 0.97, "de": 0.01, ...}
    asr.load("exp/lid/model", language="auto")
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE
from asr.data.collate import pad_sequences
from asr.decoding.ctc import Transcriber
from asr.decoding.types import Hypothesis
from asr.models.multilingual import LanguageView, load_multilingual_dir

__all__ = ["LanguageIdTranscriber"]


class LanguageIdTranscriber:
    """A multilingual model directory with a language-ID head: waveforms in, hypotheses with their language out.

    Args:
        model_dir: written by :func:`asr.models.multilingual.save_multilingual_dir` (with ``lang_id``).
        device: where the model runs.
        decoders: language -> ``(decoder name, options)`` (as :func:`asr.decoding.ctc.choose_decoder`
            gives); languages not named decode with ``default``.
        default: the search of the other languages (default greedy).
        n_best: hypotheses per waveform in ``alternatives``.

    Raises:
        ValueError: the model has no language-ID head, or no tokenizer for one of its languages.
    """

    system = "ctc"
    backend = "torch"

    def __init__(self, model_dir: str | os.PathLike, device: str | torch.device = "cpu",
                 decoders: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
                 default: tuple[str, dict[str, Any]] = ("greedy", {}), n_best: int = 1):
        self.device = torch.device(device)
        self.model, tokenizers, self.cfg = load_multilingual_dir(model_dir, self.device)
        if self.model.lang_head is None:
            raise ValueError(f"{model_dir}: no language-ID head (train with MultilingualConfig(lang_id=True)); "
                             f"name a language instead: {list(self.cfg.languages)}")
        self.languages = tuple(self.cfg.languages)
        self.heads: dict[str, Transcriber] = {}
        for lang in self.languages:
            if lang not in tokenizers:
                raise ValueError(f"{model_dir}: no tokenizer saved for {lang!r}")
            name, options = (decoders or {}).get(lang, default)
            self.heads[lang] = Transcriber.from_model(LanguageView(self.model, lang), tokenizers[lang], self.cfg,
                                                      self.device, name, n_best, **options)
        self.decoder_name = "+".join(sorted({t.decoder_name for t in self.heads.values()}))

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame."""
        return self.model.frame_shift_s

    @torch.inference_mode()
    def _encode(self, wavs: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        wav, lengths = pad_sequences([w.float().reshape(-1) for w in wavs], 0.0)
        return self.model.identify(wav.to(self.device), lengths.to(self.device))

    def identify(self, wavs: Sequence[Tensor]) -> list[dict[str, float]]:
        """``B`` waveforms ``(S_i,)`` at 16 kHz -> each one's language probabilities, most likely first."""
        _, _, lid = self._encode(wavs)
        return [dict(sorted(zip(self.languages, row.exp().tolist()), key=lambda kv: -kv[1])) for row in lid.cpu()]

    def transcribe(self, wavs: Sequence[Tensor], with_times: bool = False) -> list[Hypothesis]:
        """``B`` waveforms -> ``B`` hypotheses, each decoded by the head of the language identified for it."""
        wavs = list(wavs)
        if not wavs:
            return []
        hidden, lengths, lid = self._encode(wavs)  # (B, T', D), (B,), (B, L)
        best = lid.argmax(-1).cpu()
        out: list[Hypothesis | None] = [None] * len(wavs)
        for k, lang in enumerate(self.languages):
            rows = [b for b in range(len(wavs)) if int(best[b]) == k]
            if not rows:
                continue
            idx = torch.tensor(rows, device=hidden.device)
            with torch.inference_mode():
                log_probs = self.model.head_log_probs(hidden.index_select(0, idx), lang)  # (B_k, T', V_k)
            hyps = self.heads[lang].decode(log_probs, lengths.index_select(0, idx),
                                           [wavs[b].shape[-1] / SAMPLE_RATE for b in rows], with_times)
            for b, hyp in zip(rows, hyps):
                out[b] = dataclasses.replace(hyp, language=lang, language_prob=math.exp(float(lid[b, k])))
        return [h for h in out if h is not None]
