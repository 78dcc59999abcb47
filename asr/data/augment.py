"""Speaker and channel augmentation: pure, seeded waveform functions for the data chain.

Each function maps a ``(S,)`` float waveform in [-1, 1] (and its sample rate) to a
new one, deterministic from its arguments; randomness only through an explicit
``numpy.random.Generator``. They serve both on-the-fly augmentation in training
and augmentation at corpus generation.

* vocal tract and prosody: :func:`vtlp` (frequency-axis warping of the spectrum,
  Jaitly & Hinton 2013), :func:`speed` (resampling: tempo and pitch together),
  :func:`pitch_shift` (pitch alone, torchaudio's phase vocoder + resampling);
* rooms: :func:`room_impulse_response` (image method, pyroomacoustics: the ``augment``
  extra) and :func:`reverberate`;
* channels: :func:`telephone` (8 kHz band, G.711 mu-law / A-law or GSM 6.10, coded
  and decoded by libsndfile), :func:`clip`;
* noise: :func:`babble` (a sum of other utterances at a given SNR).

Usage::

    rng = np.random.default_rng(seed)
    y = vtlp(x, 16000, alpha=rng.uniform(0.9, 1.1))
    y = reverberate(y, room_impulse_response(rng, rt60=0.4))
    y = telephone(y, 16000, codec="ulaw")
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from asr.audio import codec_round_trip

__all__ = ["vtlp", "speed", "pitch_shift", "room_impulse_response", "reverberate", "telephone", "clip", "babble",
           "snr_db", "CODECS"]

CALIBRATION_ROUNDS = 4  # room_impulse_response(): rooms built to hit the reverberation time
CODECS = {"ulaw": "ULAW", "alaw": "ALAW", "gsm": "GSM610", "pcm": "PCM_16"}  # telephone(): libsndfile subtypes


def _stft(x: np.ndarray, n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    window = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.stft(torch.from_numpy(np.asarray(x, dtype=np.float64)), n_fft, n_fft // 4, window=window,
                      return_complex=True), window


def vtlp(x: np.ndarray, sample_rate: int, alpha: float, n_fft: int = 512, boundary_hz: float = 4800.0) -> np.ndarray:
    """Vocal tract length perturbation: the spectrum's frequency axis warped by ``alpha``.

    Frequencies below ``boundary_hz * min(alpha, 1) / alpha`` move to ``alpha * f`` (a
    shorter vocal tract for ``alpha > 1``); above, a second linear piece maps the rest
    onto the band up to Nyquist (the piecewise warp of Jaitly & Hinton). Each output bin
    takes the magnitude of the STFT at its source frequency and that bin's instantaneous
    frequency scaled by the warp (a phase vocoder across frequency, so a tone really
    moves), then the frames are overlap-added back to the input's length.

    Args:
        x: ``(S,)`` waveform.
        sample_rate: Hz.
        alpha: warp factor (about 0.9 to 1.1).
    """
    x = np.asarray(x, dtype=np.float64)
    if alpha == 1.0:
        return x.copy()
    hop = n_fft // 4
    spec, window = _stft(x, n_fft)
    S = spec.numpy()  # (F, T)
    F = S.shape[0]
    nyq = sample_rate / 2
    freqs = np.linspace(0.0, nyq, F)
    cut = boundary_hz * min(alpha, 1.0) / alpha
    knee = alpha * cut
    src = np.where(freqs <= knee, freqs / alpha, cut + (freqs - knee) * (nyq - cut) / max(nyq - knee, 1e-9))
    pos = np.clip(src / nyq * (F - 1), 0, F - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, F - 1)
    w = (pos - lo)[:, None]
    mag = np.abs(S)
    out_mag = mag[lo] * (1 - w) + mag[hi] * w
    # instantaneous frequency (radians per hop) of every source bin, from the phase advance
    omega = 2 * np.pi * np.arange(F) * hop / n_fft
    phase = np.angle(S)
    dev = np.diff(phase, axis=1) - omega[:, None]
    inst = omega[:, None] + (dev + np.pi) % (2 * np.pi) - np.pi  # (F, T - 1)
    near = np.where(w[:, 0] < 0.5, lo, hi)
    ratio = np.divide(freqs, src, out=np.ones_like(freqs), where=src > 0)[:, None]
    out_phase = np.concatenate([phase[near, :1], phase[near, :1] + np.cumsum(inst[near] * ratio, axis=1)], axis=1)
    warped = torch.from_numpy(out_mag * np.exp(1j * out_phase))
    return torch.istft(warped, n_fft, hop, window=window, length=len(x)).numpy()


def speed(x: np.ndarray, sample_rate: int, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (tempo and pitch together): ``S / factor`` samples, frequencies x ``factor``."""
    import torchaudio.functional as AF

    src = int(round(sample_rate * factor))
    return AF.resample(torch.from_numpy(np.asarray(x, dtype=np.float64)), src, sample_rate).numpy()


def pitch_shift(x: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Shift the pitch by ``semitones`` and keep the tempo (torchaudio's phase vocoder + resampling)."""
    import torchaudio.functional as AF

    y = AF.pitch_shift(torch.from_numpy(np.asarray(x, dtype=np.float32))[None], sample_rate, semitones)
    return y[0].double().numpy()


def room_impulse_response(rng: np.random.Generator, rt60: float, sample_rate: int = 16000,
                          size_m: tuple[tuple[float, float], ...] = ((3.0, 8.0), (3.0, 6.0), (2.4, 3.5))) -> np.ndarray:
    """An image-method impulse response of a random shoebox room with reverberation time ``rt60`` (s).

    Room size from ``size_m`` ((min, max) metres per axis), source and microphone at random
    places at least 0.5 m from the walls; wall absorption and reflection order from
    Sabine's formula (pyroomacoustics), corrected until the measured decay is within 10 %
    of ``rt60`` (at most :data:`CALIBRATION_ROUNDS` rooms). Normalised to unit energy.

    Raises:
        ImportError: pyroomacoustics is missing (``pip install 'asr[augment]'``).
    """
    try:
        import pyroomacoustics as pra
    except ImportError:
        raise ImportError("room_impulse_response needs pyroomacoustics: pip install 'asr[augment]'") from None
    from pyroomacoustics.experimental import measure_rt60

    dims = [float(rng.uniform(lo, hi)) for lo, hi in size_m]
    source, mic = ([float(rng.uniform(0.5, d - 0.5)) for d in dims] for _ in range(2))
    want = rt60
    for _ in range(CALIBRATION_ROUNDS):  # Sabine's formula is only a start: adjust to the decay measured
        absorption, max_order = pra.inverse_sabine(want, dims)
        room = pra.ShoeBox(dims, fs=sample_rate, materials=pra.Material(min(absorption, 1.0)), max_order=max_order)
        room.add_source(source)
        room.add_microphone(mic)
        room.compute_rir()
        h = np.asarray(room.rir[0][0], dtype=np.float64)
        got = float(measure_rt60(h, fs=sample_rate))
        if abs(got - rt60) <= 0.1 * rt60:
            break
        want *= rt60 / got
    return h / np.sqrt(np.sum(h**2) + 1e-20)


def reverberate(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``x`` convolved with ``ir``, cut to ``x``'s length (the direct path keeps its place)."""
    from scipy.signal import fftconvolve

    start = int(np.argmax(np.abs(ir)))  # align on the direct path
    return fftconvolve(np.asarray(x, dtype=np.float64), ir)[start : start + len(x)]


def telephone(x: np.ndarray, sample_rate: int, codec: str = "ulaw") -> np.ndarray:
    """A telephone channel: down to 8 kHz, through ``codec`` (libsndfile), back to ``sample_rate``.

    ``codec``: ``ulaw`` / ``alaw`` (G.711, 8 bits a sample), ``gsm`` (GSM 6.10 full rate,
    13 kbit/s) or ``pcm`` (the band limit alone).
    """
    import torchaudio.functional as AF

    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")
    narrow = AF.resample(torch.from_numpy(np.asarray(x, dtype=np.float64)), sample_rate, 8000).numpy()
    decoded = codec_round_trip(narrow, 8000, CODECS[codec])
    y = AF.resample(torch.from_numpy(decoded), 8000, sample_rate).numpy()
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def clip(x: np.ndarray, fraction: float) -> np.ndarray:
    """Hard clipping of the loudest ``fraction`` of samples (an overdriven microphone or preamp)."""
    x = np.asarray(x, dtype=np.float64)
    if fraction <= 0:
        return x.copy()
    level = float(np.quantile(np.abs(x), 1.0 - fraction))
    return np.clip(x, -level, level)


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """``10 log10(P_signal / P_noise)``."""
    return float(10 * np.log10(np.mean(np.square(signal)) / max(np.mean(np.square(noise)), 1e-20)))


def babble(x: np.ndarray, others: Sequence[np.ndarray], snr: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus the sum of ``others`` (other utterances, each looped or cut to ``len(x)`` at a random
    offset) scaled to ``snr`` dB below ``x``: several talkers in the background."""
    x = np.asarray(x, dtype=np.float64)
    if not others:
        return x.copy()
    noise = np.zeros_like(x)
    for o in others:
        o = np.asarray(o, dtype=np.float64)
        reps = int(np.ceil((len(x) + len(o)) / max(len(o), 1)))
        start = int(rng.integers(0, max(len(o), 1)))
        noise += np.tile(o, reps)[start : start + len(x)]
    gain = np.sqrt(np.mean(x**2) / max(np.mean(noise**2), 1e-20) / 10 ** (snr / 10))
    return x + gain * noise
