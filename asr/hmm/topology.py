"""Phone HMMs: topology, state inventory (pdf ids), transitions, utterance graphs.

Every phone is a left-to-right HMM: ``num_states`` emitting states, each with
a self-loop and a forward arc to the next state; the last state's forward arc
leaves the phone. Silence (:data:`SIL`) is a phone of its own with its own
number of states (``sil_states``) and its own transition probabilities. This is
Kaldi's monophone setup without the ergodic silence model.

State inventory: phone ``p`` owns the pdf ids ``pdf_offset[p] ... pdf_offset[p]
+ states[p] - 1``, one per HMM state (monophones: no tying); the acoustic
model (GMM or neural network) scores these pdf ids. :data:`SIL` is phone 0, so
its states are pdfs ``0 .. sil_states - 1``.

Transitions are kept per pdf (monophone states are not shared): ``log_loop[s]``
and ``log_next[s] = log(1 - exp(log_loop[s]))`` and are re-estimated from
alignment counts (:meth:`HmmTopology.update_transitions`).

An :class:`UtteranceGraph` is the HMM of one transcript: the word sequence
expanded through the lexicon into phones and states, with optional silence at
the start, between words and at the end (probability ``sil_prob``) and
alternative pronunciations as parallel branches. It is stored as
predecessor lists padded to the graph's largest fan-in, which is what the
vectorised Viterbi in :mod:`asr.hmm.align` consumes.

Usage::

    topo = HmmTopology.create(lexicon.phones(), TopologyConfig(num_states=3))
    graph = build_graph("the cat".split(), lexicon, topo)
    graph.num_nodes, graph.min_frames
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asr.text.lexicon import Lexicon

__all__ = ["SIL", "TopologyConfig", "HmmTopology", "UtteranceGraph", "build_graph"]

SIL = "SIL"  # the silence phone; phone id 0 of every topology
NEG_INF = -math.inf
LOG_FLOOR = math.log(1e-3)  # transition probabilities never fall below 0.001


@dataclass(frozen=True)
class TopologyConfig:
    """HMM shape options, saved with a model.

    Attributes:
        num_states: emitting states per (non-silence) phone; 3 is Kaldi's and HTK's default.
        sil_states: emitting states of the silence phone.
        self_loop_prob: initial self-loop probability of every state (0.75 =
            expected 4 frames per state, Kaldi's initial value).
        sil_prob: probability of the optional silence at the start, between
            words and at the end of an utterance (Kaldi's ``--sil-prob 0.5``).
    """

    num_states: int = 3
    sil_states: int = 3
    self_loop_prob: float = 0.75
    sil_prob: float = 0.5

    def __post_init__(self) -> None:
        if self.num_states < 1 or self.sil_states < 1:
            raise ValueError(f"HMMs need at least one state, got num_states={self.num_states}, sil_states={self.sil_states}")
        if not 0.0 < self.self_loop_prob < 1.0:
            raise ValueError(f"self_loop_prob must be in (0, 1), got {self.self_loop_prob}")
        if not 0.0 < self.sil_prob < 1.0:
            raise ValueError(f"sil_prob must be in (0, 1), got {self.sil_prob}")


class HmmTopology:
    """The phone set, each phone's HMM states (pdf ids) and the transition probabilities.

    Attributes:
        cfg: the :class:`TopologyConfig`.
        phones: phone names; ``phones[0] == SIL``.
        num_states: ``(num_phones,)`` emitting states per phone.
        pdf_offset: ``(num_phones,)`` first pdf id of each phone.
        pdf_phone: ``(num_pdfs,)`` phone id of each pdf.
        pdf_state: ``(num_pdfs,)`` state index of each pdf within its phone.
        log_loop: ``(num_pdfs,)`` float64 log self-loop probability.
        log_next: ``(num_pdfs,)`` float64 log forward (leave-state) probability.
    """

    def __init__(self, phones: Sequence[str], cfg: TopologyConfig, log_loop: np.ndarray | None = None):
        """Make the topology for ``phones`` (must start with :data:`SIL`)."""
        if not phones or phones[0] != SIL:
            raise ValueError(f"phone 0 must be {SIL!r}, got {list(phones[:1])}")
        if len(set(phones)) != len(phones):
            raise ValueError("phone names repeat")
        self.cfg = cfg
        self.phones = list(phones)
        self.phone_id = {p: i for i, p in enumerate(self.phones)}
        self.num_states = np.array([cfg.sil_states] + [cfg.num_states] * (len(phones) - 1), dtype=np.int64)
        self.pdf_offset = np.concatenate([[0], np.cumsum(self.num_states)[:-1]]).astype(np.int64)
        self.pdf_phone = np.repeat(np.arange(len(phones)), self.num_states)
        self.pdf_state = np.concatenate([np.arange(n) for n in self.num_states]).astype(np.int64)
        if log_loop is None:
            log_loop = np.full(self.num_pdfs, math.log(cfg.self_loop_prob))
        self.set_log_loop(np.asarray(log_loop, dtype=np.float64))

    @classmethod
    def create(cls, phones: Sequence[str], cfg: TopologyConfig | None = None) -> HmmTopology:
        """Topology for a lexicon's phone set (:data:`SIL` is put first, others sorted)."""
        others = sorted(set(phones) - {SIL})
        return cls([SIL] + others, cfg or TopologyConfig())

    # -- sizes and lookups ----------------------------------------------------------

    @property
    def num_phones(self) -> int:
        """Phones, silence included."""
        return len(self.phones)

    @property
    def num_pdfs(self) -> int:
        """Emitting HMM states over all phones: the acoustic model's output size."""
        return int(self.num_states.sum())

    def pdfs(self, phone: str | int) -> np.ndarray:
        """``(n,)`` pdf ids of a phone's states, in order."""
        p = self.phone_id[phone] if isinstance(phone, str) else int(phone)
        return np.arange(self.pdf_offset[p], self.pdf_offset[p] + self.num_states[p])

    def pdf_name(self, pdf: int) -> str:
        """``"phone_state"``, e.g. ``"aɪ_1"`` (for reports)."""
        return f"{self.phones[self.pdf_phone[pdf]]}_{self.pdf_state[pdf]}"

    # -- transitions ----------------------------------------------------------------

    def set_log_loop(self, log_loop: np.ndarray) -> None:
        """Install ``(num_pdfs,)`` log self-loop probabilities (clipped to ``[0.001, 0.999]``)."""
        if log_loop.shape != (self.num_pdfs,):
            raise ValueError(f"expected {self.num_pdfs} self-loop log-probs, got shape {log_loop.shape}")
        loop = np.clip(np.exp(log_loop), math.exp(LOG_FLOOR), 1.0 - math.exp(LOG_FLOOR))
        self.log_loop = np.log(loop)
        self.log_next = np.log1p(-loop)

    def update_transitions(self, loop_counts: np.ndarray, next_counts: np.ndarray, min_count: float = 5.0) -> None:
        """Maximum-likelihood transitions from alignment counts (Kaldi's transition-model update).

        Args:
            loop_counts: ``(num_pdfs,)`` frames followed by the same state.
            next_counts: ``(num_pdfs,)`` frames that left their state.
            min_count: pdfs seen fewer times keep their current probabilities.
        """
        total = loop_counts + next_counts
        seen = total >= min_count
        log_loop = self.log_loop.copy()
        log_loop[seen] = np.log(np.maximum(loop_counts[seen], 1e-10) / total[seen])
        self.set_log_loop(log_loop)

    # -- (de)serialisation ----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: config, phones, per-state loop probabilities."""
        return {
            "config": asdict(self.cfg),
            "phones": self.phones,
            "self_loop_probs": [round(float(p), 6) for p in np.exp(self.log_loop)],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HmmTopology:
        """Inverse of :meth:`to_dict`."""
        return cls(d["phones"], TopologyConfig(**d["config"]), np.log(np.asarray(d["self_loop_probs"], dtype=np.float64)))

    def save(self, path: str | os.PathLike) -> None:
        """Write ``topology.json``."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> HmmTopology:
        """Read a ``topology.json`` written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        return f"HmmTopology({self.num_phones} phones, {self.num_pdfs} pdfs)"


@dataclass
class UtteranceGraph:
    """The HMM of one transcript, as padded predecessor lists over its ``N`` nodes (HMM states).

    Node ``j`` emits pdf ``pdf[j]``; it may be entered from ``pred[j, k]``
    (``-1`` = padding) with log weight ``pred_logw[j, k]`` plus the
    predecessor's forward transition ``log_next[pdf[pred]]``; it has a
    self-loop ``log_loop[pdf[j]]``. Paths start in nodes with finite
    ``init_logw`` and end in nodes with finite ``final_logw`` (plus the final
    node's ``log_next``, the exit from the last state).

    Attributes:
        words: the transcript.
        pdf, phone, state: ``(N,)`` pdf id, phone id, state index within the phone.
        segment: ``(N,)`` index of the phone instance the node belongs to
            (consecutive nodes of one phone share it; parallel pronunciations
            have their own), so segments can be read off a state path.
        word: ``(N,)`` index into ``words``, ``-1`` for silence.
        pred, pred_logw: ``(N, P)`` predecessor nodes and extra log weights.
        init_logw, final_logw: ``(N,)``.
        default_path: nodes of the path used for flat start (first
            pronunciations, silence at the ends only, no silence between words).
    """

    words: list[str]
    pdf: np.ndarray
    phone: np.ndarray
    state: np.ndarray
    segment: np.ndarray
    word: np.ndarray
    pred: np.ndarray
    pred_logw: np.ndarray
    init_logw: np.ndarray
    final_logw: np.ndarray
    default_path: np.ndarray
    min_frames: int = 0

    @property
    def num_nodes(self) -> int:
        """``N``."""
        return int(self.pdf.shape[0])


@dataclass
class _Builder:
    """Accumulates nodes; ``frontier`` = (node, log weight) pairs the next chain is entered from."""

    topo: HmmTopology
    pdf: list[int] = field(default_factory=list)
    phone: list[int] = field(default_factory=list)
    state: list[int] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    word: list[int] = field(default_factory=list)
    preds: list[list[tuple[int, float]]] = field(default_factory=list)
    num_segments: int = 0

    def chain(self, phones: Sequence[int], word: int, entry: list[tuple[int, float]]) -> tuple[int, int]:
        """Append the states of ``phones`` in a row, the first entered from ``entry``; returns (first, last) node."""
        first = len(self.pdf)
        prev: list[tuple[int, float]] = entry
        for p in phones:
            for s, pdf in enumerate(self.topo.pdfs(p)):
                self.pdf.append(int(pdf))
                self.phone.append(p)
                self.state.append(s)
                self.segment.append(self.num_segments)
                self.word.append(word)
                self.preds.append(list(prev))
                prev = [(len(self.pdf) - 1, 0.0)]
            self.num_segments += 1
        return first, len(self.pdf) - 1


def build_graph(words: Sequence[str], lexicon: Lexicon, topo: HmmTopology, all_prons: bool = True) -> UtteranceGraph:
    """Expand a transcript into its HMM (optional silences, alternative pronunciations).

    Args:
        words: the transcript's words (all must be in ``lexicon``).
        lexicon: pronunciations; phones must be in ``topo``.
        topo: the phone HMMs; ``topo.cfg.sil_prob`` weighs the optional silences.
        all_prons: branch over every pronunciation (weighted by its lexicon
            probability, renormalised); ``False`` uses the first only.

    Returns:
        The graph; ``graph.min_frames`` is the shortest path (no silence).

    Raises:
        KeyError: a word is not in the lexicon or a phone not in ``topo``.
    """
    b = _Builder(topo)
    sil = [topo.phone_id[SIL]]
    log_sil, log_nosil = math.log(topo.cfg.sil_prob), math.log1p(-topo.cfg.sil_prob)
    default: list[int] = []
    min_frames = 0

    def optional_silence(frontier: list[tuple[int, float]], at_end: bool = False) -> list[tuple[int, float]]:
        first, last = b.chain(sil, -1, [(n, w + log_sil) for n, w in frontier])
        if at_end or not default:
            default.extend(range(first, last + 1))
        return [(n, w + log_nosil) for n, w in frontier] + [(last, 0.0)]

    # Start: a virtual entry node -2 stands for "the beginning"; resolved into init_logw below.
    frontier: list[tuple[int, float]] = optional_silence([(-2, 0.0)])
    for i, w in enumerate(words):
        prons = lexicon.pronunciations(w)[: None if all_prons else 1]
        probs = np.array([lexicon.prob(w, p) for p in prons], dtype=np.float64)
        log_probs = np.log(probs / probs.sum())
        ends: list[tuple[int, float]] = []
        for k, (pron, lp) in enumerate(zip(prons, log_probs)):
            ids = [topo.phone_id[p] for p in pron]
            first, last = b.chain(ids, i, [(n, wt + lp) for n, wt in frontier])
            ends.append((last, 0.0))
            if k == 0:
                default.extend(range(first, last + 1))
                min_frames += int(topo.num_states[ids].sum())
        frontier = ends if i == len(words) - 1 else optional_silence(ends)
    if words:
        frontier = optional_silence(frontier, at_end=True)
    else:  # silence only: the one silence chain must be used
        frontier = [(n, w) for n, w in frontier if n >= 0]
        min_frames = int(topo.num_states[0])

    N = len(b.pdf)
    P = max(1, max(len([p for p in ps if p[0] >= 0]) for ps in b.preds))
    pred = np.full((N, P), -1, dtype=np.int64)
    pred_logw = np.full((N, P), NEG_INF)
    init_logw = np.full(N, NEG_INF)
    for j, ps in enumerate(b.preds):
        k = 0
        for n, w in ps:
            if n == -2:
                init_logw[j] = np.logaddexp(init_logw[j], w)
            else:
                pred[j, k], pred_logw[j, k] = n, w
                k += 1
    final_logw = np.full(N, NEG_INF)
    for n, w in frontier:
        final_logw[n] = np.logaddexp(final_logw[n], w)
    return UtteranceGraph(
        words=list(words),
        pdf=np.array(b.pdf, dtype=np.int64),
        phone=np.array(b.phone, dtype=np.int64),
        state=np.array(b.state, dtype=np.int64),
        segment=np.array(b.segment, dtype=np.int64),
        word=np.array(b.word, dtype=np.int64),
        pred=pred,
        pred_logw=pred_logw,
        init_logw=init_logw,
        final_logw=final_logw,
        default_path=np.array(default, dtype=np.int64),
        min_frames=min_frames,
    )
