"""One call from a model directory to transcripts, for either system: ``asr.load(DIR).transcribe(audio)``.

Usage::

    import asr

    rec = asr.load("exp/synth/ctc/model")                    # or a hybrid model directory; device="cuda"
    t = rec.transcribe("talk.flac")                          # a path: read in chunks, any length
    print(t.text)
    for w in t.words:                                        # times in seconds from the start of the audio
        print(w.word, w.start, w.end, w.confidence)          # confidence in [0, 1], both systems
    for seg in t.segments:                                   # subtitle-sized pieces: start, end, text, words
        print(seg.start, seg.end, seg.text)
    t = rec.transcribe(samples, sample_rate=8000)            # numpy (S,) or (S, C); torch (S,) or (C, S)
    ts = rec.transcribe_batch(["a.wav", "b.wav"])            # chunks of several files decoded together
    rec = asr.load(DIR, vad="auto")                          # decode speech segments only (asr.vad)
    rec = asr.load(DIR, language="auto")                     # multilingual model with a language-ID head
    rec = asr.load(DIR, backend="onnx-int8")                 # CTC in onnxruntime, int8 (asr export --format onnx --int8)
    json.dumps(t.to_dict())                                  # what ``asr transcribe -f json`` writes

Long audio is read and decoded in windows of at most ``chunk_seconds`` (30 s), each cut at the
quietest 25 ms frame of its last half so that cuts fall in pauses; word times are shifted back to
the file's clock, and memory is bounded by the window times the batch size, not the file's length.

``asr transcribe`` (:mod:`asr.cli.transcribe`) is a thin command line over :class:`Recognizer`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE, AudioError, info, load_audio, resample
from asr.decoding.types import Recognizer as Engine
from asr.decoding.types import AUTO_LANGUAGE, WordSpan
from asr.errors import UsageError

__all__ = ["CHUNK_SECONDS", "Word", "Segment", "Transcript", "Failure", "Recognizer", "load", "iter_chunks",
           "segments"]

CHUNK_SECONDS = 30.0  # s: longest piece of audio decoded at once
FRAME_SECONDS = 0.025  # s: energy frame used to find a pause to cut at
PROGRESS_SECONDS = 120.0  # s: files longer than this report progress
MAX_CUE_WORDS = 10  # words per segment at most
MAX_CUE_SECONDS = 5.0  # s: a segment's length at most
CUE_GAP_SECONDS = 0.8  # s: a pause this long starts a new segment
ONEDNN_CACHE = 4  # oneDNN primitives kept (one per input shape; see load)


@dataclass(frozen=True)
class Word:
    """A recognised word: ``start`` / ``end`` in seconds; ``confidence`` in [0, 1] (``None``: not known).

    CTC: the geometric mean of the frame posteriors along the best path over the word's frames;
    hybrid: the mean over its frames of the classifier's posterior mass on its phones' HMM states.
    """

    word: str
    start: float
    end: float
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"word", "start", "end"}`` (times rounded to ms), plus ``"confidence"`` where known."""
        out: dict[str, Any] = {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3)}
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 4)
        return out


@dataclass(frozen=True)
class Segment:
    """A subtitle-sized piece of a transcript: ``start`` / ``end`` in seconds, its ``text`` and ``words``."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass
class Transcript:
    """The transcript of one input: ``audio`` (its name), ``text``, ``words``, ``duration`` in seconds;
    ``language``: the one decoded with (identified with ``language="auto"``: the language of most of
    its audio, each window decoded in the language identified for it)."""

    audio: str
    text: str
    words: list[Word]
    duration: float
    language: str = ""
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    @property
    def segments(self) -> list[Segment]:
        """The words grouped into segments (:func:`segments`)."""
        return [Segment(s, e, t, tuple(ws)) for (s, e, t), ws in _cues(self)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``asr transcribe -f json``: ``audio``, ``text``, ``words``, ``duration``,
        ``language`` (when known), ``alternatives`` (with n-best)."""
        out: dict[str, Any] = {"audio": self.audio, "text": self.text, "words": [w.to_dict() for w in self.words],
                               "duration": round(self.duration, 3)}
        if self.language:
            out["language"] = self.language
        if self.alternatives:
            out["alternatives"] = [{"text": t, "score": round(float(s), 4)} for t, s in self.alternatives]
        return out


@dataclass(frozen=True)
class Failure:
    """An input that could not be transcribed: its name and the reason."""

    audio: str
    problem: str

    def __str__(self) -> str:
        return f"{self.audio}: {self.problem}"


def _cues(t: Transcript) -> list[tuple[tuple[float, float, str], list[Word]]]:
    if not t.words:
        return [((0.0, t.duration, t.text), [])] if t.text else []
    groups: list[list[Word]] = [[]]
    for w in t.words:
        cur = groups[-1]
        if cur and (len(cur) >= MAX_CUE_WORDS or w.end - cur[0].start > MAX_CUE_SECONDS
                    or w.start - cur[-1].end >= CUE_GAP_SECONDS):
            cur = []
            groups.append(cur)
        cur.append(w)
    return [((g[0].start, max(g[-1].end, g[0].start), " ".join(w.word for w in g)), g) for g in groups]


def segments(t: Transcript) -> list[tuple[float, float, str]]:
    """A transcript's words as cues ``(start_s, end_s, text)``, in time order.

    A cue ends after :data:`MAX_CUE_WORDS` words, :data:`MAX_CUE_SECONDS`, or before a pause of
    :data:`CUE_GAP_SECONDS`. Without word times (empty transcript) a non-empty text is one cue
    spanning the file.
    """
    return [cue for cue, _ in _cues(t)]


# ---------------------------------------------------------------------------
# Reading audio
# ---------------------------------------------------------------------------


def _quietest_cut(wav: Tensor, lo: int, hi: int) -> int:
    """Sample index in ``[lo, hi)`` at the centre of the lowest-energy frame of ``wav (S,)``."""
    frame = int(FRAME_SECONDS * SAMPLE_RATE)
    seg = wav[lo:hi]
    n = seg.shape[0] // frame
    if n < 2:
        return hi
    energy = seg[: n * frame].reshape(n, frame).pow(2).mean(dim=1)
    return lo + int(torch.argmin(energy)) * frame + frame // 2


def iter_chunks(path: str | os.PathLike, chunk_s: float = CHUNK_SECONDS) -> Iterator[tuple[float, Tensor, float]]:
    """Read a file piece by piece, cutting in pauses.

    Each window of ``chunk_s`` seconds is read with :func:`asr.audio.load_audio`
    (only that window is in memory); unless it reaches the end of the file, it
    is cut at the quietest frame of its second half, and the next window starts there.

    Yields:
        ``(offset_s, wav, duration_s)``: the chunk's start in the file, its
        ``(S,)`` 16 kHz mono waveform, and the whole file's duration.

    Raises:
        AudioError: the file is missing, empty, or cannot be decoded.
    """
    meta = info(path)
    total = meta.duration
    if total <= 0:  # MP3 headers may not know the length: read it all
        wav = load_audio(path)
        total = wav.shape[0] / SAMPLE_RATE
        if total <= chunk_s:
            yield 0.0, wav, total
            return
        del wav
    read = lambda pos: load_audio(path, offset=pos / SAMPLE_RATE, duration=chunk_s)  # noqa: E731
    yield from _windows(read, int(round(total * SAMPLE_RATE)), int(chunk_s * SAMPLE_RATE), total, SAMPLE_RATE // 100)


def _windows(read: Callable[[int], Tensor], end: int, win: int, total: float, tail: int = 0
             ) -> Iterator[tuple[float, Tensor, float]]:
    """Windows of ``win`` samples of audio ``end`` samples (``total`` seconds) long, each but the last
    cut at its quietest frame of its second half; ``read(pos)`` gives up to ``win`` samples from
    ``pos``. A window that reaches within ``tail`` samples of the end is the last one. Yields
    :func:`iter_chunks`' triples."""
    pos = 0
    while pos < end:
        wav = read(pos)
        if pos + wav.shape[0] >= end - tail or wav.shape[0] < win:
            yield pos / SAMPLE_RATE, wav, total
            return
        cut = _quietest_cut(wav, wav.shape[0] // 2, wav.shape[0])
        yield pos / SAMPLE_RATE, wav[:cut], total
        pos += cut


def _split_array(wav: Tensor, chunk_s: float) -> Iterator[tuple[float, Tensor, float]]:
    """:func:`iter_chunks` for a waveform in memory: ``(S,)`` at 16 kHz."""
    win = int(chunk_s * SAMPLE_RATE)
    if wav.shape[0] == 0:
        yield 0.0, wav, 0.0
        return
    yield from _windows(lambda pos: wav[pos : pos + win], wav.shape[0], win, wav.shape[0] / SAMPLE_RATE)


def as_waveform(audio: np.ndarray | Tensor, sample_rate: int | None) -> Tensor:
    """Samples in memory -> ``(S,)`` float32 mono at 16 kHz.

    Args:
        audio: numpy ``(S,)`` or ``(S, C)`` (soundfile's layout), torch ``(S,)`` or ``(C, S)``
            (torchaudio's); integer PCM is scaled to [-1, 1].
        sample_rate: the samples' rate (``None``: 16 kHz).

    Raises:
        ValueError: more than two dimensions, a bad rate, or NaN / infinite samples.
    """
    x = torch.from_numpy(np.ascontiguousarray(audio)) if isinstance(audio, np.ndarray) else audio.detach().cpu()
    if x.dtype in (torch.int16, torch.int32, torch.int8, torch.uint8):
        scale = {torch.int16: 32768.0, torch.int32: 2147483648.0, torch.int8: 128.0}.get(x.dtype)
        x = (x.float() - 128.0) / 128.0 if x.dtype == torch.uint8 else x.float() / scale
    x = x.float()
    if x.dim() == 2:
        x = x.mean(dim=1) if isinstance(audio, np.ndarray) else x.mean(dim=0)
    if x.dim() != 1:
        raise ValueError(f"audio must be (S,) or two-dimensional, got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("audio holds NaN or infinite samples")
    rate = SAMPLE_RATE if sample_rate is None else int(sample_rate)
    if rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    return resample(x, rate, SAMPLE_RATE).contiguous() if rate != SAMPLE_RATE else x.contiguous()


# ---------------------------------------------------------------------------
# The recognizer
# ---------------------------------------------------------------------------


@dataclass
class _State:
    name: str
    problem: str = ""
    duration: float = 0.0
    pieces: list[tuple[str, list[Word]]] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # of the first piece
    languages: dict[str, float] = field(default_factory=dict)  # language identified -> seconds of audio
    queued: int = 0  # chunks handed to the engine
    closed: bool = False  # every chunk of the input has been queued (or reading failed)


class Recognizer:
    """A loaded model and its search behind one interface (either system); see the module docstring.

    Attributes:
        engine: the road's recognizer (:class:`asr.decoding.types.Recognizer`: batches of 16 kHz
            waveforms in, hypotheses out).
        system: ``"ctc"`` or ``"hybrid"``.
        chunk_seconds: longest window decoded at once.
        batch_size: windows decoded together.
    """

    def __init__(self, engine: Engine, chunk_seconds: float = CHUNK_SECONDS, batch_size: int = 1,
                 language: str = "", vad: str | None = None):
        """Wrap ``engine`` (see :func:`load`)."""
        self.check_options(chunk_seconds, batch_size, vad)
        self.engine, self.chunk_seconds, self.batch_size, self.language = engine, chunk_seconds, batch_size, language
        self.vad = vad

    @staticmethod
    def check_options(chunk_seconds: float, batch_size: int, vad: str | None) -> None:
        """Raise :class:`~asr.errors.UsageError` for a window under 1 s, a batch under 1 or an unknown VAD."""
        if chunk_seconds < 1.0:
            raise UsageError(f"chunk_seconds {chunk_seconds:g}: must be >= 1")
        if batch_size < 1:
            raise UsageError(f"batch_size {batch_size}: must be >= 1")
        if vad is not None:
            from asr.vad import detector_name

            try:
                detector_name(vad)
            except ValueError as e:
                raise UsageError(str(e)) from None

    @property
    def system(self) -> str:
        """``"ctc"`` or ``"hybrid"``."""
        return self.engine.system

    @property
    def device(self) -> torch.device:
        """Where the network runs."""
        return self.engine.device

    def _word(self, w: WordSpan, offset: float) -> Word:
        return Word(w.word, round(w.start + offset, 3), round(w.end + offset, 3), math.exp(min(w.score, 0.0)))

    def _speech(self, wav: Tensor) -> list[tuple[float, Tensor]]:
        """The pieces of a window to decode: the whole of it, or (with a VAD) its speech segments only."""
        if self.vad is None:
            return [(0.0, wav)]
        from asr.vad import speech_segments

        return [(s, wav[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)]) for s, e in speech_segments(wav, self.vad)]

    def transcribe(self, audio: str | os.PathLike | np.ndarray | Tensor, sample_rate: int | None = None) -> Transcript:
        """One input -> its :class:`Transcript`.

        Args:
            audio: a path (any format :func:`asr.audio.load_audio` reads), or samples in memory
                (:func:`as_waveform`).
            sample_rate: the rate of samples in memory (``None``: 16 kHz); ignored for paths.

        Raises:
            AudioError: a file that cannot be read (the path named).
            ValueError: samples that cannot be used.
        """
        return self.transcribe_batch([audio], sample_rate)[0]

    def transcribe_batch(self, audios: Sequence[str | os.PathLike | np.ndarray | Tensor],
                         sample_rate: int | None = None) -> list[Transcript]:
        """Several inputs, their windows decoded ``batch_size`` at a time; raises at the first bad one."""
        out = []
        for item in self.iter_transcripts(audios, sample_rate):
            if isinstance(item, Failure):
                raise AudioError(item.audio, item.problem)
            out.append(item)
        return out

    def iter_transcripts(self, audios: Iterable[str | os.PathLike | np.ndarray | Tensor | Failure],
                         sample_rate: int | None = None, progress: TextIO | None = None,
                         names: Sequence[str] | None = None) -> Iterator[Transcript | Failure]:
        """One :class:`Transcript` or :class:`Failure` per input, in input order, windows batched across inputs.

        Args:
            audios: paths, samples in memory, or :class:`Failure` entries (passed through in place).
            sample_rate: the rate of samples in memory.
            progress: where to report the progress of long files (``None``: silent).
            names: what each input is called in its transcript (default: the path, ``<array K>``).
        """
        queue: list[_State] = []
        batch: list[tuple[_State, float, Tensor]] = []

        def run_batch() -> None:
            if not batch:
                return
            hyps = self.engine.transcribe([w for _, _, w in batch], with_times=True)
            for (state, offset, wav), hyp in zip(batch, hyps):
                if not state.pieces:
                    state.alternatives = list(hyp.alternatives)
                if hyp.language:
                    state.languages[hyp.language] = state.languages.get(hyp.language, 0.0) + wav.shape[0] / SAMPLE_RATE
                state.pieces.append((hyp.text, [self._word(w, offset) for w in hyp.words]))
            batch.clear()

        def finished() -> Iterator[Transcript | Failure]:
            while queue and queue[0].closed and len(queue[0].pieces) == queue[0].queued:
                s = queue.pop(0)
                if s.problem:
                    yield Failure(s.name, s.problem)
                else:
                    text = " ".join(t for t, _ in s.pieces if t)
                    alts = s.alternatives if len(s.pieces) == 1 else []  # n-best of one piece only
                    lang = max(s.languages, key=s.languages.__getitem__) if s.languages else self.language
                    yield Transcript(s.name, text, [w for _, ws in s.pieces for w in ws], s.duration, lang, alts)

        for k, audio in enumerate(audios):
            if isinstance(audio, Failure):
                state = _State(audio.audio, problem=audio.problem)
                chunks: Iterable[tuple[float, Tensor, float]] = ()
            elif isinstance(audio, (str, os.PathLike)):
                state = _State(names[k] if names else str(audio))
                chunks = iter_chunks(audio, self.chunk_seconds)
            else:
                state = _State(names[k] if names else f"<array {k}>")
                try:
                    chunks = _split_array(as_waveform(audio, sample_rate), self.chunk_seconds)
                except ValueError as e:
                    state.problem, chunks = str(e), ()
            queue.append(state)
            t0 = time.perf_counter()
            try:
                for offset, wav, total in chunks:
                    state.duration = total
                    for start, piece in self._speech(wav):
                        batch.append((state, offset + start, piece))
                        state.queued += 1
                        if len(batch) >= self.batch_size:
                            run_batch()
                    if progress is not None and total > PROGRESS_SECONDS:
                        done = offset + wav.shape[0] / SAMPLE_RATE
                        print(f"{state.name}: {done:.0f}/{total:.0f} s ({time.perf_counter() - t0:.0f} s elapsed)",
                              file=progress, flush=True)
            except AudioError as e:
                state.problem = e.problem
            state.closed = True
            if state.problem:
                run_batch()  # windows queued before the error still leave the batch
                state.pieces, state.queued = [], 0
            yield from finished()
        run_batch()
        yield from finished()


def load(model_dir: str | os.PathLike, device: str = "cpu", backend: str = "torch", beam: float | None = None,
         lm: str | os.PathLike | None = None, lm_weight: float | None = None, word_score: float | None = None,
         chunk_seconds: float = CHUNK_SECONDS, batch_size: int = 1, language: str | None = None,
         vad: str | None = None, n_best: int = 1, hotwords: str | dict[str, float] | None = None) -> Recognizer:
    """Load either system's model directory as a :class:`Recognizer`.

    Args:
        model_dir: written by ``asr train`` (CTC or ``--system hybrid``) or a recipe.
        device: ``cpu`` or ``cuda``.
        backend: ``torch``; for CTC models also ``onnx`` or ``onnx-int8``: the directory's
            ``model.onnx`` / ``model.int8.onnx`` (``asr export DIR --format onnx --int8``) run by
            onnxruntime on the CPU.
        beam, lm, lm_weight, word_score: the search (:func:`asr.systems.load_recognizer`; ``None``
            keeps the model directory's: a recipe's CTC directory decodes with the lexicon + LM it
            was measured with; ``beam=1``: greedy).
        language: which language's head and saved LM a multilingual CTC directory decodes with;
            ``"auto"``: its language-ID head picks them per window (``Transcript.language``).
        vad: decode only the speech segments a voice activity detector finds (``auto``, ``silero``,
            ``energy``: :mod:`asr.vad`); ``None``: every window whole.
        n_best: ``Transcript.alternatives`` of up to this many ``(text, score)`` (CTC beam / lexicon
            search, hybrid final tokens; an input decoded in one piece: longer ones get the 1-best alone).
        hotwords: words to favour, ``{word: boost per character}`` or ``"word:boost,word2"`` (boost 0.5
            by default): CTC prefix beam search (:class:`asr.decoding.ctc_beam.HotwordBias`).
        chunk_seconds, batch_size: see :class:`Recognizer`.

    Raises:
        ValueError: not a model directory, an incomplete one, a missing LM, or an unknown backend;
            the message names the path.
    """
    from asr.systems import load_recognizer

    # oneDNN (torch's CPU convolutions) caches one primitive per input shape, 1024 by default; windows
    # of a long file have as many lengths, so memory would grow with the file (+16 % at 60 minutes,
    # tools/bench_long_audio.py). It reads the capacity when it first runs: cap it unless set.
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_CACHE))
    from asr.models.onnx import BACKENDS

    if backend not in BACKENDS:
        raise UsageError(f"backend {backend!r}: known: {', '.join(BACKENDS)}")
    if n_best < 1:
        raise UsageError(f"n_best {n_best}: must be >= 1")
    Recognizer.check_options(chunk_seconds, batch_size, vad)  # before the model is loaded
    if isinstance(hotwords, str):
        from asr.decoding.ctc_beam import parse_hotwords

        try:
            hotwords = parse_hotwords(hotwords)
        except ValueError as e:
            raise UsageError(str(e)) from None
    engine = load_recognizer(Path(model_dir), device, beam, lm, lm_weight=lm_weight, word_score=word_score,
                             language=language, n_best=n_best, hotwords=hotwords or None, backend=backend)
    lang = "" if language == AUTO_LANGUAGE else language or getattr(getattr(engine, "model", None), "lang", "") or ""
    return Recognizer(engine, chunk_seconds, batch_size, lang if isinstance(lang, str) else "", vad=vad)
