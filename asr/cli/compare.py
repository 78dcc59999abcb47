"""``asr compare EXP [EXP ...]``: one table, CSV and chart of every system x test set of the experiments.

Usage:
    asr compare exp/synth exp/an4                 # prints the markdown table; writes exp/synth/compare.{md,csv,png}
    asr compare exp/synth --markdown              # prints all of compare.md: table, commands, environment
    asr compare exp/curve/* --curve --out exp/curve    # also curve.{md,png}: WER against training hours

compare.md holds the table (Snt Wrd Corr Sub Del Ins Err S.Err, each rate with its count, and the
decoding options per row), the experiments' recipe commands (EXP/commands.txt) and the environment
(package versions, git commit, date, CPU, GPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asr.errors import InputError, run_main
from asr.compare import (
    commands_markdown,
    curve_markdown,
    curves,
    environment,
    environment_markdown,
    plot,
    plot_curve,
    read_commands,
    read_results,
    to_markdown,
    write_csv,
)

__all__ = ["add_compare_arguments", "run_compare", "main"]


def add_compare_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``asr compare``'s options to ``parser`` (a subparser); returns it."""
    parser.add_argument("exps", nargs="+", metavar="EXP", help="experiment directories with results.json")
    parser.add_argument("--out", type=Path, default=None,
                        help="write OUT/compare.{md,csv,png} (default: the first EXP)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG chart")
    parser.add_argument("--markdown", action="store_true",
                        help="print all of compare.md (table, commands, environment), not only the table")
    parser.add_argument("--curve", action="store_true",
                        help="the EXPs are one system set at several training sizes: also write "
                             "curve.{md,png} (WER against training hours, crossovers marked)")
    return parser


def run_compare(args: argparse.Namespace) -> int:
    """Run ``asr compare``: print the markdown table, write md/csv/png; returns 0 (bad results raise
    a ``ValueError`` naming the file: :func:`asr.errors.run_main` makes it one line, exit 1)."""
    rows = read_results(args.exps)
    out = args.out or (Path(args.exps[0]) if Path(args.exps[0]).is_dir() else Path(args.exps[0]).parent)
    out.mkdir(parents=True, exist_ok=True)
    table = to_markdown(rows)
    text = table + ("" if args.no_plot else "\n![WER](compare.png)\n") + _provenance(args.exps)
    (out / "compare.md").write_text(text, encoding="utf-8")
    write_csv(rows, out / "compare.csv")
    if not args.no_plot:
        plot(rows, out / "compare.png")
    sys.stdout.write(text if args.markdown else table)
    if args.curve:
        curve = curves(read_results(args.exps, prefix=False))
        if not curve:
            raise InputError(f"{', '.join(map(str, args.exps))}: --curve needs results with train_hours")
        text = curve_markdown(curve)
        (out / "curve.md").write_text(text + ("" if args.no_plot else "\n![learning curve](curve.png)\n"),
                                      encoding="utf-8")
        if not args.no_plot:
            plot_curve(curve, out / "curve.png")
        sys.stdout.write("\n" + text)
    return 0


def _provenance(exps: list[str]) -> str:
    """Markdown: the experiments' recipe commands (``EXP/commands.txt``, if any), then the environment."""
    dirs = [Path(e) if Path(e).is_dir() else Path(e).parent for e in exps]
    commands: list[str] = []
    for d in dirs:
        lines = read_commands(d)
        if lines and len(dirs) > 1:
            commands.append(f"# {d}")
        commands += lines
    text = "\n## Commands\n\n" + commands_markdown(commands) if commands else ""
    return text + "\n## Environment\n\n" + environment_markdown(environment())


def main(argv: list[str] | None = None) -> int:
    """``python -m asr.cli.compare ...``: the same as ``asr compare ...``."""
    p = argparse.ArgumentParser(prog="asr compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    args = add_compare_arguments(p).parse_args(argv)
    return run_main("asr compare", lambda: run_compare(args))


if __name__ == "__main__":
    raise SystemExit(main())
