"""``asr export MODEL_DIR OUT.pt2``: a CTC model directory as one torch.export archive, checked against the eager model.

Usage:
    asr export exp/ctc/model exp/ctc/model.pt2
    asr export exp/ctc/model model.pt2 --example-seconds 4 --no-check
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from asr.config import positive_float
from asr.export import export_model, load_exported
from asr.models.ctc import load_model_dir

__all__ = ["add_export_arguments", "run_export"]


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``asr export``."""
    parser.add_argument("model_dir", type=Path, help="CTC model directory (config.json, model.safetensors, ...)")
    parser.add_argument("out", type=Path, help="output .pt2 file (torch.export archive)")
    parser.add_argument("--example-seconds", type=positive_float, default=2.0, help="length traced at export (default 2)")
    parser.add_argument("--no-check", action="store_true", help="skip comparing the export with the eager model")


def run_export(args: argparse.Namespace) -> int:
    """``asr export``: write the ``.pt2`` and check it against the eager model on random audio."""
    out = export_model(args.model_dir, args.out, example_seconds=args.example_seconds)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.no_check:
        return 0
    model, _, cfg = load_model_dir(args.model_dir)
    exported = load_exported(out)
    sr = cfg.features.sample_rate
    gen = torch.Generator().manual_seed(1)
    wav = torch.randn(2, int(1.3 * sr), generator=gen) * 0.1
    lengths = torch.tensor([wav.shape[1], sr // 2])
    with torch.no_grad():
        ref, ref_lengths = model.log_probs(wav, lengths)
    got, got_lengths = exported(wav, lengths)
    diff = (ref - got).abs().max().item() if ref.numel() else 0.0
    ok = torch.equal(ref_lengths, got_lengths) and ref.shape == got.shape and diff < 1e-3
    print(f"check against eager: max |diff| = {diff:.2e} -> {'ok' if ok else 'MISMATCH'}")
    return 0 if ok else 1
