#!/usr/bin/env python3
"""Recipe for the embedded synthetic multilingual corpus (espeak-ng, offline).

Usage:
    python recipes/synth/run.py --exp exp/synth                   # default preset (README's main command)
    python recipes/synth/run.py --exp exp/smoke --preset smoke    # every stage, tiny corpus, minutes
    python recipes/synth/run.py --exp exp/gpu --preset gpu        # sized for one GPU
    python recipes/synth/run.py --exp exp/synth --stage report    # re-run only the report
    python recipes/synth/run.py --exp exp/voices --preset voices  # leave one engine out (needs the engines)
    python recipes/synth/run.py --exp exp/lid --preset lid        # language ID over the six languages
    python recipes/synth/run.py --exp exp/streaming --preset streaming  # a chunk-trained CTC model for streaming

Stages, in order (``--stage`` / ``--stop-stage`` pick a range):
    prepare   generate the corpus under EXP/corpus, check its audio, write
              EXP/data/{train,dev,test}.jsonl (all languages) and per language
    train     train each system in ``systems`` (its model directory: EXP/<system>/model)
    decode    decode every test set with every trained system -> EXP/<system>/hyp/<lang>.jsonl
    score     WER/CER per system and language -> EXP/results.json
    curve     learning curves (the preset's ``curve:`` block): both systems at several training sizes ->
              EXP/curve/{curve.md,curve.png,curve.json} (asr.experiments.learning_curve)
    voices    leave one synthesis engine out (the preset's ``voices:`` block): both systems trained on all
              engines but one, tested on every engine -> EXP/voices/{voices.md,voices.json,voices.png}
              (asr.experiments.voices; the engines: tools/install_voices.sh)
    report    EXP/report.md: corpus table, results table, learning curve, PNG plots
    multilingual  issue 5's transfer experiments (the preset's ``multilingual:`` block) ->
              EXP/multilingual/{report.md,results.json,*.png} (asr.experiments.multilingual)
    lid       language ID (the preset's ``lid:`` block): a multilingual model with a language-ID head,
              the test sets decoded with language auto and with their own -> EXP/lid/{lid.md,results.json,lid.png}

Everything the recipe writes goes under ``--exp``; a stage whose outputs exist
is skipped unless ``--force`` is given, so a killed run restarts where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from asr.config import from_dict
from asr.data.dataset import validate
from asr.data.manifest import read_manifest, write_manifest
from asr.data.synth import SPLITS, SynthConfig, generate
from asr.recipe import results_section, run_recipe, system_stages
from asr.systems import CTCSettings, Experiment, LangData, train_systems

log = logging.getLogger("recipes.synth")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RecipeConfig:
    """The values of a preset (``conf/<preset>.yaml``)."""

    langs: tuple[str, ...] = ("en", "es", "de", "fr", "it", "sw")
    hours: float = 0.25
    seed: int = 0
    train_speakers: int = 24
    dev_speakers: int = 4
    test_speakers: int = 6
    jobs: int = 0  # corpus generation workers; 0 = all cores
    engines: tuple[str, ...] = ("espeak",)  # synthesis engines of the corpus (asr synth --engines)
    vtlp: float = 0.0  # share of utterances vocal-tract warped (asr synth --vtlp)
    telephone: float = 0.0  # share through a telephone channel (asr synth --telephone)
    rooms: str = "decay"  # reverberation model, "decay" or "image" (asr synth --rooms)
    babble: float = 0.0  # share with babble (asr synth --babble)
    systems: tuple[str, ...] = ("hybrid", "ctc")
    lm_order: int = 3  # word n-gram of each language, from its training text
    hybrid: dict = field(default_factory=dict)  # HybridConfig fields
    ctc: dict = field(default_factory=dict)  # CTCSettings fields
    curve: dict = field(default_factory=dict)  # asr.experiments.learning_curve.CurveConfig fields
    multilingual: dict = field(default_factory=dict)  # asr.experiments.multilingual.ExperimentConfig fields
    voices: dict = field(default_factory=dict)  # asr.experiments.voices.VoicesConfig fields
    lid: dict = field(default_factory=dict)  # asr.experiments.language_id.LidConfig fields

    def synth_config(self) -> SynthConfig:
        return SynthConfig(langs=self.langs, hours=self.hours, seed=self.seed, train_speakers=self.train_speakers,
                           dev_speakers=self.dev_speakers, test_speakers=self.test_speakers, engines=self.engines,
                           vtlp_prob=self.vtlp, telephone_prob=self.telephone, room_model=self.rooms,
                           babble_prob=self.babble)

    def ctc_settings(self) -> CTCSettings:
        return from_dict(CTCSettings, self.ctc, source="ctc")


def prepare(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Generate the corpus, write checked manifests under ``exp/data`` and a word LM per language."""
    from asr.text.lm import perplexity, train_ngram

    corpus = exp / "corpus"
    stats = generate(corpus, cfg.synth_config(), jobs=cfg.jobs or None)
    log.info("corpus: %.3f h of audio, %.0fx real time", stats["audio_seconds"] / 3600, stats["realtime_factor"])
    data = exp / "data"
    data.mkdir(parents=True, exist_ok=True)
    report = {}
    for split in SPLITS:
        everything = []
        for lang in cfg.langs:
            utts = read_manifest(corpus / lang / f"{split}.jsonl")
            good, bad = validate(utts)
            if bad.count:
                log.warning("%s/%s: %d utterances with unreadable audio left out:\n%s", lang, split, bad.count, bad)
            write_manifest(data / lang / f"{split}.jsonl", good)
            # espeak-ng's phone times beside the manifest: the hybrid system measures its alignments on them
            shutil.copyfile(corpus / lang / f"{split}.align.jsonl", data / lang / f"{split}.align.jsonl")
            everything.extend(good)
            report[f"{lang}/{split}"] = {"utts": len(good), "bad": bad.count,
                                         "hours": round(sum(u.duration for u in good) / 3600, 4)}
        write_manifest(data / f"{split}.jsonl", everything)
    for lang in cfg.langs:
        train_text = [u.text.split() for u in read_manifest(data / lang / "train.jsonl")]
        lm = train_ngram(train_text, order=cfg.lm_order)
        (exp / "lm").mkdir(exist_ok=True)
        lm.to_arpa(exp / "lm" / f"{lang}.arpa")
        dev_text = [u.text.split() for u in read_manifest(data / lang / "dev.jsonl")]
        report[f"{lang}/lm_dev_perplexity"] = round(perplexity(lm, dev_text), 2)
    (data / "summary.json").write_text(json.dumps(report, indent=2) + "\n")


# Each system: how to train it, and how to decode one language's test set with it (asr.systems):
# one hybrid model per language (its own phones, lexicon and LM), one CTC model for all languages.


def experiment(cfg: RecipeConfig, exp: Path) -> Experiment:
    """The preset's systems over the corpus: per language its manifests, espeak-ng lexicon and word LM."""
    data = exp / "data"
    langs = tuple(LangData(name=lang, lang=lang, train=data / lang / "train.jsonl", dev=data / lang / "dev.jsonl",
                           tests={lang: data / lang / "test.jsonl"}, lexicon=exp / "corpus" / lang / "lexicon.txt",
                           hybrid_lm=None, ctc_lm=exp / "lm" / f"{lang}.arpa")
                  for lang in cfg.langs)
    return Experiment(exp, langs, cfg.systems, cfg.hybrid, cfg.ctc_settings(), ctc_train=(data / "train.jsonl",),
                      ctc_dev=data / "dev.jsonl")


def train(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Train every system of the preset (each resumes or skips when its model exists).

    Training wall time per system goes to ``exp/train_times.json`` (only for
    systems that trained in this run, so a re-run keeps the first figure).
    """
    train_systems(experiment(cfg, exp), force)


def curve(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Learning curves (empty ``curve:`` block: nothing): every system trained at each size -> ``exp/curve``."""
    from asr.experiments.learning_curve import CurveConfig, run_learning_curve

    if not cfg.curve:
        log.info("curve: the preset has no curve block; nothing to do")
        return
    curve_cfg = from_dict(CurveConfig, cfg.curve, source="curve")
    # one word LM per language at every size, for both systems: the one trained on all of the training text
    langs = [dataclasses.replace(lang, hybrid_lm=lang.ctc_lm) for lang in experiment(cfg, exp).langs]
    run_learning_curve(exp / "curve", langs, curve_cfg, cfg.hybrid, cfg.ctc_settings(), force)
    print((exp / "curve" / "curve.md").read_text())


def report(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Write ``exp/report.md`` (corpus and results tables) and ``exp/corpus.png``; print the tables."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["# synth recipe report", "", "## Corpus", "", "| lang | split | utts | hours | speakers |", "|---|---|---|---|---|"]
    durations: dict[str, list[float]] = {}
    for lang in cfg.langs:
        for split in SPLITS:
            utts = read_manifest(exp / "data" / lang / f"{split}.jsonl")
            hours = sum(u.duration for u in utts) / 3600
            lines.append(f"| {lang} | {split} | {len(utts)} | {hours:.3f} | {len({u.speaker for u in utts})} |")
            durations.setdefault(lang, []).extend(u.duration for u in utts)
    results_path = exp / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if results:
        lines += ["", "## Test WER (%) per language, and decoding real-time factor", "",
                  "| system | " + " | ".join(cfg.langs) + " | mean | RTF |", "|---|" + "---|" * (len(cfg.langs) + 2)]
        for system, per_lang in results.items():
            wers = [100 * per_lang[lang]["wer"] for lang in cfg.langs if lang in per_lang]
            rtfs = [per_lang[lang]["rtf"] for lang in cfg.langs if per_lang.get(lang, {}).get("rtf") is not None]
            cells = [f"{100 * per_lang[lang]['wer']:.1f}" if lang in per_lang else "-" for lang in cfg.langs]
            mean_rtf = f"{sum(rtfs) / len(rtfs):.3f}" if rtfs else "-"
            lines.append(f"| {system} | " + " | ".join(cells) + f" | {sum(wers) / max(len(wers), 1):.1f} | {mean_rtf} |")
        lines.append("")
    lines += results_section(exp)
    lines += _alignment_lines(cfg, exp)
    if (exp / "curve" / "curve.md").is_file():
        text = (exp / "curve" / "curve.md").read_text().replace("](curve.png)", "](curve/curve.png)")
        lines += ["", "## Learning curves: WER against training hours", "", text.strip()]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(list(durations.values()), bins=30, label=list(durations), stacked=True)
    ax.set_xlabel("utterance duration (s)")
    ax.set_ylabel("utterances")
    ax.set_title("synth corpus: utterance durations")
    ax.legend()
    fig.tight_layout()
    fig.savefig(exp / "corpus.png", dpi=100)
    plt.close(fig)
    lines += ["", "![durations](corpus.png)", ""]
    text = "\n".join(lines)
    (exp / "report.md").write_text(text)
    print(text)


def _alignment_lines(cfg: RecipeConfig, exp: Path) -> list[str]:
    """Report lines: the hybrid system's phone-boundary accuracy against espeak-ng's, per language."""
    rows = []
    for lang in cfg.langs:
        log_path = exp / "hybrid" / lang / "model" / "train_log.json"
        if not log_path.exists():
            continue
        quality = json.loads(log_path.read_text()).get("alignment_accuracy_20ms") or {}
        cells = [f"{100 * q['ref_within']:.1f}" if q else "-" for q in quality.values()]
        if any(c != "-" for c in cells):
            rows.append((lang, list(quality), cells))
    if not rows:
        return []
    stages = rows[0][1]
    return ["", "## Hybrid alignments: phone boundaries within 20 ms of espeak-ng's (%)", "",
            "| lang | " + " | ".join(stages) + " |", "|---|" + "---|" * len(stages),
            *[f"| {lang} | " + " | ".join(cells) + " |" for lang, _, cells in rows]]


def voices(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Leave one engine out (empty ``voices:`` block: nothing): both systems per held-out engine -> ``exp/voices``."""
    from asr.experiments.voices import VoicesConfig, run_voices

    if not cfg.voices:
        log.info("voices: the preset has no voices block; nothing to do")
        return
    run_voices(exp / "voices", from_dict(VoicesConfig, cfg.voices, source="voices"), cfg.hybrid, cfg.ctc_settings(),
               force, jobs=cfg.jobs or None)
    print((exp / "voices" / "voices.md").read_text())


def multilingual(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Multilingual / transfer experiments (empty ``multilingual:`` block: nothing) -> ``exp/multilingual``."""
    from asr.experiments.multilingual import run_synth_experiments

    run_synth_experiments(exp, cfg.synth_config(), cfg.multilingual, force=force)


def lid(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Language ID (empty ``lid:`` block: nothing): a multilingual model with a language-ID head over every
    language, every test set decoded with ``language="auto"`` and with its own language -> ``exp/lid``."""
    from asr.experiments.language_id import LidConfig, LidData, run_language_id

    if not cfg.lid:
        log.info("lid: the preset has no lid block; nothing to do")
        return
    data = exp / "data"
    lid_cfg = from_dict(LidConfig, cfg.lid, source="lid")
    langs = {lang: LidData(data / lang / "train.jsonl", data / lang / "dev.jsonl",
                           {lang: data / lang / "test.jsonl", **_real_tests(exp / "lid" / "real", lang, lid_cfg)})
             for lang in cfg.langs}
    run_language_id(exp / "lid", langs, {lang: exp / "lm" / f"{lang}.arpa" for lang in cfg.langs}, lid_cfg, force)
    print((exp / "lid" / "lid.md").read_text())


def _real_tests(out: Path, lang: str, lid_cfg) -> dict[str, Path]:
    """``{"<lang>-asterisk": manifest}``: the Asterisk prompts' test split of ``lang`` (at most
    ``lid_cfg.real_utts``), where Debian's asterisk-core-sounds packages installed them; else ``{}``."""
    from asr.data.corpora import CorpusError
    from asr.data.corpora.asterisk import LANG_DIRS, apt_command, read_asterisk, split_prompts

    if not lid_cfg.real_root or lang not in LANG_DIRS:
        return {}
    try:
        utts, _ = read_asterisk(lid_cfg.real_root, lang)
    except CorpusError as e:
        log.info("lid: no real %s recordings (%s; %s)", lang, e, apt_command([lang]))
        return {}
    path = out / f"{lang}.jsonl"
    write_manifest(path, split_prompts(utts)["test"][: lid_cfg.real_utts])
    return {f"{lang}-asterisk": path}


_SHARED = system_stages(experiment, "synth recipe report")  # decode and score as in every corpus recipe
STAGE_FUNCS = {"prepare": prepare, "train": train, "decode": _SHARED["decode"], "score": _SHARED["score"],
               "curve": curve, "voices": voices, "report": report, "multilingual": multilingual,
               "lid": lid}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS)


if __name__ == "__main__":
    sys.exit(main())
