"""tools/gpu_run.py (issue 15): the prepared GPU run's dry run, on the CPU at tiny sizes.

The dry run goes through every step the device will run (install, CUDA tests, CTC benchmark,
training throughput, the quick recipe, the fused CTC tests), each reported as ok, skipped with
a reason, or failed / timed out with a message, and leaves at most 8 files, flat, under OUT:
what the device gives back. About 50 s on 2 cores.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STEPS = ["install", "cuda_tests", "bench", "throughput", "quick", "fused_ctc"]
STATUSES = {"ok", "skipped", "failed", "timeout"}


def run_gpu_run(tmp_path: Path, *argv: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "tools/gpu_run.py", "--dry-run", "--out", str(out),
                           "--work", str(tmp_path / "work"), *argv],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert (out / "summary.json").is_file(), proc.stdout + proc.stderr
    return proc, json.loads((out / "summary.json").read_text())


def check_reported(step: dict) -> None:
    """Every step says what happened: ok, or skipped with a reason, or failed / timed out with a message."""
    assert step["status"] in STATUSES, step
    if step["status"] == "skipped":
        assert step["reason"], step
    elif step["status"] != "ok":
        assert step["message"], step
    assert step["wall_s"] >= 0 and step["timeout_s"] >= 0


@pytest.mark.slow
def test_dry_run_reports_every_step(tmp_path: Path):
    proc, summary = run_gpu_run(tmp_path, "--budget", "150")
    out = tmp_path / "out"
    assert summary["mode"] == "dry-run" and summary["complete"], summary
    assert [s["name"] for s in summary["steps"]] == STEPS
    for step in summary["steps"]:
        check_reported(step)
    by = {s["name"]: s for s in summary["steps"]}
    assert by["install"]["status"] == "skipped" and "dry run" in by["install"]["reason"]
    for name in ("cuda_tests", "bench", "throughput", "quick", "fused_ctc"):
        assert by[name]["status"] == "ok", (by[name], (out / "log.txt").read_text()[-3000:])
    assert proc.returncode == 0, proc.stdout + proc.stderr

    tests = json.loads((out / "tests.json").read_text())
    cuda = tests["cuda_tests"]  # no CUDA here: conftest skips every gpu-marked test
    assert cuda["tests"] > 0 and cuda["skipped"] == cuda["tests"] and "needs CUDA" in " ".join(cuda["skip_reasons"])
    assert "tests/test_fused_ctc.py" in by["cuda_tests"]["test_files"]
    fused = tests["fused_ctc"]
    assert fused["passed"] > 0 and fused["failed"] == fused["errors"] == 0

    bench = json.loads((out / "bench_ctc.json").read_text())
    assert bench["device"] == "cpu" and bench["complete"]
    assert {r["method"] for r in bench["results"]} == {"torch", "ours", "torch+linear", "ours+linear"}
    assert by["bench"]["max_rel_diff_vs_torch"] < 1e-4

    rows = json.loads((out / "throughput.json").read_text())["rows"]
    assert [(r["preset"], r["impl"]) for r in rows] == [("tiny", "torch"), ("tiny", "fused")]
    for r in rows:
        assert r["status"] == "ok" and r["audio_s_per_s"] > 0 and r["peak_gib"] > 0 and r["losses_finite"]
    # the same batches, seed and model: torch's CTC and the fused loss (interpreted) train alike
    assert rows[0]["loss_first"] == pytest.approx(rows[1]["loss_first"], rel=1e-4)
    table = (out / "throughput.md").read_text()
    assert "| tiny | torch |" in table and "| tiny | fused |" in table

    quick = json.loads((out / "quick_results.json").read_text())  # the smoke preset, CTC only, prepare to report
    assert quick["preset"] == "smoke" and set(quick["results"]) == {"ctc-greedy", "ctc-lm"}
    assert set(by["quick"]["wer"]["ctc-greedy"]) == {"en", "sw"} and quick["ctc_train_summary"]["steps"] == 3
    assert "| system |" in (out / "quick_report.md").read_text()

    # what the device gives back: at most 8 files, no folders, plain names
    files = list(out.iterdir())
    assert all(p.is_file() for p in files) and len(files) <= 8
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", p.name) for p in files)
    assert set(summary["out_files"]) == {p.name for p in files}
    assert "===== bench" in (out / "log.txt").read_text()


def test_budget_and_step_selection(tmp_path: Path):
    """Only the chosen steps run; one with too little budget left is skipped with the reason."""
    proc, summary = run_gpu_run(tmp_path, "--budget", "1", "--steps", "bench", "install", timeout=120)
    assert [s["name"] for s in summary["steps"]] == ["install", "bench"]  # the script's order
    for step in summary["steps"]:
        check_reported(step)
        assert step["status"] == "skipped"
    assert "over budget" in summary["steps"][1]["reason"]
    assert proc.returncode == 0
