"""Multilingual and transfer-learning experiments for a low-resource language (issue 5).

How to run::

    python recipes/synth/run.py --exp exp/ml --preset multilingual         # corpus, then the experiments
    python recipes/synth/run.py --exp exp/ml --preset multilingual --stage multilingual   # experiments only
    python recipes/synth/run.py --exp exp/smoke --preset smoke --stage multilingual       # tiny, ~1 minute

    # from Python, on any per-language manifests (each row has ``lang``) and lexicons:
    data = {lang: LanguageData(train=..., dev=..., test=..., lexicon=...) for lang in ("en", "es", "sw")}
    results = run_experiments(data, "exp/ml/multilingual", ExperimentConfig(target="sw", minutes=(10, 30, 60)))

What it measures. One language is the low-resource *target* (``sw``), its
training audio cut to N minutes (10, 30, 60: nested subsets drawn with
``subset_seed``, the 10-minute set inside the 30-minute one); the other
languages are the high-resource *sources*. Every model is the tiny Conformer
of :class:`~asr.models.multilingual.MultilingualCTC`, trained by
:func:`~asr.train.multilingual.train_multilingual`.

=============  ==========================================================================
experiment     cells
=============  ==========================================================================
scratch        a character CTC trained on the target subset alone, per size
joint          one model trained from scratch on the sources + the target subset, per size
finetune       the model pre-trained on the sources (trained once), fine-tuned on the target
               subset, per size x policy (head only, top-k blocks, full, full + L2-SP)
sources        per source language: a monolingual model of the same size vs the pre-trained
               multilingual model (and the joint model at ``transfer_minutes``)
layers         first k encoder blocks (and the subsampling) copied from the pre-trained model,
               the rest freshly initialised, full training on the target, k = 0..num_layers
progressive    a new encoder column with lateral connections from the frozen pre-trained one
adversarial    full fine-tuning + a speaker classifier behind gradient reversal
new_words      test sentences holding a word absent from the training transcripts: the
               character head vs the universal phone head + a G2P lexicon (espeak-ng),
               both through the lexicon + word-LM decoder
=============  ==========================================================================

``layers``, ``progressive``, ``adversarial`` and ``new_words`` run at
``transfer_minutes`` (30). Test speakers are never seen in training (the synth
corpus draws test voices from variants no training speaker uses), which is
what the adversarial cell is measured on.

Every cell reports test WER and CER twice: greedy, and through the lexicon +
word trigram decoder (:class:`~asr.decoding.ctc_lexicon.LexiconDecoder`; the LM
is trained on that cell's target training text). With tiny CPU models greedy
character WERs sit near 100 %, so the LM columns and the CERs are where
differences show. Models from scratch have character heads only; the
pre-trained, joint and fine-tuned models also train the universal phone head
(``phone_weight``; each language's phones masked to its inventory).

Everything is resumable: a cell whose ``results/<cell>.json`` exists is
skipped, a training run that was killed resumes from its checkpoint. Outputs,
under ``OUT``: ``results/`` (one JSON per cell), ``results.json`` (all cells +
every run's training summary), ``report.md`` (the tables), ``wer_vs_minutes.png``,
``layer_transfer.png``, ``runs/<run>/`` (training directories, each with its
``model/``), ``data/`` (subsets with phone transcripts, tokenizers), ``lm/``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from asr.data.manifest import Utterance, read_manifest, total_duration, write_manifest
from asr.text.lexicon import Lexicon
from asr.text.normalize import normalize
from asr.text.tokenizer import CharTokenizer, PhoneTokenizer, Tokenizer, load_tokenizer
from asr.train.multilingual import PHONES_FIELD

__all__ = [
    "EXPERIMENTS",
    "ExperimentConfig",
    "LanguageData",
    "recipe_layout",
    "ensure_target_audio",
    "nested_subsets",
    "run_experiments",
    "run_synth_experiments",
    "write_report",
]

log = logging.getLogger(__name__)

EXPERIMENTS = ("scratch", "joint", "finetune", "sources", "layers", "progressive", "adversarial", "new_words")
WORD_BOUNDARY = "|"  # the universal phone tokenizer's token between words
RESULTS = "results"  # OUT/results/<cell>.json
RUNS = "runs"  # OUT/runs/<run>/ (train_multilingual directories)
APPROACHES = ("scratch", "joint", "finetune/head", "finetune/top-k", "finetune/full", "finetune/l2sp")
DECODE_BATCH_SECONDS = 60.0  # padded audio per decoding batch


@dataclass(frozen=True)
class ExperimentConfig:
    """The ``multilingual:`` block of a synth preset: what to run and how big.

    Attributes:
        target: the low-resource language.
        sources: the high-resource languages (empty: every other language given).
        minutes: target training sizes in minutes (nested subsets).
        transfer_minutes: the size of the layer, progressive, adversarial and new-word cells.
        subset_seed: seed of the target (and source) subsets.
        source_minutes: cap on each source language's training audio (0: all of it).
        dev_minutes: cap on each language's dev set, validated every epoch (0: all of it).
        experiments: which of :data:`EXPERIMENTS` to run.
        policies: fine-tuning policies (:data:`asr.train.finetune.POLICIES`).
        top_k: encoder blocks trained by ``top-k``.
        l2sp_alpha: L2-SP strength of the ``l2sp`` policy.
        layer_ks: k values of the layer-transfer curve (empty: 0..num_layers).
        phone_weight: weight of the universal phone task in the pre-trained, joint and
            fine-tuned models (0: no phone head, and no ``new_words`` cell).
        lang_id: language-ID head in the pre-trained and joint models.
        temperature: language sampling ``size^(1/T)`` of the multilingual runs.
        adversarial_weight: loss weight of the speaker classifier (``adversarial`` cell).
        preset: :class:`~asr.models.ctc.ModelConfig` preset of every model.
        model: ModelConfig fields to override.
        train: :class:`~asr.train.config.TrainConfig` fields of every run (target from scratch).
        source_train: TrainConfig fields on top of ``train`` for runs over the source languages
            (pre-training, joint, monolingual source models).
        joint_train: TrainConfig fields on top of ``source_train`` for the joint runs (one per size).
        finetune_train: TrainConfig fields on top of ``train`` for runs that start from the
            pre-trained model (fine-tuning, layer transfer, progressive, adversarial).
        lm_order: word n-gram order of the decoding LMs.
        beam, lm_weight, word_score: the lexicon + LM decoder's settings.
    """

    target: str = "sw"
    sources: tuple[str, ...] = ()
    minutes: tuple[float, ...] = (10.0, 30.0, 60.0)
    transfer_minutes: float = 30.0
    subset_seed: int = 0
    source_minutes: float = 0.0
    dev_minutes: float = 3.0
    experiments: tuple[str, ...] = EXPERIMENTS
    policies: tuple[str, ...] = ("head", "top-k", "full", "l2sp")
    top_k: int = 2
    l2sp_alpha: float = 0.01
    layer_ks: tuple[int, ...] = ()
    phone_weight: float = 0.3
    lang_id: bool = False
    temperature: float = 3.0
    adversarial_weight: float = 0.1
    preset: str = "tiny"
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    source_train: dict = field(default_factory=dict)
    joint_train: dict = field(default_factory=dict)
    finetune_train: dict = field(default_factory=dict)
    lm_order: int = 3
    beam: int = 16
    lm_weight: float = 1.0
    word_score: float = 0.0

    def __post_init__(self) -> None:
        from asr.train.finetune import POLICIES

        unknown = sorted(set(self.experiments) - set(EXPERIMENTS))
        if unknown:
            raise ValueError(f"unknown experiment(s) {unknown}; known: {list(EXPERIMENTS)}")
        bad = sorted(set(self.policies) - set(POLICIES))
        if bad:
            raise ValueError(f"unknown policy(ies) {bad}; known: {list(POLICIES)}")
        if not self.minutes or any(m <= 0 for m in self.minutes) or self.transfer_minutes <= 0:
            raise ValueError(f"minutes must be > 0, got {self.minutes} and transfer_minutes {self.transfer_minutes}")

    @property
    def sizes(self) -> list[float]:
        """Every target size used, ascending (``minutes`` and ``transfer_minutes``)."""
        return sorted({*map(float, self.minutes), float(self.transfer_minutes)})

    def model_config(self) -> Any:
        """The shared encoder's :class:`~asr.models.ctc.ModelConfig`."""
        from asr.models.ctc import ModelConfig

        return ModelConfig.from_dict({**ModelConfig.preset(self.preset).to_dict(), **self.model},
                                     source="multilingual.model")

    def train_config(self, kind: str = "scratch") -> Any:
        """The :class:`~asr.train.config.TrainConfig` of a run: ``scratch``, ``source``, ``joint`` or ``finetune``."""
        from asr.config import from_dict
        from asr.train.config import TrainConfig

        extra = {"scratch": {}, "source": self.source_train, "joint": {**self.source_train, **self.joint_train},
                 "finetune": self.finetune_train}[kind]
        return from_dict(TrainConfig, {"progress": False, **self.train, **extra}, source=f"multilingual.{kind}")


@dataclass(frozen=True)
class LanguageData:
    """One language's manifests and pronunciation lexicon (``word phone phone ...`` lines)."""

    train: Path
    dev: Path
    test: Path
    lexicon: Path


def recipe_layout(data_dir: str | Path, corpus_dir: str | Path, langs: Sequence[str]) -> dict[str, LanguageData]:
    """The synth recipe's files: ``data_dir/<lang>/{train,dev,test}.jsonl``, ``corpus_dir/<lang>/lexicon.txt``."""
    data_dir, corpus_dir = Path(data_dir), Path(corpus_dir)
    return {lang: LanguageData(data_dir / lang / "train.jsonl", data_dir / lang / "dev.jsonl",
                               data_dir / lang / "test.jsonl", corpus_dir / lang / "lexicon.txt") for lang in langs}


def minutes_label(minutes: float) -> str:
    """``10.0 -> "10min"``, ``0.5 -> "0.5min"`` (names of cells and runs)."""
    return f"{minutes:g}min"


# ---------------------------------------------------------------------------
# Data: the target's audio, nested subsets, phone transcripts, tokenizers, LMs
# ---------------------------------------------------------------------------


def _train_minutes(manifest: Path) -> float:
    return total_duration(read_manifest(manifest)) / 60.0


def ensure_target_audio(
    data: LanguageData, lang: str, minutes: float, synth_cfg: Any, out_dir: str | Path, jobs: int | None = None
) -> LanguageData:
    """``data`` if its training set holds ``minutes`` of audio, else a bigger synth corpus of ``lang``.

    The prepare stage generates every language with one ``hours`` value; the
    target may need more training audio than that. This generates ``lang`` alone
    under ``out_dir/<lang>`` with the same seed and speaker counts and more hours:
    each split's utterance plan is drawn from the same random stream, so the
    smaller corpus's utterances are the first ones of the bigger one (the same
    texts, voices and audio), and the other languages are untouched.

    Args:
        data: the prepared manifests of ``lang``.
        lang: the language.
        minutes: training audio needed.
        synth_cfg: the :class:`~asr.data.synth.SynthConfig` the corpus was made with.
        out_dir: where a bigger corpus goes.

    Returns:
        The :class:`LanguageData` to use (``data`` itself, or the new corpus's files).
    """
    from asr.data.dataset import validate
    from asr.data.synth import generate

    have = _train_minutes(data.train)
    if have >= minutes:
        return data
    train_share = 1.0 - synth_cfg.dev_fraction - synth_cfg.test_fraction
    planned = synth_cfg.hours * 60.0 * train_share  # minutes the plan aimed at
    ratio = have / planned if have > 0 and planned > 0 else 0.75  # real / planned training audio
    hours = synth_cfg.hours
    out = Path(out_dir)
    for _ in range(3):
        hours = max(hours, minutes / (60.0 * train_share * ratio) * 1.05)
        cfg = dataclasses.replace(synth_cfg, langs=(lang,), hours=round(hours, 4))
        log.info("generating %s with %.3f h (need %.1f min of training audio, the prepared set has %.1f)",
                 lang, cfg.hours, minutes, have)
        generate(out, cfg, jobs=jobs, progress=False)
        got = _train_minutes(out / lang / "train.jsonl")
        if got >= minutes:
            break
        ratio *= got / minutes
    else:
        log.warning("%s: only %.1f of %.1f training minutes after 3 tries", lang, got, minutes)
    for split in ("train", "dev", "test"):
        path = out / lang / f"{split}.jsonl"
        good, bad = validate(read_manifest(path))
        if bad.count:
            log.warning("%s/%s: %d utterances with unreadable audio left out", lang, split, bad.count)
            write_manifest(path, good)
    return LanguageData(out / lang / "train.jsonl", out / lang / "dev.jsonl", out / lang / "test.jsonl",
                        out / lang / "lexicon.txt")


def nested_subsets(utts: Sequence[Utterance], minutes: Sequence[float], seed: int) -> dict[float, list[Utterance]]:
    """Deterministic nested subsets of at least ``minutes`` of audio each.

    The utterances are shuffled once with ``seed``; each subset is the shortest
    prefix of that order reaching its size (everything when there is not
    enough), so a smaller subset is always inside a bigger one.

    Returns:
        minutes -> utterances (in the shuffled order).
    """
    order = list(utts)
    random.Random(seed).shuffle(order)
    cumulative, total = [], 0.0
    for u in order:
        total += u.duration
        cumulative.append(total)
    out = {}
    for m in minutes:
        n = next((i + 1 for i, c in enumerate(cumulative) if c >= m * 60.0), len(order))
        out[m] = order[:n]
    return out


def _phone_string(text: str, lexicon: Lexicon) -> str | None:
    """Phones of a normalized text, words separated by ``|``; ``None`` when a word is not in the lexicon."""
    words = text.split()
    if not words or any(w not in lexicon for w in words):
        return None
    return f" {WORD_BOUNDARY} ".join(" ".join(lexicon.pronounce(w)) for w in words)


def _with_phones(utts: Sequence[Utterance], lang: str, lexicon: Lexicon | None) -> list[Utterance]:
    """The utterances with their language set and a ``phones`` field (:data:`~asr.train.multilingual.PHONES_FIELD`,
    what the trainer reads) from ``lexicon``, where it spells every word."""
    out = []
    for u in utts:
        extra = {k: v for k, v in u.extra.items() if k != PHONES_FIELD}
        phones = _phone_string(normalize(u.text, lang), lexicon) if lexicon is not None else None
        if phones:
            extra[PHONES_FIELD] = phones
        out.append(dataclasses.replace(u, lang=lang, extra=extra))
    return out


def _cap(utts: Sequence[Utterance], minutes: float, seed: int) -> list[Utterance]:
    """At least ``minutes`` of ``utts`` (a seeded subset; all when ``minutes <= 0``)."""
    return list(utts) if minutes <= 0 else nested_subsets(utts, [minutes], seed)[minutes]


@dataclass
class Inputs:
    """What every run and evaluation reads, prepared once under ``OUT/data`` and ``OUT/lm``."""

    out: Path
    cfg: ExperimentConfig
    target: str
    sources: list[str]
    train: dict[str, Path]  # source language -> training manifest (with phones)
    subsets: dict[float, Path]  # target minutes -> training manifest (with phones)
    subset_minutes: dict[float, float]  # target minutes asked -> minutes of audio in the subset
    subset_words: dict[float, set[str]]  # target minutes -> words of its transcripts
    dev: dict[str, Path]
    test: dict[str, Path]
    lexicons: dict[str, Lexicon]
    tokenizers: dict[str, Tokenizer]  # language -> character tokenizer
    phones: PhoneTokenizer  # universal phone set of every language (labels come from the manifests)
    inventories: dict[str, tuple[int, ...]]  # language -> its phone ids (word boundary included)
    lms: dict[str, Path]  # source language, or "<target>-<N>min", -> ARPA word trigram

    def target_lm(self, minutes: float) -> Path:
        """The word LM of the target's ``minutes`` subset."""
        return self.lms[f"{self.target}-{minutes_label(minutes)}"]


def _universal_phones(lexicons: Mapping[str, Lexicon]) -> PhoneTokenizer:
    """A phone tokenizer over the union of the lexicons' phones, with ``|`` between words.

    Its own lexicon is empty: phone labels come from each manifest row's ``phones``
    field (made with that row's language's lexicon), never from another language's
    pronunciation of the same spelling.
    """
    from asr.text.symbols import BLANK, UNK, SymbolTable

    phones = sorted({p for lex in lexicons.values() for p in lex.phones()})
    return PhoneTokenizer(Lexicon(), SymbolTable([BLANK, UNK, WORD_BOUNDARY, *phones]), WORD_BOUNDARY)


def _write_lm(path: Path, texts: Sequence[str], order: int, vocab: Sequence[str] = ()) -> Path:
    """A word n-gram (modified Kneser-Ney) of ``texts`` (+ zero-count ``vocab``) as ARPA, once."""
    from asr.decoding.lm import train_ngram

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        lm = train_ngram([t.split() for t in texts], order=order, vocab=vocab)
        tmp = path.with_name(path.name + ".part")
        lm.to_arpa(tmp)
        tmp.replace(path)
    return path


def prepare_inputs(data: Mapping[str, LanguageData], out: str | Path, cfg: ExperimentConfig) -> Inputs:
    """Subsets, phone transcripts, tokenizers and LMs under ``out/data`` and ``out/lm`` (deterministic)."""
    out = Path(out)
    target = cfg.target
    if target not in data:
        raise ValueError(f"no data for the target language {target!r}; have {sorted(data)}")
    sources = list(cfg.sources) or [lang for lang in data if lang != target]
    missing = sorted(set(sources) - set(data))
    if missing:
        raise ValueError(f"no data for source language(s) {missing}")
    if not sources:
        raise ValueError("no source language: give at least two languages")
    langs = [*sources, target]
    lexicons = {lang: Lexicon.from_file(data[lang].lexicon) for lang in langs}
    d = out / "data"
    manifests: dict[str, Path] = {}
    dev: dict[str, Path] = {}
    test: dict[str, Path] = {}
    texts: dict[str, list[str]] = {}
    for lang in langs:
        dev_utts = _cap(read_manifest(data[lang].dev), cfg.dev_minutes, cfg.subset_seed)
        write_manifest(d / lang / "dev.jsonl", _with_phones(dev_utts, lang, lexicons[lang]))
        dev[lang] = d / lang / "dev.jsonl"
        test[lang] = data[lang].test
    for lang in sources:
        utts = _with_phones(_cap(read_manifest(data[lang].train), cfg.source_minutes, cfg.subset_seed), lang,
                            lexicons[lang])
        write_manifest(d / lang / "train.jsonl", utts)
        manifests[lang] = d / lang / "train.jsonl"
        texts[lang] = [normalize(u.text, lang) for u in utts]
    target_utts = _with_phones(read_manifest(data[target].train), target, lexicons[target])
    subsets, subset_minutes, subset_words = {}, {}, {}
    for minutes, utts in nested_subsets(target_utts, cfg.sizes, cfg.subset_seed).items():
        path = d / target / f"train-{minutes_label(minutes)}.jsonl"
        write_manifest(path, utts)
        subsets[minutes] = path
        subset_minutes[minutes] = round(total_duration(utts) / 60.0, 2)
        texts[f"{target}-{minutes_label(minutes)}"] = [normalize(u.text, target) for u in utts]
        subset_words[minutes] = {w for t in texts[f"{target}-{minutes_label(minutes)}"] for w in t.split()}
        if subset_minutes[minutes] < minutes:
            log.warning("%s: the %s subset has only %.1f minutes (all the training audio)",
                        target, minutes_label(minutes), subset_minutes[minutes])
    tokenizers: dict[str, Tokenizer] = {}
    for lang in langs:  # built once, then read back: the same symbols on every restart
        tok_dir = d / "tokenizers" / lang
        if not (tok_dir / "tokenizer.json").exists():
            text = texts[lang] if lang != target else texts[f"{target}-{minutes_label(cfg.sizes[-1])}"]
            CharTokenizer.build(text).save(tok_dir)
        tokenizers[lang] = load_tokenizer(tok_dir)
    phones = _universal_phones(lexicons)
    ids = {s: i for i, s in enumerate(phones.tokens)}
    inventories = {lang: tuple(sorted({ids[WORD_BOUNDARY], *(ids[p] for p in lexicons[lang].phones())}))
                   for lang in langs}
    lms = {key: _write_lm(out / "lm" / f"{key}.arpa", t, cfg.lm_order) for key, t in texts.items()}
    return Inputs(out, cfg, target, sources, manifests, subsets, subset_minutes, subset_words, dev, test, lexicons,
                  tokenizers, phones, inventories, lms)


# ---------------------------------------------------------------------------
# Training runs (each a train_multilingual directory under OUT/runs; a finished one returns at once)
# ---------------------------------------------------------------------------


def _run_dir(inp: Inputs, name: str) -> Path:
    return inp.out / RUNS / name


def _weights(inp: Inputs, **extra: float) -> dict[str, float]:
    return {"phone": inp.cfg.phone_weight, **extra}


def _multilingual_config(inp: Inputs, langs: Sequence[str]) -> Any:
    """Structure of a pre-trained or joint model: one head per language, the universal phone head."""
    from asr.models.multilingual import MultilingualConfig

    with_phones = inp.cfg.phone_weight > 0
    return MultilingualConfig(
        base=inp.cfg.model_config(),
        languages=tuple(langs),
        vocab_sizes=tuple(inp.tokenizers[lang].vocab_size for lang in langs),
        num_phones=inp.phones.vocab_size if with_phones else 0,
        phone_inventories=tuple(inp.inventories[lang] for lang in langs) if with_phones else (),
        lang_id=inp.cfg.lang_id,
    )


def train_monolingual(inp: Inputs, lang: str, manifest: Path, name: str) -> dict[str, Any]:
    """A character CTC model of one language from scratch (no phone head) -> ``runs/<name>``."""
    from asr.models.multilingual import MultilingualConfig
    from asr.train.multilingual import train_multilingual

    kind = "scratch" if lang == inp.target else "source"
    cfg = MultilingualConfig(base=inp.cfg.model_config(), languages=(lang,),
                             vocab_sizes=(inp.tokenizers[lang].vocab_size,))
    return train_multilingual({lang: manifest}, {lang: inp.dev[lang]}, _run_dir(inp, name), cfg,
                              inp.cfg.train_config(kind), {lang: inp.tokenizers[lang]})


def train_sources(inp: Inputs, target_minutes: float | None = None) -> dict[str, Any]:
    """The model pre-trained on the sources (``runs/pretrain``), or, with ``target_minutes``, the
    joint model of the sources + that target subset (``runs/joint-<N>min``), from scratch."""
    from asr.train.multilingual import train_multilingual

    manifests: dict[str, Any] = dict(inp.train)
    name = "pretrain"
    if target_minutes is not None:
        manifests[inp.target] = inp.subsets[target_minutes]
        name = f"joint-{minutes_label(target_minutes)}"
    langs = list(manifests)
    phones = inp.phones if inp.cfg.phone_weight > 0 else None
    return train_multilingual(manifests, {lang: inp.dev[lang] for lang in langs}, _run_dir(inp, name),
                              _multilingual_config(inp, langs),
                              inp.cfg.train_config("source" if target_minutes is None else "joint"),
                              {lang: inp.tokenizers[lang] for lang in langs}, phone_tokenizer=phones,
                              task_weights=_weights(inp), temperature=inp.cfg.temperature)


def finetune_run_name(policy: str, minutes: float) -> str:
    """``ft-<policy>-<N>min``."""
    return f"ft-{policy}-{minutes_label(minutes)}"


def train_finetuned(
    inp: Inputs,
    minutes: float,
    policy: str = "full",
    name: str | None = None,
    keep_layers: int | None = None,
    progressive: bool = False,
    adversarial: bool = False,
) -> dict[str, Any]:
    """Fine-tune the pre-trained model on the target's ``minutes`` subset.

    Args:
        policy: ``head``, ``top-k``, ``full`` or ``l2sp``.
        name: run directory name (default :func:`finetune_run_name`).
        keep_layers: layer transfer: copy only the first k encoder blocks, the rest fresh.
        progressive: a new encoder column beside the frozen pre-trained one.
        adversarial: add the gradient-reversal speaker classifier.
    """
    from asr.finetune_cli import finetune_config
    from asr.train.finetune import layer_transfer_rename
    from asr.train.multilingual import train_multilingual

    pre = _run_dir(inp, "pretrain")
    train_sources(inp)
    cfg, tokenizers, phone_tokenizer, rename = finetune_config(pre / "model", inp.target, inp.tokenizers[inp.target])
    inventory = inp.inventories[inp.target] if cfg.num_phones else None
    cfg = cfg.with_language(inp.target, inp.tokenizers[inp.target].vocab_size, inventory)
    if keep_layers is not None:
        rename = {**rename, **layer_transfer_rename(cfg.base.num_layers, keep_layers)}
    if progressive:
        cfg = dataclasses.replace(cfg, progressive=True)
    weights = _weights(inp, domain=inp.cfg.adversarial_weight)
    return train_multilingual(
        {inp.target: inp.subsets[minutes]}, {inp.target: inp.dev[inp.target]},
        _run_dir(inp, name or finetune_run_name(policy, minutes)), cfg, inp.cfg.train_config("finetune"),
        tokenizers, phone_tokenizer=phone_tokenizer, task_weights=weights, init_from=pre / "model",
        init_rename=rename, policy=policy, k=inp.cfg.top_k if policy == "top-k" else 0,
        l2sp_alpha=inp.cfg.l2sp_alpha if policy == "l2sp" else 0.0, adversarial=adversarial,
    )


# ---------------------------------------------------------------------------
# Evaluation: one forward pass per model and test set, several decoders
# ---------------------------------------------------------------------------


Decoder = Callable[[Tensor, Tensor], list[str]]  # log_probs (B, T, V), lengths (B,) -> B texts


class Decoders:
    """Lexicon + LM decoders, built once per (units, lexicon, LM) and reused across cells."""

    def __init__(self, cfg: ExperimentConfig):
        self.cfg = cfg
        self._cache: dict[tuple, Decoder] = {}

    def lexicon(self, tokenizer: Tokenizer, lm: Path, words: Sequence[str] | None = None) -> Decoder:
        """A :class:`~asr.decoding.ctc_lexicon.LexiconDecoder` over ``tokenizer``'s units (characters, or
        phones when it is a :class:`PhoneTokenizer`, spelling words through its lexicon)."""
        from asr.decoding.ctc_lexicon import LexiconDecoder

        key = (tuple(tokenizer.tokens), str(lm), tuple(words) if words is not None else None)
        if key not in self._cache:
            self._cache[key] = LexiconDecoder(tokenizer, lm=lm, words=words, beam_size=self.cfg.beam,
                                              lm_weight=self.cfg.lm_weight, word_score=self.cfg.word_score)
        return self._cache[key]


def greedy(tokenizer: Tokenizer) -> Decoder:
    """Best-path decoding with ``tokenizer``."""
    from asr.decoding.greedy import GreedyDecoder

    return GreedyDecoder(tokenizer)


def decode_test(
    model_dir: Path, lang: str, manifest: Path, decoders: Mapping[str, tuple[str, Decoder]]
) -> dict[str, dict[str, str]]:
    """Hypotheses of every decoder over ``manifest``, from one forward pass per batch.

    Args:
        model_dir: a multilingual model directory.
        lang: whose head decodes (``"char"`` decoders) and whose phone mask applies (``"phone"``).
        decoders: variant name -> (``"char"`` or ``"phone"``, decoder).

    Returns:
        variant -> utterance id -> text (unreadable audio: empty text).
    """
    from asr.data.dataset import AudioDataset
    from asr.data.collate import collate_waveforms
    from asr.decoding.transcribe import decode_batches
    from asr.models.multilingual import load_multilingual_dir

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, _, _ = load_multilingual_dir(model_dir, device=device)
    utts = read_manifest(manifest)
    batches = decode_batches(utts, DECODE_BATCH_SECONDS)
    hyps: dict[str, dict[str, str]] = {name: {u.id: "" for u in utts} for name in decoders}
    with torch.inference_mode():
        for batch_utts in batches:
            batch = collate_waveforms(list(AudioDataset(batch_utts)))
            if not batch["ids"]:
                continue
            out = model(batch["wav"].to(device), batch["wav_lengths"].to(device), [lang] * len(batch["ids"]))
            lp = {"char": out["logits"][lang].float().log_softmax(-1)}
            if "phone_logits" in out:
                lp["phone"] = out["phone_logits"].float().log_softmax(-1)
            for name, (head, decoder) in decoders.items():
                for i, text in zip(batch["ids"], decoder(lp[head], out["lengths"])):
                    hyps[name][i] = text
    return hyps


def score_subset(refs: Mapping[str, str], hyps: Mapping[str, str], ids: Sequence[str] | None = None) -> dict[str, Any]:
    """WER/CER (``asr.metrics``) over ``ids`` (default: all references): ``{wer, cer, words, utts}``."""
    from asr.metrics import score

    keep = list(refs) if ids is None else list(ids)
    report = score({i: refs[i] for i in keep}, {i: hyps.get(i, "") for i in keep})
    return {"wer": report.wer, "cer": report.cer, "words": report.num_words, "utts": len(keep)}


def _refs(manifest: Path, lang: str) -> dict[str, str]:
    return {u.id: normalize(u.text, lang) for u in read_manifest(manifest)}


def evaluate(inp: Inputs, decoders: Decoders, run: str, lang: str, lm: Path) -> dict[str, Any]:
    """Test WER/CER of ``runs/<run>/model`` on ``lang``: ``{"greedy": {...}, "lm": {...}, "eval_s"}``.

    Cached in ``runs/<run>/test-<lang>-<lm>-<decoder settings>.json`` so that cells sharing a
    model decode it once (a retrained run, or other decoder settings, decode again).
    """
    c = inp.cfg
    cache = _run_dir(inp, run) / f"test-{lang}-{lm.stem}-beam{c.beam}-lmw{c.lm_weight:g}-ws{c.word_score:g}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    t0 = time.perf_counter()
    model_dir = _run_dir(inp, run) / "model"
    tok = load_tokenizer(model_dir / "tokenizers" / lang)
    variants = {"greedy": ("char", greedy(tok)), "lm": ("char", decoders.lexicon(tok, lm))}
    hyps = decode_test(model_dir, lang, inp.test[lang], variants)
    refs = _refs(inp.test[lang], lang)
    result = {name: score_subset(refs, h) for name, h in hyps.items()}
    result["eval_s"] = round(time.perf_counter() - t0, 2)
    _write_json(cache, result)
    return result


def _train_info(summary: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("steps", "epochs", "params", "trainable_params", "train_hours", "wall_s", "dev_wer", "dev_cer")
    return {k: summary.get(k) for k in keys}


# ---------------------------------------------------------------------------
# Cells: one JSON each under OUT/results (exists -> skipped)
# ---------------------------------------------------------------------------


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _target_cell(inp: Inputs, dec: Decoders, run: str, summary: Mapping[str, Any], minutes: float,
                 **extra: Any) -> dict[str, Any]:
    """A cell's JSON: the target's test scores of ``runs/<run>``, its training summary, the subset size."""
    return {"lang": inp.target, "minutes": minutes, "audio_minutes": inp.subset_minutes[minutes], "run": run,
            "train": _train_info(summary), **evaluate(inp, dec, run, inp.target, inp.target_lm(minutes)), **extra}


def cell_scratch(inp: Inputs, dec: Decoders, minutes: float) -> dict[str, Any]:
    """(a) the target from scratch at ``minutes``."""
    run = f"scratch-{minutes_label(minutes)}"
    summary = train_monolingual(inp, inp.target, inp.subsets[minutes], run)
    return _target_cell(inp, dec, run, summary, minutes)


def cell_joint(inp: Inputs, dec: Decoders, minutes: float) -> dict[str, Any]:
    """(b) joint training on the sources + the target subset; the target's scores."""
    summary = train_sources(inp, minutes)
    return _target_cell(inp, dec, f"joint-{minutes_label(minutes)}", summary, minutes)


def cell_finetune(inp: Inputs, dec: Decoders, minutes: float, policy: str) -> dict[str, Any]:
    """(c) the pre-trained model fine-tuned on the target subset with ``policy``."""
    run = finetune_run_name(policy, minutes)
    summary = train_finetuned(inp, minutes, policy)
    return _target_cell(inp, dec, run, summary, minutes, policy=policy)


def cell_source(inp: Inputs, dec: Decoders, lang: str, with_joint: bool) -> dict[str, Any]:
    """(d) one source language: its monolingual model vs the pre-trained (and joint) multilingual ones."""
    lm = inp.lms[lang]
    runs = {"mono": (f"mono-{lang}", train_monolingual(inp, lang, inp.train[lang], f"mono-{lang}")),
            "pretrained": ("pretrain", train_sources(inp))}
    if with_joint:
        transfer = inp.cfg.transfer_minutes
        runs["joint"] = (f"joint-{minutes_label(transfer)}", train_sources(inp, transfer))
    cell: dict[str, Any] = {"lang": lang}
    for key, (run, summary) in runs.items():
        cell[key] = {"run": run, "train": _train_info(summary), **evaluate(inp, dec, run, lang, lm)}
    for key in runs:
        if key != "mono":
            for metric in ("greedy", "lm"):
                base = cell["mono"][metric]["wer"]
                cell[key][metric]["rel_wer_change"] = (cell[key][metric]["wer"] - base) / base if base else None
    return cell


def cell_layers(inp: Inputs, dec: Decoders, k: int) -> dict[str, Any]:
    """(e) the first ``k`` encoder blocks from the pre-trained model, the rest fresh, at ``transfer_minutes``."""
    minutes = inp.cfg.transfer_minutes
    num_layers = inp.cfg.model_config().num_layers
    # k = num_layers copies everything: exactly the full fine-tuning run, reused
    run = finetune_run_name("full", minutes) if k == num_layers else f"layers-k{k}-{minutes_label(minutes)}"
    summary = train_finetuned(inp, minutes, "full", name=run, keep_layers=None if k == num_layers else k)
    return _target_cell(inp, dec, run, summary, minutes, k=k, num_layers=num_layers)


def cell_progressive(inp: Inputs, dec: Decoders) -> dict[str, Any]:
    """(f) a progressive column at ``transfer_minutes``, beside full (and head-only, when configured) fine-tuning."""
    minutes = inp.cfg.transfer_minutes
    run = f"progressive-{minutes_label(minutes)}"
    summary = train_finetuned(inp, minutes, "full", name=run, progressive=True)
    cell = _target_cell(inp, dec, run, summary, minutes)
    for policy in ("full", *(["head"] if "head" in inp.cfg.policies else [])):
        base = finetune_run_name(policy, minutes)
        cell[f"finetune/{policy}"] = _target_cell(inp, dec, base, train_finetuned(inp, minutes, policy), minutes)
    return cell


def cell_adversarial(inp: Inputs, dec: Decoders) -> dict[str, Any]:
    """(g) full fine-tuning with vs without the speaker-adversarial head, on unseen test speakers."""
    minutes = inp.cfg.transfer_minutes
    run = f"adversarial-{minutes_label(minutes)}"
    summary = train_finetuned(inp, minutes, "full", name=run, adversarial=True)
    base = finetune_run_name("full", minutes)
    train_speakers = {u.speaker for u in read_manifest(inp.subsets[minutes])}
    test_speakers = {u.speaker for u in read_manifest(inp.test[inp.target])}
    return _target_cell(inp, dec, run, summary, minutes,
                        baseline=_target_cell(inp, dec, base, train_finetuned(inp, minutes, "full"), minutes),
                        train_speakers=len(train_speakers), test_speakers=len(test_speakers),
                        test_speakers_seen_in_training=len(train_speakers & test_speakers),
                        adversarial_speakers=summary.get("adversarial_speakers"))


def cell_new_words(inp: Inputs, dec: Decoders) -> dict[str, Any] | None:
    """(h) sentences with words never in the training transcripts: character head vs universal phone head.

    The model is the full fine-tuning at ``transfer_minutes``. Decoders (all but greedy with
    lexicon + word trigram of the target's training text):

    * ``char-greedy``; ``char-lm``: the training vocabulary (it cannot output a new word);
    * ``char-g2p``: the G2P lexicon's vocabulary (training words + every test word, spelled in
      characters; the LM gives the new words its unigram back-off mass);
    * ``phone-g2p``: the same vocabulary spelled in phones (espeak-ng), through the universal
      phone head masked to the target's inventory.

    Returns ``None`` when the models have no phone head (``phone_weight == 0``).
    """
    if inp.cfg.phone_weight <= 0:
        log.info("new_words: phone_weight is 0, the models have no phone head; skipped")
        return None
    minutes = inp.cfg.transfer_minutes
    run = finetune_run_name("full", minutes)
    summary = train_finetuned(inp, minutes, "full")
    t0 = time.perf_counter()
    target, lexicon = inp.target, inp.lexicons[inp.target]
    model_dir = _run_dir(inp, run) / "model"
    char_tok = load_tokenizer(model_dir / "tokenizers" / target)
    phone_table = load_tokenizer(model_dir / "phone_tokenizer")
    phone_tok = PhoneTokenizer(lexicon, phone_table.table, WORD_BOUNDARY)  # the target's G2P lexicon, model's phones
    texts = [normalize(u.text, target) for u in read_manifest(inp.subsets[minutes])]
    g2p_lm = _write_lm(inp.out / "lm" / f"{target}-{minutes_label(minutes)}-g2p.arpa", texts, inp.cfg.lm_order,
                       vocab=lexicon.words())
    variants = {
        "char-greedy": ("char", greedy(char_tok)),
        "char-lm": ("char", dec.lexicon(char_tok, inp.target_lm(minutes))),
        "char-g2p": ("char", dec.lexicon(char_tok, g2p_lm)),
        "phone-g2p": ("phone", dec.lexicon(phone_tok, g2p_lm, words=lexicon.words())),
    }
    hyps = decode_test(model_dir, target, inp.test[target], variants)
    refs = _refs(inp.test[target], target)
    seen = inp.subset_words[minutes]
    new_ids = [i for i, r in refs.items() if any(w not in seen for w in r.split())]
    old_ids = [i for i in refs if i not in set(new_ids)]
    out: dict[str, Any] = {"lang": target, "minutes": minutes, "run": run, "train": _train_info(summary),
                           "new_word_sentences": len(new_ids), "other_sentences": len(old_ids),
                           "lexicon_words": len(lexicon), "training_words": len(seen)}
    for name, h in hyps.items():
        out[name] = {"new": score_subset(refs, h, new_ids), "other": score_subset(refs, h, old_ids),
                     "all": score_subset(refs, h)}
        new_words = {w for i in new_ids for w in refs[i].split() if w not in seen}
        out[name]["new_words_recognised"] = sum(
            1 for i in new_ids for w in set(refs[i].split()) & set(h[i].split()) if w in new_words)
    out["eval_s"] = round(time.perf_counter() - t0, 2)
    return out


def _cells(inp: Inputs) -> list[tuple[str, Callable[[Decoders], dict[str, Any] | None]]]:
    """Every cell of the configured experiments, in running order: (name, function of the decoders)."""
    cfg, cells = inp.cfg, []
    ex = set(cfg.experiments)
    minutes = [float(m) for m in cfg.minutes]
    if "scratch" in ex:
        cells += [(f"scratch/{minutes_label(m)}", lambda d, m=m: cell_scratch(inp, d, m)) for m in minutes]
    if "joint" in ex:
        cells += [(f"joint/{minutes_label(m)}", lambda d, m=m: cell_joint(inp, d, m)) for m in minutes]
    if "finetune" in ex:
        cells += [(f"finetune/{p}/{minutes_label(m)}", lambda d, m=m, p=p: cell_finetune(inp, d, m, p))
                  for m in minutes for p in cfg.policies]
    if "sources" in ex:
        cells += [(f"sources/{lang}", lambda d, lang=lang: cell_source(inp, d, lang, "joint" in ex))
                  for lang in inp.sources]
    if "layers" in ex:
        ks = cfg.layer_ks or tuple(range(cfg.model_config().num_layers + 1))
        cells += [(f"layers/k{k}", lambda d, k=k: cell_layers(inp, d, k)) for k in ks]
    if "progressive" in ex:
        cells.append((f"progressive/{minutes_label(cfg.transfer_minutes)}", lambda d: cell_progressive(inp, d)))
    if "adversarial" in ex:
        cells.append((f"adversarial/{minutes_label(cfg.transfer_minutes)}", lambda d: cell_adversarial(inp, d)))
    if "new_words" in ex:
        cells.append((f"new_words/{minutes_label(cfg.transfer_minutes)}", lambda d: cell_new_words(inp, d)))
    return cells


def run_experiments(
    data: Mapping[str, LanguageData], out_dir: str | Path, cfg: ExperimentConfig, force: bool = False
) -> dict[str, Any]:
    """Run every configured cell (skipping those whose JSON exists), then write the report.

    Args:
        data: language -> manifests and lexicon, the target and the sources.
        out_dir: everything goes here (see the module docstring).
        cfg: what to run.
        force: recompute every cell's JSON (finished training runs are kept; delete
            ``OUT/runs/<run>`` to retrain one).

    Returns:
        ``OUT/results.json``'s content: ``{"config", "target", "sources", "subset_minutes",
        "cells": {name: cell}, "runs": {run: training summary}, "wall_s"}``.
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    inp = prepare_inputs(data, out, cfg)
    decoders = Decoders(cfg)
    cells: dict[str, Any] = {}
    for name, fn in _cells(inp):
        path = out / RESULTS / f"{name}.json"
        if path.exists() and not force:
            log.info("multilingual %s: done (%s), skipped", name, path)
            cells[name] = json.loads(path.read_text())
            continue
        t1 = time.perf_counter()
        log.info("multilingual %s ...", name)
        result = fn(decoders)
        if result is None:
            continue
        result["cell_s"] = round(time.perf_counter() - t1, 2)
        _write_json(path, result)
        cells[name] = result
        log.info("multilingual %s: %s (%.0f s)", name, _brief(result), result["cell_s"])
    runs = {}
    for summary_path in sorted((out / RUNS).glob("*/train_summary.json")):
        runs[summary_path.parent.name] = _train_info(json.loads(summary_path.read_text()))
    results = {"config": dataclasses.asdict(cfg), "target": inp.target, "sources": inp.sources,
               "subset_minutes": {minutes_label(m): v for m, v in inp.subset_minutes.items()},
               "cells": cells, "runs": runs, "wall_s": round(time.perf_counter() - t0, 1)}
    _write_json(out / "results.json", results)
    write_report(results, out)
    return results


def _brief(cell: Mapping[str, Any]) -> str:
    if "lm" in cell and "greedy" in cell:
        return (f"WER {100 * cell['lm']['wer']:.1f}% (LM) / CER {100 * cell['greedy']['cer']:.1f}% (greedy)")
    return "done"


def run_synth_experiments(exp: str | Path, synth_cfg: Any, settings: Mapping[str, Any],
                          force: bool = False) -> dict[str, Any] | None:
    """The synth recipe's ``multilingual`` stage: ``EXP/data`` + ``EXP/corpus`` -> ``EXP/multilingual``.

    Args:
        exp: the recipe's experiment directory (after its prepare stage).
        synth_cfg: the :class:`~asr.data.synth.SynthConfig` of the prepared corpus.
        settings: the preset's ``multilingual:`` block (:class:`ExperimentConfig` fields).
        force: recompute every cell.

    Returns:
        The results (:func:`run_experiments`), or ``None`` for an empty block.
    """
    from asr.config import from_dict

    if not settings:
        log.info("multilingual: the preset has no multilingual block; nothing to do")
        return None
    exp = Path(exp)
    cfg = from_dict(ExperimentConfig, dict(settings), source="multilingual")
    langs = [*(cfg.sources or [lang for lang in synth_cfg.langs if lang != cfg.target]), cfg.target]
    data = recipe_layout(exp / "data", exp / "corpus", langs)
    out = exp / "multilingual"
    data[cfg.target] = ensure_target_audio(data[cfg.target], cfg.target, max(cfg.sizes), synth_cfg,
                                           out / "corpus")
    results = run_experiments(data, out, cfg, force=force)
    print((out / "report.md").read_text())
    return results


# ---------------------------------------------------------------------------
# Report: markdown tables and PNG plots
# ---------------------------------------------------------------------------


def _pct(result: Mapping[str, Any] | None, metric: str = "wer") -> str:
    return "-" if not result else f"{100 * result[metric]:.1f}"


def _wc(result: Mapping[str, Any] | None) -> str:
    """``"WER (CER)"`` in percent (``-`` for no result or no utterance)."""
    if not result or result.get("utts") == 0:
        return "-"
    return f"{100 * result['wer']:.1f} ({100 * result['cer']:.1f})"


def _rel(new: float | None, base: float | None) -> str:
    if new is None or not base:
        return "-"
    return f"{100 * (new - base) / base:+.0f} %"


def _approach_cells(cells: Mapping[str, Any], approach: str) -> dict[float, dict[str, Any]]:
    """minutes -> cell of one approach (``scratch``, ``joint``, ``finetune/<policy>``)."""
    out = {}
    for name, cell in cells.items():
        head, _, size = name.rpartition("/")
        if head == approach and "minutes" in cell:
            out[float(cell["minutes"])] = cell
    return out


def write_report(results: Mapping[str, Any], out: str | Path) -> Path:
    """``out/report.md`` (every table) and the PNG plots, from :func:`run_experiments`'s results."""
    out = Path(out)
    cells = results["cells"]
    target = results["target"]
    cfg = results["config"]
    sizes = sorted({float(m) for m in cfg["minutes"]})
    transfer = float(cfg["transfer_minutes"])
    lines = [f"# Multilingual and transfer learning: target {target}, sources {', '.join(results['sources'])}", "",
             "Target training subsets (minutes of audio): "
             + ", ".join(f"{k}: {v}" for k, v in results["subset_minutes"].items()) + ". "
             "Test speakers are never seen in training. WER (CER) in %.", ""]
    approaches = [a for a in APPROACHES if _approach_cells(cells, a)]
    if approaches:
        header = "| approach | " + " | ".join(minutes_label(m) for m in sizes) + " |"
        rule = "|---|" + "---|" * len(sizes)
        for metric, title in (("lm", "lexicon + word trigram LM"), ("greedy", "greedy")):
            lines += [f"## Target {target}: test WER (CER), {title}", "", header, rule]
            for a in approaches:
                by_size = _approach_cells(cells, a)
                lines.append(f"| {a} | " + " | ".join(_wc(by_size.get(m, {}).get(metric)) for m in sizes) + " |")
            lines.append("")
        scratch = _approach_cells(cells, "scratch")
        if scratch:
            lines += [f"## Relative WER change against {target} from scratch (lexicon + LM; CER greedy)", "",
                      header, rule]
            for a in approaches:
                if a == "scratch":
                    continue
                by_size = _approach_cells(cells, a)
                row = []
                for m in sizes:
                    c, s = by_size.get(m), scratch.get(m)
                    if not c or not s:
                        row.append("-")
                        continue
                    wer, cer = _rel(c["lm"]["wer"], s["lm"]["wer"]), _rel(c["greedy"]["cer"], s["greedy"]["cer"])
                    row.append(f"{wer} ({cer})")
                lines.append(f"| {a} | " + " | ".join(row) + " |")
            lines.append("")
        _plot_sizes(cells, approaches, sizes, target, out / "wer_vs_minutes.png")
        lines += ["![WER and CER against target minutes](wer_vs_minutes.png)", ""]
    sources = {name.split("/", 1)[1]: c for name, c in cells.items() if name.startswith("sources/")}
    if sources:
        joint = any("joint" in c for c in sources.values())
        lines += ["## Source languages: monolingual vs multilingual (test WER (CER), lexicon + LM; "
                  "relative WER change against monolingual)", "",
                  "| lang | monolingual | pre-trained multilingual | change |"
                  + (f" joint (+ {target} {minutes_label(transfer)}) | change |" if joint else ""),
                  "|---|---|---|---|" + ("---|---|" if joint else "")]
        for lang, c in sources.items():
            row = f"| {lang} | {_wc(c['mono']['lm'])} | {_wc(c['pretrained']['lm'])} | " \
                  f"{_rel(c['pretrained']['lm']['wer'], c['mono']['lm']['wer'])} |"
            if joint and "joint" in c:
                row += f" {_wc(c['joint']['lm'])} | {_rel(c['joint']['lm']['wer'], c['mono']['lm']['wer'])} |"
            lines.append(row)
        lines.append("")
    layers = sorted((c for n, c in cells.items() if n.startswith("layers/")), key=lambda c: c["k"])
    if layers:
        lines += [f"## Layer transfer at {minutes_label(transfer)}: first k encoder blocks from the pre-trained "
                  "model, the rest fresh", "", "| k | WER (CER), lexicon + LM | WER (CER), greedy |", "|---|---|---|"]
        lines += [f"| {c['k']} | {_wc(c['lm'])} | {_wc(c['greedy'])} |" for c in layers]
        lines += ["", "![layer transfer](layer_transfer.png)", ""]
        _plot_layers(layers, target, transfer, out / "layer_transfer.png")
    prog = next((c for n, c in cells.items() if n.startswith("progressive/")), None)
    if prog:
        lines += [f"## Progressive column vs fine-tuning at {minutes_label(transfer)}", "",
                  "| model | WER (CER), lexicon + LM | WER (CER), greedy | trainable parameters |", "|---|---|---|---|"]
        for label, c in (("progressive column", prog), ("fine-tune full", prog.get("finetune/full")),
                         ("fine-tune head only", prog.get("finetune/head"))):
            if c:
                lines.append(f"| {label} | {_wc(c['lm'])} | {_wc(c['greedy'])} | {c['train']['trainable_params']} |")
        lines.append("")
    adv = next((c for n, c in cells.items() if n.startswith("adversarial/")), None)
    if adv:
        lines += [f"## Speaker-adversarial training at {minutes_label(transfer)} (full fine-tuning; "
                  f"{adv['test_speakers']} test speakers, {adv['test_speakers_seen_in_training']} of them seen in "
                  f"training; classifier over {adv['adversarial_speakers']} training speakers)", "",
                  "| model | WER (CER), lexicon + LM | WER (CER), greedy |", "|---|---|---|",
                  f"| without | {_wc(adv['baseline']['lm'])} | {_wc(adv['baseline']['greedy'])} |",
                  f"| with gradient reversal | {_wc(adv['lm'])} | {_wc(adv['greedy'])} |", ""]
    nw = next((c for n, c in cells.items() if n.startswith("new_words/")), None)
    if nw:
        lines += [f"## New words at {minutes_label(transfer)}: {nw['new_word_sentences']} test sentences hold a word "
                  f"absent from the {nw['training_words']} words of the training transcripts "
                  f"({nw['other_sentences']} do not)", "",
                  "| decoder | new-word sentences | other sentences | all | new words recognised |",
                  "|---|---|---|---|---|"]
        labels = {"char-greedy": "character head, greedy",
                  "char-lm": "character head, lexicon of the training words + LM",
                  "char-g2p": "character head, G2P lexicon (test words too) + LM",
                  "phone-g2p": "universal phone head, G2P lexicon (phone spellings) + LM"}
        for key, label in labels.items():
            c = nw[key]
            lines.append(f"| {label} | {_wc(c['new'])} | {_wc(c['other'])} | {_wc(c['all'])} | "
                         f"{c['new_words_recognised']} |")
        lines.append("")
    lines += _target_lines(cells, sources, transfer, target)
    runs = results.get("runs", {})
    if runs:
        lines += ["## Training runs", "", "| run | hours of audio | epochs | updates | trainable params | wall s |",
                  "|---|---|---|---|---|---|"]
        for name, r in runs.items():
            hours = r.get("train_hours")
            lines.append(f"| {name} | {hours:.3f} | {r['epochs']} | {r['steps']} | {r['trainable_params']} | "
                         f"{r['wall_s']:.0f} |" if hours is not None else f"| {name} | - | - | - | - | - |")
        lines += ["", f"Stage wall time this call: {results['wall_s']:.0f} s.", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _target_lines(cells: Mapping[str, Any], sources: Mapping[str, Any], transfer: float, target: str) -> list[str]:
    """The issue's targets, checked: at ``transfer`` minutes some transfer or joint model cuts the target's
    WER (lexicon + LM) by >= 40 % relative to from scratch; no source language loses more than 5 %."""
    lines = []
    scratch = _approach_cells(cells, "scratch").get(transfer)
    others = {a: _approach_cells(cells, a).get(transfer) for a in APPROACHES if a != "scratch"}
    others = {a: c for a, c in others.items() if c}
    if scratch and others and scratch["lm"]["wer"]:
        best = min(others, key=lambda a: others[a]["lm"]["wer"])
        change = (others[best]["lm"]["wer"] - scratch["lm"]["wer"]) / scratch["lm"]["wer"]
        lines.append(f"- {target} at {minutes_label(transfer)}: best {best}, WER {100 * change:+.0f} % against "
                     f"from scratch (target <= -40 %): {'met' if change <= -0.4 else 'not met'}")
    changes = {lang: c["pretrained"]["lm"].get("rel_wer_change") for lang, c in sources.items()}
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes:
        worst = max(changes, key=changes.get)
        lines.append(f"- sources, pre-trained multilingual vs monolingual: worst {worst} {100 * changes[worst]:+.0f} % "
                     f"WER (target <= +5 %): {'met' if changes[worst] <= 0.05 else 'not met'}")
    return ["## Issue 5 targets", "", *lines, ""] if lines else []


def _plot_sizes(cells: Mapping[str, Any], approaches: Sequence[str], sizes: Sequence[float], target: str,
                path: Path) -> None:
    """WER (lexicon + LM) and CER (greedy) against target minutes, one line per approach."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (metric, kind, title) in zip(axes, (("wer", "lm", "WER, lexicon + LM"), ("cer", "greedy", "CER, greedy"))):
        for a in approaches:
            by_size = _approach_cells(cells, a)
            xs = [m for m in sizes if m in by_size]
            ax.plot(xs, [100 * by_size[m][kind][metric] for m in xs], marker="o", label=a)
        ax.set_xlabel(f"{target} training audio (minutes)")
        ax.set_ylabel(f"test {metric.upper()} (%)")
        ax.set_title(title)
        ax.set_xticks(list(sizes))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{target}: from scratch, joint, pre-trained + fine-tuned")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_layers(layers: Sequence[Mapping[str, Any]], target: str, minutes: float, path: Path) -> None:
    """The layer-transfer curve: WER (lexicon + LM) and CER (greedy) against k."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [c["k"] for c in layers]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ks, [100 * c["lm"]["wer"] for c in layers], marker="o", label="WER, lexicon + LM")
    ax.plot(ks, [100 * c["greedy"]["cer"] for c in layers], marker="s", label="CER, greedy")
    ax.set_xlabel("encoder blocks copied from the pre-trained model (k)")
    ax.set_ylabel("test error (%)")
    ax.set_xticks(ks)
    ax.set_title(f"{target}, {minutes_label(minutes)}: layer transfer")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
