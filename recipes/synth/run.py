#!/usr/bin/env python3
"""Recipe for the embedded synthetic multilingual corpus (espeak-ng, offline).

Usage:
    python recipes/synth/run.py --exp exp/synth                   # default preset (README's main command)
    python recipes/synth/run.py --exp exp/smoke --preset smoke    # every stage, tiny corpus, minutes
    python recipes/synth/run.py --exp exp/gpu --preset gpu        # sized for one GPU
    python recipes/synth/run.py --exp exp/synth --stage report    # re-run only the report

Stages, in order (``--stage`` / ``--stop-stage`` pick a range):
    prepare   generate the corpus under EXP/corpus, check its audio, write
              EXP/data/{train,dev,test}.jsonl (all languages) and per language
    train     train each system in ``systems`` (its model directory: EXP/<system>/model)
    decode    decode every test set with every trained system -> EXP/<system>/hyp/<lang>.jsonl
    score     WER/CER per system and language -> EXP/results.json
    report    EXP/report.md: corpus table, results table, PNG plots

Everything the recipe writes goes under ``--exp``; a stage whose outputs exist
is skipped unless ``--force`` is given, so a killed run restarts where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from asr.config import from_dict
from asr.data.dataset import validate
from asr.data.manifest import read_manifest, write_manifest
from asr.data.synth import SPLITS, SynthConfig, generate
from asr.recipe import run_recipe

log = logging.getLogger("recipes.synth")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CTCSettings:
    """The ``ctc:`` block of a preset: one character (or BPE) CTC model for all languages."""

    preset: str = "tiny"  # ModelConfig preset: tiny, small, medium
    units: str = "char"  # char, bpe, unigram
    vocab_size: int = 500  # sentencepiece units only
    model: dict = field(default_factory=dict)  # ModelConfig fields to override
    train: dict = field(default_factory=dict)  # TrainConfig fields
    beam: int = 16  # beam of the lexicon + LM decoder
    lm_weight: float = 1.0
    word_score: float = 0.0


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
    systems: tuple[str, ...] = ("hybrid", "ctc")
    lm_order: int = 3  # word n-gram of each language, from its training text
    hybrid: dict = field(default_factory=dict)  # HybridConfig fields
    ctc: dict = field(default_factory=dict)  # CTCSettings fields

    def synth_config(self) -> SynthConfig:
        return SynthConfig(langs=self.langs, hours=self.hours, seed=self.seed, train_speakers=self.train_speakers,
                           dev_speakers=self.dev_speakers, test_speakers=self.test_speakers)

    def ctc_settings(self) -> CTCSettings:
        return from_dict(CTCSettings, self.ctc, source="ctc")


def prepare(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Generate the corpus, write checked manifests under ``exp/data`` and a word LM per language."""
    from asr.decoding.lm import perplexity, train_ngram

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


# Each system: how to train it, and how to decode one language's test set with it.
# A decode function returns {variant name: (hypotheses path, decoding stats)}.


def train_hybrid_system(cfg: RecipeConfig, exp: Path, force: bool) -> None:
    """One hybrid model per language (its own phone set, lexicon and LM)."""
    from asr.models.hybrid import HybridConfig, train_hybrid

    hcfg = from_dict(HybridConfig, cfg.hybrid, source="hybrid")
    for lang in cfg.langs:
        out = exp / "hybrid" / lang / "model"
        if (out / "config.json").exists() and not force:
            log.info("hybrid/%s: trained already (%s)", lang, out)
            continue
        train_hybrid(exp / "data" / lang / "train.jsonl", exp / "data" / lang / "dev.jsonl",
                     exp / "corpus" / lang / "lexicon.txt", out, hcfg)


def decode_hybrid_system(cfg: RecipeConfig, exp: Path, lang: str) -> dict[str, tuple[Path, dict]]:
    from asr.models.hybrid import decode_manifest_hybrid

    hyp = exp / "hybrid" / "hyp" / f"{lang}.jsonl"
    hyp.parent.mkdir(parents=True, exist_ok=True)
    stats = decode_manifest_hybrid(exp / "hybrid" / lang / "model", exp / "data" / lang / "test.jsonl", hyp)
    return {"hybrid": (hyp, stats)}


def train_ctc_system(cfg: RecipeConfig, exp: Path, force: bool) -> None:
    """One CTC model for all languages (a shared character or BPE vocabulary)."""
    from asr.models.ctc import ModelConfig
    from asr.train.config import TrainConfig
    from asr.train.loop import init_tokenizer, train_ctc

    s = cfg.ctc_settings()
    out = exp / "ctc"
    if force and (out / "train_summary.json").exists():
        (out / "train_summary.json").unlink()
    model_cfg = ModelConfig.from_dict({**ModelConfig.preset(s.preset).to_dict(), **s.model}, source="ctc.model")
    train_cfg = from_dict(TrainConfig, s.train, source="ctc.train")
    train = [exp / "data" / "train.jsonl"]
    tokenizer = init_tokenizer(out, s.units, train, s.vocab_size)
    train_ctc(train, exp / "data" / "dev.jsonl", out, model_cfg, train_cfg, tokenizer)


def decode_ctc_system(cfg: RecipeConfig, exp: Path, lang: str) -> dict[str, tuple[Path, dict]]:
    from asr.decoding.transcribe import decode_manifest

    s = cfg.ctc_settings()
    test = exp / "data" / lang / "test.jsonl"
    out = {}
    for variant, options in (("ctc-greedy", {}),
                             ("ctc-lm", {"beam": s.beam, "lm": exp / "lm" / f"{lang}.arpa",
                                         "lm_weight": s.lm_weight, "word_score": s.word_score})):
        hyp = exp / "ctc" / "hyp" / variant / f"{lang}.jsonl"
        hyp.parent.mkdir(parents=True, exist_ok=True)
        out[variant] = (hyp, decode_manifest(exp / "ctc" / "model", test, hyp, **options))
    return out


SYSTEMS = {
    "hybrid": (train_hybrid_system, decode_hybrid_system),
    "ctc": (train_ctc_system, decode_ctc_system),
}


def _check_systems(cfg: RecipeConfig) -> None:
    unknown = [s for s in cfg.systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; known: {sorted(SYSTEMS)}")


def _model_params(model_dirs: list[Path]) -> int:
    """Parameters stored in the ``model.safetensors`` of the given model directories."""
    from safetensors import safe_open

    total = 0
    for d in model_dirs:
        with safe_open(str(d / "model.safetensors"), framework="pt") as f:
            total += sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    return total


def train(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Train every system of the preset (each resumes or skips when its model exists).

    Training wall time per system goes to ``exp/train_times.json`` (only for
    systems that trained in this run, so a re-run keeps the first figure).
    """
    _check_systems(cfg)
    times_path = exp / "train_times.json"
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    for system in cfg.systems:
        t0 = time.perf_counter()
        SYSTEMS[system][0](cfg, exp, force)
        seconds = time.perf_counter() - t0
        log.info("train %s: %.0f s", system, seconds)
        if seconds > 5 or system not in times:
            times[system] = round(seconds, 1)
    times_path.write_text(json.dumps(times, indent=2) + "\n")


def decode(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Decode each language's test set with every system -> ``exp/decode.json`` (hypothesis paths, RTF)."""
    _check_systems(cfg)
    runs: dict[str, dict] = {}
    for system in cfg.systems:
        for lang in cfg.langs:
            for variant, (hyp, stats) in SYSTEMS[system][1](cfg, exp, lang).items():
                runs.setdefault(variant, {})[lang] = {"hyp": str(hyp), "rtf": stats.get("rtf")}
    (exp / "decode.json").write_text(json.dumps(runs, indent=2) + "\n")


def score(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Score every system's hypotheses against the references -> ``exp/results.json``."""
    from asr.metrics import read_text_file
    from asr.metrics import score as score_hyps

    runs = json.loads((exp / "decode.json").read_text())
    times_path = exp / "train_times.json"
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    model_dirs = {"hybrid": [exp / "hybrid" / lang / "model" for lang in cfg.langs], "ctc": [exp / "ctc" / "model"]}
    results: dict[str, dict] = {}
    for variant, per_lang in runs.items():
        system = variant.split("-")[0]
        extra = {"params": _model_params(model_dirs[system]), "train_s": times.get(system)}
        for lang, run in per_lang.items():
            refs = {u.id: u.text for u in read_manifest(exp / "data" / lang / "test.jsonl")}
            hyps, _ = read_text_file(run["hyp"])
            results.setdefault(variant, {})[lang] = {**score_hyps(refs, hyps).to_dict(), "rtf": run["rtf"], **extra}
    (exp / "results.json").write_text(json.dumps(results, indent=2) + "\n")


def report(cfg: RecipeConfig, exp: Path, force: bool = False) -> None:
    """Write ``exp/report.md`` (corpus and results tables) and ``exp/corpus.png``; print the tables."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from asr.compare import plot, read_results, to_markdown, write_csv

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
        rows = read_results([exp])
        plot(rows, exp / "results.png")
        write_csv(rows, exp / "results.csv")
        lines += ["", "![WER per language](results.png)", "", "## Every system and test set", "", to_markdown(rows)]
    else:
        lines += ["", "No system results yet."]
    lines += _alignment_lines(cfg, exp)
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


STAGE_FUNCS = {"prepare": prepare, "train": train, "decode": decode, "score": score, "report": report}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS)


if __name__ == "__main__":
    sys.exit(main())
