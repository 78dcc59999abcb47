"""The decode contract both roads share: one table loads either model directory as a Recognizer,
``decode_manifest`` decodes a manifest with it and reports the same DecodeStats, bad audio is
reported and kept as an empty hypothesis, and word times come out for both systems.

The models are real but untrained (random weights): a tiny Conformer-CTC and a hybrid bundle
(TDNN frame classifier, flat priors, monophone HMMs, a lexicon and a word trigram), each saved
as a model directory and loaded back through :func:`asr.systems.load_recognizer`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.data.manifest import Utterance, read_manifest, write_manifest
from asr.text.lm import train_ngram
from asr.decoding.manifest import decode_batches, decode_manifest
from asr.decoding.types import DecodeStats, Hypothesis, Recognizer
from asr.features import FeatureExtractor
from asr.hmm.topology import HmmTopology, TopologyConfig
from asr.models.frame_classifier import FrameClassifierConfig, build_frame_classifier
from asr.models.hybrid import HybridModel, load_hybrid, save_hybrid
from asr.systems import SYSTEMS, load_recognizer, system_of
from asr.text.lexicon import Lexicon
from asr.train.hybrid import HybridConfig
from conftest import make_tone, random_ctc_model_dir

WORDS = {"a": ("a",), "b": ("b",), "ab": ("a", "b")}


@pytest.fixture(scope="module")
def ctc_dir(tmp_path_factory) -> Path:
    return random_ctc_model_dir(tmp_path_factory.mktemp("ctc"), "a b ab")


@pytest.fixture(scope="module")
def hybrid_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    cfg = HybridConfig(hidden=16)
    lexicon = Lexicon({w: [p] for w, p in WORDS.items()})
    topo = HmmTopology.create(lexicon.phones(), TopologyConfig())
    extractor = FeatureExtractor(cfg.feature_config())
    ccfg = FrameClassifierConfig(kind="tdnn", input_dim=extractor.dim, num_pdfs=topo.num_pdfs, hidden=16)
    lm = train_ngram([["a", "b"], ["ab"], ["b", "a"]], 3, vocab=lexicon.words())
    model = HybridModel(extractor, build_frame_classifier(ccfg).eval(), ccfg,
                        torch.full((topo.num_pdfs,), -float(np.log(topo.num_pdfs))), 1.0, topo, lexicon, lm, lm,
                        decoding=cfg.decoding_modes(), lang="en", train_config=dataclasses.asdict(cfg))
    out = tmp_path_factory.mktemp("hybrid") / "model"
    save_hybrid(out, model)
    return out


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("audio")
    utts = []
    for i, seconds in enumerate((1.2, 0.6, 2.0)):
        sf.write(d / f"u{i}.wav", make_tone(seconds, freq=200 + 100 * i, seed=i), 16000, subtype="PCM_16")
        utts.append(Utterance(f"u{i}", str(d / f"u{i}.wav"), seconds, "a b", lang="en"))
    (d / "bad.wav").write_bytes(b"RIFF\x00\x00not audio")
    utts.insert(1, Utterance("bad", str(d / "bad.wav"), 1.0, "a", lang="en"))
    write_manifest(d / "test.jsonl", utts)
    return d / "test.jsonl"


def test_one_table_loads_both_systems(ctc_dir, hybrid_dir):
    assert set(SYSTEMS) == {"ctc", "hybrid"}
    assert system_of(ctc_dir) == "ctc" and system_of(hybrid_dir) == "hybrid"
    for d, system in ((ctc_dir, "ctc"), (hybrid_dir, "hybrid")):
        recognizer = load_recognizer(d)
        assert isinstance(recognizer, Recognizer) and recognizer.system == system
        hyps = recognizer.transcribe([torch.zeros(16000), torch.randn(8000) * 0.1], with_times=True)
        assert len(hyps) == 2 and all(isinstance(h, Hypothesis) for h in hyps)
        for h in hyps:
            assert [w.word for w in h.words] == h.text.split()
            assert all(0.0 <= w.start <= w.end for w in h.words)


def test_bad_model_directories_name_the_problem(tmp_path, ctc_dir):
    with pytest.raises(ValueError, match="no such model directory"):
        load_recognizer(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no config.json"):
        load_recognizer(tmp_path / "empty")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "config.json").write_text(json.dumps({"system": "wfst"}))
    with pytest.raises(ValueError, match="unknown system 'wfst'"):
        system_of(tmp_path / "odd")
    with pytest.raises(ValueError, match="no such language model file"):
        load_recognizer(ctc_dir, lm=tmp_path / "missing.arpa")
    with pytest.raises(ValueError, match="words"):
        load_recognizer(ctc_dir, mode="phone")


@pytest.mark.parametrize("system", ["ctc", "hybrid"])
def test_decode_manifest_contract(system, ctc_dir, hybrid_dir, manifest, tmp_path):
    recognizer = load_recognizer(ctc_dir if system == "ctc" else hybrid_dir)
    stats = decode_manifest(recognizer, manifest, tmp_path / "hyp.jsonl", batch_seconds=2.5, with_times=True)
    assert isinstance(stats, DecodeStats) and stats.system == system
    assert stats.num_utts == 4 and list(stats.skipped) == ["bad"] and "bad.wav" in stats.skipped["bad"]
    assert stats.audio_seconds == pytest.approx(3.8, abs=0.01)
    assert 0 < stats.compute_seconds <= stats.wall_seconds and stats.rtf >= stats.rtf_compute > 0
    assert set(stats.to_dict()) == {f.name for f in dataclasses.fields(DecodeStats)} | {"rtf", "rtf_compute"}
    rows = read_manifest(tmp_path / "hyp.jsonl")
    assert [r.id for r in rows] == ["u0", "bad", "u1", "u2"]  # input order, the bad row kept
    assert rows[1].text == "" and rows[1].extra.get("words") is None
    for r in rows:
        if r.id != "bad":
            assert [w["word"] for w in r.extra["words"]] == r.text.split()
    # batching does not change the hypotheses
    again = decode_manifest(recognizer, manifest, tmp_path / "hyp1.jsonl", batch_seconds=0.1)
    assert again.num_utts == 4 and [r.text for r in read_manifest(tmp_path / "hyp1.jsonl")] == [r.text for r in rows]
    # nor do worker processes (Kaldi's nj): the same rows in the same order, the bad file still reported
    par = decode_manifest(recognizer, manifest, tmp_path / "hyp2.jsonl", batch_seconds=2.5, with_times=True, jobs=2)
    assert par.jobs == 2 and list(par.skipped) == ["bad"] and par.audio_seconds == pytest.approx(stats.audio_seconds)
    assert read_manifest(tmp_path / "hyp2.jsonl") == rows


def test_decode_batches_longest_first_within_budget():
    utts = [Utterance(f"u{i}", "x.wav", d, "") for i, d in enumerate((1.0, 3.0, 2.0, 0.5, 0.5))]
    batches = decode_batches(utts, 4.0)
    assert [u.id for b in batches for u in b] == ["u1", "u2", "u0", "u3", "u4"]
    assert all(len(b) * b[0].duration <= 4.0 or len(b) == 1 for b in batches)


def test_hybrid_model_directory_round_trip(hybrid_dir):
    model = load_hybrid(hybrid_dir)
    meta = json.loads((hybrid_dir / "config.json").read_text())
    assert meta["system"] == "hybrid" and set(meta["decoding"]) == {"word", "phone"}
    assert meta["decoding"]["phone"]["word_penalty"] == HybridConfig().phone_penalty
    assert model.decoding == meta["decoding"] and model.lang == "en"
    wav = torch.from_numpy(make_tone(0.5, seed=3))
    assert model.loglikes(wav).shape == (50, model.topo.num_pdfs)
