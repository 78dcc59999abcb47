"""Corpus generation throughput per synthesis engine, and of the whole mix (audio seconds per wall second).

Usage:
    python tools/bench_synth.py                          # every installed engine, English, 0.05 h each
    python tools/bench_synth.py --hours 0.1 --jobs 2 --out /tmp/synth.json

For each engine alone, then all of them together, it generates an English corpus with
``asr.data.synth.generate`` (fresh directory, the given worker count, noise and reverberation
as in the default corpus) and reports audio hours, wall seconds and the real-time factor
(audio / wall). Prints a table and writes JSON (default ``tools/benchmarks/synth_engines.json``)
with the CPU and core count. Engines that are not installed are listed as skipped.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from asr.compare import write_benchmark
from asr.data.engines import ENGINES, get_engine
from asr.data.synth import SynthConfig, generate


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, default=0.05, help="audio per engine (all splits)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "synth_engines.json")
    args = p.parse_args(argv)
    installed = [n for n in ENGINES if get_engine(n).missing() is None]
    rows = []
    for name, engines in [(n, (n,)) for n in installed] + [("mix", tuple(installed))]:
        cfg = SynthConfig(langs=("en",), hours=args.hours * len(engines), seed=0, engines=engines,
                          train_speakers=6 * len(engines), dev_speakers=2 * len(engines), test_speakers=2 * len(engines))
        with tempfile.TemporaryDirectory(prefix="asr-bench-synth-") as tmp:
            stats = generate(Path(tmp), cfg, jobs=args.jobs, progress=False)
        rows.append({"engines": name, "audio_hours": round(stats["audio_seconds"] / 3600, 4),
                     "wall_seconds": round(stats["wall_seconds"], 2), "realtime_factor": round(stats["realtime_factor"], 1)})
        print(f"{name:<10} {rows[-1]['audio_hours']:>8.3f} h {rows[-1]['wall_seconds']:>8.1f} s "
              f"{rows[-1]['realtime_factor']:>8.1f}x", flush=True)
    result = {"jobs": args.jobs, "rows": rows,
              "skipped": {n: get_engine(n).missing() for n in ENGINES if n not in installed}}
    write_benchmark(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
