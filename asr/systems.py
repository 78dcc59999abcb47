"""Both systems as functions of manifests: train, decode, score and report, as every recipe runs them.

One system, one model:

* :func:`train_hybrid_system`: train manifest, dev manifest, lexicon, model directory, HybridConfig fields;
* :func:`train_ctc_system`: train manifests, dev manifest, training directory, :class:`CTCSettings`;
* :func:`decode_hybrid_system`, :func:`decode_ctc_system`: one test manifest ->
  ``{variant: (hypotheses file, decoding stats)}``, variants ``hybrid``, ``ctc-greedy`` and
  ``ctc-lm`` (lexicon + word n-gram);
* :func:`score_hypotheses`, :func:`model_params`, :func:`record_train_time`: the bookkeeping
  behind ``results.json``.

One experiment (a recipe's ``train``, ``decode``, ``score`` and ``report`` stages): an
:class:`Experiment` lists one :class:`LangData` per language; the hybrid system trains one model
per language (its own phones, lexicon and LM), the CTC system one model over all of them::

    EXP/hybrid/<name>/model             one hybrid model directory per language (name "": EXP/hybrid/model)
    EXP/hybrid/hyp/<test set>.jsonl
    EXP/ctc/model                       the CTC model directory (checkpoints, metrics beside it in EXP/ctc)
    EXP/ctc/hyp/<variant>/<test set>.jsonl
    EXP/train_times.json                {system: training seconds}
    EXP/decode.json                     {variant: {test set: {"hyp", "rtf"}}}
    EXP/results.json                    {variant: {test set: {"wer", "cer", "words", "chars", ..., "rtf", "params", "train_s"}}}
    EXP/report.md, results.{png,csv}    (:func:`write_report`) corpus table, asr.compare's table and chart

``asr compare EXP`` reads ``results.json``. For a corpus that comes without them,
:func:`prepare_lang` makes the pronunciation lexicon (a dictionary the user gives,
read by :func:`read_pronunciations`, else espeak-ng G2P of the training words) and
the word LM (an ARPA the user gives, else a Kneser-Ney trigram of the training transcripts).

Usage::

    lexicon, lm = prepare_lang(exp / "lang", exp / "data" / "train.jsonl", "en")
    xp = Experiment(exp, (LangData("", "en", train, dev, {"test": test}, lexicon, hybrid_lm=lm, ctc_lm=lm),),
                    hybrid={"epochs": 4}, ctc=CTCSettings(preset="small"))
    train_systems(xp); decode_systems(xp); score_systems(xp); write_report(exp, "an4")
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asr.config import from_dict
from asr.data.manifest import read_manifest, write_manifest
from asr.text.lexicon import Lexicon
from asr.text.normalize import normalize

__all__ = [
    "CTCSettings",
    "SystemsConfig",
    "LangData",
    "Experiment",
    "SYSTEMS",
    "train_hybrid_system",
    "train_ctc_system",
    "decode_hybrid_system",
    "decode_ctc_system",
    "subset_manifest",
    "score_hypotheses",
    "model_params",
    "record_train_time",
    "read_train_times",
    "read_pronunciations",
    "prepare_lang",
    "train_systems",
    "decode_systems",
    "score_systems",
    "write_report",
]

log = logging.getLogger(__name__)

TRAIN_TIMES = "train_times.json"
DECODE_JSON = "decode.json"
RESULTS_JSON = "results.json"
MIN_TIMED_S = 5.0  # a re-run that skips training (under this) keeps the first run's training time


@dataclass(frozen=True)
class CTCSettings:
    """The ``ctc:`` block of a preset: one CTC model for all languages of an experiment."""

    preset: str = "tiny"  # ModelConfig preset: tiny, small, medium
    units: str = "char"  # char, bpe, unigram, phone (phone: the experiment's ctc_lexicon gives the phones)
    vocab_size: int = 500  # sentencepiece units only
    word_boundary: str = "|"  # phone units: token between words ("" = none, e.g. phone recognition)
    model: dict = field(default_factory=dict)  # ModelConfig fields to override
    train: dict = field(default_factory=dict)  # TrainConfig fields
    beam: int = 16  # beam of the lexicon + LM decoder
    lm_weight: float = 1.0
    word_score: float = 0.0
    decode_device: str = "cpu"  # cpu, cuda, auto (cuda when available)


@dataclass(frozen=True)
class SystemsConfig:
    """Preset keys every corpus recipe shares (its ``RecipeConfig`` adds the corpus's own).

    Attributes:
        systems: ``hybrid`` and / or ``ctc``.
        lexicon: a pronunciation dictionary (Kaldi, CMUdict, Sphinx ``.dic``, LibriSpeech
            or TIMIT form, see :func:`read_pronunciations`); ``""``: espeak-ng G2P of the training words.
        keep_stress: keep the stress digits of a dictionary's phones (``AH0``); off: ``AH``.
        lm: an ARPA word LM both systems decode with; ``""``: an n-gram of the training transcripts.
        lm_order: order of that n-gram.
        hybrid: :class:`asr.models.hybrid.HybridConfig` fields.
        hybrid_max_utts: train the hybrid system on this many training utterances, drawn at
            random (0: all); its GMM stage runs on the CPU, so large corpora need a cap
            (Kaldi, too, starts its monophones on a subset).
        ctc: :class:`CTCSettings` fields.

    In ``lexicon`` and ``lm``, ``{lang}`` stands for the language code (several languages).
    """

    systems: tuple[str, ...] = ("hybrid", "ctc")
    lexicon: str = ""
    keep_stress: bool = False
    lm: str = ""
    lm_order: int = 3
    hybrid: dict = field(default_factory=dict)
    hybrid_max_utts: int = 0
    ctc: dict = field(default_factory=dict)

    def ctc_settings(self) -> CTCSettings:
        """The ``ctc:`` block as :class:`CTCSettings` (unknown keys are errors)."""
        return from_dict(CTCSettings, self.ctc, source="ctc")

    def lexicon_for(self, lang: str) -> Path | None:
        """The user's pronunciation dictionary for ``lang`` (``None``: espeak-ng G2P)."""
        return Path(self.lexicon.replace("{lang}", lang)) if self.lexicon else None

    def lm_for(self, lang: str) -> Path | None:
        """The user's ARPA word LM for ``lang`` (``None``: train one)."""
        return Path(self.lm.replace("{lang}", lang)) if self.lm else None


# ---------------------------------------------------------------------------
# One system, one model
# ---------------------------------------------------------------------------


def _hybrid_config(hybrid: Mapping[str, Any] | Any) -> Any:
    from asr.models.hybrid import HybridConfig

    return hybrid if isinstance(hybrid, HybridConfig) else from_dict(HybridConfig, dict(hybrid or {}), source="hybrid")


def train_hybrid_system(train: str | os.PathLike, dev: str | os.PathLike | None, lexicon: str | os.PathLike,
                        out: str | os.PathLike, hybrid: Mapping[str, Any] | None = None, force: bool = False) -> Path:
    """Train one hybrid model (:func:`asr.models.hybrid.train_hybrid`) unless ``out/config.json`` exists.

    Args:
        train, dev: manifests (dev: WER and LM perplexity in ``train_log.json``; may be ``None``).
        lexicon: ``lexicon.txt``; training words it lacks get espeak-ng pronunciations.
        out: the model directory.
        hybrid: :class:`~asr.models.hybrid.HybridConfig` fields (or a HybridConfig).
        force: train again over an existing model.

    Returns:
        ``out``.
    """
    from asr.models.hybrid import train_hybrid

    cfg = _hybrid_config(hybrid)
    out = Path(out)
    if (out / "config.json").exists() and not force:
        log.info("hybrid: trained already (%s)", out)
        return out
    train_hybrid(train, dev, lexicon, out, cfg)
    return out


def train_ctc_system(train: Sequence[str | os.PathLike], dev: str | os.PathLike, out: str | os.PathLike,
                     settings: CTCSettings, force: bool = False, lexicon: str | os.PathLike | None = None) -> Path:
    """Train one CTC model (:func:`asr.train.loop.train_ctc`); a finished run is skipped, a killed one resumes.

    Args:
        train: training manifests (concatenated).
        dev: validation manifest.
        out: the training directory (tokenizer, checkpoints, metrics; the model in ``out/model``).
        settings: model preset and overrides, units, training options.
        force: train again after a finished run (its checkpoints are resumed from, if any).
        lexicon: ``phone`` units: the lexicon whose phones are the output units.

    Returns:
        The model directory ``out/model``.
    """
    from asr.models.ctc import ModelConfig
    from asr.train.config import TrainConfig
    from asr.train.loop import init_tokenizer, train_ctc

    out = Path(out)
    if force and (out / "train_summary.json").exists():
        (out / "train_summary.json").unlink()
    model_cfg = ModelConfig.from_dict({**ModelConfig.preset(settings.preset).to_dict(), **settings.model},
                                      source="ctc.model")
    train_cfg = from_dict(TrainConfig, settings.train, source="ctc.train")
    train = [Path(t) for t in train]
    if settings.units == "phone" and settings.word_boundary != "|":
        tokenizer = _phone_tokenizer(out, lexicon, settings.word_boundary or None)
    else:
        tokenizer = init_tokenizer(out, settings.units, train, settings.vocab_size, lexicon=lexicon)
    train_ctc(train, dev, out, model_cfg, train_cfg, tokenizer)
    return out / "model"


def _phone_tokenizer(out: Path, lexicon: str | os.PathLike | None, boundary: str | None) -> Any:
    """Phone units with another word boundary than ``init_tokenizer``'s ``|`` (or none), kept in ``out/tokenizer``."""
    from asr.text.tokenizer import PhoneTokenizer, load_tokenizer

    directory = out / "tokenizer"
    if (directory / "tokenizer.json").is_file():
        return load_tokenizer(directory)
    if lexicon is None:
        raise ValueError("ctc: phone units need a lexicon (the experiment's ctc_lexicon)")
    tokenizer = PhoneTokenizer.from_lexicon(Lexicon.from_file(lexicon), word_boundary=boundary)
    tokenizer.save(directory)
    return tokenizer


def decode_hybrid_system(model_dir: str | os.PathLike, test: str | os.PathLike, hyp: str | os.PathLike,
                         lm: str | os.PathLike | None = None, **overrides: Any) -> dict[str, tuple[Path, dict]]:
    """Decode a test manifest with a hybrid model.

    Args:
        model_dir: the model directory.
        test: the manifest (its ``text`` is the reference).
        hyp: hypotheses file (JSONL), created with its directory.
        lm: an ARPA word LM instead of the model's ``lm.arpa``.
        **overrides: :class:`~asr.decoding.hybrid.DecoderConfig` fields (``beam``, ...).

    Returns:
        ``{"hybrid": (hyp, stats)}``; stats as :func:`asr.models.hybrid.decode_manifest_hybrid` (``rtf``, ``wer``, ...).
    """
    from asr.models.hybrid import decode_manifest_hybrid

    hyp = Path(hyp)
    hyp.parent.mkdir(parents=True, exist_ok=True)
    return {"hybrid": (hyp, decode_manifest_hybrid(model_dir, test, hyp, lm=lm, **overrides))}


def decode_ctc_system(model_dir: str | os.PathLike, test: str | os.PathLike, hyp_dir: str | os.PathLike, name: str,
                      settings: CTCSettings, lm: str | os.PathLike | None = None) -> dict[str, tuple[Path, dict]]:
    """Decode a test manifest with a CTC model: greedy, and lexicon + word LM when ``lm`` is given.

    Args:
        model_dir: the model directory.
        test: the manifest.
        hyp_dir: hypotheses go to ``hyp_dir/<variant>/<name>.jsonl``.
        name: the test set's name.
        settings: ``beam``, ``lm_weight``, ``word_score``, ``decode_device``.
        lm: ARPA word LM of the ``ctc-lm`` variant (its unigrams are the lexicon decoder's words).

    Returns:
        ``{"ctc-greedy": (hyp, stats), "ctc-lm": (hyp, stats)}`` (stats of :func:`asr.decoding.transcribe.decode_manifest`).
    """
    from asr.decoding.transcribe import decode_manifest

    device = settings.decode_device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    variants: list[tuple[str, dict[str, Any]]] = [("ctc-greedy", {})]
    if lm is not None:
        variants.append(("ctc-lm", {"beam": settings.beam, "lm": Path(lm), "lm_weight": settings.lm_weight,
                                    "word_score": settings.word_score}))
    out = {}
    for variant, options in variants:
        hyp = Path(hyp_dir) / variant / f"{name}.jsonl"
        hyp.parent.mkdir(parents=True, exist_ok=True)
        out[variant] = (hyp, decode_manifest(model_dir, test, hyp, device=device, **options))
    return out


def subset_manifest(src: str | os.PathLike, dst: str | os.PathLike, max_utts: int = 0, max_hours: float = 0.0,
                    seed: int = 0) -> Path:
    """A random subset of a manifest, in its order: at most ``max_utts`` utterances and ``max_hours``
    of audio (0: no limit). Returns ``src`` itself when nothing is left out, else ``dst`` (written)."""
    import random

    if not max_utts and not max_hours:
        return Path(src)
    utts = read_manifest(src)
    order = list(range(len(utts)))
    random.Random(seed).shuffle(order)
    keep, seconds = [], 0.0
    for i in order:
        if (max_utts and len(keep) >= max_utts) or (max_hours and seconds + utts[i].duration > max_hours * 3600):
            break
        keep.append(i)
        seconds += utts[i].duration
    if len(keep) == len(utts):
        return Path(src)
    write_manifest(dst, [utts[i] for i in sorted(keep)])
    log.info("%s: %d of %d utterances of %s (%.2f h)", dst, len(keep), len(utts), src, seconds / 3600)
    return Path(dst)


def score_hypotheses(test: str | os.PathLike, hyp: str | os.PathLike) -> dict[str, Any]:
    """WER / CER of a hypotheses file against a manifest's texts: :meth:`asr.metrics.ScoreReport.to_dict`."""
    from asr.metrics import read_text_file, score

    refs = {u.id: u.text for u in read_manifest(test)}
    hyps, _ = read_text_file(hyp)
    return score(refs, hyps).to_dict()


def model_params(model_dirs: Sequence[str | os.PathLike]) -> int:
    """Parameters stored in the ``model.safetensors`` of the given model directories (summed)."""
    from safetensors import safe_open

    total = 0
    for d in model_dirs:
        with safe_open(str(Path(d) / "model.safetensors"), framework="pt") as f:
            total += sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    return total


def read_train_times(exp: str | os.PathLike) -> dict[str, float]:
    """``exp/train_times.json``: system -> training seconds (``{}`` before any training)."""
    path = Path(exp) / TRAIN_TIMES
    return json.loads(path.read_text()) if path.exists() else {}


def record_train_time(exp: str | os.PathLike, system: str, seconds: float) -> None:
    """Note a system's training time in ``exp/train_times.json``.

    A run that took under 5 s (the model was there already) keeps the figure of
    the run that trained it.
    """
    times = read_train_times(exp)
    if seconds > MIN_TIMED_S or system not in times:
        times[system] = round(seconds, 1)
    (Path(exp) / TRAIN_TIMES).write_text(json.dumps(times, indent=2) + "\n")


# ---------------------------------------------------------------------------
# Language resources: pronunciation lexicon and word LM
# ---------------------------------------------------------------------------

_VARIANT = re.compile(r"\(\d+\)$")  # CMUdict / Sphinx alternative pronunciations: WORD(2)
_STRESS = re.compile(r"(?<=\D)[0-9]$")  # CMUdict AH0, TIMITDIC iy1


def read_pronunciations(path: str | os.PathLike, keep_stress: bool = False) -> Lexicon:
    """A pronunciation dictionary in one of the common plain-text forms, words lower-cased.

    Reads Kaldi ``lexicon.txt`` / ``lexiconp.txt`` (probabilities kept), LibriSpeech's
    ``librispeech-lexicon.txt`` (``WORD<TAB>PHONES``), CMUdict (``;;;`` comments,
    ``WORD(2)`` variants, stress digits), Sphinx dictionaries such as AN4's
    ``etc/an4.dic`` and TIMIT's ``TIMITDIC.TXT`` (``;`` comments, ``word~tag``,
    ``/phones/``). Markup entries (``<UNK>``, ``!SIL``, ``[NOISE]``) are left out.

    Args:
        path: the file.
        keep_stress: keep a trailing stress digit on phones (``AH0``); default: ``AH``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line with a word and no phones, or no entries at all (the file and line are named).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such lexicon file")
    lexicon = Lexicon()
    with path.open(encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.replace("/", " ").split()
            if not fields or fields[0].startswith((";", "#")):
                continue
            word = _VARIANT.sub("", fields[0].split("~")[0]).lower()
            phones, prob = fields[1:], 1.0
            if len(phones) > 1 and _is_prob(phones[0]):
                prob, phones = float(phones[0]), phones[1:]  # lexiconp.txt
            if not keep_stress:
                phones = [_STRESS.sub("", p) for p in phones]
            if word.startswith(("<", "!", "[")) or not word:
                continue
            if not phones:
                raise ValueError(f"{path}:{lineno}: {fields[0]!r} has no phones")
            lexicon.add(word, phones, prob)
    if not len(lexicon):
        raise ValueError(f"{path}: no pronunciations found")
    return lexicon


def _is_prob(text: str) -> bool:
    try:
        return 0.0 < float(text) <= 1.0
    except ValueError:
        return False


def _transcripts(manifests: Sequence[str | os.PathLike]) -> list[list[str]]:
    """Normalized words of every utterance of the manifests."""
    return [normalize(u.text, u.lang).split() for m in manifests for u in read_manifest(m)]


def prepare_lang(out: str | os.PathLike, train: str | os.PathLike | Sequence[str | os.PathLike], lang: str,
                 lexicon: str | os.PathLike | None = None, lm: str | os.PathLike | None = None, lm_order: int = 3,
                 keep_stress: bool = False, force: bool = False) -> tuple[Path, Path]:
    """The pronunciation lexicon and word LM of one language, in ``out/lexicon.txt`` and ``out/lm.arpa``.

    Args:
        out: directory for the two files (kept when they exist, unless ``force``).
        train: training manifest(s): the words to pronounce and the LM's text.
        lang: language code (espeak-ng voice, normalization).
        lexicon: a dictionary (:func:`read_pronunciations`); training words it lacks are
            pronounced by espeak-ng (logged: its phones are IPA, not the dictionary's).
            ``None``: espeak-ng G2P of every training word.
        lm: an ARPA file to use instead of training one (returned as given).
        lm_order: order of the trained Kneser-Ney LM; its vocabulary is the lexicon's
            words (those unseen in training get back-off mass), so both systems
            decode the same words.
        keep_stress: see :func:`read_pronunciations`.

    Returns:
        ``(lexicon path, LM path)``.
    """
    from asr.decoding.lm import train_ngram
    from asr.text.g2p import build_lexicon

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifests = [train] if isinstance(train, (str, os.PathLike)) else list(train)
    lex_path, lm_path = out / "lexicon.txt", out / "lm.arpa"
    texts: list[list[str]] | None = None
    if force or not lex_path.exists():
        texts = _transcripts(manifests)
        words = sorted({w for t in texts for w in t})
        if lexicon:
            lex = read_pronunciations(lexicon, keep_stress=keep_stress)
            missing = [w for w in words if w not in lex]
            if missing:
                log.warning("%s: %d of %d training words missing, pronounced by espeak-ng G2P (%s): %s", lexicon,
                            len(missing), len(words), lang, " ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
                lex.extend_with_g2p(missing, lang)
        else:
            lex = build_lexicon(words, lang)
        lex.to_file(lex_path, with_probs=any(lex.prob(w, p) != 1.0 for w in lex for p in lex.pronunciations(w)))
        log.info("%s: %d words", lex_path, len(lex))
    if lm:
        if not Path(lm).is_file():
            raise FileNotFoundError(f"{lm}: no such LM file (the config's lm:)")
        return lex_path, Path(lm)
    if force or not lm_path.exists():
        texts = texts if texts is not None else _transcripts(manifests)
        vocab = Lexicon.from_file(lex_path).words()
        train_ngram(texts, order=lm_order, vocab=vocab).to_arpa(lm_path)
        log.info("%s: order %d, %d training sentences", lm_path, lm_order, len(texts))
    return lex_path, lm_path


# ---------------------------------------------------------------------------
# One experiment: every system, every language, every test set
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LangData:
    """One language of an experiment.

    Attributes:
        name: sub-directory of its hybrid model (``EXP/hybrid/<name>/model``); ``""`` for one language.
        lang: language code.
        train, dev: the hybrid model's training and validation manifests.
        tests: test set name -> manifest (names unique in the experiment: they key ``results.json``).
        lexicon: the hybrid model's ``lexicon.txt``.
        hybrid_lm: ARPA word LM the hybrid model decodes with (``None``: the one it trained).
        ctc_lm: ARPA word LM of the ``ctc-lm`` variant (``None``: greedy only).
    """

    name: str
    lang: str
    train: Path
    dev: Path | None
    tests: Mapping[str, Path]
    lexicon: Path
    hybrid_lm: Path | None = None
    ctc_lm: Path | None = None


@dataclass(frozen=True)
class Experiment:
    """What an experiment directory trains and tests.

    Attributes:
        exp: the experiment directory.
        langs: its languages.
        systems: ``hybrid`` and / or ``ctc``, trained and decoded in this order.
        hybrid: HybridConfig fields.
        ctc: the CTC system's settings.
        ctc_train: the CTC model's training manifests (default: every language's ``train``).
        ctc_dev: its validation manifest (default: the first language's ``dev``).
        ctc_lexicon: ``phone`` units: the lexicon whose phones are the CTC model's units.
        hybrid_max_utts: train each hybrid model on at most this many utterances (0: all;
            :func:`subset_manifest`, the subset in ``EXP/hybrid/<name>/train_subset.jsonl``).
    """

    exp: Path
    langs: tuple[LangData, ...]
    systems: tuple[str, ...] = ("hybrid", "ctc")
    hybrid: Mapping[str, Any] = field(default_factory=dict)
    ctc: CTCSettings = field(default_factory=CTCSettings)
    ctc_train: tuple[Path, ...] = ()
    ctc_dev: Path | None = None
    ctc_lexicon: Path | None = None
    hybrid_max_utts: int = 0

    def hybrid_dir(self, lang: LangData) -> Path:
        """The hybrid model directory of a language."""
        return self.exp / "hybrid" / lang.name / "model"

    def ctc_dir(self) -> Path:
        """The CTC model directory."""
        return self.exp / "ctc" / "model"


def _train_hybrid(xp: Experiment, force: bool) -> None:
    for lang in xp.langs:
        out = xp.hybrid_dir(lang)
        if (out / "config.json").exists() and not force:
            log.info("hybrid: trained already (%s)", out)
            continue
        train = subset_manifest(lang.train, out.parent / "train_subset.jsonl", max_utts=xp.hybrid_max_utts)
        train_hybrid_system(train, lang.dev, lang.lexicon, out, xp.hybrid, force)


def _decode_hybrid(xp: Experiment, lang: LangData, test_name: str, test: Path) -> dict[str, tuple[Path, dict]]:
    return decode_hybrid_system(xp.hybrid_dir(lang), test, xp.exp / "hybrid" / "hyp" / f"{test_name}.jsonl",
                                lm=lang.hybrid_lm)


def _train_ctc(xp: Experiment, force: bool) -> None:
    train = xp.ctc_train or tuple(lang.train for lang in xp.langs)
    dev = xp.ctc_dev or xp.langs[0].dev
    if dev is None:
        raise ValueError(f"{xp.exp}: the CTC system needs a dev manifest (none given)")
    train_ctc_system(train, dev, xp.exp / "ctc", xp.ctc, force, lexicon=xp.ctc_lexicon)


def _decode_ctc(xp: Experiment, lang: LangData, test_name: str, test: Path) -> dict[str, tuple[Path, dict]]:
    return decode_ctc_system(xp.ctc_dir(), test, xp.exp / "ctc" / "hyp", test_name, xp.ctc, lm=lang.ctc_lm)


# system -> (train every model of it, decode one test set); variants are named "<system>" or "<system>-<how>"
SYSTEMS: dict[str, tuple[Callable[[Experiment, bool], None],
                         Callable[[Experiment, LangData, str, Path], dict[str, tuple[Path, dict]]]]] = {
    "hybrid": (_train_hybrid, _decode_hybrid),
    "ctc": (_train_ctc, _decode_ctc),
}


def _check_systems(systems: Sequence[str]) -> None:
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; known: {sorted(SYSTEMS)}")


def _model_dirs(xp: Experiment, system: str) -> list[Path]:
    return [xp.hybrid_dir(lang) for lang in xp.langs] if system == "hybrid" else [xp.ctc_dir()]


def train_systems(xp: Experiment, force: bool = False) -> None:
    """Train every system of the experiment (each skips or resumes what exists, unless ``force``).

    Training wall time per system goes to ``exp/train_times.json`` (a re-run that
    only finds the models keeps the first figure).
    """
    _check_systems(xp.systems)
    for system in xp.systems:
        t0 = time.perf_counter()
        SYSTEMS[system][0](xp, force)
        seconds = time.perf_counter() - t0
        log.info("train %s: %.0f s", system, seconds)
        record_train_time(xp.exp, system, seconds)


def decode_systems(xp: Experiment) -> dict[str, dict[str, dict]]:
    """Decode every test set with every system -> ``exp/decode.json`` (hypothesis paths and RTF); returns it."""
    _check_systems(xp.systems)
    runs: dict[str, dict[str, dict]] = {}
    for system in xp.systems:
        for lang in xp.langs:
            for test_name, test in lang.tests.items():
                for variant, (hyp, stats) in SYSTEMS[system][1](xp, lang, test_name, test).items():
                    runs.setdefault(variant, {})[test_name] = {"hyp": str(hyp), "rtf": stats.get("rtf")}
    (xp.exp / DECODE_JSON).write_text(json.dumps(runs, indent=2) + "\n")
    return runs


def score_systems(xp: Experiment) -> dict[str, dict[str, dict]]:
    """Score the hypotheses of ``exp/decode.json`` against the test manifests -> ``exp/results.json``; returns it.

    Each entry: :func:`score_hypotheses`'s fields, ``rtf``, ``params`` (of all the
    system's models) and ``train_s`` (from ``train_times.json``).
    """
    decode_path = xp.exp / DECODE_JSON
    if not decode_path.is_file():
        raise FileNotFoundError(f"{decode_path}: no such file (run the decode stage first)")
    runs = json.loads(decode_path.read_text())
    times = read_train_times(xp.exp)
    tests = {name: path for lang in xp.langs for name, path in lang.tests.items()}
    results: dict[str, dict[str, dict]] = {}
    for variant, per_test in runs.items():
        system = variant.split("-")[0]
        extra = {"params": model_params(_model_dirs(xp, system)), "train_s": times.get(system)}
        for test_name, run in per_test.items():
            results.setdefault(variant, {})[test_name] = {**score_hypotheses(tests[test_name], run["hyp"]),
                                                          "rtf": run["rtf"], **extra}
    (xp.exp / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
    return results


def write_report(exp: str | os.PathLike, title: str, notes: Sequence[str] = ()) -> str:
    """``exp/report.md``: the corpus (``exp/data/summary.json``), then every system x test set
    (:mod:`asr.compare`: also ``results.csv`` and the chart ``results.png``); returns the text.

    Args:
        exp: the experiment directory.
        title: the report's heading.
        notes: markdown lines put after the results table (what the numbers mean).
    """
    from asr.compare import plot, read_results, to_markdown, write_csv

    exp = Path(exp)
    lines = [f"# {title}", ""]
    summary_path = exp / "data" / "summary.json"
    if summary_path.is_file():
        summary = {k: v for k, v in json.loads(summary_path.read_text()).items() if isinstance(v, dict) and "utts" in v}
        lines += ["## Corpus", "", "| split | utts | hours | speakers |", "|---|---:|---:|---:|"]
        lines += [f"| {split} | {s['utts']} | {s['hours']:.2f} | {s.get('speakers', '-')} |"
                  for split, s in summary.items()]
        lines.append("")
    if (exp / RESULTS_JSON).is_file():
        rows = read_results([exp])
        plot(rows, exp / "results.png")
        write_csv(rows, exp / "results.csv")
        lines += ["## Every system and test set", "", to_markdown(rows), "![WER per test set](results.png)", ""]
        lines += list(notes)
    else:
        lines.append("No system results yet (run the score stage).")
    text = "\n".join(lines).rstrip() + "\n"
    (exp / "report.md").write_text(text, encoding="utf-8")
    return text
