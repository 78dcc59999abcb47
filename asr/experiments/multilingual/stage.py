"""The experiments stage: every configured cell (a finished one is skipped), then the report.

Usage::

    results = run_experiments(data, "exp/ml/multilingual", ExperimentConfig(target="sw"))
    run_synth_experiments("exp/ml", synth_cfg, preset["multilingual"])    # the synth recipe's stage
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asr.experiments.multilingual.cells import _cells
from asr.experiments.multilingual.config import (
    RESULTS,
    RUNS,
    ExperimentConfig,
    LanguageData,
    minutes_label,
    recipe_layout,
)
from asr.experiments.multilingual.data import _write_json, ensure_target_audio, prepare_inputs
from asr.experiments.multilingual.evaluation import Decoders, _train_info
from asr.experiments.multilingual.report import write_report

__all__ = ["run_experiments", "run_synth_experiments"]

log = logging.getLogger(__package__)  # one logger for the experiment package: asr.experiments.multilingual


def run_experiments(
    data: Mapping[str, LanguageData], out_dir: str | Path, cfg: ExperimentConfig, force: bool = False
) -> dict[str, Any]:
    """Run every configured cell (skipping those whose JSON exists), then write the report.

    Args:
        data: language -> manifests and lexicon, the target and the sources.
        out_dir: everything goes here (see the module docstring).
        cfg: what to run.
        force: recompute every cell's JSON (finished training runs are kept; delete
            ``OUT/runs/<run>`` to retrain one).

    Returns:
        ``OUT/results.json``'s content: ``{"config", "target", "sources", "subset_minutes",
        "cells": {name: cell}, "runs": {run: training summary}, "wall_s"}``.
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    inp = prepare_inputs(data, out, cfg)
    decoders = Decoders(cfg)
    cells: dict[str, Any] = {}
    for name, fn in _cells(inp):
        path = out / RESULTS / f"{name}.json"
        if path.exists() and not force:
            log.info("multilingual %s: done (%s), skipped", name, path)
            cells[name] = json.loads(path.read_text())
            continue
        t1 = time.perf_counter()
        log.info("multilingual %s ...", name)
        result = fn(decoders)
        if result is None:
            continue
        result["cell_s"] = round(time.perf_counter() - t1, 2)
        _write_json(path, result)
        cells[name] = result
        log.info("multilingual %s: %s (%.0f s)", name, _brief(result), result["cell_s"])
    runs = {}
    for summary_path in sorted((out / RUNS).glob("*/train_summary.json")):
        runs[summary_path.parent.name] = _train_info(json.loads(summary_path.read_text()))
    results = {"config": dataclasses.asdict(cfg), "target": inp.target, "sources": inp.sources,
               "subset_minutes": {minutes_label(m): v for m, v in inp.subset_minutes.items()},
               "cells": cells, "runs": runs, "wall_s": round(time.perf_counter() - t0, 1)}
    _write_json(out / "results.json", results)
    write_report(results, out)
    return results


def _brief(cell: Mapping[str, Any]) -> str:
    if "lm" in cell and "greedy" in cell:
        return (f"WER {100 * cell['lm']['wer']:.1f}% (LM) / CER {100 * cell['greedy']['cer']:.1f}% (greedy)")
    return "done"


def run_synth_experiments(exp: str | Path, synth_cfg: Any, settings: Mapping[str, Any],
                          force: bool = False) -> dict[str, Any] | None:
    """The synth recipe's ``multilingual`` stage: ``EXP/data`` + ``EXP/corpus`` -> ``EXP/multilingual``.

    Args:
        exp: the recipe's experiment directory (after its prepare stage).
        synth_cfg: the :class:`~asr.data.synth.SynthConfig` of the prepared corpus.
        settings: the preset's ``multilingual:`` block (:class:`ExperimentConfig` fields).
        force: recompute every cell.

    Returns:
        The results (:func:`run_experiments`), or ``None`` for an empty block.
    """
    from asr.config import from_dict

    if not settings:
        log.info("multilingual: the preset has no multilingual block; nothing to do")
        return None
    exp = Path(exp)
    cfg = from_dict(ExperimentConfig, dict(settings), source="multilingual")
    langs = [*(cfg.sources or [lang for lang in synth_cfg.langs if lang != cfg.target]), cfg.target]
    data = recipe_layout(exp / "data", exp / "corpus", langs)
    out = exp / "multilingual"
    data[cfg.target] = ensure_target_audio(data[cfg.target], cfg.target, max(cfg.sizes), synth_cfg,
                                           out / "corpus")
    results = run_experiments(data, out, cfg, force=force)
    print((out / "report.md").read_text())
    return results
