"""Waveforms to text with a trained CTC model directory: the CTC road's :class:`~asr.decoding.types.Recognizer`.

:class:`Transcriber` loads a model directory (:func:`asr.models.ctc.load_model_dir`)
and a registered decoder (``greedy``, ``beam``, ``lexicon``); it is what
``asr decode`` and ``asr transcribe`` run for a CTC model (through
:func:`asr.systems.load_recognizer`), and :func:`asr.decoding.manifest.decode_manifest`
decodes whole manifests with it. :func:`choose_decoder` maps the ``--beam`` / ``--lm``
flags to a decoder.

Usage::

    asr_model = Transcriber("exp/ctc/model")                       # greedy, CPU
    texts = asr_model([wav1, wav2])                                # (S_i,) tensors -> strings
    lm_model = Transcriber("exp/ctc/model", decoder="lexicon", lm="lm.arpa", lm_weight=1.0)
    fast = Transcriber("exp/ctc/model", backend="onnx-int8")       # after asr export --format onnx --int8
    hyps = lm_model.transcribe([wav1], with_times=True)            # [Hypothesis(text, words)]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE, load_audio
from asr.data.collate import pad_sequences
from asr.decoding.ctc_lexicon import word_timestamps
from asr.decoding.greedy import greedy_search
from asr.decoding.types import Hypothesis, WordSpan
from asr.models.ctc import ModelConfig, load_model_dir, read_model_config
from asr.models.multilingual import FORMAT as MULTILINGUAL_FORMAT
from asr.models.multilingual import load_language_view
from asr.models.pretrained import read_any_config
from asr.registry import build
from asr.text.tokenizer import load_tokenizer

__all__ = ["Transcriber", "choose_decoder"]


class Transcriber:
    """A model directory and a decoder: batches of waveforms in, texts out.

    Args:
        model_dir: a directory written by :func:`asr.models.ctc.save_model_dir`, or a
            multilingual one (:func:`asr.models.multilingual.save_multilingual_dir`).
        device: where the model runs (``"cpu"``, ``"cuda"``, ...).
        lang: a multilingual model's head to decode with (``None``: its only language).
        decoder: registered decoder name: ``greedy``, ``beam`` (prefix beam
            search) or ``lexicon`` (lexicon + word n-gram LM).
        backend: ``torch``, or ``onnx`` / ``onnx-int8``: the directory's ``model.onnx`` /
            ``model.int8.onnx`` (:func:`asr.export.export_onnx`) in onnxruntime, on the CPU.
        **decoder_options: passed to the decoder (``beam_size``, ``lm``, ``lm_weight``, ...).
    """

    system = "ctc"

    def __init__(self, model_dir: str | os.PathLike, device: str | torch.device = "cpu", decoder: str = "greedy",
                 lang: str | None = None, n_best: int = 1, backend: str = "torch", **decoder_options: Any):
        self.device = torch.device(device)
        self.n_best = n_best
        self.backend = backend
        multilingual = read_any_config(model_dir)["format"] == MULTILINGUAL_FORMAT
        if backend != "torch":
            from asr.models.onnx import OnnxCTC, onnx_file

            if multilingual:
                raise ValueError(f"backend {backend!r}: ONNX export covers one-language CTC models so far")
            if self.device.type != "cpu":
                raise ValueError(f"backend {backend!r} runs on the CPU (device {device!r} asked for)")
            path = onnx_file(model_dir, backend)  # checks the file first: no weights loaded in vain
            self.tokenizer = load_tokenizer(model_dir)
            self.cfg = ModelConfig.from_dict(read_model_config(model_dir)["model"])
            self.model = OnnxCTC(path)
        elif multilingual:
            self.model, self.tokenizer, self.cfg = load_language_view(model_dir, lang, self.device)
        else:
            self.model, self.tokenizer, self.cfg = load_model_dir(model_dir, self.device)
        self._set_decoder(decoder, decoder_options)

    def _set_decoder(self, decoder: str, options: dict[str, Any]) -> None:
        self.decoder_name = decoder
        self.decoder = build("decoder", decoder, tokenizer=self.tokenizer, **options)
        if self.n_best > 1 and not hasattr(self.decoder, "nbest"):
            raise ValueError(f"n-best: the {decoder} decoder gives one hypothesis (use a beam, or an LM)")

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, cfg: Any, device: str | torch.device = "cpu",
                   decoder: str = "greedy", n_best: int = 1, **decoder_options: Any) -> Transcriber:
        """A transcriber over a model already loaded (e.g. one head of a shared multilingual model):
        ``model`` has ``log_probs (B, S), (B,) -> (B, T', V), (B,)`` and ``frame_shift_s``."""
        self = cls.__new__(cls)
        self.device, self.n_best, self.backend = torch.device(device), n_best, "torch"
        self.model, self.tokenizer, self.cfg = model, tokenizer, cfg
        self._set_decoder(decoder, decoder_options)
        return self

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame."""
        return self.model.frame_shift_s

    @staticmethod
    def _batch(wavs: Sequence[Tensor] | Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
        if isinstance(wavs, Tensor):
            if wavs.dim() == 1:
                wavs = wavs[None]
            if lengths is None:
                lengths = torch.full((wavs.shape[0],), wavs.shape[1], dtype=torch.long)
            return wavs.float(), lengths.long()
        return pad_sequences([w.float().reshape(-1) for w in wavs], 0.0)

    @torch.inference_mode()
    def log_probs(self, wavs: Sequence[Tensor] | Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Frame log-probabilities.

        Args:
            wavs: ``B`` waveforms ``(S_i,)`` at 16 kHz in [-1, 1], or a padded
                ``(B, S)`` tensor with ``lengths (B,)``.

        Returns:
            ``(B, T', V)`` float32 log-probabilities and ``(B,)`` valid frames, on the model's device.
        """
        wav, wav_lengths = self._batch(wavs, lengths)
        return self.model.log_probs(wav.to(self.device), wav_lengths.to(self.device))

    def __call__(self, wavs: Sequence[Tensor] | Tensor, lengths: Tensor | None = None) -> list[str]:
        """Texts of ``B`` waveforms (as for :meth:`log_probs`)."""
        log_probs, out_lengths = self.log_probs(wavs, lengths)
        return self.decoder(log_probs, out_lengths)

    def transcribe_files(self, paths: Sequence[str | os.PathLike]) -> list[str]:
        """Texts of audio files (any format :func:`asr.audio.load_audio` reads), one batch."""
        return self([load_audio(p) for p in paths])

    def transcribe(self, wavs: Sequence[Tensor], with_times: bool = False) -> list[Hypothesis]:
        """``B`` waveforms ``(S_i,)`` -> ``B`` hypotheses; with ``with_times`` each word's start and end in seconds.

        The texts come from the decoder; for word times each text's tokens are then
        force-aligned to the frames (:func:`~asr.decoding.ctc_lexicon.word_timestamps`).
        """
        log_probs, lengths = self.log_probs(list(wavs))  # (B, T', V), (B,)
        return self.decode(log_probs, lengths, [w.shape[-1] / SAMPLE_RATE for w in wavs], with_times)

    def decode(self, log_probs: Tensor, lengths: Tensor, durations: Sequence[float], with_times: bool = False
               ) -> list[Hypothesis]:
        """The search over frame log-probabilities: ``(B, T', V)``, ``(B,)`` -> ``B`` hypotheses
        (``durations``: each input's seconds, the last word's end at most)."""
        if self.n_best > 1:
            alts = [tuple(a[: self.n_best]) for a in self.decoder.nbest(log_probs, lengths)]
            texts = [a[0][0] for a in alts]
        else:
            texts, alts = self.decoder(log_probs, lengths), [()] * len(durations)
        if not with_times:
            return [Hypothesis(t, (), a) for t, a in zip(texts, alts)]
        return [Hypothesis(text, tuple(self._word_times(log_probs[b, : int(lengths[b])].float().cpu(), text, dur)),
                           alts[b])
                for b, (dur, text) in enumerate(zip(durations, texts))]

    def _word_times(self, lp: Tensor, text: str, duration_s: float) -> list[WordSpan]:
        """Word spans of ``text`` in one utterance's ``(T', V)`` log-probabilities."""
        ids = self.tokenizer.encode(text)
        if not ids:
            return []
        try:
            return word_timestamps(lp, ids, self.tokenizer, self.frame_shift_s, duration_s)
        except ValueError:  # an LM-chosen text too long for the frames: fall back to the best path
            return word_timestamps(lp, greedy_search(lp[None])[0], self.tokenizer, self.frame_shift_s, duration_s)

    def transcribe_with_times(self, wav: Tensor) -> tuple[str, list[WordSpan]]:
        """One waveform ``(S,)`` -> its text and each word's span (:meth:`transcribe` with times)."""
        hyp = self.transcribe([wav], with_times=True)[0]
        return hyp.text, list(hyp.words)


def choose_decoder(beam: int = 1, lm: str | os.PathLike | None = None, lm_weight: float = 1.0,
                   word_score: float = 0.0) -> tuple[str, dict[str, Any]]:
    """Decoder name and options for the CLI's ``--beam`` / ``--lm`` flags.

    ``lm`` given: ``lexicon`` (beam ``beam`` or 50 when ``beam <= 1``); else
    ``beam > 1``: ``beam`` (prefix beam search); else ``greedy``.
    """
    if lm is not None:
        return "lexicon", {"lm": str(lm), "beam_size": beam if beam > 1 else 50, "lm_weight": lm_weight,
                           "word_score": word_score}
    if beam > 1:
        return "beam", {"beam_size": beam}
    return "greedy", {}
