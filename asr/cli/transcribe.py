"""``asr transcribe``: audio files in, transcripts with word times out.

Modelled on the transcription CLIs people know (whisper, vosk-transcriber,
pocketsphinx): give a model directory and any mix of files, directories
(searched recursively for audio suffixes) and ``-`` (audio bytes on stdin).
Any format, sample rate and channel count :func:`asr.audio.load_audio` reads is
accepted; every file is mixed down and resampled to 16 kHz.

Usage:
    asr transcribe -m exp/ctc/model a.wav b.flac recordings/ -
    asr transcribe -m exp/ctc/model -f srt -o subs/ talk.mp3        # subs/talk.srt
    asr transcribe -m exp/hybrid/en/model -f json a.wav             # one JSON object per line
    cat a.flac | asr transcribe -m exp/ctc/model -f vtt -
    asr transcribe -m exp/ctc/model --beam 16 --lm lm.arpa --device cuda --batch-size 8 dir/

Either system's model directory works; ``config.json`` says which
(``"system": "hybrid"``, else a CTC model directory).

Long files are read and decoded in chunks of at most :data:`CHUNK_SECONDS`
(``--chunk-seconds``), each cut at the quietest 25 ms frame of its last half so
that cuts fall in pauses; word times are shifted back to the file's clock.
Memory is bounded by the chunk size times the batch size, not the file length.

Output formats (``-f``): ``txt`` (the text), ``json`` (one object per file:
``audio``, ``text``, ``words`` [{``word``, ``start``, ``end``}] in seconds,
``duration``), ``srt`` and ``vtt`` (subtitle cues of a few words), ``tsv``
(``start``, ``end`` in integer milliseconds and ``text``, as whisper writes).
Without ``-o`` results go to stdout; with ``-o DIR`` each input gets
``DIR/<stem>.<format>``. A file that cannot be read is named on stderr with
the reason, the others are still transcribed, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE, AudioError, info, load_audio
from asr.config import positive_float, positive_int
from asr.errors import UsageError, run_main
from asr.decoding.types import Recognizer, WordSpan
from asr.systems import load_recognizer

__all__ = [
    "AUDIO_SUFFIXES",
    "CHUNK_SECONDS",
    "FORMATS",
    "Word",
    "Result",
    "InputError",
    "expand_inputs",
    "iter_chunks",
    "transcribe",
    "segments",
    "WRITERS",
    "add_transcribe_arguments",
    "run_transcribe",
    "main",
]

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".sph", ".nist", ".aif", ".aiff",
                            ".au", ".w64", ".caf"})  # what a directory is searched for
CHUNK_SECONDS = 30.0  # s: longest piece of audio decoded at once
FRAME_SECONDS = 0.025  # s: energy frame used to find a pause to cut at
STDIN = "-"
PROGRESS_SECONDS = 120.0  # s: files longer than this report progress on stderr


Word = WordSpan  # a recognised word and its span in seconds from the start of the file


@dataclass
class Result:
    """The transcript of one input: ``audio`` (its name), ``text``, ``words``, ``duration`` in seconds."""

    audio: str
    text: str
    words: list[Word]
    duration: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written by ``-f json``."""
        return {"audio": self.audio, "text": self.text,
                "words": [{"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3)} for w in self.words],
                "duration": round(self.duration, 3)}


@dataclass(frozen=True)
class InputError:
    """An input that could not be transcribed: its name and the reason."""

    audio: str
    problem: str

    def __str__(self) -> str:
        return f"{self.audio}: {self.problem}"


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    name: str  # what the user gave (or found in a directory), "-" for stdin
    path: str | None  # readable path; None: the input is bad (``problem``)
    problem: str = ""


def expand_inputs(items: Sequence[str], stdin: Callable[[], bytes] | None = None,
                  tmp_dir: str | os.PathLike | None = None) -> list[_Input]:
    """Files as given, directories searched recursively (sorted) for :data:`AUDIO_SUFFIXES`, ``-`` as stdin.

    Args:
        items: command-line inputs.
        stdin: returns the bytes of standard input (default ``sys.stdin.buffer.read``); read once.
        tmp_dir: where stdin's bytes are written so that they can be decoded like a file.

    Returns:
        One entry per audio input, in order; a directory without audio, or
        empty stdin, is an entry carrying its problem.
    """
    out: list[_Input] = []
    for item in items:
        if item == STDIN:
            data = (stdin or (lambda: sys.stdin.buffer.read()))()
            if not data:
                out.append(_Input(STDIN, None, "no audio on standard input (0 bytes)"))
                continue
            fd, tmp = tempfile.mkstemp(prefix="asr-stdin-", dir=tmp_dir)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            out.append(_Input(STDIN, tmp))
        elif os.path.isdir(item):
            found = sorted(str(p) for p in Path(item).rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                out.append(_Input(item, None, f"directory holds no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})"))
            out.extend(_Input(p, p) for p in found)
        else:
            out.append(_Input(item, item))
    return out


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
    pos = 0  # samples at 16 kHz
    end = int(round(total * SAMPLE_RATE))
    win = int(chunk_s * SAMPLE_RATE)
    while pos < end:
        wav = load_audio(path, offset=pos / SAMPLE_RATE, duration=chunk_s)
        if pos + wav.shape[0] >= end - SAMPLE_RATE // 100 or wav.shape[0] < win:  # reaches the end (within 10 ms)
            yield pos / SAMPLE_RATE, wav, total
            return
        cut = _quietest_cut(wav, wav.shape[0] // 2, wav.shape[0])
        yield pos / SAMPLE_RATE, wav[:cut], total
        pos += cut


# ---------------------------------------------------------------------------
# Transcription
# ---------------------------------------------------------------------------


@dataclass
class _FileState:
    name: str
    problem: str = ""
    duration: float = 0.0
    pieces: list[tuple[str, list[Word]]] = field(default_factory=list)
    queued: int = 0  # chunks handed to the recognizer
    closed: bool = False  # every chunk of the file has been queued (or reading failed)


def transcribe(
    recognizer: Recognizer,
    inputs: Iterable[_Input],
    batch_size: int = 1,
    chunk_s: float = CHUNK_SECONDS,
    progress: TextIO | None = None,
) -> Iterator[Result | InputError]:
    """Transcribe inputs (from :func:`expand_inputs`) in order, batching chunks across files.

    Args:
        recognizer: either system's (:func:`asr.systems.load_recognizer`).
        inputs: the inputs.
        batch_size: chunks decoded together.
        chunk_s: longest chunk in seconds (see :func:`iter_chunks`).
        progress: where to report the progress of long files (``None``: silent).

    Yields:
        One :class:`Result` or :class:`InputError` per input, in input order.
    """
    queue: list[_FileState] = []
    batch: list[tuple[_FileState, float, Tensor]] = []

    def run_batch() -> None:
        if not batch:
            return
        hyps = recognizer.transcribe([w for _, _, w in batch], with_times=True)
        for (state, offset, _), hyp in zip(batch, hyps):
            state.pieces.append((hyp.text, [Word(w.word, round(w.start + offset, 3), round(w.end + offset, 3))
                                            for w in hyp.words]))
        batch.clear()

    def finished() -> Iterator[Result | InputError]:
        while queue and queue[0].closed and len(queue[0].pieces) == queue[0].queued:
            s = queue.pop(0)
            if s.problem:
                yield InputError(s.name, s.problem)
            else:
                text = " ".join(t for t, _ in s.pieces if t)
                yield Result(s.name, text, [w for _, ws in s.pieces for w in ws], s.duration)

    for inp in inputs:
        state = _FileState(inp.name, problem=inp.problem)
        queue.append(state)
        if inp.path is not None:
            t0 = time.perf_counter()
            try:
                for offset, wav, total in iter_chunks(inp.path, chunk_s):
                    state.duration = total
                    batch.append((state, offset, wav))
                    state.queued += 1
                    if len(batch) >= batch_size:
                        run_batch()
                    if progress is not None and total > PROGRESS_SECONDS:
                        done = offset + wav.shape[0] / SAMPLE_RATE
                        print(f"{inp.name}: {done:.0f}/{total:.0f} s ({time.perf_counter() - t0:.0f} s elapsed)",
                              file=progress, flush=True)
            except AudioError as e:
                state.problem = e.problem
        state.closed = True
        if state.problem:
            run_batch()  # chunks queued before the error still leave the batch
            state.pieces, state.queued = [], 0
        yield from finished()
    run_batch()
    yield from finished()


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------

MAX_CUE_WORDS = 10  # words per subtitle cue at most
MAX_CUE_SECONDS = 5.0  # s: a cue's length at most
CUE_GAP_SECONDS = 0.8  # s: a pause this long starts a new cue


def segments(result: Result) -> list[tuple[float, float, str]]:
    """Group a result's words into subtitle cues ``(start_s, end_s, text)``, in time order.

    A cue ends after :data:`MAX_CUE_WORDS` words, :data:`MAX_CUE_SECONDS`, or
    before a pause of :data:`CUE_GAP_SECONDS`. Without word times (empty
    transcript) a non-empty text becomes one cue spanning the file.
    """
    if not result.words:
        return [(0.0, result.duration, result.text)] if result.text else []
    cues: list[list[Word]] = [[]]
    for w in result.words:
        cur = cues[-1]
        if cur and (len(cur) >= MAX_CUE_WORDS or w.end - cur[0].start > MAX_CUE_SECONDS
                    or w.start - cur[-1].end >= CUE_GAP_SECONDS):
            cues.append(cur := [])
        cur.append(w)
    return [(c[0].start, max(c[-1].end, c[0].start), " ".join(w.word for w in c)) for c in cues]


def _timestamp(seconds: float, sep: str) -> str:
    """``HH:MM:SS<sep>mmm``."""
    ms = int(round(max(seconds, 0.0) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def write_txt(result: Result, f: TextIO) -> None:
    """The transcript on one line."""
    f.write(result.text + "\n")


def write_json(result: Result, f: TextIO) -> None:
    """One JSON object on one line (see :meth:`Result.to_dict`)."""
    f.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")


def write_srt(result: Result, f: TextIO) -> None:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line after each."""
    for i, (start, end, text) in enumerate(segments(result), start=1):
        f.write(f"{i}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{text}\n\n")


def write_vtt(result: Result, f: TextIO) -> None:
    """WebVTT: a ``WEBVTT`` header, then cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm``."""
    f.write("WEBVTT\n\n")
    for start, end, text in segments(result):
        f.write(f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{text}\n\n")


def write_tsv(result: Result, f: TextIO) -> None:
    """``start<TAB>end<TAB>text`` with a header; times in integer milliseconds (whisper's tsv)."""
    f.write("start\tend\ttext\n")
    for start, end, text in segments(result):
        f.write(f"{int(round(start * 1000))}\t{int(round(end * 1000))}\t{text}\n")


WRITERS: dict[str, Callable[[Result, TextIO], None]] = {
    "txt": write_txt, "json": write_json, "srt": write_srt, "vtt": write_vtt, "tsv": write_tsv}
FORMATS = tuple(WRITERS)


def _output_name(name: str, used: set[str]) -> str:
    """The stem an input's output file gets (``stdin`` for ``-``), made unique with ``-2``, ``-3``..."""
    stem = "stdin" if name == STDIN else Path(name).stem
    out, n = stem, 1
    while out in used:
        n += 1
        out = f"{stem}-{n}"
    used.add(out)
    return out


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def add_transcribe_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``asr transcribe``'s options to ``parser`` (a subparser); returns it."""
    parser.add_argument("inputs", nargs="+", metavar="AUDIO",
                        help="audio files, directories (searched recursively), or - for audio bytes on stdin")
    parser.add_argument("-m", "--model", type=Path, required=True, help="model directory (CTC or hybrid)")
    parser.add_argument("-f", "--format", choices=FORMATS, default="txt", help="output format (default txt)")
    parser.add_argument("-o", "--output-dir", type=Path, default=None,
                        help="write DIR/<stem>.<format> per input instead of printing")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--beam", type=positive_float, default=None,
                        help="ctc: beam size (default 1, greedy); hybrid: log-score beam (default: the model's)")
    parser.add_argument("--lm", type=Path, default=None, help="word n-gram LM (ARPA) to decode with")
    parser.add_argument("--batch-size", type=positive_int, default=1, help="chunks decoded together (default 1)")
    parser.add_argument("--chunk-seconds", type=float, default=CHUNK_SECONDS,
                        help=f"longest piece decoded at once, cut in a pause (default {CHUNK_SECONDS:g})")
    return parser


def run_transcribe(args: argparse.Namespace) -> int:
    """Run ``asr transcribe``; returns 0, or 1 when some input failed (each named on stderr, the others
    transcribed). A model that cannot load raises (:func:`asr.errors.run_main`: one line, exit 1)."""
    if args.chunk_seconds < 1.0:
        raise UsageError(f"--chunk-seconds {args.chunk_seconds:g}: must be >= 1")
    recognizer = load_recognizer(args.model, args.device, args.beam, args.lm)
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    writer = WRITERS[args.format]
    failed = 0
    used: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="asr-transcribe-") as tmp:
        inputs = expand_inputs(args.inputs, tmp_dir=tmp)
        for item in transcribe(recognizer, inputs, args.batch_size, args.chunk_seconds, progress=sys.stderr):
            if isinstance(item, InputError):
                failed += 1
                print(f"asr transcribe: {item}", file=sys.stderr, flush=True)
                continue
            if args.output_dir is None:
                writer(item, sys.stdout)
                sys.stdout.flush()
            else:
                path = args.output_dir / f"{_output_name(item.audio, used)}.{args.format}"
                with open(path, "w", encoding="utf-8") as f:
                    writer(item, f)
    if failed:
        print(f"asr transcribe: {failed} of {len(inputs)} input(s) failed", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m asr.cli.transcribe ...``: the same as ``asr transcribe ...``."""
    p = argparse.ArgumentParser(prog="asr transcribe", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    args = add_transcribe_arguments(p).parse_args(argv)
    return run_main("asr transcribe", lambda: run_transcribe(args))


if __name__ == "__main__":
    raise SystemExit(main())
