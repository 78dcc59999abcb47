"""The classical hybrid system as one object: train, save, load, align, decode.

Pipeline (:func:`train_hybrid`), the road Kaldi took:

1. features: MFCC + deltas + delta-deltas, per-utterance CMVN
   (``snip_edges=False``: frame ``t`` covers ``[t, t + 1) * 10 ms``);
2. flat-start monophone GMM-HMM training with Viterbi re-alignment
   (:func:`asr.hmm.align.train_mono`);
3. a frame classifier (TDNN or spliced MLP) trained with cross-entropy on the
   GMM alignments, then ``realign_rounds`` rounds of re-aligning the training
   data with its own scaled likelihoods and training on;
4. state priors from the final alignments; a word n-gram LM (modified
   Kneser-Ney) from the training transcripts and a phone n-gram for phone
   recognition.

Model directory (everything decoding needs)::

    config.json         {"system": "hybrid", "config": HybridConfig, "features": FeatureConfig,
                         "classifier": FrameClassifierConfig, "lang": ...}
    model.safetensors   classifier weights + "log_prior" (num_pdfs,)
    topology.json       phones, HMM shapes, trained self-loop probabilities
    phones.txt          phone symbol table (id 0 = SIL)
    lexicon.txt         pronunciations (G2P additions included)
    lm.arpa             word n-gram;  phone_lm.arpa: phone n-gram
    gmm.safetensors     the monophone GMM (for re-alignment and inspection)
    train_log.json      GMM and classifier histories, skipped utterances, alignment accuracy

Usage::

    train_hybrid("data/en/train.jsonl", "data/en/dev.jsonl", "corpus/en/lexicon.txt", "exp/hybrid/model")
    stats = decode_manifest_hybrid("exp/hybrid/model", "data/en/test.jsonl", "exp/hybrid/hyp.jsonl", beam=13)
    stats["wer"], stats["rtf"]
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.audio import AudioError, SAMPLE_RATE
from asr.data.dataset import SkipReport
from asr.data.manifest import Utterance, read_manifest
from asr.decoding.hybrid import DecoderConfig, HybridDecoder, LexiconTree, phone_loop_lexicon
from asr.decoding.lm import NgramLM, perplexity, train_ngram
from asr.features import FeatureConfig, FeatureExtractor
from asr.hmm.align import (
    Alignment,
    MonoConfig,
    align_utterances,
    alignment_boundaries,
    boundary_accuracy,
    espeak_boundaries,
    train_mono,
    transition_counts,
)
from asr.hmm.gmm import DiagGmm
from asr.hmm.topology import SIL, HmmTopology, TopologyConfig, UtteranceGraph, build_graph
from asr.models.frame_classifier import (
    FrameClassifierConfig,
    TrainConfig,
    build_frame_classifier,
    posterior_log_priors,
    scaled_loglikes,
    train_frame_classifier,
)
from asr.text.g2p import g2p
from asr.text.lexicon import Lexicon
from asr.text.normalize import normalize
from asr.text.symbols import SymbolTable

__all__ = [
    "HybridConfig",
    "HybridModel",
    "train_hybrid",
    "load_hybrid",
    "decode_manifest_hybrid",
    "align_manifest_hybrid",
]

log = logging.getLogger(__name__)

SYSTEM = "hybrid"  # config.json "system" tag


@dataclass(frozen=True)
class HybridConfig:
    """Every option of the hybrid system, flat (one YAML file per experiment).

    Attributes:
        feature_kind, num_mel_bins, deltas, cmvn: features (see :class:`asr.features.FeatureConfig`).
        num_states, sil_states, sil_prob: HMM topology (:class:`asr.hmm.topology.TopologyConfig`).
        mono_iters, max_gauss: monophone GMM training (:class:`asr.hmm.align.MonoConfig`).
        model, hidden, dropout: the frame classifier (``"tdnn"`` or ``"mlp"``).
        epochs, lr, batch_chunks: its cross-entropy training on the GMM alignments.
        realign_rounds, realign_epochs: rounds of re-alignment with the classifier, epochs after each.
        prior_scale: ``log p(s|x) - prior_scale * log p(s)``.
        lm_order, phone_lm_order: n-gram orders of the word and phone LMs.
        beam, max_active, acoustic_scale, transition_scale, lm_weight, word_penalty, sil_penalty:
            decoding defaults (:class:`asr.decoding.hybrid.DecoderConfig`).
        phone_penalty: the ``word_penalty`` of phone recognition (per phone; positive
            counters the deletions a phone n-gram favours).
        seed: initialisation and shuffling.
    """

    feature_kind: str = "mfcc"
    num_mel_bins: int = 23
    deltas: int = 2
    cmvn: str = "utterance"
    num_states: int = 3
    sil_states: int = 3
    sil_prob: float = 0.5
    mono_iters: int = 20
    max_gauss: int = 1000
    model: str = "tdnn"
    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 6
    lr: float = 2e-3
    batch_chunks: int = 64
    realign_rounds: int = 1
    realign_epochs: int = 3
    prior_scale: float = 1.0
    lm_order: int = 3
    phone_lm_order: int = 3
    beam: float = 10.0
    max_active: int = 2000
    acoustic_scale: float = 0.1
    transition_scale: float = 0.1
    lm_weight: float = 1.0
    word_penalty: float = 0.0
    sil_penalty: float = 0.0
    phone_penalty: float = 1.0
    seed: int = 0

    def feature_config(self) -> FeatureConfig:
        """Features of the system (frame ``t`` covers ``[t, t + 1) * 10 ms``)."""
        return FeatureConfig(kind=self.feature_kind, num_mel_bins=self.num_mel_bins, deltas=self.deltas,
                             cmvn=self.cmvn, snip_edges=False)

    def topology_config(self) -> TopologyConfig:
        """HMM shapes."""
        return TopologyConfig(num_states=self.num_states, sil_states=self.sil_states, sil_prob=self.sil_prob)

    def mono_config(self) -> MonoConfig:
        """Monophone GMM schedule: ``mono_iters`` iterations, Gaussians grown over the first 3/4."""
        realign = tuple(i for i in MonoConfig().realign_iters if i < self.mono_iters)
        return MonoConfig(num_iters=self.mono_iters, realign_iters=realign, max_gauss=self.max_gauss,
                          mixup_iters=max(1, self.mono_iters * 3 // 4))

    def classifier_config(self, input_dim: int, num_pdfs: int) -> FrameClassifierConfig:
        """The frame classifier for ``input_dim`` features and ``num_pdfs`` states."""
        return FrameClassifierConfig(kind=self.model, input_dim=input_dim, num_pdfs=num_pdfs, hidden=self.hidden,
                                     dropout=self.dropout)

    def train_config(self, epochs: int, seed_offset: int = 0) -> TrainConfig:
        """Cross-entropy schedule of ``epochs`` epochs."""
        return TrainConfig(epochs=epochs, lr=self.lr, batch_chunks=self.batch_chunks, seed=self.seed + seed_offset)

    def decoder_config(self, **overrides: Any) -> DecoderConfig:
        """Decoding options, defaults from this config, ``None`` overrides ignored."""
        base = {f.name: getattr(self, f.name) for f in dataclasses.fields(DecoderConfig) if hasattr(self, f.name)}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return DecoderConfig(**base)


# ---------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------


def _words(utt: Utterance) -> list[str]:
    """The normalised words of an utterance's transcript."""
    return normalize(utt.text, utt.lang).split()


def _load_wav(utt: Utterance) -> Tensor:
    from asr.audio import load_audio

    if utt.offset is None:
        return load_audio(utt.audio, SAMPLE_RATE)
    return load_audio(utt.audio, SAMPLE_RATE, offset=utt.offset, duration=utt.duration)


@torch.no_grad()
def _extract(utts: Sequence[Utterance], extractor: FeatureExtractor, report: SkipReport) -> dict[str, Tensor]:
    """``id -> (T, F)`` features; unreadable audio goes to ``report``."""
    extractor.eval()
    out: dict[str, Tensor] = {}
    for u in utts:
        try:
            wav = _load_wav(u)
        except AudioError as e:
            report.add(u.id, str(e))
            continue
        feats, _ = extractor(wav)
        out[u.id] = feats[0]
    return out


def _complete_lexicon(lexicon: Lexicon, utts: Sequence[Utterance]) -> list[str]:
    """Give every transcript word a pronunciation (espeak-ng G2P, logged); returns the words added."""
    added: list[str] = []
    by_lang: dict[str, list[str]] = {}
    for u in utts:
        by_lang.setdefault(u.lang, []).extend(w for w in _words(u) if w not in lexicon)
    for lang, words in by_lang.items():
        if words:
            added += lexicon.extend_with_g2p(words, lang)
    return added


# ---------------------------------------------------------------------------
# The model object
# ---------------------------------------------------------------------------


class HybridModel:
    """A trained hybrid system (what :func:`load_hybrid` returns).

    Attributes:
        cfg: the :class:`HybridConfig`.
        extractor: the feature front end.
        classifier: the frame classifier (eval mode).
        log_prior: ``(num_pdfs,)`` log state priors.
        topo, lexicon, lm, phone_lm: HMMs, pronunciations, word and phone n-grams.
        frame_shift: seconds per frame.
    """

    def __init__(self, cfg: HybridConfig, extractor: FeatureExtractor, classifier: nn.Module, log_prior: Tensor,
                 topo: HmmTopology, lexicon: Lexicon, lm: NgramLM | None, phone_lm: NgramLM | None):
        """Assemble the parts (see :func:`load_hybrid`)."""
        self.cfg = cfg
        self.extractor = extractor.eval()
        self.classifier = classifier.eval()
        self.log_prior = log_prior
        self.topo = topo
        self.lexicon = lexicon
        self.lm = lm
        self.phone_lm = phone_lm
        self.frame_shift = extractor.cfg.frame_shift_ms / 1000.0
        self._trees: dict[str, LexiconTree] = {}

    @torch.no_grad()
    def loglikes(self, wav: Tensor) -> Tensor:
        """Scaled log-likelihoods of one waveform: ``(N,)`` samples -> ``(T, num_pdfs)``."""
        feats, _ = self.extractor(wav)
        return scaled_loglikes(self.classifier, feats[0], self.log_prior, self.cfg.prior_scale)

    def tree(self, mode: str = "word") -> LexiconTree:
        """The lexicon tree for ``mode`` ``"word"`` or ``"phone"`` (built once)."""
        if mode not in self._trees:
            if mode == "word":
                self._trees[mode] = LexiconTree.build(self.lexicon, self.topo, self.lm)
            elif mode == "phone":
                self._trees[mode] = LexiconTree.build(phone_loop_lexicon(self.topo.phones), self.topo, self.phone_lm)
            else:
                raise ValueError(f"decoding mode must be 'word' or 'phone', got {mode!r}")
        return self._trees[mode]

    def decoder(self, mode: str = "word", **overrides: Any) -> HybridDecoder:
        """A :class:`HybridDecoder` with the config's defaults and ``overrides`` (beam=..., lm_weight=...)."""
        lm = self.lm if mode == "word" else self.phone_lm
        if mode == "phone" and overrides.get("word_penalty") is None:
            overrides = {**overrides, "word_penalty": self.cfg.phone_penalty}
        return HybridDecoder(self.tree(mode), lm, self.cfg.decoder_config(**overrides))

    def graph(self, words: Sequence[str]) -> UtteranceGraph:
        """The utterance HMM of a word sequence (words must be in the lexicon)."""
        return build_graph(words, self.lexicon, self.topo)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def _alignment_quality(manifest: Path, alignments: dict[str, Alignment], frame_shift: float) -> dict[str, Any] | None:
    """Boundary accuracy against ``<split>.align.jsonl`` beside the manifest (synth corpora), if present."""
    ref_path = manifest.with_name(manifest.name.replace(".jsonl", ".align.jsonl"))
    if not ref_path.exists() or ref_path == manifest:
        return None
    rows = {}
    with open(ref_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows[r["id"]] = r
    ids = [i for i in alignments if i in rows]
    if not ids:
        return None
    acc = boundary_accuracy([alignment_boundaries(alignments[i], frame_shift) for i in ids],
                            [espeak_boundaries(rows[i]) for i in ids], tolerance=0.02)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in acc.items()}


def _nn_align(classifier: nn.Module, feats: dict[str, Tensor], graphs: dict[str, UtteranceGraph], ids: Sequence[str],
              log_prior: Tensor, topo: HmmTopology, prior_scale: float) -> tuple[dict[str, Alignment], SkipReport]:
    lls = [scaled_loglikes(classifier, feats[i], log_prior, prior_scale) for i in ids]
    return align_utterances(lls, [graphs[i] for i in ids], topo, ids)


def train_hybrid(
    train_manifest: str | os.PathLike,
    dev_manifest: str | os.PathLike | None,
    lexicon: str | os.PathLike | Lexicon,
    out_dir: str | os.PathLike,
    cfg: HybridConfig | None = None,
) -> dict[str, Any]:
    """Train the whole hybrid system and write its model directory.

    Args:
        train_manifest: JSONL manifest of training utterances.
        dev_manifest: optional held-out manifest: LM perplexity, and WER / RTF
            with the default beam at the end (hypotheses in ``out_dir/dev_hyp.jsonl``).
        lexicon: ``lexicon.txt`` path or a :class:`Lexicon`; training words
            without a pronunciation get one from espeak-ng G2P (logged). Dev
            words are not added: the decoding vocabulary is the lexicon's.
        out_dir: the model directory (created).
        cfg: options.

    Returns:
        The training log written to ``out_dir/train_log.json``.
    """
    cfg = cfg or HybridConfig()
    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_manifest = Path(train_manifest)
    utts = read_manifest(train_manifest)
    dev_utts = read_manifest(dev_manifest) if dev_manifest else []
    lex = Lexicon.from_file(lexicon) if not isinstance(lexicon, Lexicon) else lexicon
    added = _complete_lexicon(lex, utts)  # training words only: dev/test words must not leak in
    langs = Counter(u.lang for u in utts)
    lang = langs.most_common(1)[0][0] if langs else "und"

    # 1. features
    extractor = FeatureExtractor(cfg.feature_config())
    skipped = SkipReport()
    feats = _extract(utts, extractor, skipped)
    words = {u.id: _words(u) for u in utts}

    # 2. monophone GMM-HMM from a flat start
    topo = HmmTopology.create(lex.phones(), cfg.topology_config())
    ids = [u.id for u in utts if u.id in feats]
    graphs = {i: build_graph(words[i], lex, topo) for i in ids}
    t0 = time.perf_counter()
    mono = train_mono([feats[i] for i in ids], [graphs[i] for i in ids], topo, ids, cfg.mono_config())
    skipped.update(mono.skipped.errors)
    gmm_seconds = time.perf_counter() - t0
    alignments = mono.alignments
    quality = {"gmm": _alignment_quality(train_manifest, alignments, extractor.cfg.frame_shift_ms / 1000)}

    # 3. frame classifier on the alignments, then re-alignment rounds with its own posteriors
    ccfg = cfg.classifier_config(extractor.dim, topo.num_pdfs)
    classifier = build_frame_classifier(ccfg)
    nn_history: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for round_ in range(cfg.realign_rounds + 1):
        ali_ids = [i for i in ids if i in alignments]
        targets = [torch.from_numpy(alignments[i].pdfs) for i in ali_ids]
        epochs = cfg.epochs if round_ == 0 else cfg.realign_epochs
        hist = train_frame_classifier(classifier, [feats[i] for i in ali_ids], targets,
                                      cfg.train_config(epochs, seed_offset=round_))
        nn_history += [{"round": round_, **h} for h in hist]
        if round_ == cfg.realign_rounds:
            break
        prior = posterior_log_priors(classifier, [feats[i] for i in ali_ids])
        alignments, report = _nn_align(classifier, feats, graphs, ali_ids, prior, topo, cfg.prior_scale)
        skipped.update(report.errors)
        loop, leave = transition_counts(list(alignments.values()), topo.num_pdfs)
        topo.update_transitions(loop, leave)
        quality[f"nn_round{round_ + 1}"] = _alignment_quality(train_manifest, alignments,
                                                              extractor.cfg.frame_shift_ms / 1000)
    nn_seconds = time.perf_counter() - t0
    log_prior = posterior_log_priors(classifier, [feats[i] for i in alignments])

    # 4. language models
    texts = [words[i] for i in ids]
    lm = train_ngram(texts, cfg.lm_order, vocab=lex.words())
    phone_seqs = [[topo.phones[p] for p, _, _ in alignments[i].phone_segments() if p != 0] for i in alignments]
    phone_lm = train_ngram(phone_seqs, cfg.phone_lm_order, vocab=[p for p in topo.phones if p != SIL])

    # 5. save
    _save(out, cfg, extractor.cfg, ccfg, classifier, log_prior, topo, lex, lm, phone_lm, mono.gmm, lang)
    train_log: dict[str, Any] = {
        "system": SYSTEM,
        "lang": lang,
        "train_utts": len(utts),
        "train_hours": round(sum(u.duration for u in utts) / 3600, 4),
        "num_pdfs": topo.num_pdfs,
        "num_phones": topo.num_phones,
        "num_gauss": mono.gmm.num_gauss,
        "lexicon_words": len(lex),
        "g2p_added": added,
        "skipped": skipped.errors,
        "gmm_history": mono.history,
        "classifier_history": nn_history,
        "alignment_accuracy_20ms": quality,
        "lm": repr(lm),
        "gmm_seconds": round(gmm_seconds, 1),
        "classifier_seconds": round(nn_seconds, 1),
    }
    if dev_utts:
        dev_words = [_words(u) for u in dev_utts]
        train_log["dev_perplexity"] = round(perplexity(lm, dev_words), 2)
        model = load_hybrid(out)
        train_log["dev"] = _decode(model, dev_utts, out / "dev_hyp.jsonl", "word", {})
    train_log["total_seconds"] = round(time.perf_counter() - t_start, 1)
    (out / "train_log.json").write_text(json.dumps(train_log, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if skipped.count:
        log.warning("hybrid training: %s", skipped)
    return train_log


def _save(out: Path, cfg: HybridConfig, fcfg: FeatureConfig, ccfg: FrameClassifierConfig, classifier: nn.Module,
          log_prior: Tensor, topo: HmmTopology, lex: Lexicon, lm: NgramLM, phone_lm: NgramLM, gmm: DiagGmm,
          lang: str) -> None:
    from safetensors.torch import save_file

    config = {"system": SYSTEM, "config": dataclasses.asdict(cfg), "features": fcfg.to_dict(),
              "classifier": dataclasses.asdict(ccfg), "lang": lang}
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tensors = {k: v.detach().contiguous() for k, v in classifier.state_dict().items()}
    tensors["log_prior"] = log_prior.contiguous()
    save_file(tensors, str(out / "model.safetensors"))
    save_file(gmm.state_dict(), str(out / "gmm.safetensors"))
    topo.save(out / "topology.json")
    SymbolTable(topo.phones).to_file(out / "phones.txt")
    lex.to_file(out / "lexicon.txt", with_probs=any(lex.prob(w, p) != 1.0 for w in lex for p in lex.pronunciations(w)))
    lm.to_arpa(out / "lm.arpa")
    phone_lm.to_arpa(out / "phone_lm.arpa")


def load_hybrid(model_dir: str | os.PathLike, lm: str | os.PathLike | None = None) -> HybridModel:
    """Load a model directory written by :func:`train_hybrid`.

    Args:
        model_dir: the directory.
        lm: another ARPA word LM to decode with (KenLM / SRILM output); default ``model_dir/lm.arpa``.

    Raises:
        ValueError: the directory holds another system's model.
    """
    from safetensors.torch import load_file

    d = Path(model_dir)
    meta = json.loads((d / "config.json").read_text(encoding="utf-8"))
    if meta.get("system") != SYSTEM:
        raise ValueError(f"{d}: not a hybrid model (system={meta.get('system')!r})")
    cfg = HybridConfig(**meta["config"])
    ccfg = meta["classifier"]
    ccfg = FrameClassifierConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in ccfg.items()})
    classifier = build_frame_classifier(ccfg)
    tensors = load_file(str(d / "model.safetensors"))
    log_prior = tensors.pop("log_prior")
    classifier.load_state_dict(tensors)
    extractor = FeatureExtractor(FeatureConfig.from_dict(meta["features"]))
    topo = HmmTopology.load(d / "topology.json")
    lexicon = Lexicon.from_file(d / "lexicon.txt")
    word_lm = NgramLM.from_arpa(lm or d / "lm.arpa")
    phone_lm = NgramLM.from_arpa(d / "phone_lm.arpa") if (d / "phone_lm.arpa").exists() else None
    return HybridModel(cfg, extractor, classifier, log_prior, topo, lexicon, word_lm, phone_lm)


# ---------------------------------------------------------------------------
# Decoding and alignment of manifests
# ---------------------------------------------------------------------------


def _decode(model: HybridModel, utts: Sequence[Utterance], out_jsonl: Path, mode: str,
            overrides: dict[str, Any]) -> dict[str, Any]:
    """Decode ``utts``, write hypotheses, return timing and error rates (see :func:`decode_manifest_hybrid`)."""
    from asr.metrics import score

    decoder = model.decoder(mode, **overrides)
    refs, hyps = {}, {}
    audio_seconds = nn_seconds = search_seconds = 0.0
    skipped = SkipReport()
    out_jsonl.parent.mkdir(parents=True, exist_ok=True)
    with open(out_jsonl, "w", encoding="utf-8") as f:
        for u in utts:
            try:
                wav = _load_wav(u)
            except AudioError as e:
                skipped.add(u.id, str(e))
                continue
            t0 = time.perf_counter()
            ll = model.loglikes(wav).numpy()
            t1 = time.perf_counter()
            result = decoder.decode(ll)
            t2 = time.perf_counter()
            nn_seconds += t1 - t0
            search_seconds += t2 - t1
            audio_seconds += wav.shape[0] / SAMPLE_RATE
            words = _words(u)
            if mode == "phone":  # reference phones: the lexicon's first pronunciation, else espeak-ng G2P
                missing = [w for w in words if w not in model.lexicon]
                extra = g2p(missing, u.lang) if missing else {}
                words = [p for w in words for p in (model.lexicon.pronounce(w) if w in model.lexicon else extra[w])]
            refs[u.id], hyps[u.id] = " ".join(words), result.text
            row = {"id": u.id, "text": result.text, "lang": u.lang,
                   "words": [{"word": w, "start": s, "end": e} for w, s, e in result.times(model.frame_shift)]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    total = nn_seconds + search_seconds
    report = score(refs, hyps)
    stats = {
        "mode": mode,
        "num_utts": len(hyps),
        "skipped": skipped.errors,
        "audio_seconds": round(audio_seconds, 2),
        "decode_seconds": round(total, 2),
        "rtf": round(total / max(audio_seconds, 1e-9), 4),
        "rtf_search": round(search_seconds / max(audio_seconds, 1e-9), 4),
        "beam": decoder.cfg.beam,
        "max_active": decoder.cfg.max_active,
        "torch_threads": torch.get_num_threads(),
        ("per" if mode == "phone" else "wer"): round(report.words.rate, 4),
        "errors": dataclasses.asdict(report.words),
    }
    log.info("decoded %d utterances (%s): %s %.2f%%, RTF %.3f", len(hyps), mode,
             "PER" if mode == "phone" else "WER", 100 * report.words.rate, stats["rtf"])
    return stats


def decode_manifest_hybrid(
    model_dir: str | os.PathLike | HybridModel,
    manifest: str | os.PathLike,
    out_jsonl: str | os.PathLike,
    beam: float | None = None,
    max_active: int | None = None,
    mode: str = "word",
    lm: str | os.PathLike | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Decode every utterance of a manifest.

    Writes one JSON line per utterance: ``{"id", "text", "lang", "words":
    [{"word", "start", "end"}, ...]}`` (times in seconds); in ``"phone"`` mode
    the "words" are phones.

    Args:
        model_dir: a model directory (or a loaded :class:`HybridModel`).
        manifest: utterances to decode; their ``text`` is the reference.
        out_jsonl: hypotheses file.
        beam, max_active: search width (default: the model config's).
        mode: ``"word"`` (lexicon + word LM) or ``"phone"`` (phone loop + phone LM, PER).
        lm: decode with this ARPA word LM instead of the model's.
        **overrides: other :class:`DecoderConfig` fields (``lm_weight``, ``acoustic_scale``, ...).

    Returns:
        ``{"mode", "num_utts", "audio_seconds", "decode_seconds", "rtf",
        "rtf_search", "beam", "max_active", "wer" (or "per"), "errors", ...}``;
        the RTF counts features, the network and the search, not file reading.
    """
    model = model_dir if isinstance(model_dir, HybridModel) else load_hybrid(model_dir, lm)
    utts = read_manifest(manifest)
    return _decode(model, utts, Path(out_jsonl), mode, {"beam": beam, "max_active": max_active, **overrides})


def align_manifest_hybrid(
    model_dir: str | os.PathLike | HybridModel, manifest: str | os.PathLike, out_jsonl: str | os.PathLike
) -> dict[str, Any]:
    """Forced-align a manifest's transcripts with a trained model.

    Writes per utterance ``{"id", "phones": [[phone, start_s, end_s], ...],
    "words": [[word, start_s, end_s], ...], "pdfs": [...]}``; words without a
    pronunciation get one through G2P; utterances too short for their
    transcript are skipped and reported.

    Returns:
        ``{"num_utts", "skipped": {id: reason}, "alignment_accuracy_20ms": ... (synth corpora only)}``.
    """
    model = model_dir if isinstance(model_dir, HybridModel) else load_hybrid(model_dir)
    manifest = Path(manifest)
    utts = read_manifest(manifest)
    _complete_lexicon(model.lexicon, utts)
    skipped = SkipReport()
    feats = _extract(utts, model.extractor, skipped)
    ids = [u.id for u in utts if u.id in feats]
    words = {u.id: _words(u) for u in utts}
    graphs = {i: model.graph(words[i]) for i in ids}
    alignments, report = _nn_align(model.classifier, feats, graphs, ids, model.log_prior, model.topo,
                                   model.cfg.prior_scale)
    skipped.update(report.errors)
    fs = model.frame_shift
    with open(out_jsonl, "w", encoding="utf-8") as f:
        for i in ids:
            if i not in alignments:
                continue
            a = alignments[i]
            row = {"id": i,
                   "phones": [[model.topo.phones[p], round(s * fs, 3), round(e * fs, 3)] for p, s, e in a.phone_segments()],
                   "words": [[words[i][w], round(s * fs, 3), round(e * fs, 3)] for w, s, e in a.word_segments()],
                   "pdfs": a.pdfs.tolist()}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"num_utts": len(alignments), "skipped": skipped.errors,
            "alignment_accuracy_20ms": _alignment_quality(manifest, alignments, fs)}
