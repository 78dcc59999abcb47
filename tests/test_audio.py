"""asr.audio: every format the toolkit promises, and clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import SAMPLE_RATE, AudioError, info, load_audio, resample, save_audio
from conftest import make_tone

FORMATS = [  # (suffix, soundfile format, subtype, tolerance after decoding)
    ("wav", "WAV", "PCM_16", 1e-4),
    ("flac", "FLAC", "PCM_16", 1e-4),
    ("sph", "NIST", "PCM_16", 1e-4),
    ("ogg", "OGG", "VORBIS", 0.1),
    ("mp3", "MP3", "MPEG_LAYER_III", 0.1),
]


@pytest.mark.parametrize("suffix,fmt,subtype,tol", FORMATS)
def test_reads_every_format(tmp_path, suffix, fmt, subtype, tol):
    sig = make_tone(1.0)
    path = tmp_path / f"x.{suffix}"
    sf.write(path, sig, SAMPLE_RATE, format=fmt, subtype=subtype)
    wav = load_audio(path)
    assert wav.dtype == torch.float32 and wav.dim() == 1
    assert abs(wav.numel() - sig.size) <= 1200  # mp3 encoders pad a frame
    if tol < 0.01:
        assert torch.allclose(wav, torch.from_numpy(sig), atol=tol)
    else:  # lossy: compare energy, not samples
        assert abs(wav.pow(2).mean().sqrt().item() - float(np.sqrt(np.mean(sig**2)))) < tol
    assert info(path).sample_rate == SAMPLE_RATE


def test_stereo_is_mixed_down_and_rate_converted(tmp_path):
    left, right = make_tone(0.5, 44100, 300), make_tone(0.5, 44100, 600, seed=1)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 44100)
    wav = load_audio(path)
    assert wav.shape == (8000,)  # 0.5 s at 16 kHz
    native = load_audio(path, sample_rate=None)
    expected = torch.from_numpy((left + right) / 2)
    assert torch.allclose(native, expected, atol=1e-4)


def test_resample_sweep_lengths_and_dtype():
    for rate in (8000, 22050, 44100, 48000):
        for seconds in (0.1, 0.37, 1.0):
            x = torch.from_numpy(make_tone(seconds, rate))
            y = resample(x, rate, SAMPLE_RATE)
            assert abs(y.numel() - round(seconds * SAMPLE_RATE)) <= 1
            assert y.dtype == x.dtype
    same = torch.randn(100)
    assert resample(same, SAMPLE_RATE, SAMPLE_RATE) is same


def test_offset_and_duration_read_a_segment(tmp_path):
    sig = make_tone(2.0)
    path = tmp_path / "long.wav"
    sf.write(path, sig, SAMPLE_RATE, subtype="FLOAT")
    seg = load_audio(path, offset=0.5, duration=0.25)
    assert torch.equal(seg, torch.from_numpy(sig[8000:12000]))
    with pytest.raises(AudioError, match="past the end"):
        load_audio(path, offset=3.0)


def test_save_audio_round_trip_and_no_partial_file(tmp_path):
    sig = torch.from_numpy(make_tone(0.3))
    path = tmp_path / "out.wav"
    save_audio(path, sig)
    assert torch.allclose(load_audio(path), sig, atol=1e-4)
    assert not list(tmp_path.glob("*.part"))


def test_missing_file(tmp_path):
    with pytest.raises(AudioError) as e:
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(e.value) and "no such file" in str(e.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.flac: empty file"):
        load_audio(path)


def test_truncated_wav(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, make_tone(1.0), SAMPLE_RATE, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"cut\.wav: truncated"):
        load_audio(path)


def test_undecodable_file(tmp_path):
    path = tmp_path / "noise.flac"
    path.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioError, match=r"noise\.flac: cannot decode"):
        load_audio(path)


def test_header_only_wav_has_no_samples(tmp_path):
    path = tmp_path / "hdr.wav"
    sf.write(path, np.zeros(0, np.float32), SAMPLE_RATE, subtype="PCM_16")
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)


def test_directory_is_not_audio(tmp_path):
    with pytest.raises(AudioError, match="directory"):
        info(tmp_path)
