"""The trained hybrid acoustic model as one bundle, and its model directory.

A :class:`HybridModel` holds what the classical road needs at run time: the
feature front end, the frame classifier with its state priors (scaled
likelihoods ``log p(s|x) - prior_scale * log p(s)``), the HMM topology, the
pronunciation lexicon and the word and phone n-grams. It is trained by
:func:`asr.train.hybrid.train_hybrid` and searched by
:class:`asr.decoding.hybrid.HybridRecognizer`; this module knows neither.

Model directory (everything decoding needs)::

    config.json         {"system": "hybrid", "features": FeatureConfig, "classifier": FrameClassifierConfig,
                         "prior_scale": ..., "lang": ..., "decoding": {"word": {...}, "phone": {...}},
                         "train": the training options (HybridConfig)}
    model.safetensors   classifier weights + "log_prior" (num_pdfs,)
    topology.json       phones, HMM shapes, trained self-loop probabilities
    phones.txt          phone symbol table (id 0 = SIL)
    lexicon.txt         pronunciations (G2P additions included)
    lm.arpa             word n-gram;  phone_lm.arpa: phone n-gram
    gmm.safetensors     the monophone GMM (for re-alignment and inspection)

``decoding`` holds the search options the model was trained to be decoded with,
one set per mode (:class:`asr.decoding.hybrid_search.DecoderConfig` fields).

Usage::

    model = load_hybrid("exp/hybrid/model")
    ll = model.loglikes(wav)              # (S,) samples -> (T, num_pdfs) scaled log-likelihoods
    graph = model.graph(["hello", "world"])
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.text.lm import NgramLM
from asr.features import FeatureConfig, FeatureExtractor
from asr.hmm.gmm import DiagGmm
from asr.hmm.topology import HmmTopology, UtteranceGraph, build_graph
from asr.models.frame_classifier import FrameClassifierConfig, build_frame_classifier, scaled_loglikes
from asr.text.lexicon import Lexicon
from asr.text.symbols import SymbolTable

__all__ = ["SYSTEM", "HybridModel", "save_hybrid", "load_hybrid", "usable_lexicon", "with_vocabulary"]

SYSTEM = "hybrid"  # config.json "system" tag


@dataclass
class HybridModel:
    """A trained hybrid acoustic model (what :func:`load_hybrid` returns).

    Attributes:
        extractor: the feature front end.
        classifier: the frame classifier (``(B, T, F) -> (B, T, num_pdfs)`` logits).
        classifier_config: its architecture.
        log_prior: ``(num_pdfs,)`` log state priors.
        prior_scale: ``log p(s|x) - prior_scale * log p(s)``.
        topo, lexicon, lm, phone_lm: HMMs, pronunciations, word and phone n-grams.
        decoding: mode (``"word"``, ``"phone"``) -> default search options.
        lang: the language it was trained on.
        train_config: the training options, as saved (for the record).
    """

    extractor: FeatureExtractor
    classifier: nn.Module
    classifier_config: FrameClassifierConfig
    log_prior: Tensor
    prior_scale: float
    topo: HmmTopology
    lexicon: Lexicon
    lm: NgramLM | None
    phone_lm: NgramLM | None
    decoding: dict[str, dict[str, Any]] = field(default_factory=dict)
    lang: str = "und"
    train_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.extractor.eval()
        self.classifier.eval()

    @property
    def frame_shift(self) -> float:
        """Seconds per frame."""
        return self.extractor.cfg.frame_shift_ms / 1000.0

    @torch.no_grad()
    def loglikes(self, wav: Tensor) -> Tensor:
        """Scaled log-likelihoods of one waveform: ``(S,)`` samples -> ``(T, num_pdfs)``."""
        feats, _ = self.extractor(wav)
        return scaled_loglikes(self.classifier, feats[0], self.log_prior, self.prior_scale)

    def graph(self, words: Sequence[str]) -> UtteranceGraph:
        """The utterance HMM of a word sequence (words must be in the lexicon)."""
        return build_graph(words, self.lexicon, self.topo)


def save_hybrid(out: str | os.PathLike, model: HybridModel, gmm: DiagGmm | None = None) -> None:
    """Write ``model`` as a model directory (see the module docstring); ``gmm``: the monophone GMM too."""
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = {"system": SYSTEM, "features": model.extractor.cfg.to_dict(), "classifier": asdict(model.classifier_config),
              "prior_scale": model.prior_scale, "lang": model.lang, "decoding": model.decoding,
              "train": model.train_config}
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tensors = {k: v.detach().contiguous() for k, v in model.classifier.state_dict().items()}
    tensors["log_prior"] = model.log_prior.contiguous()
    save_file(tensors, str(out / "model.safetensors"))
    if gmm is not None:
        save_file(gmm.state_dict(), str(out / "gmm.safetensors"))
    model.topo.save(out / "topology.json")
    SymbolTable(model.topo.phones).to_file(out / "phones.txt")
    lex = model.lexicon
    lex.to_file(out / "lexicon.txt", with_probs=lex.has_probs)
    if model.lm is not None:
        model.lm.to_arpa(out / "lm.arpa")
    if model.phone_lm is not None:
        model.phone_lm.to_arpa(out / "phone_lm.arpa")


def load_hybrid(model_dir: str | os.PathLike, lm: str | os.PathLike | None = None) -> HybridModel:
    """Load a model directory written by :func:`save_hybrid`.

    Args:
        model_dir: the directory.
        lm: another ARPA word LM to decode with (KenLM / SRILM output); default ``model_dir/lm.arpa``.

    Raises:
        ValueError: the directory holds another system's model.
    """
    from asr.weights import load_safetensors

    d = Path(model_dir)
    meta = json.loads((d / "config.json").read_text(encoding="utf-8"))
    if meta.get("system") != SYSTEM:
        raise ValueError(f"{d}: not a hybrid model (system={meta.get('system')!r})")
    ccfg = FrameClassifierConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["classifier"].items()})
    classifier = build_frame_classifier(ccfg)
    tensors = load_safetensors(d / "model.safetensors")
    log_prior = tensors.pop("log_prior")
    classifier.load_state_dict(tensors)
    extractor = FeatureExtractor(FeatureConfig.from_dict(meta["features"]))
    word_lm = NgramLM.from_arpa(lm or d / "lm.arpa")
    phone_lm = NgramLM.from_arpa(d / "phone_lm.arpa") if (d / "phone_lm.arpa").exists() else None
    return HybridModel(extractor, classifier, ccfg, log_prior, float(meta["prior_scale"]), HmmTopology.load(d / "topology.json"),
                       Lexicon.from_file(d / "lexicon.txt"), word_lm, phone_lm, decoding=meta.get("decoding", {}),
                       lang=meta.get("lang", "und"), train_config=meta.get("train", {}))


def usable_lexicon(lex: Lexicon, phones: Sequence[str]) -> tuple[Lexicon, list[str]]:
    """``lex`` without the pronunciations that hold a phone outside ``phones``; returns it and the words lost."""
    known = set(phones)
    out, lost = Lexicon(), []
    for w in lex:
        prons = [p for p in lex.pronunciations(w) if all(ph in known for ph in p)]
        if not prons:
            lost.append(w)
        for p in prons:
            out.add(w, p, lex.prob(w, p))
    return out, lost


def with_vocabulary(model_dir: str | os.PathLike, out: str | os.PathLike, lexicon: str | os.PathLike,
                    lm: str | os.PathLike) -> list[str]:
    """A copy of a model directory that decodes with another lexicon and word LM (e.g. a larger vocabulary).

    Pronunciations with phones the model has no HMM for are dropped.

    Returns:
        The words dropped for that.
    """
    import shutil

    src, dst = Path(model_dir), Path(out)
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.name not in ("lexicon.txt", "lm.arpa"):
            shutil.copyfile(f, dst / f.name)
    topo = HmmTopology.load(src / "topology.json")
    lex, lost = usable_lexicon(Lexicon.from_file(lexicon), topo.phones)
    lex.to_file(dst / "lexicon.txt", with_probs=lex.has_probs)
    shutil.copyfile(lm, dst / "lm.arpa")
    return lost
