"""The command line every recipe shares: presets, ``--stage`` / ``--stop-stage``, errors.

A recipe (``recipes/<corpus>/run.py``) is a config dataclass, stage functions
and one call::

    def main(argv=None) -> int:
        return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS,
                          corpus_help="the directory holding LibriSpeech/")

Stage functions take ``(cfg, exp, force=...)``, or ``(cfg, exp, corpus, force=...)``
when the recipe reads a downloaded corpus (``corpus_help`` given). The ``decode``,
``score`` and ``report`` stages are the same in every corpus recipe
(:func:`system_stages`); :func:`write_report` writes ``EXP/report.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from asr.config import apply_overrides, from_dict, load_yaml
from asr.errors import UsageError, run_main
from asr.systems import RESULTS_JSON, Experiment, decode_systems, score_systems

__all__ = ["run_recipe", "read_stage_times", "not_implemented", "need_corpus", "prepared", "results_section", "write_report",
           "system_stages"]

log = logging.getLogger("asr.recipe")



def need_corpus(corpus: Path | None, what: str) -> Path:
    """``corpus``, or a clear error naming what ``--corpus`` should point at."""
    if corpus is None:
        raise UsageError(f"the prepare stage needs --corpus PATH ({what})")
    return corpus


def prepared(exp: Path, force: bool) -> bool:
    """Whether the prepare stage already ran (``exp/data/summary.json``) and may be skipped."""
    summary = exp / "data" / "summary.json"
    if summary.exists() and not force:
        log.info("prepare: %s exists, skipped (--force redoes it)", summary)
        return True
    return False


def not_implemented(stage: str) -> Callable[..., None]:
    """A stage this recipe does not have yet: it fails with a message saying so."""

    def run(cfg: Any, exp: Path, *args: Any, force: bool = False) -> None:
        raise UsageError(
            f"stage {stage!r} is not implemented in this recipe yet (only 'prepare' is); "
            f"run with --stop-stage prepare, then train on {exp}/data/*.jsonl with 'asr train' (see README.md)")

    return run


def run_recipe(
    argv: Sequence[str] | None,
    description: str | None,
    conf_dir: Path,
    config_cls: type,
    stages: dict[str, Callable[..., None]],
    corpus_help: str | None = None,
) -> int:
    """Parse the recipe's arguments and run its stages in order; returns the exit code.

    The command line (``python <recipe> <args>``, the recipe's path relative to the working
    directory) is appended to ``EXP/commands.txt`` unless it is there already; the report lists it.

    Args:
        argv: arguments (default ``sys.argv[1:]``).
        description: the recipe's docstring (its ``Usage:`` block), shown by ``--help``.
        conf_dir: where ``<preset>.yaml`` files live.
        config_cls: the recipe's config dataclass (unknown keys are errors naming the file).
        stages: stage name -> function, in running order.
        corpus_help: for recipes over a downloaded corpus: what ``--corpus`` is.
    """
    names = tuple(stages)
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    if corpus_help is not None:
        p.add_argument("--corpus", type=Path, default=None, help=corpus_help)
    p.add_argument("--exp", type=Path, required=True, help="experiment directory (everything goes here)")
    p.add_argument("--preset", default="default", help="conf/<preset>.yaml")
    p.add_argument("--config", type=Path, default=None, help="a config file instead of a preset")
    p.add_argument("--stage", choices=names, default=names[0])
    p.add_argument("--stop-stage", choices=names, default=names[-1])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value of the preset (YAML; dotted keys reach into blocks: "
                        "--set engines=[espeak,mbrola] --set ctc.train.lr=0.001); repeatable")
    p.add_argument("--force", action="store_true", help="redo stages whose outputs exist")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    extra = (args.corpus,) if corpus_help is not None else ()

    def body() -> int:
        try:
            path = args.config or conf_dir / f"{args.preset}.yaml"
            cfg = from_dict(config_cls, apply_overrides(load_yaml(path), args.set),
                            source=f"{path} with --set {' '.join(args.set)}" if args.set else str(path))
        except (OSError, ValueError) as e:  # a preset that is not there or holds a bad key: a usage error
            raise UsageError(str(e)) from None
        args.exp.mkdir(parents=True, exist_ok=True)
        _record_command(args.exp, conf_dir, argv)
        first, last = names.index(args.stage), names.index(args.stop_stage)
        for name in names[first : last + 1]:
            log.info("stage %s", name)
            t0 = time.perf_counter()
            stages[name](cfg, args.exp, *extra, force=args.force)
            _record_stage_time(args.exp, name, time.perf_counter() - t0)
        return 0

    return run_main(conf_dir.parent.name, body)  # one line on stderr; exit 1 a failed input, 2 a usage error


STAGE_TIMES_JSON = "stage_times.json"


def _record_stage_time(exp: Path, stage: str, seconds: float) -> None:
    """Log a stage's wall time and keep its latest run's in ``exp/stage_times.json`` (stage -> seconds)."""
    times = read_stage_times(exp)
    times[stage] = round(seconds, 1)
    (exp / STAGE_TIMES_JSON).write_text(json.dumps(times, indent=1) + "\n")
    log.info("stage %s: %.1f s", stage, seconds)


def read_stage_times(exp: str | os.PathLike) -> dict[str, float]:
    """``exp/stage_times.json``: each stage's wall seconds in its latest run ({} when none ran)."""
    path = Path(exp) / STAGE_TIMES_JSON
    return json.loads(path.read_text()) if path.is_file() else {}


def _record_command(exp: Path, conf_dir: Path, argv: Sequence[str] | None) -> None:
    """Append ``python <recipe> <args>`` to ``exp/commands.txt`` unless it is there already."""
    import shlex

    from asr.compare import COMMANDS_TXT, read_commands

    if argv is None and sys.argv and Path(sys.argv[0]).is_file():
        script, args = Path(sys.argv[0]), sys.argv[1:]
    else:
        script, args = conf_dir.parent / "run.py", list(sys.argv[1:] if argv is None else argv)
    try:
        shown = os.path.relpath(script.resolve(), Path.cwd())
    except ValueError:  # another drive (Windows)
        shown = str(script.resolve())
    line = " ".join(["python", shlex.quote(shown), *map(shlex.quote, map(str, args))])
    if line not in read_commands(exp):
        with open(exp / COMMANDS_TXT, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def results_section(exp: str | os.PathLike, notes: Sequence[str] = ()) -> list[str]:
    """Report lines for ``exp/results.json``: every system x test set (:mod:`asr.compare`'s table),
    its chart ``exp/results.png`` and ``exp/results.csv`` (both written), then ``notes``."""
    from asr.compare import plot, read_results, to_markdown, write_csv

    exp = Path(exp)
    if not (exp / RESULTS_JSON).is_file():
        return ["No system results yet (run the score stage)."]
    rows = read_results([exp])
    plot(rows, exp / "results.png")
    write_csv(rows, exp / "results.csv")
    return ["## Every system and test set", "", to_markdown(rows), "![WER per test set](results.png)", "",
            *notes]


def write_report(exp: str | os.PathLike, title: str, notes: Sequence[str] = (),
                 commands: Sequence[str] | None = None) -> str:
    """``exp/report.md``: the corpus (``exp/data/summary.json``), every system x test set
    (:mod:`asr.compare`: also ``results.csv`` and the chart ``results.png``), the commands that
    produced it and the environment (:func:`asr.compare.environment`); returns the text.

    Args:
        exp: the experiment directory.
        title: the report's heading.
        notes: markdown lines put after the results table (what the numbers mean).
        commands: command lines listed after those of ``exp/commands.txt`` (kept by :func:`run_recipe`).
    """
    from asr.compare import commands_markdown, environment, environment_markdown, read_commands

    exp = Path(exp)
    lines = [f"# {title}", ""]
    summary_path = exp / "data" / "summary.json"
    if summary_path.is_file():
        summary = {k: v for k, v in json.loads(summary_path.read_text()).items() if isinstance(v, dict) and "utts" in v}
        lines += ["## Corpus", "", "| split | utts | hours | speakers |", "|---|---:|---:|---:|"]
        lines += [f"| {split} | {s['utts']} | {s['hours']:.2f} | {s.get('speakers', '-')} |"
                  for split, s in summary.items()]
        lines.append("")
    lines += results_section(exp, notes)
    listed = list(dict.fromkeys([*read_commands(exp), *(commands or ())]))
    if listed:
        lines += ["", "## Commands", "", commands_markdown(listed).rstrip()]
    lines += ["", "## Environment", "", environment_markdown(environment()).rstrip()]
    text = "\n".join(lines).rstrip() + "\n"
    (exp / "report.md").write_text(text, encoding="utf-8")
    return text


def system_stages(experiment: Callable[[Any, Path], Experiment], title: str | Callable[[Any, Path], str],
                  notes: Sequence[str] | Callable[[Any, Path], Sequence[str]] = ()) -> dict[str, Callable[..., None]]:
    """The ``decode``, ``score`` and ``report`` stages a corpus recipe shares, for :func:`asr.recipe.run_recipe`.

    Args:
        experiment: the recipe's ``(config, exp) -> Experiment``.
        title: the report's heading, or ``(cfg, exp) -> heading``.
        notes: markdown lines put under the results table (what the numbers mean), or ``(cfg, exp) -> lines``.

    Returns:
        ``{"decode": ..., "score": ..., "report": ...}``, each ``(cfg, exp, corpus=None, force=False)``.
    """

    def decode(cfg: Any, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
        """Decode every test set with every system -> ``exp/decode.json``."""
        decode_systems(experiment(cfg, exp))

    def score(cfg: Any, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
        """WER / CER of every system -> ``exp/results.json``."""
        score_systems(experiment(cfg, exp))

    def report(cfg: Any, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
        """``exp/report.md`` (corpus, results table and chart); printed."""
        heading = title(cfg, exp) if callable(title) else title
        print(write_report(exp, heading, notes(cfg, exp) if callable(notes) else notes))

    return {"decode": decode, "score": score, "report": report}
