"""The report of the synthetic-to-real experiments (:mod:`asr.experiments.real_speech`): tables and plots.

``EXP/report.md`` holds the corpus and what was left out of it, the vocabulary,
the zero-shot table (synthetic training only), the few-shot table (WER / CER
against minutes of real audio, one row per starting point and system), the
issue's targets checked against the measured numbers, and every run in
:mod:`asr.compare`'s table; ``EXP/fewshot.png`` draws the few-shot curves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asr.experiments.real_speech import REAL_TEST, TransferConfig, collect, minutes_label
from asr.experiments.real_speech_voices import plot_voices, read_voice_sources, voices_markdown
from asr.experiments.speaker_adapt import plot_speaker_adaptation, read_speaker_results, speaker_table

__all__ = ["write_transfer_report", "plot_fewshot", "plot_multilingual", "check_targets"]

# The targets on the English test set (WER as a fraction).
TARGET_10MIN = 0.15
TARGET_ZEROSHOT = 0.50
REFERENCE_ENGINE = 0.75  # a classical 16 kHz engine with a general English model, same upsampled prompts


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _cell(wer: float | None, cer: float | None) -> str:
    return "-" if wer is None else f"{_pct(wer)} ({_pct(cer)})"


def plot_fewshot(fewshot: Mapping[str, Mapping[str, list[list[float]]]], path: Path, title: str = "") -> None:
    """WER against real training minutes (log scale), one line per ``start/variant``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for start, variants in fewshot.items():
        for variant, pts in variants.items():
            if pts:
                ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o",
                        linestyle="--" if start == "scratch" else "-", label=f"{start}: {variant}")
    ax.set_xscale("log")
    ax.set_xlabel("minutes of real training audio")
    ax.set_ylabel("test WER %")
    ax.axhline(100 * TARGET_10MIN, color="grey", linewidth=0.8, linestyle=":")
    ax.set_title(title or "few-shot transfer to the real speaker")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_multilingual(curves: Mapping[str, Mapping[str, list[list[float]]]], path: Path) -> None:
    """WER against real fine-tuning minutes, one panel per target language, one line per starting point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 4), squeeze=False)
    for ax, (target, variants) in zip(axes[0], curves.items()):
        for variant, pts in variants.items():
            ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o", label=variant)
        ax.set_xlabel("minutes of real training audio")
        ax.set_ylabel("test WER %")
        ax.set_title(f"{target}: synthetic pre-training")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _multilingual_lines(exp: Path, cfg: TransferConfig, curves: Mapping[str, Mapping[str, list[list[float]]]]
                        ) -> list[str]:
    info_path = exp / "multilingual" / "pooled" / "info.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    hours = ", ".join(f"{lang} {60 * h:.0f} min" for lang, h in info.get("train_hours", {}).items())
    sizes = [f"{m:g} min" for m in cfg.multi_minutes]
    lines = ["## Multilingual: one model of every language's synthetic speech", "",
             f"Hybrid system, one shared IPA phone set ({info.get('phones', '?')} phones) and frame classifier. "
             f"`hybrid-pooled`: synthetic speech of every language ({hours}); `hybrid-mono`: the target "
             "language's synthetic speech alone; `hybrid-scratch`: none. Each fine-tuned on the target speaker's "
             "real minutes (0: as it is, through the target's lexicon and LM). Real test WER % (CER %).", "",
             "| target | start | " + " | ".join(sizes) + " |", "|---|---|" + "---:|" * len(sizes)]
    for target, variants in curves.items():
        for v, pts in variants.items():
            by = {p[0]: p for p in pts}
            lines.append(f"| {target} | {v} | " + " | ".join(_cell(by[m][1], by[m][2]) if m in by else "-"
                                                            for m in cfg.multi_minutes) + " |")
    plot_multilingual(curves, exp / "multilingual.png")
    return lines + ["", "![multilingual pre-training](multilingual.png)", ""]


def _at(pts: list[list[float]], minutes: float, tol: float = 0.15) -> float | None:
    """The WER of the point nearest ``minutes`` (within ``tol`` relative), else ``None``."""
    near = [p for p in pts if abs(p[0] - minutes) <= tol * minutes]
    return min(near, key=lambda p: abs(p[0] - minutes))[1] if near else None


def _without_policy(variant: str) -> str:
    """``ctc-full-lm`` -> ``ctc-lm``: the from-scratch variant of the same system and decoder."""
    for policy in ("-full", "-head", "-top-k", "-l2sp"):
        variant = variant.replace(policy, "")
    return variant


def check_targets(results: Mapping[str, Any]) -> list[str]:
    """Markdown lines: each of the issue's targets, the best measured number, met or not."""
    fewshot, zeroshot = results.get("fewshot", {}), results.get("zeroshot", {})
    lines = []
    scratch = fewshot.get("scratch", {})
    best10 = [(w, s, v) for s, vs in fewshot.items() if s != "scratch" for v, pts in vs.items()
              if (w := _at(pts, 10)) is not None]
    best10 += [(r["open"]["wer"], f"{run}, large vocabulary", v) for run, vs in results.get("openvocab", {}).items()
               if run.startswith("fewshot/") and not run.startswith("fewshot/scratch") and run.endswith("-10min")
               for v, r in vs.items()]
    if best10:
        w, s, v = min(best10)
        base = _at(scratch.get(_without_policy(v), []), 10)
        ok = w <= TARGET_10MIN and (base is None or w <= base / 2)
        lines.append(f"- 10 minutes of real speech: best WER {_pct(w)} % ({s}: {v}); scratch same system "
                     f"{_pct(base)} %; target at most 15 % and at most half of scratch: **{'met' if ok else 'not met'}**")
    zs = [(e[REAL_TEST]["wer"], c, v) for c, vs in zeroshot.items() for v, e in vs.items() if REAL_TEST in e]
    zs += [(pts[0][1], "domain, 0 min", v) for v, pts in results.get("domain", {}).items() if pts and pts[0][0] == 0]
    if zs:
        w, c, v = min(zs)
        lines.append(f"- no real transcripts: best WER {_pct(w)} % ({c}: {v}); target below 50 %: "
                     f"**{'met' if w < TARGET_ZEROSHOT else 'not met'}**")
    for system in ("hybrid", "ctc"):
        three = [(w, s, v) for s, vs in fewshot.items() for v, pts in vs.items()
                 if v.split("-")[0] == system and (w := _at(pts, 3)) is not None]
        three += [(w, "domain", v) for v, pts in results.get("domain", {}).items()
                  if v.split("-")[0].split("+")[0] == system and (w := _at(pts, 3)) is not None]
        if three:
            w, s, v = min(three)
            lines.append(f"- 3 minutes of real speech, {system}: best WER {_pct(w)} % ({s}: {v}) against about 75 % "
                         f"for a classical general-English engine: **{'met' if w < REFERENCE_ENGINE else 'not met'}**")
    return lines


def write_transfer_report(exp: str | Path, lang: str, cfg: TransferConfig,
                          stage_times: Mapping[str, float] | None = None) -> str:
    """``exp/report.md`` (and ``exp/fewshot.png``, ``exp/transfer.json``); returns the text.

    ``stage_times``: each stage's wall seconds (:func:`asr.recipe.read_stage_times`), tabled with their sum.
    """
    from asr.compare import commands_markdown, environment, environment_markdown, read_commands, read_results, to_markdown

    exp = Path(exp)
    results = collect(exp, cfg)
    lines = [f"# Asterisk prompts ({lang}): synthetic voices to one real speaker", ""]
    data = exp / "data" / lang
    if (data / "summary.json").is_file():
        summary = json.loads((data / "summary.json").read_text())
        lines += ["## Corpus", "", "| split | prompts | minutes |", "|---|---:|---:|"]
        lines += [f"| {s} | {v['utts']} | {60 * v['hours']:.1f} |" for s, v in summary.items()]
        if (data / "report.json").is_file():
            left = json.loads((data / "report.json").read_text())["left_out"]
            lines += ["", "Left out: " + (", ".join(f"{k.replace('_', ' ')} {n}" for k, n in left.items() if n)
                                          or "nothing")]
        lines.append("")
    if (exp / "lang" / "lang.json").is_file():
        info = json.loads((exp / "lang" / "lang.json").read_text())
        lines += [f"Vocabulary: {info['lexicon_words']} words; domain LM of {info['lm_sentences']} training "
                  f"prompts; test words out of vocabulary: {info['test_oov']} of {info['test_words']} "
                  f"({_pct(info['test_oov_rate'])} %).", ""]
    if results["zeroshot"]:
        lines += ["## No real training audio (synthetic speech only)", "",
                  "Real test WER % (CER %) of models trained on synthetic speech alone.", "",
                  "| synthetic text | system | real |", "|---|---|---:|"]
        for cond, variants in results["zeroshot"].items():
            for v, per in variants.items():
                r = per.get(REAL_TEST, {})
                lines.append(f"| {cond} | {v} | {_cell(r.get('wer'), r.get('cer'))} |")
        lines.append("")
    if any(results["fewshot"].values()):
        sizes = [minutes_label(m) for m in cfg.minutes]
        lines += ["## Few-shot transfer to the real speaker", "",
                  "Real test WER % (CER %) against the real training audio each run had "
                  "(nested subsets; `all`: every training prompt).", "",
                  "| start | system | " + " | ".join(sizes) + " |", "|---|---|" + "---:|" * len(sizes)]
        for start, variants in results["fewshot"].items():
            paths = [exp / "fewshot" / f"{start}-{minutes_label(m)}" / "results.json" for m in cfg.minutes]
            runs = [json.loads(p.read_text()) if p.is_file() else {} for p in paths]  # one read per run
            for v in variants:
                entries = [run.get(v, {}).get(REAL_TEST) for run in runs]
                lines.append(f"| {start} | {v} | " + " | ".join(_cell(e["wer"], e["cer"]) if e else "-"
                                                              for e in entries) + " |")
        plot_fewshot(results["fewshot"], exp / "fewshot.png", f"few-shot transfer, {lang}")
        lines += ["", "![WER against minutes of real audio](fewshot.png)", ""]
    if results.get("band"):
        full = json.loads((exp / "fewshot" / "scratch-all" / "results.json").read_text()).get("hybrid", {}) \
            if (exp / "fewshot" / "scratch-all" / "results.json").is_file() else {}
        full = full.get(REAL_TEST, {})
        band = results["band"].get("hybrid", {})
        lines += ["## 8 or 16 kHz", "",
                  f"Hybrid system from scratch on all real training audio, upsampled to 16 kHz: full mel band "
                  f"{_cell(full.get('wer'), full.get('cer'))}; band cut at {cfg.band_high_freq:g} Hz (what an "
                  f"8 kHz model hears) {_cell(band.get('wer'), band.get('cer'))} (test WER % (CER %)).", ""]
    if results.get("domain"):
        sizes = [f"{m:g} min" for m in cfg.domain_minutes]
        lines += ["## Labeled synthetic, unlabeled real speech", "",
                  f"Hybrid system from `zeroshot/{cfg.domain_condition}`, continued on the same synthetic data "
                  "(`hybrid`) or with the real training audio, without transcripts, in a gradient-reversal "
                  "synthetic-vs-real classifier (`hybrid-dann`, weight "
                  f"{cfg.domain_adversarial_weight:g}); then fine-tuned on the labeled real minutes; `+adabn`: "
                  "batch-norm statistics and priors of the real training audio. Real test WER % (CER %).", "",
                  "| system | " + " | ".join(sizes) + " |", "|---|" + "---:|" * len(sizes)]
        for v, pts in results["domain"].items():
            by = {p[0]: p for p in pts}
            lines.append(f"| {v} | " + " | ".join(_cell(by[m][1], by[m][2]) if m in by else "-"
                                                  for m in cfg.domain_minutes) + " |")
        lines.append("")
    if results.get("openvocab"):
        lines += ["## Open vocabulary", ""]
        info_path = exp / "lang_open" / "vocabulary.json"
        if info_path.is_file():
            info = json.loads(info_path.read_text())
            lines += [f"Large vocabulary: {info['words']} words ({info['new_from_frequent']} frequent words beyond "
                      f"the domain text's {info['domain_words']}); test words out of it: {info['test_oov']} of "
                      f"{info['test_words']} ({_pct(info['test_oov_rate'])} %).", ""]
        lines += ["Real test WER % (CER %) of the same models with the domain lexicon + LM and with the large one.", "",
                  "| run | system | domain LM | large vocabulary |", "|---|---|---:|---:|"]
        for run, variants in results["openvocab"].items():
            for v, r in variants.items():
                lines.append(f"| {run} | {v} | {_cell(r['domain']['wer'], r['domain']['cer'])} | "
                             f"{_cell(r['open']['wer'], r['open']['cer'])} |")
        lines.append("")
    if results.get("multilingual"):
        lines += _multilingual_lines(exp, cfg, results["multilingual"])
    speakers = read_speaker_results(sorted((p.parent.name, p.parent) for p in exp.glob("speaker/*/results.json")))
    if speakers:
        plot_speaker_adaptation(speakers, exp / "speaker.png")
        lines += ["## Few-shot speaker adaptation (hybrid)", "",
                  f"The zero-shot model (`zeroshot/{Path(next(iter(speakers.values()))['base']).parts[-3]}`) adapted "
                  "to one speaker from N of its utterances; test WER % (CER %) on the speaker's held-out prompts, "
                  "domain LM. `full`: every weight; `head`: the output layer; `lhuc`: a scale per hidden unit. "
                  "Plot: `speaker.png`.", "", speaker_table(speakers)]
    sources = read_voice_sources(exp)
    if sources:
        plot_voices(sources, exp / "voices.png")
        lines += ["## Which synthetic voices carry over (no real audio)", "",
                  "The same text and hours of synthetic speech, from espeak-ng alone or from every installed engine, "
                  "with or without vocal tract length perturbation and telephone channels; real test WER % (CER %), "
                  "domain LM. Plot: `voices.png`.", "", voices_markdown(sources)]
    targets = check_targets(results)
    if targets:
        lines += ["## Targets", "", *targets, ""]
    runs = sorted(p.parent for p in exp.glob("*/*/results.json") if p.parent.parent.name not in ("openvocab", "domain", "speaker"))
    runs += [exp / "band"] if (exp / "band" / "results.json").is_file() else []
    if runs:
        lines += ["## Every run", "", to_markdown(read_results(runs)), ""]
    if stage_times:
        lines += ["## Time per stage", "", "| stage | minutes |", "|---|---:|"]
        lines += [f"| {stage} | {s / 60:.1f} |" for stage, s in stage_times.items()]
        lines += [f"| **all** | **{sum(stage_times.values()) / 60:.1f}** |", ""]
    commands = read_commands(exp)
    if commands:
        lines += ["## Commands", "", commands_markdown(commands)]
    lines += ["## Environment", "", environment_markdown(environment()), ""]
    text = "\n".join(lines).rstrip() + "\n"
    (exp / "report.md").write_text(text, encoding="utf-8")
    return text
