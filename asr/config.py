"""YAML configs (values only) mapped onto typed dataclasses.

A config file holds ``key: value`` pairs; which keys exist and their types is
decided by the dataclass it fills, so a typo is an error that names the file
and the key rather than a silently ignored setting. A field whose type is
itself a dataclass takes a nested block of its own ``key: value`` pairs
(checked the same way), e.g. ``ModelConfig.features``.

A file may start from another: ``base: default.yaml`` (a path relative to the
file) reads that one first, and this file's keys go over it, nested mappings
key by key (a preset that changes one value of a block says only that value).

Usage::

    cfg = load_config(TrainConfig, "conf/train.yaml", epochs=3)     # file values, then overrides
    cfg = from_dict(ModelConfig, {"d_model": 96, "features": {"num_mel_bins": 40}}, source="model")
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

__all__ = ["load_yaml", "from_dict", "load_config", "save_config", "positive_int", "nonnegative_int", "positive_float",
           "nonnegative_float", "fraction", "finite_float"]


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; mappings in both are merged key by key, anything else replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def load_yaml(path: str | os.PathLike, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a YAML mapping; an empty file is ``{}``; ``base: FILE`` (a string) is read first and merged
    under it. Errors name the file."""
    p = Path(path)
    if p.resolve() in _seen:
        raise ValueError(f"{p}: 'base' includes form a cycle ({' -> '.join(map(str, _seen))})")
    data = _read_yaml(p)
    base = data.get("base")
    if isinstance(base, str):
        rest = {k: v for k, v in data.items() if k != "base"}
        return _merge(load_yaml(p.parent / base, (*_seen, p.resolve())), rest)
    return data


def _read_yaml(p: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such config file") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{p}: not valid YAML ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{p}: a config must be a mapping of key: value, got {type(data).__name__}")
    return data


def _coerce(value: Any, tp: Any, where: str) -> Any:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(value, Mapping):
        return from_dict(tp, dict(value), where)  # a nested dataclass field, e.g. ModelConfig.features
    origin = typing.get_origin(tp)
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], where) for v in value)
        return tuple(_coerce(v, a, where) for v, a in zip(value, args))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ValueError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def from_dict(cls: type[T], data: Mapping[str, Any], source: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys and wrong types raise ``ValueError``.

    Lists become tuples where the field is a tuple; a mapping given for a dataclass-typed
    field builds that dataclass the same way (errors name the nested key, ``source: field: key``).
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {unknown} for {cls.__name__}; known: {sorted(names)}")
    kwargs = {k: _coerce(v, hints[k], f"{source}: {k}") for k, v in data.items()}
    return cls(**kwargs)


def apply_overrides(data: Mapping[str, Any], pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs on top of ``data`` (a recipe's ``--set``): ``KEY`` dotted into nested blocks
    (``ctc.train.lr=0.001``), ``VALUE`` read as YAML (``engines=[espeak,mbrola]``, ``hours=0.5``).

    Raises:
        ValueError: a pair without ``=`` or with an empty key.
    """
    out = dict(data)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE (KEY may be dotted: ctc.train.lr=0.001)")
        try:
            value: Any = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise ValueError(f"--set {pair!r}: the value is not YAML ({str(e).splitlines()[0]})") from None
        first, *rest = key.strip().split(".")
        for part in reversed(rest):
            value = {part: value}
        out = _merge(out, {first: value})
    return out


def load_config(cls: type[T], path: str | os.PathLike, **overrides: Any) -> T:
    """``from_dict(cls, load_yaml(path) | overrides)``."""
    return from_dict(cls, {**load_yaml(path), **overrides}, source=str(path))


def _plain(value: Any) -> Any:
    """Tuples (at any depth) as lists, for YAML."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save_config(obj: Any, path: str | os.PathLike) -> None:
    """Write a dataclass as YAML (tuples become lists; a nested dataclass field a nested block)."""
    data = _plain(dataclasses.asdict(obj))
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


# ---------------------------------------------------------------------------
# Numeric command-line options: argparse types that refuse what cannot work (exit 2, the option named)
# ---------------------------------------------------------------------------


def _number(value: str, kind: type) -> Any:
    import argparse
    import math

    try:
        x = kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not {'an integer' if kind is int else 'a number'}") from None
    if isinstance(x, float) and not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
    return x


def _bounded(kind: type, low: float, strict: bool, value: str) -> Any:
    import argparse

    x = _number(value, kind)
    if x < low or (strict and x == low):
        raise argparse.ArgumentTypeError(f"{value}: must be {'>' if strict else '>='} {low:g}")
    return x


def positive_int(value: str) -> int:
    """An integer >= 1."""
    return _bounded(int, 1, False, value)


def nonnegative_int(value: str) -> int:
    """An integer >= 0."""
    return _bounded(int, 0, False, value)


def positive_float(value: str) -> float:
    """A finite number > 0."""
    return _bounded(float, 0.0, True, value)


def nonnegative_float(value: str) -> float:
    """A finite number >= 0."""
    return _bounded(float, 0.0, False, value)


def fraction(value: str) -> float:
    """A number in [0, 1]."""
    import argparse

    x = nonnegative_float(value)
    if x > 1.0:
        raise argparse.ArgumentTypeError(f"{value}: must be in [0, 1]")
    return x


def finite_float(value: str) -> float:
    """Any finite number (weights and scores may be negative)."""
    return _number(value, float)
