"""Training checkpoints: atomic, unpickled-free for weights, resumable; and checkpoint averaging.

A checkpoint is a directory (``ckpt-00001200`` every N updates, ``epoch-003``
at the end of an epoch) holding:

* ``model.safetensors``   the model's state dict;
* ``trainer.pt``          optimizer and scheduler state and torch's RNG states
                          (``torch.save``; read back with ``weights_only=True``);
* ``state.json``          step, epoch, sampler position, Python and NumPy RNG
                          states and any other JSON the loop keeps.

It is written into ``<name>.tmp`` and renamed into place (``os.replace``), so
a process killed at any moment leaves either a complete checkpoint or a
``.tmp`` directory that :func:`latest_checkpoint` ignores.

Usage::

    save_checkpoint(ckpt_dir / "ckpt-00000100", model, optimizer, scheduler, {"step": 100, ...})
    path = latest_checkpoint(ckpt_dir)
    state = load_checkpoint(path, model, optimizer, scheduler)    # restores RNGs too
    averaged = average_checkpoints([ckpt_dir / "epoch-008", ckpt_dir / "epoch-009"])
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from asr.models.ctc import cpu_state_dict

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "list_checkpoints",
    "average_checkpoints",
    "prune_checkpoints",
    "rng_state",
    "set_rng_state",
    "MODEL_FILE",
    "TRAINER_FILE",
    "STATE_FILE",
]

MODEL_FILE = "model.safetensors"
TRAINER_FILE = "trainer.pt"
STATE_FILE = "state.json"
TMP_SUFFIX = ".tmp"


def rng_state() -> tuple[dict[str, Any], dict[str, Tensor | list[Tensor]]]:
    """The process's RNG states: ``(json_part, tensor_part)``.

    ``json_part`` holds Python's and NumPy's generators (as lists);
    ``tensor_part`` torch's CPU state and, when CUDA is initialised, every GPU's.
    """
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    json_part = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
    }
    tensors: dict[str, Tensor | list[Tensor]] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["cuda"] = torch.cuda.get_rng_state_all()
    return json_part, tensors


def set_rng_state(json_part: dict[str, Any], tensors: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (missing parts are left alone)."""
    if "python" in json_part:
        version, internal, gauss = json_part["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in json_part:
        kind, keys, pos, has_gauss, cached = json_part["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    if "torch" in tensors:
        torch.set_rng_state(tensors["torch"])
    if "cuda" in tensors and torch.cuda.is_available() and len(tensors["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(tensors["cuda"])


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    state: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory atomically.

    Args:
        path: the checkpoint directory to create (replaced if it exists).
        model: unwrapped module (not the DDP wrapper).
        optimizer, scheduler: their ``state_dict()`` goes to ``trainer.pt``.
        state: JSON-safe loop state (step, epoch, sampler, ...); RNG states
            are added under ``"rng"``.

    Returns:
        ``path``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_file(cpu_state_dict(model), str(tmp / MODEL_FILE), metadata={"format": "pt"})
    rng_json, rng_tensors = rng_state()
    trainer = {
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_tensors,
    }
    torch.save(trainer, tmp / TRAINER_FILE)
    (tmp / STATE_FILE).write_text(json.dumps({**(state or {}), "rng": rng_json}, indent=1) + "\n")
    _fsync_dir(tmp)
    if path.exists():  # re-saving the same checkpoint: move the old one away first
        old = path.with_name(path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    return path


def _fsync_dir(directory: Path) -> None:
    """Flush the files of ``directory`` to disk before the rename makes them visible."""
    for f in directory.iterdir():
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_checkpoint(
    path: str | os.PathLike,
    model: nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    restore_rng: bool = True,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Load a checkpoint into the given objects; nothing is unpickled beyond tensors and containers.

    Args:
        path: a checkpoint directory.
        model: receives ``model.safetensors`` (strict).
        optimizer, scheduler: receive their states from ``trainer.pt``.
        restore_rng: also restore the Python, NumPy and torch RNGs.
        map_location: where the optimizer state's tensors go first (the
            optimizer then moves them to its parameters' device).

    Returns:
        The ``state.json`` dict.
    """
    from asr.weights import load_safetensors

    path = Path(path)
    state = json.loads((path / STATE_FILE).read_text())
    if model is not None:
        model.load_state_dict(load_safetensors(path / MODEL_FILE))
    if optimizer is not None or scheduler is not None or restore_rng:
        trainer = torch.load(path / TRAINER_FILE, map_location=map_location, weights_only=True)
        if optimizer is not None and trainer.get("optimizer") is not None:
            optimizer.load_state_dict(trainer["optimizer"])
        if scheduler is not None and trainer.get("scheduler") is not None:
            scheduler.load_state_dict(trainer["scheduler"])
        if restore_rng:
            set_rng_state(state.get("rng", {}), trainer.get("rng", {}))
    return state


def list_checkpoints(directory: str | os.PathLike, prefix: str | None = None) -> list[Path]:
    """Complete checkpoints under ``directory``, oldest first (by step, then epoch-end last).

    Args:
        prefix: only names starting with it (``"ckpt-"`` or ``"epoch-"``).
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        if not p.is_dir() or p.name.endswith((TMP_SUFFIX, ".old")) or not (p / STATE_FILE).is_file():
            continue
        if prefix is not None and not p.name.startswith(prefix):
            continue
        try:
            state = json.loads((p / STATE_FILE).read_text())
        except (OSError, json.JSONDecodeError):
            continue
        found.append(((int(state.get("step", 0)), bool(state.get("epoch_complete", False)), p.name), p))
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The most advanced complete checkpoint under ``directory`` (``None`` when there is none).

    Most advanced: highest ``step``; at equal steps an end-of-epoch checkpoint
    (``"epoch_complete": true``) wins.
    """
    found = list_checkpoints(directory)
    return found[-1] if found else None


def prune_checkpoints(directory: str | os.PathLike, prefix: str, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints whose names start with ``prefix``."""
    found = list_checkpoints(directory, prefix)
    for p in found[: max(len(found) - keep, 0)]:
        shutil.rmtree(p, ignore_errors=True)


def average_checkpoints(paths: Sequence[str | os.PathLike]) -> dict[str, Tensor]:
    """Element-wise mean of the models in ``paths`` (checkpoint dirs or ``.safetensors`` files).

    Floating tensors are averaged in float64 and cast back; integer tensors
    (counters) are taken from the last checkpoint.

    Returns:
        A state dict for ``model.load_state_dict``.
    """
    from asr.weights import load_safetensors

    if not paths:
        raise ValueError("average_checkpoints needs at least one checkpoint")
    files = [Path(p) / MODEL_FILE if Path(p).is_dir() else Path(p) for p in paths]
    total: dict[str, Tensor] = {}
    last: dict[str, Tensor] = {}
    for f in files:
        sd = load_safetensors(f)
        if total and set(sd) != set(total):
            raise ValueError(f"{f} holds different tensors than {files[0]}")
        for k, v in sd.items():
            last[k] = v
            if v.is_floating_point():
                total[k] = total[k] + v.double() if k in total else v.double()
            else:
                total.setdefault(k, v)
    return {k: (total[k] / len(files)).to(last[k].dtype) if last[k].is_floating_point() else last[k] for k in last}
