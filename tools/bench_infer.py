"""Inference backends side by side: torch fp32, onnxruntime fp32 and onnxruntime int8, per CTC model.

Usage:
    python tools/bench_infer.py --model tiny=exp/synth/ctc/model --untrained small \\
        --test exp/synth/data/test.jsonl

For each ``--model NAME=DIR`` (a CTC model directory) the ONNX files are exported beside the weights
(``asr export DIR --format onnx --int8``) when missing, then every test utterance is decoded with
each backend in turn (greedy, batch 1, audio read beforehand, the backends interleaved per
utterance so that a noisy machine slows all three alike). Reported per backend: the real-time factor
(compute seconds / audio seconds), the speed-up over torch fp32, the model file's size, greedy WER
(pooled over the manifest), the share of utterances whose text equals torch's, and, where the
directory saved a lexicon + LM search (``decoding.json``), the WER of that search per language pooled.
``--untrained PRESET`` adds a model of that preset with random weights (the first model's tokenizer):
speed and size only, its WER means nothing and is not reported.

Threads: ``--threads`` (default 2) for torch and onnxruntime alike. Target (issue 16): int8 at least
2x faster than torch fp32 with at most 2 % relative WER loss. Writes ``tools/benchmarks/infer.json``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch

from asr.audio import SAMPLE_RATE, load_audio
from asr.compare import write_benchmark
from asr.data.manifest import read_manifest
from asr.export import export_onnx
from asr.metrics import score
from asr.models.onnx import BACKENDS, ONNX_FILE, ONNX_INT8_FILE
from asr.decoding.loaders import ctc_decoding
from asr.systems import load_recognizer
from asr.text.normalize import normalize

FILES = {"torch": "model.safetensors", "onnx": ONNX_FILE, "onnx-int8": ONNX_INT8_FILE}


def untrained_model_dir(preset: str, tokenizer_dir: Path, out: Path) -> Path:
    """A model directory of ``preset`` with random weights and ``tokenizer_dir``'s tokenizer."""
    from asr.models.ctc import CTCModel, ModelConfig, save_model_dir
    from asr.text.tokenizer import load_tokenizer

    tok = load_tokenizer(tokenizer_dir)
    torch.manual_seed(0)
    model = CTCModel(ModelConfig.preset(preset, vocab_size=tok.vocab_size))
    save_model_dir(out, model, tok)
    return out


def ensure_onnx(model_dir: Path) -> float:
    """Export ``model.onnx`` and ``model.int8.onnx`` unless both exist; returns the seconds it took."""
    if (model_dir / ONNX_FILE).is_file() and (model_dir / ONNX_INT8_FILE).is_file():
        return 0.0
    t0 = time.perf_counter()
    export_onnx(model_dir, int8=True)
    return time.perf_counter() - t0


def time_backends(model_dir: Path, utts: list, wavs: list[torch.Tensor]) -> dict[str, dict]:
    """Greedy decoding of every waveform with each backend, interleaved: seconds and texts per backend."""
    recs = {b: load_recognizer(model_dir, beam=1, backend=b) for b in BACKENDS}
    for rec in recs.values():  # warm-up: first-call allocations and kernel choice
        rec.transcribe([wavs[0]])
    seconds = {b: 0.0 for b in recs}
    texts: dict[str, dict[str, str]] = {b: {} for b in recs}
    for u, wav in zip(utts, wavs):
        for b, rec in recs.items():
            t0 = time.perf_counter()
            texts[b][u.id] = rec.transcribe([wav])[0].text
            seconds[b] += time.perf_counter() - t0
    return {b: {"seconds": seconds[b], "texts": texts[b]} for b in recs}


def lm_wer(model_dir: Path, utts: list, wavs: list[torch.Tensor]) -> dict[str, float | None]:
    """WER (%) of the directory's saved lexicon + LM search per backend, all languages pooled (``None``: none saved)."""
    langs = sorted({u.lang for u in utts})
    if any(ctc_decoding(model_dir, lang) is None for lang in langs):
        return {b: None for b in BACKENDS}
    out = {}
    for b in BACKENDS:
        hyps = {}
        for lang in langs:
            rec = load_recognizer(model_dir, language=lang, backend=b)
            for u, wav in zip(utts, wavs):
                if u.lang == lang:
                    hyps[u.id] = rec.transcribe([wav])[0].text
        out[b] = _wer(utts, hyps)
    return out


def _wer(utts: list, hyps: dict[str, str]) -> float:
    refs = {u.id: normalize(u.text, u.lang) for u in utts}
    return round(100 * score(refs, hyps).wer, 2)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, metavar="NAME=DIR")
    p.add_argument("--untrained", action="append", default=[], metavar="PRESET",
                   help="also time a randomly initialised model of this preset (speed and size only)")
    p.add_argument("--test", type=Path, required=True, help="manifest to decode")
    p.add_argument("--limit", type=int, default=0, help="first N utterances only (0: all)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "infer.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    utts = read_manifest(args.test)[: args.limit or None]
    wavs = [load_audio(u.audio) for u in utts]
    audio_s = sum(w.shape[0] for w in wavs) / SAMPLE_RATE
    models = [(name, Path(d), True) for name, d in (m.split("=", 1) for m in args.model)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-infer-"))
    try:
        for preset in args.untrained:
            models.append((preset, untrained_model_dir(preset, models[0][1], tmp / preset), False))
        rows = []
        for name, model_dir, trained in models:
            export_s = ensure_onnx(model_dir)
            timed = time_backends(model_dir, utts, wavs)
            lm = lm_wer(model_dir, utts, wavs) if trained else {b: None for b in BACKENDS}
            base = timed["torch"]
            for b, r in timed.items():
                same = sum(r["texts"][i] == base["texts"][i] for i in base["texts"]) / max(len(utts), 1)
                rows.append({"model": name, "trained": trained, "backend": b,
                             "rtf": round(r["seconds"] / audio_s, 5),
                             "speedup": round(base["seconds"] / r["seconds"], 2),
                             "size_mb": round((model_dir / FILES[b]).stat().st_size / 1e6, 2),
                             "greedy_wer": _wer(utts, r["texts"]) if trained else None,
                             "lm_wer": lm[b], "same_text_as_torch": round(same, 4),
                             "export_s": round(export_s, 1) if b == "onnx" else None})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(utts)} utterances, {audio_s / 60:.1f} min of audio, {args.threads} threads")
    print("| model | backend | RTF | speed-up | size MB | greedy WER | LM WER | same text |")
    print("|---|---|---|---|---|---|---|---|")
    fmt = lambda v: "-" if v is None else f"{v}"  # noqa: E731
    for r in rows:
        print(f"| {r['model']} | {r['backend']} | {r['rtf']:.4f} | {r['speedup']:.2f}x | {r['size_mb']} | "
              f"{fmt(r['greedy_wer'])} | {fmt(r['lm_wer'])} | {100 * r['same_text_as_torch']:.0f} % |")
    met = {}
    for name, _, trained in models:
        by = {r["backend"]: r for r in rows if r["model"] == name}
        int8, fp = by["onnx-int8"], by["torch"]
        loss = None
        if trained and fp["greedy_wer"]:
            loss = round(100 * (int8["greedy_wer"] - fp["greedy_wer"]) / fp["greedy_wer"], 2)
        met[name] = {"int8_speedup": int8["speedup"], "int8_greedy_wer_change_pct": loss,
                     "met": int8["speedup"] >= 2.0 and (loss is None or loss <= 2.0)}
    write_benchmark(args.out, {"test": str(args.test), "utterances": len(utts), "audio_s": round(audio_s, 1),
                               "threads": args.threads, "rows": rows, "target": "int8 >= 2x torch fp32, "
                               "WER loss <= 2 % relative", "targets": met})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
