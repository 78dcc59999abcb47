"""The CTC acoustic model: waveform -> features -> SpecAugment -> encoder -> token logits.

:class:`ModelConfig` (frozen, typed; defined with the shared acoustic stack in
:mod:`asr.models.acoustic`) holds every dimension and is saved with the model;
:data:`PRESETS` names the usual sizes:

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

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.features import GlobalCMVN
from asr.models.acoustic import PRESETS, AcousticStack, ModelConfig
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


class CTCModel(AcousticStack):
    """Waveforms to CTC logits.

    1-3. :class:`~asr.models.acoustic.AcousticStack`: ``frontend`` (float32 features),
         ``specaug`` (training mode only), ``encoder`` (the registered encoder, x4 subsampling);
    4. ``head``: dropout and a linear layer to ``vocab_size`` logits.

    Args:
        cfg: structure; ``cfg.vocab_size`` must be set.
        cmvn: global CMVN statistics when ``cfg.features.cmvn == "global"``
            (identity placeholders otherwise, filled by a checkpoint).
    """

    def __init__(self, cfg: ModelConfig, cmvn: GlobalCMVN | None = None):
        if cfg.vocab_size < 2:
            raise ValueError(f"ModelConfig.vocab_size must be >= 2 (blank + one token), got {cfg.vocab_size}")
        super().__init__(cfg, cmvn)  # steps 1-3 (frontend, specaug, encoder)
        self.cfg = cfg
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(self.encoder.output_dim, cfg.vocab_size)

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
    from asr.weights import load_safetensors

    config = read_model_config(directory)
    cfg = ModelConfig.from_dict(config["model"])
    cmvn = GlobalCMVN.from_dict(config["cmvn"]) if config.get("cmvn") else None
    model = CTCModel(cfg, cmvn)
    model.load_state_dict(load_safetensors(Path(directory) / MODEL_WEIGHTS))
    tokenizer = load_tokenizer(directory)
    return model.to(device).eval(), tokenizer, cfg
