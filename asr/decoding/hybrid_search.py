"""Hybrid HMM decoding: token-passing Viterbi beam search over a lexicon prefix tree with an n-gram LM.

The search space is the classical one of HTK / Sphinx decoders (no WFST):

* a **lexicon prefix tree** (:class:`LexiconTree`): words sharing a prefix of
  phones share tree nodes; every node is one phone's left-to-right HMM, its
  states unrolled into tree *states* (so the tree holds
  ``sum(states of each node)`` states); a word ends at the node of its last
  phone. Optional silence is a pseudo-word of its own (the :data:`SIL`
  phone, no LM score, a ``sil_penalty``).
* a **token** is (tree state, LM state, score, word-link, word start frame).
  Every frame all tokens advance at once (numpy): self-loop and forward
  transitions, entry into the children of a finished phone, emission
  ``acoustic_scale * loglike[t, pdf]``; tokens meeting in the same (tree
  state, LM state) recombine (Viterbi); then **beam** pruning (score within
  ``beam`` of the best) and **max-active** pruning (the best ``max_active``).
* at a **word end** the token leaves the tree: the word's LM log-probability
  (``lm_weight`` times it, plus ``word_penalty``) is applied (the LM is
  applied at word ends, with a unigram look-ahead inside the tree: each
  tree state carries the best unigram probability of the words below it,
  replaced by the real n-gram score at the word end), a word-link record
  (word, start, end, previous link) is appended, and the token re-enters the
  tree root with its new LM state on the next frame.

The final hypothesis is the best token that ends a word at the last frame
(plus the LM's end-of-sentence score); its word links give the words with
start and end frames.

Phone recognition is the same search with each phone as a "word" and a
phone n-gram as the LM (:func:`phone_loop_lexicon`).

Usage::

    tree = LexiconTree.build(lexicon, topo, lm)
    decoder = HybridDecoder(tree, lm, DecoderConfig(beam=10.0))
    result = decoder.decode(loglikes)           # (T, num_pdfs) scaled log-likelihoods
    result.words, result.times(frame_shift=0.01)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from asr.decoding.types import distinct_texts
from asr.text.lm import NgramLM
from asr.hmm.topology import SIL, HmmTopology
from asr.text.lexicon import Lexicon

__all__ = ["DecoderConfig", "LexiconTree", "HybridDecoder", "DecodeResult", "phone_loop_lexicon"]

SIL_WORD = -1  # word id of the optional-silence pseudo-word
NEG_INF = -1e30  # stands for -inf in float arrays (keeps arithmetic finite)


@dataclass(frozen=True)
class DecoderConfig:
    """Search options; scores are ``acoustic_scale * acoustic + transition_scale * transitions
    + lm_weight * lm + word_penalty * words + sil_penalty * silences`` (natural logs).

    Attributes:
        beam: keep tokens within this score of the best (per frame).
        max_active: keep at most this many tokens per frame (the best ones).
        acoustic_scale: weight of the scaled log-likelihoods (Kaldi's ``--acoustic-scale``).
        transition_scale: weight of HMM transition log-probabilities.
        lm_weight: weight of LM log-probabilities.
        word_penalty: added per word (negative discourages insertions).
        sil_penalty: added per optional silence.
        lookahead: apply the unigram LM look-ahead inside the tree.
        word_end_beam: tokens leaving a word (re-entering the root) must be
            within this of the frame's best (Sphinx's ``-wbeam``); 0 = ``beam``.
        max_word_ends: at most this many LM histories re-enter the tree per
            frame (Sphinx's ``-maxwpf``); 0 = no limit.
    """

    beam: float = 10.0
    max_active: int = 2000
    acoustic_scale: float = 0.1
    transition_scale: float = 0.1
    lm_weight: float = 1.0
    word_penalty: float = 0.0
    sil_penalty: float = 0.0
    lookahead: bool = True
    word_end_beam: float = 0.0
    max_word_ends: int = 0


@dataclass
class LexiconTree:
    """The lexicon prefix tree, unrolled into HMM states (see the module docstring).

    Arrays over the ``S`` tree states: ``pdf``, ``loop_logp``, ``next_logp``
    (HMM transitions, unscaled), ``succ_ptr``/``succ_dst``/``succ_kind`` (CSR
    successors within the tree: kind 0 = self-loop, 1 = forward),
    ``word_ptr``/``word_ids`` (CSR of the words ending at a state; only last
    states of word-final nodes have any), ``lookahead`` (best unigram ln-prob
    of the words reachable from the state). ``root_states`` are the first
    states of the root's children (silence included).

    Attributes:
        words: word strings by decoder word id (== LM id when built with an LM).
    """

    pdf: np.ndarray
    loop_logp: np.ndarray
    next_logp: np.ndarray
    succ_ptr: np.ndarray
    succ_dst: np.ndarray
    succ_kind: np.ndarray
    word_ptr: np.ndarray
    word_ids: np.ndarray
    root_states: np.ndarray
    lookahead: np.ndarray
    words: dict[int, str] = field(default_factory=dict)
    num_nodes: int = 0

    @property
    def num_states(self) -> int:
        """``S``."""
        return int(self.pdf.shape[0])

    @classmethod
    def build(cls, lexicon: Lexicon, topo: HmmTopology, lm: NgramLM | None = None,
              bonus: dict[str, float] | None = None) -> LexiconTree:
        """Build the tree of every pronunciation in ``lexicon``.

        Args:
            lexicon: words and pronunciations (phones must be in ``topo``).
            topo: phone HMMs and transitions.
            lm: gives word ids (``lm.id(word)``, so out-of-vocabulary words
                score as ``<unk>``) and unigram look-ahead probabilities;
                ``None`` numbers words in lexicon order, no look-ahead.
            bonus: word -> added to its unigram ln-probability in the look-ahead (hotwords: the
                bonus :class:`HybridDecoder` adds at the word's end, divided by the LM weight).
        """
        # 1. the tree of phones: node 0 is the root; children keyed by phone id
        children: list[dict[int, int]] = [{}]
        node_phone = [-1]
        node_words: list[list[int]] = [[]]
        words: dict[int, str] = {}
        sil = topo.phone_id[SIL]
        bonus = bonus or {}
        word_bonus: dict[int, float] = {}
        for n, w in enumerate(lexicon):
            wid = lm.id(w) if lm is not None else n
            if wid in words and words[wid] != w:  # out of the LM's vocabulary: keep it distinct
                wid = -2 - n
            words[wid] = w
            if w in bonus:
                word_bonus[wid] = bonus[w]
            for pron in lexicon.pronunciations(w):
                node = 0
                for p in pron:
                    pid = topo.phone_id[p]
                    nxt = children[node].get(pid)
                    if nxt is None:
                        nxt = children[node][pid] = len(node_phone)
                        children.append({})
                        node_phone.append(pid)
                        node_words.append([])
                    node = nxt
                if wid not in node_words[node]:
                    node_words[node].append(wid)
        sil_node = len(node_phone)  # silence: a root child of its own, ending the pseudo-word SIL_WORD
        children[0][-1] = sil_node
        children.append({})
        node_phone.append(sil)
        node_words.append([SIL_WORD])

        # 2. unroll nodes into states
        num_nodes = len(node_phone)
        first = np.zeros(num_nodes, dtype=np.int64)
        pdfs: list[int] = []
        state_node: list[int] = []
        for node in range(1, num_nodes):
            first[node] = len(pdfs)
            for pdf in topo.pdfs(node_phone[node]):
                pdfs.append(int(pdf))
                state_node.append(node)
        pdf = np.array(pdfs, dtype=np.int64)
        S = pdf.shape[0]
        last = np.array([first[n] + topo.num_states[node_phone[n]] - 1 if n else -1 for n in range(num_nodes)])

        # 3. successors (self-loop, next state or children's first states), words at last states
        succ: list[list[tuple[int, int]]] = [[(s, 0)] for s in range(S)]
        for node in range(1, num_nodes):
            for s in range(first[node], last[node]):
                succ[s].append((s + 1, 1))
            succ[last[node]].extend((int(first[c]), 1) for c in children[node].values())
        succ_ptr = np.zeros(S + 1, dtype=np.int64)
        succ_ptr[1:] = np.cumsum([len(x) for x in succ])
        succ_dst = np.array([d for x in succ for d, _ in x], dtype=np.int64)
        succ_kind = np.array([k for x in succ for _, k in x], dtype=np.int64)
        ends: list[list[int]] = [[] for _ in range(S)]
        for node in range(1, num_nodes):
            ends[last[node]] = node_words[node]
        word_ptr = np.zeros(S + 1, dtype=np.int64)
        word_ptr[1:] = np.cumsum([len(x) for x in ends])
        word_ids = np.array([w for x in ends for w in x], dtype=np.int64)

        # 4. unigram look-ahead: best ln p(w) over the words below each node (0 for silence / no LM)
        lookahead = np.zeros(S)
        if lm is not None:
            best = np.full(num_nodes, -np.inf)
            for node in range(num_nodes - 1, 0, -1):  # children have larger ids than parents
                for w in node_words[node]:
                    if w != SIL_WORD:
                        uni = lm.log10_prob(w if w >= 0 else lm.unk, ()) * math.log(10) + word_bonus.get(w, 0.0)
                        best[node] = max(best[node], uni)
                for c in children[node].values():
                    best[node] = max(best[node], best[c])
            best[sil_node] = 0.0
            lookahead = np.where(np.isfinite(best[state_node]), best[state_node], 0.0)
        return cls(
            pdf=pdf,
            loop_logp=topo.log_loop[pdf],
            next_logp=topo.log_next[pdf],
            succ_ptr=succ_ptr,
            succ_dst=succ_dst,
            succ_kind=succ_kind,
            word_ptr=word_ptr,
            word_ids=word_ids,
            root_states=np.array([first[c] for c in children[0].values()], dtype=np.int64),
            lookahead=lookahead,
            words=words,
            num_nodes=num_nodes,
        )


def phone_loop_lexicon(phones: Sequence[str]) -> Lexicon:
    """A lexicon whose words are the phones themselves (phone recognition); :data:`SIL` is left out."""
    return Lexicon({p: [(p,)] for p in phones if p != SIL})


@dataclass
class DecodeResult:
    """The best hypothesis of one utterance.

    Attributes:
        words: the recognised words.
        starts, ends: ``(len(words),)`` frame indices (end exclusive).
        score: total search score.
        num_frames: ``T``.
        alternatives: with ``decode(..., nbest=N)``: up to ``N`` ``(text, score)`` of distinct word
            sequences among the final tokens, best first (the first is this result's).
    """

    words: list[str]
    starts: np.ndarray
    ends: np.ndarray
    score: float
    num_frames: int
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Words joined by spaces."""
        return " ".join(self.words)

    def times(self, frame_shift: float = 0.01) -> list[tuple[str, float, float]]:
        """``[(word, start_s, end_s), ...]``; frame ``t`` covers ``[t, t + 1) * frame_shift``."""
        return [(w, round(s * frame_shift, 3), round(e * frame_shift, 3)) for w, s, e in zip(self.words, self.starts, self.ends)]


class HybridDecoder:
    """Frame-synchronous Viterbi beam search (see the module docstring)."""

    def __init__(self, tree: LexiconTree, lm: NgramLM | None, cfg: DecoderConfig | None = None,
                 bonus: dict[str, float] | None = None):
        """Prepare scaled arc weights for ``tree`` under ``cfg``; ``lm=None`` decodes without an LM;
        ``bonus``: word -> added to the score where the word ends (hotwords; build ``tree`` with
        ``bonus / lm_weight`` so the look-ahead carries it too)."""
        self.tree = tree
        ids = {w: i for i, w in tree.words.items()}
        self.bonus = {ids[w]: float(b) for w, b in (bonus or {}).items() if w in ids}
        self.lm = lm
        self.cfg = cfg or DecoderConfig()
        c = self.cfg
        t = tree
        src = np.repeat(np.arange(t.num_states), np.diff(t.succ_ptr))  # source state of every arc
        trans = np.where(t.succ_kind == 0, t.loop_logp[src], t.next_logp[src])
        self.lookahead = t.lookahead * c.lm_weight if (c.lookahead and lm is not None) else np.zeros(t.num_states)
        # arc weight = scaled transition + change of look-ahead along the arc
        self.succ_w = c.transition_scale * trans + self.lookahead[t.succ_dst] - self.lookahead[src]
        self.succ_cnt = np.diff(t.succ_ptr)
        self.exit_w = c.transition_scale * t.next_logp - self.lookahead  # leave the tree: drop the look-ahead
        self.word_cnt = np.diff(t.word_ptr)
        self.root_w = self.lookahead[t.root_states]
        self.scorer = lm.scorer() if lm is not None else None
        # the best hotword bonus of the words ending at each state: a token leaving the tree there has
        # just dropped its look-ahead (which held the bonus), so the word-end beam must count it back
        self.exit_bonus = np.zeros(t.num_states)
        if self.bonus:
            for state in np.flatnonzero(self.word_cnt):
                ws = t.word_ids[t.word_ptr[state] : t.word_ptr[state + 1]]
                self.exit_bonus[state] = max(self.bonus.get(int(w), 0.0) for w in ws)

    def _lm_batch(self, states: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled LM scores (penalties included) and next LM states of ``words (n,)`` after ``states (n,)``."""
        c = self.cfg
        sil = words == SIL_WORD
        score = np.where(sil, c.sil_penalty, c.word_penalty)
        if self.bonus:
            score = score + np.array([self.bonus.get(int(w), 0.0) for w in words])
        if self.scorer is None:
            return score, states.copy()
        ids = np.where(words >= 0, words, self.lm.unk)
        logp, nxt = self.scorer.advance_batch(states, ids)
        return score + np.where(sil, 0.0, c.lm_weight * logp), np.where(sil, states, nxt)

    def decode(self, loglikes: np.ndarray, nbest: int = 1) -> DecodeResult:
        """Search one utterance.

        Args:
            loglikes: ``(T, num_pdfs)`` scaled log-likelihoods (float32 or float64).
            nbest: with ``N > 1``, ``alternatives`` lists up to ``N`` distinct word sequences: the
                best-scoring tokens that end a word at the last frame (one per LM state and
                history the beam kept), each traced back through its word links.

        Returns:
            The best :class:`DecodeResult` (empty words if ``T == 0``).
        """
        search = self.start()
        search.advance(loglikes)
        return search.finish(nbest)

    def start(self) -> HybridSearch:
        """A search fed frame by frame (streaming): :class:`HybridSearch`."""
        return HybridSearch(self)


class HybridSearch:
    """The state of one utterance's search: ``advance`` with frames as they come, ``partial`` to read the
    best path so far, ``finish`` at the end. ``HybridDecoder.decode`` is ``advance(all)`` then ``finish``,
    so a stream fed the same frames in pieces ends with the same result."""

    def __init__(self, decoder: HybridDecoder):
        self.d = decoder
        self.frame = 0
        start_lm = decoder.scorer.start if decoder.scorer is not None else 0
        # word links: parallel lists of arrays, concatenated at the end
        self.link_word: list[np.ndarray] = []
        self.link_start: list[np.ndarray] = []
        self.link_end: list[np.ndarray] = []
        self.link_prev: list[np.ndarray] = []
        self.num_links = 0
        # tokens in the tree: state, score, info = (LM state, word link, word start frame)
        self.st = np.zeros(0, dtype=np.int64)
        self.sc = np.zeros(0)
        self.info = np.zeros((0, 3), dtype=np.int64)
        # tokens at the root (between words), entering the tree on the next frame
        self.r_sc = np.zeros(1)
        self.r_info = np.array([[start_lm, -1, 0]], dtype=np.int64)
        # the last frame's word ends (score, LM state, link) before root recombination: finish reads them
        self.ends = (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def advance(self, loglikes: np.ndarray) -> None:
        """Search ``(n, num_pdfs)`` more frames of scaled log-likelihoods."""
        d = self.d
        c, t = d.cfg, d.tree
        ll = np.asarray(loglikes, dtype=np.float64) * c.acoustic_scale  # (n, num_pdfs)
        S = t.num_states
        root_states = t.root_states
        root_pdf = t.pdf[root_states]
        st, sc, info, r_sc, r_info = self.st, self.sc, self.info, self.r_sc, self.r_info
        for llf in ll:
            frame = self.frame
            # 1. tree tokens along their arcs (self-loop, next state, children), plus emission
            cnt = d.succ_cnt[st]
            tok = np.repeat(np.arange(st.shape[0]), cnt)
            e = np.repeat(t.succ_ptr[st] - (np.cumsum(cnt) - cnt), cnt) + np.arange(tok.shape[0])
            d_st = t.succ_dst[e]
            d_sc = sc[tok] + d.succ_w[e] + llf[t.pdf[d_st]]
            # 2. root tokens into the root's children: only the (token, child) pairs inside the beam
            v = d.root_w + llf[root_pdf]  # (n_root,)
            best = max(d_sc.max() if d_sc.shape[0] else NEG_INF, r_sc.max() + v.max() if r_sc.shape[0] else NEG_INF)
            threshold = best - c.beam
            ri, ki = np.nonzero(r_sc[:, None] + v[None, :] > threshold)
            ti = np.flatnonzero(d_sc > threshold)
            n_st = np.concatenate([d_st[ti], root_states[ki]])
            n_sc = np.concatenate([d_sc[ti], r_sc[ri] + v[ki]])
            r_info[:, 2] = frame  # a word entered now starts at this frame
            n_info = np.concatenate([info[tok[ti]], r_info[ri]])
            # 3. recombination (best token per tree state and LM state), max-active
            key = n_info[:, 0] * S + n_st
            order = np.lexsort((-n_sc, key))
            ks = key[order]
            first = order[np.concatenate([[True], ks[1:] != ks[:-1]])]
            if first.shape[0] > c.max_active:
                first = first[np.argpartition(-n_sc[first], c.max_active - 1)[: c.max_active]]
            st, sc, info = n_st[first], n_sc[first], n_info[first]
            # 4. word ends: leave the tree, apply the LM, record links
            ex = np.flatnonzero(d.word_cnt[st] > 0)
            ex_sc = sc[ex] + d.exit_w[st[ex]]
            ok = ex_sc + d.exit_bonus[st[ex]] > best - c.beam
            ex, ex_sc = ex[ok], ex_sc[ok]
            wc = d.word_cnt[st[ex]]
            j = np.repeat(np.arange(ex.shape[0]), wc)
            words = t.word_ids[np.repeat(t.word_ptr[st[ex]] - (np.cumsum(wc) - wc), wc) + np.arange(j.shape[0])]
            src_info = info[ex[j]]
            new_sc, new_lm = d._lm_batch(src_info[:, 0], words)
            new_sc += ex_sc[j]
            new_lk = src_info[:, 1].copy()
            is_word = words != SIL_WORD
            n_new = int(is_word.sum())
            if n_new:
                new_lk[is_word] = np.arange(self.num_links, self.num_links + n_new)
                self.link_word.append(words[is_word])
                self.link_start.append(src_info[is_word, 2])
                self.link_end.append(np.full(n_new, frame + 1, dtype=np.int64))
                self.link_prev.append(src_info[is_word, 1])
                self.num_links += n_new
            self.ends = (new_sc, new_lm, new_lk)
            # 5. recombine root tokens per LM state (best first), word-end beam and limit
            order = np.lexsort((-new_sc, new_lm))
            ks = new_lm[order]
            first = order[np.concatenate([[True], ks[1:] != ks[:-1]])] if order.shape[0] else order
            first = first[new_sc[first] > best - (c.word_end_beam or c.beam)]
            if c.max_word_ends and first.shape[0] > c.max_word_ends:
                first = first[np.argpartition(-new_sc[first], c.max_word_ends - 1)[: c.max_word_ends]]
            r_sc = new_sc[first]
            r_info = np.stack([new_lm[first], new_lk[first], np.zeros_like(first)], 1)
            self.frame += 1
        self.st, self.sc, self.info, self.r_sc, self.r_info = st, sc, info, r_sc, r_info

    def fork(self) -> HybridSearch:
        """A copy to advance on provisional frames (a partial read ahead) without touching this search."""
        other = HybridSearch.__new__(HybridSearch)
        other.__dict__.update(self.__dict__)
        for name in ("link_word", "link_start", "link_end", "link_prev"):
            setattr(other, name, list(getattr(self, name)))  # appended to, never changed in place
        return other

    def _links(self) -> tuple[np.ndarray, ...] | None:
        if not self.num_links:
            return None
        return tuple(np.concatenate(x) for x in (self.link_word, self.link_start, self.link_end, self.link_prev))

    def _result(self, link: int, score: float, alternatives: list[tuple[str, float]] | None = None) -> DecodeResult:
        words_out, starts, ends = self._trace(self._links(), link)
        return DecodeResult(words_out, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), score,
                            self.frame, alternatives or [])

    def _trace(self, links: tuple[np.ndarray, ...] | None, link: int) -> tuple[list[str], list[int], list[int]]:
        words_out, starts, ends = [], [], []
        while links is not None and link >= 0:
            lw, ls, le, lp = links
            words_out.append(self.d.tree.words[int(lw[link])])
            starts.append(int(ls[link]))
            ends.append(int(le[link]))
            link = int(lp[link])
        return words_out[::-1], starts[::-1], ends[::-1]

    def partial(self) -> DecodeResult:
        """The words completed on the best path so far (the best token in the tree or between words)."""
        cands = [(float(x), int(k)) for x, k in zip(self.r_sc, self.r_info[:, 1])]
        if self.sc.shape[0]:
            b = int(self.sc.argmax())
            cands.append((float(self.sc[b]), int(self.info[b, 1])))
        if not cands or self.frame == 0:
            return self._result(-1, 0.0)
        score, link = max(cands)
        return self._result(link, score)

    def finish(self, nbest: int = 1) -> DecodeResult:
        """The final result: the best token ending a word at the last frame, plus the LM's end of sentence
        (with ``nbest``: up to that many distinct word sequences in ``alternatives``)."""
        d, c = self.d, self.d.cfg
        new_sc, new_lm, new_lk = self.ends
        final: tuple[float, int] | None = None
        finals: list[tuple[float, int]] = []
        if self.frame and new_sc.shape[0]:
            fin = new_sc
            if d.scorer is not None:
                fin = fin + c.lm_weight * d.scorer.advance_batch(new_lm, np.full_like(new_lm, d.lm.eos))[0]
            b = int(fin.argmax())
            final = (float(fin[b]), int(new_lk[b]))
            if nbest > 1:
                top = np.argsort(-fin, kind="stable")[: 4 * nbest]  # spare: several may share a text
                finals = [(float(fin[k]), int(new_lk[k])) for k in top]
        if final is None:  # nothing ends a word at the last frame: take the best partial path
            if self.frame == 0 or self.sc.shape[0] == 0:
                return DecodeResult([], np.zeros(0, np.int64), np.zeros(0, np.int64), 0.0, self.frame)
            b = int(self.sc.argmax())
            final = (float(self.sc[b]), int(self.info[b, 1]))
        score, link = final
        alternatives = []
        if nbest > 1:
            links = self._links()
            scored = [(" ".join(self._trace(links, k)[0]), sc_k) for sc_k, k in (finals or [final])]
            alternatives = distinct_texts(scored)[:nbest]
        return self._result(link, score, alternatives)
