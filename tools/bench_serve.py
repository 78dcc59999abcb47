"""Load test of ``asr serve`` on loopback: concurrent live streams, delays, lost audio, CPU use.

Usage:
    python tools/bench_serve.py -m hybrid=exp/synth/hybrid/en/model -m ctc=exp/synth/ctc/model \\
        --language en --test exp/synth/data/en/test.jsonl --streams 8 --seconds 30

Starts ``asr serve`` in its own process, then opens ``--streams`` WebSockets at once (models taken in
turn), each sending the test utterances one after another (0.8 s of silence between) in 0.1 s frames
at real-time pace for ``--seconds``, then ``{"eof": true}``. Reported: per model and in all, the
**response delay** of every message (its arrival time minus the moment the audio it reflects,
``audio_s``, had been sent: the server's queueing and computing, not the search's look-ahead, which
``tools/bench_stream.py`` measures), median and p95; audio lost (seconds sent minus the last
message's ``audio_s``, must be 0); the server's CPU use (cores busy) and its peak resident memory.
Writes ``tools/benchmarks/serve.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from asr.audio import SAMPLE_RATE, load_audio
from asr.compare import write_benchmark
from asr.data.manifest import read_manifest

FRAME_S = 0.1
GAP_S = 0.8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def client(url: str, pcm: bytes, seconds: float, start: float) -> dict:
    import websockets

    frame = int(FRAME_S * SAMPLE_RATE) * 2
    total = min(len(pcm), int(seconds * SAMPLE_RATE) * 2)
    delays: list[float] = []
    last_audio = 0.0
    async with websockets.connect(url, max_size=None) as ws:
        t0 = time.perf_counter()

        async def receive() -> None:
            nonlocal last_audio
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "error":
                    raise RuntimeError(msg)
                now = time.perf_counter() - t0
                delays.append(now - msg["audio_s"])
                last_audio = msg["audio_s"]

        reader = asyncio.create_task(receive())
        for k, i in enumerate(range(0, total, frame)):
            await asyncio.sleep(max(0.0, t0 + (k + 1) * FRAME_S - time.perf_counter()))  # real time
            await ws.send(pcm[i : i + frame])
        await ws.send(json.dumps({"eof": True}))
        await reader
    return {"sent_s": total / 2 / SAMPLE_RATE, "last_audio_s": last_audio, "delays": delays}


async def run_clients(port: int, names: list[str], pcm: bytes, streams: int, seconds: float) -> list[dict]:
    start = time.perf_counter()
    tasks = [client(f"ws://127.0.0.1:{port}/v1/stream?model={names[k % len(names)]}", pcm, seconds, start)
             for k in range(streams)]
    out = await asyncio.gather(*tasks)
    for k, r in enumerate(out):
        r["model"] = names[k % len(names)]
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--model", action="append", required=True, metavar="NAME=DIR")
    p.add_argument("--language", default=None)
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--streams", type=int, default=8)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "serve.json")
    args = p.parse_args(argv)
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    pieces = []
    for u in read_manifest(args.test):
        pieces += [load_audio(u.audio).numpy(), gap]
        if sum(x.shape[0] for x in pieces) > (args.seconds + 1) * SAMPLE_RATE:
            break
    audio = np.concatenate(pieces)
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    port = _free_port()
    cmd = [sys.executable, "-m", "asr", "serve", "--port", str(port), "--workers", str(args.workers)]
    for m in args.model:
        cmd += ["-m", m]
    if args.language:
        cmd += ["--language", args.language]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(600):
            try:
                names = [m["name"] for m in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models"))]
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"asr serve exited: {server.stdout.read()}") from None
                time.sleep(0.1)
        cpu0, wall0 = _cpu_seconds(server.pid), time.perf_counter()
        results = asyncio.run(run_clients(port, names, pcm, args.streams, args.seconds))
        cpu, wall = _cpu_seconds(server.pid) - cpu0, time.perf_counter() - wall0
        rss = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = []
    for name in [*names, "all"]:
        rs = [r for r in results if name in ("all", r["model"])]
        d = np.array([x for r in rs for x in r["delays"]])
        rows.append({"model": name, "streams": len(rs), "messages": int(d.size),
                     "delay_median_ms": round(1000 * float(np.median(d)), 1) if d.size else None,
                     "delay_p95_ms": round(1000 * float(np.percentile(d, 95)), 1) if d.size else None,
                     "audio_lost_s": round(sum(r["sent_s"] - r["last_audio_s"] for r in rs), 3)})
    print(f"{args.streams} streams x {args.seconds:g} s, {args.workers} workers: server CPU {cpu / wall:.2f} cores, "
          f"peak RSS {rss:.0f} MB")
    print("| model | streams | messages | delay median ms | delay p95 ms | audio lost s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['streams']} | {r['messages']} | {r['delay_median_ms']} | {r['delay_p95_ms']} | "
              f"{r['audio_lost_s']} |")
    write_benchmark(args.out, {"streams": args.streams, "seconds": args.seconds, "workers": args.workers,
                               "models": args.model, "cpu_cores_busy": round(cpu / wall, 3),
                               "peak_rss_mb": round(rss, 1), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
