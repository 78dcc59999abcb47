"""Which utterances a CTC model can train on: the duration limits and enough encoder frames.

CTC aligns ``L`` labels to ``T'`` encoder frames only when ``T' >= L + r``,
where ``r`` counts the repeated labels (a blank must separate each repeat).
:func:`filter_trainable` drops the utterances outside ``[min_duration,
max_duration]`` and those too short for their transcript at the fastest speed
perturbation, and counts both; :func:`read_manifests` reads one manifest or several.

Usage::

    utts = read_manifests(["data/train.jsonl", "data/extra.jsonl"])
    targets = {u.id: tokenizer.encode(normalize(u.text, u.lang)) for u in utts}
    train, dropped = filter_trainable(utts, targets, model.output_lengths, 0.5, 20.0, speeds=(0.9, 1.0, 1.1))
    # dropped == {"duration": 3, "too_short_for_transcript": 1}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from asr.audio import SAMPLE_RATE
from asr.data.manifest import Utterance, read_manifest

__all__ = ["read_manifests", "ctc_frames_needed", "filter_trainable"]


def read_manifests(manifests: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Utterance]:
    """The rows of one JSONL manifest, or of several concatenated in order."""
    paths = [manifests] if isinstance(manifests, (str, os.PathLike)) else list(manifests)
    return [u for p in paths for u in read_manifest(p)]


def ctc_frames_needed(ids: Sequence[int]) -> int:
    """Fewest output frames CTC needs for label ids ``ids``: one per label plus a blank between repeats."""
    return len(ids) + sum(a == b for a, b in zip(ids, ids[1:]))


def filter_trainable(
    utts: Sequence[Utterance],
    targets: Mapping[str, Sequence[int]],
    output_lengths: Callable[[Tensor], Tensor],
    min_duration: float,
    max_duration: float,
    speeds: Sequence[float] = (),
) -> tuple[list[Utterance], dict[str, int]]:
    """Keep the utterances a CTC model can train on (order kept).

    Args:
        utts: the training utterances.
        targets: utterance id -> label ids.
        output_lengths: ``(N,)`` int64 samples -> ``(N,)`` encoder output frames (the model's).
        min_duration, max_duration: the kept durations, in seconds (inclusive).
        speeds: speed-perturbation factors; the fastest gives the fewest frames.

    Returns:
        ``(kept, dropped)``: the utterances, and ``{"duration": n, "too_short_for_transcript": m}``.
    """
    fastest = max(speeds, default=1.0)
    samples = torch.tensor([int(u.duration * SAMPLE_RATE / fastest) for u in utts], dtype=torch.long)
    frames = output_lengths(samples).tolist() if utts else []  # encoder frames per utterance
    dropped = {"duration": 0, "too_short_for_transcript": 0}
    kept = []
    for u, n_frames in zip(utts, frames):
        if not min_duration <= u.duration <= max_duration:
            dropped["duration"] += 1
        elif n_frames < max(ctc_frames_needed(targets[u.id]), 1):
            dropped["too_short_for_transcript"] += 1
        else:
            kept.append(u)
    return kept, dropped
