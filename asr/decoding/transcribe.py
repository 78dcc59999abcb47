"""Waveforms to text with a trained CTC model directory, and decoding of whole manifests.

:class:`Transcriber` loads a model directory (:func:`asr.models.ctc.load_model_dir`)
and a registered decoder (``greedy``, ``beam``, ``lexicon``); it is what
``asr decode`` and ``asr transcribe`` run. :func:`decode_manifest` decodes a
JSONL manifest in duration-sorted batches and writes the hypotheses as a
manifest (same rows, ``text`` replaced), with the real-time factor.

Usage::

    asr_model = Transcriber("exp/ctc/model")                       # greedy, CPU
    texts = asr_model([wav1, wav2])                                # (S_i,) tensors -> strings
    lm_model = Transcriber("exp/ctc/model", decoder="lexicon", lm="lm.arpa", lm_weight=1.0)
    stats = decode_manifest("exp/ctc/model", "data/test.jsonl", "exp/ctc/hyp/test.jsonl", beam=8)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE, load_audio
from asr.data.collate import pad_sequences
from asr.data.dataset import AudioDataset
from asr.data.manifest import Utterance, read_manifest, write_manifest
from asr.decoding.ctc_lexicon import WordSpan, word_timestamps
from asr.decoding.greedy import greedy_search
from asr.models.ctc import load_model_dir
from asr.registry import build

__all__ = ["Transcriber", "decode_manifest", "choose_decoder"]


class Transcriber:
    """A model directory and a decoder: batches of waveforms in, texts out.

    Args:
        model_dir: a directory written by :func:`asr.models.ctc.save_model_dir`.
        device: where the model runs (``"cpu"``, ``"cuda"``, ...).
        decoder: registered decoder name: ``greedy``, ``beam`` (prefix beam
            search) or ``lexicon`` (lexicon + word n-gram LM).
        **decoder_options: passed to the decoder (``beam_size``, ``lm``, ``lm_weight``, ...).
    """

    def __init__(self, model_dir: str | os.PathLike, device: str | torch.device = "cpu", decoder: str = "greedy",
                 **decoder_options: Any):
        self.device = torch.device(device)
        self.model, self.tokenizer, self.cfg = load_model_dir(model_dir, self.device)
        self.decoder_name = decoder
        self.decoder = build("decoder", decoder, tokenizer=self.tokenizer, **decoder_options)

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

    def transcribe_with_times(self, wav: Tensor) -> tuple[str, list[WordSpan]]:
        """One waveform ``(S,)`` -> its text and each word's start and end in seconds.

        The text comes from the decoder; its tokens are then force-aligned to
        the frames (:func:`~asr.decoding.ctc_lexicon.word_timestamps`).
        """
        log_probs, lengths = self.log_probs([wav])
        text = self.decoder(log_probs, lengths)[0]
        lp = log_probs[0, : int(lengths[0])]
        ids = self.tokenizer.encode(text)
        if not ids:
            return text, []
        try:
            words = word_timestamps(lp, ids, self.tokenizer, self.frame_shift_s, wav.shape[-1] / SAMPLE_RATE)
        except ValueError:  # an LM-chosen text too long for the frames: fall back to the best path
            ids = greedy_search(lp[None])[0]
            words = word_timestamps(lp, ids, self.tokenizer, self.frame_shift_s, wav.shape[-1] / SAMPLE_RATE)
        return text, words


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


def decode_batches(utts: Sequence[Utterance], max_seconds: float) -> list[list[Utterance]]:
    """Decoding batches, longest first; each batch's padded seconds (size x longest) within ``max_seconds``."""
    order = sorted(utts, key=lambda u: -u.duration)
    batches: list[list[Utterance]] = []
    for u in order:
        if batches and (len(batches[-1]) + 1) * batches[-1][0].duration <= max_seconds:
            batches[-1].append(u)
        else:
            batches.append([u])
    return batches


def decode_manifest(
    model_dir: str | os.PathLike,
    manifest: str | os.PathLike,
    out_jsonl: str | os.PathLike,
    beam: int = 1,
    lm: str | os.PathLike | None = None,
    lm_weight: float = 1.0,
    word_score: float = 0.0,
    device: str = "cpu",
    batch_seconds: float = 60.0,
) -> dict[str, Any]:
    """Decode every utterance of ``manifest`` and write the hypotheses to ``out_jsonl``.

    Args:
        model_dir: trained model directory.
        manifest: JSONL manifest (audio, duration, reference text, ...).
        out_jsonl: written as a manifest with ``text`` = hypothesis, in the input order.
        beam, lm, lm_weight, word_score: decoder choice (:func:`choose_decoder`).
        device: ``cpu`` or ``cuda``.
        batch_seconds: padded audio seconds per batch.

    Returns:
        ``{"n_utts", "skipped", "audio_s", "wall_s", "compute_s", "rtf", "rtf_compute", "decoder", "device"}``
        (``skipped``: utterances whose audio could not be read, written with an empty hypothesis);
        ``rtf`` is wall time (audio loading included; model loading and one
        warm-up call not) over audio time; ``rtf_compute`` counts network and search only.
    """
    name, options = choose_decoder(beam, lm, lm_weight, word_score)
    transcriber = Transcriber(model_dir, device=device, decoder=name, **options)
    utts = read_manifest(manifest)
    transcriber([torch.zeros(SAMPLE_RATE)])  # warm-up (lazy initialisation, caches): not part of the RTF
    hyps: dict[str, str] = {}  # unreadable audio (logged by the dataset) gets an empty hypothesis
    audio_s = compute_s = 0.0
    t0 = time.perf_counter()
    for batch in decode_batches(utts, batch_seconds):
        items = [it for it in AudioDataset(batch) if "error" not in it]
        if not items:
            continue
        audio_s += sum(it["wav"].shape[0] for it in items) / SAMPLE_RATE
        t1 = time.perf_counter()
        texts = transcriber([it["wav"] for it in items])
        if transcriber.device.type == "cuda":
            torch.cuda.synchronize()
        compute_s += time.perf_counter() - t1
        hyps.update({it["id"]: t for it, t in zip(items, texts)})
    wall_s = time.perf_counter() - t0
    Path(out_jsonl).parent.mkdir(parents=True, exist_ok=True)
    write_manifest(out_jsonl, [dataclasses.replace(u, text=hyps.get(u.id, "")) for u in utts])
    return {
        "n_utts": len(utts),
        "skipped": len(utts) - len(hyps),
        "audio_s": audio_s,
        "wall_s": wall_s,
        "compute_s": compute_s,
        "rtf": wall_s / max(audio_s, 1e-9),
        "rtf_compute": compute_s / max(audio_s, 1e-9),
        "decoder": name,
        "device": str(transcriber.device),
    }
