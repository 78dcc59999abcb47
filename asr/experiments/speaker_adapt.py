"""Few-shot speaker adaptation: a trained hybrid model adapted to one unseen speaker from N utterances.

For each N of ``counts`` (nested random subsets of the speaker's adaptation pool, the same seed)
and each method, :func:`asr.train.hybrid.finetune_hybrid` adapts the model (its own alignments of
the N transcripts, cross-entropy, one re-alignment round) and the speaker's held-out utterances are
decoded with a fixed word LM; N = 0 is the model as it is. Methods (``layers`` of
:class:`~asr.train.hybrid.HybridFinetuneConfig`, each with its own overrides, e.g. a learning rate):

==========  ======================================================================
``full``    every weight
``head``    the output layer only
``lhuc``    a scale per hidden unit (:mod:`asr.models.lhuc`; a few hundred parameters)
==========  ======================================================================

``run_speaker_adaptation`` writes ``ROOT/results.json`` (one row per run) and returns it;
:func:`speaker_table` and :func:`plot_speaker_adaptation` make the report's table and PNG.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr.config import from_dict
from asr.data.manifest import read_manifest, subset_manifest, total_duration
from asr.systems import decode_hybrid_system, score_hypotheses

log = logging.getLogger(__name__)

__all__ = ["SpeakerAdaptConfig", "run_speaker_adaptation", "speaker_table", "plot_speaker_adaptation",
           "read_speaker_results"]

RESULTS = "results.json"


@dataclass(frozen=True)
class SpeakerAdaptConfig:
    """What the speaker-adaptation runs try.

    Attributes:
        counts: adaptation utterances per run (nested subsets of the pool).
        methods: method -> :class:`~asr.train.hybrid.HybridFinetuneConfig` overrides (``layers``
            defaults to the method's name).
        finetune: overrides common to every method.
        seed: the subsets and the training.
    """

    counts: tuple[int, ...] = (10, 30, 100)
    methods: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {"full": {}, "head": {}, "lhuc": {"lr": 0.01}})
    finetune: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.counts or any(int(n) <= 0 for n in self.counts):
            raise ValueError(f"speaker adaptation: counts must be positive utterance counts, got {list(self.counts)}")
        if not self.methods:
            raise ValueError("speaker adaptation: no methods")
        object.__setattr__(self, "counts", tuple(int(n) for n in self.counts))

    def finetune_config(self, method: str) -> Any:
        """The :class:`~asr.train.hybrid.HybridFinetuneConfig` of one method."""
        from asr.train.hybrid import HybridFinetuneConfig

        values = {"layers": method, "seed": self.seed, **self.finetune, **self.methods[method]}
        return from_dict(HybridFinetuneConfig, values, source=f"speaker adaptation method {method!r}")


def _decode(model: Path, test: Path, lm: Path | None, out: Path) -> dict[str, Any]:
    variants = decode_hybrid_system(model, test, out / "hyp.jsonl", lm=lm)
    hyp, stats = variants["hybrid"]
    return {**score_hypotheses(test, hyp), "rtf": stats.rtf}


def run_speaker_adaptation(root: str | Path, base_model: str | Path, pool: str | Path, test: str | Path,
                           lexicon: str | Path | None, lm: str | Path | None, cfg: SpeakerAdaptConfig,
                           speaker: str = "", force: bool = False) -> dict[str, Any]:
    """Adapt ``base_model`` to one speaker at every N and method; decode the speaker's test utterances.

    Args:
        root: the runs' directory (``ROOT/<N>utt/<method>/model``; a finished run is reused).
        base_model: the trained hybrid model directory.
        pool: the speaker's adaptation utterances (a manifest, at least ``max(counts)`` long to
            honour every N; shorter pools give their all).
        test: the speaker's held-out utterances.
        lexicon, lm: decoding lexicon for the new words and the word LM every run decodes with
            (``None``: the base model's).
        cfg: counts and methods.
        speaker: a name for the report.

    Returns:
        ``{"speaker", "base", "pool_utts", "test_utts", "runs": [{"utts", "minutes", "method", "wer",
        "cer", "train_s", ...}]}`` (also ``ROOT/results.json``).
    """
    from asr.train.hybrid import finetune_hybrid

    root, base_model, pool, test = Path(root), Path(base_model), Path(pool), Path(test)
    root.mkdir(parents=True, exist_ok=True)
    path = root / RESULTS
    done = json.loads(path.read_text()) if path.is_file() and not force else {"runs": []}
    have = {(r["utts"], r["method"]): r for r in done["runs"]}
    head = {"speaker": speaker, "base": str(base_model), "pool_utts": len(read_manifest(pool)),
            "test_utts": len(read_manifest(test))}
    runs: list[dict[str, Any]] = []

    def keep(row: dict[str, Any]) -> None:
        runs.append(row)
        summary = {**head, "runs": runs}
        path.write_text(json.dumps(summary, indent=1) + "\n")

    if (0, "none") in have:
        keep(have[(0, "none")])
    else:
        keep({"utts": 0, "minutes": 0.0, "method": "none", "train_s": 0.0,
              **_decode(base_model, test, lm and Path(lm), root / "0utt")})
    for n in cfg.counts:
        subset = subset_manifest(pool, root / f"{n}utt" / "train.jsonl", max_utts=n, seed=cfg.seed)
        utts = read_manifest(subset)
        minutes = round(total_duration(utts) / 60, 2)
        for method in cfg.methods:
            if (len(utts), method) in have:
                keep(have[(len(utts), method)])
                continue
            run = root / f"{n}utt" / method
            t0 = time.perf_counter()
            finetune_hybrid(base_model, subset, None, run / "model", lexicon, cfg.finetune_config(method))
            train_s = round(time.perf_counter() - t0, 1)
            row = {"utts": len(utts), "minutes": minutes, "method": method, "train_s": train_s,
                   **_decode(run / "model", test, lm and Path(lm), run)}
            log.info("speaker %s: %d utts (%.1f min), %s: WER %.1f %% (%.0f s)", speaker, len(utts), minutes,
                     method, 100 * row["wer"], train_s)
            keep(row)
    return json.loads(path.read_text())


def _rows(result: Mapping[str, Any]) -> tuple[list[int], list[str], dict[tuple[int, str], Mapping[str, Any]]]:
    by = {(r["utts"], r["method"]): r for r in result["runs"]}
    counts = sorted({n for n, _ in by if n})
    methods = list(dict.fromkeys(m for n, m in by if n))
    return counts, methods, by


def _pct(row: Mapping[str, Any]) -> str:
    return f"{100 * row['wer']:.1f} ({100 * row['cer']:.1f})"


def speaker_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """A markdown table: one row per speaker and method, test WER (CER) % per N; N = 0 the unadapted model."""
    lines = []
    for name, result in results.items():
        counts, methods, by = _rows(result)
        if not lines:
            lines += ["| speaker | method | 0 | " + " | ".join(f"{n} utts" for n in counts) + " |",
                      "|---|---|---:|" + "---:|" * len(counts)]
        base = by.get((0, "none"))
        for method in methods:
            cells = [_pct(by[(n, method)]) if (n, method) in by else "-" for n in counts]
            first = _pct(base) if base else "-"
            lines.append(f"| {name} | {method} | {first} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_speaker_adaptation(results: Mapping[str, Mapping[str, Any]], png: str | Path) -> Path:
    """Test WER against adaptation utterances (log scale, N = 0 drawn at 1), one panel per speaker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        counts, methods, by = _rows(results[name])
        base = by.get((0, "none"))
        for method in methods:
            xs = [n for n in counts if (n, method) in by]
            ys = [100 * by[(n, method)]["wer"] for n in xs]
            if base:
                xs, ys = [1, *xs], [100 * base["wer"], *ys]
            ax.plot(xs, ys, marker="o", label=method)
        ax.set_xscale("log")
        ax.set_xticks([1, *counts], ["0", *map(str, counts)])
        ax.set_xlabel("adaptation utterances")
        ax.set_ylabel("test WER (%)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    png = Path(png)
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def read_speaker_results(roots: Sequence[tuple[str, Path]]) -> dict[str, dict[str, Any]]:
    """``{speaker: results.json}`` of the roots that have one (keyed by the speaker the run names, else ``name``)."""
    out = {}
    for name, root in roots:
        if (root / RESULTS).is_file():
            result = json.loads((root / RESULTS).read_text())
            out[result.get("speaker") or name] = result
    return out
