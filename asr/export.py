"""Export a CTC model directory as one self-contained ``torch.export`` program (``.pt2``).

The exported program maps waveforms to log-probabilities, front end included:
``(wav (B, S) float32, wav_lengths (B,) int64) -> (log_probs (B, T', V), out_lengths (B,))``,
run in eval mode (no dither, no SpecAugment, no dropout). Batch size and
waveform length are both dynamic.

Why ``torch.export`` and not TorchScript: ``torch.jit.script`` cannot compile
the model as written (dataclass configs, ``lru_cache``'d constants, a dict of
extractor functions, a ``dict`` context shared by encoder blocks), and
``torch.jit.trace`` freezes every ``int(tensor)`` into a constant, so the
time dimension would not stay dynamic. ``torch.export`` traces the same
Python the eager model runs, except for the two places that read the longest
length out of a tensor (``int(lengths.max())`` in the feature framing, and
``pack_padded_sequence`` in the BLSTM): :class:`ExportableCTC` uses shape-only
equivalents instead (the front end's ``static`` mode, a padded BLSTM pass), so the exported program's frame count follows the
padded width ``S``. Valid frames are identical; :func:`load_exported` trims
the output to ``max(out_lengths)`` so shapes match the eager model too.

The ``.pt2`` file is a zip of JSON (graph, signature) and raw tensor storage;
loading it never unpickles Python objects. The model directory's
``config.json`` and tokenizer files are stored inside it as extra files.

ONNX: not provided here; ``onnx`` / ``onnxruntime`` are not dependencies of
asr. ``torch.onnx.export(ExportableCTC(model), ..., dynamo=True)`` takes the
same module where they are installed.

Usage::

    export_model("exp/ctc/model", "exp/ctc/model.pt2")
    model = load_exported("exp/ctc/model.pt2")
    log_probs, lengths = model(wav, wav_lengths)     # (B, S), (B,) -> (B, T', V), (B,)

    asr export exp/ctc/model exp/ctc/model.pt2
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.features import FeatureConfig, base_features, feature_constants, frame_mask, normalise_and_context
from asr.models.ctc import MODEL_CONFIG, CTCModel, load_model_dir
from asr.models.encoders import MIN_INPUT_FRAMES, SUBSAMPLING, BLSTMEncoder, ConformerEncoder, Encoder

__all__ = [
    "ExportableCTC",
    "ExportedCTC",
    "export_program",
    "export_model",
    "load_exported",
    "min_samples",
]

EXPORT_FORMAT = "asr.ctc.export"  # the "format" of the metadata stored in the .pt2
EXPORT_VERSION = 1
META_FILE = "asr_export.json"  # extra file in the .pt2: format, min_samples, vocab_size
_TOKENIZER_FILES = ("tokenizer.json", "tokens.txt", "spm.model", "spm.vocab")  # copied in when present


def min_samples(cfg: FeatureConfig) -> int:
    """Shortest waveform (samples) the exported program takes: enough for two encoder frames.

    (``torch.export`` specialises sizes 0 and 1, so the padded width must give
    at least 2.) Shorter inputs are zero-padded to this width by
    :class:`ExportedCTC`, their lengths unchanged, so the result is the eager one.
    """
    frames = MIN_INPUT_FRAMES + SUBSAMPLING  # 11 feature frames -> 2 encoder frames
    if cfg.snip_edges:
        return cfg.window_size + (frames - 1) * cfg.window_shift  # 400 + 10 * 160 = 2000 at 16 kHz
    return frames * cfg.window_shift


# ---------------------------------------------------------------------------
# Export-friendly front end and BLSTM: same numbers, no data-dependent shapes
# ---------------------------------------------------------------------------


def _features_static(
    wav: Tensor, lengths: Tensor, cfg: FeatureConfig, consts: dict[str, Tensor], cmvn: nn.Module | None
) -> tuple[Tensor, Tensor]:
    """:class:`~asr.features.FeatureExtractor` in eval mode, ``T`` following ``S``.

    ``wav (B, S)`` float32, ``lengths (B,)`` -> ``feats (B, T, F)``, ``frame_lengths (B,)``;
    ``consts`` from :func:`asr.features.feature_constants` (buffers of the exported module).
    """
    feats, frame_lengths = base_features(wav, lengths, cfg, consts, static=True)
    return normalise_and_context(feats, frame_lengths, cfg, cmvn), frame_lengths


def _reverse_within(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each ``x[b, :lengths[b]]`` of ``(B, T, D)`` in place of its frames; padding stays put."""
    T = x.shape[1]
    t = torch.arange(T, device=x.device)[None, :]  # (1, T)
    n = lengths[:, None]
    idx = torch.where(t < n, n - 1 - t, t)  # (B, T), its own inverse
    return x.gather(1, idx[:, :, None].expand_as(x))


def _lstm_direction(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One LSTM direction over ``x (B, T, D)`` -> ``(B, T, H)``, as a ``scan`` over time.

    ``torch.export`` unrolls ``torch.lstm`` over the traced length (the time
    dimension would be frozen); ``torch._higher_order_ops.scan`` keeps it
    dynamic. Gate order ``i, f, g, o`` as in ``nn.LSTM``.
    """
    from torch._higher_order_ops.scan import scan

    B, H = x.shape[0], w_hh.shape[1]
    gates_x = (x @ w_ih.T + b_ih + b_hh).transpose(0, 1)  # (T, B, 4H)

    def step(carry: tuple[Tensor, Tensor, Tensor], g: Tensor) -> tuple[tuple[Tensor, Tensor, Tensor], Tensor]:
        h, c, w = carry  # w_hh rides in the carry: scan's body may not close over tensors
        i, f, gg, o = (g + h @ w.T).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
        h = torch.sigmoid(o) * torch.tanh(c)
        return (h, c, w.clone()), h.clone()

    # h0 and c0 must be distinct tensors: scan mis-binds aliased initial carries
    _, out = scan(step, (x.new_zeros(B, H), x.new_zeros(B, H), w_hh), gates_x)
    return out.transpose(0, 1)  # (B, T, H)


def _blstm_layer_static(layer: nn.Module, x: Tensor, lengths: Tensor) -> Tensor:
    """:class:`~asr.models.encoders.BLSTMLayer` without packing: ``(B, T, D)`` -> ``(B, T, D)``.

    Forward direction: the LSTM over the padded batch (padding trails, so valid
    outputs never see it). Backward direction: each utterance reversed within
    its own length, run with the reverse weights, reversed back. Valid frames
    equal the packed computation; padded frames hold junk (masked by the encoder).
    """
    lstm: nn.LSTM = layer.lstm
    lengths = lengths.clamp(min=1)

    def weights(suffix: str) -> list[Tensor]:
        return [getattr(lstm, f"{name}_l0{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    forward = _lstm_direction(x, *weights(""))
    backward = _reverse_within(_lstm_direction(_reverse_within(x, lengths), *weights("_reverse")), lengths)
    return layer.proj(torch.cat([forward, backward], dim=-1))


class ExportableCTC(nn.Module):
    """A :class:`CTCModel` (eval mode) as an export-friendly module: waveforms -> log-probs.

    ``forward(wav (B, S), wav_lengths (B,)) -> (log_probs (B, T', V), out_lengths (B,))``
    with ``T'`` a function of ``S`` (the eager model's ``T'`` follows
    ``max(wav_lengths)``; they agree when the longest row fills the batch).
    """

    def __init__(self, model: CTCModel):
        super().__init__()
        if not isinstance(model.encoder, (ConformerEncoder, BLSTMEncoder)):
            raise TypeError(f"export does not know encoder {type(model.encoder).__name__}")
        if model.encoder.layers and isinstance(model.encoder, BLSTMEncoder):
            lstm = model.encoder.layers[0].lstm
            if lstm.num_layers != 1 or not lstm.bidirectional or lstm.proj_size or not lstm.bias:
                raise TypeError("export handles single-layer bidirectional LSTMs with biases, no projection")
        self.model = model.eval()
        self.cfg = model.cfg
        self._const_names = []
        for name, value in feature_constants(model.cfg.features).items():
            self.register_buffer(f"feature_{name}", value.to(model.head.weight.device), persistent=False)
            self._const_names.append(name)

    def forward(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        model = self.model
        consts = {name: getattr(self, f"feature_{name}") for name in self._const_names}
        feats, lengths = _features_static(  # 1. features
            wav.float(), wav_lengths.long(), self.cfg.features, consts, model.frontend.cmvn
        )
        encoder: Encoder = model.encoder
        if isinstance(encoder, BLSTMEncoder):  # 2. encoder
            h, out_lengths, _ = encoder.embed(feats, lengths)
            for layer in encoder.layers:
                h = h + _blstm_layer_static(layer, h, out_lengths)
            valid = frame_mask(out_lengths, h.shape[1])
            h = h * valid.unsqueeze(-1)
        else:
            h, out_lengths = encoder(feats, lengths)  # (B, T', D)
        return model.head(h).float().log_softmax(-1), out_lengths  # 3. head


# ---------------------------------------------------------------------------
# Export and load
# ---------------------------------------------------------------------------


def export_program(model: CTCModel, example_seconds: float = 2.0) -> torch.export.ExportedProgram:
    """``torch.export`` of :class:`ExportableCTC` with batch and waveform length dynamic.

    Args:
        model: any :class:`CTCModel` (put in eval mode).
        example_seconds: length of the example waveforms traced (any length
            ``>= min_samples`` works afterwards).
    """
    from torch.export import Dim

    wrapper = ExportableCTC(model).eval()
    fcfg = model.cfg.features
    S = max(min_samples(fcfg) + 1, int(example_seconds * fcfg.sample_rate))
    gen = torch.Generator().manual_seed(0)
    wav = torch.randn(2, S, generator=gen) * 0.1  # batch 2: a batch of 1 would specialise to 1
    lengths = torch.tensor([S, S * 3 // 4])
    batch = Dim("batch", min=1, max=4096)
    samples = Dim("samples", min=min_samples(fcfg), max=fcfg.sample_rate * 3600)  # up to an hour
    with torch.no_grad():
        return torch.export.export(
            wrapper, (wav, lengths), dynamic_shapes=({0: batch, 1: samples}, {0: batch}), strict=False
        )


def export_model(
    model_dir: str | os.PathLike, out_path: str | os.PathLike, example_seconds: float = 2.0
) -> Path:
    """Export a model directory to a self-contained ``.pt2`` file (``torch.export`` format).

    Named for the issue's "TorchScript export"; the file is a
    ``torch.export.save`` archive (see the module docstring for why), loaded by
    :func:`load_exported` or ``torch.export.load``. The model directory's
    ``config.json`` and tokenizer files travel inside it as extra files.

    Returns:
        ``out_path``.
    """
    model, _, cfg = load_model_dir(model_dir)
    program = export_program(model, example_seconds)
    meta = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "min_samples": min_samples(cfg.features),
        "sample_rate": cfg.features.sample_rate,
        "vocab_size": cfg.vocab_size,
        "frame_shift_s": model.frame_shift_s,
        "torch": torch.__version__,
    }
    extra = {META_FILE: json.dumps(meta, indent=2)}
    for name in (MODEL_CONFIG, *_TOKENIZER_FILES):
        path = Path(model_dir) / name
        if path.is_file():
            extra[name] = path.read_bytes().decode("latin-1")  # bytes round-trip through str
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp_dir:
        tmp = Path(tmp_dir) / out.name  # same name: torch.export.save names the archive's folder after it
        torch.export.save(program, tmp, extra_files=extra)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    return out


class ExportedCTC:
    """A loaded ``.pt2``: ``(wav (B, S), wav_lengths (B,)) -> (log_probs (B, T', V), out_lengths (B,))``.

    Attributes:
        program: the ``torch.export.ExportedProgram``.
        meta: export metadata (``min_samples``, ``sample_rate``, ``vocab_size``, ...).
        files: extra files stored with it (``config.json``, tokenizer files), as bytes.
    """

    def __init__(self, program: torch.export.ExportedProgram, meta: dict[str, Any], files: dict[str, bytes]):
        self.program = program
        self.module = program.module()
        self.meta = meta
        self.files = files

    @property
    def config(self) -> dict[str, Any]:
        """The model directory's ``config.json``."""
        return json.loads(self.files[MODEL_CONFIG])

    def __call__(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        wav = wav.float()
        wav_lengths = wav_lengths.long()
        short = self.meta["min_samples"] - wav.shape[1]
        if short > 0:  # pad up to the traced minimum; lengths unchanged, so no extra frames count
            wav = torch.nn.functional.pad(wav, (0, short))
        with torch.no_grad():
            log_probs, out_lengths = self.module(wav, wav_lengths)
        T = int(out_lengths.max()) if out_lengths.numel() else 0
        return log_probs[:, :T], out_lengths


def load_exported(path: str | os.PathLike) -> ExportedCTC:
    """Load what :func:`export_model` wrote (JSON and tensor storage only, nothing unpickled).

    Raises:
        ValueError: the archive was not written by :func:`export_model`.
    """
    names = (META_FILE, MODEL_CONFIG, *_TOKENIZER_FILES)
    extra: dict[str, Any] = {name: "" for name in names}
    with warnings.catch_warnings():  # torch reads weights from a read-only zip buffer and says so
        warnings.filterwarnings("ignore", message="The given buffer is not writable")
        program = torch.export.load(path, extra_files=extra)
    if not extra[META_FILE]:
        raise ValueError(f"{path}: no {META_FILE}; not written by asr.export")
    meta = json.loads(extra[META_FILE])
    if meta.get("format") != EXPORT_FORMAT or meta.get("version", 0) > EXPORT_VERSION:
        raise ValueError(f"{path}: format {meta.get('format')!r} v{meta.get('version')} is not {EXPORT_FORMAT!r}")
    files = {name: _as_bytes(extra[name]) for name in names if extra[name] and name != META_FILE}
    return ExportedCTC(program, meta, files)


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")
