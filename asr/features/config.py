"""Feature options: :class:`FeatureConfig`, values only, saved with a model.

Sizes in samples (``window_size``, ``window_shift``, ``n_fft``) and feature
dimensions (``base_dim``, ``dim``) are derived properties; the math that uses
them is in :mod:`asr.features.functional`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from asr.audio import SAMPLE_RATE

__all__ = ["FeatureConfig", "FeatureKind", "CMVNKind", "INT16_SCALE"]

INT16_SCALE = 32768.0  # [-1, 1] floats -> int16 sample values, as Kaldi reads them
_DEFAULT_MEL_BINS = {"fbank": 80, "mfcc": 23}  # 80: end-to-end models; 23: Kaldi's MFCC default

FeatureKind = Literal["fbank", "mfcc"]
CMVNKind = Literal["none", "utterance", "global"]


@dataclass(frozen=True)
class FeatureConfig:
    """Feature options, values only; saved in a model's JSON config.

    Attributes:
        kind: ``"fbank"`` (log-mel filterbank) or ``"mfcc"``.
        sample_rate: waveform rate in Hz.
        frame_length_ms: analysis window, 25 ms = 400 samples at 16 kHz.
        frame_shift_ms: hop, 10 ms = 160 samples at 16 kHz (100 frames per second).
        num_mel_bins: triangular mel filters; ``None`` picks 80 for fbank, 23 for mfcc.
        num_ceps: MFCC coefficients kept, c0 included (mfcc only).
        cepstral_lifter: sinusoidal lifter constant; 0 disables (mfcc only).
        preemphasis: ``x[n] - a * x[n-1]`` within each frame; 0 disables.
        dither: Gaussian noise std added to each frame, in scaled units (1.0 =
            one int16 step with the default scale);
            :class:`~asr.features.FeatureExtractor` applies it in training mode only.
        low_freq: lowest mel filter edge in Hz.
        high_freq: highest mel filter edge in Hz; ``<= 0`` is an offset from Nyquist.
        snip_edges: Kaldi's end handling. True: only frames that fit wholly in
            the signal, ``1 + (N - L) // S`` of them. False: ``(N + S // 2) // S``
            frames centred on multiples of the shift, the signal reflected at the ends.
        use_energy: fbank: prepend a log-energy column; mfcc: replace c0 by log
            energy (Kaldi's ``--use-energy``; raw energy, before pre-emphasis).
        energy_floor: floor on that energy (absolute, before the log); 0 = none.
        remove_dc_offset: subtract each frame's mean before anything else.
        waveform_scale: multiply [-1, 1] samples by this first (see :mod:`asr.features`).
        deltas: order of delta features appended (0 = none, 2 = deltas + delta-deltas).
        delta_window: half-width of the delta regression window, in frames.
        cmvn: ``"none"``, ``"utterance"`` (per-utterance mean/variance), or
            ``"global"`` (dataset statistics held by a :class:`~asr.features.GlobalCMVN`).
    """

    kind: FeatureKind = "fbank"
    sample_rate: int = SAMPLE_RATE
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    num_mel_bins: int | None = None
    num_ceps: int = 13
    cepstral_lifter: float = 22.0
    preemphasis: float = 0.97
    dither: float = 0.0
    low_freq: float = 20.0
    high_freq: float = 0.0
    snip_edges: bool = True
    use_energy: bool = False
    energy_floor: float = 0.0
    remove_dc_offset: bool = True
    waveform_scale: float = INT16_SCALE
    deltas: int = 0
    delta_window: int = 2
    cmvn: CMVNKind = "none"

    def __post_init__(self) -> None:
        if self.kind not in _DEFAULT_MEL_BINS:
            raise ValueError(f"FeatureConfig.kind must be 'fbank' or 'mfcc', got {self.kind!r}")
        if self.cmvn not in ("none", "utterance", "global"):
            raise ValueError(f"FeatureConfig.cmvn must be 'none', 'utterance' or 'global', got {self.cmvn!r}")
        if self.window_size < 2 or self.window_shift < 1:
            raise ValueError(
                f"frame_length_ms={self.frame_length_ms} / frame_shift_ms={self.frame_shift_ms} give "
                f"{self.window_size} / {self.window_shift} samples at {self.sample_rate} Hz"
            )
        if self.mel_bins <= 3:
            raise ValueError(f"need more than 3 mel bins, got {self.mel_bins}")
        if self.kind == "mfcc" and not 1 <= self.num_ceps <= self.mel_bins:
            raise ValueError(f"num_ceps={self.num_ceps} must be in [1, num_mel_bins={self.mel_bins}]")
        if not 0.0 <= self.preemphasis <= 1.0:
            raise ValueError(f"preemphasis must be in [0, 1], got {self.preemphasis}")
        if self.deltas < 0 or self.delta_window < 1:
            raise ValueError(f"deltas={self.deltas} must be >= 0 and delta_window={self.delta_window} >= 1")

    # --- derived sizes -------------------------------------------------------
    @property
    def window_size(self) -> int:
        """Frame length in samples (Kaldi truncates: 25 ms at 16 kHz -> 400)."""
        return int(self.sample_rate * 0.001 * self.frame_length_ms)

    @property
    def window_shift(self) -> int:
        """Frame shift in samples (10 ms at 16 kHz -> 160)."""
        return int(self.sample_rate * 0.001 * self.frame_shift_ms)

    @property
    def n_fft(self) -> int:
        """FFT size: the window size rounded up to a power of two (400 -> 512)."""
        return 1 << (self.window_size - 1).bit_length()

    @property
    def mel_bins(self) -> int:
        """``num_mel_bins`` with ``None`` resolved for this ``kind``."""
        return self.num_mel_bins if self.num_mel_bins is not None else _DEFAULT_MEL_BINS[self.kind]

    @property
    def base_dim(self) -> int:
        """Dimension of the fbank / mfcc output, before deltas."""
        return self.num_ceps if self.kind == "mfcc" else self.mel_bins + int(self.use_energy)

    @property
    def dim(self) -> int:
        """Dimension of :class:`~asr.features.FeatureExtractor`'s output (deltas included)."""
        return self.base_dim * (self.deltas + 1)

    # --- (de)serialisation ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-safe dict of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise (they are usually typos)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown FeatureConfig keys: {unknown}")
        return cls(**d)
