"""The acoustic stack every CTC model shares: waveform -> features -> SpecAugment -> encoder.

:class:`AcousticStack` is the base of :class:`~asr.models.ctc.CTCModel` and
:class:`~asr.models.multilingual.MultilingualCTC`, which add their heads on the
encoder output. It builds, in this order (so that one seed gives the same
weights in every model, and the parameter names ``frontend.*`` / ``encoder.*``
are shared, so a monolingual model initialises a multilingual one):

1. ``frontend``: :class:`~asr.features.FeatureExtractor` (always float32);
2. ``specaug``: :class:`~asr.features.SpecAugment`, training mode only;
3. ``encoder``: the registered encoder of the :class:`ModelConfig`
   (x4 subsampling), or a :class:`~asr.models.progressive.ProgressiveColumn` of two of them.

Usage::

    class MyModel(AcousticStack):
        def __init__(self, cfg: ModelConfig):
            super().__init__(cfg)
            self.head = nn.Linear(self.encoder.output_dim, 10)

        def forward(self, wav, wav_lengths):                      # (B, S), (B,)
            feats, lengths = self.features(wav, wav_lengths)      # (B, T, F), (B,)
            hidden, out_lengths = self.encoder(feats, lengths)    # (B, T', D), (B,)
            return self.head(hidden), out_lengths
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from asr.config import from_dict as config_from_dict
from asr.features import FeatureConfig, FeatureExtractor, GlobalCMVN, SpecAugment
from asr.models.progressive import ProgressiveColumn
from asr.registry import lookup

__all__ = ["ModelConfig", "PRESETS", "AcousticStack"]


def _default_features() -> FeatureConfig:
    return FeatureConfig(kind="fbank", num_mel_bins=80, cmvn="global")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that determines a :class:`CTCModel`'s structure (saved in ``config.json``).

    Attributes:
        features: front end options (fbank 80 with global CMVN by default).
        encoder: registered encoder name (``conformer``, ``blstm``).
        d_model: encoder width ``D``.
        num_layers: encoder blocks.
        num_heads: attention heads (conformer).
        ff_dim: feed-forward hidden width (conformer).
        conv_kernel: depthwise convolution width, in encoder frames (conformer).
        pos: ``rel`` or ``rotary`` positions (conformer).
        lstm_hidden: units per direction (blstm).
        subsampling_channels: channels of the x4 convolutional subsampling; 0 = ``d_model``.
        dropout: dropout inside the encoder and before the output layer.
        vocab_size: output units, CTC blank (id 0) included; set from the tokenizer.
        spec_freq_masks, spec_freq_width: SpecAugment frequency masks, count and widest (bins).
        spec_time_masks, spec_time_ratio: time masks, count and widest (share of the utterance).
        spec_time_warp: widest time warp in frames (0 = off).
        causal_conv: the conformer's depthwise convolutions see past frames only (streaming models).
        dynamic_chunk: train with WeNet's dynamic chunk masking (conformer): per batch, full context or
            attention within chunks of 1-25 encoder frames and ``chunk_left`` chunks before them.
        chunk_left: chunks of left context under chunk masking (-1: all).
    """

    features: FeatureConfig = field(default_factory=_default_features)
    encoder: str = "conformer"
    d_model: int = 256
    num_layers: int = 9
    num_heads: int = 4
    ff_dim: int = 1024
    conv_kernel: int = 31
    pos: str = "rel"
    lstm_hidden: int = 256
    subsampling_channels: int = 0
    dropout: float = 0.1
    vocab_size: int = 0
    spec_freq_masks: int = 2
    spec_freq_width: int = 27
    spec_time_masks: int = 5
    spec_time_ratio: float = 0.05
    spec_time_warp: int = 0
    causal_conv: bool = False
    dynamic_chunk: bool = False
    chunk_left: int = -1

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """A named size from :data:`PRESETS`, with fields replaced by ``overrides``.

        Raises:
            ValueError: unknown preset name.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown model preset {name!r}; known: {', '.join(PRESETS)}")
        return dataclasses.replace(PRESETS[name], **overrides)

    def encoder_kwargs(self) -> dict[str, Any]:
        """The fields the registered encoder's constructor takes (``input_dim`` added by the model)."""
        params = inspect.signature(lookup("encoder", self.encoder)).parameters
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name in params}
        if "subsampling_channels" in values:
            values["subsampling_channels"] = self.subsampling_channels or None
        return values

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``features`` nested)."""
        d = dataclasses.asdict(self)
        d["features"] = self.features.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "ModelConfig") -> ModelConfig:
        """Inverse of :meth:`to_dict` (:func:`asr.config.from_dict`: unknown keys and wrong types raise)."""
        return config_from_dict(cls, d, source)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(d_model=96, num_layers=4, num_heads=4, ff_dim=256, conv_kernel=15, subsampling_channels=32),
    "small": ModelConfig(d_model=256, num_layers=9, num_heads=4, ff_dim=1024, conv_kernel=31, subsampling_channels=128),
    "medium": ModelConfig(
        d_model=320, num_layers=12, num_heads=4, ff_dim=1280, conv_kernel=31, subsampling_channels=128
    ),
}


class AcousticStack(nn.Module):
    """``frontend``, ``specaug`` and ``encoder`` built from a :class:`ModelConfig`.

    Args:
        cfg: the front end, SpecAugment and encoder options (its ``vocab_size`` is not used here).
        cmvn: global CMVN statistics when ``cfg.features.cmvn == "global"``
            (identity placeholders otherwise, filled by a checkpoint).
        progressive: the encoder is a :class:`~asr.models.progressive.ProgressiveColumn`:
            a frozen source column (``encoder.source.*``) and a new one (``encoder.column.*``).
    """

    def __init__(self, cfg: ModelConfig, cmvn: GlobalCMVN | None = None, progressive: bool = False):
        super().__init__()
        self.frontend = FeatureExtractor(cfg.features, cmvn)
        self.specaug = SpecAugment(
            num_freq_masks=cfg.spec_freq_masks,
            freq_mask_width=cfg.spec_freq_width,
            num_time_masks=cfg.spec_time_masks,
            time_mask_ratio=cfg.spec_time_ratio,
            max_time_warp=cfg.spec_time_warp,
        )
        make_encoder = lookup("encoder", cfg.encoder)
        self.encoder = make_encoder(input_dim=cfg.features.dim, **cfg.encoder_kwargs())
        if progressive:
            column = make_encoder(input_dim=cfg.features.dim, **cfg.encoder_kwargs())
            self.encoder = ProgressiveColumn(self.encoder, column)

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame (feature shift x encoder subsampling: 0.04 s by default)."""
        return self.frontend.cfg.frame_shift_ms / 1000.0 * self.encoder.subsampling

    def output_lengths(self, wav_lengths: Tensor) -> Tensor:
        """``(B,)`` samples -> ``(B,)`` output frames."""
        return self.encoder.output_lengths(self.frontend.num_frames(wav_lengths.long()))

    def features(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Steps 1-2: ``wav (B, S)``, ``(B,)`` -> ``feats (B, T, F)`` float32, ``(B,)``."""
        with torch.autocast(wav.device.type, enabled=False):
            feats, lengths = self.frontend(wav.float(), wav_lengths)
            feats = self.specaug(feats, lengths)
        return feats, lengths

    def num_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
