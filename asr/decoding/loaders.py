"""A model directory as a recognizer, per system, and the search a CTC directory was measured with.

:data:`asr.systems.SYSTEMS` holds :func:`load_hybrid_recognizer` and :func:`load_ctc_recognizer`
(``asr.systems.load_recognizer`` picks by ``config.json``). A recipe saves its lexicon + LM search in
the CTC model directory (:func:`save_ctc_decoding`: ``decoding.json`` and ``lm/<lang>.arpa``), so
``asr transcribe -m DIR`` and ``asr.load(DIR)`` decode as the recipe measured (:func:`ctc_decoding`).

Usage::

    save_ctc_decoding("exp/synth/ctc/model", "en", "exp/synth/lang/en/lm.arpa", beam=16, lm_weight=1.0, word_score=0.0)
    ctc_decoding("exp/synth/ctc/model", "en")   # {"beam": 16, "lm": .../lm/en.arpa, "lm_weight": 1.0, "word_score": 0.0}
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asr.decoding.types import AUTO_LANGUAGE, Recognizer

__all__ = ["DECODING_JSON", "save_ctc_decoding", "ctc_decoding", "decoding_record", "saved_search",
           "load_hybrid_recognizer", "load_ctc_recognizer", "ctc_search"]

log = logging.getLogger(__name__)


DECODING_JSON = "decoding.json"  # a CTC model directory's default search, per language


def save_ctc_decoding(model_dir: str | os.PathLike, lang: str, lm: str | os.PathLike, beam: int, lm_weight: float,
                      word_score: float) -> Path:
    """Make the lexicon + LM search the default of a CTC model directory for ``lang``.

    The LM is copied to ``model_dir/lm/<lang>.arpa`` (its unigrams are the decoder's words) and the
    options go to ``model_dir/decoding.json`` (``{"search", "beam", "lm_weight", "word_score",
    "lms": {lang: path}}``, one entry per language saved). Returns the JSON's path.
    """
    d = Path(model_dir)
    (d / "lm").mkdir(exist_ok=True)
    dst = d / "lm" / f"{lang}.arpa"
    if Path(lm).resolve() != dst.resolve():
        shutil.copyfile(lm, dst)
    path = d / DECODING_JSON
    record = json.loads(path.read_text()) if path.is_file() else {"lms": {}}
    record.update(search="lexicon", beam=int(beam), lm_weight=float(lm_weight), word_score=float(word_score))
    record["lms"][lang] = f"lm/{lang}.arpa"
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def decoding_record(model_dir: str | os.PathLike) -> dict[str, Any] | None:
    """``decoding.json`` of a CTC model directory (``lms`` a dict), or ``None`` without one.

    Raises:
        ValueError: a malformed file.
    """
    path = Path(model_dir) / DECODING_JSON
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        record["lms"] = dict(record["lms"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a decoding file ({type(e).__name__}: {e})") from None
    return record


def ctc_decoding(model_dir: str | os.PathLike, language: str | None = None) -> dict[str, Any] | None:
    """The saved default search of a CTC model directory: ``{"beam", "lm", "lm_weight", "word_score"}``, or
    ``None`` (no ``decoding.json``; several languages and none asked for: greedy).

    Raises:
        ValueError: ``language`` has no saved LM (the saved ones are named), or a malformed file.
    """
    path = Path(model_dir) / DECODING_JSON
    record = decoding_record(model_dir)
    if record is None:
        return None
    lms = record["lms"]
    if language is None:
        if len(lms) != 1:
            log.info("%s: LMs for %s; pass a language to decode with one (greedy now)", path, sorted(lms))
            return None
        language = next(iter(lms))
    if language not in lms:
        raise ValueError(f"{path}: no LM for language {language!r}; saved: {sorted(lms)}")
    return saved_search(model_dir, record, language)


def saved_search(model_dir: str | os.PathLike, record: dict[str, Any], language: str) -> dict[str, Any]:
    """``language``'s search in a read ``decoding.json`` (the language has an LM there)."""
    return {"beam": record.get("beam", 16), "lm": Path(model_dir) / record["lms"][language],
            "lm_weight": record.get("lm_weight", 1.0), "word_score": record.get("word_score", 0.0)}


def load_hybrid_recognizer(model_dir: Path, device: str, beam: float | None, lm: str | None, lm_weight: float | None,
                 word_score: float | None, mode: str, n_best: int = 1, language: str | None = None,
                 hotwords: Mapping[str, float] | None = None, backend: str = "torch") -> Recognizer:
    from asr.decoding.hybrid import HybridRecognizer

    if backend != "torch":
        raise ValueError(f"backend {backend!r}: the hybrid system runs in torch only (ONNX export: CTC models)")
    return HybridRecognizer(model_dir, device, lm=lm, mode=mode, n_best=n_best, hotwords=hotwords,
                            beam=None if beam is None else float(beam), lm_weight=lm_weight, word_penalty=word_score)


def load_ctc_recognizer(model_dir: Path, device: str, beam: float | None, lm: str | None, lm_weight: float | None,
              word_score: float | None, mode: str, n_best: int = 1, language: str | None = None,
              hotwords: Mapping[str, float] | None = None, backend: str = "torch") -> Recognizer:
    from asr.decoding.ctc import Transcriber

    if mode != "word":
        raise ValueError(f"mode {mode!r}: a CTC model recognizes words (its units) only")
    if language == AUTO_LANGUAGE:
        return _load_language_id(model_dir, device, beam, lm, lm_weight, word_score, n_best, hotwords, backend)
    name, decoder_options = ctc_search(beam, lm, lm_weight, word_score, n_best, hotwords)
    return Transcriber(model_dir, device=device, decoder=name, lang=language, n_best=n_best, backend=backend,
                       **decoder_options)


def ctc_search(beam: float | None, lm: str | os.PathLike | None, lm_weight: float | None, word_score: float | None,
                n_best: int, hotwords: Mapping[str, float] | None) -> tuple[str, dict[str, Any]]:
    """The CTC decoder (name, options) of the loaders' options: greedy; prefix beam search (of at least
    ``n_best``, and 8 with hotwords); with ``lm`` the lexicon + LM search (its n-best too)."""
    from asr.decoding.ctc import choose_decoder

    beam_size = max(int(beam or 1), n_best if n_best > 1 and lm is None else 1, 8 if hotwords else 1)
    name, options = choose_decoder(beam_size, lm, 1.0 if lm_weight is None else lm_weight, word_score or 0.0)
    if hotwords:
        options["hotwords"] = dict(hotwords)  # prefix beam search or the lexicon + LM search
    if name == "lexicon" and n_best > 1:
        options["nbest"] = n_best
    return name, options


def _load_language_id(model_dir: Path, device: str, beam: float | None, lm: str | None, lm_weight: float | None,
                      word_score: float | None, n_best: int, hotwords: Mapping[str, float] | None,
                      backend: str) -> Recognizer:
    """``language="auto"``: each language's saved lexicon + LM search (``decoding.json``), else greedy
    (or a beam of ``beam``); ``beam`` given: every language decodes with that beam and its saved LM."""
    from asr.decoding.ctc_lid import LanguageIdTranscriber
    from asr.models.multilingual import read_multilingual_config

    if lm is not None or hotwords or backend != "torch":
        raise ValueError("language 'auto': one LM per language comes from the model directory (no --lm), "
                         "no hotwords, torch backend")
    langs = read_multilingual_config(model_dir)["model"]["languages"]
    record = decoding_record(model_dir) or {"lms": {}}
    decoders = {}
    for lang in langs:  # a language without a saved LM decodes without one
        saved = saved_search(model_dir, record, lang) if lang in record["lms"] else None
        size = beam if beam is not None else saved["beam"] if saved else None
        if saved and (size or 1) <= 1:  # a beam of 1: greedy, as for one language
            saved = None
        if saved:
            decoders[lang] = ctc_search(size, saved["lm"], saved["lm_weight"] if lm_weight is None else lm_weight,
                                         saved["word_score"] if word_score is None else word_score, n_best, None)
        else:
            decoders[lang] = ctc_search(size, None, None, None, n_best, None)
    return LanguageIdTranscriber(model_dir, device, decoders=decoders, n_best=n_best)
