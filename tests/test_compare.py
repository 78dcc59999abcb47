"""``asr compare`` on results.json files shaped like the synth recipe's score stage writes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from dataclasses import asdict
from types import SimpleNamespace

import pytest

from asr.cli.compare import main
from asr.compare import environment, environment_markdown, read_results, to_markdown
from asr.data.manifest import Utterance, read_manifest, write_manifest
from asr.decoding.hybrid_search import DecoderConfig
from asr.decoding.types import DecodeStats
from asr.metrics import score


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


HEADER = ("| system | test set | decoding | Snt | Wrd | Corr | Sub | Del | Ins | Err | S.Err | CER % | RTF | params | "
          "train time |")


def test_cli_writes_markdown_csv_and_png(exps, tmp_path, capsys):
    """Old results.json (no num_utterances, sentence_errors, decoding): those cells are '-', the rest as before."""
    out = tmp_path / "report"
    assert main([str(exps[0]), str(exps[1]), "--out", str(out)]) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0] == HEADER and len(lines) == 2 + 6 + 1 + 1 + 1  # header, rows, blank, legend, end
    assert lines[-1].startswith("Corr, Sub, Del, Ins, Err: % of the Wrd reference words")
    assert ("| synth/hybrid | en | - | - | 100 | 90.00 (90) | 6.00 (6) | 4.00 (4) | 2.00 (2) | 12.00 (12) | - | "
            "6.00 | 0.100 | - | - |") in lines
    assert ("| synth/ctc-greedy | en | - | - | 100 | 80.00 (80) | 10.00 (10) | 10.00 (10) | 5.00 (5) | 25.00 (25) | - | "
            "12.50 | 0.050 | 0.80 M | 10.0 min |") in lines
    assert any(line.startswith("| big/ctc-lm | en | - | - | 100 | 95.00 (95) |") for line in lines)
    md = (out / "compare.md").read_text()
    assert md.startswith(table) and "## Environment" in md and "| python |" in md
    assert "## Commands" not in md  # no commands.txt in these experiments
    with open(out / "compare.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and rows[0]["system"] == "synth/hybrid" and float(rows[0]["wer"]) == pytest.approx(0.12)
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_or_malformed_results_fail_clearly(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert "results.json: no such file" in capsys.readouterr().err
    (tmp_path / "results.json").write_text(json.dumps({"ctc": {"en": {"cer": 0.1}}}))
    assert main([str(tmp_path)]) == 1
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
    assert main([str(exps[0]), "--curve", "--no-plot"]) == 1
    assert "train_hours" in capsys.readouterr().err


# --- sclite / ESPnet columns from the real scoring path -------------------------------------------------------

REFS = {"u1": "the cat sat on the mat", "u2": "a dog barked", "u3": "hello world", "u4": "good night"}
HYPS = {
    "hybrid": {"u1": "the cat sat on the mat", "u2": "a dog parked loudly", "u3": "hello", "u4": "good night"},
    "ctc-greedy": {"u1": "the cat sat in the mat", "u2": "a dog barked", "u3": "hello world", "u4": "good"},
    "ctc-lm": {"u1": "the cat sat on the mat", "u2": "a dog barked", "u3": "hello world", "u4": "good night"},
}


def test_sentence_errors_on_a_hand_made_set():
    r = score(REFS, HYPS["hybrid"])  # u2: 1 sub + 1 ins, u3: 1 del; u1, u4 right
    assert (r.hits, r.substitutions, r.deletions, r.insertions) == (11, 1, 1, 1) and r.num_words == 13
    assert r.sentence_errors == 2 and r.to_dict()["sentence_errors"] == 2
    assert score({"a": "x  y"}, {"a": " x y "}).sentence_errors == 0  # whitespace is not an error
    assert score({"a": "x", "b": "y"}, {"a": "x"}).sentence_errors == 1  # a missing hypothesis is one
    by_lang = score(REFS, HYPS["hybrid"], {"u1": "en", "u2": "en", "u3": "fr", "u4": "fr"}).by_lang
    assert by_lang["en"].sentence_errors == 1 and by_lang["fr"].sentence_errors == 1


def _cells(table: str) -> dict[tuple[str, str], dict[str, str]]:
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [dict(zip(head, (c.strip() for c in line.strip("|").split("|")))) for line in lines[1:]]
    return {(r["system"], r["test set"]): r for r in rows}


def _split(cell: str) -> tuple[float, int]:
    pct, count = cell.split(" (")
    return float(pct), int(count.rstrip(")"))


def _experiment(tmp_path, monkeypatch, settings=None):
    """Decode (recognizers faked: they 'recognise' HYPS) and score through asr.systems' own functions."""
    import safetensors.torch
    import torch

    from asr import systems

    exp = tmp_path / "exp"
    tests = {}
    for name, ids in (("test", ["u1", "u2", "u3"]), ("dev", ["u4"])):
        tests[name] = tmp_path / f"{name}.jsonl"
        write_manifest(tests[name], [Utterance(id=i, audio=f"/a/{i}.wav", duration=2.0, text=REFS[i], lang="en")
                                     for i in ids])
    for d in (exp / "hybrid" / "model", exp / "ctc" / "model"):
        d.mkdir(parents=True)
        safetensors.torch.save_file({"w": torch.zeros(10, 3)}, str(d / "model.safetensors"))
    (exp / "train_times.json").write_text(json.dumps({"hybrid": 60.0, "ctc": 120.0}))

    def load_recognizer(model_dir, device="cpu", beam=None, lm=None, lm_weight=None, word_score=None, mode="word"):
        if "hybrid" in str(model_dir):
            return SimpleNamespace(system="hybrid", decoder_name="word", variant="hybrid",
                                   cfg=DecoderConfig(beam=12.0, lm_weight=0.8, word_penalty=-0.5))
        return SimpleNamespace(system="ctc", decoder_name="lexicon" if lm else "greedy",
                               variant="ctc-lm" if lm else "ctc-greedy")

    def decode_to(recognizer, test, hyp, jobs=1):
        hyp.parent.mkdir(parents=True, exist_ok=True)
        ids = [u.id for u in read_manifest(test)]
        hyp.write_text("".join(json.dumps({"id": i, "text": HYPS[recognizer.variant][i]}) + "\n" for i in ids))
        return hyp, DecodeStats(num_utts=len(ids), audio_seconds=2.0 * len(ids), wall_seconds=0.2 * len(ids))

    monkeypatch.setattr(systems, "load_recognizer", load_recognizer)
    monkeypatch.setattr(systems, "_decode_to", decode_to)
    lm = tmp_path / "lm.arpa"
    lang = systems.LangData("", "en", tmp_path / "train.jsonl", None, tests, tmp_path / "lexicon.txt", ctc_lm=lm)
    xp = systems.Experiment(exp, (lang,), ctc=settings or systems.CTCSettings(beam=8, lm_weight=0.7, word_score=1.5))
    systems.decode_systems(xp)
    systems.score_systems(xp)
    return exp


def test_table_from_scored_results_adds_up(tmp_path, monkeypatch):
    exp = _experiment(tmp_path, monkeypatch)
    results = json.loads((exp / "results.json").read_text())
    assert results["hybrid"]["test"]["decoding"] == {"search": "word", "lm": "model",
                                                     **asdict(DecoderConfig(beam=12.0, lm_weight=0.8, word_penalty=-0.5))}
    assert results["ctc-lm"]["dev"]["decoding"] == {"search": "lexicon", "lm_weight": 0.7, "word_score": 1.5,
                                                    "beam": 8, "lm": str(tmp_path / "lm.arpa")}
    assert results["ctc-greedy"]["test"]["decoding"] == {"search": "greedy"}
    assert results["hybrid"]["test"]["sentence_errors"] == 2 and results["hybrid"]["dev"]["sentence_errors"] == 0

    table = to_markdown(read_results([exp]))
    cells = _cells(table)
    assert list(cells) == [(s, t) for s in ("hybrid", "ctc-greedy", "ctc-lm") for t in ("test", "dev", "all")]
    assert cells["hybrid", "test"]["decoding"] == "beam 12, lmwt 0.8, wp -0.5, acwt 0.1"
    assert cells["ctc-lm", "all"]["decoding"] == "beam 8, lmwt 0.7, ws 1.5"
    assert cells["ctc-greedy", "dev"]["decoding"] == "greedy"
    expected = {  # (Snt, Wrd, hits, sub, del, ins, sentence errors), counted by hand from REFS / HYPS
        ("hybrid", "test"): (3, 11, 9, 1, 1, 1, 2), ("hybrid", "dev"): (1, 2, 2, 0, 0, 0, 0),
        ("hybrid", "all"): (4, 13, 11, 1, 1, 1, 2),
        ("ctc-greedy", "test"): (3, 11, 10, 1, 0, 0, 1), ("ctc-greedy", "dev"): (1, 2, 1, 0, 1, 0, 1),
        ("ctc-greedy", "all"): (4, 13, 11, 1, 1, 0, 2),
        ("ctc-lm", "all"): (4, 13, 13, 0, 0, 0, 0),
    }
    for key, (snt, wrd, hits, sub, dels, ins, serr) in expected.items():
        c = cells[key]
        assert (int(c["Snt"]), int(c["Wrd"])) == (snt, wrd), key
        counts = {k: _split(c[k]) for k in ("Corr", "Sub", "Del", "Ins", "Err", "S.Err")}
        assert [counts[k][1] for k in ("Corr", "Sub", "Del", "Ins", "Err", "S.Err")] == [
            hits, sub, dels, ins, sub + dels + ins, serr], key
        assert counts["Corr"][1] + counts["Sub"][1] + counts["Del"][1] == wrd  # Corr + Sub + Del = Wrd
        for k in ("Corr", "Sub", "Del", "Ins", "Err"):
            assert counts[k][0] == pytest.approx(round(100 * counts[k][1] / wrd, 2)), (key, k)
        assert counts["Corr"][0] + counts["Sub"][0] + counts["Del"][0] == pytest.approx(100, abs=0.02)
        assert counts["S.Err"][0] == pytest.approx(round(100 * serr / snt, 2))
    wer = results["ctc-greedy"]["test"]["wer"]
    assert _split(cells["ctc-greedy", "test"]["Err"])[0] == pytest.approx(round(100 * wer, 2))  # Err is the WER
    assert cells["hybrid", "test"]["RTF"] == "0.100" and cells["hybrid", "test"]["train time"] == "1.0 min"

    from asr.compare import write_csv

    write_csv(read_results([exp]), tmp_path / "rows.csv")
    with open(tmp_path / "rows.csv") as f:
        row = next(csv.DictReader(f))
    assert (row["sentences"], row["sentence_errors"], row["hits"]) == ("3", "2", "9")
    assert row["decoding"] == "beam 12, lmwt 0.8, wp -0.5, acwt 0.1"


def test_old_results_json_without_new_fields_still_renders(tmp_path, monkeypatch):
    exp = _experiment(tmp_path, monkeypatch)
    results = json.loads((exp / "results.json").read_text())
    for per_set in results.values():
        for entry in per_set.values():
            del entry["sentence_errors"], entry["decoding"], entry["num_utterances"]
    (exp / "results.json").write_text(json.dumps(results))
    cells = _cells(to_markdown(read_results([exp])))
    c = cells["hybrid", "all"]
    assert (c["decoding"], c["Snt"], c["S.Err"], c["Wrd"], c["Err"]) == ("-", "-", "-", "13", "23.08 (3)")


def test_pooled_row_with_differing_decodings_names_them_all(tmp_path):
    from asr.compare import decoding_label

    entry = {**score(REFS, HYPS["hybrid"]).to_dict()}
    a = {**entry, "decoding": {"search": "word", "beam": 10.0, "lm_weight": 1.0, "word_penalty": 0.0}}
    b = {**entry, "decoding": {"search": "word", "beam": 13.0, "lm_weight": 1.0, "word_penalty": 0.0}}
    (tmp_path / "results.json").write_text(json.dumps({"hybrid": {"en": a, "es": b}}))
    pooled = read_results([tmp_path])[-1]
    assert pooled.test_set == "all" and pooled.decoding == "beam 10, lmwt 1.0, wp 0.0; beam 13, lmwt 1.0, wp 0.0"
    assert decoding_label(None) is None and decoding_label({"search": "phone", "beam": 8}) == "phone, beam 8"


def test_cli_markdown_prints_commands_and_environment(tmp_path, monkeypatch, capsys):
    exp = _experiment(tmp_path, monkeypatch)
    (exp / "commands.txt").write_text("python recipes/an4/run.py --exp exp\npython recipes/an4/run.py --exp exp --stage score\n")
    assert main([str(exp), "--no-plot", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out == (exp / "compare.md").read_text()
    assert out.startswith(HEADER)
    assert "## Commands\n\n```sh\npython recipes/an4/run.py --exp exp\npython recipes/an4/run.py --exp exp --stage score\n```" in out
    assert "## Environment" in out and "| torch |" in out and "| CPU cores |" in out
    assert main([str(exp), "--no-plot"]) == 0
    assert "## Environment" not in capsys.readouterr().out  # without --markdown: the table only


def test_environment_outside_a_checkout(tmp_path):
    import torch

    env = environment(tmp_path)
    assert env["git"] is None and env["python"].count(".") == 2 and env["cores"] == os.cpu_count()
    assert env["packages"]["torch"].split("+")[0] == torch.__version__.split("+")[0] and "asr" in env["packages"]
    assert env["cpu"] and env["date"][:2] == "20"
    assert (env["gpu"] is not None) == torch.cuda.is_available()
    md = environment_markdown(env)
    assert "| git commit | - (not a git checkout) |" in md and f"| torch | {env['packages']['torch']} |" in md
    assert "| GPU | " in md and f"| CPU | {env['cpu']} |" in md


@pytest.mark.skipif(shutil.which("git") is None, reason="no git")
def test_environment_git_commit_and_dirty_flag(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.txt").write_text("1\n")
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (repo / "untracked.txt").write_text("u\n")  # untracked files do not make it dirty
    assert environment(repo)["git"] == {"commit": head, "dirty": False}
    assert f"| git commit | {head} |" in environment_markdown(environment(repo))
    (repo / "a.txt").write_text("2\n")
    assert environment(repo)["git"] == {"commit": head, "dirty": True}
    assert f"| git commit | {head} (dirty) |" in environment_markdown(environment(repo))
