"""Language-balanced batch sampler: one language per batch, languages drawn by size^(1/T).

With ``T = 1`` languages come in proportion to their size (natural
sampling); as ``T`` grows the draw tends to uniform, so low-resource languages
are seen more often (the temperature sampling of multilingual pre-training,
e.g. XLS-R, mBART). Within a language, batches come from a
:class:`~asr.data.sampler.DurationBucketSampler` over that language's
utterances (its duration buckets and padded-seconds budget), restarted with a
new shuffle when a small language runs out of batches.

Usage::

    sampler = LanguageBalancedSampler([u.lang for u in utts], [u.duration for u in utts],
                                      max_batch_seconds=200, temperature=3.0,
                                      rank=rank, world_size=world_size)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_waveforms)
    for epoch in range(start_epoch, num_epochs):
        sampler.set_epoch(epoch)
        for step, batch in enumerate(loader):
            ...
            checkpoint["sampler"] = sampler.state_dict(batches_consumed=step + 1)

Everything is drawn from ``seed + epoch``, so every rank computes the same
batch list and takes ``batches[rank::world_size]``, and a resumed run continues
at the next batch (:meth:`state_dict` / :meth:`load_state_dict`, as
:class:`~asr.data.sampler.DurationBucketSampler`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from asr.data.sampler import DurationBucketSampler, EpochBatchSampler

__all__ = ["LanguageBalancedSampler", "language_probabilities"]

SIZE_MEASURES = ("duration", "count")
_CYCLE_STRIDE = 1_000_003  # per-language sub-epochs: epoch * stride + cycle (distinct shuffles)


def language_probabilities(sizes: dict[str, float], temperature: float) -> dict[str, float]:
    """``p(lang) = size^(1/T) / sum(size^(1/T))``.

    Args:
        sizes: language -> size (hours, utterances, ...); all > 0.
        temperature: ``T >= 1`` usually; 1 is proportional, infinity uniform.

    Returns:
        language -> probability (same order as ``sizes``).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    bad = {k: v for k, v in sizes.items() if not v > 0}
    if bad:
        raise ValueError(f"language sizes must be > 0, got {bad}")
    peak = max(sizes.values())
    scaled = {k: (v / peak) ** (1.0 / temperature) for k, v in sizes.items()}  # scale-free, no overflow
    z = sum(scaled.values())
    return {k: v / z for k, v in scaled.items()}


class LanguageBalancedSampler(EpochBatchSampler):
    """Yield one-language lists of dataset indices, languages drawn with temperature.

    Each epoch has ``batches_per_epoch`` batches (default: as many as one pass
    over all languages' duration batches). For each, a language is drawn with
    :func:`language_probabilities` and its next batch is taken; a language
    whose batches are used up starts a new, reshuffled pass. The epoch's batch
    list is the same on every rank; rank ``r`` takes ``batches[r::world_size]``
    (padded by repeating the first batches, or trimmed with ``drop_last``, so
    ranks get equal counts).

    Args:
        langs: language code per dataset index.
        durations: seconds per dataset index.
        max_batch_seconds: padded-seconds budget per batch (see :class:`DurationBucketSampler`).
        temperature: ``T`` of ``size^(1/T)``.
        size: ``"duration"`` (total seconds, default) or ``"count"`` (utterances) as a language's size.
        batches_per_epoch: batches in one epoch, all ranks together (default: natural count).
        num_buckets: duration buckets inside each language.
        seed: base of the per-epoch seed.
        drop_last: trim rather than pad the batches that do not divide among ranks.
        rank, world_size: this process's place in distributed training.
    """

    def __init__(
        self,
        langs: Sequence[str],
        durations: Sequence[float],
        max_batch_seconds: float,
        temperature: float = 1.0,
        size: str = "duration",
        batches_per_epoch: int | None = None,
        num_buckets: int = 10,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ):
        if len(langs) != len(durations):
            raise ValueError(f"{len(langs)} languages but {len(durations)} durations")
        if not langs:
            raise ValueError("no utterances")
        if size not in SIZE_MEASURES:
            raise ValueError(f"size must be one of {SIZE_MEASURES}, got {size!r}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        if batches_per_epoch is not None and batches_per_epoch < 1:
            raise ValueError(f"batches_per_epoch must be >= 1, got {batches_per_epoch}")
        self.langs = list(langs)
        self.languages = sorted(set(self.langs))
        self.indices: dict[str, list[int]] = {lang: [] for lang in self.languages}  # language -> dataset indices
        for i, lang in enumerate(langs):
            self.indices[lang].append(i)
        self.samplers = {
            lang: DurationBucketSampler(
                [durations[i] for i in idx], max_batch_seconds, num_buckets=num_buckets, seed=seed + 7919 * (k + 1)
            )
            for k, (lang, idx) in enumerate(self.indices.items())
        }
        if size == "duration":
            sizes = {lang: sum(durations[i] for i in idx) or 1e-9 for lang, idx in self.indices.items()}
        else:
            sizes = {lang: float(len(idx)) for lang, idx in self.indices.items()}
        self.sizes = sizes
        self.temperature = float(temperature)
        self.probabilities = language_probabilities(sizes, temperature)
        self.natural_batches = sum(len(s) for s in self.samplers.values())
        self.batches_per_epoch = batches_per_epoch or self.natural_batches
        self.num_utterances = len(langs)
        self.max_batch_seconds = float(max_batch_seconds)
        super().__init__(seed, drop_last, rank, world_size)

    def _language_batches(self, lang: str, epoch: int, cycle: int) -> list[list[int]]:
        """Pass ``cycle`` of ``epoch`` over ``lang``'s batches, as dataset indices."""
        sub = self.samplers[lang]
        sub.set_epoch(epoch * _CYCLE_STRIDE + cycle)
        idx = self.indices[lang]
        return [[idx[j] for j in batch] for batch in sub]

    def _all_batches(self, epoch: int) -> list[list[int]]:
        """Every rank's batches for ``epoch``, in order, before the rank split."""
        rng = random.Random(self.seed + epoch)
        weights = [self.probabilities[lang] for lang in self.languages]
        queues: dict[str, list[list[int]]] = {lang: [] for lang in self.languages}
        cycles = dict.fromkeys(self.languages, 0)
        batches: list[list[int]] = []
        for lang in rng.choices(self.languages, weights=weights, k=self.batches_per_epoch):
            if not queues[lang]:
                queues[lang] = self._language_batches(lang, epoch, cycles[lang])[::-1]
                cycles[lang] += 1
            batches.append(queues[lang].pop())
        return batches

    def batch_language(self, batch: Sequence[int]) -> str:
        """The language of a batch this sampler yielded."""
        return self.langs[batch[0]]

    def _identity(self) -> dict[str, Any]:
        return {**super()._identity(), "max_batch_seconds": self.max_batch_seconds,
                "num_utterances": self.num_utterances, "temperature": self.temperature,
                "batches_per_epoch": self.batches_per_epoch}
