"""Decode a whole manifest with any :class:`~asr.decoding.types.Recognizer` (either system).

Utterances go through the recognizer in batches, longest first, each batch at
most ``batch_seconds`` of padded audio (:func:`decode_batches`); the hypotheses
are written as a manifest in the input order (every row as read, ``text``
replaced, and ``words`` ``[{"word", "start", "end"}]`` in seconds when word times
are asked for). Audio that cannot be read is reported and gets an empty
hypothesis, so scoring counts it as deleted rather than losing it.

``jobs`` > 1 decodes on that many CPU processes (Kaldi's ``nj``): the utterances
are dealt out round-robin by length, each worker holds a forked copy of the
recognizer and runs one torch thread. Every utterance is decoded on its own, so
the hypotheses do not depend on ``jobs``; only the wall time does.

Usage::

    recognizer = asr.systems.load_recognizer("exp/ctc/model", beam=16, lm="lm.arpa")
    stats = decode_manifest(recognizer, "data/test.jsonl", "exp/ctc/hyp/test.jsonl")
    stats.rtf, stats.skipped
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from asr.audio import SAMPLE_RATE
from asr.data.dataset import AudioDataset
from asr.data.manifest import Utterance, read_manifest, write_manifest
from asr.decoding.types import DecodeStats, Hypothesis, Recognizer

__all__ = ["decode_batches", "decode_manifest", "decode_jobs"]


def decode_batches(utts: Sequence[Utterance], max_seconds: float) -> list[list[Utterance]]:
    """Decoding batches, longest first; each batch's padded seconds (size x longest) within ``max_seconds``."""
    order = sorted(utts, key=lambda u: -u.duration)
    batches: list[list[Utterance]] = []
    for u in order:
        if batches and (len(batches[-1]) + 1) * batches[-1][0].duration <= max_seconds:
            batches[-1].append(u)
        else:
            batches.append([u])
    return batches


def _row(utt: Utterance, hyp: Hypothesis | None, with_times: bool) -> Utterance:
    if hyp is None:
        return dataclasses.replace(utt, text="")
    if not with_times:
        return dataclasses.replace(utt, text=hyp.text)
    words = [{"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3)} for w in hyp.words]
    return dataclasses.replace(utt, text=hyp.text, extra={**utt.extra, "words": words})


def decode_jobs(jobs: int, recognizer: Recognizer) -> int:
    """Worker processes for ``jobs`` (0: one per CPU core); always 1 for a recognizer on a GPU."""
    if recognizer.device.type != "cpu":
        return 1
    return max(1, jobs if jobs > 0 else (os.cpu_count() or 1))


@dataclasses.dataclass
class _Part:
    """What one worker decoded."""

    hyps: dict[str, Hypothesis] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    audio_seconds: float = 0.0
    compute_seconds: float = 0.0


def _decode_part(recognizer: Recognizer, utts: Sequence[Utterance], batch_seconds: float, with_times: bool) -> _Part:
    part = _Part()
    for batch in decode_batches(utts, batch_seconds):
        items = []
        for item in AudioDataset(batch):
            if "error" in item:
                part.skipped[item["id"]] = item["error"]
            else:
                items.append(item)
        if not items:
            continue
        part.audio_seconds += sum(it["wav"].shape[0] for it in items) / SAMPLE_RATE
        t1 = time.perf_counter()
        out = recognizer.transcribe([it["wav"] for it in items], with_times=with_times)
        if recognizer.device.type == "cuda":
            torch.cuda.synchronize()
        part.compute_seconds += time.perf_counter() - t1
        part.hyps.update({it["id"]: h for it, h in zip(items, out)})
    return part


_WORKER: dict[str, Recognizer] = {}


def _init_worker(recognizer: Recognizer) -> None:
    torch.set_num_threads(1)  # one core per worker; also keeps OpenMP away from the forked pool
    _WORKER["recognizer"] = recognizer


def _worker_part(utts: Sequence[Utterance], batch_seconds: float, with_times: bool) -> _Part:
    return _decode_part(_WORKER["recognizer"], utts, batch_seconds, with_times)


def decode_manifest(
    recognizer: Recognizer,
    manifest: str | os.PathLike | Sequence[Utterance],
    out_jsonl: str | os.PathLike,
    batch_seconds: float = 60.0,
    with_times: bool = False,
    jobs: int = 1,
) -> DecodeStats:
    """Decode every utterance of ``manifest`` and write the hypotheses to ``out_jsonl``.

    Args:
        recognizer: a loaded model and search (:func:`asr.systems.load_recognizer`).
        manifest: a JSONL manifest (audio, duration, reference text, ...) or its rows.
        out_jsonl: written as a manifest with ``text`` = hypothesis, in the input order (directory created).
        batch_seconds: padded audio seconds per batch.
        with_times: also write each row's ``words`` with start and end times.
        jobs: CPU worker processes (0: one per core; :func:`decode_jobs`).

    Returns:
        :class:`DecodeStats`; its ``rtf`` is wall time (audio reading included, model
        loading and one warm-up call not) over audio time, ``rtf_compute`` counts
        network and search only (summed over the workers).
    """
    utts = list(manifest) if not isinstance(manifest, (str, os.PathLike)) else read_manifest(manifest)
    recognizer.transcribe([torch.zeros(SAMPLE_RATE)])  # warm-up (lazy initialisation, caches): not timed
    stats = DecodeStats(num_utts=len(utts), decoder=recognizer.decoder_name, device=str(recognizer.device),
                        system=recognizer.system)
    jobs = min(decode_jobs(jobs, recognizer), max(1, len(utts)))
    t0 = time.perf_counter()
    if jobs == 1:
        parts = [_decode_part(recognizer, utts, batch_seconds, with_times)]
    else:
        order = sorted(utts, key=lambda u: -u.duration)
        shards = [order[i::jobs] for i in range(jobs)]
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker,
                                 initargs=(recognizer,)) as pool:
            parts = list(pool.map(_worker_part, shards, [batch_seconds] * jobs, [with_times] * jobs))
    stats.wall_seconds = time.perf_counter() - t0
    hyps: dict[str, Hypothesis] = {}
    for part in parts:
        hyps.update(part.hyps)
        stats.skipped.update(part.skipped)
        stats.audio_seconds += part.audio_seconds
        stats.compute_seconds += part.compute_seconds
    stats.jobs = jobs
    Path(out_jsonl).parent.mkdir(parents=True, exist_ok=True)
    write_manifest(out_jsonl, [_row(u, hyps.get(u.id), with_times) for u in utts])
    return stats
