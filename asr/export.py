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

ONNX: :func:`export_onnx` exports the same module through ``torch.onnx.export(...,
dynamo=True)`` to ``model.onnx`` in the model directory, and :func:`quantize_int8` writes its
int8 dynamic quantization ``model.int8.onnx``; :class:`asr.models.onnx.OnnxCTC` runs either in
onnxruntime (the recognizer's ``backend="onnx"`` / ``"onnx-int8"``). ``onnx``, ``onnxscript``
and ``onnxruntime`` are the optional extra ``asr[onnx]``.

Usage::

    export_model("exp/ctc/model", "exp/ctc/model.pt2")
    model = load_exported("exp/ctc/model.pt2")
    log_probs, lengths = model(wav, wav_lengths)     # (B, S), (B,) -> (B, T', V), (B,)

    asr export exp/ctc/model exp/ctc/model.pt2
    export_onnx("exp/ctc/model", int8=True)          # exp/ctc/model/model.onnx, model.int8.onnx
    asr export exp/ctc/model --format onnx --int8
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
from asr.models.onnx import pad_to_min, trim_frames

__all__ = [
    "ExportableCTC",
    "ExportedCTC",
    "export_program",
    "export_model",
    "export_onnx",
    "quantize_int8",
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


def _traced_inputs(model: CTCModel, example_seconds: float) -> tuple[ExportableCTC, tuple[Tensor, Tensor], Any]:
    """The wrapper, example ``(wav (2, S), lengths (2,))`` and dynamic shapes (batch, samples) to trace with."""
    from torch.export import Dim

    wrapper = ExportableCTC(model).eval()
    fcfg = model.cfg.features
    S = max(min_samples(fcfg) + 1, int(example_seconds * fcfg.sample_rate))
    gen = torch.Generator().manual_seed(0)
    wav = torch.randn(2, S, generator=gen) * 0.1  # batch 2: a batch of 1 would specialise to 1
    lengths = torch.tensor([S, S * 3 // 4])
    batch = Dim("batch", min=1, max=4096)
    samples = Dim("samples", min=min_samples(fcfg), max=fcfg.sample_rate * 3600)  # up to an hour
    return wrapper, (wav, lengths), ({0: batch, 1: samples}, {0: batch})


def export_program(model: CTCModel, example_seconds: float = 2.0) -> torch.export.ExportedProgram:
    """``torch.export`` of :class:`ExportableCTC` with batch and waveform length dynamic.

    Args:
        model: any :class:`CTCModel` (put in eval mode).
        example_seconds: length of the example waveforms traced (any length
            ``>= min_samples`` works afterwards).
    """
    wrapper, example, dynamic = _traced_inputs(model, example_seconds)
    with torch.no_grad():
        return torch.export.export(wrapper, example, dynamic_shapes=dynamic, strict=False)


def _export_meta(model: CTCModel, fmt: str) -> dict[str, Any]:
    cfg = model.cfg
    return {"format": fmt, "version": EXPORT_VERSION, "min_samples": min_samples(cfg.features),
            "sample_rate": cfg.features.sample_rate, "vocab_size": cfg.vocab_size,
            "frame_shift_s": model.frame_shift_s, "torch": torch.__version__}


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
    model, _, _ = load_model_dir(model_dir)
    program = export_program(model, example_seconds)
    meta = _export_meta(model, EXPORT_FORMAT)
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


def export_onnx(model_dir: str | os.PathLike, out_path: str | os.PathLike | None = None,
                example_seconds: float = 2.0, int8: bool = False) -> list[Path]:
    """Export a CTC model directory to ONNX (front end included), and optionally its int8 quantization.

    The graph is :class:`ExportableCTC` through ``torch.onnx.export(..., dynamo=True)``: inputs
    ``wav (B, S)`` float32 and ``wav_lengths (B,)`` int64, outputs ``log_probs (B, T', V)`` and
    ``out_lengths (B,)``, batch and length dynamic (opset 18). Metadata ``asr_export`` (JSON)
    records the sample rate, shortest input and frame shift; :class:`asr.models.onnx.OnnxCTC`
    runs it.

    Args:
        model_dir: a CTC model directory (:func:`asr.models.ctc.save_model_dir`).
        out_path: the ``.onnx`` file (default ``model_dir/model.onnx``, where the recognizer's
            ``backend="onnx"`` looks).
        int8: also write ``<out>.int8.onnx`` (``model.int8.onnx`` by default): :func:`quantize_int8`.

    Returns:
        The files written (fp32 first).

    Raises:
        ImportError: ``onnx`` / ``onnxscript`` missing (the install line is named).
    """
    from asr.models.onnx import ONNX_FILE, ONNX_FORMAT, ONNX_META_KEY, require

    onnx = require("onnx")
    require("onnxscript")  # what torch.onnx's dynamo exporter translates with
    model, _, _ = load_model_dir(model_dir)
    wrapper, example, dynamic = _traced_inputs(model, example_seconds)
    out = Path(out_path) if out_path is not None else Path(model_dir) / ONNX_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on dynamic-shape renaming and its own deprecations
        program = torch.onnx.export(wrapper, example, dynamic_shapes=dynamic, dynamo=True, opset_version=18,
                                    input_names=["wav", "wav_lengths"], output_names=["log_probs", "out_lengths"],
                                    optimize=True, verbose=False)
    proto = program.model_proto
    meta = _export_meta(model, ONNX_FORMAT)
    onnx.helper.set_model_props(proto, {ONNX_META_KEY: json.dumps(meta)})
    tmp = out.with_name(out.name + ".part")
    onnx.save_model(proto, str(tmp))
    os.replace(tmp, out)
    written = [out]
    if int8:
        written.append(quantize_int8(out, out.with_name(out.name.removesuffix(".onnx") + ".int8.onnx")))
    return written


def _linear_nodes(proto: Any) -> list[str]:
    """Names of the ``MatMul`` / ``Gemm`` nodes of the encoder's and head's linear layers (a weight input).

    Left out: the front end's matrix products (the mel filterbank, the DCT: int8 activations there
    wreck the features' dynamic range) and the attention's activation x activation products.
    """
    weights = {t.name for t in proto.graph.initializer}
    names = []
    for node in proto.graph.node:
        if node.op_type not in ("MatMul", "Gemm") or not any(i in weights for i in node.input):
            continue
        scopes = next((p.value for p in node.metadata_props if p.key == "pkg.torch.onnx.name_scopes"), "")
        if "model.encoder" in scopes or "model.head" in scopes:
            names.append(node.name)
    return names


def quantize_int8(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """int8 dynamic quantization of an exported ``.onnx`` (onnxruntime's ``quantize_dynamic``).

    Weights of the encoder's and head's linear layers (attention projections, feed-forward,
    pointwise convolutions, output layer) become int8 per output channel and their inputs are
    quantized per call at run time; the front end, the depthwise and subsampling convolutions and
    the attention products stay float32 (:func:`_linear_nodes`). The metadata is carried over.
    Returns ``dst``.
    """
    import logging

    from asr.models.onnx import require

    require("onnxruntime")
    onnx = require("onnx")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    proto = onnx.load(str(src))
    dst = Path(dst)
    tmp = dst.with_name(dst.name + ".part.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # quantize_dynamic logs each tensor and its advice on the root logger
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_quantize=_linear_nodes(proto))
    finally:
        root.setLevel(level)
    q = onnx.load(str(tmp))
    onnx.helper.set_model_props(q, {p.key: p.value for p in proto.metadata_props})
    onnx.save_model(q, str(tmp))
    os.replace(tmp, dst)
    return dst


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
        wav = pad_to_min(wav.float(), self.meta["min_samples"])
        with torch.no_grad():
            log_probs, out_lengths = self.module(wav, wav_lengths.long())
        return trim_frames(log_probs, out_lengths), out_lengths


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
