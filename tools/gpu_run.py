#!/usr/bin/env python3
"""One prepared GPU run (issue 15): every check that needs a GPU, in one command that fits a lent device.

Usage:
    python3 tools/gpu_run.py --out $OUT                        # on the lent device (the call below)
    python tools/gpu_run.py --dry-run --out /tmp/gpu_dry       # the same steps on the CPU, tiny sizes
    python3 tools/gpu_run.py --out $OUT --steps bench quick     # only these steps (rerun what failed)
    python3 tools/gpu_run.py --out $OUT --budget 400           # a smaller total budget (seconds)

Steps, in order; each runs in its own process group with its own time cap (never more than the
budget left), and a failing or timed-out step does not stop the next one:

    install     pip-install the carried wheels in ``.whl/`` into /tmp/site (prepended to every later
                step's PYTHONPATH), then import what asr needs (skipped in the dry run)
    cuda_tests  ``pytest -m gpu`` over every test file holding a ``gpu`` mark (tests/conftest.py skips
                them without CUDA): the fused CTC kernels' first compiled run, features on CUDA
    bench       tools/bench_ctc.py: torch / cuDNN CTC vs the fused loss vs the fused projection, fp32
                and bf16 -> tools/benchmarks/ctc_<gpu>.json, copied to OUT/bench_ctc.json
    throughput  training throughput (audio seconds per second) and peak memory of the ``small`` and
                ``medium`` Conformer-CTC, torch's CTC vs the fused loss, bf16, on a synthetic corpus
                generated on every core; one process per configuration, the training code's own
                pieces (asr.train.loop.init_model / init_data / batch_loss, asr.train.optim)
    quick       the ``gpu_quick`` preset of recipes/synth, prepare to report (about 4 minutes: the
                first GPU-scale WERs), with the time left; its results.json / report.md copied to OUT
    fused_ctc   the rest of tests/test_fused_ctc.py (not slow: Triton's interpreter on CPU tensors,
                the interpreter-setting checks) on the device's Triton: last, since CI runs it too

``--dry-run`` runs the same steps on the CPU: no install; cuda_tests skip (recorded as such);
bench_ctc --cpu at tiny sizes; throughput of the ``tiny`` preset, fp32, a few steps; quick with the
``smoke`` preset, CTC only as gpu_quick (~20 s); fused_ctc on a few cases; about a minute on 2
cores. A step with less budget left than it needs is skipped with the reason. tests/test_gpu_run.py
runs it.

Files under OUT (at most 8 come back from the device, none deeper than 2 folders), each written as
soon as its step ends, so a time-out loses only the step in progress:

    summary.json        environment, budget, each step: status (ok / failed / timeout / skipped),
                        reason or message, wall time, key figures; rewritten after every step
    log.txt             every step's output, streamed as it runs (a killed step's log comes back too)
    tests.json          cuda_tests and fused_ctc: counts, and each failure with its message
    bench_ctc.json      tools/bench_ctc.py's JSON (partial rows if it was stopped)
    throughput.json     one row per preset x loss; throughput.md, the same as a table
    quick_results.json  the quick preset's results.json, stage times, CTC training summary; quick_report.md

The device call (the device tool's ``run``; README "Benchmarks" says the same). Once, here, in the
repository root (.gitignore ignores /.whl/), download the cp312 wheels the device lacks (KINDS.md:
it has torch, torchaudio, Triton, sentencepiece, numpy, safetensors, pyyaml, tqdm, matplotlib,
click, pytest, hypothesis, pytest-xdist; these are about 16 MiB of the 64 MiB that travel)::

    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \\
        --platform manylinux2014_x86_64 -d .whl soundfile==0.14.0 cffi==2.0.0 pycparser==3.0 \\
        jiwer==4.0.0 rapidfuzz==3.14.6 espeakng-loader==0.2.4 flashlight-text==0.0.7

(kenlm has no binary wheel; asr decodes with flashlight-text's own KenLM, and only tests/test_lm.py
imports the kenlm module, skipping without it.) Then one call:

    run(command="PYTHONUNBUFFERED=1 python3 tools/gpu_run.py --out $OUT", carry=[".whl"], timeout_s=600)

The default budget (540 s) ends inside the 600 s call. Afterwards commit OUT/bench_ctc.json as
tools/benchmarks/ctc_<gpu>.json and the figures of summary.json / throughput.md / quick_report.md
with the device's name; rerun only the failed steps with ``--steps NAME ... --budget SECONDS``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parents[1]
SITE = Path("/tmp/site")  # where the carried wheels go
LOG_MAX_BYTES = 12 * 2**20  # log.txt is cut in the middle beyond this (the device returns 16 MiB a file)
MAX_OUT_FILES = 8


@dataclass(frozen=True)
class Step:
    """A step: its name, time cap (device, dry run), the least time worth starting it with, and its body."""

    name: str
    cap_s: float
    dry_cap_s: float
    min_s: float
    dry_min_s: float
    run: Callable[[Runner, float], dict]


@dataclass
class Runner:
    """Shared state of one run: options, the out and work folders, the child environment, results."""

    args: argparse.Namespace
    out: Path
    work: Path
    t0: float = field(default_factory=time.monotonic)
    env: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, Any] = field(default_factory=dict)

    @property
    def dry(self) -> bool:
        return self.args.dry_run

    def left(self) -> float:
        return self.args.budget - (time.monotonic() - self.t0)

    def python(self, *argv: str) -> list[str]:
        return [sys.executable, *argv]

    def call(self, title: str, cmd: list[str], timeout: float) -> tuple[int | None, float]:
        """Run ``cmd`` from the repository root, output appended to log.txt; ``(returncode or None if timed out, s)``."""
        log = self.out / "log.txt"
        with log.open("a", encoding="utf-8") as f:
            f.write(f"\n===== {title} (cap {timeout:.0f} s): {' '.join(cmd)}\n")
            f.flush()
            t = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                rc: int | None = proc.wait(timeout=max(timeout, 1.0))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the step's own process group only
                proc.wait()
                rc = None
            wall = time.monotonic() - t
            f.write(f"===== {title}: {'timed out' if rc is None else f'exit {rc}'} after {wall:.1f} s\n")
        trim_log(log)
        return rc, wall

    def write_json(self, name: str, data: Any) -> None:
        path = self.out / name
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
        os.replace(tmp, path)

    def save_summary(self) -> None:
        self.summary["elapsed_s"] = round(time.monotonic() - self.t0, 1)
        self.summary["out_files"] = sorted(p.name for p in self.out.iterdir() if p.is_file())
        if len(self.summary["out_files"]) > MAX_OUT_FILES:
            self.summary["warning"] = f"more than {MAX_OUT_FILES} files under OUT: the device returns {MAX_OUT_FILES}"
        self.write_json("summary.json", self.summary)


def trim_log(path: Path) -> None:
    """Keep log.txt under LOG_MAX_BYTES: its head and its tail."""
    if path.stat().st_size <= LOG_MAX_BYTES:
        return
    data = path.read_bytes()
    keep = LOG_MAX_BYTES // 2
    path.write_bytes(data[: keep // 4] + b"\n[... log cut ...]\n" + data[-(keep * 3 // 4):])


def status_of(rc: int | None, wall: float, what: str) -> dict:
    if rc is None:
        return {"status": "timeout", "message": f"{what} stopped at its time cap after {wall:.0f} s"}
    if rc != 0:
        return {"status": "failed", "message": f"{what} exited with {rc} (see log.txt)"}
    return {"status": "ok"}


# --------------------------------------------------------------------------- the steps


IMPORTS = ("import soundfile, jiwer, espeakng_loader, sentencepiece, safetensors, yaml, tqdm, matplotlib, torchaudio; "
           "from flashlight.lib.text.decoder import LexiconDecoder; import asr.data.synth, asr.train.loop, asr.systems")


def step_install(r: Runner, timeout: float) -> dict:
    if r.dry:
        return {"status": "skipped", "reason": "dry run: nothing to install"}
    end = time.monotonic() + timeout
    wheels = sorted(p.name for p in (REPO / ".whl").glob("*.whl"))
    result: dict[str, Any] = {"wheels": wheels}
    if wheels:
        cmd = r.python("-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile", "--no-cache-dir",
                       "--upgrade", "--target", str(SITE), *[str(REPO / ".whl" / w) for w in wheels])
        rc, wall = r.call("install: pip", cmd, timeout)
        if rc != 0:
            return {**result, **status_of(rc, wall, "pip install")}
        r.env["PYTHONPATH"] = os.pathsep.join([str(SITE), r.env["PYTHONPATH"]])
    rc, wall = r.call("install: imports", r.python("-c", IMPORTS),
                      end - time.monotonic())
    if rc != 0:
        return {**result, "status": "failed", "message": "asr's dependencies do not import (see log.txt)"}
    if not wheels:
        return {**result, "status": "skipped", "reason": "no .whl folder; asr's dependencies import as they are"}
    return {**result, "status": "ok"}


def gpu_test_files() -> list[str]:
    """Test files with a ``gpu`` mark (``pytest.mark.gpu``, ``marks=pytest.mark.gpu``, ``pytestmark``)."""
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_*.py")
                  if "mark.gpu" in p.read_text(encoding="utf-8"))


def run_pytest(r: Runner, name: str, argv: list[str], timeout: float) -> dict:
    """pytest with a JUnit XML report; its counts and failures go to tests.json under ``name``."""
    xml = r.work / f"junit_{name}.xml"
    xml.unlink(missing_ok=True)
    rc, wall = r.call(name, r.python("-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider",
                                                  f"--junitxml={xml}", *argv), timeout)
    report = parse_junit(xml) if xml.is_file() else {"error": "no JUnit report (pytest did not finish)"}
    report["returncode"] = rc
    r.tests[name] = report
    r.write_json("tests.json", r.tests)
    result = {k: report.get(k) for k in ("tests", "passed", "failed", "errors", "skipped")}
    result["files"] = ["tests.json"]
    if rc is None:
        return {**result, **status_of(rc, wall, "pytest")}
    if rc not in (0, 5) or report.get("failed") or report.get("errors"):
        names = [f["test"] for f in report.get("failures", [])][:10]
        return {**result, "status": "failed", "message": f"pytest exit {rc}; failing: {', '.join(names) or 'see log.txt'}"}
    return {**result, "status": "ok"}


def parse_junit(path: Path) -> dict:
    """Counts and, for each failure or error, the test and the first lines of its message."""
    root = ET.parse(path).getroot()
    out: dict[str, Any] = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0, "failures": [],
                           "skip_reasons": {}}
    for case in root.iter("testcase"):
        out["tests"] += 1
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        child = next(iter(case), None)
        kind = child.tag if child is not None and child.tag in ("failure", "error", "skipped") else "passed"
        if kind == "passed":
            out["passed"] += 1
        elif kind == "skipped":
            out["skipped"] += 1
            reason = (child.get("message") or "").strip()[:200]
            out["skip_reasons"][reason] = out["skip_reasons"].get(reason, 0) + 1
        else:
            out["failed" if kind == "failure" else "errors"] += 1
            text = (child.get("message") or "") + "\n" + (child.text or "")
            out["failures"].append({"test": test, "kind": kind, "message": text.strip()[-1500:]})
    return out


def step_cuda_tests(r: Runner, timeout: float) -> dict:
    files = gpu_test_files()
    result = run_pytest(r, "cuda_tests", ["-m", "gpu", "--continue-on-collection-errors", *files], timeout)
    result["test_files"] = files
    if result["status"] == "ok" and not r.dry and result.get("tests") and result.get("passed") == 0:
        return {**result, "status": "failed", "message": "every gpu test skipped: CUDA is not visible"}
    if result["status"] == "ok" and r.dry:
        result["note"] = "dry run: no CUDA, so conftest skips every gpu test (counted as skipped)"
    return result


def step_fused_ctc(r: Runner, timeout: float) -> dict:
    if r.dry:  # a few cases: the interpreter costs ~15 ms a frame
        argv = ["tests/test_fused_ctc.py", "-m", "not gpu and not slow",
                "-k", "batch_of_one or interface_dispatch or rejects_bad_lengths"]
    else:
        argv = ["tests/test_fused_ctc.py", "-m", "not gpu and not slow"]
        try:
            import xdist  # noqa: F401  (pytest-xdist: the interpreter cases on several cores)

            argv += ["-n", str(min(8, os.cpu_count() or 1))]
        except ImportError:
            pass
    return run_pytest(r, "fused_ctc", argv, timeout)


def step_bench(r: Runner, timeout: float) -> dict:
    if r.dry:
        target = r.work / "ctc_cpu.json"
        cmd = r.python("tools/bench_ctc.py", "--cpu", "--B", "2", "--T", "12", "--L", "4", "--V", "7",
                       "--out", str(target))
    else:
        target, cmd = None, r.python("tools/bench_ctc.py")
    started = time.time()
    rc, wall = r.call("bench", cmd, timeout)
    if target is None:  # tools/benchmarks/ctc_<gpu>.json, written (also part way) by this run
        fresh = [p for p in (REPO / "tools" / "benchmarks").glob("ctc_*.json") if p.stat().st_mtime >= started - 1]
        target = max(fresh, key=lambda p: p.stat().st_mtime) if fresh else None
    result = status_of(rc, wall, "bench_ctc.py")
    if target is None or not target.is_file():
        return {**result, "status": "failed" if rc == 0 else result["status"],
                "message": result.get("message", "bench_ctc.py wrote no JSON")}
    shutil.copyfile(target, r.out / "bench_ctc.json")
    report = json.loads(target.read_text())
    result.update(files=["bench_ctc.json"], json=str(target.relative_to(REPO)) if target.is_relative_to(REPO)
                  else target.name, device=report.get("device"), rows=len(report.get("results", [])),
                  complete=report.get("complete"))
    if report.get("summary"):
        result["targets"] = bench_targets(report["summary"])
    if "max_rel_diff_vs_torch" in report:
        result["max_rel_diff_vs_torch"] = report["max_rel_diff_vs_torch"]
    return result


def bench_targets(summary: list[dict]) -> list[dict]:
    """The fused CTC issue's targets at T=1000: >= 5x torch, <= 2x the bandwidth floor, linear memory <= 1/4 at V=5000."""
    rows = []
    for s in summary:
        if s.get("T") != 1000:
            continue
        row = {k: s.get(k) for k in ("V", "dtype", "speedup_vs_torch", "ours_over_floor", "linear_memory_vs_torch")}
        row["speedup_met"] = s.get("speedup_vs_torch", 0) >= 5 if s.get("V") in (500, 5000) else None
        row["floor_met"] = s.get("ours_over_floor", float("inf")) <= 2
        row["linear_memory_met"] = s.get("linear_memory_vs_torch", 1) <= 0.25 if s.get("V") == 5000 else None
        rows.append(row)
    return rows


def throughput_plan(r: Runner) -> dict:
    if r.dry:
        return dict(presets=["tiny"], impls=["torch", "fused"], device="cpu", amp="none", hours=0.01, speakers=2,
                    batch_seconds=8.0, warmup=1, steps=2, workers=0, cache=2)
    return dict(presets=["small", "medium"], impls=["torch", "fused"], device="cuda", amp="bf16", hours=1.0,
                speakers=24, batch_seconds=600.0, warmup=3, steps=15, workers=min(8, os.cpu_count() or 1), cache=6)


def step_throughput(r: Runner, timeout: float) -> dict:
    plan, end = throughput_plan(r), time.monotonic() + timeout
    corpus = r.work / "throughput_corpus"
    rc, wall = r.call("throughput: corpus", r.python(str(SCRIPT), "_synth", "--out", str(corpus), "--hours",
                                                     str(plan["hours"]), "--speakers", str(plan["speakers"])),
                      end - time.monotonic())
    if rc != 0:
        return status_of(rc, wall, "corpus generation")
    rows = []
    for preset in plan["presets"]:
        for impl in plan["impls"]:
            row_json = r.work / f"throughput_{preset}_{impl}.json"
            row_json.unlink(missing_ok=True)
            cmd = r.python(str(SCRIPT), "_train", "--corpus", str(corpus), "--preset", preset, "--impl", impl,
                           "--device", plan["device"], "--amp", plan["amp"], "--batch-seconds",
                           str(plan["batch_seconds"]), "--warmup", str(plan["warmup"]), "--steps",
                           str(plan["steps"]), "--workers", str(plan["workers"]), "--cache",
                           str(plan["cache"]), "--json", str(row_json))
            left = end - time.monotonic()
            if left < 5:
                rows.append({"preset": preset, "impl": impl, "status": "skipped", "reason": "step time used up"})
                continue
            rc, wall = r.call(f"throughput: {preset} {impl}", cmd, left)
            row = json.loads(row_json.read_text()) if rc == 0 and row_json.is_file() else {}
            rows.append({"preset": preset, "impl": impl, **status_of(rc, wall, "training"), **row})
            r.write_json("throughput.json", {"plan": plan, "rows": rows})
            (r.out / "throughput.md").write_text(throughput_table(plan, rows))
    r.write_json("throughput.json", {"plan": plan, "rows": rows})
    (r.out / "throughput.md").write_text(throughput_table(plan, rows))
    bad = [f"{x['preset']}/{x['impl']}: {x.get('message') or x.get('reason')}" for x in rows if x["status"] != "ok"]
    result = {"files": ["throughput.json", "throughput.md"],
              "audio_s_per_s": {f"{x['preset']}/{x['impl']}": x.get("audio_s_per_s") for x in rows}}
    if bad:
        return {**result, "status": "failed", "message": "; ".join(bad)}
    return {**result, "status": "ok"}


def throughput_table(plan: dict, rows: list[dict]) -> str:
    mem = "peak GPU GiB" if plan["device"] == "cuda" else "peak RSS GiB"
    lines = [f"# Training throughput: Conformer-CTC, {plan['amp'] if plan['amp'] != 'none' else 'fp32'}, "
             f"{plan['device']}, batches of {plan['batch_seconds']:g} s padded audio", "",
             f"| preset | CTC loss | params (M) | step (ms) | audio s / s | {mem} | vs torch |",
             "|---|---|---|---|---|---|---|"]
    torch_rate = {x["preset"]: x.get("audio_s_per_s") for x in rows if x["impl"] == "torch" and x["status"] == "ok"}
    for x in rows:
        if x["status"] != "ok":
            lines.append(f"| {x['preset']} | {x['impl']} | {x['status']}: {x.get('message') or x.get('reason')} "
                         "| | | | |")
            continue
        base = torch_rate.get(x["preset"])
        ratio = f"{x['audio_s_per_s'] / base:.2f}x" if base else "-"
        lines.append(f"| {x['preset']} | {x['impl']} | {x['params_m']:.1f} | {x['step_ms']:.0f} | "
                     f"{x['audio_s_per_s']:.0f} | {x['peak_gib']:.2f} | {ratio} |")
    lines += ["", f"{plan['cache']} distinct batches read first and kept in memory (data loading is not timed; "
              "features are computed in the model), each trained on once to warm up (Triton compiles), then "
              f"{plan['steps']} timed updates cycling over them (AdamW, clipping).", ""]
    return "\n".join(lines)


def step_quick(r: Runner, timeout: float) -> dict:
    """recipes/synth from prepare to report (train, decode, score); the dry run: smoke, CTC only, no curve."""
    preset = "smoke" if r.dry else "gpu_quick"
    exp = r.work / f"quick_{preset}"
    conf = REPO / "recipes" / "synth" / "conf" / f"{preset}.yaml"
    if r.dry:  # as gpu_quick: the CTC system alone, no learning curve
        import yaml

        values = yaml.safe_load(conf.read_text(encoding="utf-8"))
        values.pop("curve", None)
        values["systems"] = ["ctc"]
        conf = r.work / "quick_smoke.yaml"
        conf.write_text(yaml.safe_dump(values), encoding="utf-8")
    rc, wall = r.call(f"quick: recipes/synth --preset {preset}", r.python(
        "recipes/synth/run.py", "--exp", str(exp), "--config", str(conf), "--stop-stage", "report"), timeout)
    result = {**status_of(rc, wall, f"recipes/synth --preset {preset}"), "preset": preset}
    found = collect_quick(exp, preset, result)
    r.write_json("quick_results.json", found)
    result["files"] = ["quick_results.json"]
    if (exp / "report.md").is_file():
        shutil.copyfile(exp / "report.md", r.out / "quick_report.md")
        result["files"].append("quick_report.md")
    result["wer"] = {system: {lang: v.get("wer") for lang, v in per.items() if isinstance(v, dict)}
                     for system, per in (found.get("results") or {}).items() if isinstance(per, dict)}
    return result


def collect_quick(exp: Path, preset: str, result: dict) -> dict:
    """What the recipe left, also part way: results, stage times, the CTC run's summary and last metrics rows."""

    def read(path: Path) -> Any:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    metrics = exp / "ctc" / "metrics.csv"
    tail = metrics.read_text().splitlines()[-8:] if metrics.is_file() else []
    return {"preset": preset, "status": result["status"], "results": read(exp / "results.json"),
            "stage_times": read(exp / "stage_times.json"), "train_times": read(exp / "train_times.json"),
            "ctc_train_summary": read(exp / "ctc" / "train_summary.json"),
            "ctc_metrics_tail": tail, "corpus": read(exp / "data" / "summary.json")}


STEPS = (
    Step("install", cap_s=60, dry_cap_s=10, min_s=10, dry_min_s=0, run=step_install),
    Step("cuda_tests", cap_s=120, dry_cap_s=60, min_s=20, dry_min_s=5, run=step_cuda_tests),
    Step("bench", cap_s=150, dry_cap_s=60, min_s=30, dry_min_s=5, run=step_bench),
    Step("throughput", cap_s=150, dry_cap_s=90, min_s=40, dry_min_s=10, run=step_throughput),
    Step("quick", cap_s=330, dry_cap_s=120, min_s=150, dry_min_s=40, run=step_quick),
    Step("fused_ctc", cap_s=90, dry_cap_s=60, min_s=15, dry_min_s=5, run=step_fused_ctc),
)


# --------------------------------------------------------------------------- children (run in their own process)


def child_synth(args: argparse.Namespace) -> int:
    """A small English corpus for the throughput step, on every core."""
    from asr.data.synth import SynthConfig, generate

    cfg = SynthConfig(langs=("en",), hours=args.hours, train_speakers=args.speakers, dev_speakers=2, test_speakers=2)
    stats = generate(args.out, cfg, jobs=os.cpu_count(), progress=False)
    print(f"corpus: {stats['audio_seconds']:.0f} s of audio in {stats['wall_seconds']:.1f} s "
          f"({stats['realtime_factor']:.0f}x real time, {os.cpu_count()} processes)")
    return 0


def child_train(args: argparse.Namespace) -> int:
    """Training updates of one preset with one CTC loss: throughput and peak memory -> ``--json``."""
    import resource

    import torch

    from asr.data.manifest import read_manifest
    from asr.models.ctc import ModelConfig
    from asr.text.normalize import normalize
    from asr.text.tokenizer import CharTokenizer
    from asr.train.config import TrainConfig
    from asr.train.distributed import setup
    from asr.train.loop import batch_loss, compute_cmvn, init_data, init_model
    from asr.train.optim import build_optimizer

    train, dev = args.corpus / "en" / "train.jsonl", args.corpus / "en" / "dev.jsonl"
    tokenizer = CharTokenizer.build([normalize(u.text, u.lang) for u in read_manifest(train)])
    cfg = TrainConfig(epochs=1, max_batch_seconds=args.batch_seconds, device=args.device, amp=args.amp,
                      ctc_impl=args.impl, num_workers=args.workers, warmup_steps=10, progress=False)
    ctx = setup(cfg.device)
    model = init_model(ModelConfig.preset(args.preset, vocab_size=tokenizer.vocab_size), cfg.seed)
    data = init_data([train], dev, tokenizer, model, cfg, ctx)
    compute_cmvn(model.frontend, data.train, 100)  # as a fresh training run starts
    batches: list[dict] = []  # read first, kept in memory: the loader is not timed
    for epoch in range(1000):
        data.sampler.set_epoch(epoch)
        batches += [b for b in data.loader if b["ids"]]
        if len(batches) >= args.cache or not batches:
            break
    if not batches:
        raise SystemExit("no usable training batch in the corpus")
    batches = batches[: args.cache]
    warmup = max(args.warmup, len(batches))  # every cached batch once first: Triton compiles for its shapes
    model.to(ctx.device).train()
    optimizer, scheduler = build_optimizer(model, cfg, total_steps=args.warmup + args.cache + args.steps)
    amp, cuda = cfg.autocast(ctx.device), ctx.device.type == "cuda"

    def update(batch: dict) -> torch.Tensor:
        loss = batch_loss(model, batch, ctx.device, amp, cfg.ctc_impl)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    losses = [update(batches[i % len(batches)]) for i in range(warmup)]
    if cuda:
        torch.cuda.synchronize()
    t0, audio = time.perf_counter(), 0.0
    for i in range(args.steps):
        batch = batches[(warmup + i) % len(batches)]
        losses.append(update(batch))
        audio += float(sum(batch["durations"]))
    if cuda:
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss: KiB on Linux
    values = [float(v) for v in losses]
    row = {"params_m": model.num_parameters() / 1e6, "device": torch.cuda.get_device_name() if cuda else "cpu",
           "amp": "bf16" if amp else "fp32", "batches_cached": len(batches), "warmup_steps": warmup, "timed_steps": args.steps,
           "audio_s_timed": audio, "wall_s": wall, "step_ms": 1e3 * wall / args.steps,
           "audio_s_per_s": audio / wall, "peak_gib": peak, "loss_first": values[0], "loss_last": values[-1],
           "losses_finite": all(v == v and abs(v) != float("inf") for v in values)}
    args.json.write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps(row))
    return 0 if row["losses_finite"] else 1


# --------------------------------------------------------------------------- main


def environment(r: Runner) -> dict:
    """Python, torch, CUDA, the GPU, Triton, cores: read in a child (the parent never imports torch)."""
    code = ("import json, os, platform, torch, triton; c = torch.cuda.is_available(); print(json.dumps({"
            "'python': platform.python_version(), 'torch': torch.__version__, 'triton': triton.__version__, "
            "'cuda': torch.version.cuda, 'cuda_available': c, 'gpu': torch.cuda.get_device_name() if c else None, "
            "'cpus': os.cpu_count()}))")
    try:
        done = subprocess.run(r.python("-c", code), cwd=REPO, env=r.env, capture_output=True, text=True, timeout=60)
        env = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as e:
        env = {"error": f"{type(e).__name__}: {e}"}
    try:
        env["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                       timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        env["commit"] = None
    return env


def run_all(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_run_"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    r = Runner(args, args.out.resolve(), work.resolve(), env=env)
    (r.out / "log.txt").write_text(f"tools/gpu_run.py {' '.join(sys.argv[1:])}\n")
    wanted = [s for s in STEPS if not args.steps or s.name in args.steps]
    r.summary = {"mode": "dry-run" if r.dry else "gpu", "budget_s": args.budget, "work": str(r.work),
                 "environment": environment(r),
                 "steps": [{"name": s.name, "status": "pending"} for s in wanted]}
    r.save_summary()
    for i, step in enumerate(wanted):
        left = r.left()
        cap, least = (step.dry_cap_s, step.dry_min_s) if r.dry else (step.cap_s, step.min_s)
        t = time.monotonic()
        if left < max(least, 1):
            result = {"status": "skipped", "reason": f"over budget: {left:.0f} s left of {args.budget:.0f}, "
                                                     f"the step needs at least {least:.0f} s"}
        else:
            try:
                result = step.run(r, min(cap, left))
            except Exception as e:  # a bug in this script's own step code: recorded, the next step runs
                result = {"status": "failed", "message": f"{type(e).__name__}: {e}"}
        result = {"name": step.name, **result, "wall_s": round(time.monotonic() - t, 1),
                  "timeout_s": round(min(cap, max(left, 0)), 1)}
        r.summary["steps"][i] = result
        r.save_summary()
        print(f"gpu_run: {step.name}: {result['status']} ({result['wall_s']:.0f} s)"
              + (f": {result.get('reason') or result.get('message')}" if result["status"] != "ok" else ""), flush=True)
    r.summary["complete"] = True
    r.save_summary()
    return 0 if all(s["status"] in ("ok", "skipped") for s in r.summary["steps"]) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_synth", "_train"):  # a step's child process
        p = argparse.ArgumentParser(prog=f"gpu_run.py {argv[0]}")
        if argv[0] == "_synth":
            p.add_argument("--out", type=Path, required=True)
            p.add_argument("--hours", type=float, required=True)
            p.add_argument("--speakers", type=int, default=24)
        else:
            p.add_argument("--corpus", type=Path, required=True)
            p.add_argument("--preset", required=True)
            p.add_argument("--impl", choices=["torch", "fused"], required=True)
            p.add_argument("--device", default="cuda")
            p.add_argument("--amp", default="bf16", choices=["bf16", "none"])
            p.add_argument("--batch-seconds", type=float, default=600.0)
            p.add_argument("--warmup", type=int, default=3)
            p.add_argument("--steps", type=int, default=15)
            p.add_argument("--workers", type=int, default=0)
            p.add_argument("--cache", type=int, default=6, help="distinct batches, read first and cycled")
            p.add_argument("--json", type=Path, required=True)
        args = p.parse_args(argv[1:])
        args.child = argv[0]
        return args
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--out", type=Path, required=True, help="results folder ($OUT on the device)")
    p.add_argument("--dry-run", action="store_true", help="the same steps on the CPU at tiny sizes")
    p.add_argument("--budget", type=float, default=540.0, help="seconds for all steps together (default 540)")
    p.add_argument("--steps", nargs="+", choices=[s.name for s in STEPS], default=None, help="only these steps")
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new one under /tmp)")
    args = p.parse_args(argv)
    if args.budget <= 0:
        p.error("--budget must be positive")
    args.child = None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "_synth":
        return child_synth(args)
    if args.child == "_train":
        return child_train(args)
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
