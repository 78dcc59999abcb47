"""Comparing experiments (what ``asr compare`` runs): one table of systems x test sets from experiments' ``results.json``.

Usage:
    asr compare exp/synth                       # -> exp/synth/compare.{md,csv,png}, markdown on stdout
    asr compare exp/a exp/b --out reports/ab    # several experiments, systems prefixed by the experiment name

``results.json`` (written by a recipe's ``score`` stage) maps
``{system: {test_set: {"wer", "cer", "words": {hits, substitutions, deletions, insertions},
"chars": {...}, "rtf", ...}}}``; test sets are languages for multilingual
experiments, so every language gets its own row. Optional per-entry fields
``params`` (model parameters) and ``train_s`` (training seconds) fill the model
size and training time columns, and ``train_hours`` (training audio per test
set's language; the ``all`` row takes their mean) places the entry on a learning curve. A pooled ``all`` row per system is added when it
has several test sets (error counts summed, so it is weighted by words).

Learning curves: ``asr compare --curve EXP_5min EXP_15min ...`` reads one
experiment per training size and plots WER against training hours, one line per
system, marking where one system overtakes another (:func:`crossovers`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["Row", "read_results", "to_markdown", "write_csv", "plot", "curves", "crossovers", "plot_curve",
           "curve_markdown"]


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
    train_hours: float | None = None


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
               r.get("params"), r.get("train_s"), r.get("train_hours"))


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
    hours = [e["train_hours"] for e in entries.values() if e.get("train_hours") is not None]
    return Row(system, "all", sub + dels + ins, cer, sub, dels, ins, n, sum(rtfs) / len(rtfs) if rtfs else None,
               first.get("params"), first.get("train_s"), sum(hours) / len(hours) if len(hours) == len(entries) else None)


def read_results(exps: Sequence[str | os.PathLike], prefix: bool | None = None) -> list[Row]:
    """Rows of every system and test set of the experiments, in file order.

    Args:
        exps: experiment directories (each with ``results.json``) or ``results.json`` files.
        prefix: name systems ``<experiment>/<system>`` (default: when there are several experiments).

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
            tag = f"{path.parent.name}/" if (len(exps) > 1 if prefix is None else prefix) else ""
            for system, per_set in results.items():
                name = tag + system
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


def curves(rows: Sequence[Row]) -> dict[str, list[tuple[float, float]]]:
    """Learning curves from rows of several training sizes: ``{system: [(train_hours, wer), ...]}``.

    Per system and size the pooled ``all`` row is used when there is one (else
    the single test set); rows without ``train_hours`` are left out. Points are
    sorted by hours; a system name's ``<experiment>/`` prefix is dropped.
    """
    best: dict[tuple[str, float], Row] = {}
    for r in rows:
        if r.train_hours is None:
            continue
        key = (r.system.rsplit("/", 1)[-1], round(r.train_hours, 6))
        if key not in best or r.test_set == "all":
            best[key] = r
    out: dict[str, list[tuple[float, float]]] = {}
    for (system, hours), r in sorted(best.items(), key=lambda kv: kv[0][1]):
        out.setdefault(system, []).append((hours, r.wer))
    return out


def crossovers(curve: dict[str, list[tuple[float, float]]]) -> list[tuple[str, str, float]]:
    """Where one system's WER curve crosses another's: ``[(leader_after, leader_before, hours)]``.

    Between two consecutive sizes both systems were measured at, a change of
    sign of their WER difference is a crossing; its hours are interpolated
    linearly in log(hours). ``leader_after`` is the system with the lower WER
    from that point on.
    """
    found = []
    names = sorted(curve)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            wa, wb = dict(curve[a]), dict(curve[b])
            xs = sorted(set(wa) & set(wb))
            for x0, x1 in zip(xs, xs[1:]):
                d0, d1 = wa[x0] - wb[x0], wa[x1] - wb[x1]
                if d0 * d1 < 0:
                    f = d0 / (d0 - d1)
                    hours = math.exp(math.log(x0) + f * (math.log(x1) - math.log(x0)))
                    found.append((a, b, hours) if d1 < 0 else (b, a, hours))
    return found


def curve_markdown(curve: dict[str, list[tuple[float, float]]]) -> str:
    """A markdown table of WER (%) per system (rows) and training hours (columns), crossovers below."""
    hours = sorted({h for pts in curve.values() for h, _ in pts})
    lines = ["| system | " + " | ".join(f"{h:.3g} h" for h in hours) + " |", "|---|" + "---:|" * len(hours)]
    for system, pts in curve.items():
        wer = dict(pts)
        lines.append(f"| {system} | " + " | ".join(f"{100 * wer[h]:.1f}" if h in wer else "-" for h in hours) + " |")
    cross = crossovers(curve)
    lines.append("")
    lines += [f"{a} overtakes {b} at about {h:.3g} h of training audio" for a, b, h in cross] or \
        ["no crossover within the measured sizes"]
    return "\n".join(lines) + "\n"


def plot_curve(curve: dict[str, list[tuple[float, float]]], path: str | os.PathLike, title: str = "") -> None:
    """WER (%) against training hours (log axis), one line per system, crossovers marked; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    for system, pts in curve.items():
        ax.plot([h for h, _ in pts], [100 * w for _, w in pts], marker="o", label=system)
    for a, b, h in crossovers(curve):
        ax.axvline(h, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"{a} < {b}\nfrom {h:.2g} h", (h, ax.get_ylim()[1]), fontsize="x-small", va="top", ha="left")
    ax.set_xscale("log")
    hours = sorted({h for pts in curve.values() for h, _ in pts})
    ax.set_xticks(hours, [f"{60 * h:.3g} min" if h < 1 else f"{h:.3g} h" for h in hours])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training audio per language (log scale)")
    ax.set_ylabel("WER (%)")
    ax.set_title(title or "learning curves")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
