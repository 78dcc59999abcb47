"""The synth recipe's smoke preset, every stage, as the README runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_smoke_preset_runs_every_stage(tmp_path):
    exp = tmp_path / "exp"
    cmd = [sys.executable, str(ROOT / "recipes" / "synth" / "run.py"), "--exp", str(exp), "--preset", "smoke"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| en | train |" in res.stdout
    for split in ("train", "dev", "test"):
        rows = [json.loads(line) for line in (exp / "data" / f"{split}.jsonl").read_text().splitlines()]
        assert {r["lang"] for r in rows} == {"en", "sw"}
        assert all(Path(r["audio"]).is_absolute() or (exp / "data" / r["audio"]).exists() for r in rows)
    assert (exp / "report.md").exists() and (exp / "corpus.png").stat().st_size > 1000
    results = json.loads((exp / "results.json").read_text())
    assert set(results) == {"hybrid", "ctc-greedy", "ctc-lm"}
    for per_lang in results.values():
        assert set(per_lang) == {"en", "sw"}
        assert all(0.0 <= r["wer"] and r["rtf"] > 0 for r in per_lang.values())
    assert "| hybrid |" in res.stdout and "| ctc-greedy |" in res.stdout
    assert (exp / "results.png").stat().st_size > 1000
    for lang in ("en", "sw"):
        assert (exp / "hybrid" / lang / "model" / "config.json").exists()
        assert "\\data\\" in (exp / "lm" / f"{lang}.arpa").read_text()[:20]
    assert (exp / "ctc" / "model" / "model.safetensors").exists()
    report = (exp / "report.md").read_text()
    assert "Hybrid alignments: phone boundaries within 20 ms" in report  # measured against espeak-ng's times
    # a second run finds the corpus done and only redoes the cheap stages
    again = subprocess.run(cmd + ["--stage", "prepare", "--stop-stage", "prepare"], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]


def test_unknown_config_key_names_the_file(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("langs: [en]\nhourz: 1\n")
    cmd = [sys.executable, str(ROOT / "recipes" / "synth" / "run.py"), "--exp", str(tmp_path / "e"), "--config", str(conf)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode != 0
    assert "bad.yaml" in res.stderr and "hourz" in res.stderr
