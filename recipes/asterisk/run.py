#!/usr/bin/env python3
"""Recipe for the Asterisk PBX prompts: one real speaker per language, and transfer from synthetic voices to it.

Usage:
    apt-get install asterisk-core-sounds-en-wav asterisk-core-sounds-en     # the corpus (CC-BY-SA 3.0)
    python recipes/asterisk/run.py --exp exp/asterisk                        # every stage, conf/default.yaml
    python recipes/asterisk/run.py --exp exp/asterisk --corpus /other/share  # <root>/asterisk/sounds, <root>/doc
    python recipes/asterisk/run.py --exp exp/asterisk --stage report         # only the tables again

Stages (``--stage`` / ``--stop-stage``):
    prepare   EXP/data/<lang>/{train,dev,test}.jsonl from the installed prompts, split by prompt
              (recipes/asterisk/splits/<lang>.tsv, published; no held-out text inside any training text);
              what was left out (non-speech entries, missing audio, ...) in EXP/data/<lang>/report.json
    synth     the synthetic corpora of both text conditions (generic sentences; the training prompts'
              text) -> EXP/synth/<condition> (asr.experiments.real_speech.make_synthetic)
    lang      EXP/lang/{lexicon.txt, lm.arpa}: every training word; the domain LM of the training prompts
    zeroshot  both systems on synthetic speech only, tested on the real test set -> EXP/zeroshot/<condition>
    fewshot   from scratch and fine-tuned from the synthetic models on 1, 3, 10 minutes and all of the
              real training audio -> EXP/fewshot/<start>-<N>min
    band      8 or 16 kHz: the hybrid system from scratch on all real audio, mel filterbank cut at 3.8 kHz
              (what a model of the 8 kHz audio hears) -> EXP/band, beside fewshot/scratch-all (full band)
    domain    labeled synthetic, unlabeled real speech (hybrid): continued training on the synthetic data with
              and without a gradient-reversal synthetic-vs-real classifier fed the real training audio, each
              at 0, 1, 3 minutes of labeled real audio, each with and without batch-norm statistics of the
              real audio (AdaBN) -> EXP/domain/<N>min
    openvocab a large vocabulary (wordfreq's frequent words, cmudict-checked, espeak-ng G2P; the domain LM
              ending in their frequencies) -> EXP/lang_open; the preset's open_runs decoded with it
              -> EXP/openvocab/<run>
    multilingual  (hybrid) one model of the synthetic speech of every language of transfer.multi_langs
              (a shared IPA phone set), against the target language's synthetic speech alone and against
              no synthetic speech, each fine-tuned on 0 and 3 minutes of the target's real speaker
              -> EXP/multilingual/<target>/<N>min (asr.experiments.real_speech_multilingual)
    speaker   (hybrid; presets with a ``speaker:`` block, e.g. ``--preset speaker``) few-shot speaker adaptation
              of the zero-shot model from 10, 30, 100 utterances (full, output layer, LHUC) to the real
              speaker and to held-out synthetic voices (each engine's test voice saying the same prompts)
              -> EXP/speaker/<name> (asr.experiments.speaker_adapt)
    voices    (presets with a ``voices:`` block, e.g. ``--preset voices``) the prompts' text spoken by espeak-ng
              alone or by every engine, each with and without VTLP + telephone channels (same hours), hybrid
              models on each tested on the real speaker -> EXP/voices/<source> (asr.experiments.real_speech_voices)
    report    EXP/report.md, EXP/fewshot.png: every table (asr.compare) and the curves

The audio stays where the packages put it (8 kHz); every reader resamples it to 16 kHz on load, so
the synthetic speech (16 kHz, partly through telephone codecs) and the real speech meet in one model.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from asr.config import from_dict
from asr.data.corpora import write_splits
from asr.data.manifest import read_manifest
from asr.data.corpora.asterisk import (
    DEFAULT_ROOT,
    apt_command,
    read_asterisk,
    read_split_file,
    split_prompts,
    write_split_file,
)
from asr.experiments.real_speech import (
    RealData,
    TransferConfig,
    make_lang,
    make_open_lang,
    make_synthetic,
    run_band,
    run_domain,
    run_fewshot,
    run_openvocab,
    run_zeroshot,
)
from asr.recipe import read_stage_times, run_recipe
from asr.systems import SystemsConfig

log = logging.getLogger("recipes.asterisk")
HERE = Path(__file__).resolve().parent
CORPUS_HELP = f"the root holding asterisk/sounds/<lang dir> and doc/asterisk-core-sounds-<lang> (default {DEFAULT_ROOT})"


@dataclass(frozen=True)
class RecipeConfig(SystemsConfig):
    """The values of a preset (``conf/<preset>.yaml``)."""

    lang: str = "en"
    dev_fraction: float = 0.1  # of the speaker's audio, held-out prompts only
    test_fraction: float = 0.2
    min_words: int = 3  # held-out prompts have at least this many words
    published_splits: bool = True  # use recipes/asterisk/splits/<lang>.tsv when it exists
    jobs: int = 0  # synthesis workers; 0 = all cores
    transfer: dict = field(default_factory=dict)  # asr.experiments.real_speech.TransferConfig fields
    speaker: dict = field(default_factory=dict)  # the speaker stage: SpeakerStage fields (empty: no such stage)
    voices: dict = field(default_factory=dict)  # the voices stage: VoicesStage fields (empty: no such stage)

    def transfer_config(self) -> TransferConfig:
        """The ``transfer:`` block, with the preset's ``systems`` and ``hybrid`` unless it sets its own."""
        return from_dict(TransferConfig, {"systems": list(self.systems), "hybrid": dict(self.hybrid), **self.transfer},
                         source="transfer")


def _real(exp: Path, cfg: RecipeConfig) -> RealData:
    real = RealData.at(exp / "data", cfg.lang)
    if not real.train.is_file():
        raise FileNotFoundError(f"{real.train}: no such file (run the prepare stage first)")
    return real


def _prepare_lang(cfg: RecipeConfig, exp: Path, lang: str, corpus: Path | None, force: bool) -> None:
    out = exp / "data" / lang
    if (out / "summary.json").is_file() and not force:
        log.info("prepare: %s exists, skipped (--force redoes it)", out / "summary.json")
        return
    root = corpus or DEFAULT_ROOT
    utts, report = read_asterisk(root, lang)
    if not utts:
        raise ValueError(f"{root}: no speech prompts for {lang!r} ({apt_command([lang])})")
    published = HERE / "splits" / f"{lang}.tsv"
    fixed = read_split_file(published) if cfg.published_splits and published.is_file() else None
    splits = split_prompts(utts, cfg.dev_fraction, cfg.test_fraction, cfg.min_words, published=fixed)
    summary = write_splits(out, splits)
    write_split_file(out / "split.tsv", splits, header=f"asterisk prompts, {lang}: <key>\\t<split>")
    (out / "report.json").write_text(json.dumps({"left_out": report.counts(), **vars(report)}, indent=1) + "\n")
    log.info("prepare %s: %s; left out: %s", lang, {s: v["utts"] for s, v in summary.items()}, report)


def prepare(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """``EXP/data/<lang>/{train,dev,test}.jsonl``, ``split.tsv`` (the split used) and ``report.json``, for
    ``lang`` and every language of the multilingual experiment (those not installed are skipped, named)."""
    _prepare_lang(cfg, exp, cfg.lang, corpus, force)
    for lang in dict.fromkeys(cfg.transfer_config().multi_langs):
        if lang != cfg.lang:
            try:
                _prepare_lang(cfg, exp, lang, corpus, force)
            except (OSError, ValueError) as e:
                log.warning("prepare: %s; the multilingual experiment goes on without %s", e, lang)


def synth(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """The synthetic corpus of every text condition (each resumes or skips what exists)."""
    real, tcfg = _real(exp, cfg), cfg.transfer_config()
    for condition in tcfg.conditions:
        make_synthetic(exp / "synth" / condition, real, tcfg, condition, jobs=cfg.jobs or None)


def lang(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """The lexicon and the domain LM."""
    tcfg = cfg.transfer_config()
    make_lang(exp / "lang", _real(exp, cfg), [exp / "synth" / c / "train.jsonl" for c in tcfg.conditions],
              tcfg.lm_order)


def zeroshot(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Both systems per synthetic condition, scored on the real test set."""
    real, tcfg = _real(exp, cfg), cfg.transfer_config()
    for condition in tcfg.conditions:
        run_zeroshot(exp, real, condition, exp / "synth" / condition / "train.jsonl", exp / "lang" / "lexicon.txt",
                     exp / "lang" / "lm.arpa", tcfg, cfg.ctc_settings(), force)


def fewshot(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Every starting point at every size of real training audio."""
    real, tcfg = _real(exp, cfg), cfg.transfer_config()
    for start in tcfg.starts:
        for minutes in tcfg.minutes:
            run_fewshot(exp, real, start, minutes, exp / "lang" / "lexicon.txt", exp / "lang" / "lm.arpa", tcfg,
                        cfg.ctc_settings(), force)


def band(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """8 or 16 kHz: the hybrid system on all real audio with the telephone band only."""
    if "hybrid" in cfg.systems:
        run_band(exp, _real(exp, cfg), exp / "lang" / "lexicon.txt", exp / "lang" / "lm.arpa", cfg.transfer_config(),
                 force)


def domain(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Unlabeled real audio: domain-adversarial training and per-domain batch-norm statistics (hybrid)."""
    if "hybrid" not in cfg.systems:
        log.info("domain: the experiment adapts the hybrid system, not in systems; skipped")
        return
    run_domain(exp, _real(exp, cfg), exp / "lang" / "lexicon.txt", exp / "lang" / "lm.arpa", cfg.transfer_config(),
               force)


def openvocab(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """The large vocabulary (EXP/lang_open), and the chosen runs decoded with it."""
    real, tcfg = _real(exp, cfg), cfg.transfer_config()
    synthetic = [exp / "synth" / c / "train.jsonl" for c in tcfg.conditions]
    lexicon, lm = make_open_lang(exp / "lang_open", real, synthetic, tcfg)
    for run in tcfg.open_runs:
        run_openvocab(exp, real, run, lexicon, lm, cfg.ctc_settings(), force)


def multilingual(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Experiment 4: one hybrid model of every language's synthetic speech, fine-tuned on each target speaker."""
    from asr.experiments.real_speech_multilingual import make_multilingual_data, run_multilingual

    tcfg = cfg.transfer_config()
    if not tcfg.multi_langs or "hybrid" not in cfg.systems:
        log.info("multilingual: no transfer.multi_langs or no hybrid system in the preset; skipped")
        return
    reals = {lang: RealData.at(exp / "data", lang) for lang in tcfg.multi_langs}
    missing = [lang for lang, r in reals.items() if not r.train.is_file()]
    if missing:
        log.warning("multilingual: no prepared data for %s (%s); going on without", missing, apt_command(missing))
    reals = {lang: r for lang, r in reals.items() if lang not in missing}
    if not any(t in reals for t in tcfg.multi_targets):
        log.warning("multilingual: none of the targets %s is prepared; skipped", list(tcfg.multi_targets))
        return
    data = make_multilingual_data(exp, reals, tcfg, jobs=cfg.jobs or None)
    run_multilingual(exp, reals, data, tcfg, force)


@dataclass(frozen=True)
class SpeakerStage:
    """The ``speaker:`` block: which model adapts to whom (the rest: SpeakerAdaptConfig fields)."""

    base: str = "prompts"  # the zero-shot condition whose hybrid model adapts
    real: bool = True  # adapt to the real speaker (pool: the training prompts; test: the test prompts)
    engines: tuple[str, ...] = ("mbrola",)  # each engine's test voice says the same prompts (installed ones)
    adapt: dict = field(default_factory=dict)  # asr.experiments.speaker_adapt.SpeakerAdaptConfig fields


def _heldout_voice(exp: Path, cfg: RecipeConfig, engine: str, seed: int):
    """The engine's first test speaker in the recipe's language, checked absent from every training set."""
    import dataclasses

    from asr.data.synth import make_speakers

    spk = make_speakers(cfg.lang, "test", 1, seed, (engine,))[0]
    for path in sorted((exp / "synth").glob(f"*/{cfg.lang}/speakers.jsonl")):
        for row in map(json.loads, path.read_text().splitlines()):
            if "-train-" in row["id"] and row.get("engine", "espeak") == engine and row["voice"] == spk.voice:
                raise ValueError(f"speaker: {engine} voice {spk.voice!r} is a training speaker in {path}")
    return dataclasses.replace(spk, id=f"{cfg.lang}-heldout-{engine}")


def speaker(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Few-shot speaker adaptation of the zero-shot hybrid model: the real speaker, held-out synthetic voices."""
    from asr.data.synth import render_voice
    from asr.experiments.speaker_adapt import SpeakerAdaptConfig, run_speaker_adaptation

    if not cfg.speaker or "hybrid" not in cfg.systems:
        log.info("speaker: no speaker block in the preset (try --preset speaker) or no hybrid system; skipped")
        return
    stage = from_dict(SpeakerStage, cfg.speaker, source="speaker")
    adapt = from_dict(SpeakerAdaptConfig, stage.adapt, source="speaker.adapt")
    real = _real(exp, cfg)
    base = exp / "zeroshot" / stage.base / "hybrid" / "model"
    if not (base / "config.json").is_file():
        raise FileNotFoundError(f"{base}: no model (run the zeroshot stage first)")
    lexicon, lm = exp / "lang" / "lexicon.txt", exp / "lang" / "lm.arpa"
    if stage.real:
        run_speaker_adaptation(exp / "speaker" / "real", base, real.train, real.test, lexicon, lm, adapt,
                               speaker=f"{cfg.lang} real speaker", force=force)
    texts = {"pool": [u.text for u in read_manifest(real.train)], "test": [u.text for u in read_manifest(real.test)]}
    for engine in stage.engines:
        try:
            spk = _heldout_voice(exp, cfg, engine, adapt.seed)
            manifests = render_voice(exp / "speaker" / engine / "audio", spk, texts, seed=adapt.seed,
                                     jobs=cfg.jobs or None)
        except ValueError as e:  # an engine or voice not installed
            log.warning("speaker: %s; going on without %s", e, engine)
            continue
        run_speaker_adaptation(exp / "speaker" / engine, base, manifests["pool"], manifests["test"], lexicon, lm,
                               adapt, speaker=f"{engine} {spk.voice} (held out)", force=force)


@dataclass(frozen=True)
class VoicesStage:
    """The ``voices:`` block: which synthetic speech to compare on the real speaker (same text and hours)."""

    sources: tuple[str, ...] = ("espeak", "espeak+aug", "engines", "engines+aug")  # any of real_speech_voices.VOICE_SOURCES
    condition: str = "prompts"  # the text of every source's corpus (a transfer condition)
    systems: tuple[str, ...] = ("hybrid",)  # trained on each source

    def __post_init__(self) -> None:
        from asr.experiments.real_speech_voices import VOICE_SOURCES

        bad = [s for s in self.sources if s not in VOICE_SOURCES]
        if bad:
            raise ValueError(f"voices.sources: unknown {bad}; known: {list(VOICE_SOURCES)}")


def voices(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """Synthetic speech from espeak-ng alone or every engine, with or without augmentation, tested on the real speaker."""
    from asr.experiments.real_speech_voices import run_voice_sources

    if not cfg.voices:
        log.info("voices: no voices block in the preset (try --preset voices); skipped")
        return
    stage = from_dict(VoicesStage, cfg.voices, source="voices")
    run_voice_sources(exp, _real(exp, cfg), stage.sources, exp / "lang" / "lexicon.txt", exp / "lang" / "lm.arpa",
                      cfg.transfer_config(), cfg.ctc_settings(), stage.condition, stage.systems,
                      jobs=cfg.jobs or None, force=force)


def report(cfg: RecipeConfig, exp: Path, corpus: Path | None = None, force: bool = False) -> None:
    """``EXP/report.md`` and the plots; printed."""
    from asr.experiments.real_speech_report import write_transfer_report

    print(write_transfer_report(exp, cfg.lang, cfg.transfer_config(), read_stage_times(exp)))


STAGE_FUNCS = {"prepare": prepare, "synth": synth, "lang": lang, "zeroshot": zeroshot, "fewshot": fewshot,
               "band": band, "domain": domain, "openvocab": openvocab, "multilingual": multilingual,
               "speaker": speaker, "voices": voices, "report": report}


def main(argv: list[str] | None = None) -> int:
    """Run the stages from ``--stage`` to ``--stop-stage``; returns the exit code."""
    return run_recipe(argv, __doc__, HERE / "conf", RecipeConfig, STAGE_FUNCS, corpus_help=CORPUS_HELP)


if __name__ == "__main__":
    sys.exit(main())
