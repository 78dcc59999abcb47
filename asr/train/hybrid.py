"""Training of the classical hybrid system, the road Kaldi took, and forced alignment with it.

Pipeline (:func:`train_hybrid`):

1. features: MFCC + deltas + delta-deltas, per-utterance CMVN
   (``snip_edges=False``: frame ``t`` covers ``[t, t + 1) * 10 ms``);
2. flat-start monophone GMM-HMM training with Viterbi re-alignment
   (:func:`asr.hmm.align.train_mono`);
3. a frame classifier (TDNN or spliced MLP, :mod:`asr.models.frame_classifier`)
   trained with cross-entropy on the GMM alignments
   (:func:`asr.train.frame_classifier.train_frame_classifier`), then
   ``realign_rounds`` rounds of re-aligning the training data with its own
   scaled likelihoods and training on;
4. state priors from the final alignments; a word n-gram LM (modified
   Kneser-Ney) from the training transcripts and a phone n-gram for phone
   recognition;
5. the model directory (:func:`asr.models.hybrid.save_hybrid`) with the search
   options it is decoded with, and ``train_log.json`` (GMM and classifier
   histories, skipped utterances, alignment accuracy, dev WER).

Usage::

    train_hybrid("data/en/train.jsonl", "data/en/dev.jsonl", "corpus/en/lexicon.txt", "exp/hybrid/model")
    align_manifest_hybrid("exp/hybrid/model", "data/en/dev.jsonl", "exp/hybrid/ali/dev.jsonl")
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.data.dataset import AudioDataset, SkipReport
from asr.data.manifest import Utterance, read_manifest
from asr.decoding.hybrid import HybridRecognizer
from asr.decoding.hybrid_search import DecoderConfig
from asr.text.lm import perplexity, train_ngram
from asr.decoding.manifest import decode_manifest
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
from asr.hmm.topology import SIL, HmmTopology, TopologyConfig, UtteranceGraph, build_graph
from asr.metrics import score
from asr.models.frame_classifier import (
    FrameClassifierConfig,
    build_frame_classifier,
    posterior_log_priors,
    scaled_loglikes,
)
from asr.models.hybrid import SYSTEM, HybridModel, load_hybrid, save_hybrid, usable_lexicon
from asr.models.lhuc import add_lhuc, fold_lhuc
from asr.text.g2p import extend_with_g2p
from asr.text.lexicon import Lexicon
from asr.text.normalize import normalize
from asr.train.frame_classifier import FrameTrainConfig, train_frame_classifier

__all__ = ["HybridConfig", "HybridFinetuneConfig", "train_hybrid", "finetune_hybrid", "adapt_normalization",
           "align_manifest_hybrid"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HybridConfig:
    """Every option of the hybrid system (one YAML block per experiment; ``decoding`` a nested one).

    Attributes:
        feature_kind, num_mel_bins, deltas, cmvn: features (see :class:`asr.features.FeatureConfig`).
        high_freq: upper edge of the mel filterbank in Hz (0: Nyquist); 3800 keeps the
            telephone band, what a model of 8 kHz audio hears.
        num_states, sil_states, sil_prob: HMM topology (:class:`asr.hmm.topology.TopologyConfig`).
        mono_iters, max_gauss: monophone GMM training (:class:`asr.hmm.align.MonoConfig`).
        model, hidden, dropout: the frame classifier (``"tdnn"`` or ``"mlp"``).
        epochs, lr, batch_chunks: its cross-entropy training on the GMM alignments.
        realign_rounds, realign_epochs: rounds of re-alignment with the classifier, epochs after each.
        prior_scale: ``log p(s|x) - prior_scale * log p(s)``.
        lm_order, phone_lm_order: n-gram orders of the word and phone LMs.
        decoding: the search options saved with the model (:class:`asr.decoding.hybrid_search.DecoderConfig`).
        phone_penalty: the ``word_penalty`` of phone recognition (per phone; positive
            counters the deletions a phone n-gram favours).
        seed: initialisation and shuffling.
    """

    feature_kind: str = "mfcc"
    num_mel_bins: int = 23
    deltas: int = 2
    cmvn: str = "utterance"
    high_freq: float = 0.0
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
    decoding: DecoderConfig = field(default_factory=DecoderConfig)
    phone_penalty: float = 1.0
    seed: int = 0

    def feature_config(self) -> FeatureConfig:
        """Features of the system (frame ``t`` covers ``[t, t + 1) * 10 ms``)."""
        return FeatureConfig(kind=self.feature_kind, num_mel_bins=self.num_mel_bins, deltas=self.deltas,
                             cmvn=self.cmvn, snip_edges=False, high_freq=self.high_freq)

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

    def train_config(self, epochs: int, seed_offset: int = 0) -> FrameTrainConfig:
        """Cross-entropy schedule of ``epochs`` epochs."""
        return FrameTrainConfig(epochs=epochs, lr=self.lr, batch_chunks=self.batch_chunks,
                                seed=self.seed + seed_offset)

    def decoding_modes(self) -> dict[str, dict[str, Any]]:
        """The model directory's ``decoding`` block: search options of the ``word`` and ``phone`` modes."""
        phone = dataclasses.replace(self.decoding, word_penalty=self.phone_penalty)
        return {"word": dataclasses.asdict(self.decoding), "phone": dataclasses.asdict(phone)}


# ---------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------


def _words(utt: Utterance) -> list[str]:
    """The normalised words of an utterance's transcript."""
    return normalize(utt.text, utt.lang).split()


@torch.no_grad()
def _extract(utts: Sequence[Utterance], extractor: FeatureExtractor, report: SkipReport) -> dict[str, Tensor]:
    """``id -> (T, F)`` features; unreadable audio goes to ``report``."""
    extractor.eval()
    out: dict[str, Tensor] = {}
    for item in AudioDataset(utts):
        if "error" in item:
            report.add(item["id"], item["error"])
            continue
        feats, _ = extractor(item["wav"])
        out[item["id"]] = feats[0]
    return out


def _complete_lexicon(lexicon: Lexicon, utts: Sequence[Utterance]) -> list[str]:
    """Give every transcript word a pronunciation (espeak-ng G2P, logged); returns the words added."""
    added: list[str] = []
    by_lang: dict[str, list[str]] = {}
    for u in utts:
        by_lang.setdefault(u.lang, []).extend(w for w in _words(u) if w not in lexicon)
    for lang, words in by_lang.items():
        if words:
            added += extend_with_g2p(lexicon, words, lang)
    return added


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
              log_prior: Tensor, topo: HmmTopology, prior_scale: float) -> tuple[dict[str, Alignment], dict[str, str]]:
    lls = [scaled_loglikes(classifier, feats[i], log_prior, prior_scale) for i in ids]
    return align_utterances(lls, [graphs[i] for i in ids], topo, ids)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def _dev_decode(model: HybridModel, utts: Sequence[Utterance], out_jsonl: Path) -> dict[str, Any]:
    """Decode the dev set with the saved search options: decoding stats, WER and its edit counts."""
    stats = decode_manifest(HybridRecognizer(model), utts, out_jsonl, with_times=True, jobs=0)
    hyps = {u.id: u.text for u in read_manifest(out_jsonl)}
    report = score({u.id: " ".join(_words(u)) for u in utts}, hyps)
    log.info("dev: WER %.2f%%, RTF %.3f", 100 * report.words.rate, stats.rtf)
    return {**stats.to_dict(), "wer": round(report.words.rate, 4), "errors": dataclasses.asdict(report.words)}


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
            with the saved search options at the end (hypotheses in ``out_dir/dev_hyp.jsonl``).
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
    lang = "mul" if len(langs) > 1 else next(iter(langs), "und")  # ISO 639: multiple languages

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
    skipped.update(mono.skipped)
    gmm_seconds = time.perf_counter() - t0
    alignments = mono.alignments
    frame_shift = extractor.cfg.frame_shift_ms / 1000
    quality = {"gmm": _alignment_quality(train_manifest, alignments, frame_shift)}

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
        skipped.update(report)
        loop, leave = transition_counts(list(alignments.values()), topo.num_pdfs)
        topo.update_transitions(loop, leave)
        quality[f"nn_round{round_ + 1}"] = _alignment_quality(train_manifest, alignments, frame_shift)
    nn_seconds = time.perf_counter() - t0
    log_prior = posterior_log_priors(classifier, [feats[i] for i in alignments])

    # 4. language models
    texts = [words[i] for i in ids]
    lm = train_ngram(texts, cfg.lm_order, vocab=lex.words())
    phone_seqs = [[topo.phones[p] for p, _, _ in alignments[i].phone_segments() if p != 0] for i in alignments]
    phone_lm = train_ngram(phone_seqs, cfg.phone_lm_order, vocab=[p for p in topo.phones if p != SIL])

    # 5. save
    model = HybridModel(extractor, classifier, ccfg, log_prior, cfg.prior_scale, topo, lex, lm, phone_lm,
                        decoding=cfg.decoding_modes(), lang=lang, train_config=dataclasses.asdict(cfg))
    save_hybrid(out, model, mono.gmm)
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
        train_log["dev_perplexity"] = round(perplexity(lm, [_words(u) for u in dev_utts]), 2)
        train_log["dev"] = _dev_decode(load_hybrid(out), dev_utts, out / "dev_hyp.jsonl")
    train_log["total_seconds"] = round(time.perf_counter() - t_start, 1)
    (out / "train_log.json").write_text(json.dumps(train_log, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if skipped.count:
        log.warning("hybrid training: %s", skipped)
    return train_log


# ---------------------------------------------------------------------------
# Fine-tuning a trained model on new data
# ---------------------------------------------------------------------------


FINETUNE_LAYERS = ("full", "head", "lhuc")


@dataclass(frozen=True)
class HybridFinetuneConfig:
    """Adapting a trained hybrid model to new audio (another voice, a real speaker).

    Attributes:
        epochs: cross-entropy epochs on the alignments the pre-trained model makes of the new audio.
        lr: peak learning rate (lower than from scratch: the weights are a good start).
        layers: ``full`` (every layer), ``head`` (the output layer's weights only) or ``lhuc`` (a
            scale per hidden unit, :mod:`asr.models.lhuc`, folded into the batch norms when done); the
            batch-norm statistics follow the new audio in every case.
        realign_rounds, realign_epochs: rounds of re-aligning with the adapted model, epochs after each.
        batch_chunks: chunks per minibatch.
        lm_order: the word n-gram of the new training text saved with the model.
        adversarial_weight: with unlabeled audio, weight of the domain-adversarial loss
            (:func:`asr.train.frame_classifier.train_frame_classifier`).
        seed: shuffling.
    """

    epochs: int = 8
    lr: float = 5e-4
    layers: str = "full"
    realign_rounds: int = 1
    realign_epochs: int = 4
    batch_chunks: int = 64
    lm_order: int = 3
    adversarial_weight: float = 0.0
    seed: int = 0


def _freeze_all_but_output(classifier: nn.Module) -> None:
    """Leave only the last parameterized layer trainable (the ``head`` policy)."""
    last = [m for m in classifier.modules() if any(True for _ in m.parameters(recurse=False))][-1]
    for prm in classifier.parameters():
        prm.requires_grad_(False)
    for prm in last.parameters():
        prm.requires_grad_(True)


def _save_adapted(out: Path, model: HybridModel, src: Path) -> None:
    """Save a model adapted from ``src``'s, with ``src``'s monophone GMM (adaptation leaves it as it was)."""
    save_hybrid(out, model)
    if (src / "gmm.safetensors").exists():
        shutil.copyfile(src / "gmm.safetensors", out / "gmm.safetensors")


def finetune_hybrid(
    init_dir: str | os.PathLike,
    train_manifest: str | os.PathLike,
    dev_manifest: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    lexicon: str | os.PathLike | Lexicon | None = None,
    cfg: HybridFinetuneConfig | None = None,
    unlabeled_manifest: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Adapt a trained hybrid model to new audio and write a new model directory.

    The pre-trained model force-aligns the new transcripts (its own scaled
    likelihoods, as Kaldi aligns with a DNN before retraining it); its frame
    classifier then trains on, from its weights, on these alignments
    (``realign_rounds`` rounds of re-aligning with the adapted model); the state
    priors are re-estimated on the new audio. The topology, features and
    phone LM stay; the word LM becomes an n-gram of the new training text.

    Args:
        init_dir: the pre-trained model directory.
        train_manifest: the new training utterances.
        dev_manifest: optional: dev WER in ``train_log.json`` (as :func:`train_hybrid`).
        out_dir: the new model directory.
        lexicon: the decoding lexicon (default: the pre-trained one); training words it
            lacks get espeak-ng pronunciations; pronunciations with phones the model
            has no HMM for are dropped (logged).
        cfg: options.
        unlabeled_manifest: audio of another domain without transcripts: with
            ``cfg.adversarial_weight > 0`` training is domain-adversarial against it.

    Returns:
        The training log (``out_dir/train_log.json``), with ``init_from``.
    """
    cfg = cfg or HybridFinetuneConfig()
    if cfg.layers not in FINETUNE_LAYERS:
        raise ValueError(f"hybrid fine-tuning: layers must be one of {FINETUNE_LAYERS}, not {cfg.layers!r}")
    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    init, out = Path(init_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = load_hybrid(init)
    utts = read_manifest(train_manifest)
    dev_utts = read_manifest(dev_manifest) if dev_manifest else []
    lex = model.lexicon if lexicon is None else (lexicon if isinstance(lexicon, Lexicon) else Lexicon.from_file(lexicon))
    added = _complete_lexicon(lex, utts)
    lex, lost = usable_lexicon(lex, model.topo.phones)
    if lost:
        log.warning("hybrid fine-tuning: %d words have only phones the model lacks, dropped: %s", len(lost), lost[:10])
    model.lexicon = lex
    langs = Counter(u.lang for u in utts)
    model.lang = langs.most_common(1)[0][0] if langs else model.lang  # a multilingual model adapted to one
    skipped = SkipReport()
    feats = _extract(utts, model.extractor, skipped)
    words = {u.id: _words(u) for u in utts}
    ids = []
    for u in utts:
        missing = [w for w in words[u.id] if w not in lex]
        if u.id in feats and missing:
            skipped.add(u.id, f"words without a usable pronunciation: {missing}")
        elif u.id in feats:
            ids.append(u.id)
    graphs = {i: model.graph(words[i]) for i in ids}
    classifier, topo = model.classifier, model.topo
    unlabeled = None
    if unlabeled_manifest is not None and cfg.adversarial_weight > 0:
        unl_feats = _extract(read_manifest(unlabeled_manifest), model.extractor, skipped)
        unlabeled = list(unl_feats.values())
    if cfg.layers == "head":
        _freeze_all_but_output(classifier)
    elif cfg.layers == "lhuc":
        add_lhuc(classifier)
    history: list[dict[str, Any]] = []
    prior = model.log_prior
    t0 = time.perf_counter()
    for round_ in range(cfg.realign_rounds + 1):
        alignments, report = _nn_align(classifier, feats, graphs, ids, prior, topo, model.prior_scale)
        if round_ == 0:
            skipped.update(report)
        ali_ids = [i for i in ids if i in alignments]
        if not ali_ids:
            raise ValueError(f"{train_manifest}: the pre-trained model aligned none of the utterances ({skipped})")
        epochs = cfg.epochs if round_ == 0 else cfg.realign_epochs
        tcfg = FrameTrainConfig(epochs=epochs, lr=cfg.lr, batch_chunks=cfg.batch_chunks, seed=cfg.seed + round_)
        hist = train_frame_classifier(classifier, [feats[i] for i in ali_ids],
                                      [torch.from_numpy(alignments[i].pdfs) for i in ali_ids], tcfg,
                                      unlabeled=unlabeled, adversarial_weight=cfg.adversarial_weight)
        history += [{"round": round_, **h} for h in hist]
        prior = posterior_log_priors(classifier, [feats[i] for i in ali_ids])
    fold_lhuc(classifier)  # LHUC scales into the batch norms; every parameter trainable again
    model.log_prior = prior
    model.lm = train_ngram([words[i] for i in ids], cfg.lm_order, vocab=lex.words())
    model.train_config = {**model.train_config, "finetune": dataclasses.asdict(cfg), "init_from": str(init)}
    _save_adapted(out, model, init)
    train_log: dict[str, Any] = {
        "system": SYSTEM, "init_from": str(init), "lang": model.lang, "train_utts": len(utts),
        "unlabeled_utts": len(unlabeled or ()),
        "train_hours": round(sum(u.duration for u in utts) / 3600, 4), "lexicon_words": len(lex),
        "g2p_added": added, "dropped_words": lost, "skipped": skipped.errors, "classifier_history": history,
        "classifier_seconds": round(time.perf_counter() - t0, 1), "lm": repr(model.lm),
    }
    if dev_utts:
        train_log["dev"] = _dev_decode(load_hybrid(out), dev_utts, out / "dev_hyp.jsonl")
    train_log["total_seconds"] = round(time.perf_counter() - t_start, 1)
    (out / "train_log.json").write_text(json.dumps(train_log, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if skipped.count:
        log.warning("hybrid fine-tuning: %s", skipped)
    return train_log


def adapt_normalization(model_dir: str | os.PathLike, manifest: str | os.PathLike, out_dir: str | os.PathLike,
                        ) -> dict[str, Any]:
    """A copy of a model whose batch-norm statistics are those of ``manifest``'s audio (AdaBN, no transcripts).

    The state priors are re-estimated on the same audio (the network's average posterior), so the
    scaled likelihoods stay consistent with the new statistics.

    Returns:
        ``{"utts", "frames", "skipped"}`` (also in ``out_dir/adapt_log.json``).
    """
    from asr.models.frame_classifier import adapt_batchnorm

    src, out = Path(model_dir), Path(out_dir)
    model = load_hybrid(src)
    skipped = SkipReport()
    feats = list(_extract(read_manifest(manifest), model.extractor, skipped).values())
    if not feats:
        raise ValueError(f"{manifest}: no readable audio to adapt the normalization to ({skipped})")
    frames = adapt_batchnorm(model.classifier, feats)
    model.log_prior = posterior_log_priors(model.classifier, feats)
    model.train_config = {**model.train_config, "adapted_normalization": str(manifest)}
    _save_adapted(out, model, src)
    info = {"utts": len(feats), "frames": frames, "skipped": skipped.errors, "from": str(src)}
    (out / "adapt_log.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


# ---------------------------------------------------------------------------
# Forced alignment of a manifest
# ---------------------------------------------------------------------------


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
                                   model.prior_scale)
    skipped.update(report)
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
