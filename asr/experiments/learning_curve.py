"""Learning curves: both systems trained at several amounts of audio, WER against training hours.

End-to-end models are said to need more data than a pipeline with hand-made
parts (phone set, lexicon, HMM). This experiment measures it: for each size in
``minutes`` (training audio per language, nested random subsets of the
training manifests: the 5-minute set lies inside the 10-minute one), it trains
every system from scratch, decodes the full test sets and scores them; then
:mod:`asr.compare` draws WER against hours, one line per system variant, and
marks where one overtakes another.

What is held fixed across sizes: the dev and test sets, the pronunciation
lexicon and the word LMs (trained on all of the training text), the model
configurations. What varies: the acoustic training audio, and the CTC model's
epochs, so every size gets about ``ctc_audio_hours`` of audio presented
(small sets need more passes to converge; ``ctc_min_epochs`` /
``ctc_max_epochs`` bound them).

Layout::

    OUT/<minutes>min/data/<lang>/train.jsonl    the subset (absent when it is the whole set)
    OUT/<minutes>min/{hybrid,ctc}/...           as any experiment (asr.systems)
    OUT/<minutes>min/results.json               with ``train_hours`` per entry
    OUT/curve.md, OUT/curve.png, OUT/curve.json the curve, the crossovers

Usage (the synth recipe's ``curve`` stage)::

    run_learning_curve(exp / "curve", langs, CurveConfig(minutes=(5, 15, 45)), hybrid={}, ctc=CTCSettings())
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from asr.data.manifest import read_manifest, subset_manifest, total_duration
from asr.systems import (
    RESULTS_JSON,
    CTCSettings,
    Experiment,
    LangData,
    decode_systems,
    score_systems,
    train_systems,
)

__all__ = ["CurveConfig", "curve_epochs", "run_learning_curve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurveConfig:
    """The ``curve:`` block of a preset.

    Attributes:
        minutes: training audio per language at each point of the curve.
        langs: languages trained and tested (default: all of the experiment's).
        systems: systems trained at each size.
        seed: picks the nested subsets.
        ctc_audio_hours: audio the CTC model is shown at every size (epochs = this / subset hours).
        ctc_min_epochs, ctc_max_epochs: bounds on those epochs.
    """

    minutes: tuple[float, ...] = (5.0, 15.0, 45.0)
    langs: tuple[str, ...] = ()
    systems: tuple[str, ...] = ("hybrid", "ctc")
    seed: int = 0
    ctc_audio_hours: float = 10.0
    ctc_min_epochs: int = 10
    ctc_max_epochs: int = 200
    hybrid: dict = field(default_factory=dict)  # HybridConfig fields over the recipe's ``hybrid:``
    ctc_train: dict = field(default_factory=dict)  # TrainConfig fields over the recipe's ``ctc: train:``

    def __post_init__(self) -> None:
        if not self.minutes or any(m <= 0 for m in self.minutes):
            raise ValueError(f"curve: minutes must be positive, got {list(self.minutes)}")
        if self.ctc_min_epochs < 1 or self.ctc_max_epochs < self.ctc_min_epochs:
            raise ValueError("curve: need 1 <= ctc_min_epochs <= ctc_max_epochs")


class EpochBudget(Protocol):
    """A config that fixes the audio a CTC model is shown (CurveConfig, VoicesConfig)."""

    ctc_audio_hours: float
    ctc_min_epochs: int
    ctc_max_epochs: int


def curve_epochs(cfg: EpochBudget, train_hours: float) -> int:
    """CTC epochs for ``train_hours`` of audio: ``ctc_audio_hours / train_hours``, rounded up, within the bounds."""
    wanted = math.ceil(cfg.ctc_audio_hours / max(train_hours, 1e-9))
    return int(min(max(wanted, cfg.ctc_min_epochs), cfg.ctc_max_epochs))


def _size_name(minutes: float) -> str:
    return f"{minutes:g}min"


def run_learning_curve(
    out: str | Path,
    langs: Sequence[LangData],
    cfg: CurveConfig,
    hybrid: Mapping[str, Any] | None = None,
    ctc: CTCSettings | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Train, decode and score every system at every size; write the curve table and chart.

    Args:
        out: the experiment's ``curve`` directory.
        langs: the full data of each language (``train`` is subset per size;
            ``dev``, ``tests``, ``lexicon``, LMs are used as they are).
        cfg: sizes and CTC epochs (``cfg.langs`` picks among ``langs``).
        hybrid: the recipe's HybridConfig fields (``cfg.hybrid`` on top).
        ctc: the recipe's CTC settings (``cfg.ctc_train`` on top of its ``train``; epochs per size).
        force: redo sizes whose ``results.json`` exists.

    Returns:
        ``{"curve": {system: [[hours, wer], ...]}, "crossovers": [[after, before, hours], ...],
        "sizes": {name: {"minutes", "train_hours", "ctc_epochs"}}}`` (also ``out/curve.json``).
    """
    from asr.compare import crossovers, curve_markdown, curves, plot_curve, read_results

    out = Path(out)
    chosen = [lang for lang in langs if not cfg.langs or lang.lang in cfg.langs]
    if not chosen:
        raise ValueError(f"curve: none of the languages {list(cfg.langs)} is in the experiment")
    hybrid_cfg = {**dict(hybrid or {}), **cfg.hybrid}
    ctc = ctc or CTCSettings()
    sizes: dict[str, dict[str, Any]] = {}
    for minutes in sorted(cfg.minutes):
        name = _size_name(minutes)
        exp = out / name
        subsets = [dataclasses.replace(lang, train=subset_manifest(
            lang.train, exp / "data" / (lang.name or lang.lang) / "train.jsonl", max_hours=minutes / 60, seed=cfg.seed))
            for lang in chosen]
        hours = {lang.name or lang.lang: total_duration(read_manifest(lang.train)) / 3600 for lang in subsets}
        mean_hours = sum(hours.values()) / len(hours)
        epochs = curve_epochs(cfg, sum(hours.values()))
        sizes[name] = {"minutes": minutes, "train_hours": round(mean_hours, 4), "ctc_epochs": epochs}
        if (exp / RESULTS_JSON).is_file() and not force:
            log.info("curve %s: results exist, skipped", name)
            continue
        if minutes / 60 > 1.05 * mean_hours:
            log.warning("curve %s: only %.1f min of training audio per language available", name, 60 * mean_hours)
        settings = dataclasses.replace(ctc, train={**ctc.train, **cfg.ctc_train, "epochs": epochs})
        xp = Experiment(exp, tuple(subsets), tuple(cfg.systems), hybrid_cfg, settings)
        log.info("curve %s: %.3f h per language, CTC %d epochs", name, mean_hours, epochs)
        train_systems(xp, force)
        decode_systems(xp)
        results = score_systems(xp)
        tests = {t: lang.name or lang.lang for lang in subsets for t in lang.tests}
        for per_test in results.values():
            for test, entry in per_test.items():
                entry["train_hours"] = round(hours[tests[test]], 4)
        (exp / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
    curve = curves(read_results([out / name for name in sizes], prefix=False))
    text = curve_markdown(curve)
    (out / "curve.md").write_text(text + "\n![learning curve](curve.png)\n", encoding="utf-8")
    plot_curve(curve, out / "curve.png", title="learning curves: " + ", ".join(lang.lang for lang in chosen))
    summary = {"curve": {s: [list(p) for p in pts] for s, pts in curve.items()},
               "crossovers": [list(c) for c in crossovers(curve)], "sizes": sizes}
    (out / "curve.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
