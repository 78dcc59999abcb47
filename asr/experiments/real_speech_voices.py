"""Which synthetic voices carry over to a real speaker: the Asterisk recipe's ``voices`` stage.

The same text (a zero-shot condition of :mod:`asr.experiments.real_speech`, by default the real
training prompts' text), the same hours, speakers per engine and training, with the synthetic speech
made four ways, crossed, and a fifth:

* ``espeak``        espeak-ng voices only, no augmentation (what every default model had heard);
* ``espeak+aug``    espeak-ng, with vocal tract length perturbation and telephone channels;
* ``engines``       every installed engine (MBROLA, SVOX Pico, festival besides espeak-ng), no augmentation;
* ``engines+aug``   every engine with the augmentation (the zero-shot corpus of the recipe);
* ``engines+aug+rooms+babble``  and besides, image-method rooms instead of decaying noise for the
  reverberated share, and babble (other talkers of the corpus) on :data:`BABBLE_PROB` of the utterances.

Additive noise (``noise_prob``) is kept in all of them: it predates the voices work. Each source's
models (``systems``, by default the hybrid one: the tiny CTC model does not learn at this budget) are
trained on synthetic speech only and tested on the real speaker's test prompts with the domain LM,
so the table isolates what voices and channels buy on a human voice.

Layout::

    EXP/synth/<condition>-<source>/   the synthetic corpus of a source (``engines+aug`` reuses EXP/synth/<condition>)
    EXP/voices/<source>/results.json  its run (asr.systems), scored on the real test set

Usage (the recipe's stage)::

    run_voice_sources(exp, real, ("espeak", "engines+aug"), lexicon, lm, transfer_cfg, ctc_settings)
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asr.data.manifest import read_manifest, total_duration
from asr.experiments.real_speech import REAL_TEST, RealData, TransferConfig, make_synthetic, zeroshot_experiment
from asr.systems import CTCSettings

__all__ = ["VOICE_SOURCES", "source_config", "source_synth", "run_voice_sources", "read_voice_sources",
           "voices_markdown", "plot_voices"]

log = logging.getLogger(__name__)

VOICE_SOURCES = ("espeak", "espeak+aug", "engines", "engines+aug", "engines+aug+rooms+babble")
BABBLE_PROB = 0.3  # the share of utterances with babble in the last source
SOURCE_JSON = "source.json"  # beside a run's results.json: how its corpus was made


def source_config(cfg: TransferConfig, source: str) -> TransferConfig:
    """``cfg`` with the engines and augmentation of one source (see the module docstring; rooms and
    babble are :func:`source_synth`'s).

    Raises:
        ValueError: an unknown source.
    """
    if source not in VOICE_SOURCES:
        raise ValueError(f"voices source {source!r}: not one of {list(VOICE_SOURCES)}")
    engines = ("espeak",) if source.startswith("espeak") else cfg.engines
    aug = "+aug" in source
    return dataclasses.replace(cfg, engines=engines, vtlp_prob=cfg.vtlp_prob if aug else 0.0,
                               telephone_prob=cfg.telephone_prob if aug else 0.0)


def source_synth(source: str) -> dict[str, Any]:
    """The :class:`~asr.data.synth.SynthConfig` fields one source sets beyond :class:`TransferConfig`'s."""
    return {"room_model": "image", "babble_prob": BABBLE_PROB} if source.endswith("+rooms+babble") else {}


def _corpus_dir(exp: Path, condition: str, source: str) -> Path:
    """``engines+aug`` is the zero-shot condition's own corpus (same engines, channels and seed)."""
    return exp / "synth" / (condition if source == "engines+aug" else f"{condition}-{source}")


def run_voice_sources(exp: Path, real: RealData, sources: Sequence[str], lexicon: Path, lm: Path,
                      cfg: TransferConfig, ctc: CTCSettings, condition: str = "prompts",
                      systems: Sequence[str] = ("hybrid",), jobs: int | None = None,
                      force: bool = False) -> dict[str, dict[str, Any]]:
    """Make each source's synthetic corpus, train ``systems`` on it, score them on the real test set.

    Returns:
        ``{source: results.json}`` (variant -> ``real`` -> scores), also in ``EXP/voices/<source>/``.
    """
    out = {}
    for source in sources:
        scfg = dataclasses.replace(source_config(cfg, source), systems=tuple(systems))
        corpus, extra = _corpus_dir(exp, condition, source), source_synth(source)
        train = make_synthetic(corpus, real, scfg, condition, jobs=jobs, **extra)
        log.info("voices %s: engines %s, vtlp %.2f, telephone %.2f", source, list(scfg.engines), scfg.vtlp_prob,
                 scfg.telephone_prob)
        run = exp / "voices" / source
        out[source] = zeroshot_experiment(run, corpus / real.lang, real, train, lexicon, lm, scfg, ctc, force)
        (run / SOURCE_JSON).write_text(json.dumps({
            "engines": list(scfg.engines), "vtlp_prob": scfg.vtlp_prob, "telephone_prob": scfg.telephone_prob,
            "noise_prob": scfg.noise_prob, **extra, "corpus": str(corpus),
            "train_hours": round(total_duration(read_manifest(train)) / 3600, 4)}, indent=1) + "\n")
    return out


def read_voice_sources(exp: Path) -> dict[str, dict[str, Any]]:
    """``{source: results.json}`` of the sources run under ``EXP/voices``, in :data:`VOICE_SOURCES` order;
    each also under ``"source"``: how its corpus was made (engines, augmentation, training hours)."""
    out = {}
    for source in VOICE_SOURCES:
        run = exp / "voices" / source
        if (run / "results.json").is_file():
            out[source] = json.loads((run / "results.json").read_text())
            if (run / SOURCE_JSON).is_file():
                out[source]["source"] = json.loads((run / SOURCE_JSON).read_text())
    return out


# voices_markdown's rows: label, (clean source, augmented source)
TABLE_ROWS = (("espeak-ng alone", ("espeak", "espeak+aug")), ("every engine", ("engines", "engines+aug")),
              ("every engine, image-method rooms and babble too", ("", "engines+aug+rooms+babble")))


def _cell(r: dict[str, Any] | None) -> str:
    return "-" if not r else f"{100 * r['wer']:.1f} ({100 * r['cer']:.1f})"


def voices_markdown(results: dict[str, dict[str, Any]]) -> str:
    """The sources crossed as a table, one per system variant: engines (rows) x augmentation (columns)."""
    variants = list(dict.fromkeys(v for res in results.values() for v in res if v != "source"))
    lines = []
    for v in variants:
        lines += [f"| {v}: synthetic speech from | clean | + VTLP and telephone channels |", "|---|---:|---:|"]
        for label, pair in TABLE_ROWS:
            if any(s in results for s in pair if s):
                cells = [_cell(results.get(s, {}).get(v, {}).get(REAL_TEST)) if s else "-" for s in pair]
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    made = {s: r["source"] for s, r in results.items() if "source" in r}
    if made:
        lines += ["Synthetic training audio: " + "; ".join(
            f"`{s}` {m['train_hours']:.2f} h ({', '.join(m['engines'])})" for s, m in made.items()) + ".", ""]
    return "\n".join(lines)


def plot_voices(results: dict[str, dict[str, Any]], path: Path, variant: str = "hybrid") -> None:
    """Bars of real test WER per source (``variant``'s models) -> ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s for s in results if REAL_TEST in results[s].get(variant, {})]
    wers = [100 * results[s][variant][REAL_TEST]["wer"] for s in names]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    bars = ax.bar(names, wers, color=["#9ab" if "+aug" not in s else "#357" for s in names])
    ax.bar_label(bars, fmt="%.1f")
    ax.set_ylabel("real test WER %")
    ax.set_title(f"synthetic speech only, {variant}: the real speaker")
    ax.set_ylim(0, max(wers + [1]) * 1.2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
