"""How well word confidence tells right words from wrong ones: AUC and a reliability plot.

Usage:
    python tools/bench_confidence.py \\
        --run exp/meta/multilingual/runs/ft-full-30min/model,sw,exp/meta/data/sw/test.jsonl,exp/meta/multilingual/lm/sw-30min.arpa \\
        --run exp/meta/multilingual/runs/pretrain/model,en,exp/meta/data/en/test.jsonl,exp/meta/multilingual/lm/en.arpa

Each ``--run MODEL,LANG,MANIFEST[,LM]`` transcribes the manifest with :func:`asr.load` (the LM's
lexicon search when given); every hypothesis word is *correct* when the word alignment with the
reference (jiwer) matches it. Reported per run and pooled: words, share correct, the ROC AUC of
confidence against correctness (target, issue 16: at least 0.8), and a reliability table (share
correct per confidence decile). Writes JSON (``tools/benchmarks/confidence.json``) and a PNG beside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jiwer

import asr
from asr.compare import write_benchmark
from asr.data.manifest import read_manifest
from asr.text.normalize import normalize


def word_correctness(ref: str, hyp: str) -> list[bool]:
    """For each word of ``hyp``: does the minimum-edit alignment with ``ref`` match it."""
    hyp_words = hyp.split()
    if not hyp_words:
        return []
    if not ref.split():
        return [False] * len(hyp_words)
    out = [False] * len(hyp_words)
    for chunk in jiwer.process_words(ref, hyp).alignments[0]:
        if chunk.type == "equal":
            for i in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                out[i] = True
    return out


def auc(scores: list[float], labels: list[bool]) -> float | None:
    """ROC AUC by the rank statistic (ties count half); ``None`` without both classes."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def reliability(scores: list[float], labels: list[bool], bins: int = 10) -> list[dict]:
    """Share correct per confidence bin ``[k/bins, (k+1)/bins)``."""
    rows = []
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        idx = [i for i, s in enumerate(scores) if lo <= s < hi or (k == bins - 1 and s == 1.0)]
        if idx:
            rows.append({"bin": [lo, hi], "words": len(idx), "correct": round(sum(labels[i] for i in idx) / len(idx), 4),
                         "mean_confidence": round(sum(scores[i] for i in idx) / len(idx), 4)})
    return rows


def plot(rel: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="calibrated")
    ax.plot([r["mean_confidence"] for r in rel], [r["correct"] for r in rel], marker="o", label="asr")
    ax.set_xlabel("word confidence")
    ax.set_ylabel("share of words correct")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="append", required=True, metavar="MODEL,LANG,MANIFEST[,LM]")
    p.add_argument("--beam", type=int, default=16)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "confidence.json")
    args = p.parse_args(argv)
    runs, all_scores, all_labels = [], [], []
    for spec in args.run:
        model, lang, manifest, *lm = spec.split(",")
        rec = asr.load(model, language=lang, lm=lm[0] if lm else None, beam=args.beam if lm else None)
        scores, labels = [], []
        for u in read_manifest(manifest):
            t = rec.transcribe(u.audio)
            ok = word_correctness(normalize(u.text, u.lang), t.text)
            if len(ok) != len(t.words):  # word times could not follow the text: not scored
                continue
            scores += [w.confidence for w in t.words]
            labels += ok
        runs.append({"model": model, "lang": lang, "manifest": manifest, "lm": lm[0] if lm else None,
                     "words": len(scores), "correct": round(sum(labels) / max(len(labels), 1), 4),
                     "auc": None if auc(scores, labels) is None else round(auc(scores, labels), 4)})
        print(f"{lang}: {len(scores)} words, {100 * runs[-1]['correct']:.1f} % correct, AUC {runs[-1]['auc']}", flush=True)
        all_scores += scores
        all_labels += labels
    rel = reliability(all_scores, all_labels)
    pooled = auc(all_scores, all_labels)
    print(f"pooled: {len(all_scores)} words, AUC {pooled}")
    plot(rel, args.out.with_suffix(".png"), f"CTC word confidence (AUC {pooled:.2f})" if pooled else "")
    write_benchmark(args.out, {"runs": runs, "pooled": {"words": len(all_scores),
                                                       "auc": None if pooled is None else round(pooled, 4),
                                                       "reliability": rel},
                               "target": "AUC >= 0.8", "met": pooled is not None and pooled >= 0.8})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
