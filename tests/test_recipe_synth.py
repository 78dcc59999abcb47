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
    _check_model_dir_decodes_as_measured(exp)
    report = (exp / "report.md").read_text()
    assert "Hybrid alignments: phone boundaries within 20 ms" in report  # measured against espeak-ng's times
    # a second run finds the corpus done and only redoes the cheap stages
    again = subprocess.run(cmd + ["--stage", "prepare", "--stop-stage", "prepare"], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]
    _check_curve_stage(exp)
    _check_multilingual_stage(exp, cmd)


def _check_model_dir_decodes_as_measured(exp: Path) -> None:
    """The CTC model directory carries the lexicon + LM search of each language: ``asr decode`` with
    ``--language en`` gives the recipe's ``ctc-lm`` hypotheses, without a language (two saved) greedy's."""
    from asr.cli import main

    model = exp / "ctc" / "model"
    saved = json.loads((model / "decoding.json").read_text())
    assert set(saved["lms"]) == {"en", "sw"} and saved["search"] == "lexicon"
    assert all((model / path).is_file() for path in saved["lms"].values())
    for args, variant in ((["--language", "en"], "ctc-lm"), ([], "ctc-greedy")):
        hyp = exp / f"check-{variant}.jsonl"
        assert main(["decode", str(model), str(exp / "data" / "en" / "test.jsonl"), str(hyp), *args]) == 0
        ours = [json.loads(line)["text"] for line in hyp.read_text().splitlines()]
        recipe = [json.loads(line)["text"] for line in
                  (exp / "ctc" / "hyp" / variant / "en.jsonl").read_text().splitlines()]
        assert ours == recipe, variant


def _check_curve_stage(exp: Path) -> None:
    """The smoke preset's learning curve: every system at both sizes, nested subsets, table, chart, report."""
    summary = json.loads((exp / "curve" / "curve.json").read_text())
    assert set(summary["sizes"]) == {"0.3min", "0.6min"}
    small, big = summary["sizes"]["0.3min"]["train_hours"], summary["sizes"]["0.6min"]["train_hours"]
    assert 0 < small < big <= 0.6 / 60 * 1.2
    assert set(summary["curve"]) == {"hybrid", "ctc-greedy", "ctc-lm"}
    for points in summary["curve"].values():
        assert [h for h, _ in points] == [small, big] and all(w >= 0 for _, w in points)
    ids = {size: [json.loads(line)["id"] for line in
                  (exp / "curve" / size / "data" / "en" / "train.jsonl").read_text().splitlines()]
           for size in ("0.3min", "0.6min")}
    assert set(ids["0.3min"]) < set(ids["0.6min"])  # nested: the small set lies inside the big one
    results = json.loads((exp / "curve" / "0.3min" / "results.json").read_text())
    assert set(results["hybrid"]) == {"en"}  # only the curve's language
    assert (exp / "curve" / "curve.png").stat().st_size > 1000
    assert "## Learning curves" in (exp / "report.md").read_text()


def _check_multilingual_stage(exp: Path, cmd: list[str]) -> None:
    """The smoke preset's multilingual stage: a WER/CER per approach and size, every experiment, plots, resumption."""
    ml = exp / "multilingual"
    results = json.loads((ml / "results.json").read_text())
    cells = results["cells"]
    assert results["target"] == "sw" and results["sources"] == ["en"]
    for approach in ("scratch", "joint", "finetune/full"):
        for size in ("1min", "2min"):
            for decoder in ("greedy", "lm"):
                r = cells[f"{approach}/{size}"][decoder]
                assert 0.0 <= r["cer"] and 0.0 <= r["wer"] and r["utts"] > 0 and r["words"] > 0
    assert cells["scratch/1min"]["audio_minutes"] >= 1.0 and cells["scratch/2min"]["audio_minutes"] >= 2.0
    small = [json.loads(line)["id"] for line in (ml / "data" / "sw" / "train-1min.jsonl").read_text().splitlines()]
    big = [json.loads(line)["id"] for line in (ml / "data" / "sw" / "train-2min.jsonl").read_text().splitlines()]
    assert big[: len(small)] == small and len(big) > len(small)  # nested subsets
    en = cells["sources/en"]
    assert {"mono", "pretrained", "joint"} <= set(en) and "rel_wer_change" in en["pretrained"]["lm"]
    assert cells["layers/k4"]["run"] == "ft-full-1min" and cells["layers/k0"]["run"] == "layers-k0-1min"
    trainable = {name: cells[name]["train"]["trainable_params"] for name in ("progressive/1min", "finetune/full/1min")}
    assert trainable["progressive/1min"] > trainable["finetune/full/1min"]  # a new column and its laterals
    assert cells["adversarial/1min"]["test_speakers_seen_in_training"] == 0
    new = cells["new_words/1min"]
    n_test = len((ml / "corpus" / "sw" / "test.jsonl").read_text().splitlines())
    assert new["new_word_sentences"] + new["other_sentences"] == n_test and new["new_word_sentences"] > 0
    assert {"char-greedy", "char-lm", "char-g2p", "phone-g2p"} <= set(new)
    pretrain = json.loads((ml / "runs" / "pretrain" / "train_summary.json").read_text())
    for method in ("reptile", "fomaml"):  # meta-learned initializations, the pre-training's batch budget
        meta = json.loads((ml / "runs" / f"meta-{method}" / "train_summary.json").read_text())
        assert meta["method"] == method and 0 < meta["batches"] <= pretrain["steps"]
        for size in ("1min", "2min"):
            cell = cells[f"meta/{method}/{size}"]
            assert cell["run"] == f"ft-full-meta-{method}-{size}" and cell["lm"]["utts"] > 0
            assert cell["dev_curve"] and cell["baseline"]["run"] == f"ft-full-{size}" and "steps_ratio" in cell
    for png in ("wer_vs_minutes.png", "layer_transfer.png", "meta_steps.png"):
        assert (ml / png).stat().st_size > 1000
    report = (ml / "report.md").read_text()
    for title in ("## Target sw", "## Source languages", "## Layer transfer", "## Progressive column",
                  "## Speaker-adversarial", "## New words", "## Meta-learning"):
        assert title in report, title
    # a second call finds every cell done: nothing trains or decodes again
    again = subprocess.run(cmd + ["--stage", "multilingual"], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("skipped") >= len(cells) and "training 1 languages" not in again.stderr
    assert json.loads((ml / "results.json").read_text())["cells"] == cells


def test_unknown_config_key_names_the_file(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("langs: [en]\nhourz: 1\n")
    cmd = [sys.executable, str(ROOT / "recipes" / "synth" / "run.py"), "--exp", str(tmp_path / "e"), "--config", str(conf)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode != 0
    assert "bad.yaml" in res.stderr and "hourz" in res.stderr
