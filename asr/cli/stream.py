"""``asr transcribe --stream``: live recognition of raw PCM on stdin or of the microphone.

Usage:
    arecord -q -f S16_LE -r 16000 -c 1 | asr transcribe -m exp/synth/hybrid/en/model --stream -
    asr transcribe -m exp/synth/ctc/model --language en --stream mic          # sounddevice (asr[mic])
    sox talk.flac -t raw -r 16000 -e signed -b 16 -c 1 - | asr transcribe -m DIR --stream - -f json

Input: 16-bit little-endian mono PCM at 16 kHz (``-``), or the default microphone (``mic``). Output:
``txt``: each utterance's final text on its own line of stdout, partials on stderr (rewritten in
place on a terminal); ``json``: one object per line on stdout, ``{"type": "partial" | "final", "text",
"words", "audio_s"}``, as ``asr serve``'s WebSocket sends. Utterances end at endpoints (trailing
silence, :class:`asr.decoding.streaming.EndpointConfig`) and at the end of the input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import numpy as np

from asr.errors import UsageError

__all__ = ["run_stream", "pcm_blocks"]

BLOCK_S = 0.1


def pcm_blocks(source: str, block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """``(S,)`` float32 blocks of ``block_s`` seconds from stdin PCM (``-``) or the microphone (``mic``)."""
    n = int(block_s * 16000)
    if source == "-":
        stream = sys.stdin.buffer
        rest = b""
        while True:
            data = stream.read(2 * n)
            if not data:
                break
            data = rest + data
            cut = len(data) - len(data) % 2
            rest = data[cut:]
            yield np.frombuffer(data[:cut], dtype="<i2").astype(np.float32) / 32768.0
        return
    if source == "mic":
        try:
            import sounddevice as sd
        except (ImportError, OSError) as e:  # OSError: PortAudio missing
            raise UsageError(f"--stream mic needs sounddevice and PortAudio (pip install 'asr[mic]'): {e}") from None
        with sd.InputStream(samplerate=16000, channels=1, dtype="float32", blocksize=n) as mic:
            while True:
                block, _ = mic.read(n)
                yield block[:, 0].copy()
    raise UsageError(f"--stream {source!r}: give - (raw 16 kHz s16le PCM on stdin) or mic")


def run_stream(args: argparse.Namespace, recognizer) -> int:
    """Stream ``args.inputs[0]`` through ``recognizer`` (an :class:`asr.api.Recognizer`); returns 0."""
    from asr.decoding.streaming import LiveSession, open_live

    if len(args.inputs) != 1:
        raise UsageError("--stream takes one input: - or mic")
    if args.format not in ("txt", "json"):
        raise UsageError("--stream writes txt or json")
    session = LiveSession(open_live(recognizer.engine))
    tty = sys.stderr.isatty()

    def emit(msg: dict) -> None:
        if args.format == "json":
            print(json.dumps(msg, ensure_ascii=False), flush=True)
        elif msg["type"] == "final":
            if tty:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
            if msg["text"]:
                print(msg["text"], flush=True)
        elif tty:
            print(f"\r\033[K{msg['text']}", end="", file=sys.stderr, flush=True)
        else:
            print(f"partial: {msg['text']}", file=sys.stderr, flush=True)

    try:
        for block in pcm_blocks(args.inputs[0]):
            for msg in session.feed(block):
                emit(msg)
    except KeyboardInterrupt:
        pass
    emit(session.finish())
    return 0
