"""HMM layer: topology and utterance graphs, Viterbi alignment, GMMs, flat-start training."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from asr.hmm.align import (
    MonoConfig,
    align_equal,
    align_utterances,
    alignment_boundaries,
    boundary_accuracy,
    espeak_boundaries,
    train_mono,
    transition_counts,
    viterbi_batch,
)
from asr.hmm.gmm import DiagGmm
from asr.hmm.topology import SIL, HmmTopology, TopologyConfig, build_graph
from asr.text.lexicon import Lexicon

LEX = Lexicon({"ab": [("a", "b")], "ba": [("b", "a"), ("b", "a", "a")], "c": [("c",)]})


def topo(states: int = 1, sil_states: int | None = None) -> HmmTopology:
    return HmmTopology.create(LEX.phones(), TopologyConfig(num_states=states, sil_states=sil_states or states))


# -- topology and graphs ---------------------------------------------------------------------


def test_topology_inventory_and_round_trip(tmp_path):
    t = topo(3, sil_states=5)
    assert t.phones[0] == SIL and t.num_pdfs == 5 + 3 * 3
    assert t.pdfs(SIL).tolist() == [0, 1, 2, 3, 4]
    assert [t.pdf_name(p) for p in t.pdfs("b")] == ["b_0", "b_1", "b_2"]
    t.update_transitions(np.full(t.num_pdfs, 9.0), np.full(t.num_pdfs, 1.0))
    assert np.allclose(np.exp(t.log_loop), 0.9)
    t.save(tmp_path / "topo.json")
    back = HmmTopology.load(tmp_path / "topo.json")
    assert back.phones == t.phones and np.allclose(back.log_loop, t.log_loop, atol=1e-6)


@pytest.mark.parametrize("states", [1, 2, 3])
def test_graph_shape(states):
    t = topo(states)
    g = build_graph(["ab", "ba"], LEX, t)
    # SIL ab SIL (ba | baa) SIL
    assert g.num_nodes == states * (1 + 2 + 1 + 2 + 3 + 1)
    assert g.min_frames == states * 4  # a b b a, no silence
    assert np.isfinite(g.init_logw).sum() == 2  # leading silence or "a"
    entries = np.flatnonzero(np.isfinite(g.init_logw))
    assert math.isclose(np.logaddexp.reduce(g.init_logw[entries]), 0.0, abs_tol=1e-9)
    assert sorted(set(g.word.tolist())) == [-1, 0, 1]
    assert build_graph([], LEX, t).min_frames == states


# -- Viterbi ----------------------------------------------------------------------------------


def brute_force(ll: np.ndarray, g, t: HmmTopology) -> tuple[float, list[int]]:
    """Best path by enumerating every node sequence (tiny graphs only)."""
    T, N = ll.shape[0], g.num_nodes
    arc = {(int(p), j): float(w) + t.log_next[g.pdf[p]]
           for j in range(N) for p, w in zip(g.pred[j], g.pred_logw[j]) if p >= 0}
    best, best_path = -math.inf, None
    for path in itertools.product(range(N), repeat=T):
        s = g.init_logw[path[0]] + g.final_logw[path[-1]] + t.log_next[g.pdf[path[-1]]]
        for a, b in zip(path, path[1:]):
            s += t.log_loop[g.pdf[a]] if a == b else arc.get((a, b), -math.inf)
        if not math.isfinite(s):
            continue
        s += sum(ll[i, g.pdf[n]] for i, n in enumerate(path))
        if s > best:
            best, best_path = s, list(path)
    return best, best_path


def test_viterbi_matches_brute_force():
    t = topo(1)
    t.set_log_loop(np.log(np.array([0.6, 0.7, 0.5, 0.8])))
    g = build_graph(["ba"], LEX, t)  # SIL (b a | b a a) SIL: 8 nodes
    rng = np.random.default_rng(0)
    for T in (3, 4, 5):
        ll = rng.normal(size=(T, t.num_pdfs))
        score, path = brute_force(ll, g, t)
        ali = viterbi_batch([torch.from_numpy(ll).float()], [g], t)[0]
        assert ali.score == pytest.approx(score, abs=1e-4)
        assert ali.nodes.tolist() == path


def test_tiny_alignment_with_known_best_path():
    t = topo(2)
    g = build_graph(["ab", "c"], LEX, t)
    want = [SIL] * 3 + ["a"] * 4 + ["b"] * 3 + ["c"] * 2 + [SIL] * 2
    ll = np.full((len(want), t.num_pdfs), -10.0)
    for i, p in enumerate(want):
        ll[i, t.pdfs(p)] = 0.0
    ali = viterbi_batch([torch.from_numpy(ll).float()], [g], t)[0]
    assert [t.phones[p] for p in ali.phones] == want
    assert ali.phone_segments() == [(t.phone_id[SIL], 0, 3), (t.phone_id["a"], 3, 7), (t.phone_id["b"], 7, 10),
                                    (t.phone_id["c"], 10, 12), (t.phone_id[SIL], 12, 14)]
    assert ali.word_segments() == [(0, 3, 10), (1, 10, 12)]
    # states run left to right inside every phone
    for phone, s, e in ali.phone_segments():
        states = t.pdf_state[ali.pdfs[s:e]]
        assert np.all(np.diff(states) >= 0) and states[0] == 0 and states[-1] == t.num_states[phone] - 1
    assert alignment_boundaries(ali, 0.01).tolist() == pytest.approx([0.03, 0.07, 0.10, 0.12])


def test_batched_viterbi_equals_one_by_one():
    t = topo(3)
    rng = np.random.default_rng(1)
    graphs = [build_graph(w, LEX, t) for w in (["ab"], ["ba", "c"], ["c", "c", "ab"])]
    lls = [torch.from_numpy(rng.normal(size=(T, t.num_pdfs))).float() for T in (9, 23, 40)]
    together = viterbi_batch(lls, graphs, t)
    for ll, g, a in zip(lls, graphs, together):
        alone = viterbi_batch([ll], [g], t)[0]
        assert a.nodes.tolist() == alone.nodes.tolist()
        assert a.score == pytest.approx(alone.score, rel=1e-5)


def test_too_short_utterance_is_skipped_with_report():
    t = topo(3)
    g = build_graph(["ab", "ba"], LEX, t)  # needs at least 12 frames
    short = torch.zeros(11, t.num_pdfs)
    ok = torch.zeros(12, t.num_pdfs)
    alignments, report = align_utterances([short, ok], [g, g], t, ["short", "ok"])
    assert list(alignments) == ["ok"] and sorted(report) == ["short"]
    assert "too short" in report["short"] and "11 frames" in report["short"]
    assert align_equal(g, 11) is None
    assert viterbi_batch([short], [g], t) == [None]


def test_equal_alignment_spreads_frames_over_the_default_path():
    t = topo(3)
    g = build_graph(["ab"], LEX, t)
    ali = align_equal(g, 40)  # SIL a b SIL: 12 states
    assert ali.num_frames == 40
    assert [t.phones[p] for p, _, _ in ali.phone_segments()] == [SIL, "a", "b", SIL]
    lengths = np.bincount(ali.nodes)
    assert lengths[lengths > 0].min() >= 3 and lengths.max() <= 4
    ali = align_equal(g, 7)  # too few for the silences: a b only
    assert [t.phones[p] for p, _, _ in ali.phone_segments()] == ["a", "b"]
    loop, leave = transition_counts([ali], t.num_pdfs)
    assert loop.sum() + leave.sum() == 7 and leave.sum() == 6


# -- GMM and flat start -----------------------------------------------------------------------


def test_gmm_estimates_means_and_mixes_up():
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(500, 2, generator=gen) + torch.tensor([5.0, 0.0]),
                   torch.randn(500, 2, generator=gen) - torch.tensor([5.0, 0.0])])
    pdfs = torch.cat([torch.zeros(500, dtype=torch.long), torch.ones(500, dtype=torch.long)])
    gmm = DiagGmm.flat(2, x)
    stats = gmm.accumulate(x, pdfs)
    gmm.update(stats)
    assert torch.allclose(gmm.means[:, 0].float(), torch.tensor([[5.0, 0.0], [-5.0, 0.0]]), atol=0.2)
    ll = gmm.log_likelihood(x)
    assert (ll.argmax(1) == pdfs).float().mean() > 0.99
    gmm.mix_up(stats, 6)
    assert gmm.num_gauss == 6
    for _ in range(3):
        stats = gmm.accumulate(x, pdfs)
        gmm.update(stats)
    assert torch.allclose(torch.logsumexp(gmm.log_weights, 1), torch.zeros(2, dtype=torch.float64), atol=1e-6)
    assert torch.isfinite(gmm.log_likelihood(x)).all()


def synthetic_corpus(t: HmmTopology, n: int = 24, dim: int = 4, seed: int = 0):
    """Frames from well-separated Gaussians per phone, with known phone boundaries."""
    rng = np.random.default_rng(seed)
    means = {p: rng.normal(scale=4.0, size=dim) for p in t.phones}
    words = list(LEX)
    feats, graphs, ids, truth = [], [], [], []
    for i in range(n):
        ws = [words[k] for k in rng.integers(0, len(words), size=rng.integers(1, 4))]
        phones = [SIL] + [p for w in ws for p in LEX.pronounce(w)] + [SIL]
        lengths = rng.integers(4, 9, size=len(phones))
        frames = [rng.normal(size=(L, dim)) * 0.7 + means[p] for p, L in zip(phones, lengths)]
        feats.append(torch.from_numpy(np.concatenate(frames)).float())
        graphs.append(build_graph(ws, LEX, t, all_prons=False))
        ids.append(f"u{i}")
        truth.append(np.cumsum(lengths)[:-1] * 0.01)
    return feats, graphs, ids, truth


def test_flat_start_gives_monotone_alignments_covering_all_frames():
    t = topo(3)
    feats, graphs, ids, truth = synthetic_corpus(t)
    # one utterance too short for its transcript: skipped, reported
    feats.append(torch.zeros(5, feats[0].shape[1]))
    graphs.append(build_graph(["ab", "ba", "c"], LEX, t))
    ids.append("short")
    result = train_mono(feats, graphs, t, ids, MonoConfig(num_iters=6, realign_iters=(1, 2, 3, 4, 5), max_gauss=40,
                                                          mixup_iters=4))
    assert sorted(result.skipped) == ["short"] and "too short" in result.skipped["short"]
    assert set(result.alignments) == set(ids[:-1])
    for f, g, uid in zip(feats, graphs, ids[:-1]):
        a = result.alignments[uid]
        assert a.num_frames == f.shape[0]  # every frame aligned
        assert np.all(np.diff(a.segments) >= 0)  # monotone through the graph
        seen_words = [w for w, _, _ in a.word_segments()]
        assert seen_words == list(range(len(g.words)))  # every word, in order
    acc = boundary_accuracy([alignment_boundaries(result.alignments[i]) for i in ids[:-1]], truth, tolerance=0.015)
    assert acc["ref_within"] > 0.9
    assert result.gmm.num_gauss > t.num_pdfs
    assert result.history[-1]["realigned"] in (True, False)


def test_espeak_boundaries_and_accuracy():
    row = {"phones": ["h", "@", "l", "oU", "_:", "_", "w", "3", "_:", "_"],
           "starts": [0.1, 0.15, 0.2, 0.26, 0.4, 0.41, 0.5, 0.56, 0.7, 0.71], "speech_end": 0.72}
    ref = espeak_boundaries(row)
    assert ref.tolist() == [0.1, 0.15, 0.2, 0.26, 0.4, 0.5, 0.56, 0.7]
    hyp = np.array([0.11, 0.17, 0.23, 0.26, 0.45, 0.5, 0.56, 0.69])
    acc = boundary_accuracy([hyp], [ref], tolerance=0.02)
    assert acc["ref_within"] == pytest.approx(6 / 8) and acc["num_ref"] == 8
    assert boundary_accuracy([np.zeros(0)], [ref])["ref_within"] == 0.0
