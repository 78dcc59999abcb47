"""Name -> factory registries: encoders, decoders, LR schedules (heads later).

A factory is registered under a *kind* and a *name*; configs store the name
and :func:`build` turns it into an object, so no code needs an
``if name == ...`` ladder.

Usage::

    @register("encoder", "conformer")
    class ConformerEncoder(nn.Module): ...

    encoder = build("encoder", "conformer", input_dim=80, d_model=144)
    names("encoder")                           # ['blstm', 'conformer']

The built-in factories of a kind live in a known module (:data:`PROVIDERS`),
imported on first use, so ``build("encoder", ...)`` works without importing
:mod:`asr.models.encoders` first.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["register", "build", "lookup", "names", "kinds", "PROVIDERS", "RegistryError"]

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}  # kind -> name -> factory

# kind -> modules whose import registers the built-in factories of that kind
PROVIDERS: dict[str, tuple[str, ...]] = {
    "encoder": ("asr.models.encoders",),
    "decoder": ("asr.decoding.greedy", "asr.decoding.ctc_beam", "asr.decoding.ctc_lexicon"),
    "schedule": ("asr.train.optim",),
}


class RegistryError(ValueError):
    """Unknown kind or name, or a name registered twice."""


def register(kind: str, name: str) -> Callable[[F], F]:
    """Decorator: make ``factory`` buildable as ``build(kind, name, ...)``.

    Raises:
        RegistryError: ``name`` is already taken by another factory of ``kind``.
    """

    def wrap(factory: F) -> F:
        table = _REGISTRY.setdefault(kind, {})
        old = table.get(name)
        if old is not None and _qualname(old) != _qualname(factory):
            raise RegistryError(f"{kind} {name!r} is already registered to {_qualname(old)}")
        table[name] = factory
        return factory

    return wrap


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _load_providers(kind: str) -> None:
    for module in PROVIDERS.get(kind, ()):
        importlib.import_module(module)


def lookup(kind: str, name: str) -> Callable[..., Any]:
    """The factory registered as ``(kind, name)``.

    Raises:
        RegistryError: unknown kind or name; the message lists the known ones.
    """
    _load_providers(kind)
    if kind not in _REGISTRY:
        raise RegistryError(f"unknown registry kind {kind!r}; known kinds: {', '.join(kinds()) or '(none)'}")
    table = _REGISTRY[kind]
    if name not in table:
        raise RegistryError(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(table)) or '(none)'}")
    return table[name]


def build(kind: str, name: str, /, **kwargs: Any) -> Any:
    """Call the factory registered as ``(kind, name)`` with ``kwargs``.

    Raises:
        RegistryError: unknown kind or name (listing the known ones).
        TypeError: from the factory, for arguments it does not take.
    """
    return lookup(kind, name)(**kwargs)


def names(kind: str) -> list[str]:
    """Sorted names registered under ``kind`` (empty for an unknown kind)."""
    _load_providers(kind)
    return sorted(_REGISTRY.get(kind, {}))


def kinds() -> list[str]:
    """Sorted kinds that have a provider module or a registered factory."""
    return sorted(set(_REGISTRY) | set(PROVIDERS))
