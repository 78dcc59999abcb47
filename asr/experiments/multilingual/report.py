"""The experiments' report: markdown tables (``OUT/report.md``) and PNG plots, from the results.

Usage::

    write_report(json.loads(Path("exp/ml/multilingual/results.json").read_text()), "exp/ml/multilingual")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asr.experiments.multilingual.config import APPROACHES, minutes_label

__all__ = ["write_report"]


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
    lines += _meta_lines(cells, sizes, target, out)
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


META_TARGET_SIZES = (10.0, 30.0)  # the sizes for "5 % relative below multilingual pre-training"


def _meta_lines(cells: Mapping[str, Any], sizes: Sequence[float], target: str, out: Path) -> list[str]:
    """The meta-learning table, its targets and ``meta_steps.png`` (dev WER against fine-tuning updates)."""
    base = _approach_cells(cells, "finetune/full")
    methods = [m for m in ("reptile", "fomaml") if _approach_cells(cells, f"meta/{m}")]
    if not methods:
        return []
    lines = [f"## Meta-learning: initializations for {target}, the same source data and pre-training compute", "",
             "Test WER (CER) %, lexicon + LM, after full fine-tuning; change against the multilingual "
             "pre-training (`finetune/full`); updates: fine-tuning updates until the dev WER (greedy) first "
             "reaches the pre-trained model's final dev WER, against that run's updates.", "",
             "| init | " + " | ".join(minutes_label(m) for m in sizes) + " |", "|---|" + "---|" * len(sizes)]
    lines.append("| multilingual pre-training | " + " | ".join(_wc(base.get(m, {}).get("lm")) for m in sizes) + " |")
    checks = []
    for method in methods:
        by = _approach_cells(cells, f"meta/{method}")
        row = []
        for m in sizes:
            c, b = by.get(m), base.get(m)
            if not c:
                row.append("-")
                continue
            reach = c.get("steps_to_baseline_final")
            steps = f"{reach if reach is not None else 'never'} / {c['baseline']['steps']} updates"
            row.append(f"{_wc(c['lm'])}, {_rel(c['lm']['wer'], b['lm']['wer'] if b else None)}, {steps}")
            if m in META_TARGET_SIZES and b:
                rel = (c["lm"]["wer"] - b["lm"]["wer"]) / b["lm"]["wer"] if b["lm"]["wer"] else 0.0
                checks.append(f"- {method}, {minutes_label(m)}: WER {_rel(c['lm']['wer'], b['lm']['wer'])} against "
                              f"pre-training (target at most -5 %): **{'met' if rel <= -0.05 else 'not met'}**")
            if m == max(sizes) or m in META_TARGET_SIZES:
                ratio = c.get("steps_ratio")
                checks.append(f"- {method}, {minutes_label(m)}: reaches the pre-trained model's final dev WER after "
                              f"{steps} (target at most half): "
                              f"**{'met' if ratio is not None and ratio <= 0.5 else 'not met'}**")
        lines.append(f"| {method} | " + " | ".join(row) + " |")
    _plot_meta_steps(cells, methods, sizes, target, out / "meta_steps.png")
    return lines + ["", "![dev WER against fine-tuning updates](meta_steps.png)", "", "Targets:", "",
                    *dict.fromkeys(checks), ""]


def _plot_meta_steps(cells: Mapping[str, Any], methods: Sequence[str], sizes: Sequence[float], target: str,
                     path: Path) -> None:
    """Dev WER (greedy) against fine-tuning updates, one panel per size, one line per initialization."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sizes), figsize=(3.6 * len(sizes), 3.4), squeeze=False)
    for ax, m in zip(axes[0], sizes):
        drawn = False
        for method in methods:
            c = _approach_cells(cells, f"meta/{method}").get(m)
            if not c:
                continue
            if not drawn:
                pts = c["baseline"]["dev_curve"]
                ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o", label="pre-training")
                drawn = True
            ax.plot([p[0] for p in c["dev_curve"]], [100 * p[1] for p in c["dev_curve"]], marker="o", label=method)
        ax.set_title(f"{target} {minutes_label(m)}")
        ax.set_xlabel("fine-tuning updates")
        ax.set_ylabel("dev WER % (greedy)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


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
