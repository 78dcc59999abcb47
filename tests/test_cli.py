"""The ``asr`` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asr.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_asr(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "asr", *args], capture_output=True, text=True, check=check, cwd=ROOT)


def test_python_dash_m_asr_help_lists_subcommands():
    out = run_asr("--help").stdout
    for name in ("synth", "score", "kaldi", "manifest"):
        assert name in out


def test_synth_manifest_kaldi_round_trip(tmp_path):
    out = tmp_path / "corpus"
    res = run_asr("synth", str(out), "--langs", "en", "--hours", "0.003", "--seed", "3", "--jobs", "1")
    assert "x real time" in res.stdout
    manifest = out / "en" / "train.jsonl"
    summary = run_asr("manifest", str(manifest)).stdout
    assert "utterances" in summary and "0 bad" in summary
    data_dir = tmp_path / "kaldi"
    run_asr("kaldi", "export", str(manifest), str(data_dir))
    assert {"wav.scp", "text", "utt2spk", "spk2utt"} <= {p.name for p in data_dir.iterdir()}
    back = tmp_path / "back.jsonl"
    run_asr("kaldi", "import", str(data_dir), str(back), "--lang", "en")
    rows = [json.loads(line) for line in back.read_text().splitlines()]
    original = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in original)
    assert {r["id"]: r["text"] for r in rows} == {r["id"]: r["text"] for r in original}


def test_manifest_reports_bad_audio(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"id": "u1", "audio": "bad.wav", "duration": 1.0, "text": "a", "lang": "en", "speaker": "s"}) + "\n")
    res = run_asr("manifest", str(m), check=False)
    assert res.returncode == 1
    assert "1 bad" in res.stdout and "bad.wav" in res.stdout


def test_score_prints_wer_and_writes_json(tmp_path, capsys):
    ref = tmp_path / "ref.txt"
    hyp = tmp_path / "hyp.txt"
    ref.write_text("u1 the cat sat down\nu2 hello world\n")
    hyp.write_text("u1 the bat sat down now\nu2 hello world\n")
    report = tmp_path / "r.json"
    assert main(["score", str(ref), str(hyp), "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "WER" in printed
    r = json.loads(report.read_text())
    assert r["words"] == {"hits": 5, "substitutions": 1, "deletions": 0, "insertions": 1}
    assert r["wer"] == pytest.approx(2 / 6)


def test_missing_file_is_a_clean_error(tmp_path, capsys):
    assert main(["score", str(tmp_path / "nope.txt"), str(tmp_path / "nope2.txt")]) == 1  # a failed input
    assert "nope.txt" in capsys.readouterr().err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A small real English synth corpus shared by the train/decode tests."""
    from asr.data.synth import SynthConfig, generate

    out = tmp_path_factory.mktemp("cli") / "corpus"
    generate(out, SynthConfig(langs=("en",), hours=0.01, train_speakers=3, dev_speakers=1, test_speakers=1,
                              min_utts_per_split=3), jobs=1, progress=False)
    return out


@pytest.mark.slow
def test_train_then_decode_ctc_through_the_cli(tmp_path, corpus):
    out = tmp_path / "ctc"
    args = ["train", "--train", str(corpus / "en" / "train.jsonl"), "--dev", str(corpus / "en" / "dev.jsonl"),
            "--out", str(out), "--epochs", "1", "--max-steps", "2", "--batch-seconds", "20", "--no-progress"]
    assert main(args) == 0
    assert (out / "model" / "model.safetensors").exists() and (out / "model" / "config.json").exists()
    hyp, stats = tmp_path / "hyp.jsonl", tmp_path / "stats.json"
    assert main(["decode", str(out / "model"), str(corpus / "en" / "test.jsonl"), str(hyp), "--json", str(stats)]) == 0
    refs = [json.loads(line)["id"] for line in (corpus / "en" / "test.jsonl").read_text().splitlines()]
    assert [json.loads(line)["id"] for line in hyp.read_text().splitlines()] == refs
    result = json.loads(stats.read_text())
    assert result["decode"]["rtf"] > 0 and 0.0 <= result["score"]["wer"]


@pytest.mark.slow
def test_train_then_decode_hybrid_through_the_cli(tmp_path, corpus, capsys):
    conf = tmp_path / "hybrid.yaml"
    conf.write_text("mono_iters: 4\nmax_gauss: 60\nepochs: 2\nrealign_rounds: 0\nhidden: 48\n")
    model = tmp_path / "hybrid"
    en = corpus / "en"
    assert main(["train", "--system", "hybrid", "--train", str(en / "train.jsonl"), "--dev", str(en / "dev.jsonl"),
                 "--lexicon", str(en / "lexicon.txt"), "--config", str(conf), "--out", str(model)]) == 0
    assert json.loads((model / "config.json").read_text())["system"] == "hybrid"
    for mode in ("word", "phone"):
        hyp, stats = tmp_path / f"{mode}.jsonl", tmp_path / f"{mode}.json"
        assert main(["decode", str(model), str(en / "test.jsonl"), str(hyp), "--mode", mode, "--json", str(stats)]) == 0
        rows = [json.loads(line) for line in hyp.read_text().splitlines()]
        assert len(rows) == len((en / "test.jsonl").read_text().splitlines())
        assert json.loads(stats.read_text())["decode"]["rtf"] > 0
    capsys.readouterr()
    assert main(["train", "--system", "hybrid", "--train", str(en / "train.jsonl"), "--dev", str(en / "dev.jsonl"),
                 "--out", str(tmp_path / "x")]) == 2
    assert "--lexicon" in capsys.readouterr().err
