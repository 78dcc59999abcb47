"""Shared fixtures: tiny real audio written to disk, CUDA skip marker."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` when no CUDA device is visible."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def make_tone(seconds: float = 1.0, sample_rate: int = 16000, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """A ``(T,)`` float32 chirp-plus-noise signal: speech-like enough for features."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    sig = 0.3 * np.sin(2 * math.pi * (freq + 200 * t) * t) + 0.02 * rng.standard_normal(t.shape)
    return sig.astype(np.float32)


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    """A 1 s, 16 kHz mono PCM-16 wav file."""
    path = tmp_path / "tone.wav"
    sf.write(path, make_tone(), 16000, subtype="PCM_16")
    return path
