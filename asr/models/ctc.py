"""The CTC acoustic model: waveform -> features -> SpecAugment -> encoder -> token logits.

:class:`ModelConfig` (frozen, typed) holds every dimension and is saved with
the model; :data:`PRESETS` names the usual sizes:

======  =====================================================  ==========
preset  encoder                                                parameters
======  =====================================================  ==========
tiny    Conformer, 4 x 96, ff 256, conv 15 (CPU tests, demo)   0.77 M
small   Conformer, 9 x 256, ff 1024, conv 31                   15.1 M
medium  Conformer, 12 x 320, ff 1280, conv 31                  30.7 M
======  =====================================================  ==========

(parameters without the output layer, which adds ``(d_model + 1) * vocab_size``.)

A *model directory* is self-contained: ``model.safetensors`` (weights, CMVN
buffers included), ``config.json`` (the :class:`ModelConfig`, feature options,
global CMVN statistics and free-form ``extra``) and the tokenizer's own files
(``tokenizer.json``, ``tokens.txt``, ...). Loading never unpickles anything.

Usage::

    cfg = ModelConfig.preset("tiny", vocab_size=tokenizer.vocab_size)
    model = CTCModel(cfg)
    logits, lengths = model(wav, wav_lengths)      # (B, S) -> (B, T', V), (B,)
    save_model_dir("exp/ctc/model", model, tokenizer, extra={"dev_wer": 0.12})
    model, tokenizer, cfg = load_model_dir("exp/ctc/model")
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.config import from_dict as config_from_dict
from asr.features import FeatureConfig, FeatureExtractor, GlobalCMVN, SpecAugment
from asr.registry import lookup
from asr.text.tokenizer import Tokenizer, load_tokenizer

__all__ = [
    "ModelConfig",
    "PRESETS",
    "CTCModel",
    "save_model_dir",
    "load_model_dir",
    "read_model_config",
    "cpu_state_dict",
    "MODEL_WEIGHTS",
    "MODEL_CONFIG",
]

MODEL_WEIGHTS = "model.safetensors"
MODEL_CONFIG = "config.json"
FORMAT = "asr.ctc"  # config.json "format"
FORMAT_VERSION = 1


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
        """Inverse of :meth:`to_dict`; unknown keys and wrong types raise ``ValueError``."""
        d = dict(d)
        if isinstance(d.get("features"), dict):
            d["features"] = FeatureConfig.from_dict(d["features"])
        return config_from_dict(cls, d, source)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(d_model=96, num_layers=4, num_heads=4, ff_dim=256, conv_kernel=15, subsampling_channels=32),
    "small": ModelConfig(d_model=256, num_layers=9, num_heads=4, ff_dim=1024, conv_kernel=31, subsampling_channels=128),
    "medium": ModelConfig(
        d_model=320, num_layers=12, num_heads=4, ff_dim=1280, conv_kernel=31, subsampling_channels=128
    ),
}


class CTCModel(nn.Module):
    """Waveforms to CTC logits.

    1. ``frontend``: :class:`~asr.features.FeatureExtractor` (always float32);
    2. ``specaug``: :class:`~asr.features.SpecAugment`, training mode only;
    3. ``encoder``: the registered encoder (x4 subsampling);
    4. ``head``: dropout and a linear layer to ``vocab_size`` logits.

    Args:
        cfg: structure; ``cfg.vocab_size`` must be set.
        cmvn: global CMVN statistics when ``cfg.features.cmvn == "global"``
            (identity placeholders otherwise, filled by a checkpoint).
    """

    def __init__(self, cfg: ModelConfig, cmvn: GlobalCMVN | None = None):
        super().__init__()
        if cfg.vocab_size < 2:
            raise ValueError(f"ModelConfig.vocab_size must be >= 2 (blank + one token), got {cfg.vocab_size}")
        self.cfg = cfg
        self.frontend = FeatureExtractor(cfg.features, cmvn)
        self.specaug = SpecAugment(
            num_freq_masks=cfg.spec_freq_masks,
            freq_mask_width=cfg.spec_freq_width,
            num_time_masks=cfg.spec_time_masks,
            time_mask_ratio=cfg.spec_time_ratio,
            max_time_warp=cfg.spec_time_warp,
        )
        encoder_cls = lookup("encoder", cfg.encoder)
        self.encoder = encoder_cls(input_dim=cfg.features.dim, **cfg.encoder_kwargs())
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(self.encoder.output_dim, cfg.vocab_size)

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame (feature shift x encoder subsampling: 0.04 s by default)."""
        return self.cfg.features.frame_shift_ms / 1000.0 * self.encoder.subsampling

    def output_lengths(self, wav_lengths: Tensor) -> Tensor:
        """``(B,)`` samples -> ``(B,)`` output frames."""
        return self.encoder.output_lengths(self.frontend.num_frames(wav_lengths.long()))

    def features(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Steps 1-2: ``wav (B, S)``, ``(B,)`` -> ``feats (B, T, F)`` float32, ``(B,)``."""
        with torch.autocast(wav.device.type, enabled=False):
            feats, lengths = self.frontend(wav.float(), wav_lengths)
            feats = self.specaug(feats, lengths)
        return feats, lengths

    def forward(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Logits of every output frame.

        Args:
            wav: ``(B, S)`` float waveforms in [-1, 1], zero-padded.
            wav_lengths: ``(B,)`` valid samples.

        Returns:
            ``logits (B, T', V)`` (unnormalised) and ``out_lengths (B,)``.
        """
        feats, lengths = self.features(wav, wav_lengths)
        hidden, out_lengths = self.encoder(feats, lengths)  # (B, T', D)
        return self.head(self.dropout(hidden)), out_lengths

    def log_probs(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``log_softmax`` of :meth:`forward`'s logits in float32: ``(B, T', V)``, ``(B,)``."""
        logits, out_lengths = self(wav, wav_lengths)
        return logits.float().log_softmax(-1), out_lengths

    def num_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


# ---------------------------------------------------------------------------
# Model directories
# ---------------------------------------------------------------------------


def cpu_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """CPU, contiguous, unshared copies of ``model``'s state (what safetensors accepts)."""
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}


def save_model_dir(
    directory: str | os.PathLike,
    model: CTCModel,
    tokenizer: Tokenizer,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a self-contained model directory.

    Files: ``model.safetensors``, ``config.json`` (``{"format", "version",
    "model": ModelConfig, "cmvn": {"mean", "std"} | null, "tokenizer": kind,
    "extra": extra}``) and the tokenizer's files. Each file is written to a
    temporary name and renamed into place.

    Args:
        directory: created if missing.
        model: a :class:`CTCModel` (unwrapped from DDP).
        tokenizer: the tokenizer its labels came from.
        extra: JSON-safe information to keep (training summary, dev WER, ...).

    Returns:
        The directory.
    """
    from safetensors.torch import save_file

    if model.cfg.vocab_size != tokenizer.vocab_size:
        raise ValueError(f"model has {model.cfg.vocab_size} outputs, tokenizer {tokenizer.vocab_size} tokens")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (MODEL_WEIGHTS + ".part")
    save_file(cpu_state_dict(model), str(tmp), metadata={"format": "pt"})
    os.chmod(tmp, 0o644)  # safetensors creates its file owner-only; a model is meant to be shared
    os.replace(tmp, out / MODEL_WEIGHTS)
    cmvn = model.frontend.cmvn
    config = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model.cfg.to_dict(),
        "cmvn": cmvn.to_dict() if cmvn is not None else None,
        "tokenizer": tokenizer.kind,
        "extra": extra or {},
    }
    tmp = out / (MODEL_CONFIG + ".part")
    tmp.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out / MODEL_CONFIG)
    tokenizer.save(out)
    return out


def read_model_config(
    directory: str | os.PathLike, format: str = FORMAT, version: int = FORMAT_VERSION
) -> dict[str, Any]:
    """The parsed ``config.json`` of a model directory (``model``, ``cmvn``, ``extra``, ...).

    Args:
        format, version: what the directory must hold (a CTC model by default);
            an older version is accepted, a newer one is not.

    Raises:
        FileNotFoundError: no ``config.json``.
        ValueError: another format, or a newer version.
    """
    path = Path(directory) / MODEL_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: no {MODEL_CONFIG}; not a model directory")
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("format") != format:
        raise ValueError(f"{path}: format {config.get('format')!r} is not {format!r}")
    if config.get("version", 0) > version:
        raise ValueError(f"{path}: version {config['version']} is newer than this asr ({version})")
    return config


def load_model_dir(
    directory: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[CTCModel, Tokenizer, ModelConfig]:
    """Load what :func:`save_model_dir` wrote (safetensors and JSON only, nothing unpickled).

    Returns:
        ``(model, tokenizer, cfg)``; the model is in eval mode on ``device``.
    """
    from safetensors.torch import load_file

    config = read_model_config(directory)
    cfg = ModelConfig.from_dict(config["model"])
    cmvn = GlobalCMVN.from_dict(config["cmvn"]) if config.get("cmvn") else None
    model = CTCModel(cfg, cmvn)
    model.load_state_dict(load_file(str(Path(directory) / MODEL_WEIGHTS)))
    tokenizer = load_tokenizer(directory)
    return model.to(device).eval(), tokenizer, cfg
