"""Fuzzing the inputs (Hypothesis): bad audio, manifests, LMs and model directories never reach a traceback.

Each property says what a careless or hostile input may do: be refused with the library's own error
naming the file (:class:`asr.audio.AudioError`, :class:`asr.data.manifest.ManifestError`,
:class:`asr.text.lm.ArpaError`, :class:`asr.errors.InputError`), or work. The command-line tests run
``asr transcribe``, ``decode``, ``train`` (one step) and ``score`` on good inputs mixed with bad ones:
the documented exit code, one line per bad input, no traceback, and every good input still processed.
Examples are derandomized (the same every run) and bounded (a few minutes in all).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.audio import AudioError, load_audio
from asr.cli import main
from asr.data.manifest import ManifestError, read_manifest
from asr.errors import InputError
from asr.metrics import read_text_file
from asr.text.lm import ArpaError, NgramLM, train_ngram

from conftest import make_tone, random_ctc_model_dir, random_hybrid_model_dir

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FORMATS = {".wav": {"subtype": "PCM_16"}, ".flac": {}, ".mp3": {}, ".sph": {"format": "NIST", "subtype": "PCM_16"},
           ".ogg": {}}
WORDS = {"cat": ["k", "a", "t"], "dog": ["d", "o", "g"], "act": ["a", "k", "t"]}


@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> dict[str, bytes]:
    """One second of a speech-like signal in each format: suffix -> the file's bytes."""
    d = tmp_path_factory.mktemp("formats")
    out = {}
    for suffix, kw in FORMATS.items():
        sf.write(d / f"x{suffix}", make_tone(1.0), 16000, **kw)
        out[suffix] = (d / f"x{suffix}").read_bytes()
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A CTC and a hybrid model directory with random weights (decoding runs, the words are arbitrary)."""
    d = tmp_path_factory.mktemp("models")
    return {"ctc": random_ctc_model_dir(d / "ctc", "cat dog act"), "hybrid": random_hybrid_model_dir(d / "hybrid", WORDS)}


def _check_audio(path: Path) -> torch.Tensor | None:
    """``load_audio``'s result (finite, mono, float32) or ``None`` after an AudioError naming ``path``."""
    try:
        wav = load_audio(path)
    except AudioError as e:
        assert str(path) in str(e) and e.problem
        return None
    assert wav.dtype == torch.float32 and wav.dim() == 1 and bool(torch.isfinite(wav).all())
    return wav


# ---------------------------------------------------------------------------
# Audio bytes
# ---------------------------------------------------------------------------


@FUZZ
@given(suffix=st.sampled_from(sorted(FORMATS)), data=st.data())
def test_truncated_and_corrupted_audio_reads_or_fails_with_its_name(real_files, tmp_path, suffix, data):
    raw = bytearray(real_files[suffix])
    how = data.draw(st.sampled_from(["truncate", "flip", "random", "header-only"]))
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        for i in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=50)):
            raw[i] ^= 0xFF
    elif how == "random":
        raw = bytearray(data.draw(st.binary(max_size=4000)))
    else:
        raw = raw[: data.draw(st.integers(0, 64))]
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(bytes(raw))
    _check_audio(path)


@FUZZ
@given(length=st.integers(0, 400), rate=st.sampled_from([100, 4000, 7999, 8000, 11025, 16000, 44100, 96000, 192000]),
       channels=st.integers(1, 6), special=st.sampled_from([None, math.nan, math.inf, -math.inf]),
       seed=st.integers(0, 2**16))
def test_odd_lengths_rates_channels_and_values_read_and_decode(models, tmp_path, length, rate, channels, special,
                                                               seed):
    from asr.systems import load_recognizer

    x = np.random.default_rng(seed).uniform(-1, 1, (length, channels)).astype(np.float32)
    if special is not None and length:
        x[length // 2, 0] = special
    path = tmp_path / "odd.wav"
    sf.write(path, x, rate, subtype="FLOAT")
    wav = _check_audio(path)
    if special is not None and length:
        assert wav is None  # NaN or inf samples are refused, not decoded
    if wav is None:
        return
    for system, d in models.items():
        hyp = load_recognizer(d).transcribe([wav], with_times=True)[0]
        assert isinstance(hyp.text, str), system
        assert all(w.word in WORDS or system == "ctc" for w in hyp.words)


# ---------------------------------------------------------------------------
# Manifests and text files
# ---------------------------------------------------------------------------

_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                                st.integers(), max_size=2))


@FUZZ
@given(rows=st.lists(st.dictionaries(st.sampled_from(["id", "audio", "duration", "text", "lang", "speaker", "offset",
                                                        "x"]), _VALUES, max_size=8), max_size=6),
       garbage=st.sampled_from([b"", b"{not json\n", b"\xff\xfe\x00bad\n", b"[1, 2]\n", b"\n\n"]))
def test_manifest_rows_of_any_shape_load_or_fail_naming_the_line(tmp_path, rows, garbage):
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows) + garbage)
    for reader in (read_manifest, read_text_file):
        try:
            out = reader(path)
        except ManifestError as e:
            assert str(path) in str(e)
            continue
        assert out is not None


# ---------------------------------------------------------------------------
# Language models
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arpa_text(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    train_ngram([["cat", "dog"], ["dog", "act", "cat"], ["act"]], 3).to_arpa(path)
    return path.read_text()


@FUZZ
@given(data=st.data())
def test_corrupted_arpa_loads_or_fails_naming_the_file(arpa_text, models, tmp_path, data):
    from asr.decoding.ctc_lexicon import LexiconDecoder
    from asr.text.tokenizer import load_tokenizer

    lines = arpa_text.splitlines()
    how = data.draw(st.sampled_from(["truncate", "drop", "garble", "bytes"]))
    path = tmp_path / "bad.arpa"
    if how == "truncate":
        path.write_text(arpa_text[: data.draw(st.integers(0, len(arpa_text)))])
    elif how == "drop":
        i = data.draw(st.integers(0, len(lines) - 1))
        path.write_text("\n".join(lines[:i] + lines[i + 1 :]) + "\n")
    elif how == "garble":
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = data.draw(st.sampled_from(["x y z", "-1.0", "nan cat", "1e999 dog", "\\2-grams:", "ngram 9=9",
                                              "-0.5 <s> cat dog act extra -1"]))
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_bytes(data.draw(st.binary(max_size=300)))
    try:
        NgramLM.from_arpa(path)
    except (ArpaError, InputError) as e:
        assert str(path) in str(e)
    try:
        LexiconDecoder(load_tokenizer(models["ctc"]), lm=path)
    except (ArpaError, InputError, ValueError) as e:
        assert str(path) in str(e) or "no word of the vocabulary" in str(e)


# ---------------------------------------------------------------------------
# Model directories
# ---------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(system=st.sampled_from(["ctc", "hybrid"]), data=st.data())
def test_corrupted_model_directories_load_or_fail_in_one_line(models, tmp_path, capsys, system, data):
    src = models[system]
    names = sorted(p.name for p in src.iterdir() if p.is_file())
    victim = data.draw(st.sampled_from(names))
    how = data.draw(st.sampled_from(["delete", "empty", "truncate", "garbage", "json-type"]))
    d = tmp_path / f"m-{system}"
    d.mkdir(exist_ok=True)
    for name in names:
        (d / name).write_bytes((src / name).read_bytes())
    raw = (src / victim).read_bytes()
    if how == "delete":
        (d / victim).unlink()
    elif how == "empty":
        (d / victim).write_bytes(b"")
    elif how == "truncate":
        (d / victim).write_bytes(raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))])
    elif how == "garbage":
        (d / victim).write_bytes(random.Random(len(raw)).randbytes(200))
    else:
        (d / victim).write_text(json.dumps(data.draw(st.sampled_from([[], 3, "x", {"system": system}]))))
    wav = tmp_path / "a.wav"
    sf.write(wav, make_tone(0.5), 16000)
    capsys.readouterr()
    rc = main(["transcribe", "-m", str(d), str(wav)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if rc != 0:  # a model that still loads (e.g. without its training log) transcribes
        assert rc == 1 and err.count("error:") == 1 and str(d) in err and out == "", err


# ---------------------------------------------------------------------------
# The commands on good inputs mixed with bad ones
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, real_files) -> dict:
    """Three good recordings and five bad ones (truncated, empty, not audio, NaN, missing), as files and a manifest."""
    d = tmp_path_factory.mktemp("mixed")
    good = []
    for i, text in enumerate(["cat dog", "dog act", "act cat dog"]):
        sf.write(d / f"good{i}.wav", make_tone(1.2, seed=i), 16000)
        good.append({"id": f"good{i}", "audio": str(d / f"good{i}.wav"), "duration": 1.2, "text": text})
    (d / "trunc.flac").write_bytes(real_files[".flac"][:300])
    (d / "empty.wav").write_bytes(b"")
    (d / "text.mp3").write_bytes(b"this is not audio at all\n" * 20)
    sf.write(d / "nan.wav", np.array([0.1, math.nan, 0.2] * 2000, dtype=np.float32), 16000, subtype="FLOAT")
    bad = ["trunc.flac", "empty.wav", "text.mp3", "nan.wav", "missing.wav"]
    rows = good + [{"id": f"bad{i}", "audio": str(d / name), "duration": 1.0, "text": "cat"}
                   for i, name in enumerate(bad)]
    (d / "all.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "good.jsonl").write_text("".join(json.dumps(r) + "\n" for r in good))
    return {"dir": d, "good": good, "bad": bad}


@pytest.mark.parametrize("system", ["ctc", "hybrid"])
def test_transcribe_and_decode_go_on_past_bad_inputs(models, mixed, tmp_path, capsys, caplog, system):
    d = mixed["dir"]
    capsys.readouterr()
    rc = main(["transcribe", "-m", str(models[system]), "-f", "json",
               *[r["audio"] for r in mixed["good"]], *[str(d / b) for b in mixed["bad"]]])
    out, err = capsys.readouterr()
    assert rc == 1 and "Traceback" not in err
    assert [json.loads(line)["audio"] for line in out.splitlines()] == [r["audio"] for r in mixed["good"]]
    for name in mixed["bad"]:
        assert sum(name in line for line in err.splitlines()) == 1, (name, err)
    rc = main(["decode", str(models[system]), str(d / "all.jsonl"), str(tmp_path / "hyp.jsonl")])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err  # decoded what reads, skipped (and named) what does not
    rows = [json.loads(line) for line in (tmp_path / "hyp.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [u.id for u in read_manifest(d / "all.jsonl")]  # every row, in order
    assert all(r["text"] == "" for r in rows if r["id"].startswith("bad"))  # scored as deletions, not dropped
    for name in mixed["bad"]:  # each skipped file named in the log (stderr)
        assert name in caplog.text, (name, caplog.text)


def test_train_one_step_skips_bad_audio_and_score_reads_what_it_can(mixed, tmp_path, capsys, caplog):
    d = mixed["dir"]
    capsys.readouterr()
    rc = main(["train", "--system", "ctc", "--train", str(d / "all.jsonl"), "--dev", str(d / "good.jsonl"),
               "--out", str(tmp_path / "exp"), "--max-steps", "1", "--no-progress", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err and (tmp_path / "exp" / "model" / "model.safetensors").is_file()
    for name in mixed["bad"]:
        assert name in caplog.text, (name, caplog.text)
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("good0 cat dog\ngood1\nnot_in_refs cat\n")
    assert main(["score", str(d / "good.jsonl"), str(hyp)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "WER" in out
    hyp.write_bytes(b"good0 cat\n\xff\xfe bad bytes\n")
    assert main(["score", str(d / "good.jsonl"), str(hyp)]) == 1
    err = capsys.readouterr().err
    assert str(hyp) in err and err.count("error:") == 1


@pytest.mark.parametrize("argv", [
    ["synth", "OUT", "--hours", "-1"], ["synth", "OUT", "--hours", "nan"], ["synth", "OUT", "--dev-fraction", "1.5"],
    ["synth", "OUT", "--jobs", "0"], ["transcribe", "-m", "M", "a.wav", "--batch-size", "0"],
    ["train", "--train", "t", "--dev", "d", "--out", "o", "--epochs", "0"],
    ["train", "--train", "t", "--dev", "d", "--out", "o", "--lr=-1e-3"],
    ["decode", "M", "m.jsonl", "h.jsonl", "--beam", "0"]])
def test_bad_numeric_options_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and ("must be" in err or "finite" in err), err
