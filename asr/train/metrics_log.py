"""The training metrics: ``metrics.csv`` rows, TensorBoard scalars, and the curves they plot.

:class:`MetricsLog` appends one row per ``train`` window and per validation
(:data:`METRICS_FIELDS`), flushed one at a time, and cuts the file back to a
checkpoint's row count on resume; :func:`read_metrics` reads it back and
:func:`plot_curves` draws ``curves.png`` from it.

Usage::

    metrics = MetricsLog(out / METRICS_CSV)
    metrics.truncate(0)                                   # fresh start (or a checkpoint's row count)
    metrics.append(step=10, epoch=0, split="train", loss=2.31, lr=1e-3)
    plot_curves(out / METRICS_CSV, out / CURVES_PNG)
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

__all__ = ["MetricsLog", "read_metrics", "plot_curves", "METRICS_FIELDS", "METRICS_CSV", "CURVES_PNG",
           "PLOT_INTERVAL_S"]

METRICS_CSV = "metrics.csv"
CURVES_PNG = "curves.png"
PLOT_INTERVAL_S = 300.0  # redraw curves.png at an epoch's end if the last drawing is older (and at the end)
METRICS_FIELDS = ("step", "epoch", "split", "loss", "wer", "cer", "lr", "grad_norm", "audio_s_per_s", "elapsed_s")


class MetricsLog:
    """Rows of ``metrics.csv`` (:data:`METRICS_FIELDS`), appended and flushed one at a time.

    :meth:`truncate` cuts the file back to a checkpoint's row count on resume,
    which also drops a half-written last line left by a killed process.

    When the ``tensorboard`` package is installed (and ``tensorboard`` is
    true), every numeric field also goes to TensorBoard under
    ``<dir of path>/tensorboard`` as ``<split>/<field>`` at ``step``; a resume
    purges the events past the checkpoint, like the CSV.
    """

    def __init__(self, path: Path, enabled: bool = True, tensorboard: bool = True):
        self.path = path
        self.enabled = enabled
        self.rows = 0
        self.last_loss = float("nan")
        self._tb_wanted = tensorboard and enabled
        self._tb = None  # SummaryWriter, made at the first row
        self._purge_step: int | None = None

    def _writer(self) -> Any:
        if self._tb is None and self._tb_wanted:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed: the CSV only
                self._tb_wanted = False
                return None
            self._tb = SummaryWriter(log_dir=str(self.path.parent / "tensorboard"), purge_step=self._purge_step)
        return self._tb

    def close(self) -> None:
        """Flush and close the TensorBoard writer (the CSV is flushed row by row)."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def truncate(self, rows: int) -> None:
        """Keep the header and the first ``rows`` rows (create the file if needed)."""
        self.rows = rows
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = self.path.read_text().splitlines(keepends=True) if self.path.is_file() else []
        kept = lines[1 : rows + 1]
        if len(kept) < rows or any(not line.endswith("\n") for line in kept):
            raise ValueError(f"{self.path} has fewer complete rows than the checkpoint recorded ({rows})")
        tmp = self.path.with_name(self.path.name + ".part")
        tmp.write_text(",".join(METRICS_FIELDS) + "\n" + "".join(kept))
        os.replace(tmp, self.path)
        if kept:
            self._purge_step = int(kept[-1].split(",", 1)[0]) + 1

    def append(self, **row: Any) -> None:
        """Write one row (missing fields empty; floats with 6 significant digits)."""
        self.rows += 1
        if row.get("split") == "train":
            self.last_loss = float(row["loss"])
        if not self.enabled:
            return
        cells = [_cell(row.get(f)) for f in METRICS_FIELDS]
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(",".join(cells) + "\n")
            f.flush()
        tb = self._writer()
        if tb is not None:
            for name in METRICS_FIELDS[3:]:
                value = row.get(name)
                if isinstance(value, (int, float)):
                    tb.add_scalar(f"{row.get('split')}/{name}", value, global_step=int(row["step"]))
            tb.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a ``metrics.csv`` with numbers parsed (empty cells are ``None``)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.append({k: (v if k == "split" else (float(v) if v else None)) for k, v in row.items()})
    return rows


def plot_curves(csv_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Training curves: train and dev loss by update (left), dev WER (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(csv_path)
    train = [(r["step"], r["loss"]) for r in rows if r["split"] == "train"]
    dev = [(r["step"], r["loss"], r["wer"]) for r in rows if r["split"] == "dev"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    if train:
        ax1.plot(*zip(*train), label="train", lw=1)
    if dev:
        ax1.plot([d[0] for d in dev], [d[1] for d in dev], "o-", label="dev")
        ax2.plot([d[0] for d in dev], [100 * d[2] for d in dev], "o-", color="C1")
    ax1.set_xlabel("update")
    ax1.set_ylabel("CTC loss (per label)")
    ax1.set_yscale("log")
    ax1.legend()
    ax2.set_xlabel("update")
    ax2.set_ylabel("dev WER (%)")
    fig.tight_layout()
    tmp = Path(str(png_path) + ".part.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, png_path)
