"""Initialising a model from a pre-trained model directory: whatever matches by name and shape.

ESPnet's ``ignore_init_mismatch``: tensors whose name and shape match are
copied, the rest (a head whose vocabulary changed, a new language's head) keeps
its fresh initialisation and is listed in a :class:`LoadReport`. Works with
multilingual (:mod:`asr.models.multilingual`) and monolingual CTC
(:mod:`asr.models.ctc`) directories; nothing is unpickled.

Usage::

    cfg = MultilingualConfig(base=pretrained_base("exp/ml/model"), languages=("sw",), vocab_sizes=(40,))
    model, report = from_pretrained("exp/ml/model", cfg)
    print(report.summary())
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.features import GlobalCMVN
from asr.models.ctc import FORMAT as CTC_FORMAT, MODEL_CONFIG, MODEL_WEIGHTS, ModelConfig
from asr.models.multilingual import FORMAT, MultilingualConfig, MultilingualCTC

__all__ = ["LoadReport", "load_matching_state_dict", "read_any_config", "pretrained_base", "from_pretrained"]

log = logging.getLogger("asr.models.multilingual")  # the name these log lines have always had


@dataclass
class LoadReport:
    """What :func:`load_matching_state_dict` did with each tensor.

    Attributes:
        loaded: names copied from the checkpoint.
        mismatched: ``(name, checkpoint shape, model shape)`` kept at the model's initialisation.
        missing: model tensors absent from the checkpoint (kept at initialisation).
        unexpected: checkpoint tensors the model does not have (ignored).
    """

    loaded: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def reinitialized(self) -> list[str]:
        """Model tensors not taken from the checkpoint (mismatched or missing)."""
        return [m[0] for m in self.mismatched] + self.missing

    def summary(self) -> str:
        """One line per category, for logs."""
        lines = [f"loaded {len(self.loaded)} tensors"]
        for name, src, dst in self.mismatched:
            lines.append(f"re-initialized {name}: checkpoint {list(src)} != model {list(dst)}")
        if self.missing:
            lines.append(f"re-initialized (not in checkpoint): {', '.join(self.missing)}")
        if self.unexpected:
            lines.append(f"ignored (not in model): {', '.join(self.unexpected)}")
        return "\n".join(lines)


def load_matching_state_dict(
    model: nn.Module, state: Mapping[str, Tensor], rename: Mapping[str, str] | None = None
) -> LoadReport:
    """Copy the tensors of ``state`` whose name and shape match ``model``; report the rest.

    Tensors with a mismatched shape or absent from ``state`` keep the model's
    current (fresh) initialisation, which is what fine-tuning a new vocabulary needs.

    Args:
        model: the target (e.g. a freshly built :class:`MultilingualCTC`).
        state: source tensors (``safetensors`` file, another model's ``state_dict``).
        rename: prefix renames applied to ``state`` names first, e.g.
            ``{"head.": "heads.en."}`` to take a :class:`~asr.models.ctc.CTCModel`'s output layer.

    Returns:
        A :class:`LoadReport` (also logged at INFO).
    """
    renamed: dict[str, Tensor] = {}
    for name, tensor in state.items():
        for old, new in (rename or {}).items():
            if name.startswith(old):
                name = new + name[len(old) :]
                break
        renamed[name] = tensor
    own = model.state_dict()
    report = LoadReport()
    take: dict[str, Tensor] = {}
    for name, tensor in renamed.items():
        if name not in own:
            report.unexpected.append(name)
        elif tuple(tensor.shape) != tuple(own[name].shape):
            report.mismatched.append((name, tuple(tensor.shape), tuple(own[name].shape)))
        else:
            take[name] = tensor
            report.loaded.append(name)
    report.missing = [name for name in own if name not in renamed]
    model.load_state_dict(take, strict=False)
    log.info("%s", report.summary())
    return report


def read_any_config(directory: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``config.json`` of a multilingual or monolingual CTC model directory.

    Raises:
        FileNotFoundError: no ``config.json``.
        ValueError: neither format.
    """
    path = Path(directory) / MODEL_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: no {MODEL_CONFIG}; not a model directory")
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("format") not in (FORMAT, CTC_FORMAT):
        raise ValueError(f"{path}: format {config.get('format')!r} is neither {FORMAT!r} nor {CTC_FORMAT!r}")
    return config


def pretrained_base(directory: str | os.PathLike) -> ModelConfig:
    """The shared-encoder :class:`ModelConfig` of a model directory (multilingual or monolingual CTC)."""
    config = read_any_config(directory)
    if config["format"] == FORMAT:
        return MultilingualConfig.from_dict(config["model"]).base
    return ModelConfig.from_dict(config["model"])


def from_pretrained(
    directory: str | os.PathLike,
    cfg: MultilingualConfig,
    rename: Mapping[str, str] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[MultilingualCTC, LoadReport]:
    """Build ``MultilingualCTC(cfg)`` and initialise it from a pre-trained model directory.

    Whatever matches by name and shape is loaded (the shared frontend and
    encoder, the heads of languages kept with the same vocabulary); a head whose
    vocabulary changed, or a new head, keeps its fresh initialisation and is
    listed in the report. Works with multilingual and monolingual
    (:mod:`asr.models.ctc`) directories; nothing is unpickled.

    Args:
        directory: the pre-trained model directory.
        cfg: the target structure (usually ``base=pretrained_base(directory)``).
        rename: prefix renames for the checkpoint names (see :func:`load_matching_state_dict`).
        device: where the model goes.

    Returns:
        ``(model, report)``, the model in train mode.
    """
    from asr.weights import load_safetensors

    config = read_any_config(directory)
    cmvn = GlobalCMVN.from_dict(config["cmvn"]) if config.get("cmvn") and cfg.base.features.cmvn == "global" else None
    model = MultilingualCTC(cfg, cmvn)
    report = load_matching_state_dict(model, load_safetensors(Path(directory) / MODEL_WEIGHTS), rename)
    return model.to(device), report
