"""``OUT/run_config.json``: what a training run was started with; a resumed run must match it.

Usage::

    save_run_config(out, {"model": cfg.to_dict(), "train": train_cfg.to_dict(), ...}, ctx, fixed=("model",))
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asr.train.distributed import DistContext, barrier

__all__ = ["save_run_config", "RUN_CONFIG"]

log = logging.getLogger("asr.train.loop")  # the name these log lines have always had

RUN_CONFIG = "run_config.json"


def save_run_config(out: Path, config: dict[str, Any], ctx: DistContext, fixed: Sequence[str]) -> None:
    """Write ``config`` (with a ``train`` dict) to ``OUT/run_config.json`` atomically (rank 0).

    A resumed run must agree with the saved one on the ``fixed`` keys; changed
    ``train`` options are allowed and logged.

    Raises:
        ValueError: a ``fixed`` key differs from the saved run's.
    """
    path = out / RUN_CONFIG
    if path.is_file():
        old = json.loads(path.read_text())
        for key in fixed:
            if old.get(key) != config[key]:
                raise ValueError(f"{out} holds a run with a different {key} config; use another output directory")
        changed = sorted(k for k in config["train"] if old.get("train", {}).get(k) != config["train"][k])
        if changed:
            log.warning("resuming %s with changed training options %s", out, changed)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(config, indent=2) + "\n")
        os.replace(tmp, path)
    barrier(ctx)
