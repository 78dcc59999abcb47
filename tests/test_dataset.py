"""AudioDataset + collate through a real DataLoader: bad files never end an epoch."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from asr.data.collate import collate_waveforms, pad_sequences
from asr.data.dataset import AudioDataset, SkipReport, validate
from asr.data.manifest import Utterance, read_manifest, write_manifest
from conftest import make_tone

SR = 16000


@pytest.fixture
def manifest(tmp_path) -> Path:
    """Four good files (0.25-1.0 s, one at 8 kHz), one garbage .wav, one missing."""
    utts = []
    for k, seconds in enumerate([0.25, 0.5, 0.75, 1.0]):
        path = tmp_path / "wav" / f"good{k}.wav"
        path.parent.mkdir(exist_ok=True)
        rate = 8000 if k == 3 else SR
        sf.write(path, make_tone(seconds, rate, seed=k), rate, subtype="PCM_16")
        utts.append(Utterance(f"good{k}", str(path), seconds, f"text {k}", "en", f"spk{k % 2}"))
    garbage = tmp_path / "wav" / "garbage.wav"
    garbage.write_bytes(b"\x00\x01this is not a RIFF file at all" * 10)
    utts.insert(1, Utterance("garbage", str(garbage), 1.0, "x", "en", "spk9"))
    utts.append(Utterance("missing", str(tmp_path / "wav" / "missing.wav"), 1.0, "y", "fr", "spk9"))
    path = tmp_path / "train.jsonl"
    write_manifest(path, utts)
    return path


@pytest.mark.parametrize("num_workers", [0, 1])
def test_loader_skips_bad_rows_and_reports_them_in_the_batch(manifest, num_workers, caplog):
    ds = AudioDataset(read_manifest(manifest))
    loader = DataLoader(ds, batch_size=2, collate_fn=collate_waveforms, num_workers=num_workers)
    report = SkipReport()
    seen: list[str] = []
    with caplog.at_level(logging.WARNING, logger="asr.data.dataset"):
        for batch in loader:
            report.update(batch["skipped"])
            seen += batch["ids"]
            B = len(batch["ids"])
            assert batch["wav"].shape[0] == B and batch["wav_lengths"].dtype == torch.int64
    assert seen == ["good0", "good1", "good2", "good3"]
    assert report.count == 2 and report.ids == ["garbage", "missing"]
    assert "garbage.wav: cannot decode audio" in report.errors["garbage"]
    assert report.errors["missing"].endswith("missing.wav: no such file")
    assert "2 utterance(s) skipped" in str(report)
    if num_workers == 0:  # worker processes log in their own process
        assert ds.report.ids == ["garbage", "missing"]
        messages = [r.getMessage() for r in caplog.records]
        assert any("garbage" in m and "garbage.wav: cannot decode" in m for m in messages)


def test_items_are_resampled_waveforms_with_metadata(manifest):
    ds = AudioDataset(read_manifest(manifest))
    item = ds[4]  # good3: 1 s at 8 kHz, resampled to 16 kHz
    assert item["id"] == "good3" and item["wav"].dtype == torch.float32
    assert item["wav"].shape == (SR,) and item["duration"] == pytest.approx(1.0)
    assert (item["text"], item["lang"], item["speaker"]) == ("text 3", "en", "spk1")
    assert ds[1] == {"id": "garbage", "error": ds.report.errors["garbage"]}


def test_transform_adds_tokens_and_can_drop(manifest):
    def tokenize(item):
        if item["id"] == "good0":
            return None  # e.g. a length filter
        return {**item, "tokens": [ord(c) - 96 for c in item["text"] if c.isalpha()]}

    ds = AudioDataset(read_manifest(manifest), transform=tokenize)
    collate = functools.partial(collate_waveforms, pad_id=-1)
    batch = next(iter(DataLoader(ds, batch_size=6, collate_fn=collate)))
    assert batch["ids"] == ["good1", "good2", "good3"]
    assert batch["tokens"].shape == (3, 4) and batch["token_lengths"].tolist() == [4, 4, 4]
    assert sorted(batch["skipped"]) == ["garbage", "missing"]


def test_validate_reports_bad_rows_before_training(manifest, tmp_path):
    utts = read_manifest(manifest)
    long_wav = tmp_path / "wav" / "good3.wav"  # 1.0 s long
    utts += [
        Utterance("seg-ok", str(long_wav), 0.5, "s", offset=0.5),
        Utterance("seg-past-end", str(long_wav), 0.5, "s", offset=0.75),
    ]
    good, report = validate(utts)
    assert [u.id for u in good] == ["good0", "good1", "good2", "good3", "seg-ok"]
    assert report.ids == ["garbage", "missing", "seg-past-end"]
    assert "ends past the end of the file" in report.errors["seg-past-end"]
    assert report.errors["missing"] == f"{tmp_path / 'wav' / 'missing.wav'}: no such file"


def test_collate_shapes_and_lengths_sweep():
    for batch_size in range(1, 6):
        lengths = [3 + 7 * k % 11 for k in range(batch_size)]
        items = [
            {"id": f"u{k}", "wav": torch.full((n,), k + 1.0), "text": "", "lang": "en",
             "speaker": "s", "duration": n / SR, "tokens": torch.arange(1, k + 2)}
            for k, n in enumerate(lengths)
        ]
        items.insert(1, {"id": "bad", "error": "x.wav: no such file"})
        items.append(None)
        batch = collate_waveforms(items, pad_id=0)
        assert batch["wav"].shape == (batch_size, max(lengths))
        assert batch["wav_lengths"].tolist() == lengths
        assert batch["token_lengths"].tolist() == list(range(1, batch_size + 1))
        assert batch["tokens"].shape == (batch_size, batch_size)
        for k, n in enumerate(lengths):
            assert (batch["wav"][k, :n] == k + 1).all() and (batch["wav"][k, n:] == 0).all()
            assert (batch["tokens"][k, k + 1 :] == 0).all()
        assert batch["skipped"] == {"bad": "x.wav: no such file"}


def test_collate_all_skipped_gives_empty_batch():
    batch = collate_waveforms([{"id": "a", "error": "a.wav: no such file"}, None])
    assert batch["wav"].shape == (0, 0) and batch["wav_lengths"].shape == (0,)
    assert batch["ids"] == [] and batch["skipped"] == {"a": "a.wav: no such file"}


def test_collate_rejects_partial_tokens():
    good = {"id": "a", "wav": torch.zeros(3), "text": "", "lang": "en", "speaker": "s", "duration": 0.1}
    with pytest.raises(ValueError, match="1 of 2 items carry 'tokens'"):
        collate_waveforms([good, {**good, "id": "b", "tokens": [1]}])


def test_pad_sequences_keeps_trailing_dims():
    padded, lengths = pad_sequences([torch.ones(2, 5), torch.ones(4, 5)], pad_value=-1.0)
    assert padded.shape == (2, 4, 5) and lengths.tolist() == [2, 4]
    assert (padded[0, 2:] == -1).all()
