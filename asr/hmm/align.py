"""Viterbi forced alignment and flat-start monophone training (Kaldi's ``train_mono.sh``).

Forced alignment finds the best path of frames through an utterance's HMM
(:class:`asr.hmm.topology.UtteranceGraph`) given per-frame log-likelihoods of
every pdf. :func:`viterbi_batch` runs it on a batch of utterances at once in
torch: one vectorised max over (self-loop, predecessors) per frame, int8
back-pointers, a batched back-trace.

Flat start (:func:`train_mono`) follows Kaldi's monophone recipe:

1. every pdf one Gaussian with the global mean and variance (``gmm-init-mono``);
2. equal alignment: each state of the default path (silence at the ends,
   first pronunciations) gets the same number of frames (``align-equal-compiled``);
3. iterate: accumulate Viterbi statistics, re-estimate Gaussians and
   transitions, split Gaussians towards ``max_gauss``, and re-align on the
   iterations in ``realign_iters``.

Utterances too short for their shortest state sequence are skipped and
reported in a plain ``{id: reason}`` mapping (the data layer's
:class:`asr.data.dataset.SkipReport` merges it with ``update``).

Alignment quality against espeak-ng's own phone timings
(:func:`espeak_boundaries`, :func:`boundary_accuracy`): both sides are turned
into sorted lists of boundary times (a boundary wherever one segment ends and
the next begins, silence counting as a segment, utterance start and end
excluded); a reference boundary counts as found when the nearest hypothesis
boundary lies within the tolerance (20 ms), and the reverse share is reported
too. Nearest-neighbour matching is used because espeak's phone inventory
(mnemonics, sentence-level reductions, pauses) differs from the lexicon's, so
the two phone sequences do not correspond one to one.

Usage::

    graphs = [build_graph(text.split(), lexicon, topo) for text in texts]
    result = train_mono(feats, graphs, topo, ids, MonoConfig())
    ali = result.alignments["utt1"]
    ali.phone_segments()   # [(phone_id, start_frame, end_frame), ...]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from asr.hmm.gmm import DiagGmm
from asr.hmm.topology import HmmTopology, UtteranceGraph

__all__ = [
    "Alignment",
    "MonoConfig",
    "MonoResult",
    "viterbi_batch",
    "align_equal",
    "align_utterances",
    "describe_skipped",
    "transition_counts",
    "train_mono",
    "espeak_boundaries",
    "alignment_boundaries",
    "boundary_accuracy",
]

log = logging.getLogger(__name__)

NEG_INF = -math.inf


@dataclass
class Alignment:
    """A state path through an utterance graph.

    Attributes:
        nodes: ``(T,)`` graph node of each frame.
        pdfs, phones, segments, words: ``(T,)`` the node's pdf id, phone id,
            phone-instance index and word index (``-1`` = silence).
        score: the path's log score (transitions + emissions).
    """

    nodes: np.ndarray
    pdfs: np.ndarray
    phones: np.ndarray
    segments: np.ndarray
    words: np.ndarray
    score: float

    @classmethod
    def from_path(cls, graph: UtteranceGraph, nodes: np.ndarray, score: float) -> Alignment:
        """Read the per-frame labels of ``nodes (T,)`` off ``graph``."""
        nodes = np.asarray(nodes, dtype=np.int64)
        return cls(nodes, graph.pdf[nodes], graph.phone[nodes], graph.segment[nodes], graph.word[nodes], float(score))

    @property
    def num_frames(self) -> int:
        """``T``."""
        return int(self.nodes.shape[0])

    def phone_segments(self) -> list[tuple[int, int, int]]:
        """``[(phone_id, start_frame, end_frame), ...]``, end exclusive, in time order."""
        return [(int(self.phones[s]), s, e) for s, e in _runs(self.segments)]

    def word_segments(self) -> list[tuple[int, int, int]]:
        """``[(word_index, start_frame, end_frame), ...]`` for the words (silence left out)."""
        return [(int(self.words[s]), s, e) for s, e in _runs(self.words) if self.words[s] >= 0]


def _runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the runs of equal values in ``labels (T,)``."""
    if labels.size == 0:
        return []
    cuts = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [labels.size]])
    return list(zip(starts.tolist(), ends.tolist()))


# ---------------------------------------------------------------------------
# Viterbi
# ---------------------------------------------------------------------------


def viterbi_batch(
    loglikes: Sequence[Tensor],
    graphs: Sequence[UtteranceGraph],
    topo: HmmTopology,
    transition_scale: float = 1.0,
) -> list[Alignment | None]:
    """Best state path of each utterance through its graph, all at once.

    Args:
        loglikes: per utterance ``(T_b, num_pdfs)`` log-likelihoods (or scaled
            log-likelihoods) of every pdf at every frame.
        graphs: the utterances' HMMs.
        topo: supplies the transition log-probabilities.
        transition_scale: multiplies every transition log-probability (Kaldi's
            ``--transition-scale``; the silence-probability weights too).

    Returns:
        One :class:`Alignment` per utterance, ``None`` where no path of exactly
        ``T_b`` frames exists (the utterance is too short for its graph).
    """
    B = len(graphs)
    if B == 0:
        return []
    lengths = torch.tensor([x.shape[0] for x in loglikes], dtype=torch.long)
    T, N = int(lengths.max()), max(g.num_nodes for g in graphs)
    P = max(g.pred.shape[1] for g in graphs)
    log_loop = torch.from_numpy(topo.log_loop).float() * transition_scale
    log_next = torch.from_numpy(topo.log_next).float() * transition_scale

    pdf = torch.zeros(B, N, dtype=torch.long)
    pred = torch.zeros(B, N, P, dtype=torch.long)
    pred_w = torch.full((B, N, P), NEG_INF)
    loop_w = torch.full((B, N), NEG_INF)
    init = torch.full((B, N), NEG_INF)
    final = torch.full((B, N), NEG_INF)
    emit = torch.full((B, T, N), NEG_INF)
    for b, (g, ll) in enumerate(zip(graphs, loglikes)):
        n, p = g.num_nodes, g.pred.shape[1]
        gp = torch.from_numpy(g.pdf)
        gpred = torch.from_numpy(g.pred)
        pdf[b, :n] = gp
        pred[b, :n, :p] = gpred.clamp(min=0)
        w = torch.from_numpy(g.pred_logw).float() * transition_scale + log_next[gp[gpred.clamp(min=0)]]
        pred_w[b, :n, :p] = torch.where(gpred >= 0, w, torch.full_like(w, NEG_INF))
        loop_w[b, :n] = log_loop[gp]
        init[b, :n] = torch.from_numpy(g.init_logw).float() * transition_scale
        final[b, :n] = torch.from_numpy(g.final_logw).float() * transition_scale + log_next[gp]
        emit[b, : ll.shape[0], :n] = ll.float()[:, gp]

    back = torch.zeros(B, T, N, dtype=torch.int8)  # 0 = self-loop, k = pred[..., k - 1]
    delta = init + emit[:, 0]  # (B, N)
    flat_pred = pred.view(B, N * P)
    codes = [torch.tensor(k + 1, dtype=torch.int8) for k in range(P)]
    for t in range(1, T):
        # max over {self-loop, pred 0..P-1} as P pairwise maxima: much faster than .max(-1) on a tiny last dim
        best = delta + loop_w
        arg = torch.zeros(B, N, dtype=torch.int8)
        from_pred = delta.gather(1, flat_pred).view(B, N, P) + pred_w
        for k in range(P):
            cand = from_pred[..., k]
            better = cand > best
            best = torch.where(better, cand, best)
            arg = torch.where(better, codes[k], arg)
        live = (t < lengths).unsqueeze(1)
        delta = torch.where(live, best + emit[:, t], delta)
        back[:, t] = arg

    total = delta + final
    score, node = total.max(-1)  # (B,)
    path = torch.zeros(B, T, dtype=torch.long)
    rows = torch.arange(B)
    for t in range(T - 1, -1, -1):
        inside = t < lengths
        path[:, t] = node
        if t == 0:
            break
        k = back[rows, t, node].long()
        prev = torch.where(k == 0, node, pred[rows, node, (k - 1).clamp(min=0)])
        node = torch.where(inside, prev, node)
    out: list[Alignment | None] = []
    for b, g in enumerate(graphs):
        if not math.isfinite(float(score[b])):
            out.append(None)
        else:
            out.append(Alignment.from_path(g, path[b, : int(lengths[b])].numpy(), float(score[b])))
    return out


def align_equal(graph: UtteranceGraph, num_frames: int) -> Alignment | None:
    """Flat-start alignment: frames shared equally among the states of ``graph.default_path``.

    When there are fewer frames than default-path states, the silences are
    dropped from the path; ``None`` when even then the frames do not suffice.
    """
    path = graph.default_path
    if num_frames < path.size:
        path = path[graph.word[path] >= 0]
    if num_frames < path.size or path.size == 0:
        return None
    bounds = np.linspace(0, num_frames, path.size + 1).round().astype(np.int64)
    nodes = np.repeat(path, np.diff(bounds))
    return Alignment.from_path(graph, nodes, NEG_INF)


def describe_skipped(skipped: dict[str, str]) -> str:
    """``"N utterance(s) skipped:"`` and one ``id: reason`` line each (ids sorted)."""
    if not skipped:
        return "no utterances skipped"
    return "\n".join([f"{len(skipped)} utterance(s) skipped:"] + [f"  {i}: {skipped[i]}" for i in sorted(skipped)])


def align_utterances(
    loglikes: Sequence[Tensor],
    graphs: Sequence[UtteranceGraph],
    topo: HmmTopology,
    ids: Sequence[str],
    transition_scale: float = 1.0,
    batch_cells: int = 4_000_000,
) -> tuple[dict[str, Alignment], dict[str, str]]:
    """Viterbi-align many utterances in length-sorted batches.

    Args:
        loglikes: ``(T_i, num_pdfs)`` per utterance.
        graphs, ids: the utterances' HMMs and ids.
        batch_cells: batch size limit in ``B * T * N`` back-pointer cells.

    Returns:
        ``(alignments by id, {id: reason} of the utterances skipped)``: an
        utterance with fewer frames than ``graph.min_frames`` is skipped.
    """
    report: dict[str, str] = {}
    todo = []
    for i, (ll, g, uid) in enumerate(zip(loglikes, graphs, ids)):
        if ll.shape[0] < g.min_frames:
            report[uid] = f"too short: {ll.shape[0]} frames for {g.min_frames} HMM states ({len(g.words)} words)"
        else:
            todo.append(i)
    todo.sort(key=lambda i: loglikes[i].shape[0])
    out: dict[str, Alignment] = {}
    batch: list[int] = []

    def flush() -> None:
        results = viterbi_batch([loglikes[i] for i in batch], [graphs[i] for i in batch], topo, transition_scale)
        for i, ali in zip(batch, results):
            if ali is None:
                report[ids[i]] = "no path through the HMM fits the frames"
            else:
                out[ids[i]] = ali
        batch.clear()

    for i in todo:
        cells = (len(batch) + 1) * loglikes[i].shape[0] * max([graphs[j].num_nodes for j in batch + [i]])
        if batch and cells > batch_cells:
            flush()
        batch.append(i)
    if batch:
        flush()
    return out, report


def transition_counts(alignments: Sequence[Alignment], num_pdfs: int) -> tuple[np.ndarray, np.ndarray]:
    """Self-loop and leave counts per pdf, ``(num_pdfs,)`` each; the last frame counts as leaving."""
    loop = np.zeros(num_pdfs)
    leave = np.zeros(num_pdfs)
    for a in alignments:
        stay = a.nodes[1:] == a.nodes[:-1]
        np.add.at(loop, a.pdfs[:-1][stay], 1.0)
        np.add.at(leave, a.pdfs[:-1][~stay], 1.0)
        if a.num_frames:
            leave[a.pdfs[-1]] += 1.0
    return loop, leave


# ---------------------------------------------------------------------------
# Flat-start monophone training
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonoConfig:
    """Monophone GMM training (defaults after Kaldi's ``train_mono.sh``, fewer iterations).

    Attributes:
        num_iters: EM iterations (Kaldi: 40); a final re-alignment with the last model follows.
        realign_iters: iterations that start with a Viterbi re-alignment.
        max_gauss: target number of Gaussians over all pdfs (Kaldi: 1000).
        mixup_iters: Gaussians grow linearly to ``max_gauss`` over this many iterations (Kaldi: 30).
        var_floor_factor: variance floor as a share of the global variance.
        transition_scale: scale of transition log-probs during alignment.
    """

    num_iters: int = 25
    realign_iters: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24)
    max_gauss: int = 1000
    mixup_iters: int = 18
    var_floor_factor: float = 0.01
    transition_scale: float = 1.0


@dataclass
class MonoResult:
    """What :func:`train_mono` returns.

    Attributes:
        gmm: the trained emission model.
        topo: the topology with re-estimated transitions (the object passed in).
        alignments: final Viterbi alignments by utterance id.
        skipped: utterances left out, with reasons.
        history: per iteration ``{"iter", "num_gauss", "score_per_frame", "realigned", "utts"}``.
    """

    gmm: DiagGmm
    topo: HmmTopology
    alignments: dict[str, Alignment]
    skipped: dict[str, str]
    history: list[dict[str, Any]] = field(default_factory=list)


def _score_per_frame(alignments: dict[str, Alignment]) -> float:
    """Average Viterbi path score (transitions + log-likelihoods) per frame."""
    frames = sum(a.num_frames for a in alignments.values())
    return sum(a.score for a in alignments.values()) / max(frames, 1)


def _gmm_loglikes(gmm: DiagGmm, feats: Sequence[Tensor]) -> list[Tensor]:
    """Per-utterance ``(T_i, S)`` log-likelihoods, computed over all frames at once."""
    lengths = [f.shape[0] for f in feats]
    return list(torch.split(gmm.log_likelihood(torch.cat(list(feats))), lengths))


def train_mono(
    feats: Sequence[Tensor],
    graphs: Sequence[UtteranceGraph],
    topo: HmmTopology,
    ids: Sequence[str],
    cfg: MonoConfig | None = None,
) -> MonoResult:
    """Flat-start monophone GMM-HMM training with Viterbi re-alignment.

    Args:
        feats: per utterance ``(T_i, D)`` features (MFCC + deltas, normalised).
        graphs: per utterance HMM (:func:`asr.hmm.topology.build_graph`).
        topo: the topology; its transitions are re-estimated in place.
        ids: utterance ids (for alignments and the skip report).
        cfg: iteration schedule and sizes.

    Returns:
        A :class:`MonoResult`; utterances too short for their graph are in ``skipped``.
    """
    cfg = cfg or MonoConfig()
    feats = [f.float() for f in feats]
    skipped: dict[str, str] = {}
    alignments: dict[str, Alignment] = {}
    for f, g, uid in zip(feats, graphs, ids):
        a = align_equal(g, f.shape[0])
        if a is None:
            skipped[uid] = f"too short: {f.shape[0]} frames for {g.min_frames} HMM states ({len(g.words)} words)"
        else:
            alignments[uid] = a
    if skipped:
        log.warning("flat start: %s", describe_skipped(skipped))
    if not alignments:
        raise ValueError("no utterance is long enough to align")
    index = {uid: i for i, uid in enumerate(ids)}
    gmm = DiagGmm.flat(topo.num_pdfs, torch.cat([feats[index[u]] for u in alignments]), cfg.var_floor_factor)
    start_gauss = topo.num_pdfs
    history: list[dict[str, Any]] = []

    def realign(it: int) -> dict[str, Alignment]:
        keep = [index[u] for u in alignments]
        lls = _gmm_loglikes(gmm, [feats[i] for i in keep])
        new, report = align_utterances(lls, [graphs[i] for i in keep], topo, [ids[i] for i in keep],
                                       cfg.transition_scale)
        if report:
            log.warning("iteration %d: %s", it, describe_skipped(report))
            skipped.update(report)
        return new

    for it in range(cfg.num_iters):
        realigned = it > 0 and it in cfg.realign_iters
        if realigned:
            alignments = realign(it)
        stats = gmm.accumulate(torch.cat([feats[index[u]] for u in alignments]),
                               torch.from_numpy(np.concatenate([a.pdfs for a in alignments.values()])))
        gmm.update(stats)
        loop, leave = transition_counts(list(alignments.values()), topo.num_pdfs)
        topo.update_transitions(loop, leave)
        if it < cfg.mixup_iters:
            target = start_gauss + (cfg.max_gauss - start_gauss) * (it + 1) // cfg.mixup_iters
            gmm.mix_up(stats, target)
        score = _score_per_frame(alignments) if realigned else float("nan")
        history.append({"iter": it, "num_gauss": gmm.num_gauss, "score_per_frame": round(score, 4),
                        "realigned": realigned, "utts": len(alignments)})
        log.info("mono iter %d: %d gaussians%s", it, gmm.num_gauss,
                 f", re-aligned: score/frame {score:.3f}" if realigned else "")
    alignments = realign(cfg.num_iters)  # the final alignments come from the final model
    history.append({"iter": cfg.num_iters, "num_gauss": gmm.num_gauss,
                    "score_per_frame": round(_score_per_frame(alignments), 4), "realigned": True,
                    "utts": len(alignments)})
    return MonoResult(gmm, topo, alignments, skipped, history)


# ---------------------------------------------------------------------------
# Alignment quality against espeak-ng's phone timings
# ---------------------------------------------------------------------------


def espeak_boundaries(row: dict[str, Any]) -> np.ndarray:
    """Reference boundary times (s) from one ``<split>.align.jsonl`` row.

    Each espeak event starts a segment; pause events (mnemonics starting with
    ``_``) are silence, and a run of them is one segment. A boundary is a
    time where one segment ends and another begins: the start of every
    speech event and of every pause run, ``speech_end`` included when no
    pause event marks it. Duplicates within 1 ms are merged.
    """
    times: list[float] = []
    prev_pause = True  # leading silence before the first event
    for phone, start in zip(row["phones"], row["starts"]):
        pause = phone.startswith("_")
        if not (pause and prev_pause):
            times.append(float(start))
        prev_pause = pause
    if not prev_pause:
        times.append(float(row["speech_end"]))
    t = np.unique(np.round(np.array(times), 3))
    return t


def alignment_boundaries(ali: Alignment, frame_shift: float = 0.01, frame_offset: float = 0.0) -> np.ndarray:
    """Boundary times (s) between consecutive phone segments of an alignment (silence is a segment).

    Frame ``t`` covers ``[frame_offset + t * frame_shift, ... + frame_shift)``;
    with ``snip_edges=False`` features ``frame_offset`` is 0.
    """
    segs = ali.phone_segments()
    return np.array([frame_offset + s * frame_shift for _, s, _ in segs[1:]])


def boundary_accuracy(
    hyps: Sequence[np.ndarray], refs: Sequence[np.ndarray], tolerance: float = 0.02
) -> dict[str, float]:
    """Share of boundaries matched within ``tolerance`` seconds, by nearest neighbour.

    Args:
        hyps, refs: per utterance, sorted boundary times in seconds.

    Returns:
        ``{"ref_within": share of reference boundaries with a hypothesis
        boundary within tolerance, "hyp_within": the reverse share,
        "mean_abs_ms": mean distance of each reference boundary to its
        nearest hypothesis boundary, "num_ref", "num_hyp"}``.
    """
    ref_hits = hyp_hits = n_ref = n_hyp = 0
    dists: list[np.ndarray] = []
    for h, r in zip(hyps, refs):
        h, r = np.asarray(h, dtype=np.float64), np.asarray(r, dtype=np.float64)
        n_ref += r.size
        n_hyp += h.size
        if h.size == 0 or r.size == 0:
            continue
        d_ref = np.abs(r[:, None] - h[None, :]).min(1)
        d_hyp = np.abs(h[:, None] - r[None, :]).min(1)
        ref_hits += int((d_ref <= tolerance + 1e-9).sum())
        hyp_hits += int((d_hyp <= tolerance + 1e-9).sum())
        dists.append(d_ref)
    d = np.concatenate(dists) if dists else np.zeros(0)
    return {
        "ref_within": ref_hits / max(n_ref, 1),
        "hyp_within": hyp_hits / max(n_hyp, 1),
        "mean_abs_ms": float(d.mean() * 1000) if d.size else float("nan"),
        "num_ref": n_ref,
        "num_hyp": n_hyp,
    }
