"""Test evaluation of the experiments' models: one forward pass per model and test set, several decoders.

Usage::

    decoders = Decoders(cfg)
    result = evaluate(inp, decoders, "ft-full-10min", "sw", inp.target_lm(10.0))   # {"greedy", "lm", "eval_s"}
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from asr.data.manifest import read_manifest
from asr.experiments.multilingual.config import DECODE_BATCH_SECONDS, ExperimentConfig
from asr.experiments.multilingual.data import Inputs, _write_json
from asr.experiments.multilingual.runs import _run_dir
from asr.text.normalize import normalize
from asr.text.tokenizer import Tokenizer, load_tokenizer

__all__ = ["Decoder", "Decoders", "greedy", "decode_test", "score_subset", "evaluate"]


Decoder = Callable[[Tensor, Tensor], list[str]]  # log_probs (B, T, V), lengths (B,) -> B texts


class Decoders:
    """Lexicon + LM decoders, built once per (units, lexicon, LM) and reused across cells."""

    def __init__(self, cfg: ExperimentConfig):
        self.cfg = cfg
        self._cache: dict[tuple, Decoder] = {}

    def lexicon(self, tokenizer: Tokenizer, lm: Path, words: Sequence[str] | None = None) -> Decoder:
        """A :class:`~asr.decoding.ctc_lexicon.LexiconDecoder` over ``tokenizer``'s units (characters, or
        phones when it is a :class:`PhoneTokenizer`, spelling words through its lexicon)."""
        from asr.decoding.ctc_lexicon import LexiconDecoder

        key = (tuple(tokenizer.tokens), str(lm), tuple(words) if words is not None else None)
        if key not in self._cache:
            self._cache[key] = LexiconDecoder(tokenizer, lm=lm, words=words, beam_size=self.cfg.beam,
                                              lm_weight=self.cfg.lm_weight, word_score=self.cfg.word_score)
        return self._cache[key]


def greedy(tokenizer: Tokenizer) -> Decoder:
    """Best-path decoding with ``tokenizer``."""
    from asr.decoding.greedy import GreedyDecoder

    return GreedyDecoder(tokenizer)


def decode_test(
    model_dir: Path, lang: str, manifest: Path, decoders: Mapping[str, tuple[str, Decoder]]
) -> dict[str, dict[str, str]]:
    """Hypotheses of every decoder over ``manifest``, from one forward pass per batch.

    Args:
        model_dir: a multilingual model directory.
        lang: whose head decodes (``"char"`` decoders) and whose phone mask applies (``"phone"``).
        decoders: variant name -> (``"char"`` or ``"phone"``, decoder).

    Returns:
        variant -> utterance id -> text (unreadable audio: empty text).
    """
    from asr.data.dataset import AudioDataset
    from asr.data.collate import collate_waveforms
    from asr.decoding.manifest import decode_batches
    from asr.models.multilingual import load_multilingual_dir

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, _, _ = load_multilingual_dir(model_dir, device=device)
    utts = read_manifest(manifest)
    batches = decode_batches(utts, DECODE_BATCH_SECONDS)
    hyps: dict[str, dict[str, str]] = {name: {u.id: "" for u in utts} for name in decoders}
    with torch.inference_mode():
        for batch_utts in batches:
            batch = collate_waveforms(list(AudioDataset(batch_utts)))
            if not batch["ids"]:
                continue
            out = model(batch["wav"].to(device), batch["wav_lengths"].to(device), [lang] * len(batch["ids"]))
            lp = {"char": out["logits"][lang].float().log_softmax(-1)}
            if "phone_logits" in out:
                lp["phone"] = out["phone_logits"].float().log_softmax(-1)
            for name, (head, decoder) in decoders.items():
                for i, text in zip(batch["ids"], decoder(lp[head], out["lengths"])):
                    hyps[name][i] = text
    return hyps


def score_subset(refs: Mapping[str, str], hyps: Mapping[str, str], ids: Sequence[str] | None = None) -> dict[str, Any]:
    """WER/CER (``asr.metrics``) over ``ids`` (default: all references): ``{wer, cer, words, utts}``."""
    from asr.metrics import score

    keep = list(refs) if ids is None else list(ids)
    report = score({i: refs[i] for i in keep}, {i: hyps.get(i, "") for i in keep})
    return {"wer": report.wer, "cer": report.cer, "words": report.num_words, "utts": len(keep)}


def _refs(manifest: Path, lang: str) -> dict[str, str]:
    return {u.id: normalize(u.text, lang) for u in read_manifest(manifest)}


def evaluate(inp: Inputs, decoders: Decoders, run: str, lang: str, lm: Path) -> dict[str, Any]:
    """Test WER/CER of ``runs/<run>/model`` on ``lang``: ``{"greedy": {...}, "lm": {...}, "eval_s"}``.

    Cached in ``runs/<run>/test-<lang>-<lm>-<decoder settings>.json`` so that cells sharing a
    model decode it once (a retrained run, or other decoder settings, decode again).
    """
    c = inp.cfg
    cache = _run_dir(inp, run) / f"test-{lang}-{lm.stem}-beam{c.beam}-lmw{c.lm_weight:g}-ws{c.word_score:g}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    t0 = time.perf_counter()
    model_dir = _run_dir(inp, run) / "model"
    tok = load_tokenizer(model_dir / "tokenizers" / lang)
    variants = {"greedy": ("char", greedy(tok)), "lm": ("char", decoders.lexicon(tok, lm))}
    hyps = decode_test(model_dir, lang, inp.test[lang], variants)
    refs = _refs(inp.test[lang], lang)
    result = {name: score_subset(refs, h) for name, h in hyps.items()}
    result["eval_s"] = round(time.perf_counter() - t0, 2)
    _write_json(cache, result)
    return result


def _train_info(summary: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("steps", "epochs", "params", "trainable_params", "train_hours", "wall_s", "dev_wer", "dev_cer")
    return {k: summary.get(k) for k in keys}
