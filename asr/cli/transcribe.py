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
    arecord -f S16_LE -r 16000 -c 1 | asr transcribe -m exp/hybrid/en/model --stream -   (asr.cli.stream)

Either system's model directory works; ``config.json`` says which
(``"system": "hybrid"``, else a CTC model directory).

The work is done by :class:`asr.api.Recognizer` (``asr.load``): long files are read and decoded in
chunks of at most ``--chunk-seconds``, cut in pauses; memory is bounded by the chunk size times
the batch size, not the file length.

Output formats (``-f``): ``txt`` (the text), ``json`` (one object per file:
``audio``, ``text``, ``words`` [{``word``, ``start``, ``end``, ``confidence``}] in seconds
(``confidence`` in [0, 1] where the system gives one), ``duration``), ``srt`` and ``vtt`` (subtitle cues of a few words), ``tsv``
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from asr.api import CHUNK_SECONDS, Failure, Transcript, Word, iter_chunks, load, segments
from asr.config import positive_float, positive_int
from asr.errors import run_main

__all__ = [
    "AUDIO_SUFFIXES",
    "CHUNK_SECONDS",
    "FORMATS",
    "Word",
    "Result",
    "expand_inputs",
    "iter_chunks",
    "segments",
    "WRITERS",
    "add_transcribe_arguments",
    "run_transcribe",
    "main",
]

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".sph", ".nist", ".aif", ".aiff",
                            ".au", ".w64", ".caf"})  # what a directory is searched for
STDIN = "-"
Result = Transcript  # what one input gives (asr.api.Transcript)


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


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


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
    parser.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), default="torch",
                        help="CTC: run the directory's ONNX export in onnxruntime (asr export --format onnx "
                             "[--int8]); default torch")
    parser.add_argument("--beam", type=positive_float, default=None,
                        help="ctc: beam size (1: greedy; default: the model directory's search, else greedy); "
                             "hybrid: log-score beam (default: the model's)")
    parser.add_argument("--lm", type=Path, default=None,
                        help="word n-gram LM (ARPA) to decode with (default: the model directory's, if any)")
    parser.add_argument("--n-best", type=positive_int, default=1,
                        help="-f json lists up to N alternatives with scores (CTC: a beam of N without --lm; hybrid: its final tokens)")
    parser.add_argument("--hotwords", default=None, metavar="WORD[:BOOST],...",
                        help="favour these words (boost per character, default 0.5): CTC beam or lexicon + LM search, "
                             "hybrid search (words the lexicon lacks pronounced by espeak-ng)")
    parser.add_argument("--vad", choices=("auto", "silero", "energy"), default=None,
                        help="decode only the speech a voice activity detector finds (auto: silero-vad when "
                             "installed, else frame energy); default: every chunk whole")
    parser.add_argument("--language", default=None,
                        help="CTC: decode with this language's head and saved LM; auto: a multilingual model's "
                             "language-ID head picks them (-f json says which)")
    parser.add_argument("--stream", action="store_true",
                        help="live: raw 16 kHz s16le PCM on stdin (-) or the microphone (mic); partials and finals "
                             "(asr.cli.stream)")
    parser.add_argument("--batch-size", type=positive_int, default=1, help="chunks decoded together (default 1)")
    parser.add_argument("--chunk-seconds", type=float, default=CHUNK_SECONDS,
                        help=f"longest piece decoded at once, cut in a pause (default {CHUNK_SECONDS:g})")
    return parser


def run_transcribe(args: argparse.Namespace) -> int:
    """Run ``asr transcribe``; returns 0, or 1 when some input failed (each named on stderr, the others
    transcribed). A model that cannot load raises (:func:`asr.errors.run_main`: one line, exit 1)."""
    recognizer = load(args.model, args.device, beam=args.beam, lm=args.lm, chunk_seconds=args.chunk_seconds,
                      batch_size=args.batch_size, language=args.language, vad=args.vad, n_best=args.n_best,
                      hotwords=args.hotwords, backend=args.backend)
    if args.stream:
        from asr.cli.stream import run_stream

        return run_stream(args, recognizer)
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    writer = WRITERS[args.format]
    failed = 0
    used: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="asr-transcribe-") as tmp:
        inputs = expand_inputs(args.inputs, tmp_dir=tmp)
        audios = [i.path if i.path is not None else Failure(i.name, i.problem) for i in inputs]
        for item in recognizer.iter_transcripts(audios, progress=sys.stderr, names=[i.name for i in inputs]):
            if isinstance(item, Failure):
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
