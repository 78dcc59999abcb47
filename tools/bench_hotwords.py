"""Hotword biasing: recall of the hotwords where they are said, and WER where they are not.

Usage:
    python tools/bench_hotwords.py --model exp/meta/multilingual/runs/ft-full-30min/model --language sw \\
        --test exp/meta/data/sw/test.jsonl --train exp/meta/multilingual/data/sw/train-30min.jsonl

The hotwords are the test transcripts' words that the training transcripts (``--train``) never
hold (the words a user would add); every test utterance is decoded by CTC prefix beam search
(``--beam``) without and with them (``--boost`` per character). Reported: recall of the hotwords in
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--language", default=None)
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--beam", type=int, default=8)
    p.add_argument("--boost", type=float, default=0.5)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "benchmarks" / "hotwords.json")
    args = p.parse_args(argv)
    known = {w for u in read_manifest(args.train) for w in normalize(u.text, u.lang).split()}
    tests = [(u, normalize(u.text, u.lang)) for u in read_manifest(args.test)]
    hot = sorted({w for _, ref in tests for w in ref.split() if w not in known})
    result = {"model": args.model, "hotwords": len(hot), "beam": args.beam, "boost": args.boost, "runs": {}}
    for name, words in (("plain", None), ("hotwords", {w: args.boost for w in hot})):
        rec = asr.load(args.model, language=args.language, beam=args.beam, hotwords=words)
        hyps = {u.id: rec.transcribe(u.audio).text for u, _ in tests}
        said, found = Counter(), Counter()
        for u, ref in tests:
            mine = [w for w in ref.split() if w in hot]
            out = Counter(hyps[u.id].split())
            for w in mine:
                said[w] += 1
            for w, n in Counter(mine).items():
                found[w] += min(n, out[w])
        without = {u.id: ref for u, ref in tests if not any(w in hot for w in ref.split())}
        wer = score(without, {i: hyps[i] for i in without}).words.rate if without else None
        result["runs"][name] = {"recall": round(sum(found.values()) / max(sum(said.values()), 1), 4),
                                "hotword_occurrences": sum(said.values()), "utts_without": len(without),
                                "wer_without": None if wer is None else round(wer, 4)}
        print(name, result["runs"][name], flush=True)
    a, b = result["runs"]["plain"], result["runs"]["hotwords"]
    result["met"] = b["recall"] > a["recall"] and (a["wer_without"] is None or
                                                   b["wer_without"] <= a["wer_without"] * 1.02 + 1e-9)
    write_benchmark(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
