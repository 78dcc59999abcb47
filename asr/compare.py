"""Comparing experiments (what ``asr compare`` runs): one table of systems x test sets from experiments' ``results.json``.

Usage:
    asr compare exp/synth                       # -> exp/synth/compare.{md,csv,png}, markdown on stdout
    asr compare exp/a exp/b --out reports/ab    # several experiments, systems prefixed by the experiment name

``results.json`` (written by a recipe's ``score`` stage) maps
``{system: {test_set: {"wer", "cer", "words": {hits, substitutions, deletions, insertions},
"chars": {...}, "num_utterances", "sentence_errors", "decoding": {...}, "rtf", ...}}}``; test sets are
languages for multilingual experiments, so every language gets its own row. Optional per-entry fields
``params`` (model parameters) and ``train_s`` (training seconds) fill the model
size and training time columns, ``decoding`` (search options: beam, LM weight, word penalty or
score) the decoding column, and ``train_hours`` (training audio per test
set's language; the ``all`` row takes their mean) places the entry on a learning curve. A pooled ``all`` row per system is added when it
has several test sets (error counts summed, so it is weighted by words). Fields an older
``results.json`` lacks (``sentence_errors``, ``decoding``) show as ``-``.

The table is sclite's / ESPnet's (``Snt Wrd Corr Sub Del Ins Err S.Err``, rates in % of the
reference words, S.Err in % of sentences) with each count beside its rate::

    | system | test set | decoding | Snt | Wrd | Corr | Sub | Del | Ins | Err | S.Err | CER % | RTF | params | train time |
    | hybrid | test | beam 10, lmwt 1.0, wp 0.0, acwt 0.1 | 10 | 100 | 90.00 (90) | 6.00 (6) | ... |

:func:`environment` and :func:`environment_markdown` say what produced the numbers (package
versions, git commit, date, CPU, GPU); :func:`read_commands` reads an experiment's
``commands.txt`` (the recipe command lines, kept by :func:`asr.recipe.run_recipe`).

Learning curves: ``asr compare --curve EXP_5min EXP_15min ...`` reads one
experiment per training size and plots WER against training hours, one line per
system, marking where one system overtakes another (:func:`crossovers`).
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["Row", "read_results", "decoding_label", "to_markdown", "LEGEND", "write_csv", "plot", "curves",
           "crossovers", "plot_curve", "curve_markdown", "environment", "environment_markdown", "COMMANDS_TXT",
           "read_commands", "commands_markdown"]

COMMANDS_TXT = "commands.txt"  # an experiment's recipe command lines, one per line
ENV_PACKAGES = ("torch", "torchaudio", "numpy", "sentencepiece", "jiwer")


@dataclass(frozen=True)
class Row:
    """One system on one test set. Rates are fractions (0.1 = 10 %); ``None``: not reported.

    Counts: ``sentences`` (Snt), ``sentence_errors`` (sentences with any word error), word
    ``hits`` / ``substitutions`` / ``deletions`` / ``insertions``; ``decoding``: the search
    options as a label (:func:`decoding_label`).
    """

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
    decoding: str | None = None
    sentences: int | None = None
    sentence_errors: int | None = None
    hits: int | None = None
    substitutions: int | None = None
    deletions: int | None = None
    insertions: int | None = None

    @property
    def corr(self) -> float | None:
        """Correct words / reference words."""
        return None if self.hits is None or not self.ref_words else self.hits / self.ref_words

    @property
    def errors(self) -> int | None:
        """Word errors: substitutions + deletions + insertions."""
        counts = (self.substitutions, self.deletions, self.insertions)
        return None if None in counts else sum(counts)

    @property
    def sentence_error_rate(self) -> float | None:
        """Sentences with an error / sentences."""
        return None if self.sentence_errors is None or not self.sentences else self.sentence_errors / self.sentences


_WORD_KEYS = ("hits", "substitutions", "deletions", "insertions")


def _rates(words: dict[str, int] | None) -> tuple[float | None, float | None, float | None, int | None]:
    if not words:
        return None, None, None, None
    n = words.get("hits", 0) + words.get("substitutions", 0) + words.get("deletions", 0)
    if n == 0:
        return None, None, None, 0
    return words["substitutions"] / n, words["deletions"] / n, words["insertions"] / n, n


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def _weight(x: Any) -> str:
    return repr(float(x)) if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def decoding_label(decoding: Mapping[str, Any] | None) -> str | None:
    """A short label of a ``results.json`` entry's ``decoding`` block (``None`` when there is none).

    ``{"search": "greedy"}`` -> ``greedy``; hybrid -> ``beam 10, lmwt 1.0, wp 0.0, acwt 0.1``;
    CTC lexicon + LM -> ``beam 16, lmwt 1.0, ws 0.0``; other searches are named first (``phone, beam 8``).
    """
    if not decoding:
        return None
    search = decoding.get("search")
    parts = [] if search in (None, "word", "lexicon", "beam") else [str(search)]
    for key, name, fmt in (("beam", "beam", _num), ("lm_weight", "lmwt", _weight), ("word_penalty", "wp", _weight),
                           ("word_score", "ws", _weight), ("acoustic_scale", "acwt", _weight)):
        if decoding.get(key) is not None:
            parts.append(f"{name} {fmt(decoding[key])}")
    return ", ".join(parts) or str(search)


def _row(system: str, test_set: str, r: dict[str, Any]) -> Row:
    words = r.get("words")
    sub, dels, ins, n = _rates(words)
    counts = [words.get(k) for k in _WORD_KEYS] if words else [None] * 4
    return Row(system, test_set, float(r["wer"]), r.get("cer"), sub, dels, ins, n, r.get("rtf"),
               r.get("params"), r.get("train_s"), r.get("train_hours"), decoding_label(r.get("decoding")),
               r.get("num_utterances"), r.get("sentence_errors"), *counts)


def _sum(entries: Sequence[dict[str, Any]], key: str) -> int | None:
    """The sum of ``key`` over entries, ``None`` unless every entry has it."""
    values = [e.get(key) for e in entries]
    return None if any(v is None for v in values) else sum(values)


def _pooled(system: str, entries: dict[str, dict[str, Any]]) -> Row | None:
    """The ``all`` row: word and char counts summed over test sets (``None`` if counts are missing)."""
    keys = _WORD_KEYS
    if len(entries) < 2 or not all("words" in e for e in entries.values()):
        return None
    words = {k: sum(e["words"][k] for e in entries.values()) for k in keys}
    sub, dels, ins, n = _rates(words)
    if not n:
        return None
    labels = list(dict.fromkeys(decoding_label(e.get("decoding")) for e in entries.values()))
    decoding = labels[0] if len(labels) == 1 else "; ".join(label or "-" for label in labels)
    cer = None
    if all("chars" in e for e in entries.values()):
        chars = {k: sum(e["chars"][k] for e in entries.values()) for k in keys}
        nc = chars["hits"] + chars["substitutions"] + chars["deletions"]
        cer = (chars["substitutions"] + chars["deletions"] + chars["insertions"]) / nc if nc else None
    rtfs = [e["rtf"] for e in entries.values() if e.get("rtf") is not None]
    first = next(iter(entries.values()))
    hours = [e["train_hours"] for e in entries.values() if e.get("train_hours") is not None]
    return Row(system, "all", sub + dels + ins, cer, sub, dels, ins, n, sum(rtfs) / len(rtfs) if rtfs else None,
               first.get("params"), first.get("train_s"), sum(hours) / len(hours) if len(hours) == len(entries) else None,
               decoding, _sum(list(entries.values()), "num_utterances"), _sum(list(entries.values()), "sentence_errors"),
               *(words[k] for k in keys))


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


def _pct_count(rate: float | None, count: int | None) -> str:
    """``12.34 (45)``: a rate in % and its count (either part left out when unknown, ``-`` if both are)."""
    if rate is None:
        return "-" if count is None else f"- ({count})"
    return _pct(rate) + ("" if count is None else f" ({count})")


def _int(n: int | None) -> str:
    return "-" if n is None else str(n)


LEGEND = ("Corr, Sub, Del, Ins, Err: % of the Wrd reference words (count); Err is the WER, (Sub + Del + Ins) / Wrd. "
          "S.Err: % of the Snt sentences with any word error (count). CER % over characters. "
          "RTF: decoding seconds per audio second.")


def to_markdown(rows: Sequence[Row], legend: bool = True) -> str:
    """A markdown table in sclite's / ESPnet's columns, each rate with its count, then CER, RTF, model size
    and training time; the :data:`LEGEND` below it when ``legend``."""
    lines = [("| system | test set | decoding | Snt | Wrd | Corr | Sub | Del | Ins | Err | S.Err | CER % | RTF | "
              "params | train time |"),
             "|---|---|---|" + "---:|" * 12]
    for r in rows:
        train = "-" if r.train_s is None else f"{r.train_s / 60:.1f} min"
        rtf = "-" if r.rtf is None else f"{r.rtf:.3f}"
        cells = [r.system, r.test_set, r.decoding or "-", _int(r.sentences), _int(r.ref_words),
                 _pct_count(r.corr, r.hits), _pct_count(r.sub, r.substitutions), _pct_count(r.dels, r.deletions),
                 _pct_count(r.ins, r.insertions), _pct_count(r.wer, r.errors),
                 _pct_count(r.sentence_error_rate, r.sentence_errors), _pct(r.cer), rtf, _fmt_params(r.params), train]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + (f"\n{LEGEND}\n" if legend else "")


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


# ---------------------------------------------------------------------------
# What produced the numbers: environment and commands
# ---------------------------------------------------------------------------


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(repo: Path, *args: str) -> str | None:
    """``git -C repo args`` stdout (stripped), ``None`` when git is missing or fails (not a checkout)."""
    try:
        out = subprocess.run(["git", "--no-optional-locks", "-C", str(repo), *args], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def write_benchmark(path: str | os.PathLike, result: Mapping[str, Any]) -> Path:
    """A benchmark's JSON (``tools/benchmarks/*.json``): ``cpu`` and ``cores`` first, then ``result``; prints the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu": cpu_model(), "cores": os.cpu_count(), **result}, indent=2) + "\n")
    print(f"wrote {out}")
    return out


def environment(repo: str | os.PathLike | None = None) -> dict[str, Any]:
    """What the numbers were produced with: ``{"date", "python", "packages": {name: version},
    "git": {"commit", "dirty"} | None, "platform", "cpu", "cores", "gpu": name | None}``.

    Args:
        repo: the git checkout whose commit is noted (default: the one holding the ``asr`` package);
            ``git`` is ``None`` outside a checkout or without git; ``dirty``: tracked files changed.
    """
    import asr

    repo = Path(repo) if repo is not None else Path(asr.__file__).resolve().parent.parent
    packages: dict[str, str | None] = {"asr": getattr(asr, "__version__", None) or _version("asr")}
    packages.update({name: _version(name) for name in ENV_PACKAGES})
    commit = _git(repo, "rev-parse", "--short", "HEAD")
    git = None
    if commit:
        status = _git(repo, "status", "--porcelain", "--untracked-files=no")
        git = {"commit": commit, "dirty": None if status is None else bool(status)}
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
            if torch.cuda.device_count() > 1:
                gpu += f" (x{torch.cuda.device_count()})"
    except (RuntimeError, AssertionError, OSError):  # a broken CUDA setup must not stop a report
        gpu = None
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "python": platform.python_version(), "packages": {k: v for k, v in packages.items() if v},
            "git": git, "platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count(), "gpu": gpu}


def environment_markdown(env: Mapping[str, Any]) -> str:
    """:func:`environment` as a two-column markdown table (missing items left out)."""
    rows = [("date", env.get("date"))]
    git = env.get("git")
    if git:
        dirty = git.get("dirty")
        rows.append(("git commit", git["commit"] + {True: " (dirty)", False: "", None: " (dirty: unknown)"}[dirty]))
    else:
        rows.append(("git commit", "- (not a git checkout)"))
    rows.append(("python", env.get("python")))
    rows += list((env.get("packages") or {}).items())
    rows += [("platform", env.get("platform")), ("CPU", env.get("cpu")), ("CPU cores", env.get("cores")),
             ("GPU", env.get("gpu") or "none")]
    lines = ["| item | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows if v is not None]
    return "\n".join(lines) + "\n"


def read_commands(exp: str | os.PathLike) -> list[str]:
    """The command lines in ``exp/commands.txt`` (``[]`` when there is none)."""
    path = Path(exp) / COMMANDS_TXT
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def commands_markdown(commands: Sequence[str]) -> str:
    """The commands as a fenced ``sh`` code block."""
    return "```sh\n" + "".join(f"{c}\n" for c in commands) + "```\n"
