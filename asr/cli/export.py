"""``asr export MODEL_DIR [OUT]``: a CTC model directory as one torch.export archive or ONNX file, checked.

Usage:
    asr export exp/ctc/model exp/ctc/model.pt2
    asr export exp/ctc/model model.pt2 --example-seconds 4 --no-check
    asr export exp/ctc/model --format onnx --int8      # exp/ctc/model/model.onnx and model.int8.onnx
    asr transcribe -m exp/ctc/model --backend onnx-int8 a.wav
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from asr.config import positive_float
from asr.errors import UsageError
from asr.export import export_model, export_onnx, load_exported
from asr.models.ctc import load_model_dir

__all__ = ["add_export_arguments", "run_export"]

TOLERANCE = 1e-3  # max |log-prob difference| of an fp32 export against the eager model


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``asr export``."""
    parser.add_argument("model_dir", type=Path, help="CTC model directory (config.json, model.safetensors, ...)")
    parser.add_argument("out", type=Path, nargs="?", default=None,
                        help="output file (pt2: required; onnx: default MODEL_DIR/model.onnx)")
    parser.add_argument("--format", choices=("pt2", "onnx"), default="pt2",
                        help="pt2: torch.export archive (default); onnx: ONNX for onnxruntime (asr[onnx])")
    parser.add_argument("--int8", action="store_true", help="onnx: also write the int8 dynamic quantization")
    parser.add_argument("--example-seconds", type=positive_float, default=2.0, help="length traced at export (default 2)")
    parser.add_argument("--no-check", action="store_true", help="skip comparing the export with the eager model")


def _check_audio(sr: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    wav = torch.randn(2, int(1.3 * sr), generator=gen) * 0.1
    return wav, torch.tensor([wav.shape[1], sr // 2])


def _compare(name: str, ref: tuple[torch.Tensor, torch.Tensor], got: tuple[torch.Tensor, torch.Tensor],
             strict: bool) -> bool:
    """Print how far ``got`` is from the eager ``ref``; ``strict``: fail beyond :data:`TOLERANCE`."""
    (lp, n), (glp, gn) = ref, got
    same_shape = torch.equal(n, gn) and lp.shape == glp.shape
    diff = (lp - glp).abs().max().item() if same_shape and lp.numel() else float("inf") if not same_shape else 0.0
    agree = (lp.argmax(-1) == glp.argmax(-1)).float().mean().item() if same_shape and lp.numel() else 0.0
    ok = same_shape and (diff < TOLERANCE or not strict)
    print(f"{name}: max |diff| = {diff:.2e}, best token agrees on {100 * agree:.1f} % of frames -> "
          f"{'ok' if ok else 'MISMATCH'}")
    return ok


def run_export(args: argparse.Namespace) -> int:
    """``asr export``: write the file(s) and check them against the eager model on random audio."""
    if args.format == "pt2":
        if args.out is None:
            raise UsageError("asr export --format pt2: give the output file (e.g. MODEL_DIR/model.pt2)")
        if args.int8:
            raise UsageError("--int8: ONNX only (--format onnx)")
        outs = [export_model(args.model_dir, args.out, example_seconds=args.example_seconds)]
    else:
        try:
            outs = export_onnx(args.model_dir, args.out, example_seconds=args.example_seconds, int8=args.int8)
        except ImportError as e:
            raise UsageError(str(e)) from None
    for out in outs:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.no_check:
        return 0
    model, _, cfg = load_model_dir(args.model_dir)
    wav, lengths = _check_audio(cfg.features.sample_rate)
    with torch.no_grad():
        ref = model.log_probs(wav, lengths)
    if args.format == "pt2":
        return 0 if _compare("check against eager", ref, load_exported(outs[0])(wav, lengths), strict=True) else 1
    from asr.models.onnx import OnnxCTC

    ok = _compare("onnxruntime fp32 against eager", ref, OnnxCTC(outs[0]).log_probs(wav, lengths), strict=True)
    for out in outs[1:]:  # int8: reported, not held to fp32's tolerance
        ok &= _compare("onnxruntime int8 against eager", ref, OnnxCTC(out).log_probs(wav, lengths), strict=False)
    return 0 if ok else 1
