"""Leave one engine out: how well both systems hear a synthesizer they were never trained on.

Every model trained on espeak-ng alone has learned espeak-ng, not speech. This
experiment measures what voices of other synthesizers buy: one corpus is
generated with several engines (:mod:`asr.data.engines`; their speakers spread
over the engines, test voices never heard in training within every engine),
then, for each engine ``E``:

* **held out** ``E``: both systems trained on the other engines' training
  speakers, tested on every engine's test speakers: the WER on ``E`` is the
  *held-out-engine* WER, the mean over the training engines the *in-engine* WER;

An engine with no training voice in the language (outside English SVOX Pico has one voice per
language, festival one in Spanish: a test voice) is never trained on: it is held out of every
run, and its held-out figure comes from the run on every other engine (:func:`leave_one_out_runs`).

Beside them, when ``espeak_only`` is set, both systems trained on espeak-ng
alone with as much training audio as the largest held-out run gets (a second, espeak-only
corpus), tested on the same test sets. The target of the voices issue: held-out
WER within 2x of in-engine WER.

What is held fixed: the pronunciation lexicon (espeak-ng G2P of every word), the
CTC word LM (a trigram of all the training text; the hybrid system trains its
own on each run's text), model configurations and the CTC model's audio budget
(``ctc_audio_hours`` presented in every run).

Layout::

    OUT/corpus/                    the multi-engine corpus (asr synth --engines ...)
    OUT/corpus_aug/                the same, augmented (``augment:``; VTLP, telephone channels)
    OUT/espeak_corpus/             the espeak-only corpus of the baseline
    OUT/data/<engine>/{train,dev,test}.jsonl
    OUT/<run>/...                  one experiment per run (asr.systems): heldout-<engine>, espeak-only
    OUT/voices.md, voices.json, voices.png

Usage (the synth recipe's ``voices`` stage)::

    run_voices(exp / "voices", VoicesConfig(engines=("espeak", "mbrola", "pico", "festival")), hybrid={}, ctc=CTCSettings())
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr.data.manifest import read_manifest, total_duration, write_manifest
from asr.data.synth import SPLITS, SynthConfig, check_engines, generate
from asr.experiments.learning_curve import curve_epochs
from asr.systems import RESULTS_JSON, CTCSettings, Experiment, LangData, decode_systems, score_systems, train_systems
from asr.text.lm import train_ngram

__all__ = ["VoicesConfig", "run_voices", "voices_table", "leave_one_out_runs"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoicesConfig:
    """The ``voices:`` block of a preset.

    Attributes:
        lang: the language (every engine must speak it).
        engines: the engines of the corpus; each is held out once.
        hours: audio per engine, all splits.
        speakers_per_engine: training speakers per engine (dev and test: a third of it each, at least 2).
        seed: corpus and subsets.
        systems: systems trained in every run.
        espeak_only: also train on espeak-ng alone (as many training hours as a held-out run).
        skip_missing: leave out engines that are not installed (else: an error naming the package).
        ctc_audio_hours: audio the CTC model is shown in every run (epochs = this / training hours).
        ctc_min_epochs, ctc_max_epochs: bounds on those epochs.
        hybrid: HybridConfig fields over the recipe's ``hybrid:``.
        ctc_train: TrainConfig fields over the recipe's ``ctc: train:``.
        augment: SynthConfig augmentation fields (``vtlp_prob``, ``telephone_prob``, ...): when given, every
            held-out run is repeated on an augmented copy of the corpus (same texts, speakers and seeds)
            as ``heldout-<engine>+aug``, tested on the same clean test sets.
        augment_systems: systems trained in the augmented runs (empty: no augmented runs).
    """

    lang: str = "en"
    engines: tuple[str, ...] = ("espeak", "mbrola", "pico", "festival")
    hours: float = 0.2
    speakers_per_engine: int = 6
    seed: int = 0
    systems: tuple[str, ...] = ("hybrid", "ctc")
    espeak_only: bool = True
    skip_missing: bool = False
    ctc_audio_hours: float = 8.0
    ctc_min_epochs: int = 5
    ctc_max_epochs: int = 100
    hybrid: dict = field(default_factory=dict)
    ctc_train: dict = field(default_factory=dict)
    augment: dict = field(default_factory=dict)
    augment_systems: tuple[str, ...] = ("hybrid", "ctc")

    def __post_init__(self) -> None:
        if len(self.engines) < 2:
            raise ValueError(f"voices: leaving one engine out needs at least two engines, got {list(self.engines)}")
        if self.hours <= 0 or self.speakers_per_engine < 1:
            raise ValueError("voices: hours and speakers_per_engine must be positive")


def _split_by_engine(corpus: Path, lang: str, out: Path) -> dict[str, dict[str, Path]]:
    """Manifests per engine and split, from ``speakers.jsonl`` (engine of each speaker)."""
    engine_of = {}
    for line in (corpus / lang / "speakers.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        engine_of[row["id"]] = row.get("engine", "espeak")
    paths: dict[str, dict[str, Path]] = {}
    for split in SPLITS:
        utts = read_manifest(corpus / lang / f"{split}.jsonl")
        for engine in sorted(set(engine_of.values())):
            path = out / engine / f"{split}.jsonl"
            write_manifest(path, [u for u in utts if engine_of[u.speaker] == engine])
            paths.setdefault(engine, {})[split] = path
    return paths


def _concat(out: Path, manifests: list[Path]) -> Path:
    write_manifest(out, [u for m in manifests for u in read_manifest(m)])
    return out


def run_voices(out: str | Path, cfg: VoicesConfig, hybrid: Mapping[str, Any] | None = None,
               ctc: CTCSettings | None = None, force: bool = False, jobs: int | None = None) -> dict[str, Any]:
    """Generate the corpora, train and test every run, write the table, JSON and chart.

    Args:
        out: the experiment's ``voices`` directory.
        cfg: engines, sizes, systems.
        hybrid: the recipe's HybridConfig fields (``cfg.hybrid`` on top).
        ctc: the recipe's CTC settings (``cfg.ctc_train`` on top of its ``train``; epochs per run).
        force: redo runs whose ``results.json`` exists.
        jobs: corpus generation workers.

    Returns:
        :func:`voices_table`'s summary (also ``out/voices.json``).
    """
    out = Path(out)
    engines = check_engines(cfg.engines, cfg.skip_missing)
    n = len(engines)
    per = cfg.speakers_per_engine
    held = max(2, per // 3)
    synth = SynthConfig(langs=(cfg.lang,), hours=cfg.hours * n, seed=cfg.seed, train_speakers=per * n,
                        dev_speakers=held * n, test_speakers=held * n, min_utts_per_split=4 * n, engines=engines)
    generate(out / "corpus", synth, jobs=jobs, progress=False)
    data = _split_by_engine(out / "corpus", cfg.lang, out / "data")
    lexicon = out / "corpus" / cfg.lang / "lexicon.txt"
    tests = {e: data[e]["test"] for e in engines}
    lm = out / "lm.arpa"
    if force or not lm.exists():
        text = [u.text.split() for e in engines for u in read_manifest(data[e]["train"])]
        train_ngram(text, order=3).to_arpa(lm)
    trainable = tuple(e for e in engines if read_manifest(data[e]["train"]))
    runs = leave_one_out_runs(engines, trainable)
    if cfg.espeak_only and "espeak" in engines:
        train_hours = max(total_duration([u for x in train for u in read_manifest(data[x]["train"])])
                          for train in runs.values()) / 3600
        runs["espeak-only"] = ("espeak",)
        solo = dataclasses.replace(synth, engines=("espeak",), train_speakers=per * max(map(len, runs.values())),
                                   hours=train_hours / (1 - synth.dev_fraction - synth.test_fraction))
        generate(out / "espeak_corpus", solo, jobs=jobs, progress=False)
        data["espeak-only"] = {s: out / "espeak_corpus" / cfg.lang / f"{s}.jsonl" for s in SPLITS}
    if cfg.augment and cfg.augment_systems:
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.augment.items()}
        generate(out / "corpus_aug", dataclasses.replace(synth, **fields), jobs=jobs, progress=False)
        augmented = _split_by_engine(out / "corpus_aug", cfg.lang, out / "data_aug")
        for e in engines:
            data[f"{e}+aug"] = augmented[e]
        runs.update({f"{run}+aug": tuple(f"{x}+aug" for x in train) for run, train in list(runs.items())
                     if run != "espeak-only"})
    hybrid_cfg = {**dict(hybrid or {}), **cfg.hybrid}
    ctc = ctc or CTCSettings()
    for run, train_engines in runs.items():
        exp = out / run
        if (exp / RESULTS_JSON).is_file() and not force:
            log.info("voices %s: results exist, skipped", run)
            continue
        sources = ["espeak-only"] if run == "espeak-only" else list(train_engines)
        train = _concat(exp / "data" / "train.jsonl", [data[s]["train"] for s in sources])
        dev = _concat(exp / "data" / "dev.jsonl", [data[s]["dev"] for s in sources])
        hours = total_duration(read_manifest(train)) / 3600
        epochs = curve_epochs(cfg, hours)
        settings = dataclasses.replace(ctc, train={**ctc.train, **cfg.ctc_train, "epochs": epochs})
        lang = LangData(name="", lang=cfg.lang, train=train, dev=dev, tests=tests, lexicon=lexicon, ctc_lm=lm)
        log.info("voices %s: training on %s (%.3f h), CTC %d epochs", run, "+".join(sources), hours, epochs)
        systems = cfg.augment_systems if run.endswith("+aug") else cfg.systems
        xp = Experiment(exp, (lang,), tuple(systems), hybrid_cfg, settings)
        train_systems(xp, force)
        decode_systems(xp)
        score_systems(xp)
    return voices_table(out, engines, {run: tuple(x.removesuffix("+aug") for x in train) for run, train in runs.items()})


def leave_one_out_runs(engines: Sequence[str], trainable: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Run name -> its training engines: each engine held out in turn, trained on the ``trainable`` rest.

    An engine with no training voice in the language (one voice there, kept for testing: SVOX Pico
    outside English, festival in Spanish) is never trained on: every run holds it out, and the run on
    every trainable engine (``heldout-<first such engine>``) is its held-out run.
    """
    runs: dict[str, tuple[str, ...]] = {}
    for e in engines:
        train = tuple(x for x in trainable if x != e)
        if train and train not in runs.values():
            runs[f"heldout-{e}"] = train
    return runs


def voices_table(out: str | Path, engines: Sequence[str], runs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """``out/voices.{md,json,png}`` from the runs' ``results.json``: held-out vs in-engine WER per system.

    Args:
        runs: run name -> its training engines (``+aug`` runs: the engines their augmented copies came from).
            An engine's held-out figure comes from the ``heldout-*`` run with the most training engines
            that lacks it; the in-engine WER is that run's mean over its training engines' test voices.

    Returns:
        ``{"runs": {run: {variant: {engine: wer}}}, "heldout": {variant: {engine: {"heldout", "in_engine",
        "ratio", "trained_on"}}}}`` (WER as fractions).
    """
    out = Path(out)
    wers: dict[str, dict[str, dict[str, float]]] = {}
    for run in runs:
        path = out / run / RESULTS_JSON
        if path.is_file():
            wers[run] = {v: {t: r["wer"] for t, r in per.items()} for v, per in json.loads(path.read_text()).items()}
    heldout: dict[str, dict[str, dict[str, Any]]] = {}
    for suffix in ("", "+aug"):
        loo = {run: tuple(train) for run, train in runs.items()
               if run.startswith("heldout-") and run.endswith("+aug") == bool(suffix) and run in wers}
        for e in engines:
            lacking = [run for run, train in loo.items() if e not in train]
            if not lacking:
                continue
            run = max(lacking, key=lambda r: len(loo[r]))
            for variant, per in wers[run].items():
                inside = [per[t] for t in loo[run] if t in per]
                if e not in per or not inside:
                    continue
                cell = {"heldout": per[e], "in_engine": sum(inside) / len(inside)}
                cell["ratio"] = cell["heldout"] / max(cell["in_engine"], 1e-9)
                heldout.setdefault(variant + suffix, {})[e] = {**{k: round(v, 6) for k, v in cell.items()},
                                                               "trained_on": list(loo[run])}
    summary = {"engines": list(engines), "runs": wers, "heldout": heldout}
    (out / "voices.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = ["| system | held-out engine | trained on | held-out WER % | in-engine WER % | ratio |",
             "|---|---|---|---:|---:|---:|"]
    for variant, per in heldout.items():
        for e, c in per.items():
            lines.append(f"| {variant} | {e} | {', '.join(c['trained_on'])} | {100 * c['heldout']:.1f} | "
                         f"{100 * c['in_engine']:.1f} | {c['ratio']:.1f} |")
    lines += ["", "WER % of every run (rows: trained on; columns: test voices of each engine)", "",
              "| run | system | " + " | ".join(engines) + " |", "|---|---|" + "---:|" * len(engines)]
    for run, per_variant in wers.items():
        for variant, per in per_variant.items():
            lines.append(f"| {run} | {variant} | " + " | ".join(f"{100 * per[e]:.1f}" if e in per else "-"
                                                             for e in engines) + " |")
    (out / "voices.md").write_text("\n".join(lines) + "\n\n![held-out vs in-engine WER](voices.png)\n",
                                   encoding="utf-8")
    _plot(heldout, out / "voices.png")
    return summary


def _plot(heldout: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(heldout)
    fig, axes = plt.subplots(1, max(len(variants), 1), figsize=(4 * max(len(variants), 1), 3.5), squeeze=False)
    for ax, variant in zip(axes[0], variants):
        engines = list(heldout[variant])
        x = range(len(engines))
        ax.bar([i - 0.2 for i in x], [100 * heldout[variant][e]["in_engine"] for e in engines], 0.4, label="in-engine")
        ax.bar([i + 0.2 for i in x], [100 * heldout[variant][e]["heldout"] for e in engines], 0.4, label="held out")
        ax.set_xticks(list(x), engines)
        ax.set_title(variant)
        ax.set_ylabel("WER %")
        ax.legend()
    fig.suptitle("leave one engine out: test WER")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
