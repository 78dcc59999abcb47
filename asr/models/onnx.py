"""A CTC model exported to ONNX, run by onnxruntime, seen as a :class:`~asr.models.ctc.CTCModel` by decoders.

:func:`asr.export.export_onnx` writes the file (``model.onnx`` in the model directory, and
``model.int8.onnx``, its int8 dynamic quantization); :class:`OnnxCTC` loads it and has what the
decoders use of a CTC model: :meth:`OnnxCTC.log_probs` ``(B, S), (B,) -> (B, T', V), (B,)`` and
:attr:`OnnxCTC.frame_shift_s`. The graph holds the whole model, front end included, so a waveform
goes in and log-probabilities come out; its metadata (``asr_export``, JSON) says the sample rate,
the shortest input and the frame shift.

Usage::

    model = OnnxCTC("exp/ctc/model/model.int8.onnx", threads=2)
    log_probs, lengths = model.log_probs(wav, wav_lengths)       # torch tensors in and out
    rec = asr.load("exp/ctc/model", backend="onnx-int8")         # the same, behind the recognizer

onnxruntime is an optional dependency (``pip install 'asr[onnx]'``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["ONNX_FILE", "ONNX_INT8_FILE", "ONNX_META_KEY", "BACKENDS", "OnnxCTC", "onnx_file", "require",
           "pad_to_min", "trim_frames"]

ONNX_FILE = "model.onnx"  # the fp32 export inside a model directory
ONNX_INT8_FILE = "model.int8.onnx"  # its int8 dynamic quantization
ONNX_META_KEY = "asr_export"  # metadata_props key: JSON of format, sample_rate, min_samples, frame_shift_s, ...
ONNX_FORMAT = "asr.ctc.onnx"
BACKENDS = {"torch": None, "onnx": ONNX_FILE, "onnx-int8": ONNX_INT8_FILE}  # backend -> file in the model dir


def require(what: str = "onnxruntime") -> Any:
    """Import ``onnxruntime`` (or ``onnx``), or raise ``ImportError`` with the install line."""
    try:
        return __import__(what)
    except ImportError:
        raise ImportError(f"{what} is not installed: pip install 'asr[onnx]' (onnx, onnxscript, onnxruntime)"
                          ) from None


def onnx_file(model_dir: str | os.PathLike, backend: str) -> Path:
    """The ONNX file of ``backend`` (``onnx`` / ``onnx-int8``) in a model directory.

    Raises:
        ValueError: an unknown backend, or the file is missing (the message says how to write it).
    """
    if backend not in BACKENDS or BACKENDS[backend] is None:
        raise ValueError(f"backend {backend!r}: not an ONNX backend; known: {sorted(BACKENDS)}")
    path = Path(model_dir) / BACKENDS[backend]
    if not path.is_file():
        flag = " --int8" if backend == "onnx-int8" else ""
        raise ValueError(f"{path}: no such file; write it with `asr export {model_dir} --format onnx{flag}`")
    return path


def pad_to_min(wav: Tensor, min_samples: int) -> Tensor:
    """``wav (B, S)`` zero-padded to at least ``min_samples`` (an export's traced minimum; lengths unchanged,
    so no extra frames count)."""
    short = int(min_samples) - wav.shape[1]
    return torch.nn.functional.pad(wav, (0, short)) if short > 0 else wav


def trim_frames(log_probs: Tensor, lengths: Tensor) -> Tensor:
    """``(B, T, V)`` cut to ``max(lengths)`` frames: an export's ``T`` follows the padded width, the eager
    model's the longest input."""
    return log_probs[:, : int(lengths.max()) if lengths.numel() else 0]


class OnnxCTC:
    """An exported CTC model in an onnxruntime session (CPU unless ``providers`` say otherwise).

    Args:
        path: a file written by :func:`asr.export.export_onnx`.
        threads: intra-op threads (``None``: torch's, so both backends use the same cores).
        providers: onnxruntime execution providers (default: CPU).

    Raises:
        ValueError: the file is not an asr export (no ``asr_export`` metadata) or cannot be loaded.
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None, providers: list[str] | None = None):
        ort = require()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # warnings about unused initializers are not the user's
        # no spin-waiting between calls: idle worker threads would keep the cores from torch, the
        # decoder and other sessions (several models side by side, asr serve)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=providers or ["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types (InvalidProtobuf, Fail, ...)
            raise ValueError(f"{path}: cannot load the ONNX model ({type(e).__name__}: {e})") from None
        raw = self.session.get_modelmeta().custom_metadata_map.get(ONNX_META_KEY)
        if raw is None:
            raise ValueError(f"{path}: no {ONNX_META_KEY} metadata; not written by asr.export")
        self.meta: dict[str, Any] = json.loads(raw)
        if self.meta.get("format") != ONNX_FORMAT:
            raise ValueError(f"{path}: format {self.meta.get('format')!r} is not {ONNX_FORMAT!r}")
        self.path = Path(path)

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame."""
        return float(self.meta["frame_shift_s"])

    @property
    def sample_rate(self) -> int:
        """Rate of the waveforms the graph takes."""
        return int(self.meta["sample_rate"])

    def log_probs(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``wav (B, S)`` float, ``wav_lengths (B,)`` -> ``log_probs (B, T', V)`` float32, ``lengths (B,)`` int64.

        As :meth:`asr.models.ctc.CTCModel.log_probs` in eval mode: ``T'`` is ``max(lengths)``;
        inputs shorter than the traced minimum are zero-padded (their lengths unchanged).
        """
        device = wav.device
        x = pad_to_min(wav.detach().float().cpu(), self.meta["min_samples"])
        feeds = {"wav": np.ascontiguousarray(x.numpy()),
                 "wav_lengths": np.ascontiguousarray(wav_lengths.detach().cpu().long().numpy())}
        log_probs, lengths = self.session.run(None, feeds)
        n = torch.from_numpy(lengths).long()
        return trim_frames(torch.from_numpy(log_probs), n).to(device), n.to(device)

    def eval(self) -> OnnxCTC:
        """No-op (an exported graph is always in eval mode); for code that treats it as a module."""
        return self
