"""Streaming recognition for both systems: audio fed as it arrives, partial results, endpoints.

:func:`open_stream` wraps a loaded recognizer (:class:`asr.decoding.hybrid.HybridRecognizer` or
:class:`asr.decoding.ctc.Transcriber`) in a :class:`Stream` (the
:class:`~asr.decoding.types.StreamingRecognizer` protocol): ``accept`` samples, read ``partial``,
``finalize``. Every ``chunk_s`` of new audio the network's output frames that no later audio can
change any more are computed and searched:

* **hybrid**: the token-passing search is frame-synchronous and kept between chunks
  (:class:`~asr.decoding.hybrid_search.HybridSearch`); each chunk's scaled log-likelihoods are
  computed over the utterance so far (MFCC, deltas and per-utterance CMVN of the audio received:
  the only part that differs from offline decoding) with the TDNN's and the deltas' right context
  (``lookahead`` frames, 140 ms) held back until more audio arrives; partials read a fork of the
  search advanced over those frames as they look now, so they do not wait for them;
* **CTC**: the encoder runs on a window of the last ``left_s`` seconds plus the new chunk; the
  window's frames older than ``lookahead_s`` are kept (a Conformer trained on whole utterances sees
  less context than offline: the streaming WER pays for it), and partials re-run the search on
  every frame kept plus the window's newest frames as they look now (greedy, prefix beam or
  lexicon + LM, as offline); finals use kept frames only. With ``chunk_s`` longer than
  the utterance the stream computes everything at ``finalize`` and equals offline decoding.

**Endpointing** (the rules of Kaldi's and sherpa's online decoders): an utterance ends after
``rule1_silence_s`` of trailing silence with nothing decoded, ``rule2_silence_s`` after a word, or
once it is ``max_utterance_s`` long; :meth:`Stream.endpoint` says so, and the caller finalizes
and resets. Trailing silence is read off the search: frames since the best path's last word ended
(hybrid), or since its last non-blank frame (CTC).

Usage::

    stream = open_stream(asr.load("exp/synth/ctc/model").engine, chunk_s=0.32)
    for block in blocks:                        # (S,) float32 at 16 kHz
        stream.accept(block)
        print(stream.partial().text)
        if stream.endpoint():
            print("final:", stream.finalize().text)
            stream.reset()
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE
from asr.decoding.types import Hypothesis, WordSpan
from asr.models.frame_classifier import scaled_loglikes

__all__ = ["EndpointConfig", "Stream", "HybridStream", "CTCStream", "ChunkedCTCStream", "LiveSession",
           "open_stream", "open_live", "stream_message", "LIVE_CHUNK_S", "LIVE_LOOKAHEAD_S"]


@dataclass(frozen=True)
class EndpointConfig:
    """When an utterance ends (seconds): trailing silence with nothing decoded (rule 1), after a
    word (rule 2), or its length (rule 3). Kaldi's defaults are 5 / 0.5-2 / 20; sherpa-onnx's 2.4 / 1.2 / 20."""

    rule1_silence_s: float = 2.4
    rule2_silence_s: float = 0.8
    max_utterance_s: float = 20.0


class Stream:
    """What both systems' streams share: the audio buffer, chunking, endpointing.

    Attributes:
        samples: samples received in this utterance.
        decoded_s: seconds of audio whose frames have been searched.
    """

    system = ""

    def __init__(self, engine: Any, chunk_s: float = 0.32, endpoint: EndpointConfig | None = None):
        if chunk_s <= 0:
            raise ValueError(f"chunk_s {chunk_s}: must be positive")
        self.engine = engine
        self.chunk = int(chunk_s * SAMPLE_RATE)
        self.endpoint_cfg = endpoint or EndpointConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the utterance (the model and search set-up are kept)."""
        self.audio: list[Tensor] = []
        self.samples = 0
        self.pending = 0  # samples received since the last update
        self._partial = Hypothesis("")
        self._dirty = False
        self._begin()

    def _begin(self) -> None:  # per-system state
        raise NotImplementedError

    def _wav(self) -> Tensor:
        if len(self.audio) > 1:
            self.audio = [torch.cat(self.audio)]
        return self.audio[0] if self.audio else torch.zeros(0)

    def accept(self, samples: Tensor | np.ndarray) -> None:
        """Feed ``(S,)`` more samples (16 kHz, float in [-1, 1]); the network runs once per ``chunk_s``."""
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32)).reshape(-1)
        if x.numel() == 0:
            return
        self.audio.append(x)
        self.samples += x.numel()
        self.pending += x.numel()
        if self.pending >= self.chunk:
            self.pending = 0
            self._update(final=False)
            self._dirty = True

    def partial(self) -> Hypothesis:
        """The best hypothesis of the audio searched so far (words with times and confidence)."""
        if self._dirty:
            self._partial = self._read_partial()
            self._dirty = False
        return self._partial

    def finalize(self) -> Hypothesis:
        """Search what is left (look-ahead included) and return the utterance's final hypothesis."""
        self._update(final=True)
        return self._read_final()

    def endpoint(self) -> bool:
        """Whether the utterance has ended by the endpoint rules (see :class:`EndpointConfig`)."""
        cfg = self.endpoint_cfg
        if self.samples >= cfg.max_utterance_s * SAMPLE_RATE:
            return True
        silence = self.trailing_silence()
        has_words = bool(self.partial().text)
        return silence >= (cfg.rule2_silence_s if has_words else cfg.rule1_silence_s)

    @property
    def decoded_s(self) -> float:
        raise NotImplementedError

    def trailing_silence(self) -> float:
        """Seconds since the best path's last word (or since the start when it has none)."""
        raise NotImplementedError

    def _update(self, final: bool) -> None:
        raise NotImplementedError

    def _read_partial(self) -> Hypothesis:
        raise NotImplementedError

    def _read_final(self) -> Hypothesis:
        raise NotImplementedError


class HybridStream(Stream):
    """The hybrid system's stream (see the module docstring); ``engine``: a :class:`HybridRecognizer`.

    Args:
        warmup_s: while the utterance is shorter than this, every chunk searches it again from its
            start: its first frames' per-utterance CMVN, computed on a fraction of a second, would
            turn leading silence into words (afterwards the statistics move little and the search
            goes on frame by frame). Streaming WER on the six synth test sets (0.16 s chunks, en es de
            fr it sw): 1.5 s 3.91 25.0 18.0 30.9 6.4 6.0; 3 s 3.91 24.2 20.0 31.3 6.4 7.7, at twice
            the compute; offline 3.91 24.2 21.5 31.3 6.4 6.6.
    """

    system = "hybrid"

    def __init__(self, engine: Any, chunk_s: float = 0.32, endpoint: EndpointConfig | None = None,
                 warmup_s: float = 1.5):
        self.warmup_s = warmup_s
        super().__init__(engine, chunk_s, endpoint)

    def _begin(self) -> None:
        m = self.engine.model
        self.search = self.engine.decoder.start()
        self.frames = 0  # frames searched
        fcfg = m.extractor.cfg
        self.lookahead = int(m.classifier.context) + fcfg.deltas * fcfg.delta_window  # frames held back
        self.left = int(m.classifier.context)  # frames of context recomputed before the first new frame
        self.loglikes: list[np.ndarray] = []  # kept for word confidences
        self.ahead: np.ndarray | None = None

    @property
    def decoded_s(self) -> float:
        return self.frames * self.engine.model.frame_shift

    def _update(self, final: bool) -> None:
        m = self.engine.model
        wav = self._wav()
        if wav.numel() == 0:
            return
        if self.frames and self.samples < self.warmup_s * SAMPLE_RATE:  # search again from the start
            self.search, self.frames, self.loglikes = self.engine.decoder.start(), 0, []
        with torch.no_grad():
            feats, _ = m.extractor(wav)  # (1, T, F): utterance CMVN of what has arrived
            T = feats.shape[1]
            end = T if final else T - self.lookahead
            if end <= self.frames:
                return
            lo = max(0, self.frames - self.left)
            ll = scaled_loglikes(m.classifier, feats[0, lo:], m.log_prior, m.prior_scale).numpy()
        new = ll[self.frames - lo : end - lo]
        self.search.advance(new)
        self.loglikes.append(new)
        self.frames = end
        self.ahead = None if final else ll[end - lo :]  # the held-back frames as they look now: partials read them too

    def _ahead(self) -> Any:
        """The search so far plus the held-back frames (a fork), for partials that do not wait for them."""
        if self.ahead is None or not len(self.ahead):
            return self.search
        fork = self.search.fork()
        fork.advance(self.ahead)
        return fork

    def _words(self, result: Any, ahead: bool = False) -> tuple[WordSpan, ...]:
        if len(self.loglikes) > 1:
            self.loglikes = [np.concatenate(self.loglikes)]
        ll = self.loglikes[0] if self.loglikes else np.zeros((0, 1))
        if ahead and self.ahead is not None and len(self.ahead):
            ll = np.concatenate([ll, self.ahead])
        shift = self.engine.model.frame_shift
        out = []
        for w, a, b in zip(result.words, result.starts, result.ends):
            post = self.engine.posteriors(ll[a:b])  # the word's frames only
            out.append(WordSpan(w, round(a * shift, 3), round(b * shift, 3),
                                math.log(max(self.engine.word_confidence(post, w, 0, b - a), 1e-10))))
        return tuple(out)

    def _read_partial(self) -> Hypothesis:
        result = self._ahead().partial()
        return Hypothesis(result.text, self._words(result, ahead=True))

    def _read_final(self) -> Hypothesis:
        result = self.search.finish()
        return Hypothesis(result.text, self._words(result))

    def trailing_silence(self) -> float:
        result = self.search.partial()
        last = int(result.ends[-1]) if len(result.ends) else 0
        return (self.frames - last) * self.engine.model.frame_shift


class _CTCFrames(Stream):
    """What both CTC streams share: the kept frames' log-probabilities ``lp`` (final once kept), their
    search (:meth:`asr.decoding.ctc.Transcriber.decode`) and the trailing silence read off them."""

    system = "ctc"

    def _begin(self) -> None:
        self.lp: list[Tensor] = []  # kept frames, (n, V) each
        self.frames = 0

    @property
    def decoded_s(self) -> float:
        return self.frames * self.engine.frame_shift_s

    def _provisional(self) -> Tensor | None:
        """Frames after the kept ones as they look now (partials read them), ``(n, V)``, or ``None``."""
        return None

    def _decode(self, provisional: bool = False) -> Hypothesis:
        extra = self._provisional() if provisional else None
        parts = self.lp + ([extra] if extra is not None and len(extra) else [])
        if not parts:
            return Hypothesis("")
        lp = torch.cat(parts)[None]  # (1, T, V)
        return self.engine.decode(lp, torch.tensor([lp.shape[1]]), [self.samples / SAMPLE_RATE], with_times=True)[0]

    def _read_partial(self) -> Hypothesis:
        return self._decode(provisional=True)

    def _read_final(self) -> Hypothesis:
        return self._decode()

    def trailing_silence(self) -> float:
        if not self.frames:
            return 0.0
        lp = torch.cat(self.lp)
        self.lp = [lp]
        nonblank = torch.nonzero(lp.argmax(-1) != self.engine.tokenizer.blank_id)
        last = int(nonblank[-1]) + 1 if nonblank.numel() else 0
        return (self.frames - last) * self.engine.frame_shift_s


class CTCStream(_CTCFrames):
    """The CTC system's stream (see the module docstring); ``engine``: a :class:`~asr.decoding.ctc.Transcriber`.

    Args:
        left_s: seconds of audio before the new chunk the encoder sees again (``None``: all of it).
        lookahead_s: the newest frames of a window are recomputed with the next chunk, not kept.
    """

    def __init__(self, engine: Any, chunk_s: float = 0.32, endpoint: EndpointConfig | None = None,
                 left_s: float | None = 4.0, lookahead_s: float = 0.32):
        self.left_s, self.lookahead_s = left_s, lookahead_s
        super().__init__(engine, chunk_s, endpoint)

    def _begin(self) -> None:
        super()._begin()
        self.ahead: Tensor | None = None  # the window's newest frames as they look now
        self.stride = int(round(self.engine.frame_shift_s * SAMPLE_RATE))  # samples per output frame

    def _update(self, final: bool) -> None:
        wav = self._wav()
        if wav.numel() == 0:
            return
        start_frame = 0  # left_s None: the whole utterance again
        if self.left_s is not None:
            start_frame = max(0, self.frames - int(self.left_s * SAMPLE_RATE) // self.stride)
        lp, n = self.engine.log_probs([wav[start_frame * self.stride :]])  # (1, T', V)
        lp = lp[0, : int(n[0])].float().cpu()
        total = start_frame + lp.shape[0]
        end = total if final else total - int(math.ceil(self.lookahead_s / self.engine.frame_shift_s))
        if end > self.frames:
            self.lp.append(lp[self.frames - start_frame : end - start_frame])
            self.frames = end
        self.ahead = None if final else lp[max(self.frames, start_frame) - start_frame :]

    def _provisional(self) -> Tensor | None:
        return self.ahead


class ChunkedCTCStream(_CTCFrames):
    """A chunk-trained CTC model's stream (``ModelConfig(causal_conv=True, dynamic_chunk=True,
    chunk_left=L)``): the encoder runs once per chunk of ``chunk_s`` with each block's cached inputs
    (:meth:`~asr.models.encoders.ConformerEncoder.forward_chunk`: each block runs again over its kept
    inputs and the new chunk), so a chunk's frames are final when computed; front end and subsampling
    are recomputed over the audio so far, the newest :data:`HOLD_FRAMES` subsampled frames held back
    (their right context). Partials also run the unfinished chunk, as it looks now, without keeping it.
    """

    HOLD_FRAMES = 2  # subsampled frames whose feature frames still change with more audio

    def __init__(self, engine: Any, chunk_s: float = 0.32, endpoint: EndpointConfig | None = None):
        self.chunk_frames = max(1, int(round(chunk_s / engine.frame_shift_s)))
        super().__init__(engine, chunk_s, endpoint)

    def _begin(self) -> None:
        super()._begin()
        self.cache: list[Tensor] | None = None
        self.embedded = 0  # subsampled frames sent through the encoder
        self.queued: list[Tensor] = []  # embedded frames waiting for a whole chunk

    def _run_chunk(self, h: Tensor, keep: bool) -> Tensor:
        """``h (1, C, D)`` embedded frames through the blocks and the head -> ``(C, V)``; ``keep``: the cache too."""
        model = self.engine.model
        out, cache = model.encoder.forward_chunk(h, self.cache, self.chunk_frames)
        if keep:
            self.cache = cache
        return model.head(out).float().log_softmax(-1)[0].cpu()

    @torch.inference_mode()
    def _update(self, final: bool) -> None:
        wav = self._wav()
        if wav.numel() == 0:
            return
        model = self.engine.model
        device = self.engine.device
        feats, lengths = model.features(wav[None].to(device), torch.tensor([wav.numel()], device=device))
        h, n, _ = model.encoder.embed(feats, lengths)  # (1, T', D): the whole utterance's subsampled frames
        end = int(n[0]) if final else int(n[0]) - self.HOLD_FRAMES
        if end > self.embedded:
            self.queued.append(h[:, self.embedded : end])
            self.embedded = end
        ready = torch.cat(self.queued, dim=1) if self.queued else h[:, :0]
        step = self.chunk_frames
        whole = ready.shape[1] if final else (ready.shape[1] // step) * step
        for i in range(0, whole, step):
            self.lp.append(self._run_chunk(ready[:, i : i + step], keep=True))
            self.frames += self.lp[-1].shape[0]
        self.queued = [ready[:, whole:]] if whole < ready.shape[1] else []

    @torch.inference_mode()
    def _provisional(self) -> Tensor | None:
        if not self.queued or not self.queued[0].shape[1]:
            return None
        return self._run_chunk(self.queued[0], keep=False)  # the unfinished chunk, as it looks now


def stream_message(hyp: Hypothesis, kind: str, offset_s: float = 0.0) -> dict[str, Any]:
    """A hypothesis as a live message: ``{"type": kind, "text", "words": [{"word", "start", "end",
    "confidence"}]}``, times shifted by ``offset_s`` (the utterance's start in the stream), as
    ``asr serve``'s WebSocket and ``asr transcribe --stream -f json`` send them."""
    words = [{"word": w.word, "start": round(w.start + offset_s, 3), "end": round(w.end + offset_s, 3),
              "confidence": round(math.exp(min(w.score, 0.0)), 4)} for w in hyp.words]
    return {"type": kind, "text": hyp.text, "words": words}


LIVE_CHUNK_S = {"ctc": 0.32, "hybrid": 0.16}  # tools/bench_stream.py: hybrid p95 293-389 ms at 0.1 x real time
LIVE_LOOKAHEAD_S = 0.64  # CTC windows: streaming WER 1.00-1.07x offline (0.32 s: up to 1.23x)


def open_live(engine: Any, endpoint: EndpointConfig | None = None, chunk_s: float | None = None,
              lookahead_s: float = LIVE_LOOKAHEAD_S) -> Stream:
    """:func:`open_stream` with the live defaults of ``asr serve`` and ``asr transcribe --stream``:
    ``chunk_s`` per system (:data:`LIVE_CHUNK_S`), CTC windows with ``lookahead_s``."""
    system = getattr(engine, "system", "")
    options = {"lookahead_s": lookahead_s} if system == "ctc" else {}
    return open_stream(engine, chunk_s or LIVE_CHUNK_S.get(system, LIVE_CHUNK_S["ctc"]), endpoint, **options)


class LiveSession:
    """A stream over any number of utterances, as a connection sees it: :meth:`feed` samples, get
    messages (:func:`stream_message` plus ``audio_s``, the seconds received so far): a partial when
    its text changes, a final at every endpoint (the stream then starts the next utterance, word
    times counting on from where it ended), and :meth:`finish`'s final at the end."""

    def __init__(self, stream: Stream):
        self.stream = stream
        self.offset = 0.0  # seconds before the current utterance
        self.received = 0  # samples of the whole session
        self.last = ""

    def message(self, hyp: Hypothesis, kind: str) -> dict[str, Any]:
        """``hyp`` as a message of this session."""
        return {**stream_message(hyp, kind, self.offset), "audio_s": round(self.received / SAMPLE_RATE, 3)}

    def feed(self, samples: Tensor | np.ndarray) -> list[dict[str, Any]]:
        """``(S,)`` more samples -> the messages they cause (possibly none)."""
        s = self.stream
        self.received += int(np.asarray(samples).size)
        s.accept(samples)
        out = []
        p = s.partial()
        if p.text != self.last:
            out.append(self.message(p, "partial"))
            self.last = p.text
        if s.endpoint():
            out.append(self.message(s.finalize(), "final"))
            self.offset += s.samples / SAMPLE_RATE
            s.reset()
            self.last = ""
        return out

    def finish(self) -> dict[str, Any]:
        """The last utterance's final message."""
        return self.message(self.stream.finalize(), "final")


def open_stream(engine: Any, chunk_s: float = 0.32, endpoint: EndpointConfig | None = None, **options: Any) -> Stream:
    """A :class:`Stream` over a loaded recognizer of either system (``options``: :class:`CTCStream`'s
    ``left_s`` / ``lookahead_s``, :class:`HybridStream`'s ``warmup_s``).

    Raises:
        ValueError: a recognizer that cannot stream (a language-ID model, an ONNX backend is fine).
    """
    if getattr(engine, "system", "") == "hybrid":
        return HybridStream(engine, chunk_s, endpoint, **options)
    if not hasattr(engine, "decode") or not hasattr(engine, "tokenizer"):
        raise ValueError(f"{type(engine).__name__}: streaming needs a one-language CTC or a hybrid model")
    encoder = getattr(getattr(engine, "model", None), "encoder", None)
    if getattr(encoder, "dynamic_chunk", False) and getattr(encoder, "chunk_left", -1) >= 0:
        return ChunkedCTCStream(engine, chunk_s, endpoint)  # chunk-trained: cached, no look-ahead
    return CTCStream(engine, chunk_s, endpoint, **options)
