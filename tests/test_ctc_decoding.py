"""CTC decoders: greedy, prefix beam search vs exhaustive search, lexicon + LM, word timestamps."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch

from asr import registry
from asr.decoding.ctc_beam import BeamDecoder, prefix_beam_search
from asr.decoding.ctc_lexicon import LexiconDecoder, arpa_words, spell_words, word_timestamps
from asr.decoding.greedy import GreedyDecoder, greedy_search
from asr.text.tokenizer import CharTokenizer, SentencePieceTokenizer

WORDS = ["the", "cat", "cap", "sat", "on", "dog"]
TOK = CharTokenizer.build([" ".join(WORDS)])  # <blk> <unk> | a c d e g h n o p s t


def one_hot_frames(spec: list, V: int, floor: float = -8.0) -> torch.Tensor:
    """``(T, V)`` log-probs: each entry a token id (prob ~1) or {id: prob}; renormalised."""
    rows = []
    for item in spec:
        row = torch.full((V,), floor)
        for i, p in (item.items() if isinstance(item, dict) else [(item, 1.0)]):
            row[i] = math.log(p)
        rows.append(row)
    return torch.stack(rows).log_softmax(-1)


def spell(text: str) -> list:
    """Frames for ``text`` with the char tokenizer: each char then a blank."""
    out = []
    for i in TOK.encode(text):
        out += [i, 0]
    return out


def write_arpa(path: Path, unigrams: dict[str, tuple[float, float]], bigrams: dict[tuple[str, str], float]) -> None:
    """A hand-made bigram ARPA file (log10 probabilities and back-off weights)."""
    lines = ["\\data\\", f"ngram 1={len(unigrams)}", f"ngram 2={len(bigrams)}", "", "\\1-grams:"]
    lines += [f"{p:.4f}\t{w}\t{b:.4f}" for w, (p, b) in unigrams.items()]
    lines += ["", "\\2-grams:"]
    lines += [f"{p:.4f}\t{a} {w}" for (a, w), p in bigrams.items()]
    path.write_text("\n".join(lines + ["", "\\end\\", ""]))


@pytest.fixture(scope="module")
def arpa(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    unigrams = {"<s>": (-99.0, -0.3), "</s>": (-1.0, 0.0), "<unk>": (-5.0, 0.0)}
    unigrams.update({w: (-1.0, -0.3) for w in WORDS})
    write_arpa(path, unigrams, {("<s>", "the"): -0.1, ("the", "cat"): -0.05, ("cat", "</s>"): -0.05})
    return path


# -- greedy --------------------------------------------------------------------------


def test_greedy_merges_repeats_drops_blanks_and_respects_lengths():
    V = 5
    a = one_hot_frames([1, 1, 0, 1, 2, 2, 0, 0, 3, 4], V)
    b = one_hot_frames([0, 4, 4, 4, 0, 3, 3, 2, 2, 2], V)  # only the first 6 frames are valid
    ids = greedy_search(torch.stack([a, b]), torch.tensor([10, 6]))
    assert ids == [[1, 1, 2, 3, 4], [4, 3]]
    assert greedy_search(torch.stack([a, b]))[1] == [4, 3, 2]
    assert greedy_search(torch.zeros(1, 0, V), torch.tensor([0])) == [[]]
    texts = GreedyDecoder(TOK)(one_hot_frames(spell("the cat"), TOK.vocab_size)[None], torch.tensor([14]))
    assert texts == ["the cat"]


# -- prefix beam search vs exhaustive --------------------------------------------------


def exhaustive(log_probs: torch.Tensor, blank: int = 0) -> dict[tuple[int, ...], float]:
    """log P(labels | x) of every label sequence, summing all V^T alignments."""
    T, V = log_probs.shape
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(V), repeat=T):
        score = float(sum(log_probs[t, c] for t, c in enumerate(path)))
        labels = tuple(c for k, c in enumerate(path) if c != blank and (k == 0 or c != path[k - 1]))
        old = totals.get(labels, -math.inf)
        top = max(old, score)
        totals[labels] = top + math.log(math.exp(old - top) + math.exp(score - top))
    return totals


@pytest.mark.parametrize("seed,T,V", [(0, 4, 3), (1, 5, 3), (2, 3, 4), (3, 6, 2), (4, 4, 4)])
def test_prefix_beam_search_equals_exhaustive_search(seed, T, V):
    torch.manual_seed(seed)
    lp = (2.0 * torch.randn(T, V, dtype=torch.float64)).log_softmax(-1)
    exact = exhaustive(lp)
    full = prefix_beam_search(lp, beam_size=10_000)
    assert {p for p, _ in full} == set(exact)
    for prefix, score in full:
        assert score == pytest.approx(exact[prefix], abs=1e-9)
    best = max(exact, key=exact.get)
    assert prefix_beam_search(lp, beam_size=4)[0][0] == best
    # repeat frames with blanks between must stay distinct labels
    assert prefix_beam_search(one_hot_frames([1, 0, 1], 3, floor=-20.0), 4)[0][0] == (1, 1)


def test_beam_decoder_texts_and_registry():
    lp = one_hot_frames(spell("the dog"), TOK.vocab_size)[None]
    assert BeamDecoder(TOK, beam_size=4)(lp, torch.tensor([lp.shape[1]])) == ["the dog"]
    assert {"greedy", "beam", "lexicon"} <= set(registry.names("decoder"))
    decoder = registry.build("decoder", "beam", tokenizer=TOK, beam_size=2)
    assert decoder(lp, torch.tensor([lp.shape[1]])) == ["the dog"]


# -- lexicon + LM ------------------------------------------------------------------------


def ambiguous_emissions() -> torch.Tensor:
    """"the ca?" where the last char is p (0.55) or t (0.45): acoustically "the cap"."""
    p, t = TOK.tokens.index("p"), TOK.tokens.index("t")
    return one_hot_frames(spell("the ca") + [{p: 0.55, t: 0.45}, 0], TOK.vocab_size)[None]


def test_lexicon_decoder_prefers_lm_sequence(arpa):
    e = ambiguous_emissions()
    lengths = torch.tensor([e.shape[1]])
    assert TOK.decode(greedy_search(e)[0]) == "the cap"
    no_lm = LexiconDecoder(TOK, lm=None, words=WORDS, beam_size=20)
    assert no_lm(e, lengths) == ["the cap"]
    with_lm = LexiconDecoder(TOK, lm=arpa, lm_weight=2.0, beam_size=20)  # words from the ARPA unigrams
    assert with_lm(e, lengths) == ["the cat"]
    hyp = with_lm.decode(e, lengths)[0][0]
    assert hyp.words == ["the", "cat"] and hyp.tokens == TOK.encode("thecat")
    assert hyp.timesteps == sorted(hyp.timesteps) and hyp.timesteps[0] == 0


def test_lexicon_only_spells_known_words(arpa):
    # "the dag" is not in the lexicon: the search must pick a lexicon word
    a, o = TOK.tokens.index("a"), TOK.tokens.index("o")
    e = one_hot_frames(spell("the d") + [{a: 0.6, o: 0.4}, 0] + spell("g"), TOK.vocab_size)[None]
    assert TOK.decode(greedy_search(e)[0]) == "the dag"
    assert LexiconDecoder(TOK, lm=None, words=WORDS)(e) == ["the dog"]


def test_arpa_words_and_spellings(arpa, tmp_path):
    assert arpa_words(arpa) == WORDS
    assert spell_words(["cat", "zebra"], TOK) == {"cat": ["c", "a", "t", "|"]}  # z, b, r unknown
    spm = SentencePieceTokenizer.train(["the cat sat on the dog"] * 30, 24, tmp_path / "spm", hard_vocab_limit=False)
    spelled = spell_words(["cat", "dog"], spm)
    assert all(s[0].startswith("▁") and "|" not in s for s in spelled.values())


def test_lexicon_decoder_with_sentencepiece(tmp_path, arpa):
    spm = SentencePieceTokenizer.train(["the cat sat on the dog cap"] * 30, 24, tmp_path / "spm",
                                       hard_vocab_limit=False)
    frames = []
    for i in spm.encode("the dog"):
        frames += [i, 0]
    e = one_hot_frames(frames, spm.vocab_size)[None]
    assert LexiconDecoder(spm, lm=arpa, lm_weight=0.5)(e) == ["the dog"]


# -- word timestamps ---------------------------------------------------------------------


def test_word_timestamps_monotone_and_inside_the_utterance():
    frames = [0, 0] + spell("the") + [0, 0, 0] + spell("cat") + [0, 0]
    lp = one_hot_frames(frames, TOK.vocab_size)
    shift = 0.04
    duration = len(frames) * shift
    words = word_timestamps(lp, TOK.encode("the cat"), TOK, shift, duration)
    assert [w.word for w in words] == ["the", "cat"]
    assert words[0].start == pytest.approx(2 * shift)  # after two blank frames
    for w in words:
        assert 0 <= w.start < w.end <= duration
    assert words[0].end <= words[1].start
    assert word_timestamps(lp, [], TOK, shift) == []
    with pytest.raises(ValueError, match="cannot be aligned"):
        word_timestamps(lp[:3], TOK.encode("the cat"), TOK, shift)
