"""JSONL manifests: round trips, relative paths, errors that name file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from asr.data.manifest import (
    ManifestError,
    Utterance,
    filter_manifest,
    read_manifest,
    speakers,
    total_duration,
    write_manifest,
)


def sample_utts(root: Path) -> list[Utterance]:
    return [
        Utterance("a1", str(root / "wav" / "a1.wav"), 1.5, "hello world", "en", "spk-a"),
        Utterance("a2", str(root / "wav" / "a2.wav"), 0.75, "bonjour", "fr", "spk-a",
                  extra={"gender": "f", "tags": ["clean", 2], "snr": 12.5}),
        Utterance("b1", str(root / "long.wav"), 2.25, "", "en", "spk-b", offset=3.5),
        Utterance("c1", "/elsewhere/c1.flac", 4.0, "ünïcödé text", "de"),
    ]


def test_round_trip_keeps_fields_and_writes_relative_paths(tmp_path):
    utts = sample_utts(tmp_path)
    path = tmp_path / "train.jsonl"
    write_manifest(path, utts)
    assert read_manifest(path) == utts
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["audio"] == "wav/a1.wav"
    assert rows[3]["audio"] == "/elsewhere/c1.flac"  # not under the manifest dir: stays absolute
    assert rows[1]["gender"] == "f" and rows[1]["tags"] == ["clean", 2]
    assert rows[2]["offset"] == 3.5 and "offset" not in rows[0]
    assert rows[3]["speaker"] == "c1"  # default speaker: the utterance id
    assert not list(tmp_path.glob("*.part"))


def test_relative_paths_follow_a_moved_corpus(tmp_path):
    old = tmp_path / "old"
    write_manifest(old / "m.jsonl", sample_utts(old))
    new = tmp_path / "new"
    shutil.move(old, new)
    utts = read_manifest(new / "m.jsonl")
    assert utts[0].audio == str(new / "wav" / "a1.wav")
    assert utts[2].audio == str(new / "long.wav")


def test_relative_path_resolved_against_manifest_dir_not_cwd(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.jsonl").write_text(
        '{"id": "x", "audio": "../audio/x.wav", "duration": 1, "text": "t"}\n\n'
    )
    monkeypatch.chdir("/")
    [u] = read_manifest(tmp_path / "sub" / "m.jsonl")
    assert u.audio == str(tmp_path / "audio" / "x.wav")
    assert u.duration == 1.0 and isinstance(u.duration, float)
    assert u.lang == "und" and u.speaker == "x" and u.offset is None and u.extra == {}


GOOD = '{"id": "u1", "audio": "a.wav", "duration": 1.0, "text": "hi"}'


@pytest.mark.parametrize(
    "bad_line, problem",
    [
        ('{"id": "u2", "audio": "b.wav", "duration": 1.0, "text": "hi"', "invalid JSON"),
        ('{"id": "u2", "audio": "b.wav", "text": "hi"}', "missing required field 'duration'"),
        ('{"id": "u2", "audio": "b.wav", "duration": "1.0", "text": "hi"}', "'duration' must be a finite number"),
        ('{"id": "u2", "audio": "b.wav", "duration": -1, "text": "hi"}', "'duration' must be a finite number"),
        ('{"id": 7, "audio": "b.wav", "duration": 1.0, "text": "hi"}', "'id' must be a string"),
        ('{"id": "u2", "audio": "b.wav", "duration": 1.0, "text": ["hi"]}', "'text' must be a string"),
        ('{"id": "u2", "audio": "", "duration": 1.0, "text": "hi"}', "'audio' is empty"),
        ('["u2", "b.wav"]', "expected a JSON object"),
        (GOOD, "duplicate id 'u1' (first on line 1)"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad_line, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{GOOD}\n\n{bad_line}\n")
    with pytest.raises(ManifestError) as e:
        read_manifest(path)
    assert str(e.value).startswith(f"{path}:3: ")
    assert problem in str(e.value)
    assert e.value.line == 3


def test_failed_write_leaves_previous_manifest(tmp_path):
    path = tmp_path / "m.jsonl"
    utts = sample_utts(tmp_path)
    write_manifest(path, utts)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="duplicate"):
        write_manifest(path, utts + utts[:1])
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.part"))


def test_extra_fields_cannot_shadow_standard_ones():
    with pytest.raises(ValueError, match="shadow"):
        Utterance("x", "x.wav", 1.0, "t", extra={"text": "other"})


def test_helpers(tmp_path):
    utts = sample_utts(tmp_path)
    assert total_duration(utts) == pytest.approx(8.5)
    assert [u.id for u in filter_manifest(utts, max_duration=2.0)] == ["a1", "a2"]
    assert [u.id for u in filter_manifest(utts, min_duration=1.0, langs=["en"])] == ["a1", "b1"]
    assert speakers(utts) == {"spk-a": ["a1", "a2"], "spk-b": ["b1"], "c1": ["c1"]}
    assert utts[2].end == pytest.approx(5.75)
    assert len({u for u in utts}) == 4  # hashable despite the extra dict
