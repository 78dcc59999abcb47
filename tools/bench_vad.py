"""What voice activity detection saves: decoding time on half-silent audio, words output on silence and noise.

Usage:
    python tools/bench_vad.py --model hybrid=exp/asterisk/zeroshot/prompts/hybrid/model \\
        --model ctc=exp/asterisk/zeroshot/prompts/ctc/model --speech exp/asterisk/data/en/test.jsonl

The half-silent recording is ``--speech``'s utterances, each followed by as long a pause (a -80 dBFS
hiss); beside it one minute of digital silence and one of white noise (-26 dBFS). Each model
transcribes each through :func:`asr.load` without a VAD and with ``--vad`` (default ``auto``:
silero-vad when installed): wall seconds, words output, and on the recording the WER against the
utterances' texts in order. Prints a table and writes JSON (``tools/benchmarks/vad.json``).
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
from asr.metrics import score
from asr.vad import detector_name


def half_silent(speech: Path) -> tuple[np.ndarray, str]:
    """The utterances of ``speech``, each followed by a pause as long as itself; and their texts joined."""
    rng = np.random.default_rng(0)
    parts, texts = [], []
    for u in read_manifest(speech):
        x = load_audio(u.audio).numpy()
        parts += [x, (1e-4 * rng.standard_normal(x.shape[0])).astype(np.float32)]
        texts.append(u.text)
    return np.concatenate(parts), " ".join(texts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, metavar="NAME=DIR")
    p.add_argument("--speech", type=Path, required=True)
    p.add_argument("--vad", default="auto")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "vad.json")
    args = p.parse_args(argv)
    wav, ref = half_silent(args.speech)
    inputs = {"half-silent": wav, "silence": np.zeros(60 * SAMPLE_RATE, np.float32),
              "noise": (0.05 * np.random.default_rng(1).standard_normal(60 * SAMPLE_RATE)).astype(np.float32)}
    rows = []
    for name, model in (m.split("=", 1) for m in args.model):
        for vad in (None, args.vad):
            rec = asr.load(model, vad=vad)
            rec.transcribe(np.zeros(SAMPLE_RATE, np.float32))  # warm-up
            for what, x in inputs.items():
                t0 = time.perf_counter()
                t = rec.transcribe(x)
                row = {"system": name, "vad": detector_name(vad) if vad else "none", "input": what,
                       "seconds": round(x.shape[0] / SAMPLE_RATE, 1), "wall_s": round(time.perf_counter() - t0, 2),
                       "words": len(t.text.split())}
                if what == "half-silent":
                    row["wer"] = round(score({"r": ref}, {"r": t.text}).words.rate, 4)
                rows.append(row)
                print(f"{name:<8} {row['vad']:<7} {what:<12} {row['wall_s']:>7.2f} s {row['words']:>6} words"
                      + (f"  WER {100 * row['wer']:.1f} %" if "wer" in row else ""), flush=True)
    result = {"speech": str(args.speech), "rows": rows}
    write_benchmark(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
