"""``asr compare`` on results.json files shaped like the synth recipe's score stage writes."""

from __future__ import annotations

import csv
import json

import pytest

from asr.cli.compare import main
from asr.compare import read_results


def result(hits: int, sub: int, dels: int, ins: int, rtf: float, **extra) -> dict:
    n = hits + sub + dels
    return {"wer": (sub + dels + ins) / n, "cer": 0.5 * (sub + dels + ins) / n,
            "words": {"hits": hits, "substitutions": sub, "deletions": dels, "insertions": ins},
            "chars": {"hits": 4 * hits, "substitutions": sub, "deletions": dels, "insertions": ins},
            "rtf": rtf, **extra}


@pytest.fixture
def exps(tmp_path):
    a, b = tmp_path / "synth", tmp_path / "big"
    for d in (a, b):
        d.mkdir()
    (a / "results.json").write_text(json.dumps({
        "hybrid": {"en": result(90, 6, 4, 2, 0.1), "es": result(40, 5, 5, 0, 0.2)},
        "ctc-greedy": {"en": result(80, 10, 10, 5, 0.05, params=800000, train_s=600.0), "es": result(45, 3, 2, 1, 0.05)},
    }))
    (b / "results.json").write_text(json.dumps({"ctc-lm": {"en": result(95, 3, 2, 1, 0.3)}}))
    return a, b


def test_rows_rates_and_pooled_row(exps):
    rows = read_results([exps[0]])
    assert [(r.system, r.test_set) for r in rows] == [("hybrid", "en"), ("hybrid", "es"), ("hybrid", "all"),
                                                     ("ctc-greedy", "en"), ("ctc-greedy", "es"), ("ctc-greedy", "all")]
    en = rows[0]
    assert en.wer == pytest.approx(0.12) and en.sub == pytest.approx(0.06) and en.dels == pytest.approx(0.04)
    assert en.ins == pytest.approx(0.02) and en.ref_words == 100
    pooled = rows[2]  # 12 + 10 errors over 100 + 50 words
    assert pooled.wer == pytest.approx(22 / 150) and pooled.ref_words == 150 and pooled.rtf == pytest.approx(0.15)
    assert rows[3].params == 800000 and rows[3].train_s == 600.0


def test_cli_writes_markdown_csv_and_png(exps, tmp_path, capsys):
    out = tmp_path / "report"
    assert main([str(exps[0]), str(exps[1]), "--out", str(out)]) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0].startswith("| system | test set | WER %") and len(lines) == 2 + 6 + 1
    assert "| synth/hybrid | en | 12.00 | 6.00 | 6.00 | 4.00 | 2.00 | 0.100 | - | - |" in lines
    assert "| synth/ctc-greedy | en | 25.00 | 12.50 | 10.00 | 10.00 | 5.00 | 0.050 | 0.80 M | 10.0 min |" in lines
    assert any(line.startswith("| big/ctc-lm | en | 6.00") for line in lines)
    assert (out / "compare.md").read_text().startswith(table)
    with open(out / "compare.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and rows[0]["system"] == "synth/hybrid" and float(rows[0]["wer"]) == pytest.approx(0.12)
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_or_malformed_results_fail_clearly(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "results.json: no such file" in capsys.readouterr().err
    (tmp_path / "results.json").write_text(json.dumps({"ctc": {"en": {"cer": 0.1}}}))
    assert main([str(tmp_path)]) == 2
    assert "not a results.json" in capsys.readouterr().err


def test_learning_curve_crossover_from_one_experiment_per_size(tmp_path, capsys):
    # hybrid improves slowly, ctc fast: ctc goes below hybrid between 0.25 h and 1 h
    sizes = {"h0.0625": (0.0625, 10, 60), "h0.25": (0.25, 8, 20), "h1": (1.0, 6, 4)}
    exps = []
    for name, (hours, hyb_err, ctc_err) in sizes.items():
        d = tmp_path / name
        d.mkdir()
        (d / "results.json").write_text(json.dumps({
            "hybrid": {"en": result(100 - hyb_err, hyb_err, 0, 0, 0.1, train_hours=hours)},
            "ctc": {"en": result(100 - ctc_err, ctc_err, 0, 0, 0.01, train_hours=hours)},
        }))
        exps.append(str(d))
    from asr.compare import crossovers, curves

    curve = curves(read_results(exps, prefix=False))
    assert curve["hybrid"] == [(0.0625, 0.10), (0.25, 0.08), (1.0, 0.06)]
    [(after, before, hours)] = crossovers(curve)
    assert (after, before) == ("ctc", "hybrid")
    # differences +12 and -2 points -> 6/7 of the way from 0.25 h to 1 h in log hours
    assert hours == pytest.approx(0.25 * 4 ** (12 / 14))
    out = tmp_path / "report"
    assert main([*exps, "--curve", "--out", str(out)]) == 0
    md = (out / "curve.md").read_text()
    assert "| hybrid | 10.0 | 8.0 | 6.0 |" in md and "ctc overtakes hybrid at about 0.82 h" in md
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "ctc overtakes hybrid" in capsys.readouterr().out


def test_learning_curve_needs_train_hours(exps, capsys):
    assert main([str(exps[0]), "--curve", "--no-plot"]) == 2
    assert "train_hours" in capsys.readouterr().err
