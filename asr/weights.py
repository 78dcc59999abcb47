"""Reading model weights: safetensors only (nothing is unpickled), with errors that name the file."""

from __future__ import annotations

import math
import os
from pathlib import Path

from asr.errors import InputError

__all__ = ["load_safetensors", "safetensors_numel"]


def load_safetensors(path: str | os.PathLike, device: str = "cpu") -> dict:
    """``{name: Tensor}`` of a safetensors file.

    Raises:
        InputError: no such file, or not a valid safetensors file (a pickle under the name,
            a truncated download, ...): ``PATH: not a valid safetensors file (...)``.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    try:
        return load_file(str(p), device=device)
    except SafetensorError as e:
        raise InputError(f"{p}: not a valid safetensors file ({e})") from None


def safetensors_numel(path: str | os.PathLike) -> int:
    """Elements stored in a safetensors file (read from its header)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    except SafetensorError as e:
        raise InputError(f"{path}: not a valid safetensors file ({e})") from None
