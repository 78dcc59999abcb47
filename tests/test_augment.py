"""Augmentation functions on signals whose answer is known: a warped tone's frequency moves by the
factor, a telephone codec's round trip has the SNR of its bit depth and cuts the band, an impulse
response has the reverberation time asked for, babble sits at the SNR asked for."""

from __future__ import annotations

import numpy as np
import pytest

from asr.data.augment import babble, clip, pitch_shift, reverberate, room_impulse_response, snr_db, speed, telephone, vtlp

SR = 16000


def tone(freq: float, seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return 0.5 * np.sin(2 * np.pi * freq * t)


def peak_hz(x: np.ndarray, sr: int = SR) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


@pytest.mark.parametrize("alpha", [0.9, 0.95, 1.05, 1.1])
def test_vtlp_moves_a_tone_by_the_warp_factor(alpha):
    y = vtlp(tone(1000.0), SR, alpha)
    assert len(y) == SR
    assert peak_hz(y) == pytest.approx(1000.0 * alpha, abs=20.0)  # 512-point STFT bins: 31 Hz apart
    assert np.allclose(vtlp(tone(1000.0), SR, 1.0), tone(1000.0))


def test_speed_scales_frequency_and_length_together():
    y = speed(tone(500.0), SR, 1.25)
    assert len(y) == pytest.approx(SR / 1.25, abs=2)
    assert peak_hz(y) == pytest.approx(625.0, abs=3.0)


def test_pitch_shift_keeps_the_length():
    y = pitch_shift(tone(440.0), SR, 2.0)
    assert len(y) == SR
    assert peak_hz(y) == pytest.approx(440.0 * 2 ** (2 / 12), abs=6.0)


@pytest.mark.parametrize("rt60", [0.3, 0.6])
def test_room_impulse_response_has_the_reverberation_time(rt60):
    pytest.importorskip("pyroomacoustics", reason="pip install 'asr[augment]'")
    from pyroomacoustics.experimental import measure_rt60

    h = room_impulse_response(np.random.default_rng(0), rt60)
    assert np.sum(h**2) == pytest.approx(1.0)
    assert measure_rt60(h, fs=SR) == pytest.approx(rt60, rel=0.15)
    assert np.array_equal(h, room_impulse_response(np.random.default_rng(0), rt60))  # seeded


def test_longer_rt60_gives_a_longer_tail():
    pytest.importorskip("pyroomacoustics", reason="pip install 'asr[augment]'")
    from pyroomacoustics.experimental import measure_rt60

    short, long = (measure_rt60(room_impulse_response(np.random.default_rng(1), t), fs=SR) for t in (0.2, 0.8))
    assert long > 2 * short


def test_reverberate_an_impulse_gives_the_response_back():
    ir = np.array([0.0, 0.0, 1.0, 0.5, 0.25])
    x = np.zeros(10)
    x[3] = 1.0
    assert np.allclose(reverberate(x, ir), [0, 0, 0, 1.0, 0.5, 0.25, 0, 0, 0, 0])


@pytest.mark.parametrize("codec, min_snr", [("pcm", 45.0), ("ulaw", 30.0), ("alaw", 30.0), ("gsm", 5.0)])
def test_telephone_codecs_round_trip(codec, min_snr):
    x = tone(700.0) + tone(1900.0)  # inside the telephone band
    y = telephone(x, SR, codec)
    assert len(y) == len(x)
    inner = slice(SR // 10, -SR // 10)  # away from the resampling edges
    assert snr_db(x[inner], y[inner] - x[inner]) > min_snr
    if codec in ("ulaw", "alaw"):  # 8-bit G.711: about 38 dB, far below 16-bit PCM
        assert snr_db(x[inner], y[inner] - x[inner]) < snr_db(x[inner], telephone(x, SR, "pcm")[inner] - x[inner])


def test_telephone_cuts_the_band_above_4khz():
    high = telephone(tone(6000.0), SR, "pcm")
    assert snr_db(tone(6000.0), high) > 30.0  # the 6 kHz tone is gone


def test_clip_clips_the_asked_share():
    x = np.random.default_rng(0).standard_normal(20000) * 0.2
    y = clip(x, 0.05)
    assert np.mean(np.abs(y) >= np.abs(y).max() - 1e-12) == pytest.approx(0.05, abs=0.005)
    assert np.array_equal(clip(x, 0.0), x)


def test_babble_at_the_asked_snr_and_seeded():
    x = tone(300.0, 2.0)
    others = [tone(f, s) for f, s in ((450.0, 0.7), (800.0, 1.3), (1200.0, 3.0))]
    y = babble(x, others, 10.0, np.random.default_rng(3))
    assert snr_db(x, y - x) == pytest.approx(10.0, abs=1e-6)
    assert np.array_equal(y, babble(x, others, 10.0, np.random.default_rng(3)))
    assert not np.array_equal(y, babble(x, others, 10.0, np.random.default_rng(4)))
