"""Acoustic features: Kaldi-compatible fbank / MFCC, deltas, splicing, CMVN, SpecAugment.

The math lives in stateless functions; :class:`FeatureExtractor`,
:class:`GlobalCMVN` and :class:`SpecAugment` are thin ``nn.Module`` wrappers.

Layout everywhere: features are ``(B, T, F)`` float32 with integer frame
lengths ``(B,)``; frames at or beyond an utterance's own length are zero.

Input scaling
-------------
Waveforms arrive as floats in [-1, 1] (what :func:`asr.audio.load_audio`
returns). Kaldi works on int16-valued samples, so before framing we multiply by
``FeatureConfig.waveform_scale`` (default ``32768.0`` = 2**15, as wenet does).
With that default a 16-bit file gives the same numbers as Kaldi's
``compute-fbank-feats`` / ``compute-mfcc-feats`` on that file, ``dither`` is in
int16 units (1.0 = one LSB) and ``energy_floor`` means what it means in Kaldi.
Set ``waveform_scale=1.0`` to work on the [-1, 1] values directly (then the
log-mel values are lower by ``2 * log(32768) ~= 20.8``).

Modules: :mod:`~asr.features.config` (:class:`FeatureConfig`),
:mod:`~asr.features.functional` (the math), :mod:`~asr.features.frontend`
(:class:`FeatureExtractor`, :class:`GlobalCMVN`, :class:`CMVNStats`),
:mod:`~asr.features.specaug` (:class:`SpecAugment`).

Usage::

    cfg = FeatureConfig(kind="mfcc", deltas=2, cmvn="utterance")
    extractor = FeatureExtractor(cfg)
    feats, frame_lengths = extractor(wav, wav_lengths)   # (B, T', 39), (B,)
"""

from asr.features.config import FeatureConfig
from asr.features.frontend import CMVNStats, FeatureExtractor, GlobalCMVN
from asr.features.functional import (
    base_features,
    compute_deltas,
    fbank,
    feature_constants,
    frame_mask,
    mfcc,
    normalise_and_context,
    num_frames,
    splice,
    utterance_cmvn,
    zero_padding,
)
from asr.features.specaug import SpecAugment, spec_augment, time_warp

__all__ = [
    "FeatureConfig",
    "num_frames",
    "fbank",
    "mfcc",
    "feature_constants",
    "base_features",
    "normalise_and_context",
    "frame_mask",
    "zero_padding",
    "compute_deltas",
    "splice",
    "utterance_cmvn",
    "CMVNStats",
    "GlobalCMVN",
    "spec_augment",
    "time_warp",
    "SpecAugment",
    "FeatureExtractor",
]
