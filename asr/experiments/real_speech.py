"""From synthetic voices to a real one: the experiments of the Asterisk recipe.

One real speaker (:mod:`asr.data.corpora.asterisk`), split by prompt; synthetic
speech made for it (:mod:`asr.data.synth`); both systems trained on either and
fine-tuned from one to the other. Every run writes ``<run>/results.json`` in the
form :mod:`asr.compare` reads (variant -> test set -> scores), tested on the
real test set ``real``.

Synthetic corpora (:func:`make_synthetic`, ``EXP/synth/<condition>``), the two
text conditions of the issue, both through the same voices and channels
(several engines when installed, vocal tract length perturbation, telephone
codecs):

* ``generic``  the sentence generator's text (:mod:`asr.data.sentences`);
* ``prompts``  the real training prompts' text (text-only in-domain data, as TTS
  augmentation does); never a dev or test prompt's text.

Any synthetic training sentence that holds a held-out prompt's text is dropped
(counted in ``EXP/synth/<condition>/leaks.json``).

Language resources (:func:`make_lang`, ``EXP/lang``): a lexicon of every training
word (real and synthetic, espeak-ng G2P) and the domain LM, a Kneser-Ney n-gram of
the real training prompts' text; test words outside it are out of vocabulary.

Runs:

* ``zeroshot/<condition>``  both systems trained on synthetic speech only (no real audio);
* ``fewshot/<start>-<N>min``  from ``scratch`` (the real audio alone) or fine-tuned from
  a ``zeroshot`` condition's models on N minutes of real audio (nested subsets, ``all``:
  every training prompt); the CTC model with the fine-tuning policies of
  :mod:`asr.train.finetune` (``full`` at every size, the others at ``policy_minutes``),
  the hybrid model with :func:`asr.train.hybrid.finetune_hybrid`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr.config import from_dict
from asr.data.corpora.asterisk import contains_text
from asr.data.manifest import Utterance, read_manifest, subset_manifest, total_duration, write_manifest
from asr.decoding.loaders import save_ctc_decoding
from asr.systems import (
    RESULTS_JSON,
    CTCSettings,
    Experiment,
    LangData,
    decode_ctc_system,
    decode_hybrid_system,
    decode_systems,
    model_params,
    score_hypotheses,
    score_systems,
    train_systems,
)
from asr.text.lexicon import Lexicon
from asr.text.lm import train_ngram
from asr.text.normalize import normalize

__all__ = ["TransferConfig", "RealData", "make_synthetic", "make_lang", "make_open_lang", "run_zeroshot",
           "zeroshot_experiment", "run_fewshot", "run_openvocab", "run_domain", "run_band", "minutes_label",
           "size_dir", "collect"]

log = logging.getLogger(__name__)

REAL_TEST = "real"
CONDITIONS = ("generic", "prompts")
MULTI_STARTS = ("scratch", "mono", "pooled")  # the multilingual experiment's starting points


@dataclass(frozen=True)
class TransferConfig:
    """The ``transfer:`` block of a preset.

    Attributes:
        engines: synthesis engines of both synthetic corpora (missing ones are skipped).
        synth_hours: audio of each synthetic corpus, all splits (dev/test 10 % each).
        train_speakers, dev_speakers, test_speakers: synthetic speakers per split.
        vtlp_prob, telephone_prob: shares of synthetic utterances with vocal tract length
            perturbation and through a telephone codec (the real prompts are 8 kHz telephone audio).
        noise_prob: share with additive noise.
        conditions: the synthetic text conditions trained (``generic``, ``prompts``).
        minutes: real training audio of the few-shot runs (0: all of it).
        starts: their starting points: ``scratch`` and / or conditions.
        systems: ``hybrid`` and / or ``ctc``.
        ctc_policies: CTC fine-tuning policies run at ``policy_minutes`` besides ``full``.
        policy_minutes: that size.
        top_k, l2sp_alpha: ``top-k`` blocks, L2-SP strength.
        hybrid: HybridConfig fields of every hybrid model trained from scratch.
        hybrid_finetune: :class:`asr.train.hybrid.HybridFinetuneConfig` fields.
        ctc_finetune: TrainConfig fields over ``ctc.train`` when fine-tuning (``epochs`` here
            overrides ``ctc_finetune_audio_hours``).
        ctc_scratch_audio_hours, ctc_finetune_audio_hours: CTC on real audio from scratch and
            fine-tuned: epochs so that about this much audio is presented (at most ``ctc_max_epochs``).
        ctc_max_epochs: that bound.
        lm_order: the domain LM's order.
        open_words, open_base_weight: the large vocabulary: frequent words added, unigram weight of
            their frequencies (:func:`asr.text.vocabulary.open_vocabulary`).
        open_runs: the runs decoded again with it (``zeroshot/<condition>``, ``fewshot/<start>-<N>min``).
        band_high_freq: the ``band`` run's mel filterbank edge (Hz).
        domain_condition: the zeroshot condition whose hybrid model the domain experiment continues.
        domain_minutes: its sizes of labeled real audio (0: none).
        domain_adversarial_weight: weight of its domain loss.
        domain_adabn_minutes: the sizes at which the models also decode with the real audio's batch-norm
            statistics (``+adabn``).
        domain_continue: HybridFinetuneConfig fields (over ``hybrid_finetune``) of its continuations on
            the synthetic data.
        multi_langs: the languages of the multilingual experiment's pooled model (empty: no such experiment;
            :mod:`asr.experiments.real_speech_multilingual`).
        multi_targets: its real target speakers' languages.
        multi_hours: synthetic audio per language there (all splits).
        multi_condition: the text condition of that synthetic speech.
        multi_minutes: its sizes of real fine-tuning audio (0: none).
        multi_starts: its starting points (``scratch``, ``mono``, ``pooled``).
        seed: subsets and synthesis.
    """

    engines: tuple[str, ...] = ("espeak",)
    synth_hours: float = 0.5
    train_speakers: int = 12
    dev_speakers: int = 2
    test_speakers: int = 2
    vtlp_prob: float = 0.5
    telephone_prob: float = 0.5
    noise_prob: float = 0.5
    conditions: tuple[str, ...] = CONDITIONS
    minutes: tuple[float, ...] = (1, 3, 10, 0)
    starts: tuple[str, ...] = ("scratch", "prompts")
    systems: tuple[str, ...] = ("hybrid", "ctc")
    ctc_policies: tuple[str, ...] = ("head", "top-k", "l2sp")
    policy_minutes: float = 10
    top_k: int = 2
    l2sp_alpha: float = 0.01
    hybrid: dict = field(default_factory=dict)
    hybrid_finetune: dict = field(default_factory=dict)
    ctc_finetune: dict = field(default_factory=dict)
    ctc_scratch_audio_hours: float = 2.0
    ctc_finetune_audio_hours: float = 1.0
    ctc_max_epochs: int = 60
    lm_order: int = 3
    open_words: int = 20000
    open_base_weight: float = 0.0
    open_runs: tuple[str, ...] = ("zeroshot/prompts", "fewshot/prompts-10min", "fewshot/prompts-all",
                                  "fewshot/scratch-all")
    band_high_freq: float = 3800.0
    domain_condition: str = "prompts"
    domain_minutes: tuple[float, ...] = (0, 1, 3)
    domain_adversarial_weight: float = 0.3
    domain_adabn_minutes: tuple[float, ...] = (0, 1, 3)
    domain_continue: dict = field(default_factory=lambda: {"epochs": 4, "realign_rounds": 0})
    multi_langs: tuple[str, ...] = ()
    multi_targets: tuple[str, ...] = ("es",)
    multi_hours: float = 0.15
    multi_condition: str = "prompts"
    multi_minutes: tuple[float, ...] = (0, 3)
    multi_starts: tuple[str, ...] = ("scratch", "mono", "pooled")
    seed: int = 0

    def __post_init__(self) -> None:
        bad = [c for c in self.conditions if c not in CONDITIONS]
        if bad:
            raise ValueError(f"transfer.conditions: unknown {bad}; known: {list(CONDITIONS)}")
        bad = [s for s in self.starts if s != "scratch" and s not in self.conditions]
        if bad:
            raise ValueError(f"transfer.starts: {bad} are neither 'scratch' nor among conditions {list(self.conditions)}")
        if self.multi_langs and not set(self.multi_targets) <= set(self.multi_langs):
            raise ValueError(f"transfer.multi_targets {list(self.multi_targets)} must be among multi_langs "
                             f"{list(self.multi_langs)}")
        bad = [s for s in self.multi_starts if s not in MULTI_STARTS]
        if bad:
            raise ValueError(f"transfer.multi_starts: unknown {bad}; known: {list(MULTI_STARTS)}")
        if self.multi_condition not in CONDITIONS:
            raise ValueError(f"transfer.multi_condition {self.multi_condition!r}: not one of {list(CONDITIONS)}")
        if self.domain_condition not in self.conditions:
            raise ValueError(f"transfer.domain_condition {self.domain_condition!r} is not among {list(self.conditions)}")


@dataclass(frozen=True)
class RealData:
    """The real speaker's manifests (``EXP/data/<lang>/{train,dev,test}.jsonl``)."""

    lang: str
    train: Path
    dev: Path
    test: Path

    @classmethod
    def at(cls, data_dir: str | Path, lang: str) -> RealData:
        """The manifests under ``data_dir/<lang>``."""
        return cls(lang, *(Path(data_dir) / lang / f"{s}.jsonl" for s in ("train", "dev", "test")))


def minutes_label(minutes: float) -> str:
    """``10min``, ``all`` for 0."""
    return "all" if not minutes else f"{minutes:g}min"


def _texts(manifest: Path) -> list[str]:
    return [normalize(u.text, u.lang) for u in read_manifest(manifest)]


def _test_oov(real: RealData, vocabulary: set[str]) -> dict[str, Any]:
    """How many real test words ``vocabulary`` lacks: ``{"test_words", "test_oov", "test_oov_rate"}``."""
    words = [w for t in _texts(real.test) for w in t.split()]
    oov = sum(w not in vocabulary for w in words)
    return {"test_words": len(words), "test_oov": oov, "test_oov_rate": round(oov / max(1, len(words)), 4)}


# ---------------------------------------------------------------------------
# Synthetic corpora and language resources
# ---------------------------------------------------------------------------


def make_synthetic(out: Path, real: RealData, cfg: TransferConfig, condition: str, jobs: int | None = None,
                   **synth: Any) -> Path:
    """The synthetic corpus of one text condition under ``out`` (``out/<lang>/...``; ``synth``: more
    :class:`~asr.data.synth.SynthConfig` fields); returns its train manifest.

    The manifest is ``out/train.jsonl``: the corpus' training split without the utterances
    whose text holds a real dev or test prompt's text (``out/leaks.json`` lists them).
    """
    from asr.data.synth import SynthConfig, check_engines, generate

    out.mkdir(parents=True, exist_ok=True)
    engines = check_engines(cfg.engines, skip_missing=True)
    texts = ""
    if condition == "prompts":
        texts_path = out / "prompts.txt"
        texts_path.write_text("\n".join(dict.fromkeys(_texts(real.train))) + "\n", encoding="utf-8")
        texts = str(texts_path)
    scfg = SynthConfig(langs=(real.lang,), hours=cfg.synth_hours, seed=cfg.seed, train_speakers=cfg.train_speakers,
                       dev_speakers=cfg.dev_speakers, test_speakers=cfg.test_speakers, engines=engines,
                       noise_prob=cfg.noise_prob, vtlp_prob=cfg.vtlp_prob, telephone_prob=cfg.telephone_prob,
                       train_texts=texts, **synth)
    stats = generate(out, scfg, jobs=jobs, progress=False)
    log.info("synth %s: %s", condition, stats["langs"][real.lang])
    held = [t for m in (real.dev, real.test) for t in _texts(m)]
    keep: list[Utterance] = []
    leaks: dict[str, str] = {}
    for u in read_manifest(out / real.lang / "train.jsonl"):
        hit = next((t for t in held if contains_text(normalize(u.text, u.lang), t)), None)
        if hit is None:
            keep.append(u)
        else:
            leaks[u.id] = hit
    write_manifest(out / "train.jsonl", keep)
    (out / "leaks.json").write_text(json.dumps({"dropped": len(leaks), "utts": leaks}, indent=1) + "\n")
    if leaks:
        log.warning("synth %s: %d training sentences hold a held-out prompt's text, dropped", condition, len(leaks))
    return out / "train.jsonl"


def make_lang(out: Path, real: RealData, synthetic: Sequence[Path], order: int = 3) -> tuple[Path, Path]:
    """``out/lexicon.txt`` (every real and synthetic training word, espeak-ng G2P) and ``out/lm.arpa``
    (the domain LM: an n-gram of the real training prompts' text, over the lexicon's words)."""
    from asr.text.g2p import build_lexicon

    out.mkdir(parents=True, exist_ok=True)
    lexicon, lm_path = out / "lexicon.txt", out / "lm.arpa"
    real_texts = [t.split() for t in _texts(real.train)]
    words = sorted({w for t in real_texts for w in t} | {w for m in synthetic for t in _texts(m) for w in t.split()})
    lex = build_lexicon(words, real.lang)
    lex.to_file(lexicon)
    train_ngram(real_texts, order, vocab=lex.words()).to_arpa(lm_path)
    info = {"lexicon_words": len(lex), "lm_sentences": len(real_texts), **_test_oov(real, set(lex.words()))}
    (out / "lang.json").write_text(json.dumps(info, indent=1) + "\n")
    log.info("lang: %s", info)
    return lexicon, lm_path


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


def _ctc_settings(ctc: CTCSettings, train: Mapping[str, Any]) -> CTCSettings:
    return dataclasses.replace(ctc, train={**ctc.train, **train})


def run_zeroshot(exp: Path, real: RealData, condition: str, train: Path, lexicon: Path, lm: Path,
                 cfg: TransferConfig, ctc: CTCSettings, force: bool = False) -> dict[str, Any]:
    """Both systems trained on one synthetic corpus, tested on the real test set (:func:`zeroshot_experiment`).
    The synthetic dev set validates (no real audio is seen); both decode with the domain LM. (The
    synthetic test set says the sentence generator's text in either condition, which the domain LM
    does not model: its WER would measure the LM, not the transfer, and is not decoded.)
    """
    return zeroshot_experiment(exp / "zeroshot" / condition, exp / "synth" / condition / real.lang, real, train,
                               lexicon, lm, cfg, ctc, force)


def zeroshot_experiment(run: Path, synth_dir: Path, real: RealData, train: Path, lexicon: Path, lm: Path,
                        cfg: TransferConfig, ctc: CTCSettings, force: bool = False) -> dict[str, Any]:
    """``cfg.systems`` trained on ``train`` (validated on ``synth_dir/dev.jsonl``) in ``run``, scored on the
    real test set with the domain LM: its ``results.json`` (skipped when it exists, unless ``force``)."""
    lang = LangData(name="", lang=real.lang, train=train, dev=synth_dir / "dev.jsonl", tests={REAL_TEST: real.test},
                    lexicon=lexicon, hybrid_lm=lm, ctc_lm=lm)
    return _train_and_score(Experiment(run, (lang,), cfg.systems, cfg.hybrid, ctc), force)


def _epochs(audio_hours: float, train_hours: float, max_epochs: int) -> int:
    """Epochs that present about ``audio_hours`` of audio, 1 to ``max_epochs``."""
    return max(1, min(max_epochs, round(audio_hours / max(train_hours, 1e-6))))


def _train_and_score(xp: Experiment, force: bool) -> dict[str, Any]:
    if (xp.exp / RESULTS_JSON).is_file() and not force:
        log.info("%s: results exist, skipped", xp.exp)
        return json.loads((xp.exp / RESULTS_JSON).read_text())
    train_systems(xp, force)
    decode_systems(xp)
    return score_systems(xp)


def _scored(variants: Mapping[str, tuple[Path, Any]], test: Path, train_s: float, model_dir: Path,
            extra: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``results.json`` entries as :func:`asr.systems.score_systems` writes them, for runs it does not train."""
    out = {}
    for variant, (hyp, stats) in variants.items():
        entry = {**score_hypotheses(test, hyp), "rtf": stats.rtf, "params": model_params([model_dir]),
                 "train_s": round(train_s, 1), **extra}
        decoding = Path(hyp).with_suffix(".decoding.json")
        if decoding.is_file():
            entry["decoding"] = json.loads(decoding.read_text())
        out[variant] = {REAL_TEST: entry}
    return out


def _decode_hybrid_run(model: Path, real: RealData, lm: Path, train_s: float, extra: Mapping[str, Any]
                       ) -> dict[str, Any]:
    """Decode the real test set with one hybrid model: its ``results.json`` entry."""
    variants = decode_hybrid_system(model, real.test, model.parent / "hyp" / f"{REAL_TEST}.jsonl", lm=lm)
    return _scored(variants, real.test, train_s, model, extra)["hybrid"][REAL_TEST]


def _finetune_hybrid(run: Path, init: Path, subset: Path, real: RealData, lexicon: Path, lm: Path,
                     cfg: TransferConfig) -> dict[str, dict[str, Any]]:
    from asr.train.hybrid import HybridFinetuneConfig, finetune_hybrid

    model = run / "hybrid" / "model"
    t0 = time.perf_counter()
    if not (model / "config.json").is_file():
        finetune_hybrid(init, subset, real.dev, model, lexicon,
                        from_dict(HybridFinetuneConfig, cfg.hybrid_finetune, source="transfer.hybrid_finetune"))
    return {"hybrid": {REAL_TEST: _decode_hybrid_run(model, real, lm, time.perf_counter() - t0,
                                                      {"init_from": str(init)})}}


def _finetune_ctc(run: Path, init: Path, subset: Path, real: RealData, lm: Path, cfg: TransferConfig,
                  ctc: CTCSettings, policy: str, epochs: int) -> dict[str, dict[str, Any]]:
    from asr.text.tokenizer import load_tokenizer
    from asr.train.config import TrainConfig
    from asr.train.finetune import finetune_config
    from asr.train.multilingual import train_multilingual

    out = run / f"ctc-{policy}"
    tokenizer = load_tokenizer(init)
    t0 = time.perf_counter()
    if not (out / "train_summary.json").is_file():
        mcfg, tokenizers, phones, rename = finetune_config(init, real.lang, tokenizer)
        tcfg = from_dict(TrainConfig, {**ctc.train, "epochs": epochs, **cfg.ctc_finetune},
                         source="transfer.ctc_finetune")
        train_multilingual({real.lang: [subset]}, {real.lang: real.dev}, out, mcfg, tcfg, tokenizers,
                           phone_tokenizer=phones, init_from=init, init_rename=rename, policy=policy,
                           k=cfg.top_k if policy == "top-k" else 0,
                           l2sp_alpha=cfg.l2sp_alpha if policy == "l2sp" else 0.0)
    train_s = time.perf_counter() - t0
    variants = decode_ctc_system(out / "model", real.test, out / "hyp", REAL_TEST, ctc, lm=lm)
    save_ctc_decoding(out / "model", real.lang, lm, ctc.beam, ctc.lm_weight, ctc.word_score)  # as measured
    return _scored({v.replace("ctc", f"ctc-{policy}", 1): x for v, x in variants.items()}, real.test, train_s,
                   out / "model", {"init_from": str(init), "policy": policy})


def run_fewshot(exp: Path, real: RealData, start: str, minutes: float, lexicon: Path, lm: Path,
                cfg: TransferConfig, ctc: CTCSettings, force: bool = False) -> dict[str, Any]:
    """One few-shot run: ``start`` (``scratch`` or a zeroshot condition) on ``minutes`` of real audio.

    Writes ``EXP/fewshot/<start>-<N>min/results.json`` (``train_hours`` in every entry).
    """
    run = exp / "fewshot" / f"{start}-{minutes_label(minutes)}"
    if (run / RESULTS_JSON).is_file() and not force:
        log.info("%s: results exist, skipped", run)
        return json.loads((run / RESULTS_JSON).read_text())
    run.mkdir(parents=True, exist_ok=True)
    subset = subset_manifest(real.train, run / "train.jsonl", max_hours=minutes / 60, seed=cfg.seed)
    hours = total_duration(read_manifest(subset)) / 3600
    log.info("fewshot %s: %.1f min of real audio", run.name, 60 * hours)
    if start == "scratch":
        epochs = _epochs(cfg.ctc_scratch_audio_hours, hours, cfg.ctc_max_epochs)
        lang = LangData(name="", lang=real.lang, train=subset, dev=real.dev, tests={REAL_TEST: real.test},
                        lexicon=lexicon, hybrid_lm=lm, ctc_lm=lm)
        results = _train_and_score(
            Experiment(run, (lang,), cfg.systems, cfg.hybrid, _ctc_settings(ctc, {"epochs": epochs})), force)
    else:
        init = exp / "zeroshot" / start
        results = {}
        if "hybrid" in cfg.systems:
            results.update(_finetune_hybrid(run, init / "hybrid" / "model", subset, real, lexicon, lm, cfg))
        if "ctc" in cfg.systems:
            policies = ["full", *(p for p in cfg.ctc_policies if p != "full")] if minutes == cfg.policy_minutes \
                else ["full"]
            epochs = _epochs(cfg.ctc_finetune_audio_hours, hours, cfg.ctc_max_epochs)
            for policy in policies:
                results.update(_finetune_ctc(run, init / "ctc" / "model", subset, real, lm, cfg, ctc, policy, epochs))
    for per_test in results.values():
        for entry in per_test.values():
            entry["train_hours"] = round(hours, 4)
    (run / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
    return results


def make_open_lang(out: Path, real: RealData, synthetic: Sequence[Path], cfg: TransferConfig) -> tuple[Path, Path]:
    """The large vocabulary (:func:`asr.text.vocabulary.open_vocabulary`): the domain text's words, every
    training word and ``cfg.open_words`` frequent ones; the domain LM ending in their frequencies."""
    from asr.text.vocabulary import open_vocabulary

    extra = {w for m in synthetic for t in _texts(m) for w in t.split()}
    lexicon, lm = open_vocabulary(out, real.lang, [t.split() for t in _texts(real.train)], cfg.open_words,
                                  cfg.lm_order, cfg.open_base_weight, extra)
    info = {**json.loads((out / "vocabulary.json").read_text()),
            **_test_oov(real, set(Lexicon.from_file(lexicon).words()))}
    (out / "vocabulary.json").write_text(json.dumps(info, indent=1) + "\n")
    return lexicon, lm


def run_openvocab(exp: Path, real: RealData, run: str, lexicon: Path, lm: Path, ctc: CTCSettings,
                  force: bool = False) -> dict[str, Any]:
    """Decode one run's models again with the large vocabulary -> ``EXP/openvocab/<run with / as ->/results.json``.

    Every hybrid model of the run (``<run>/hybrid/model``) decodes through a copy with the large lexicon
    and LM (:func:`asr.models.hybrid.with_vocabulary`); every CTC model (``<run>/ctc*/model``) with the
    lexicon + LM search over the large LM's words.
    """
    from asr.models.hybrid import with_vocabulary

    src = exp / run
    out = exp / "openvocab" / run.replace("/", "-")
    if (out / RESULTS_JSON).is_file() and not force:
        return json.loads((out / RESULTS_JSON).read_text())
    if not (src / RESULTS_JSON).is_file():
        raise FileNotFoundError(f"{src / RESULTS_JSON}: no such file (run {run.split('/')[0]} first)")
    results: dict[str, Any] = {}
    if (src / "hybrid" / "model" / "config.json").is_file():
        model = out / "hybrid" / "model"
        lost = with_vocabulary(src / "hybrid" / "model", model, lexicon, lm)
        results["hybrid"] = {REAL_TEST: _decode_hybrid_run(model, real, lm, 0.0, {"dropped_words": len(lost)})}
    for model in sorted(src.glob("ctc*/model")):
        name = model.parent.name
        variants = decode_ctc_system(model, real.test, out / name / "hyp", REAL_TEST, ctc, lm=lm)
        lm_variant = {k.replace("ctc", name, 1): v for k, v in variants.items() if k.endswith("-lm")}
        results.update(_scored(lm_variant, real.test, 0.0, model, {}))
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
    return results


def run_band(exp: Path, real: RealData, lexicon: Path, lm: Path, cfg: TransferConfig, force: bool = False
             ) -> dict[str, Any]:
    """8 kHz or 16 kHz: the hybrid system from scratch on all real training audio with its mel filterbank
    cut at ``cfg.band_high_freq`` (what a model of the 8 kHz audio hears), beside ``fewshot/scratch-all``
    (the full 16 kHz band of the upsampled audio). Writes ``EXP/band/results.json``."""
    run = exp / "band"
    lang = LangData(name="", lang=real.lang, train=real.train, dev=real.dev, tests={REAL_TEST: real.test},
                    lexicon=lexicon, hybrid_lm=lm, ctc_lm=lm)
    hybrid = {**cfg.hybrid, "high_freq": cfg.band_high_freq}
    return _train_and_score(Experiment(run, (lang,), ("hybrid",), hybrid, CTCSettings()), force)


def size_dir(root: Path, minutes: float) -> Path:
    """``root/<N>min`` of the domain and multilingual runs (``0min``: no labeled real audio, unlike the
    few-shot runs' ``all``)."""
    return root / (minutes_label(minutes) if minutes else "0min")


def run_domain(exp: Path, real: RealData, lexicon: Path, lm: Path, cfg: TransferConfig,
               force: bool = False) -> dict[str, Any]:
    """Labeled synthetic speech, unlabeled real speech: domain-adversarial training and per-domain normalization.

    From the hybrid model of ``zeroshot/<cfg.domain_condition>``, two continuations on the same
    synthetic training set with the same schedule: ``continued`` (plain) and ``adversarial``
    (the real training audio, without its transcripts, in a gradient-reversal synthetic-vs-real
    classifier); each is then fine-tuned on ``cfg.domain_minutes`` of labeled real audio (0: not
    at all), and every model decodes as it is and, at ``cfg.domain_adabn_minutes``, with its
    batch-norm statistics re-estimated on the real training audio (``+adabn``,
    :func:`asr.train.hybrid.adapt_normalization`).

    Writes ``EXP/domain/<N>min/results.json`` (variants ``hybrid``, ``hybrid+adabn``,
    ``hybrid-dann``, ``hybrid-dann+adabn``, each with ``train_hours``) and returns them by size.
    """
    from asr.train.hybrid import HybridFinetuneConfig, adapt_normalization, finetune_hybrid

    root = exp / "domain"
    init = exp / "zeroshot" / cfg.domain_condition / "hybrid" / "model"
    synthetic = exp / "synth" / cfg.domain_condition / "train.jsonl"
    base_cfg = from_dict(HybridFinetuneConfig, {**cfg.hybrid_finetune, **cfg.domain_continue},
                         source="transfer.domain_continue")
    ft_cfg = from_dict(HybridFinetuneConfig, cfg.hybrid_finetune, source="transfer.hybrid_finetune")
    bases = {"hybrid": (root / "continued" / "model", None, 0.0),
             "hybrid-dann": (root / "adversarial" / "model", real.train, cfg.domain_adversarial_weight)}
    seconds: dict[str, float] = {}
    for name, (model, unlabeled, weight) in bases.items():
        t0 = time.perf_counter()
        if not (model / "config.json").is_file() or force:
            finetune_hybrid(init, synthetic, None, model, lexicon, dataclasses.replace(base_cfg, adversarial_weight=weight),
                            unlabeled_manifest=unlabeled)
        seconds[name] = time.perf_counter() - t0
    out: dict[str, Any] = {}
    for minutes in cfg.domain_minutes:
        size = size_dir(root, minutes)
        if (size / RESULTS_JSON).is_file() and not force:
            out[size.name] = json.loads((size / RESULTS_JSON).read_text())
            continue
        subset = subset_manifest(real.train, size / "train.jsonl", max_hours=minutes / 60, seed=cfg.seed) \
            if minutes else None
        hours = total_duration(read_manifest(subset)) / 3600 if subset else 0.0
        results: dict[str, Any] = {}
        for name, (base, _, _) in bases.items():
            model, t0 = base, time.perf_counter()
            if subset is not None:
                model = size / name / "model"
                if not (model / "config.json").is_file() or force:
                    finetune_hybrid(base, subset, None, model, lexicon, ft_cfg)
            train_s = seconds[name] + time.perf_counter() - t0
            results[name] = {REAL_TEST: _decode_hybrid_run(model, real, lm, train_s, {"init_from": str(base)})}
            if minutes not in cfg.domain_adabn_minutes:
                continue
            adapted = size / f"{name}+adabn" / "model"
            adapt_normalization(model, real.train, adapted)
            results[f"{name}+adabn"] = {REAL_TEST: _decode_hybrid_run(adapted, real, lm, train_s,
                                                                    {"adapted_on": str(real.train)})}
        for per in results.values():
            per[REAL_TEST]["train_hours"] = round(hours, 4)
        size.mkdir(parents=True, exist_ok=True)
        (size / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
        out[size.name] = results
    return out


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def _size_curves(root: Path, sizes: Sequence[float]) -> dict[str, list[list[float]]]:
    """``{variant: [[minutes, wer, cer], ...]}`` of the runs ``root/<N>min`` (:func:`size_dir`) that exist."""
    curves: dict[str, list[list[float]]] = {}
    for minutes in sizes:
        path = size_dir(root, minutes) / RESULTS_JSON
        if path.is_file():
            for variant, per in json.loads(path.read_text()).items():
                curves.setdefault(variant, []).append([float(minutes), per[REAL_TEST]["wer"], per[REAL_TEST]["cer"]])
    return curves


def collect(exp: Path, cfg: TransferConfig) -> dict[str, Any]:
    """Every run's real-test WER / CER: ``{"zeroshot": {condition: {variant: {...}}}, "fewshot":
    {start: {variant: [[minutes, wer, cer], ...]}}, "openvocab": {run: {variant: {"domain", "open"}}},
    "multilingual": {target: {variant: [[minutes, wer, cer], ...]}}}``; also ``EXP/transfer.json``."""
    def rates(entry: Mapping[str, Any]) -> dict[str, float]:
        return {"wer": entry["wer"], "cer": entry["cer"]}

    out: dict[str, Any] = {"zeroshot": {}, "fewshot": {}}
    for cond in cfg.conditions:
        path = exp / "zeroshot" / cond / RESULTS_JSON
        if path.is_file():
            res = json.loads(path.read_text())
            out["zeroshot"][cond] = {v: {t: rates(e) for t, e in per.items()}
                                     for v, per in res.items()}
    for start in cfg.starts:
        curves: dict[str, list[list[float]]] = {}
        for minutes in cfg.minutes:
            path = exp / "fewshot" / f"{start}-{minutes_label(minutes)}" / RESULTS_JSON
            if not path.is_file():
                continue
            for variant, per in json.loads(path.read_text()).items():
                e = per[REAL_TEST]
                curves.setdefault(variant, []).append([round(60 * e["train_hours"], 2), e["wer"], e["cer"]])
        out["fewshot"][start] = {v: sorted(pts) for v, pts in curves.items()}
    out["domain"] = _size_curves(exp / "domain", cfg.domain_minutes)
    band = exp / "band" / RESULTS_JSON
    if band.is_file():
        out["band"] = {v: rates(per[REAL_TEST]) for v, per in json.loads(band.read_text()).items()}
    out["openvocab"] = {}
    for run in cfg.open_runs:
        path = exp / "openvocab" / run.replace("/", "-") / RESULTS_JSON
        base = exp / run / RESULTS_JSON
        if path.is_file() and base.is_file():
            closed, opened = json.loads(base.read_text()), json.loads(path.read_text())
            out["openvocab"][run] = {v: {"domain": rates(closed[v][REAL_TEST]), "open": rates(e[REAL_TEST])}
                                     for v, e in opened.items() if v in closed}
    multi = {t: _size_curves(exp / "multilingual" / t, cfg.multi_minutes) for t in cfg.multi_targets}
    out["multilingual"] = {t: curves for t, curves in multi.items() if curves}
    (exp / "transfer.json").write_text(json.dumps(out, indent=1) + "\n")
    return out
