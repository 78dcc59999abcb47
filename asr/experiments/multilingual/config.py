"""What the multilingual experiments run and how big (the ``multilingual:`` block of a synth preset).

:class:`ExperimentConfig` is that block; :class:`LanguageData` one language's
manifests and lexicon (:func:`recipe_layout` finds them in the synth recipe's
directories); the constants name the cells and the output layout.

Usage::

    cfg = ExperimentConfig(target="sw", minutes=(10, 30, 60))
    data = recipe_layout("exp/ml/data", "exp/ml/corpus", ["en", "es", "sw"])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EXPERIMENTS", "ExperimentConfig", "LanguageData", "recipe_layout", "minutes_label"]

EXPERIMENTS = ("scratch", "joint", "finetune", "sources", "layers", "progressive", "adversarial", "new_words", "meta")
WORD_BOUNDARY = "|"  # the universal phone tokenizer's token between words
RESULTS = "results"  # OUT/results/<cell>.json
RUNS = "runs"  # OUT/runs/<run>/ (train_multilingual directories)
APPROACHES = ("scratch", "joint", "finetune/head", "finetune/top-k", "finetune/full", "finetune/l2sp", "meta/reptile",
              "meta/fomaml")
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
        meta_methods: the ``meta`` experiment's methods (:data:`asr.train.meta.METHODS`): each
            meta-trains an initialization on the sources with the pre-training's compute (as many
            forward/backward batches as its updates) and is fine-tuned like it (``full``).
        meta: :class:`asr.train.meta.MetaConfig` fields for every method (``method`` and
            ``outer_steps`` are set per run), or per method under its name.
        meta_train: TrainConfig fields on top of ``source_train`` for the meta-training runs (the outer
            optimizer's ``lr`` and schedule), or per method under its name.
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
    meta_methods: tuple[str, ...] = ("reptile", "fomaml")
    meta: dict = field(default_factory=dict)
    meta_train: dict = field(default_factory=dict)
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
        from asr.train.meta import METHODS

        bad = sorted(set(self.meta_methods) - set(METHODS))
        if bad:
            raise ValueError(f"unknown meta method(s) {bad}; known: {list(METHODS)}")
        if not self.minutes or any(m <= 0 for m in self.minutes) or self.transfer_minutes <= 0:
            raise ValueError(f"minutes must be > 0, got {self.minutes} and transfer_minutes {self.transfer_minutes}")

    @property
    def sizes(self) -> list[float]:
        """Every target size used, ascending (``minutes`` and ``transfer_minutes``)."""
        return sorted({*map(float, self.minutes), float(self.transfer_minutes)})

    def meta_train_config(self, method: str) -> Any:
        """The :class:`~asr.train.config.TrainConfig` of one method's meta-training run."""
        from asr.config import from_dict
        from asr.train.config import TrainConfig
        from asr.train.meta import METHODS

        shared = {k: v for k, v in self.meta_train.items() if k not in METHODS}
        return from_dict(TrainConfig, {"progress": False, **self.train, **self.source_train, **shared,
                                       **self.meta_train.get(method, {})}, source=f"multilingual.meta_train.{method}")

    def meta_config(self, method: str, outer_steps: int) -> Any:
        """The :class:`~asr.train.meta.MetaConfig` of one method's run."""
        from asr.config import from_dict
        from asr.train.meta import METHODS, MetaConfig

        shared = {k: v for k, v in self.meta.items() if k not in METHODS}
        return from_dict(MetaConfig, {"temperature": self.temperature, **shared, **self.meta.get(method, {}),
                                      "method": method, "outer_steps": outer_steps}, source=f"multilingual.meta.{method}")

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
