"""``asr transcribe`` end to end: a real (tiny, random-weight) CTC model directory,
real audio files in several formats, rates and channel counts, every output
format, directories, stdin, long files cut in pauses, and bad inputs."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import load_audio
from asr.cli.transcribe import Result, Word, iter_chunks, main, segments
from conftest import make_tone, random_ctc_model_dir

SRT_TIME = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
VTT_TIME = r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)"


def _seconds(m: re.Match, first: int) -> float:
    h, mi, s, ms = (int(m.group(first + k)) for k in range(4))
    return h * 3600 + mi * 60 + s + ms / 1000


def speechy(seconds: float, seed: int = 0) -> np.ndarray:
    """Bursts of chirp separated by 0.4 s of silence: ``(T,)`` float32 at 16 kHz."""
    parts = []
    k = 0
    while sum(len(p) for p in parts) < seconds * 16000:
        parts += [make_tone(0.8, freq=250 + 60 * k, seed=seed + k), np.zeros(6400, np.float32)]
        k += 1
    return np.concatenate(parts)[: int(seconds * 16000)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A CTC model directory with random weights (its head scaled so that it emits words)."""
    return random_ctc_model_dir(tmp_path_factory.mktemp("model"), "abc def ghi")


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    """The same kind of speech in four formats, rates and channel counts."""
    d = tmp_path_factory.mktemp("audio")
    x = speechy(2.5)
    sf.write(d / "a.wav", x, 16000, subtype="PCM_16")
    sf.write(d / "b.flac", x, 16000, subtype="PCM_16")  # same samples as a.wav: same transcript
    x44 = load_audio(d / "a.wav", sample_rate=None).numpy()
    import torchaudio.functional as AF

    up = AF.resample(torch.from_numpy(x44), 16000, 44100).numpy()
    sf.write(d / "c_stereo44k.flac", np.stack([up, 0.5 * up], axis=1), 44100)
    sf.write(d / "d_8k.ogg", AF.resample(torch.from_numpy(x44), 16000, 8000).numpy(), 8000, format="OGG",
             subtype="VORBIS")
    sf.write(d / "e_22k.mp3", AF.resample(torch.from_numpy(x44), 16000, 22050).numpy(), 22050, format="MP3",
             subtype="MPEG_LAYER_III")
    return d


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def check_result(obj: dict, duration: float) -> None:
    assert set(obj) == {"audio", "text", "words", "duration"}
    assert obj["duration"] == pytest.approx(duration, abs=0.06)
    assert obj["text"] == " ".join(w["word"] for w in obj["words"])
    last = 0.0
    for w in obj["words"]:
        assert set(w) == {"word", "start", "end", "confidence"} and w["word"] and 0.0 <= w["confidence"] <= 1.0
        assert last <= w["start"] < w["end"] <= obj["duration"] + 1e-3
        last = w["end"]


def test_json_for_every_format_rate_and_channel_count(model_dir, audio_dir, capsys):
    files = sorted(str(p) for p in audio_dir.iterdir())
    rc, out, err = run(["-m", str(model_dir), "-f", "json", *files], capsys)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["audio"] for r in rows] == files  # one object per file, input order, nothing else on stdout
    for r in rows:
        check_result(r, 2.5)
    assert rows[0]["text"] and rows[0]["words"]
    assert rows[0]["text"] == rows[1]["text"]  # wav == flac
    for a, b in zip(rows[0]["words"], rows[1]["words"], strict=True):
        assert {**a, "confidence": 0} == {**b, "confidence": 0} and a["confidence"] == pytest.approx(b["confidence"], abs=1e-3)


def test_every_output_format_written_per_input(model_dir, audio_dir, tmp_path, capsys):
    files = [str(audio_dir / "a.wav"), str(audio_dir / "c_stereo44k.flac")]
    ref = [json.loads(line) for line in run(["-m", str(model_dir), "-f", "json", *files], capsys)[1].splitlines()]
    for fmt in ("txt", "json", "srt", "vtt", "tsv"):
        out_dir = tmp_path / fmt
        rc, out, err = run(["-m", str(model_dir), "-f", fmt, "-o", str(out_dir), *files], capsys)
        assert rc == 0 and out == "", err
        assert sorted(p.name for p in out_dir.iterdir()) == [f"a.{fmt}", f"c_stereo44k.{fmt}"]
        for r in ref:
            text = (out_dir / f"{Path(r['audio']).stem}.{fmt}").read_text()
            if fmt == "txt":
                assert text == r["text"] + "\n"
            elif fmt == "json":
                assert json.loads(text) == r
            elif fmt == "srt":
                cues = [c for c in text.split("\n\n") if c.strip()]
                assert cues and text.endswith("\n\n")
                last = 0.0
                for i, cue in enumerate(cues, start=1):
                    num, times, words = cue.split("\n")
                    assert num == str(i) and words
                    m = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", times)
                    assert m, times
                    start, end = _seconds(m, 1), _seconds(m, 5)
                    assert last <= start <= end <= r["duration"] + 1e-3
                    last = end
                assert " ".join(c.split("\n")[2] for c in cues) == r["text"]
            elif fmt == "vtt":
                assert text.startswith("WEBVTT\n\n")
                cues = [c for c in text[len("WEBVTT\n\n"):].split("\n\n") if c.strip()]
                last = 0.0
                for cue in cues:
                    times, words = cue.split("\n")
                    m = re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", times)
                    assert m and words, cue
                    assert last <= _seconds(m, 1) <= _seconds(m, 5)
                    last = _seconds(m, 5)
                assert " ".join(c.split("\n")[1] for c in cues) == r["text"]
            else:
                lines = text.splitlines()
                assert lines[0] == "start\tend\ttext"
                last = 0
                for line in lines[1:]:
                    start, end, words = line.split("\t")
                    assert int(start) >= last and int(end) >= int(start) and words
                    last = int(end)
                assert " ".join(line.split("\t")[2] for line in lines[1:]) == r["text"]


def test_directories_expand_recursively_and_stdin(model_dir, audio_dir, tmp_path, capsys, monkeypatch):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    sf.write(d / "sub" / "z.wav", speechy(1.0), 16000)
    sf.write(d / "y.flac", speechy(1.2), 16000)
    (d / "notes.txt").write_text("not audio\n")  # not an audio suffix: ignored in a directory
    wav_bytes = (audio_dir / "b.flac").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(wav_bytes)))
    rc, out, err = run(["-m", str(model_dir), "-f", "json", str(d), "-"], capsys)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["audio"] for r in rows] == [str(d / "sub" / "z.wav"), str(d / "y.flac"), "-"]
    check_result(rows[2], 2.5)
    flac = json.loads(run(["-m", str(model_dir), "-f", "json", str(audio_dir / "b.flac")], capsys)[1])
    assert rows[2]["text"] == flac["text"] and rows[2]["words"] == flac["words"]

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(wav_bytes)))
    rc, _, _ = run(["-m", str(model_dir), "-f", "srt", "-o", str(tmp_path / "o"), "-"], capsys)
    assert rc == 0 and (tmp_path / "o" / "stdin.srt").is_file()


def test_bad_inputs_are_reported_and_skipped(model_dir, audio_dir, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" + bytes(100))
    (bad / "empty.flac").write_bytes(b"")
    (bad / "text.mp3").write_text("this is not audio at all\n" * 20)
    good = str(audio_dir / "a.wav")
    inputs = [str(bad / "corrupt.wav"), good, str(bad / "empty.flac"), str(bad / "missing.wav"),
              str(bad / "text.mp3"), str(tmp_path / "no_audio_dir")]
    (tmp_path / "no_audio_dir").mkdir()
    rc, out, err = run(["-m", str(model_dir), "-f", "txt", "-o", str(tmp_path / "out"), *inputs], capsys)
    assert rc == 1 and out == ""
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.txt"]  # the good one is still written
    lines = err.splitlines()
    for path, reason in [(inputs[0], "truncated"), (inputs[2], "empty"), (inputs[3], "no such file"),
                         (inputs[4], "decode"), (inputs[5], "no audio files")]:
        assert any(path in line and reason in line for line in lines), (path, err)
    assert "5 of 6 input(s) failed" in err


def test_bad_model_directories_fail_clearly(model_dir, audio_dir, tmp_path, capsys):
    wav = str(audio_dir / "a.wav")
    rc, out, err = run(["-m", str(tmp_path / "nope"), wav], capsys)
    assert rc == 1 and "no such model directory" in err and out == ""
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "config.json").write_text((model_dir / "config.json").read_text())
    rc, _, err = run(["-m", str(incomplete), wav], capsys)
    assert rc == 1 and "incomplete" in err and "model.safetensors" in err
    newer = tmp_path / "newer"
    newer.mkdir()
    for f in model_dir.iterdir():
        (newer / f.name).write_bytes(f.read_bytes())
    config = json.loads((model_dir / "config.json").read_text())
    (newer / "config.json").write_text(json.dumps({**config, "version": config["version"] + 1}))
    rc, _, err = run(["-m", str(newer), wav], capsys)
    assert rc == 1 and "newer" in err
    hybrid = tmp_path / "hybrid"
    hybrid.mkdir()
    (hybrid / "config.json").write_text(json.dumps({"system": "hybrid"}))
    (hybrid / "model.safetensors").write_bytes(b"")
    rc, _, err = run(["-m", str(hybrid), wav], capsys)
    assert rc == 1 and "cannot load the hybrid model" in err
    import pickle  # a pickle under the weights' name is refused, never unpickled

    pickled = tmp_path / "pickled"
    pickled.mkdir()
    for f in model_dir.iterdir():
        (pickled / f.name).write_bytes(f.read_bytes())
    (pickled / "model.safetensors").write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    rc, _, err = run(["-m", str(pickled), wav], capsys)
    assert rc == 1 and f"{pickled / 'model.safetensors'}: not a valid safetensors file" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_long_audio_is_cut_in_pauses_and_stitched(model_dir, tmp_path, capsys):
    x = speechy(9.0, seed=3)
    path = tmp_path / "long.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    chunks = list(iter_chunks(path, chunk_s=3.0))
    assert len(chunks) >= 3
    assert all(w.shape[0] <= 3 * 16000 for _, w, _ in chunks)
    offsets = [o for o, _, _ in chunks]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    for (o, w, _), o2 in zip(chunks, offsets[1:]):
        assert o + w.shape[0] / 16000 == pytest.approx(o2)  # contiguous
        cut = int(round(o2 * 16000))
        assert np.abs(x[cut - 100: cut + 100]).max() < 0.1  # cut inside a pause (bursts have amplitude 0.3)
    assert torch.equal(torch.cat([w for _, w, _ in chunks]), load_audio(path))
    rc, out, err = run(["-m", str(model_dir), "-f", "json", "--chunk-seconds", "3", "--batch-size", "2",
                        str(path)], capsys)
    assert rc == 0, err
    check_result(json.loads(out), 9.0)


def test_segments_group_words_into_cues():
    words = [Word("a", 0.0, 0.3), Word("b", 0.3, 0.6), Word("c", 2.0, 2.2)]  # a 1.4 s pause before c
    assert segments(Result("x", "a b c", words, 3.0)) == [(0.0, 0.6, "a b"), (2.0, 2.2, "c")]
    many = [Word(str(i), i * 0.1, i * 0.1 + 0.1) for i in range(25)]
    assert [len(s[2].split()) for s in segments(Result("x", "", many, 3.0))] == [10, 10, 5]
    assert segments(Result("x", "", [], 1.0)) == []


def test_module_entry_point_reads_stdin_and_prints_only_results(model_dir, audio_dir):
    proc = subprocess.run([sys.executable, "-m", "asr.cli.transcribe", "-m", str(model_dir), "-f", "json", "-"],
                          input=(audio_dir / "a.wav").read_bytes(), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    check_result(json.loads(proc.stdout), 2.5)
