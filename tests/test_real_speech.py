"""The synthetic-to-real experiments' bookkeeping: config checks, result collection, targets, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asr.experiments.real_speech import REAL_TEST, TransferConfig, collect, minutes_label
from asr.experiments.real_speech_multilingual import pooled_lexicon
from asr.experiments.real_speech_report import check_targets, write_transfer_report
from asr.text.lexicon import Lexicon


def _entry(wer: float, hours: float = 0.0) -> dict:
    return {REAL_TEST: {"wer": wer, "cer": wer / 2, "train_hours": hours}}


def _write(path: Path, results: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.json").write_text(json.dumps(results))


def test_config_rejects_unknown_conditions_and_starts():
    with pytest.raises(ValueError, match="unknown"):
        TransferConfig(conditions=("generic", "books"))
    with pytest.raises(ValueError, match="neither 'scratch'"):
        TransferConfig(conditions=("generic",), starts=("prompts",))
    with pytest.raises(ValueError, match="domain_condition"):
        TransferConfig(conditions=("generic",), starts=("scratch",))
    assert minutes_label(0) == "all" and minutes_label(2.5) == "2.5min"
    with pytest.raises(ValueError, match="multi_targets"):
        TransferConfig(multi_langs=("en", "fr"), multi_targets=("es",))
    with pytest.raises(ValueError, match="multi_condition"):
        TransferConfig(multi_condition="books")


def test_pooled_lexicon_keeps_every_language_pronunciation():
    en = Lexicon({"no": [("n", "oʊ")], "casa": [("k", "ɑː", "s", "ə")]})
    es = Lexicon({"no": [("n", "o")], "casa": [("k", "a", "s", "a")], "gracias": [("ɡ", "ɾ", "a", "θ", "j", "a", "s")]})
    pooled = pooled_lexicon([en, es, es])  # a repeated lexicon adds nothing twice
    assert pooled.pronunciations("no") == [("n", "oʊ"), ("n", "o")]
    assert set(pooled.words()) == {"no", "casa", "gracias"} and len(pooled.pronunciations("casa")) == 2
    assert set(pooled.phones()) == set(en.phones()) | set(es.phones())  # one shared inventory


def test_multilingual_curves_in_transfer_json_and_report(tmp_path: Path):
    cfg = TransferConfig(multi_langs=("en", "es"), multi_targets=("es",), multi_minutes=(0, 3))
    _write(tmp_path / "multilingual" / "es" / "0min", {"hybrid-mono": _entry(0.7), "hybrid-pooled": _entry(0.6)})
    _write(tmp_path / "multilingual" / "es" / "3min", {"hybrid-mono": _entry(0.4, 0.05),
                                                       "hybrid-pooled": _entry(0.3, 0.05)})
    results = collect(tmp_path, cfg)
    assert results["multilingual"]["es"]["hybrid-pooled"] == [[0.0, 0.6, 0.3], [3.0, 0.3, 0.15]]
    text = write_transfer_report(tmp_path, "en", cfg)
    assert "| es | hybrid-pooled | 60.0 (30.0) | 30.0 (15.0) |" in text
    assert (tmp_path / "multilingual.png").stat().st_size > 1000


def test_collect_and_targets_from_written_results(tmp_path: Path):
    cfg = TransferConfig(minutes=(3, 10), domain_minutes=(0,), open_runs=("fewshot/prompts-10min",))
    _write(tmp_path / "zeroshot" / "prompts", {"hybrid": {REAL_TEST: {"wer": 0.55, "cer": 0.3}}})
    _write(tmp_path / "fewshot" / "scratch-3min", {"hybrid": _entry(0.40, 3 / 60), "ctc-lm": _entry(0.9, 3 / 60)})
    _write(tmp_path / "fewshot" / "scratch-10min", {"hybrid": _entry(0.30, 10 / 60), "ctc-lm": _entry(0.8, 10 / 60)})
    _write(tmp_path / "fewshot" / "prompts-3min", {"hybrid": _entry(0.25, 3 / 60), "ctc-full-lm": _entry(0.7, 3 / 60)})
    _write(tmp_path / "fewshot" / "prompts-10min", {"hybrid": _entry(0.16, 10 / 60), "ctc-full-lm": _entry(0.6, 10 / 60)})
    _write(tmp_path / "domain" / "0min", {"hybrid+adabn": _entry(0.45)})
    _write(tmp_path / "openvocab" / "fewshot-prompts-10min", {"hybrid": _entry(0.14)})
    results = collect(tmp_path, cfg)
    assert results["fewshot"]["prompts"]["hybrid"] == [[3.0, 0.25, 0.125], [10.0, 0.16, 0.08]]
    assert results["openvocab"]["fewshot/prompts-10min"]["hybrid"] == {"domain": {"wer": 0.16, "cer": 0.08},
                                                                      "open": {"wer": 0.14, "cer": 0.07}}
    assert json.loads((tmp_path / "transfer.json").read_text()) == results
    lines = check_targets(results)
    # 10 min: 14 % with the large vocabulary, scratch 30 %: at most 15 % and at most half -> met
    assert "best WER 14.0 %" in lines[0] and lines[0].endswith("**met**")
    assert "45.0 %" in lines[1] and lines[1].endswith("**met**")  # AdaBN at 0 minutes counts as no transcripts
    assert "hybrid: best WER 25.0 %" in lines[2] and lines[2].endswith("**met**")
    assert "ctc: best WER 70.0 %" in lines[3] and lines[3].endswith("**met**")
    text = write_transfer_report(tmp_path, "en", cfg)
    assert "| prompts | hybrid | 25.0 (12.5) | 16.0 (8.0) |" in text
    assert "| scratch | ctc-lm | 90.0 (45.0) | 80.0 (40.0) |" in text
    assert (tmp_path / "fewshot.png").stat().st_size > 1000


def test_ten_minute_target_needs_half_of_scratch(tmp_path: Path):
    cfg = TransferConfig(minutes=(10,), open_runs=())
    _write(tmp_path / "fewshot" / "scratch-10min", {"hybrid": _entry(0.20, 10 / 60)})
    _write(tmp_path / "fewshot" / "prompts-10min", {"hybrid": _entry(0.12, 10 / 60)})
    line = check_targets(collect(tmp_path, cfg))[0]
    assert "best WER 12.0 %" in line and "scratch same system 20.0 %" in line and line.endswith("**not met**")
