"""Hotword biasing: recall of the hotwords where they are said, and WER where they are not.

Usage:
    python tools/bench_hotwords.py --model exp/meta/multilingual/runs/ft-full-30min/model --language sw \\
        --test exp/meta/data/sw/test.jsonl --train exp/meta/multilingual/data/sw/train-30min.jsonl

    python tools/bench_hotwords.py --out tools/benchmarks/hotwords_hybrid.json \
        --run exp/synth/hybrid/en/model,en,exp/synth/data/en/test.jsonl,exp/synth/data/en/train.jsonl ...

The hotwords are the test transcripts' words that the training transcripts (``--train``) never
hold (the words a user would add); every test utterance is decoded (CTC prefix beam search with
``--beam``, else the model directory's own search: a recipe's CTC lexicon + LM, the hybrid search)
without and with them (``--boost`` per character). Reported: recall of the hotwords in
the utterances that hold one, and WER of the utterances that hold none (target, issue 16: recall
rises, WER moves by at most 2 % relative). Writes ``tools/benchmarks/hotwords.json``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import asr
from asr.compare import write_benchmark
from asr.data.manifest import read_manifest
from asr.metrics import score
from asr.text.normalize import normalize


def measure(runs: list[tuple[str, str | None, Path, Path]], beam: int | None, boost: float) -> dict:
    """Recall of the hotwords and WER without them, plain and biased, pooled over ``runs``
    (``(model, language, test manifest, train manifest)``; hotwords per run from its training text)."""
    result: dict = {"runs_measured": [list(map(str, r)) for r in runs], "beam": beam, "boost": boost, "hotwords": 0,
                    "runs": {}}
    per_run = []
    for model, language, test, train in runs:
        known = {w for u in read_manifest(train) for w in normalize(u.text, u.lang).split()}
        tests = [(u, normalize(u.text, u.lang)) for u in read_manifest(test)]
        hot = sorted({w for _, ref in tests for w in ref.split() if w not in known})
        result["hotwords"] += len(hot)
        per_run.append((model, language, tests, hot))
    for name in ("plain", "hotwords"):
        said, found = Counter(), Counter()
        refs, hyps = {}, {}
        for model, language, tests, hot in per_run:
            words = {w: boost for w in hot} if name == "hotwords" else None
            rec = asr.load(model, language=language, beam=beam, hotwords=words)
            out = {u.id: rec.transcribe(u.audio).text for u, _ in tests}
            for u, ref in tests:
                mine = [w for w in ref.split() if w in hot]
                got = Counter(out[u.id].split())
                for w in mine:
                    said[(u.lang, w)] += 1
                for w, n in Counter(mine).items():
                    found[(u.lang, w)] += min(n, got[w])
                if not mine:
                    refs[u.id], hyps[u.id] = ref, out[u.id]
        wer = score(refs, hyps).words.rate if refs else None
        result["runs"][name] = {"recall": round(sum(found.values()) / max(sum(said.values()), 1), 4),
                                "hotword_occurrences": sum(said.values()), "utts_without": len(refs),
                                "wer_without": None if wer is None else round(wer, 4)}
        print(name, result["runs"][name], flush=True)
    a, b = result["runs"]["plain"], result["runs"]["hotwords"]
    result["met"] = b["recall"] > a["recall"] and (a["wer_without"] is None or
                                                   b["wer_without"] <= a["wer_without"] * 1.02 + 1e-9)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model")
    p.add_argument("--language", default=None)
    p.add_argument("--test", type=Path)
    p.add_argument("--train", type=Path)
    p.add_argument("--run", action="append", default=[], metavar="MODEL,LANG,TEST,TRAIN",
                   help="instead of --model/--language/--test/--train, several runs pooled")
    p.add_argument("--beam", type=int, default=None,
                   help="CTC prefix beam size (default: the model directory's search, e.g. its lexicon + LM; "
                        "hybrid: the log-score beam)")
    p.add_argument("--boost", type=float, default=0.5)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "hotwords.json")
    args = p.parse_args(argv)
    runs = [(m, lang or None, Path(t), Path(tr)) for m, lang, t, tr in (r.split(",") for r in args.run)]
    if args.model:
        runs.append((args.model, args.language, args.test, args.train))
    if not runs:
        p.error("give --model/--test/--train or --run")
    write_benchmark(args.out, measure(runs, args.beam, args.boost))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
