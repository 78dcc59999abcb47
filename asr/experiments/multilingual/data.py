"""The experiments' inputs, prepared once under ``OUT/data`` and ``OUT/lm``: the target's audio,
nested subsets, phone transcripts, tokenizers, word LMs.

Usage::

    inp = prepare_inputs(data, "exp/ml/multilingual", ExperimentConfig(target="sw"))
    inp.subsets[10.0]          # the target's 10-minute training manifest (with phones)
    inp.target_lm(10.0)        # its word trigram
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr.data.labels import PHONES_FIELD
from asr.data.manifest import Utterance, read_manifest, total_duration, write_manifest
from asr.experiments.multilingual.config import WORD_BOUNDARY, ExperimentConfig, LanguageData, minutes_label
from asr.text.lexicon import Lexicon
from asr.text.normalize import normalize
from asr.text.tokenizer import CharTokenizer, PhoneTokenizer, Tokenizer, load_tokenizer

__all__ = ["Inputs", "prepare_inputs", "ensure_target_audio", "nested_subsets"]

log = logging.getLogger(__package__)  # one logger for the experiment package: asr.experiments.multilingual


def _train_minutes(manifest: Path) -> float:
    return total_duration(read_manifest(manifest)) / 60.0


def ensure_target_audio(
    data: LanguageData, lang: str, minutes: float, synth_cfg: Any, out_dir: str | Path, jobs: int | None = None
) -> LanguageData:
    """``data`` if its training set holds ``minutes`` of audio, else a bigger synth corpus of ``lang``.

    The prepare stage generates every language with one ``hours`` value; the
    target may need more training audio than that. This generates ``lang`` alone
    under ``out_dir/<lang>`` with the same seed and speaker counts and more hours:
    each split's utterance plan is drawn from the same random stream, so the
    smaller corpus's utterances are the first ones of the bigger one (the same
    texts, voices and audio), and the other languages are untouched.

    Args:
        data: the prepared manifests of ``lang``.
        lang: the language.
        minutes: training audio needed.
        synth_cfg: the :class:`~asr.data.synth.SynthConfig` the corpus was made with.
        out_dir: where a bigger corpus goes.

    Returns:
        The :class:`LanguageData` to use (``data`` itself, or the new corpus's files).
    """
    from asr.data.dataset import validate
    from asr.data.synth import generate

    have = _train_minutes(data.train)
    if have >= minutes:
        return data
    train_share = 1.0 - synth_cfg.dev_fraction - synth_cfg.test_fraction
    planned = synth_cfg.hours * 60.0 * train_share  # minutes the plan aimed at
    ratio = have / planned if have > 0 and planned > 0 else 0.75  # real / planned training audio
    hours = synth_cfg.hours
    out = Path(out_dir)
    for _ in range(3):
        hours = max(hours, minutes / (60.0 * train_share * ratio) * 1.05)
        cfg = dataclasses.replace(synth_cfg, langs=(lang,), hours=round(hours, 4))
        log.info("generating %s with %.3f h (need %.1f min of training audio, the prepared set has %.1f)",
                 lang, cfg.hours, minutes, have)
        generate(out, cfg, jobs=jobs, progress=False)
        got = _train_minutes(out / lang / "train.jsonl")
        if got >= minutes:
            break
        ratio *= got / minutes
    else:
        log.warning("%s: only %.1f of %.1f training minutes after 3 tries", lang, got, minutes)
    for split in ("train", "dev", "test"):
        path = out / lang / f"{split}.jsonl"
        good, bad = validate(read_manifest(path))
        if bad.count:
            log.warning("%s/%s: %d utterances with unreadable audio left out", lang, split, bad.count)
            write_manifest(path, good)
    return LanguageData(out / lang / "train.jsonl", out / lang / "dev.jsonl", out / lang / "test.jsonl",
                        out / lang / "lexicon.txt")


def nested_subsets(utts: Sequence[Utterance], minutes: Sequence[float], seed: int) -> dict[float, list[Utterance]]:
    """Deterministic nested subsets of at least ``minutes`` of audio each.

    The utterances are shuffled once with ``seed``; each subset is the shortest
    prefix of that order reaching its size (everything when there is not
    enough), so a smaller subset is always inside a bigger one.

    Returns:
        minutes -> utterances (in the shuffled order).
    """
    order = list(utts)
    random.Random(seed).shuffle(order)
    cumulative, total = [], 0.0
    for u in order:
        total += u.duration
        cumulative.append(total)
    out = {}
    for m in minutes:
        n = next((i + 1 for i, c in enumerate(cumulative) if c >= m * 60.0), len(order))
        out[m] = order[:n]
    return out


def _phone_string(text: str, lexicon: Lexicon) -> str | None:
    """Phones of a normalized text, words separated by ``|``; ``None`` when a word is not in the lexicon."""
    words = text.split()
    if not words or any(w not in lexicon for w in words):
        return None
    return f" {WORD_BOUNDARY} ".join(" ".join(lexicon.pronounce(w)) for w in words)


def _with_phones(utts: Sequence[Utterance], lang: str, lexicon: Lexicon | None) -> list[Utterance]:
    """The utterances with their language set and a ``phones`` field (:data:`~asr.data.labels.PHONES_FIELD`,
    what the trainer reads) from ``lexicon``, where it spells every word."""
    out = []
    for u in utts:
        extra = {k: v for k, v in u.extra.items() if k != PHONES_FIELD}
        phones = _phone_string(normalize(u.text, lang), lexicon) if lexicon is not None else None
        if phones:
            extra[PHONES_FIELD] = phones
        out.append(dataclasses.replace(u, lang=lang, extra=extra))
    return out


def _cap(utts: Sequence[Utterance], minutes: float, seed: int) -> list[Utterance]:
    """At least ``minutes`` of ``utts`` (a seeded subset; all when ``minutes <= 0``)."""
    return list(utts) if minutes <= 0 else nested_subsets(utts, [minutes], seed)[minutes]


@dataclass
class Inputs:
    """What every run and evaluation reads, prepared once under ``OUT/data`` and ``OUT/lm``."""

    out: Path
    cfg: ExperimentConfig
    target: str
    sources: list[str]
    train: dict[str, Path]  # source language -> training manifest (with phones)
    subsets: dict[float, Path]  # target minutes -> training manifest (with phones)
    subset_minutes: dict[float, float]  # target minutes asked -> minutes of audio in the subset
    subset_words: dict[float, set[str]]  # target minutes -> words of its transcripts
    dev: dict[str, Path]
    test: dict[str, Path]
    lexicons: dict[str, Lexicon]
    tokenizers: dict[str, Tokenizer]  # language -> character tokenizer
    phones: PhoneTokenizer  # universal phone set of every language (labels come from the manifests)
    inventories: dict[str, tuple[int, ...]]  # language -> its phone ids (word boundary included)
    lms: dict[str, Path]  # source language, or "<target>-<N>min", -> ARPA word trigram

    def target_lm(self, minutes: float) -> Path:
        """The word LM of the target's ``minutes`` subset."""
        return self.lms[f"{self.target}-{minutes_label(minutes)}"]


def _universal_phones(lexicons: Mapping[str, Lexicon]) -> PhoneTokenizer:
    """A phone tokenizer over the union of the lexicons' phones, with ``|`` between words.

    Its own lexicon is empty: phone labels come from each manifest row's ``phones``
    field (made with that row's language's lexicon), never from another language's
    pronunciation of the same spelling.
    """
    from asr.text.symbols import BLANK, UNK, SymbolTable

    phones = sorted({p for lex in lexicons.values() for p in lex.phones()})
    return PhoneTokenizer(Lexicon(), SymbolTable([BLANK, UNK, WORD_BOUNDARY, *phones]), WORD_BOUNDARY)


def _write_lm(path: Path, texts: Sequence[str], order: int, vocab: Sequence[str] = ()) -> Path:
    """A word n-gram (modified Kneser-Ney) of ``texts`` (+ zero-count ``vocab``) as ARPA, once."""
    from asr.text.lm import train_ngram

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        lm = train_ngram([t.split() for t in texts], order=order, vocab=vocab)
        tmp = path.with_name(path.name + ".part")
        lm.to_arpa(tmp)
        tmp.replace(path)
    return path


def prepare_inputs(data: Mapping[str, LanguageData], out: str | Path, cfg: ExperimentConfig) -> Inputs:
    """Subsets, phone transcripts, tokenizers and LMs under ``out/data`` and ``out/lm`` (deterministic)."""
    out = Path(out)
    target = cfg.target
    if target not in data:
        raise ValueError(f"no data for the target language {target!r}; have {sorted(data)}")
    sources = list(cfg.sources) or [lang for lang in data if lang != target]
    missing = sorted(set(sources) - set(data))
    if missing:
        raise ValueError(f"no data for source language(s) {missing}")
    if not sources:
        raise ValueError("no source language: give at least two languages")
    langs = [*sources, target]
    lexicons = {lang: Lexicon.from_file(data[lang].lexicon) for lang in langs}
    d = out / "data"
    manifests: dict[str, Path] = {}
    dev: dict[str, Path] = {}
    test: dict[str, Path] = {}
    texts: dict[str, list[str]] = {}
    for lang in langs:
        dev_utts = _cap(read_manifest(data[lang].dev), cfg.dev_minutes, cfg.subset_seed)
        write_manifest(d / lang / "dev.jsonl", _with_phones(dev_utts, lang, lexicons[lang]))
        dev[lang] = d / lang / "dev.jsonl"
        test[lang] = data[lang].test
    for lang in sources:
        utts = _with_phones(_cap(read_manifest(data[lang].train), cfg.source_minutes, cfg.subset_seed), lang,
                            lexicons[lang])
        write_manifest(d / lang / "train.jsonl", utts)
        manifests[lang] = d / lang / "train.jsonl"
        texts[lang] = [normalize(u.text, lang) for u in utts]
    target_utts = _with_phones(read_manifest(data[target].train), target, lexicons[target])
    subsets, subset_minutes, subset_words = {}, {}, {}
    for minutes, utts in nested_subsets(target_utts, cfg.sizes, cfg.subset_seed).items():
        path = d / target / f"train-{minutes_label(minutes)}.jsonl"
        write_manifest(path, utts)
        subsets[minutes] = path
        subset_minutes[minutes] = round(total_duration(utts) / 60.0, 2)
        texts[f"{target}-{minutes_label(minutes)}"] = [normalize(u.text, target) for u in utts]
        subset_words[minutes] = {w for t in texts[f"{target}-{minutes_label(minutes)}"] for w in t.split()}
        if subset_minutes[minutes] < minutes:
            log.warning("%s: the %s subset has only %.1f minutes (all the training audio)",
                        target, minutes_label(minutes), subset_minutes[minutes])
    tokenizers: dict[str, Tokenizer] = {}
    for lang in langs:  # built once, then read back: the same symbols on every restart
        tok_dir = d / "tokenizers" / lang
        if not (tok_dir / "tokenizer.json").exists():
            text = texts[lang] if lang != target else texts[f"{target}-{minutes_label(cfg.sizes[-1])}"]
            CharTokenizer.build(text).save(tok_dir)
        tokenizers[lang] = load_tokenizer(tok_dir)
    phones = _universal_phones(lexicons)
    ids = {s: i for i, s in enumerate(phones.tokens)}
    inventories = {lang: tuple(sorted({ids[WORD_BOUNDARY], *(ids[p] for p in lexicons[lang].phones())}))
                   for lang in langs}
    lms = {key: _write_lm(out / "lm" / f"{key}.arpa", t, cfg.lm_order) for key, t in texts.items()}
    return Inputs(out, cfg, target, sources, manifests, subsets, subset_minutes, subset_words, dev, test, lexicons,
                  tokenizers, phones, inventories, lms)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
