"""Spoken language ID: a multilingual CTC model with a language-ID head, measured with ``language="auto"``.

:func:`run_language_id` trains one shared-encoder model over every language of a corpus (a
character head per language and the utterance-level language-ID head, :mod:`asr.train.multilingual`),
saves each language's lexicon + LM search in its directory (:func:`asr.decoding.loaders.save_ctc_decoding`),
then transcribes every test set twice through :func:`asr.load`: with ``language="auto"`` (the
head picks the language, its head and its LM) and with the true language (the oracle). Reported:
LID accuracy per test set and its confusion matrix, and WER auto against oracle.

Writes ``OUT/results.json``, ``OUT/lid.md`` (tables) and ``OUT/lid.png`` (the confusion matrix);
the model is ``OUT/train/model``.

Usage::

    cfg = LidConfig(train={"epochs": 20})
    results = run_language_id(Path("exp/lid"), {"en": LidData(train, dev, {"en": test}), ...},
                              lms={"en": "exp/lm/en.arpa", ...}, cfg=cfg)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr.config import from_dict
from asr.data.manifest import read_manifest

log = logging.getLogger(__name__)

__all__ = ["LidConfig", "LidData", "run_language_id", "lid_table", "accuracy_by_kind", "plot_confusion"]

RESULTS = "results.json"


@dataclass(frozen=True)
class LidConfig:
    """Values of a preset's ``lid:`` block.

    Attributes:
        preset: the shared encoder's size (:data:`asr.models.ctc.PRESETS`).
        model: :class:`~asr.models.ctc.ModelConfig` overrides.
        train: :class:`~asr.train.config.TrainConfig` fields.
        lid_weight: weight of the language-ID loss beside CTC's (1.0).
        beam, lm_weight, word_score: each language's saved lexicon + LM search.
        real_root, real_utts: where a recipe finds real recordings to test on as well (the synth
            recipe: the Asterisk prompts under this root, at most ``real_utts`` per language).
    """

    preset: str = "tiny"
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    lid_weight: float = 0.3
    beam: int = 16
    lm_weight: float = 1.0
    word_score: float = 0.0
    real_root: str = ""
    real_utts: int = 60


@dataclass(frozen=True)
class LidData:
    """One language's manifests: ``train``, ``dev`` and named ``tests`` (name -> manifest)."""

    train: Path
    dev: Path
    tests: Mapping[str, Path]


def _train(out: Path, data: Mapping[str, LidData], cfg: LidConfig) -> Path:
    from asr.models.ctc import ModelConfig
    from asr.models.multilingual import MultilingualConfig
    from asr.text.normalize import normalize
    from asr.text.tokenizer import CharTokenizer, load_tokenizer
    from asr.train.config import TrainConfig
    from asr.train.multilingual import train_multilingual

    tokenizers = {}
    for lang, d in data.items():  # built once, then read back: the same symbols on every restart
        tok_dir = out / "tokenizers" / lang
        if not (tok_dir / "tokenizer.json").exists():
            CharTokenizer.build([normalize(u.text, lang) for u in read_manifest(d.train)]).save(tok_dir)
        tokenizers[lang] = load_tokenizer(tok_dir)
    langs = tuple(data)
    base = ModelConfig.from_dict({**ModelConfig.preset(cfg.preset).to_dict(), **cfg.model}, source="lid.model")
    model_cfg = MultilingualConfig(base=base, languages=langs,
                                   vocab_sizes=tuple(tokenizers[lang].vocab_size for lang in langs), lang_id=True)
    train_cfg = from_dict(TrainConfig, {"progress": False, **cfg.train}, source="lid.train")
    summary = train_multilingual({lang: d.train for lang, d in data.items()},
                                 {lang: d.dev for lang, d in data.items()}, out / "train", model_cfg, train_cfg,
                                 tokenizers, task_weights={"ctc": 1.0, "lid": cfg.lid_weight})
    return Path(summary["model_dir"])


def _decode(model_dir: Path, tests: Mapping[str, tuple[str, Path]], language: str | None) -> dict[str, dict]:
    """Each test set through :func:`asr.load` (``language`` ``None``: the set's own): hypotheses and languages."""
    import asr

    out: dict[str, dict] = {}
    recs: dict[str, Any] = {}
    for name, (lang, manifest) in tests.items():
        key = language or lang
        if key not in recs:
            recs[key] = asr.load(model_dir, language=key)
        rows = {}
        for u in read_manifest(manifest):
            t = recs[key].transcribe(u.audio)
            rows[u.id] = {"text": t.text, "language": t.language or key}
        out[name] = rows
    return out


def _score(manifest: Path, lang: str, hyps: Mapping[str, dict]) -> dict[str, Any]:
    from asr.metrics import score
    from asr.text.normalize import normalize

    utts = read_manifest(manifest)
    refs = {u.id: normalize(u.text, u.lang or lang) for u in utts}
    report = score(refs, {i: h["text"] for i, h in hyps.items()})
    return {"wer": round(100 * report.wer, 2), "utts": len(utts)}


def run_language_id(out: str | os.PathLike, data: Mapping[str, LidData], lms: Mapping[str, str | os.PathLike],
                    cfg: LidConfig, force: bool = False) -> dict[str, Any]:
    """Train the model (a finished run is kept, a killed one resumes), save each language's search,
    decode every test set with ``language="auto"`` and with the true language; returns the results.

    Args:
        out: the experiment's directory.
        data: language -> its manifests; every ``tests`` entry is spoken in that language.
        lms: language -> word n-gram LM (ARPA) of its lexicon + LM search.
        force: decode and score again even when ``results.json`` exists.
    """
    from asr.decoding.loaders import save_ctc_decoding

    out = Path(out)
    path = out / RESULTS
    if path.is_file() and not force:
        return json.loads(path.read_text())
    model_dir = _train(out, data, cfg)
    for lang in data:
        if lang in lms:
            save_ctc_decoding(model_dir, lang, lms[lang], cfg.beam, cfg.lm_weight, cfg.word_score)
    tests = {name: (lang, m) for lang, d in data.items() for name, m in d.tests.items()}
    auto = _decode(model_dir, tests, "auto")
    oracle = _decode(model_dir, tests, None)
    langs = list(data)
    rows = []
    for name, (lang, manifest) in tests.items():
        chosen = [h["language"] for h in auto[name].values()]
        rows.append({"test": name, "lang": lang, "utts": len(chosen),
                     "accuracy": round(100 * sum(c == lang for c in chosen) / max(len(chosen), 1), 2),
                     "confusion": {x: sum(c == x for c in chosen) for x in langs},
                     "wer_auto": _score(manifest, lang, auto[name])["wer"],
                     "wer_oracle": _score(manifest, lang, oracle[name])["wer"]})
    n = sum(r["utts"] for r in rows)
    results = {"model_dir": str(model_dir), "languages": langs, "rows": rows,
               "accuracy": round(sum(r["accuracy"] * r["utts"] for r in rows) / max(n, 1), 2),
               "train": json.loads((model_dir.parent / "train_summary.json").read_text()).get("wall_s")}
    path.write_text(json.dumps(results, indent=2) + "\n")
    (out / "lid.md").write_text(lid_table(results) + "\n")
    plot_confusion(results, out / "lid.png")
    return results


def lid_table(results: Mapping[str, Any]) -> str:
    """Markdown: per test set the LID accuracy, WER with ``language="auto"`` and with the true language,
    then the confusion matrix (rows: the true language, columns: the one chosen)."""
    langs = results["languages"]
    lines = ["| test set | utts | LID accuracy (%) | WER auto (%) | WER oracle language (%) |", "|---|---|---|---|---|"]
    for r in results["rows"]:
        lines.append(f"| {r['test']} | {r['utts']} | {r['accuracy']:.1f} | {r['wer_auto']:.1f} | {r['wer_oracle']:.1f} |")
    for kind, (n, acc) in accuracy_by_kind(results).items():
        lines.append(f"| all {kind} | {n} | {acc:.1f} | | |")
    lines += ["", "| true \\ chosen | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for r in results["rows"]:
        lines.append(f"| {r['test']} | " + " | ".join(str(r["confusion"].get(x, 0)) for x in langs) + " |")
    return "\n".join(lines)


def accuracy_by_kind(results: Mapping[str, Any]) -> dict[str, tuple[int, float]]:
    """Pooled LID accuracy per kind of test set: ``{kind: (utts, accuracy %)}``; a test set named after its
    language is ``"synthetic"``, ``"<lang>-<kind>"`` is ``kind`` (e.g. ``"asterisk"``: real recordings)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in results["rows"]:
        kind = r["test"].partition("-")[2] if r["test"] != r["lang"] else "synthetic"
        groups.setdefault(kind or "synthetic", []).append(r)
    return {kind: (sum(r["utts"] for r in rows),
                   round(sum(r["accuracy"] * r["utts"] for r in rows) / max(sum(r["utts"] for r in rows), 1), 2))
            for kind, rows in groups.items()}


def plot_confusion(results: Mapping[str, Any], path: str | os.PathLike) -> None:
    """The confusion matrix as a PNG: share of each test set's utterances given to each language."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    langs = results["languages"]
    rows = results["rows"]
    m = np.array([[r["confusion"].get(x, 0) / max(r["utts"], 1) for x in langs] for r in rows])
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(langs), 1.0 + 0.5 * len(rows)))
    ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(rows)), [r["test"] for r in rows])
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{100 * m[i, j]:.0f}", ha="center", va="center", color="white" if m[i, j] > 0.5 else "black",
                    fontsize=8)
    ax.set_xlabel("language chosen")
    ax.set_ylabel("test set")
    kinds = ", ".join(f"{kind} {acc:.0f} %" for kind, (_, acc) in accuracy_by_kind(results).items())
    ax.set_title(f"language ID right: {kinds}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
