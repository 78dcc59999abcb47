"""Language ID: a multilingual model with a language-ID head picks the language, head and LM (``language="auto"``)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import asr
from asr.audio import load_audio
from asr.data.manifest import read_manifest, write_manifest
from asr.decoding.ctc_lid import LanguageIdTranscriber
from asr.experiments.language_id import LidConfig, LidData, lid_table, run_language_id

pytestmark = pytest.mark.slow

LANGS = ("en", "de")


@pytest.fixture(scope="module")
def lid(tmp_path_factory):
    """en + de espeak-ng speech, a model trained on it with the LID head, its results on its own training audio."""
    from asr.data.synth import SynthConfig, generate
    from asr.text.lm import train_ngram

    root = tmp_path_factory.mktemp("lid")
    generate(root / "corpus", SynthConfig(langs=LANGS, hours=0.006, train_speakers=2, dev_speakers=1, test_speakers=1,
                                          min_utts_per_split=3), jobs=1, progress=False)
    data, lms = {}, {}
    for lang in LANGS:
        utts = read_manifest(root / "corpus" / lang / "train.jsonl")
        write_manifest(root / lang / "train.jsonl",  # six passes an epoch
                       [dataclasses.replace(u, id=f"{u.id}-{k}") for k in range(6) for u in utts])
        data[lang] = LidData(root / lang / "train.jsonl", root / "corpus" / lang / "dev.jsonl",
                             {f"{lang}-train": root / "corpus" / lang / "train.jsonl"})
        lms[lang] = root / f"{lang}.arpa"
        train_ngram([u.text.split() for u in utts], order=2).to_arpa(lms[lang])
    cfg = LidConfig(model={"num_layers": 2, "spec_time_masks": 0, "spec_freq_masks": 0, "dropout": 0.0},
                    lid_weight=1.0, beam=8,
                    train={"epochs": 6, "max_batch_seconds": 20, "lr": 3e-3, "warmup_steps": 10,
                           "schedule": "constant", "checkpoint_every": 0, "average_last": 1})
    torch.manual_seed(0)
    results = run_language_id(root / "exp", data, lms, cfg)
    return root, results


def test_lid_head_names_the_language_of_audio_it_learned(lid):
    root, results = lid
    assert results["languages"] == list(LANGS)
    by_test = {r["test"]: r for r in results["rows"]}
    for lang in LANGS:
        row = by_test[f"{lang}-train"]
        assert row["accuracy"] >= 80.0, row  # a tiny model, a few dozen updates: its own training audio
        assert sum(row["confusion"].values()) == row["utts"]
    table = lid_table(results)
    assert "| en-train |" in table and "true \\ chosen" in table
    assert (root / "exp" / "lid.png").stat().st_size > 1000 and (root / "exp" / "lid.md").is_file()
    assert run_language_id(root / "exp", {}, {}, LidConfig()) == results  # finished: read back, nothing redone


def test_auto_transcripts_carry_the_language_and_use_its_head(lid, tmp_path):
    root, results = lid
    model_dir = results["model_dir"]
    rec = asr.load(model_dir, language="auto")
    assert isinstance(rec.engine, LanguageIdTranscriber) and rec.engine.languages == LANGS
    utt = read_manifest(root / "corpus" / "de" / "train.jsonl")[0]
    t = rec.transcribe(utt.audio)
    assert t.language == "de" and t.to_dict()["language"] == "de"
    oracle = asr.load(model_dir, language="de").transcribe(utt.audio)
    assert t.text == oracle.text and [w.word for w in t.words] == [w.word for w in oracle.words]
    probs = rec.engine.identify([load_audio(utt.audio)])[0]
    assert list(probs)[0] == "de" and sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    en = read_manifest(root / "corpus" / "en" / "train.jsonl")[0]
    both = rec.transcribe_batch([en.audio, utt.audio])  # one batch, two languages: each its own head
    assert [x.language for x in both] == ["en", "de"]
    json.dumps([x.to_dict() for x in both])


def test_auto_needs_a_language_id_head(tmp_path):
    from conftest import random_ctc_model_dir

    with pytest.raises(ValueError, match="language"):
        asr.load(random_ctc_model_dir(tmp_path / "ctc", "abc"), language="auto")


def test_a_language_id_model_serves_files_but_not_streams(lid):
    pytest.importorskip("fastapi", reason="fastapi is not installed")
    pytest.importorskip("httpx", reason="httpx is not installed")
    from fastapi.testclient import TestClient

    from asr.serve import create_app

    root, results = lid
    utt = read_manifest(root / "corpus" / "de" / "train.jsonl")[0]
    with TestClient(create_app({"lid": asr.load(results["model_dir"], language="auto")})) as client:
        with open(utt.audio, "rb") as f:
            r = client.post("/v1/transcribe", files={"file": ("de.wav", f.read())})
        assert r.status_code == 200 and r.json()["language"] == "de"
        with client.websocket_connect("/v1/stream?model=lid") as ws:
            assert "streaming needs" in ws.receive_json()["error"]
