"""Both systems as functions of manifests: train, decode, score and report, as every recipe runs them.

One system, one model:

* :func:`train_hybrid_system`: train manifest, dev manifest, lexicon, model directory, HybridConfig fields;
* :func:`train_ctc_system`: train manifests, dev manifest, training directory, :class:`CTCSettings`;
* :func:`decode_hybrid_system`, :func:`decode_ctc_system`: one test manifest ->
  ``{variant: (hypotheses file, decoding stats)}``, variants ``hybrid``, ``ctc-greedy`` and
  ``ctc-lm`` (lexicon + word n-gram);
* :func:`score_hypotheses`, :func:`model_params`, :func:`record_train_time`: the bookkeeping
  behind ``results.json``.

One table, :data:`SYSTEMS`, decides hybrid or CTC everywhere: how a model directory
loads as a :class:`~asr.decoding.types.Recognizer` (:func:`load_recognizer`, what
``asr decode`` and ``asr transcribe`` run), and how an experiment trains and decodes it.

One experiment (a recipe's ``train``, ``decode``, ``score`` and ``report`` stages): an
:class:`Experiment` lists one :class:`LangData` per language; the hybrid system trains one model
per language (its own phones, lexicon and LM), the CTC system one model over all of them::

    EXP/hybrid/<name>/model             one hybrid model directory per language (name "": EXP/hybrid/model)
    EXP/hybrid/hyp/<test set>.jsonl     (and <test set>.decoding.json: the search options)
    EXP/ctc/model                       the CTC model directory (checkpoints, metrics beside it in EXP/ctc)
    EXP/ctc/hyp/<variant>/<test set>.jsonl
    EXP/train_times.json                {system: training seconds}
    EXP/decode.json                     {variant: {test set: {"hyp", "rtf"}}}
    EXP/results.json                    {variant: {test set: {"wer", "cer", "words", "chars", ..., "rtf", "params", "train_s",
                                         "decoding"}}}
    EXP/report.md, results.{png,csv}    (:func:`asr.recipe.write_report`) corpus table, asr.compare's table and chart

``asr compare EXP`` reads ``results.json``. The lexicon and word LM of a corpus come
from :func:`asr.data.lang.prepare_lang`; :func:`asr.recipe.system_stages` gives a corpus recipe its
``decode``, ``score`` and ``report`` stages.

Usage::

    lexicon, lm = asr.data.lang.prepare_lang(exp / "lang", exp / "data" / "train.jsonl", "en")
    xp = Experiment(exp, (LangData("", "en", train, dev, {"test": test}, lexicon, hybrid_lm=lm, ctc_lm=lm),),
                    hybrid={"epochs": 4}, ctc=CTCSettings(preset="small"))
    train_systems(xp); decode_systems(xp); score_systems(xp); asr.recipe.write_report(exp, "an4")
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from asr.config import from_dict
from asr.data.manifest import read_manifest, subset_manifest
from asr.decoding.loaders import ctc_decoding, load_ctc_recognizer, load_hybrid_recognizer, save_ctc_decoding
from asr.decoding.types import AUTO_LANGUAGE, DecodeStats, Recognizer
from asr.text.lexicon import Lexicon

__all__ = ["CTCSettings", "SystemsConfig", "LangData", "Experiment", "System", "SYSTEMS", "system_of",
           "load_recognizer", "train_hybrid_system", "train_ctc_system", "decode_hybrid_system",
           "decode_ctc_system", "score_hypotheses", "model_params", "record_train_time", "read_train_times",
           "train_systems", "decode_systems", "score_systems"]

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
            or TIMIT form, see :func:`asr.text.dictionary.read_pronunciations`); ``""``: espeak-ng G2P of the training words.
        keep_stress: keep the stress digits of a dictionary's phones (``AH0``); off: ``AH``.
        lm: an ARPA word LM both systems decode with; ``""``: an n-gram of the training transcripts.
        lm_order: order of that n-gram.
        hybrid: :class:`asr.train.hybrid.HybridConfig` fields.
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
    from asr.train.hybrid import HybridConfig

    return hybrid if isinstance(hybrid, HybridConfig) else from_dict(HybridConfig, dict(hybrid or {}), source="hybrid")


def train_hybrid_system(train: str | os.PathLike, dev: str | os.PathLike | None, lexicon: str | os.PathLike,
                        out: str | os.PathLike, hybrid: Mapping[str, Any] | None = None, force: bool = False) -> Path:
    """Train one hybrid model (:func:`asr.train.hybrid.train_hybrid`) unless ``out/config.json`` exists.

    Args:
        train, dev: manifests (dev: WER and LM perplexity in ``train_log.json``; may be ``None``).
        lexicon: ``lexicon.txt``; training words it lacks get espeak-ng pronunciations.
        out: the model directory.
        hybrid: :class:`~asr.train.hybrid.HybridConfig` fields (or a HybridConfig).
        force: train again over an existing model.

    Returns:
        ``out``.
    """
    from asr.train.hybrid import train_hybrid

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
    from asr.train.loop import train_ctc
    from asr.train.tokenizer_setup import init_tokenizer

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


def system_of(model_dir: str | os.PathLike) -> str:
    """The system of a model directory (``config.json``'s ``"system"``; CTC directories may omit it).

    Raises:
        ValueError: no such directory, no ``config.json``, invalid JSON, no weights, or an
            unknown system; the message names the directory.
    """
    d = Path(model_dir)
    config = d / "config.json"
    if not d.is_dir():
        raise ValueError(f"{d}: no such model directory")
    if not config.is_file():
        raise ValueError(f"{d}: not a model directory (no config.json)")
    try:
        meta = json.loads(config.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{config}: not valid JSON ({e})") from None
    system = meta.get("system", "ctc") if isinstance(meta, dict) else None
    if system not in SYSTEMS:
        raise ValueError(f"{config}: unknown system {system!r}; known: {sorted(SYSTEMS)}")
    if not (d / "model.safetensors").is_file():
        raise ValueError(f"{d}: incomplete model directory (no model.safetensors)")
    return system


def load_recognizer(model_dir: str | os.PathLike, device: str = "cpu", beam: float | None = None,
                    lm: str | os.PathLike | None = None, lm_weight: float | None = None,
                    word_score: float | None = None, mode: str = "word", language: str | None = None,
                    n_best: int = 1, hotwords: Mapping[str, float] | None = None, backend: str = "torch"
                    ) -> Recognizer:
    """Load either system's model directory (``config.json`` decides, through :data:`SYSTEMS`).

    The options mean the same for both systems; ``None`` keeps the system's default. A CTC
    directory with a ``decoding.json`` (written by the recipes: :func:`asr.decoding.loaders.save_ctc_decoding`)
    decodes by default as it was measured (lexicon + its LM for ``language``); ``beam=1``
    asks for greedy decoding.

    Args:
        model_dir: written by ``asr train`` (CTC or ``--system hybrid``) or a recipe.
        device: ``cpu`` or ``cuda`` (the hybrid system runs on the CPU).
        beam: CTC: beam size (``None``/1: greedy; with ``lm``: lexicon search, default 50);
            hybrid: log-score beam (default: the model's).
        lm: a word n-gram LM (ARPA): CTC lexicon + LM search; hybrid: replaces the model's LM.
        lm_weight: weight of the LM (CTC default 1.0; hybrid: the model's).
        word_score: added per word (CTC ``word_score``, default 0; hybrid ``word_penalty``, default the model's).
        mode: ``"word"``, or ``"phone"`` recognition (hybrid only).
        language: a multilingual CTC model's head, and which of a CTC directory's saved LMs to decode
            with (``None``: the only one, or greedy decoding when there are several); ``"auto"``: a
            multilingual model's language-ID head picks, per input, the head and saved LM
            (:class:`asr.decoding.ctc_lid.LanguageIdTranscriber`).
        n_best: hypotheses per waveform in ``Hypothesis.alternatives`` (CTC with a beam or an LM;
            greedy decoding becomes a beam of ``n_best``).
        hotwords: word -> boost per character: CTC prefix beam search (greedy becomes a beam of 8)
            or the lexicon + LM search (added to its lexicon, a unigram bonus); hybrid: added to the
            lexicon (G2P for new words), the same bonus at the word's end.
        backend: ``torch``; CTC also ``onnx`` / ``onnx-int8`` (the directory's exported
            ``model.onnx`` / ``model.int8.onnx`` in onnxruntime).

    Raises:
        ValueError: not a model directory, an incomplete one, a missing LM file, CUDA asked
            for without a GPU, an option the system lacks, or a model that fails to load;
            the message names the path.
    """
    d = Path(model_dir)
    system = system_of(d)
    if system == "ctc" and beam is None and lm is None and language != AUTO_LANGUAGE:  # the search the directory was measured with
        saved = ctc_decoding(d, language)
        if saved is not None:
            beam, lm = saved["beam"], saved["lm"]
            lm_weight = saved["lm_weight"] if lm_weight is None else lm_weight
            word_score = saved["word_score"] if word_score is None else word_score
    if lm is not None and not Path(lm).is_file():
        raise ValueError(f"{lm}: no such language model file")
    if str(device).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available")
    try:
        return SYSTEMS[system].load(d, device, beam, None if lm is None else str(lm), lm_weight, word_score, mode,
                                    n_best=n_best, language=language, hotwords=hotwords, backend=backend)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError, OSError, ImportError) as e:
        raise ValueError(f"{d}: cannot load the {system} model ({type(e).__name__}: {e})") from None


def _decode_to(recognizer: Recognizer, test: str | os.PathLike, hyp: Path, jobs: int = 1
               ) -> tuple[Path, DecodeStats]:
    from asr.decoding.manifest import decode_manifest  # it creates the hypotheses' directory

    return hyp, decode_manifest(recognizer, test, hyp, jobs=jobs)


def decode_hybrid_system(model_dir: str | os.PathLike, test: str | os.PathLike, hyp: str | os.PathLike,
                         lm: str | os.PathLike | None = None, beam: float | None = None, jobs: int = 0
                         ) -> dict[str, tuple[Path, DecodeStats]]:
    """Decode a test manifest with a hybrid model.

    Args:
        model_dir: the model directory.
        test: the manifest (its ``text`` is the reference).
        hyp: hypotheses file (JSONL), created with its directory.
        lm: an ARPA word LM instead of the model's ``lm.arpa``.
        beam: the search beam (default: the model's).
        jobs: CPU processes (0: one per core); the search decodes one utterance at a time.

    Returns:
        ``{"hybrid": (hyp, stats)}`` (:class:`~asr.decoding.types.DecodeStats`); the search options
        used go to ``<hyp stem>.decoding.json`` beside it (``score_systems`` puts them in ``results.json``).
    """
    recognizer = load_recognizer(model_dir, beam=beam, lm=lm)
    out = {"hybrid": _decode_to(recognizer, test, Path(hyp), jobs)}
    cfg = getattr(recognizer, "cfg", None)
    _write_decoding(Path(hyp), {"search": recognizer.decoder_name, "lm": str(lm) if lm is not None else "model",
                                **(asdict(cfg) if is_dataclass(cfg) else {})})
    return out


def decode_ctc_system(model_dir: str | os.PathLike, test: str | os.PathLike, hyp_dir: str | os.PathLike, name: str,
                      settings: CTCSettings, lm: str | os.PathLike | None = None) -> dict[str, tuple[Path, DecodeStats]]:
    """Decode a test manifest with a CTC model: greedy, and lexicon + word LM when ``lm`` is given.

    Args:
        model_dir: the model directory.
        test: the manifest.
        hyp_dir: hypotheses go to ``hyp_dir/<variant>/<name>.jsonl``.
        name: the test set's name.
        settings: ``beam``, ``lm_weight``, ``word_score``, ``decode_device``.
        lm: ARPA word LM of the ``ctc-lm`` variant (its unigrams are the lexicon decoder's words).

    Returns:
        ``{"ctc-greedy": (hyp, stats), "ctc-lm": (hyp, stats)}`` (:class:`~asr.decoding.types.DecodeStats`);
        each variant's search options go to ``<hyp stem>.decoding.json`` beside its hypotheses.
    """
    from asr.decoding.ctc import choose_decoder

    device = settings.decode_device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    variants: list[tuple[str, dict[str, Any]]] = [("ctc-greedy", {"beam": 1})]
    if lm is not None:
        variants.append(("ctc-lm", {"beam": settings.beam, "lm": Path(lm), "lm_weight": settings.lm_weight,
                                    "word_score": settings.word_score}))
    out = {}
    for variant, options in variants:
        hyp = Path(hyp_dir) / variant / f"{name}.jsonl"
        out[variant] = _decode_to(load_recognizer(model_dir, device=device, **options), test, hyp)
        search, decoder_options = choose_decoder(int(options.get("beam") or 1), options.get("lm"),
                                                 options.get("lm_weight", 1.0), options.get("word_score", 0.0))
        _write_decoding(hyp, {"search": search, **{"beam" if k == "beam_size" else k: v
                                                   for k, v in decoder_options.items()}})
    return out


def _write_decoding(hyp: Path, record: dict[str, Any]) -> None:
    """Note a hypotheses file's search options in ``<hyp stem>.decoding.json`` (read by :func:`score_systems`)."""
    hyp.with_suffix(".decoding.json").write_text(json.dumps(record, indent=2) + "\n")


def score_hypotheses(test: str | os.PathLike, hyp: str | os.PathLike) -> dict[str, Any]:
    """WER / CER of a hypotheses file against a manifest's texts: :meth:`asr.metrics.ScoreReport.to_dict`."""
    from asr.metrics import read_text_file, score

    refs = {u.id: u.text for u in read_manifest(test)}
    hyps, _ = read_text_file(hyp)
    return score(refs, hyps).to_dict()


def model_params(model_dirs: Sequence[str | os.PathLike]) -> int:
    """Parameters stored in the ``model.safetensors`` of the given model directories (summed)."""
    from asr.weights import safetensors_numel

    return sum(safetensors_numel(Path(d) / "model.safetensors") for d in model_dirs)


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
            :func:`asr.data.manifest.subset_manifest`, the subset in ``EXP/hybrid/<name>/train_subset.jsonl``).
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
    out = decode_ctc_system(xp.ctc_dir(), test, xp.exp / "ctc" / "hyp", test_name, xp.ctc, lm=lang.ctc_lm)
    if lang.ctc_lm is not None and Path(lang.ctc_lm).is_file() and (xp.ctc_dir() / "config.json").is_file():
        # the model directory decodes as measured here (asr transcribe, asr.load)
        save_ctc_decoding(xp.ctc_dir(), lang.lang, lang.ctc_lm, xp.ctc.beam, xp.ctc.lm_weight, xp.ctc.word_score)
    return out


@dataclass(frozen=True)
class System:
    """One road through the layers, as the rest of the package sees it.

    Attributes:
        load: ``(model_dir, device, beam, lm, lm_weight, word_score, mode) -> Recognizer``
            (see :func:`load_recognizer`).
        train: train every model of the system in an experiment (``(experiment, force)``).
        decode: decode one test set: ``(experiment, language, test name, manifest) ->
            {variant: (hypotheses file, stats)}``; variants are named ``<system>`` or ``<system>-<how>``.
        model_dirs: the system's model directories in an experiment (their parameters are counted).
    """

    load: Callable[..., Recognizer]
    train: Callable[[Experiment, bool], None]
    decode: Callable[[Experiment, LangData, str, Path], dict[str, tuple[Path, DecodeStats]]]
    model_dirs: Callable[[Experiment], list[Path]]


SYSTEMS: dict[str, System] = {
    "hybrid": System(load_hybrid_recognizer, _train_hybrid, _decode_hybrid, lambda xp: [xp.hybrid_dir(lang) for lang in xp.langs]),
    "ctc": System(load_ctc_recognizer, _train_ctc, _decode_ctc, lambda xp: [xp.ctc_dir()]),
}


def _check_systems(systems: Sequence[str]) -> None:
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}; known: {sorted(SYSTEMS)}")


def train_systems(xp: Experiment, force: bool = False) -> None:
    """Train every system of the experiment (each skips or resumes what exists, unless ``force``).

    Training wall time per system goes to ``exp/train_times.json`` (a re-run that
    only finds the models keeps the first figure).
    """
    _check_systems(xp.systems)
    for system in xp.systems:
        t0 = time.perf_counter()
        SYSTEMS[system].train(xp, force)
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
                for variant, (hyp, stats) in SYSTEMS[system].decode(xp, lang, test_name, test).items():
                    runs.setdefault(variant, {})[test_name] = {"hyp": str(hyp), "rtf": stats.rtf}
    (xp.exp / DECODE_JSON).write_text(json.dumps(runs, indent=2) + "\n")
    return runs


def score_systems(xp: Experiment) -> dict[str, dict[str, dict]]:
    """Score the hypotheses of ``exp/decode.json`` against the test manifests -> ``exp/results.json``; returns it.

    Each entry: :func:`score_hypotheses`'s fields, ``rtf``, ``params`` (of all the
    system's models), ``train_s`` (from ``train_times.json``) and ``decoding`` (the search
    options noted beside the hypotheses at decode time, when there).
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
        extra = {"params": model_params(SYSTEMS[system].model_dirs(xp)), "train_s": times.get(system)}
        for test_name, run in per_test.items():
            entry = {**score_hypotheses(tests[test_name], run["hyp"]), "rtf": run["rtf"], **extra}
            decoding = Path(run["hyp"]).with_suffix(".decoding.json")
            if decoding.is_file():
                entry["decoding"] = json.loads(decoding.read_text())
            results.setdefault(variant, {})[test_name] = entry
    (xp.exp / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
    return results
