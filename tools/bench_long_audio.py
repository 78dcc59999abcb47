"""Peak memory and speed of ``asr transcribe`` on a long file against a 1-minute one, for each system.

Usage:
    python tools/bench_long_audio.py --model hybrid=exp/asterisk/zeroshot/prompts/hybrid/model \\
        --model ctc=exp/asterisk/zeroshot/prompts/ctc/model --speech exp/asterisk/data/en/test.jsonl
    python tools/bench_long_audio.py ... --minutes 60 --out tools/benchmarks/long_audio.json

The long file is the utterances of ``--speech`` (a manifest) one after another with 0.5 s pauses,
repeated up to ``--minutes`` (16 kHz 16-bit WAV); the short file is its first minute. Each
(system, file) runs ``python -m asr transcribe -m MODEL FILE`` in a fresh process and reads that
process' peak resident memory (``ru_maxrss`` of ``os.wait4``) and wall time. Target (issue 19):
the long file's peak within 10 % of the short one's. Prints a table and writes JSON with the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from asr.compare import write_benchmark
from asr.audio import SAMPLE_RATE, load_audio
from asr.data.manifest import read_manifest


def write_long_file(speech: Path, out: Path, minutes: float) -> float:
    """Concatenate ``speech``'s utterances (0.5 s apart), repeated to ``minutes``, into ``out``; returns seconds.

    Written block by block: the file is never in memory as a whole.
    """
    pause = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    clips = [np.concatenate([load_audio(u.audio).numpy(), pause]) for u in read_manifest(speech)]
    if not clips:
        raise ValueError(f"{speech}: no utterances")
    target, written = int(minutes * 60 * SAMPLE_RATE), 0
    with sf.SoundFile(out, "w", SAMPLE_RATE, 1, subtype="PCM_16") as f:
        while written < target:
            for clip in clips:
                piece = clip[: target - written]
                f.write(piece)
                written += piece.shape[0]
                if written >= target:
                    break
    return written / SAMPLE_RATE


def run_transcribe(model: Path, audio: Path) -> dict:
    """One ``asr transcribe`` in a fresh process: peak RSS (MB), wall seconds, words out."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "asr", "transcribe", "-m", str(model), str(audio)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()  # the pipes drain while it runs; wait4 below reaps nothing (already waited)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"asr transcribe -m {model} {audio} failed ({proc.returncode}): {err.decode()[-500:]}")
    return {"wall_s": round(wall, 1), "words": len(out.split())}


def measure(model: Path, audio: Path) -> dict:
    """:func:`run_transcribe` with the child's peak memory (``ru_maxrss``, reset per child by forking once)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child runs the transcription (its own child) and reports its RUSAGE_CHILDREN peak
        os.close(r)
        import resource

        result = run_transcribe(model, audio)
        result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise RuntimeError(f"measuring {model} on {audio} failed")
    return json.loads(data)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, metavar="NAME=DIR", help="a model directory (repeatable)")
    p.add_argument("--speech", type=Path, required=True, help="a manifest whose utterances make the long file")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "long_audio.json")
    args = p.parse_args(argv)
    models = dict(m.split("=", 1) for m in args.model)
    rows = []
    with tempfile.TemporaryDirectory(prefix="asr-bench-long-") as tmp:
        files = {}
        for minutes in (1.0, args.minutes):
            path = Path(tmp) / f"{minutes:g}min.wav"
            files[minutes] = (path, write_long_file(args.speech, path, minutes))
        for name, model in models.items():
            res = {}
            for minutes, (path, seconds) in files.items():
                res[minutes] = measure(Path(model), path)
                res[minutes]["rtf"] = round(res[minutes]["wall_s"] / seconds, 4)
            short, long = res[1.0], res[args.minutes]
            rows.append({"system": name, "model": str(model), "short": short, "long": long,
                         "peak_ratio": round(long["peak_mb"] / short["peak_mb"], 3)})
            print(f"{name:<8} 1 min: {short['peak_mb']:>7.1f} MB {short['wall_s']:>7.1f} s | {args.minutes:g} min: "
                  f"{long['peak_mb']:>7.1f} MB {long['wall_s']:>7.1f} s (RTF {long['rtf']:.3f}) | "
                  f"peak ratio {rows[-1]['peak_ratio']:.3f}", flush=True)
    result = {"minutes": args.minutes, "speech": str(args.speech),
              "rows": rows, "target": "long-file peak within 10 % of the 1-minute file's",
              "met": all(r["peak_ratio"] <= 1.10 for r in rows)}
    write_benchmark(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
