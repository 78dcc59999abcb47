"""Shared fixtures: tiny real audio written to disk, CUDA skip marker."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` when no CUDA device is visible."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def make_tone(seconds: float = 1.0, sample_rate: int = 16000, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """A ``(T,)`` float32 chirp-plus-noise signal: speech-like enough for features."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    sig = 0.3 * np.sin(2 * math.pi * (freq + 200 * t) * t) + 0.02 * rng.standard_normal(t.shape)
    return sig.astype(np.float32)


def random_ctc_model_dir(out: Path, text: str) -> Path:
    """A tiny CTC model directory with random weights over ``text``'s characters (head scaled so it emits words)."""
    from asr.models.ctc import CTCModel, ModelConfig, save_model_dir
    from asr.text.tokenizer import CharTokenizer

    torch.manual_seed(0)
    tok = CharTokenizer.build([text])
    model = CTCModel(ModelConfig.preset("tiny", vocab_size=tok.vocab_size, num_layers=1)).eval()
    with torch.no_grad():
        model.head.weight.mul_(4.0)
    return save_model_dir(out, model, tok)


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    """A 1 s, 16 kHz mono PCM-16 wav file."""
    path = tmp_path / "tone.wav"
    sf.write(path, make_tone(), 16000, subtype="PCM_16")
    return path


def random_hybrid_model_dir(out: Path, words: dict[str, list[str]]) -> Path:
    """A hybrid model directory with random classifier weights over ``words`` (word -> phones), a bigram of them."""
    from asr.features import FeatureConfig, FeatureExtractor
    from asr.hmm.topology import SIL, HmmTopology, TopologyConfig
    from asr.models.frame_classifier import FrameClassifierConfig, build_frame_classifier
    from asr.models.hybrid import HybridModel, save_hybrid
    from asr.text.lexicon import Lexicon
    from asr.text.lm import train_ngram

    torch.manual_seed(0)
    phones = [SIL, *sorted({p for pron in words.values() for p in pron})]
    topo = HmmTopology(phones, TopologyConfig())
    lex = Lexicon()
    for w, pron in words.items():
        lex.add(w, pron)
    extractor = FeatureExtractor(FeatureConfig(kind="mfcc"))
    ccfg = FrameClassifierConfig(kind="tdnn", input_dim=extractor.dim, num_pdfs=topo.num_pdfs, hidden=32)
    model = HybridModel(extractor=extractor, classifier=build_frame_classifier(ccfg), classifier_config=ccfg,
                        log_prior=torch.full((topo.num_pdfs,), -math.log(topo.num_pdfs)), prior_scale=1.0,
                        topo=topo, lexicon=lex, lm=train_ngram([list(words)], 2, vocab=list(words)),
                        phone_lm=train_ngram([[p for pron in words.values() for p in pron]], 2), lang="en")
    save_hybrid(out, model)
    return out


OVERFIT_TEXTS = ["hello world", "good morning", "thank you"]


def _render_here(out: Path, texts: list[str], prefix: str, lead_s: float, tail_s: float) -> list:
    """:func:`render_corpus` in this process (which must be a fresh one)."""
    from asr.data.manifest import Utterance
    from asr.data.synth import Speaker, UttSpec, _render_shard

    spk = Speaker(id="spk0", lang="en", voice="en-us+m3", pitch=50, pitch_range=50, speed=1.0, gain_db=-6.0)
    specs = [UttSpec(id=f"{prefix}{i:02d}", lang="en", split="train", text=text, speaker=spk, speed=1.0, pitch=50,
                     gain_db=-6.0, lead_s=lead_s, tail_s=tail_s, snr_db=None, noise_color=0.0, rt60_s=None, seed=i,
                     wav_path=f"wav/{prefix}{i:02d}.wav") for i, text in enumerate(texts)]
    rendered = _render_shard((specs, str(out)))
    return [Utterance(id=spec.id, audio=str(out / spec.wav_path), duration=r.duration, text=spec.text, lang="en",
                      speaker="spk0") for spec, r in zip(specs, rendered)]


def in_fresh_process(fn, *args):
    """``fn(*args)`` in a new process (``fn`` importable by name), for results that must not depend on
    what the tests before did: libespeak-ng keeps state from one utterance to the next, and a training's
    arithmetic follows the process' thread settings."""
    import multiprocessing as mp

    with mp.get_context("forkserver").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, args)


def render_corpus(out: Path, texts: list[str], prefix: str, lead_s: float = 0.1, tail_s: float = 0.1) -> list:
    """Clean espeak-ng speech of ``texts`` (one voice, no noise) under ``out``, rendered in a fresh
    process as the corpus generator renders its shards; returns manifest rows
    (:class:`~asr.data.manifest.Utterance`, ids ``<prefix>00``, ...)."""
    return in_fresh_process(_render_here, out, texts, prefix, lead_s, tail_s)


def _train_overfit(root: Path) -> None:
    """Render and train :func:`overfit_ctc`'s model under ``root`` (in a fresh process)."""
    import dataclasses

    from asr.data.manifest import write_manifest
    from asr.models.ctc import ModelConfig
    from asr.text.tokenizer import CharTokenizer
    from asr.train.config import TrainConfig
    from asr.train.loop import train_ctc

    utts = _render_here(root / "corpus", OVERFIT_TEXTS, "u", lead_s=0.2, tail_s=0.6)
    long = _render_here(root / "corpus", OVERFIT_TEXTS, "l", lead_s=0.2, tail_s=2.0)  # silence is blank
    write_manifest(root / "dev.jsonl", utts)
    write_manifest(root / "train.jsonl", [dataclasses.replace(u, id=f"{u.id}-{k}") for k in range(6) for u in utts + long])
    torch.manual_seed(0)
    model_cfg = ModelConfig.preset("tiny", dropout=0.0, spec_freq_masks=0, spec_time_masks=0)
    train_cfg = TrainConfig(epochs=20, max_batch_seconds=6.0, lr=3e-3, warmup_steps=10, schedule="constant",
                            checkpoint_every=0, average_last=1, log_every=50, progress=False)
    train_ctc(root / "train.jsonl", root / "dev.jsonl", root / "exp", model_cfg, train_cfg,
              CharTokenizer.build(OVERFIT_TEXTS))


@pytest.fixture(scope="session")
def overfit_ctc(tmp_path_factory):
    """A tiny CTC model trained on three clean espeak-ng utterances (0.2 s of silence before, 0.6 or 2 s
    after, so that it knows silence too) until it knows them (~25 s), rendered and trained in a fresh
    process so that it is the same model whichever tests ran before:
    ``(model_dir, [wav (S,)], texts)``. Tests copy the directory before writing into it."""
    from asr.audio import load_audio
    from asr.data.manifest import read_manifest

    root = tmp_path_factory.mktemp("overfit")
    in_fresh_process(_train_overfit, root)
    utts = read_manifest(root / "dev.jsonl")
    return root / "exp" / "model", [load_audio(u.audio) for u in utts], list(OVERFIT_TEXTS)
