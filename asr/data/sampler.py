"""Duration-bucketed batch sampler with a padded-seconds budget.

Batches hold utterances of similar length, so little of a padded batch is
padding, and their size follows a budget in seconds of *padded* audio
(``max duration in batch x batch size``), so memory use is about constant.

Usage::

    sampler = DurationBucketSampler([u.duration for u in utts], max_batch_seconds=200,
                                    rank=rank, world_size=world_size)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_waveforms)
    for epoch in range(start_epoch, num_epochs):
        sampler.set_epoch(epoch)
        for step, batch in enumerate(loader):
            ...
            checkpoint["sampler"] = sampler.state_dict(batches_consumed=step + 1)

After ``sampler.load_state_dict(checkpoint["sampler"])`` the same loop resumes
at the next batch of the saved epoch.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterator, Sequence
from typing import Any

from torch.utils.data import Sampler

__all__ = ["DurationBucketSampler", "EpochBatchSampler"]

log = logging.getLogger(__name__)


class EpochBatchSampler(Sampler[list[int]]):
    """Base of the batch samplers: an epoch's batches (:meth:`_all_batches`, from
    ``seed`` and the epoch) split evenly over ranks, iterated so that a training
    restarted from :meth:`state_dict` continues mid-epoch at the next batch.

    With several ranks, every rank gets the same number of batches: the
    remainder is dropped (``drop_last``) or padded by repeating the epoch's
    first batches.
    """

    def __init__(self, seed: int, drop_last: bool, rank: int, world_size: int):
        self.seed = seed
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self._start = 0  # batches of self.epoch to skip on the next iteration (resume)
        self._yielded = 0  # batches of self.epoch yielded so far
        self._cache: tuple[int, list[list[int]]] | None = None

    def _all_batches(self, epoch: int) -> list[list[int]]:
        """Every rank's batches of ``epoch``, in order (subclasses)."""
        raise NotImplementedError

    def _identity(self) -> dict[str, Any]:
        """Settings a saved position is only valid for (subclasses add theirs)."""
        return {"seed": self.seed, "world_size": self.world_size}

    def _rank_batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches for ``epoch`` (cached for the last epoch asked)."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        batches = self._all_batches(epoch)
        ws = self.world_size
        if ws > 1 and len(batches) % ws:
            if self.drop_last:
                batches = batches[: len(batches) // ws * ws]
            elif batches:
                pad = ws - len(batches) % ws
                batches = batches + [batches[k % len(batches)] for k in range(pad)]
        mine = batches[self.rank :: ws]
        self._cache = (epoch, mine)
        return mine

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose batches the next iteration yields.

        Setting the epoch already set keeps a position restored by
        :meth:`load_state_dict`; another epoch starts from its first batch.
        """
        if epoch != self.epoch:
            self.epoch = epoch
            self._start = self._yielded = 0

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._rank_batches(self.epoch)
        start, self._start = self._start, 0
        self._yielded = start
        for k in range(start, len(batches)):
            self._yielded = k + 1
            yield list(batches[k])

    def __len__(self) -> int:
        """Batches the next iteration yields on this rank (fewer after a resume)."""
        return len(self._rank_batches(self.epoch)) - self._start

    def state_dict(self, batches_consumed: int | None = None) -> dict[str, Any]:
        """Position for :meth:`load_state_dict`.

        Args:
            batches_consumed: batches of the current epoch the training loop
                has finished on this rank. ``None`` uses the count this
                sampler has yielded, exact only with ``num_workers=0``: a
                DataLoader with workers draws batches ahead of the loop.
        """
        if batches_consumed is None:
            batches_consumed = max(self._yielded, self._start)
        return {"epoch": self.epoch, "batches_consumed": int(batches_consumed), **self._identity()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume: the next iteration continues ``state["epoch"]`` after its
        first ``state["batches_consumed"]`` batches.

        Raises:
            ValueError: the state was saved with another seed, world size,
                budget or dataset size, so its batches would differ.
        """
        for key, mine in self._identity().items():
            if key in state and state[key] != mine:
                raise ValueError(f"sampler state has {key}={state[key]}, this sampler {mine}")
        self.epoch = int(state["epoch"])
        self._start = int(state["batches_consumed"])
        self._yielded = self._start


class DurationBucketSampler(EpochBatchSampler):
    """Yield lists of dataset indices whose padded duration fits a budget.

    Each epoch: indices are sorted by duration and cut into ``num_buckets``
    buckets of equal count; each bucket is shuffled and cut greedily into
    batches with ``len(batch) * max(durations in batch) <= max_batch_seconds``;
    the batches of all buckets are then shuffled together. Everything is drawn
    from ``seed + epoch``, so every rank computes the same batches and takes
    its share, ``batches[rank::world_size]``.

    An utterance longer than the budget forms a batch of its own; such
    indices are listed in :attr:`oversized` and logged at construction.

    Args:
        durations: seconds per dataset index.
        max_batch_seconds: budget of padded seconds per batch.
        num_buckets: duration buckets (more: less padding, less randomness).
        shuffle: shuffle within buckets and the batch order; when false,
            batches come shortest first and are the same every epoch.
        seed: base of the per-epoch random seed.
        drop_last: with ``world_size > 1``, drop the batches that do not
            divide evenly among ranks; otherwise (default) repeat batches from
            the start of the epoch so every rank gets as many as the others.
            Has no effect with one rank.
        rank, world_size: this process's place in distributed training.
    """

    def __init__(
        self,
        durations: Sequence[float],
        max_batch_seconds: float,
        num_buckets: int = 10,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ):
        if not max_batch_seconds > 0:
            raise ValueError(f"max_batch_seconds must be > 0, got {max_batch_seconds}")
        if num_buckets < 1:
            raise ValueError(f"num_buckets must be >= 1, got {num_buckets}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        bad = [i for i, d in enumerate(durations) if not (math.isfinite(d) and d >= 0)]
        if bad:
            raise ValueError(f"durations must be finite and >= 0; index {bad[0]} is {durations[bad[0]]}")
        self.durations = [float(d) for d in durations]
        self.max_batch_seconds = float(max_batch_seconds)
        self.num_buckets = num_buckets
        self.shuffle = shuffle
        super().__init__(seed, drop_last, rank, world_size)
        self._order = sorted(range(len(self.durations)), key=lambda i: (self.durations[i], i))
        self.oversized = [i for i, d in enumerate(self.durations) if d > self.max_batch_seconds]
        if self.oversized:
            longest = max(self.durations[i] for i in self.oversized)
            log.warning(
                "%d utterance(s) are longer than max_batch_seconds=%.1f (longest %.1f s); "
                "each forms a batch of its own",
                len(self.oversized),
                self.max_batch_seconds,
                longest,
            )

    def _all_batches(self, epoch: int) -> list[list[int]]:
        """Every rank's batches for ``epoch``, in order, before the rank split."""
        rng = random.Random(self.seed + epoch)
        order = self._order
        n = len(order)
        batches: list[list[int]] = []
        for b in range(self.num_buckets):
            bucket = order[b * n // self.num_buckets : (b + 1) * n // self.num_buckets]
            if self.shuffle:
                rng.shuffle(bucket)
            batch: list[int] = []
            longest = 0.0
            for i in bucket:
                d = self.durations[i]
                if batch and max(longest, d) * (len(batch) + 1) > self.max_batch_seconds:
                    batches.append(batch)
                    batch, longest = [], 0.0
                batch.append(i)
                longest = max(longest, d)
            if batch:
                batches.append(batch)
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def _identity(self) -> dict[str, Any]:
        return {**super()._identity(), "max_batch_seconds": self.max_batch_seconds,
                "num_utterances": len(self.durations)}
