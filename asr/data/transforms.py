"""Per-sample transforms of the training data, as a chain of small functions (wenet style).

An :class:`~asr.data.dataset.AudioDataset` item (``{"id", "wav" (S,), "duration", ...}``)
goes through :func:`speed_perturb` (a factor drawn by :func:`speed_factor`), then
gets its label ids (:func:`add_tokens`, :func:`add_phones`). :class:`AddTargets`
and :class:`AddMultitaskTargets` are those chains as the dataset's ``transform``;
the training loop sets their ``epoch``.

The speed factor of an utterance is a function of ``(seed, epoch, id)``
(:func:`stable_int`), so it does not depend on worker processes or on resuming.

Usage::

    transform = AddTargets(targets, speeds=(0.9, 1.0, 1.1), seed=0)
    dataset = AudioDataset(utts, transform=transform)
    transform.epoch = 3          # before each epoch's DataLoader iterator is made
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from asr.audio import SAMPLE_RATE, resample

__all__ = [
    "stable_int",
    "speed_factor",
    "speed_perturb",
    "add_tokens",
    "add_phones",
    "AddTargets",
    "AddMultitaskTargets",
]


def stable_int(*parts: object) -> int:
    """A 63-bit integer from ``parts`` (stable across processes, unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "little") >> 1


def speed_factor(utt_id: str, speeds: Sequence[float], seed: int, epoch: int) -> float:
    """The speed factor of ``utt_id`` in ``epoch``: one of ``speeds`` (non-empty), drawn from ``(seed, epoch, id)``."""
    return speeds[stable_int(seed, epoch, utt_id) % len(speeds)]


def speed_perturb(item: dict[str, Any], factor: float) -> dict[str, Any]:
    """``item`` with ``wav (S,)`` played ``factor`` times faster (resampled) and ``duration`` updated."""
    if factor != 1.0:
        item["wav"] = resample(item["wav"], round(SAMPLE_RATE * factor), SAMPLE_RATE)
        item["duration"] = item["wav"].shape[0] / SAMPLE_RATE
    return item


def add_tokens(item: dict[str, Any], targets: Mapping[str, list[int]]) -> dict[str, Any]:
    """``item`` with ``tokens``: its label ids (every id must have some)."""
    item["tokens"] = targets[item["id"]]
    return item


def add_phones(item: dict[str, Any], phones: Mapping[str, list[int] | None]) -> dict[str, Any]:
    """``item`` with ``phones``: its phone ids, or ``None`` when it has no phone label."""
    item["phones"] = phones.get(item["id"])
    return item


class AddTargets:
    """Dataset transform: speed perturbation (optional) and label ids.

    The speed factor of an utterance is a function of ``(seed, epoch, id)``,
    so it does not depend on worker processes or on resuming.
    """

    def __init__(self, targets: dict[str, list[int]], speeds: Sequence[float] = (), seed: int = 0):
        self.targets = targets
        self.speeds = tuple(speeds)
        self.seed = seed
        self.epoch = 0

    def __call__(self, item: dict[str, Any]) -> dict[str, Any]:
        """``item`` with ``tokens`` added (and ``wav``, ``duration`` perturbed)."""
        if self.speeds:
            item = speed_perturb(item, speed_factor(item["id"], self.speeds, self.seed, self.epoch))
        return add_tokens(item, self.targets)


class AddMultitaskTargets(AddTargets):
    """Dataset transform: :class:`AddTargets` (speed perturbation, ``tokens``)
    plus ``phones`` (a list of ids, or ``None`` when the utterance has no phone label)."""

    def __init__(
        self,
        targets: dict[str, list[int]],
        phones: dict[str, list[int] | None],
        speeds: Sequence[float] = (),
        seed: int = 0,
    ):
        super().__init__(targets, speeds, seed)
        self.phones = phones

    def __call__(self, item: dict[str, Any]) -> dict[str, Any]:
        """``item`` with ``tokens`` and ``phones`` added (and ``wav``, ``duration`` perturbed)."""
        return add_phones(super().__call__(item), self.phones)
