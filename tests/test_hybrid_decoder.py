"""Hybrid decoder: lexicon-tree beam search over hand-made frame scores."""

from __future__ import annotations

import numpy as np
import pytest

from asr.decoding.hybrid_search import DecoderConfig, HybridDecoder, LexiconTree, phone_loop_lexicon
from asr.text.lm import train_ngram
from asr.hmm.topology import SIL, HmmTopology, TopologyConfig
from asr.text.lexicon import Lexicon

LEX = Lexicon({
    "ab": [("a", "b")],
    "ac": [("a", "c")],
    "ba": [("b", "a")],
    "c": [("c",)],
    "red": [("r", "e", "d")],
    "read": [("r", "e", "d"), ("r", "i", "d")],
    "i": [("a", "i")],
    "the": [("d", "a")],
})


def topo(states: int = 1) -> HmmTopology:
    return HmmTopology.create(LEX.phones(), TopologyConfig(num_states=states, sil_states=states))


def frames(t: HmmTopology, phones: list[str], per_phone: int = 2, good: float = 0.0, bad: float = -8.0) -> np.ndarray:
    """``(T, num_pdfs)`` scores: each listed phone's states get ``good`` for ``per_phone`` frames per state."""
    rows = []
    for p in phones:
        for pdf in t.pdfs(p):
            for _ in range(per_phone):
                row = np.full(t.num_pdfs, bad)
                row[pdf] = good
                rows.append(row)
    return np.stack(rows)


CFG = DecoderConfig(beam=30.0, acoustic_scale=1.0, transition_scale=1.0)


@pytest.mark.parametrize("states", [1, 3])
def test_known_best_word_sequence_and_times(states):
    t = topo(states)
    tree = LexiconTree.build(LEX, t)
    ll = frames(t, [SIL, "a", "b", SIL, "c", "b", "a"])
    result = HybridDecoder(tree, None, CFG).decode(ll)
    assert result.words == ["ab", "c", "ba"]
    k = 2 * states  # frames per phone
    assert result.starts.tolist() == [1 * k, 4 * k, 5 * k]
    assert result.ends.tolist() == [3 * k, 5 * k, 7 * k]
    assert result.times(0.01)[0] == ("ab", round(k * 0.01, 3), round(3 * k * 0.01, 3))


def test_lm_picks_between_homophones():
    t = topo()
    lm = train_ngram([["i", "read"]] * 5 + [["the", "red"]] * 5 + [["c"]], order=2)
    tree = LexiconTree.build(LEX, t, lm)
    dec = HybridDecoder(tree, lm, CFG)
    assert dec.decode(frames(t, ["a", "i", "r", "e", "d"])).words == ["i", "read"]
    assert dec.decode(frames(t, ["d", "a", "r", "e", "d"])).words == ["the", "red"]


def test_lm_overrides_weak_acoustic_evidence_only_when_weighted():
    t = topo()
    # acoustics slightly prefer "ab" over "ac" in the second word position
    ll = frames(t, ["d", "a", "a", "b"])
    c_pdf = t.pdfs("c")[0]
    ll[-2:, c_pdf] = -1.0  # "c" nearly as good as "b" on the last two frames
    lm = train_ngram([["the", "ac"]] * 20 + [["ab"]], order=2)
    tree = LexiconTree.build(LEX, t, lm)
    no_lm = HybridDecoder(tree, None, CFG).decode(ll)
    weak = HybridDecoder(tree, lm, DecoderConfig(beam=30.0, acoustic_scale=1.0, lm_weight=0.01)).decode(ll)
    strong = HybridDecoder(tree, lm, DecoderConfig(beam=30.0, acoustic_scale=1.0, lm_weight=2.0)).decode(ll)
    assert no_lm.words == ["the", "ab"] == weak.words
    assert strong.words == ["the", "ac"]


def test_alternative_pronunciation_and_lookahead_agree():
    t = topo(2)
    lm = train_ngram([["i", "read"], ["the", "red"]], order=2)
    tree = LexiconTree.build(LEX, t, lm)
    ll = frames(t, [SIL, "a", "i", "r", "i", "d", SIL])
    for lookahead in (True, False):
        cfg = DecoderConfig(beam=30.0, acoustic_scale=1.0, lookahead=lookahead)
        result = HybridDecoder(tree, lm, cfg).decode(ll)
        assert result.words == ["i", "read"]


def test_narrow_beam_and_max_active_still_decode():
    t = topo(3)
    tree = LexiconTree.build(LEX, t)
    ll = frames(t, [SIL, "a", "b", SIL, "c"])
    for beam, max_active in [(5.0, 3), (2.0, 1000), (50.0, 1)]:
        result = HybridDecoder(tree, None, DecoderConfig(beam=beam, max_active=max_active, acoustic_scale=1.0)).decode(ll)
        assert result.words == ["ab", "c"]


def test_phone_loop_recognises_phones():
    t = topo()
    phones = [p for p in t.phones if p != SIL]
    lm = train_ngram([["a", "b", "c"], ["r", "e", "d"]], order=2)
    tree = LexiconTree.build(phone_loop_lexicon(phones), t, lm)
    result = HybridDecoder(tree, lm, CFG).decode(frames(t, [SIL, "r", "e", "d", SIL, "a"]))
    assert result.words == ["r", "e", "d", "a"]


def test_empty_input():
    t = topo()
    result = HybridDecoder(LexiconTree.build(LEX, t), None, CFG).decode(np.zeros((0, t.num_pdfs)))
    assert result.words == [] and result.num_frames == 0
