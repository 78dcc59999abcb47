"""Word (or phone) n-gram language models: modified Kneser-Ney training, ARPA files, scoring.

:func:`train_ngram` estimates an interpolated modified Kneser-Ney model
(Chen & Goodman 1998) the way KenLM's ``lmplz`` does:

* adjusted counts: the highest order keeps raw counts; a lower-order n-gram
  counts its distinct left extensions (``N1+(. w)``), except n-grams starting
  with ``<s>``, which keep raw counts (nothing can precede ``<s>``);
* three discounts per order from the counts of counts,
  ``Y = n1 / (n1 + 2 n2)``, ``D1 = 1 - 2Y n2/n1``, ``D2 = 2 - 3Y n3/n2``,
  ``D3+ = 3 - 4Y n4/n3``; when a count of counts is zero (tiny corpora) the
  order falls back to ``0.5, 1, 1.5`` (KenLM's ``--discount_fallback``);
* interpolation ``p(w|h) = (a(hw) - D(a(hw))) / a(h.) + gamma(h) p(w|h')``
  down to the uniform distribution over the vocabulary (every word of the
  vocabulary, ``</s>`` and ``<unk>``; ``<s>`` is never predicted).

So for every history, the probabilities over the vocabulary sum to one.
The interpolated model is stored in backoff form, which is exactly what an
ARPA file holds: ``p(w|h)`` for seen n-grams and ``bow(h) = gamma(h)``.
:meth:`NgramLM.from_arpa` reads any standard ARPA file (KenLM, SRILM), so a
bigger LM built elsewhere drops in.

Log-probabilities in ARPA files and in ``NgramLM``'s tables are base 10; the
scoring methods return natural logs, the unit of acoustic scores.

A phone n-gram (phone-loop recognition) is the same class trained on phone
sequences.

Usage::

    lm = train_ngram([u.text.split() for u in utts], order=3)
    lm.to_arpa("lm.arpa")
    lm = NgramLM.from_arpa("lm.arpa")
    perplexity(lm, [s.split() for s in dev_texts])
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from asr.errors import text_lines

__all__ = ["BOS", "EOS", "UNK", "ArpaError", "NgramLM", "LmScorer", "train_ngram", "perplexity"]

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
LN10 = math.log(10.0)
NO_PROB = -99.0  # log10 probability ARPA files give <s> (never predicted)
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback defaults
BASE_FLOOR = 0.05  # share of a train_ngram base prior spread uniformly

NGram = tuple[int, ...]


class ArpaError(ValueError):
    """A malformed ARPA file; ``str(err)`` reads ``"<path>:<line>: <problem>"``."""

    def __init__(self, path: str | os.PathLike, line: int, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{self.path}:{line}: {problem}")


class NgramLM:
    """A backoff n-gram model over integer word ids.

    Attributes:
        order: ``N``.
        vocab: words by id (``<s>``, ``</s>``, ``<unk>`` included).
        word_id: the inverse map.
        probs: ``probs[n]`` maps an n-gram (tuple of ``n`` ids) to its log10 probability.
        bows: ``bows[n]`` maps an n-gram that is also a context to its log10 backoff weight.
    """

    def __init__(self, order: int, vocab: Sequence[str], probs: list[dict[NGram, float]],
                 bows: list[dict[NGram, float]]):
        """Wrap tables; ``probs`` and ``bows`` are indexed by order (entry 0 unused)."""
        self.order = order
        self.vocab = list(vocab)
        self.word_id = {w: i for i, w in enumerate(self.vocab)}
        self.probs = probs
        self.bows = bows
        self.bos = self.word_id.get(BOS, -1)
        self.eos = self.word_id.get(EOS, -1)
        self.unk = self.word_id.get(UNK, -1)

    # -- scoring --------------------------------------------------------------------

    def id(self, word: str) -> int:
        """Word id, ``<unk>``'s for words outside the vocabulary (``-1`` if there is no ``<unk>``)."""
        return self.word_id.get(word, self.unk)

    def log10_prob(self, word: int, context: Sequence[int]) -> float:
        """``log10 p(word | context)`` by backoff; ``context`` is the preceding ids, oldest first."""
        ctx = tuple(context[max(0, len(context) - self.order + 1) :]) if self.order > 1 else ()
        backoff = 0.0
        while True:
            p = self.probs[len(ctx) + 1].get(ctx + (word,))
            if p is not None:
                return backoff + p
            if not ctx:
                return backoff + (self.probs[1].get((self.unk,), -100.0) if word != self.unk else -100.0)
            backoff += self.bows[len(ctx)].get(ctx, 0.0)
            ctx = ctx[1:]

    def log_prob(self, word: str, history: Sequence[str]) -> float:
        """Natural-log ``p(word | history)``; words outside the vocabulary are ``<unk>``."""
        return self.log10_prob(self.id(word), [self.id(h) for h in history]) * LN10

    def sentence_log10_prob(self, words: Sequence[str]) -> float:
        """``log10 p(words </s> | <s>)``."""
        ids = [self.bos] + [self.id(w) for w in words] + [self.eos]
        return sum(self.log10_prob(ids[i], ids[max(0, i - self.order + 1) : i]) for i in range(1, len(ids)))

    def state_after(self, context: Sequence[int]) -> NGram:
        """The shortest context equivalent to ``context`` for prediction (KenLM's state minimisation):
        its last ``N - 1`` ids, cut to the longest suffix that is an n-gram of the model."""
        ctx = tuple(context[max(0, len(context) - self.order + 1) :]) if self.order > 1 else ()
        while ctx and ctx not in self.probs[len(ctx)]:
            ctx = ctx[1:]
        return ctx

    def scorer(self) -> LmScorer:
        """A caching scorer over integer states, for decoders."""
        return LmScorer(self)

    # -- ARPA -----------------------------------------------------------------------

    def to_arpa(self, path: str | os.PathLike) -> None:
        """Write a standard ARPA file (log10 values, 7 decimals; backoffs only where defined)."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n\\data\\\n")
            for n in range(1, self.order + 1):
                f.write(f"ngram {n}={len(self.probs[n])}\n")
            for n in range(1, self.order + 1):
                f.write(f"\n\\{n}-grams:\n")
                for g in sorted(self.probs[n], key=lambda g: [self.vocab[i] for i in g]):
                    words = " ".join(self.vocab[i] for i in g)
                    bow = self.bows[n].get(g)
                    tail = f"\t{bow:.7f}" if bow is not None and n < self.order else ""
                    f.write(f"{self.probs[n][g]:.7f}\t{words}{tail}\n")
            f.write("\n\\end\\\n")

    @classmethod
    def from_arpa(cls, path: str | os.PathLike) -> NgramLM:
        """Read an ARPA file (KenLM, SRILM or :meth:`to_arpa`).

        Raises:
            ArpaError: missing or malformed ``\\data\\`` header or ``ngram N=count``
                line, a section out of order, a malformed n-gram line, a count
                that disagrees with the header, or no ``\\end\\``; the message
                names the file and the 1-based line number.
        """
        path = Path(path)
        counts: dict[int, int] = {}
        vocab: dict[str, int] = {}
        probs: list[dict[NGram, float]] = [{}]
        bows: list[dict[NGram, float]] = [{}]
        state = "start"  # start -> header -> section n -> end
        n = 0
        section_line = 0
        lineno = 0

        def close_section() -> None:
            if n and len(probs[n]) != counts[n]:
                raise ArpaError(path, section_line, f"header says ngram {n}={counts[n]}, section has {len(probs[n])}")

        for lineno, raw in text_lines(path, ArpaError):
            line = raw.strip()
            if not line:
                continue
            if state == "start":
                if line != "\\data\\":
                    raise ArpaError(path, lineno, f"expected the ARPA header '\\data\\', got {line[:40]!r}")
                state = "header"
                continue
            if state == "header" and line.startswith("ngram"):
                m = re.fullmatch(r"ngram\s+(\d+)\s*=\s*(\d+)", line)
                if not m:
                    raise ArpaError(path, lineno, f"malformed header line {line!r} (expected 'ngram N=count')")
                k, c = int(m.group(1)), int(m.group(2))
                if k != len(counts) + 1:
                    raise ArpaError(path, lineno, f"header lists order {k} after order {len(counts)}")
                counts[k] = c
                continue
            m = re.fullmatch(r"\\(\d+)-grams:", line)
            if m:
                k = int(m.group(1))
                if state == "header" and not counts:
                    raise ArpaError(path, lineno, "section before any 'ngram N=count' header line")
                if k != n + 1 or k not in counts:
                    raise ArpaError(path, lineno, f"unexpected section \\{k}-grams: (header has orders 1..{len(counts)})")
                close_section()
                n, state, section_line = k, "section", lineno
                probs.append({})
                bows.append({})
                continue
            if line == "\\end\\":
                if state != "section":
                    raise ArpaError(path, lineno, "\\end\\ before any n-gram section")
                close_section()
                if n != len(counts):
                    raise ArpaError(path, lineno, f"\\end\\ after order {n}, header promised {len(counts)}")
                state = "end"
                break
            if state != "section":
                raise ArpaError(path, lineno, f"unexpected line in the ARPA header: {line[:40]!r}")
            fields = line.split()
            if len(fields) not in (n + 1, n + 2):
                raise ArpaError(path, lineno, f"expected 'logprob w1 .. w{n} [backoff]', got {line[:60]!r}")
            try:
                logp = float(fields[0])
                bow = float(fields[n + 1]) if len(fields) == n + 2 else None
            except ValueError:
                raise ArpaError(path, lineno, f"not a number in {line[:60]!r}") from None
            g = tuple(vocab.setdefault(w, len(vocab)) for w in fields[1 : n + 1])
            probs[n][g] = logp
            if bow is not None:
                bows[n][g] = bow
        if state != "end":
            if state == "start":
                raise ArpaError(path, max(lineno, 1), "no '\\data\\' header: not an ARPA file")
            raise ArpaError(path, lineno, "file ends without '\\end\\'")
        words = sorted(vocab, key=vocab.get)
        for special in (BOS, EOS):
            if special not in vocab:
                raise ArpaError(path, section_line, f"the model has no {special} unigram")
        return cls(len(counts), words, probs, bows)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}-grams={len(self.probs[n])}" for n in range(1, self.order + 1))
        return f"NgramLM(order={self.order}, vocab={len(self.vocab)}, {sizes})"


class LmScorer:
    """Integer LM states for decoders: ``(state, word) -> (ln p, next state)``, one word or a batch.

    State 0 is the sentence start (context ``<s>``). For batches, each state
    gets dense rows over the vocabulary (ln-probabilities and next states),
    built on first use from the row of its shortened context plus its own
    n-grams (``O(V)`` numpy work per state), so a decoder's word-end step is
    two array gathers. Thread-safe: searches in several threads (``asr serve``'s workers)
    may share one scorer; states and rows are made under a lock.
    """

    def __init__(self, lm: NgramLM):
        """Wrap ``lm``; states are created on demand."""
        self.lm = lm
        self._states: dict[NGram, int] = {}
        self.contexts: list[NGram] = []
        self._cache: dict[tuple[int, int], tuple[float, int]] = {}
        # explicit continuations: context -> (word ids, log10 probs) of its n-grams
        follow: dict[NGram, list[tuple[int, float]]] = defaultdict(list)
        for n in range(1, lm.order + 1):
            for g, p in lm.probs[n].items():
                follow[g[:-1]].append((g[-1], p))
        self._follow = {c: (np.array([w for w, _ in x], dtype=np.int64), np.array([p for _, p in x]))
                        for c, x in follow.items()}
        V = len(lm.vocab)
        self._logp = np.zeros((0, V))  # (num_states, V) ln p(word | state); rows filled lazily
        self._next = np.zeros((0, V), dtype=np.int64)  # (num_states, V) next state
        self._filled = np.zeros(0, dtype=bool)
        self._ctx_rows: dict[NGram, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.RLock()  # new states and rows; reads of filled rows need none
        self.start = self._state(lm.state_after([lm.bos]))

    def _state(self, ctx: NGram) -> int:
        s = self._states.get(ctx)
        if s is None:
            s = self._states[ctx] = len(self.contexts)
            self.contexts.append(ctx)
        return s

    def advance(self, state: int, word: int) -> tuple[float, int]:
        """``(ln p(word | state), next state)``."""
        key = (state, word)
        hit = self._cache.get(key)
        if hit is None:
            with self._lock:
                ctx = self.contexts[state]
                logp = self.lm.log10_prob(word, ctx) * LN10
                hit = self._cache[key] = (logp, self._state(self.lm.state_after(ctx + (word,))))
        return hit

    def final(self, state: int) -> float:
        """``ln p(</s> | state)``."""
        return self.advance(state, self.lm.eos)[0]

    def _rows(self, ctx: NGram) -> tuple[np.ndarray, np.ndarray]:
        """``(V,)`` log10 p(w | ctx) and ``(V,)`` next-state ids for any context (memoised)."""
        hit = self._ctx_rows.get(ctx)
        if hit is not None:
            return hit
        lm = self.lm
        if not ctx:
            logp = np.full(len(lm.vocab), lm.probs[1].get((lm.unk,), -100.0))
            nxt = np.full(len(lm.vocab), self._state(()), dtype=np.int64)
        else:
            lower_p, lower_n = self._rows(ctx[1:])
            logp = lower_p + lm.bows[len(ctx)].get(ctx, 0.0)
            nxt = lower_n.copy()
        words, probs = self._follow.get(ctx, (np.zeros(0, dtype=np.int64), np.zeros(0)))
        logp[words] = probs
        if len(ctx) < lm.order - 1:  # ctx + w is the next state where it is an n-gram of the model
            nxt[words] = [self._state(ctx + (int(w),)) for w in words]
        # (with N - 1 words, ctx[0] falls out of the next state: the next states are those of ctx[1:])
        self._ctx_rows[ctx] = (logp, nxt)
        return logp, nxt

    def _ensure(self, states: np.ndarray) -> None:
        n = len(self.contexts)
        if self._logp.shape[0] < n:
            grow = max(n, 2 * self._logp.shape[0])
            V = len(self.lm.vocab)
            self._logp = np.concatenate([self._logp, np.zeros((grow - self._logp.shape[0], V))])
            self._next = np.concatenate([self._next, np.zeros((grow - self._next.shape[0], V), dtype=np.int64)])
            self._filled = np.concatenate([self._filled, np.zeros(grow - self._filled.shape[0], dtype=bool)])
        for s in np.unique(states[~self._filled[states]]).tolist():
            logp, nxt = self._rows(self.contexts[s])
            self._logp[s], self._next[s], self._filled[s] = logp * LN10, nxt, True
            if len(self.contexts) > self._logp.shape[0]:  # new states appeared while filling
                self._ensure(np.zeros(0, dtype=np.int64))

    def advance_batch(self, states: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`advance`: ``(n,)`` states and word ids -> ``(n,)`` ln-probs and next states."""
        states = np.asarray(states, dtype=np.int64)
        words = np.asarray(words, dtype=np.int64)
        if states.size == 0:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        with self._lock:  # rows are filled, and the tables grown (replaced), here
            self._ensure(states)
            logp, nxt = self._logp, self._next
        return logp[states, words], nxt[states, words]


def train_ngram(
    sentences: Iterable[Sequence[str]], order: int = 3, vocab: Iterable[str] | None = None,
    base: Mapping[str, float] | None = None, base_weight: float = 0.0,
) -> NgramLM:
    """Estimate an interpolated modified Kneser-Ney n-gram model.

    Args:
        sentences: token sequences (words, or phones for a phone LM), without
            ``<s>`` / ``</s>``.
        order: ``N >= 1``.
        vocab: extra words to include with zero counts (they get the
            uniform-interpolation mass), e.g. a lexicon's words that the
            training text lacks.
        base: a prior over the vocabulary (word -> weight, e.g. word frequencies of a
            large corpus) that replaces the uniform distribution the recursion ends in:
            words the text lacks get their share of the backoff mass by it. It is
            normalized and smoothed (:data:`BASE_FLOOR` of the mass stays uniform, so
            ``</s>``, ``<unk>`` and words without a weight keep a probability).
        base_weight: interpolate the unigrams with ``base`` as well:
            ``p1(w) = (1 - base_weight) p_KN(w) + base_weight base(w)``; the higher
            orders back off to these (the model stays normalized).

    Returns:
        The model, in backoff form (see the module docstring).
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    if not 0.0 <= base_weight < 1.0 or (base_weight and base is None):
        raise ValueError(f"base_weight must be in [0, 1) and needs a base, got {base_weight}")
    words: dict[str, int] = {BOS: 0, EOS: 1, UNK: 2}
    raw: list[Counter[NGram]] = [Counter() for _ in range(order + 1)]
    for sent in sentences:
        ids = [0] + [words.setdefault(w, len(words)) for w in sent] + [1]
        for n in range(1, order + 1):
            for i in range(len(ids) - n + 1):
                raw[n][tuple(ids[i : i + n])] += 1
    for w in vocab or ():
        words.setdefault(w, len(words))
    raw[1].pop((0,), None)  # <s> is never predicted

    # Adjusted counts: raw at the top order and for n-grams starting with <s>; else distinct left extensions.
    adjusted: list[dict[NGram, int]] = [{} for _ in range(order + 1)]
    adjusted[order] = dict(raw[order])
    for n in range(order - 1, 0, -1):
        left: Counter[NGram] = Counter(g[1:] for g in raw[n + 1])
        adjusted[n] = {g: (c if g[0] == 0 else left.get(g, c)) for g, c in raw[n].items()}

    discounts = [FALLBACK_DISCOUNTS] + [_discounts(adjusted[n]) for n in range(1, order + 1)]
    V = len(words) - 1  # every word but <s>
    prior = _prior(words, base) if base is not None else None
    probs: list[dict[NGram, float]] = [{} for _ in range(order + 1)]
    bows: list[dict[NGram, float]] = [{} for _ in range(order + 1)]
    lower: dict[NGram, float] = {}  # natural probabilities of the order below
    for n in range(1, order + 1):
        D = discounts[n]
        by_ctx: dict[NGram, list[tuple[int, int]]] = defaultdict(list)
        for g, a in adjusted[n].items():
            by_ctx[g[:-1]].append((g[-1], a))
        if n == 1:  # every vocabulary word has a unigram, seen or not
            seen = {w for w, _ in by_ctx[()]}
            by_ctx[()].extend((w, 0) for w in range(1, len(words)) if w not in seen)
        current: dict[NGram, float] = {}
        for ctx, items in by_ctx.items():
            total = sum(a for _, a in items)
            nk = [sum(1 for _, a in items if a == k) for k in (1, 2)] + [sum(1 for _, a in items if a >= 3)]
            gamma = (D[0] * nk[0] + D[1] * nk[1] + D[2] * nk[2]) / total if total else 1.0  # mass left for backoff
            for w, a in items:
                disc = (a - D[min(a, 3) - 1]) / total if a > 0 else 0.0
                if n > 1:
                    current[ctx + (w,)] = disc + gamma * lower[ctx[1:] + (w,)]  # the suffix is always an n-gram below
                elif prior is None:
                    current[ctx + (w,)] = disc + gamma / V
                else:
                    current[ctx + (w,)] = (1 - base_weight) * (disc + gamma * prior[w]) + base_weight * prior[w]
            if n > 1:
                bows[n - 1][ctx] = math.log10(gamma)
        for g, p in current.items():
            probs[n][g] = math.log10(p)
        lower = current
    probs[1][(0,)] = NO_PROB  # <s>: listed, never predicted
    vocab_list = sorted(words, key=words.get)
    return NgramLM(order, vocab_list, probs, bows)


def _prior(words: Mapping[str, int], base: Mapping[str, float]) -> list[float]:
    """Natural probabilities by word id of ``base`` normalized over the predictable words, smoothed:
    ``(1 - BASE_FLOOR) base(w) / sum + BASE_FLOOR / V`` (``<s>``: 0)."""
    V = len(words) - 1
    weights = [0.0] * len(words)
    for w, i in words.items():
        if i != 0:
            weights[i] = max(0.0, float(base.get(w, 0.0)))
    total = sum(weights)
    if total <= 0:
        raise ValueError("base: no vocabulary word has a positive weight")
    return [0.0] + [(1 - BASE_FLOOR) * x / total + BASE_FLOOR / V for x in weights[1:]]


def _discounts(adjusted: dict[NGram, int]) -> tuple[float, float, float]:
    """Modified KN discounts ``(D1, D2, D3+)`` of one order; the fallback when undefined."""
    t = Counter(a for a in adjusted.values() if a <= 4)
    t1, t2, t3, t4 = (t.get(k, 0) for k in (1, 2, 3, 4))
    if min(t1, t2, t3, t4) == 0:
        return FALLBACK_DISCOUNTS
    y = t1 / (t1 + 2 * t2)
    d = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
    if not all(0 < dk < k for dk, k in zip(d, (1, 2, 3))):
        return FALLBACK_DISCOUNTS
    return d


def perplexity(lm: NgramLM, sentences: Iterable[Sequence[str]]) -> float:
    """Per-token perplexity over ``sentences`` (``</s>`` counted, ``<s>`` not; OOVs score as ``<unk>``)."""
    total, count = 0.0, 0
    for s in sentences:
        total += lm.sentence_log10_prob(s)
        count += len(s) + 1
    return 10.0 ** (-total / max(count, 1))
