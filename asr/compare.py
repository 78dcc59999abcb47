"""``asr compare``: one table of systems x test sets from experiments' ``results.json``.

Usage:
    asr compare exp/synth                       # -> exp/synth/compare.{md,csv,png}, markdown on stdout
    asr compare exp/a exp/b --out reports/ab    # several experiments, systems prefixed by the experiment name

``results.json`` (written by a recipe's ``score`` stage) maps
``{system: {test_set: {"wer", "cer", "words": {hits, substitutions, deletions, insertions},
"chars": {...}, "rtf", ...}}}``; test sets are languages for multilingual
experiments, so every language gets its own row. Optional per-entry fields
``params`` (model parameters) and ``train_s`` (training seconds) fill the model
size and training time columns. A pooled ``all`` row per system is added when it
has several test sets (error counts summed, so it is weighted by words).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["Row", "read_results", "to_markdown", "write_csv", "plot", "add_compare_arguments", "run_compare"]


@dataclass(frozen=True)
class Row:
    """One system on one test set. Rates are fractions (0.1 = 10 %); ``None``: not reported."""

    system: str
    test_set: str
    wer: float
    cer: float | None
    sub: float | None  # substitutions / reference words
    dels: float | None  # deletions / reference words
    ins: float | None  # insertions / reference words
    ref_words: int | None
    rtf: float | None
    params: int | None
    train_s: float | None


def _rates(words: dict[str, int] | None) -> tuple[float | None, float | None, float | None, int | None]:
    if not words:
        return None, None, None, None
    n = words.get("hits", 0) + words.get("substitutions", 0) + words.get("deletions", 0)
    if n == 0:
        return None, None, None, 0
    return words["substitutions"] / n, words["deletions"] / n, words["insertions"] / n, n


def _row(system: str, test_set: str, r: dict[str, Any]) -> Row:
    sub, dels, ins, n = _rates(r.get("words"))
    return Row(system, test_set, float(r["wer"]), r.get("cer"), sub, dels, ins, n, r.get("rtf"),
               r.get("params"), r.get("train_s"))


def _pooled(system: str, entries: dict[str, dict[str, Any]]) -> Row | None:
    """The ``all`` row: word and char counts summed over test sets (``None`` if counts are missing)."""
    keys = ("hits", "substitutions", "deletions", "insertions")
    if len(entries) < 2 or not all("words" in e for e in entries.values()):
        return None
    words = {k: sum(e["words"][k] for e in entries.values()) for k in keys}
    sub, dels, ins, n = _rates(words)
    if not n:
        return None
    cer = None
    if all("chars" in e for e in entries.values()):
        chars = {k: sum(e["chars"][k] for e in entries.values()) for k in keys}
        nc = chars["hits"] + chars["substitutions"] + chars["deletions"]
        cer = (chars["substitutions"] + chars["deletions"] + chars["insertions"]) / nc if nc else None
    rtfs = [e["rtf"] for e in entries.values() if e.get("rtf") is not None]
    first = next(iter(entries.values()))
    return Row(system, "all", sub + dels + ins, cer, sub, dels, ins, n, sum(rtfs) / len(rtfs) if rtfs else None,
               first.get("params"), first.get("train_s"))


def read_results(exps: Sequence[str | os.PathLike]) -> list[Row]:
    """Rows of every system and test set of the experiments, in file order.

    Args:
        exps: experiment directories (each with ``results.json``) or ``results.json`` files.
            With several, system names become ``<experiment>/<system>``.

    Raises:
        FileNotFoundError: an experiment without ``results.json``.
        ValueError: a malformed ``results.json`` (the message names it).
    """
    rows: list[Row] = []
    for exp in exps:
        path = Path(exp) / "results.json" if Path(exp).is_dir() else Path(exp)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file (run the recipe's score stage first)")
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            prefix = f"{path.parent.name}/" if len(exps) > 1 else ""
            for system, per_set in results.items():
                name = prefix + system
                rows += [_row(name, test_set, r) for test_set, r in per_set.items()]
                pooled = _pooled(name, per_set)
                if pooled is not None:
                    rows.append(pooled)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"{path}: not a results.json of systems x test sets ({type(e).__name__}: {e})") from None
    return rows


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}"


def _fmt_params(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.2f} M"


def to_markdown(rows: Sequence[Row]) -> str:
    """A markdown table: WER, CER, sub/del/ins in %, RTF, model size, training time."""
    lines = ["| system | test set | WER % | CER % | sub % | del % | ins % | RTF | params | train time |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        train = "-" if r.train_s is None else f"{r.train_s / 60:.1f} min"
        rtf = "-" if r.rtf is None else f"{r.rtf:.3f}"
        lines.append(f"| {r.system} | {r.test_set} | {_pct(r.wer)} | {_pct(r.cer)} | {_pct(r.sub)} | "
                     f"{_pct(r.dels)} | {_pct(r.ins)} | {rtf} | {_fmt_params(r.params)} | {train} |")
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[Row], path: str | os.PathLike) -> None:
    """The rows as CSV (rates as fractions, empty cells where not reported)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[fl.name for fl in fields(Row)])
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in asdict(r).items()})


def plot(rows: Sequence[Row], path: str | os.PathLike) -> None:
    """Grouped bars: WER (%) per test set, one bar per system; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(dict.fromkeys(r.system for r in rows))
    sets = list(dict.fromkeys(r.test_set for r in rows))
    wer = {(r.system, r.test_set): 100 * r.wer for r in rows}
    width = 0.8 / max(len(systems), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(sets) + 2), 3.8))
    for k, system in enumerate(systems):
        xs = [i + k * width for i in range(len(sets))]
        ax.bar(xs, [wer.get((system, s), float("nan")) for s in sets], width, label=system)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sets))], sets)
    ax.set_ylabel("WER (%)")
    ax.set_title("systems x test sets")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def add_compare_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``asr compare``'s options to ``parser`` (a subparser); returns it."""
    parser.add_argument("exps", nargs="+", metavar="EXP", help="experiment directories with results.json")
    parser.add_argument("--out", type=Path, default=None,
                        help="write OUT/compare.{md,csv,png} (default: the first EXP)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG chart")
    return parser


def run_compare(args: argparse.Namespace) -> int:
    """Run ``asr compare``: print the markdown table, write md/csv/png; returns 0, or 2 on bad input."""
    try:
        rows = read_results(args.exps)
    except (FileNotFoundError, ValueError) as e:
        print(f"asr compare: error: {e}", file=sys.stderr)
        return 2
    out = args.out or (Path(args.exps[0]) if Path(args.exps[0]).is_dir() else Path(args.exps[0]).parent)
    out.mkdir(parents=True, exist_ok=True)
    table = to_markdown(rows)
    (out / "compare.md").write_text(table + ("" if args.no_plot else "\n![WER](compare.png)\n"), encoding="utf-8")
    write_csv(rows, out / "compare.csv")
    if not args.no_plot:
        plot(rows, out / "compare.png")
    sys.stdout.write(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m asr.compare ...``: the same as ``asr compare ...``."""
    p = argparse.ArgumentParser(prog="asr compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    return run_compare(add_compare_arguments(p).parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
