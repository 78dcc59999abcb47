"""Voice activity detection on real (espeak-ng) speech with known silences, and the recognizer skipping silence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import asr
from asr.audio import SAMPLE_RATE, resample
from asr.data.engines import SynthItem, get_engine
from asr.vad import detector_name, energy_segments, speech_segments

from conftest import random_ctc_model_dir

HAVE_SILERO = detector_name("auto") == "silero"


def _speech(text: str) -> np.ndarray:
    syn = get_engine("espeak").synthesize_many([SynthItem(text, "en-us", "en", 1.0, 50, 50, 0)])[0]
    x = torch.from_numpy(syn.samples.astype(np.float64) / 32768.0)
    return (0.3 * resample(x, syn.sample_rate, SAMPLE_RATE) / x.abs().max()).float().numpy()


@pytest.fixture(scope="module")
def known() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """1 s silence, a sentence, 2 s silence, a sentence, 1 s silence; with the sentences' spans in seconds."""
    rng = np.random.default_rng(0)
    parts, spans, t = [], [], 0.0
    for piece in (None, "the cat sat on the mat", None, "seven green apples", None):
        if piece is None:
            x = (1e-4 * rng.standard_normal(SAMPLE_RATE * (2 if spans and len(spans) == 1 else 1))).astype(np.float32)
        else:
            x = _speech(piece)
            spans.append((t, t + x.shape[0] / SAMPLE_RATE))
        parts.append(x)
        t += x.shape[0] / SAMPLE_RATE
    return np.concatenate(parts), spans


@pytest.mark.parametrize("detector", ["energy", pytest.param("silero", marks=pytest.mark.skipif(
    not HAVE_SILERO, reason="silero-vad not installed (pip install silero-vad)"))])
def test_segments_find_the_two_sentences(known, detector):
    wav, spans = known
    segs = speech_segments(torch.from_numpy(wav), detector, pad_s=0.0)
    assert len(segs) == 2, segs
    for (s, e), (rs, re) in zip(segs, spans):
        assert abs(s - rs) < 0.35 and abs(e - re) < 0.35, (segs, spans)  # espeak-ng's own lead and tail silence
    padded = speech_segments(torch.from_numpy(wav), detector, pad_s=0.2)
    assert all(ps <= s and pe >= e for (ps, pe), (s, e) in zip(padded, segs))


def test_silence_has_no_segments_and_silero_rejects_noise():
    assert speech_segments(torch.zeros(3 * SAMPLE_RATE), "energy") == []
    assert speech_segments(torch.zeros(50), "auto") == []
    assert energy_segments(torch.zeros(0)) == []
    if HAVE_SILERO:
        noise = torch.from_numpy(np.random.default_rng(1).standard_normal(3 * SAMPLE_RATE).astype(np.float32) * 0.05)
        assert speech_segments(noise, "silero") == []
    with pytest.raises(ValueError, match="one of"):
        detector_name("webrtc")


def test_the_recognizer_decodes_only_speech(known, tmp_path):
    wav, spans = known
    rec = asr.load(random_ctc_model_dir(tmp_path / "ctc", "abc def"), vad="energy")
    seen: list[int] = []
    inner = rec.engine.transcribe

    def counting(wavs, with_times=False):
        seen.extend(w.shape[0] for w in wavs)
        return inner(wavs, with_times=with_times)

    rec.engine.transcribe = counting
    t = rec.transcribe(wav)
    speech = sum(e - s for s, e in spans)
    assert len(seen) == 2 and sum(seen) / SAMPLE_RATE < speech + 1.0 < wav.shape[0] / SAMPLE_RATE  # silence skipped
    assert all(spans[0][0] - 0.5 <= w.start for w in t.words) and t.duration == pytest.approx(wav.shape[0] / SAMPLE_RATE)
    seen.clear()
    silent = rec.transcribe(np.zeros(4 * SAMPLE_RATE, np.float32))
    assert silent.text == "" and silent.words == [] and seen == []  # nothing decoded, nothing output
    with pytest.raises(ValueError, match="one of"):
        asr.load(tmp_path / "ctc", vad="webrtc")
