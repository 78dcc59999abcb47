"""Streaming against offline decoding: WER and latency, both systems, on 2 CPU cores.

Usage:
    python tools/bench_stream.py --run hybrid=exp/synth/hybrid/en/model,en,exp/synth/data/en/test.jsonl \\
        --run ctc=exp/synth/ctc/model,en,exp/synth/data/en/test.jsonl --out tools/benchmarks/stream.json

Each test utterance is fed to a stream (:func:`asr.decoding.streaming.open_stream`) in 0.1 s blocks as
a microphone would, the clock advancing with the audio: a block is "sent" at the audio time of its
end and the stream's work on it ends ``compute`` seconds later (measured). A word's **latency** is the
time from the end of the word in the audio (its end in the offline decoding's word times) to the first
partial that holds it (the k-th time that word is said, in order), work included. Reported per run and
setting: offline WER, streaming WER and their ratio (target, issue 17: at most 1.1), median and p95
latency (target: p95 at most 300 ms), and the stream's real-time factor. ``--ctc-settings`` lists the
CTC (chunk, look-ahead) pairs to try; the hybrid runs at ``--chunk``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import asr
from asr.audio import SAMPLE_RATE, load_audio
from asr.compare import write_benchmark
from asr.data.manifest import read_manifest
from asr.decoding.streaming import open_stream
from asr.metrics import score
from asr.text.normalize import normalize

BLOCK_S = 0.1


def stream_one(engine, wav, chunk_s: float, options: dict) -> tuple[str, list[tuple[str, float]], float]:
    """Feed ``wav`` in blocks: the final text, ``(word, time its partial first holds it)`` in order, and
    the compute seconds."""
    stream = open_stream(engine, chunk_s=chunk_s, **options)
    block = int(BLOCK_S * SAMPLE_RATE)
    seen: list[tuple[str, float]] = []
    busy = 0.0
    clock = 0.0  # when the stream is free again (audio seconds)
    for i in range(0, wav.shape[0], block):
        piece = wav[i : i + block]
        t_sent = (i + piece.shape[0]) / SAMPLE_RATE
        t0 = time.perf_counter()
        stream.accept(piece)
        words = stream.partial().text.split()
        dt = time.perf_counter() - t0
        busy += dt
        clock = max(clock, t_sent) + dt
        for w in words[len(seen):]:  # newly shown words (an earlier one rewritten is not counted again)
            seen.append((w, clock))
        if len(words) < len(seen):
            del seen[len(words):]
    t0 = time.perf_counter()
    final = stream.finalize()
    busy += time.perf_counter() - t0
    return final.text, seen, busy


def latencies(offline_words, seen) -> list[float]:
    """Per offline word (in order): when its partial showed minus when the word ended (seconds)."""
    out, j = [], 0
    for w in offline_words:
        k = next((n for n in range(j, len(seen)) if seen[n][0] == w.word), None)
        if k is None:
            continue
        out.append(seen[k][1] - w.end)
        j = k + 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="append", required=True, metavar="NAME=MODEL,LANG,MANIFEST")
    p.add_argument("--chunk", default="0.1,0.16,0.32", help="hybrid: seconds of audio per network run (a list)")
    p.add_argument("--ctc-settings", default="0.16:0.32,0.32:0.32,0.32:0.64", help="CTC chunk:lookahead pairs")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "stream.json")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for spec in args.run:
        name, rest = spec.split("=", 1)
        model, lang, manifest = rest.split(",")
        rec = asr.load(model, language=lang or None)
        utts = read_manifest(manifest)[: args.limit or None]
        wavs = [load_audio(u.audio) for u in utts]
        audio_s = sum(w.shape[0] for w in wavs) / SAMPLE_RATE
        refs = {u.id: normalize(u.text, u.lang) for u in utts}
        offline = {u.id: rec.engine.transcribe([w], with_times=True)[0] for u, w in zip(utts, wavs)}
        off_wer = score(refs, {i: h.text for i, h in offline.items()}).words.rate
        settings = [(float(c), {}) for c in args.chunk.split(",")] if rec.system == "hybrid" else [
            (float(c), {"lookahead_s": float(la)}) for c, la in (x.split(":") for x in args.ctc_settings.split(","))]
        for chunk, options in settings:
            hyps, lat, busy = {}, [], 0.0
            for u, w in zip(utts, wavs):
                text, seen, b = stream_one(rec.engine, w, chunk, options)
                hyps[u.id], busy = text, busy + b
                lat += latencies(offline[u.id].words, seen)
            wer = score(refs, hyps).words.rate
            row = {"name": name, "system": rec.system, "lang": lang, "utts": len(utts), "chunk_s": chunk,
                   "lookahead_s": options.get("lookahead_s"), "offline_wer": round(100 * off_wer, 2),
                   "stream_wer": round(100 * wer, 2), "wer_ratio": round(wer / off_wer, 3) if off_wer else None,
                   "latency_median_ms": round(1000 * float(np.median(lat)), 1) if lat else None,
                   "latency_p95_ms": round(1000 * float(np.percentile(lat, 95)), 1) if lat else None,
                   "words_timed": len(lat), "rtf": round(busy / audio_s, 4)}
            rows.append(row)
            print(row, flush=True)
    print("| model | chunk s | look-ahead s | offline WER | streaming WER | ratio | latency median / p95 ms | RTF |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['chunk_s']} | {r['lookahead_s'] or '-'} | {r['offline_wer']} | {r['stream_wer']} | "
              f"{r['wer_ratio']} | {r['latency_median_ms']} / {r['latency_p95_ms']} | {r['rtf']} |")
    write_benchmark(args.out, {"block_s": BLOCK_S, "threads": args.threads, "rows": rows,
                               "targets": "p95 latency <= 300 ms, streaming WER <= 1.1 x offline"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
