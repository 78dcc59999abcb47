"""Kaldi data directories: import, export, round trips with and without segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import AudioError
from asr.data.dataset import AudioDataset
from asr.data.kaldi import read_kaldi_dir, write_kaldi_dir
from asr.data.manifest import ManifestError, Utterance
from conftest import make_tone

SR = 16000


def write_wav(path: Path, seconds: float, seed: int = 0) -> np.ndarray:
    sig = make_tone(seconds, SR, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, sig, SR, subtype="PCM_16")
    return sf.read(path, dtype="float32")[0]


def write_files(d: Path, files: dict[str, str]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (d / name).write_text(content, encoding="utf-8")


@pytest.fixture
def plain_dir(tmp_path) -> Path:
    write_wav(tmp_path / "audio" / "s2-u1.wav", 0.5, seed=1)
    write_wav(tmp_path / "audio" / "s1-u1.wav", 1.25, seed=2)
    d = tmp_path / "data" / "train"
    # relative wav.scp paths, resolved against audio_root like Kaldi's recipe dir
    write_files(
        d,
        {
            "wav.scp": "s2-u1 audio/s2-u1.wav\ns1-u1 audio/s1-u1.wav\n",
            "text": "s1-u1 hello  world\ns2-u1 good morning\n",
            "utt2spk": "s1-u1 s1\ns2-u1 s2\n",
        },
    )
    return d


def test_import_plain_dir_reads_durations_from_headers(plain_dir, tmp_path):
    utts = read_kaldi_dir(plain_dir, lang="en", audio_root=tmp_path)
    assert [u.id for u in utts] == ["s1-u1", "s2-u1"]
    u = utts[0]
    assert u.audio == str(tmp_path / "audio" / "s1-u1.wav")
    assert u.duration == pytest.approx(1.25) and u.offset is None
    assert (u.text, u.lang, u.speaker) == ("hello world", "en", "s1")


def test_utt2dur_is_used_when_present(plain_dir, tmp_path):
    (plain_dir / "utt2dur").write_text("s1-u1 9.5\ns2-u1 0.5\n")
    utts = read_kaldi_dir(plain_dir, lang="en", audio_root=tmp_path)
    assert utts[0].duration == 9.5


def test_plain_round_trip_writes_sorted_files(plain_dir, tmp_path):
    utts = read_kaldi_dir(plain_dir, lang="en", audio_root=tmp_path)
    out = tmp_path / "export"
    write_kaldi_dir(out, utts[::-1])
    assert sorted(p.name for p in out.iterdir()) == ["spk2utt", "text", "utt2dur", "utt2spk", "wav.scp"]
    for name in ("wav.scp", "text", "utt2spk", "spk2utt", "utt2dur"):
        lines = (out / name).read_text().splitlines()
        assert lines == sorted(lines) and len(lines) == 2
    assert (out / "spk2utt").read_text() == "s1 s1-u1\ns2 s2-u1\n"
    assert (out / "text").read_text().splitlines()[0] == "s1-u1 hello world"
    back = read_kaldi_dir(out, lang="en")  # absolute paths now: no audio_root needed
    assert back == utts


def test_segments_import_export_and_samples(tmp_path):
    full = write_wav(tmp_path / "rec" / "meeting.wav", 3.0)
    write_wav(tmp_path / "rec" / "call.wav", 1.0, seed=3)
    d = tmp_path / "data"
    write_files(
        d,
        {
            "wav.scp": f"meeting {tmp_path}/rec/meeting.wav\ncall {tmp_path}/rec/call.wav\n",
            "segments": "A-seg1 meeting 0.5 1.25\nA-seg2 meeting 1.25 2.0\nB-seg1 call 0 0.5\n",
            "text": "A-seg1 first part\nA-seg2 second part\nB-seg1 hi\n",
            "utt2spk": "A-seg1 A\nA-seg2 A\nB-seg1 B\n",
        },
    )
    utts = read_kaldi_dir(d, lang="fr")
    by_id = {u.id: u for u in utts}
    seg = by_id["A-seg2"]
    assert seg.offset == 1.25 and seg.duration == pytest.approx(0.75)
    assert seg.audio == str(tmp_path / "rec" / "meeting.wav") and seg.extra == {"recording": "meeting"}
    assert by_id["B-seg1"].offset == 0.0

    ds = AudioDataset(utts)
    for i, u in enumerate(utts):
        if u.id.startswith("A"):
            item = ds[i]
            start = int(u.offset * SR)
            expected = torch.from_numpy(full[start : start + int(round(u.duration * SR))])
            assert item["wav"].shape == expected.shape
            assert torch.allclose(item["wav"], expected, atol=1e-6)

    out = tmp_path / "export"
    write_kaldi_dir(out, utts)
    assert (out / "segments").read_text().splitlines() == [
        "A-seg1 meeting 0.5 1.25",
        "A-seg2 meeting 1.25 2",
        "B-seg1 call 0 0.5",
    ]
    assert (out / "wav.scp").read_text().splitlines() == [
        f"call {tmp_path}/rec/call.wav",
        f"meeting {tmp_path}/rec/meeting.wav",
    ]
    assert read_kaldi_dir(out, lang="fr") == utts


def test_export_of_manifest_segments_invents_recording_ids(tmp_path):
    a = str(tmp_path / "x" / "talk.wav")
    b = str(tmp_path / "y" / "talk.wav")
    utts = [
        Utterance("u1", a, 1.0, "one", offset=0.0),
        Utterance("u2", a, 1.0, "two", offset=1.0),
        Utterance("u3", b, 2.0, "three"),
    ]
    write_kaldi_dir(tmp_path / "out", utts)
    assert (tmp_path / "out" / "wav.scp").read_text().splitlines() == [f"talk {a}", f"talk-2 {b}"]
    assert (tmp_path / "out" / "segments").read_text().splitlines() == [
        "u1 talk 0 1", "u2 talk 1 2", "u3 talk-2 0 2",
    ]


def test_piped_wav_scp_is_rejected_naming_file_and_line(tmp_path):
    d = tmp_path / "data"
    write_files(d, {"wav.scp": "u1 /a/u1.wav\nu2 sph2pipe -f wav /a/u2.sph |\n", "text": "u1 a\nu2 b\n"})
    with pytest.raises(ManifestError, match="piped command") as e:
        read_kaldi_dir(d, lang="en")
    assert str(e.value).startswith(f"{d / 'wav.scp'}:2: ")


@pytest.mark.parametrize(
    "files, where, problem",
    [
        ({"text": "u1 a\nu9 b\n"}, "text:2", "'u9' has no entry"),
        ({"text": "u1 a\n"}, "text", "have no transcript"),
        ({"segments": "s1 u1 1.0 0.5\n"}, "segments:1", "must be greater than start"),
        ({"segments": "s1 nope 0 1\n"}, "segments:1", "recording 'nope'"),
        ({"segments": "s1 u1 0 x\n"}, "segments:1", "end must be a number"),
        ({"utt2spk": "u1 s1 extra\n"}, "utt2spk:1", "expected key and 1 field"),
        ({"wav.scp": "u1 /a.wav\nu1 /b.wav\n"}, "wav.scp:2", "duplicate key 'u1'"),
    ],
)
def test_inconsistent_dirs_name_file_and_line(tmp_path, files, where, problem):
    d = tmp_path / "data"
    base = {"wav.scp": "u1 /a/u1.wav\nu2 /a/u2.wav\n", "utt2dur": "u1 1\nu2 1\n"}
    if "segments" in files:
        base.pop("utt2dur")
    write_files(d, {**base, **files})
    with pytest.raises(ManifestError, match=problem) as e:
        read_kaldi_dir(d, lang="en")
    assert str(e.value).startswith(f"{d}/{where}")


def test_bad_audio_raises_or_is_skipped(plain_dir, tmp_path):
    (tmp_path / "audio" / "s2-u1.wav").write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="s2-u1.wav"):
        read_kaldi_dir(plain_dir, lang="en", audio_root=tmp_path)
    utts = read_kaldi_dir(plain_dir, lang="en", audio_root=tmp_path, skip_bad_audio=True)
    assert [u.id for u in utts] == ["s1-u1"]
