"""The multilingual experiments' parts: nested subsets, a bigger target corpus, phone-lexicon decoding, config.

The whole stage runs on the smoke corpus in tests/test_recipe_synth.py (its
``multilingual`` stage), which checks its results, plots and resumption.
"""

from __future__ import annotations

import pytest
import torch

from asr.data.manifest import Utterance, read_manifest
from asr.experiments.multilingual import (
    Decoders,
    ExperimentConfig,
    LanguageData,
    _write_lm,
    ensure_target_audio,
    nested_subsets,
)
from asr.text.lexicon import Lexicon
from asr.text.symbols import BLANK, UNK, SymbolTable
from asr.text.tokenizer import PhoneTokenizer


def _utts(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    durations = (1.0 + 4.0 * torch.rand(n, generator=g)).tolist()
    return [Utterance(id=f"u{i:03d}", audio=f"/x/{i}.wav", duration=d, text="a", lang="sw")
            for i, d in enumerate(durations)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nested_subsets_are_nested_deterministic_and_big_enough(seed):
    utts = _utts()
    sizes = [0.5, 1.0, 1.5]
    subsets = nested_subsets(utts, sizes, seed)
    assert nested_subsets(utts, sizes, seed) == subsets  # a pure function of the seed
    for small, big in zip(sizes, sizes[1:]):
        assert subsets[big][: len(subsets[small])] == subsets[small]  # the smaller set is inside the bigger
    for m in sizes:
        total = sum(u.duration for u in subsets[m])
        assert total >= 60 * m and total - subsets[m][-1].duration < 60 * m  # the shortest prefix reaching m
    assert nested_subsets(utts, [1.0], seed + 10)[1.0] != subsets[1.0]
    everything = nested_subsets(utts, [1000.0], seed)[1000.0]  # not enough audio: all of it
    assert sorted(u.id for u in everything) == sorted(u.id for u in utts)


def test_bigger_target_corpus_starts_with_the_prepared_one(tmp_path):
    from asr.data.synth import SynthConfig, generate

    cfg = SynthConfig(langs=("sw",), hours=0.004, train_speakers=2, dev_speakers=1, test_speakers=1,
                      min_utts_per_split=2)
    generate(tmp_path / "small", cfg, jobs=1, progress=False)
    small = LanguageData(*(tmp_path / "small" / "sw" / f for f in ("train.jsonl", "dev.jsonl", "test.jsonl",
                                                                   "lexicon.txt")))
    have = sum(u.duration for u in read_manifest(small.train)) / 60
    assert ensure_target_audio(small, "sw", have * 0.9, cfg, tmp_path / "big") is small  # enough already
    big = ensure_target_audio(small, "sw", 2 * have, cfg, tmp_path / "big", jobs=1)
    assert sum(u.duration for u in read_manifest(big.train)) / 60 >= 2 * have
    for split in ("train", "dev", "test"):
        a = read_manifest(getattr(small, split))
        b = read_manifest(getattr(big, split))
        assert len(b) >= len(a)
        for u, v in zip(a, b[: len(a)]):  # same utterances first: text, voice and audio bytes
            assert (u.id, u.text, u.speaker, u.duration) == (v.id, v.text, v.speaker, v.duration)
            with open(u.audio, "rb") as fa, open(v.audio, "rb") as fb:
                assert fa.read() == fb.read()
    lexicon = Lexicon.from_file(big.lexicon)
    assert all(w in lexicon for u in read_manifest(big.test) for w in u.text.split())


def test_phone_head_lexicon_decoding_outputs_a_word_missing_from_the_training_text(tmp_path):
    lexicon = Lexicon({"mama": [("m", "a", "m", "a")], "tatu": [("t", "a", "t", "u")],
                       "kitabu": [("k", "i", "t", "a", "b", "u")], "mtu": [("m", "t", "u")]})
    table = SymbolTable([BLANK, UNK, "|", "a", "b", "i", "k", "m", "t", "u", "ɲ"])
    tok = PhoneTokenizer(lexicon, table, "|")
    # "kitabu" is never in the LM's training text: it gets the back-off mass of the G2P vocabulary
    lm = _write_lm(tmp_path / "lm.arpa", ["mama tatu", "tatu mtu"], order=3, vocab=lexicon.words())
    decoders = Decoders(ExperimentConfig(beam=8, lm_weight=0.5))
    decoder = decoders.lexicon(tok, lm, words=lexicon.words())
    assert decoders.lexicon(tok, lm, words=lexicon.words()) is decoder  # built once
    ids = tok.encode("kitabu mtu")
    T = 2 * len(ids) + 1
    log_probs = torch.full((1, T, len(table)), -8.0)
    log_probs[0, :, 0] = 0.0  # blank everywhere but on the odd frames, which spell the phones
    for j, i in enumerate(ids):
        log_probs[0, 2 * j + 1, 0] = -8.0
        log_probs[0, 2 * j + 1, i] = 0.0
    assert decoder(log_probs.log_softmax(-1), torch.tensor([T])) == ["kitabu mtu"]


def test_config_checks_and_training_layers():
    with pytest.raises(ValueError, match="experiment"):
        ExperimentConfig(experiments=("scratch", "magic"))
    with pytest.raises(ValueError, match="policy"):
        ExperimentConfig(policies=("everything",))
    with pytest.raises(ValueError, match="minutes"):
        ExperimentConfig(minutes=(0,))
    cfg = ExperimentConfig(minutes=(10, 60), transfer_minutes=30, train={"epochs": 3, "lr": 0.002},
                           source_train={"epochs": 5}, joint_train={"epochs": 2}, finetune_train={"lr": 0.0005})
    assert cfg.sizes == [10.0, 30.0, 60.0]
    assert (cfg.train_config().epochs, cfg.train_config("source").epochs, cfg.train_config("joint").epochs) == (3, 5, 2)
    assert cfg.train_config("joint").lr == 0.002 and cfg.train_config("finetune").lr == 0.0005
    assert cfg.train_config("finetune").epochs == 3 and not cfg.train_config().progress
    with pytest.raises(ValueError, match="bogus"):
        ExperimentConfig(train={"bogus": 1}).train_config()


def test_every_synth_preset_multilingual_block_builds():
    """Typos in a preset's ``multilingual:`` block fail here, not after its corpus is generated."""
    from pathlib import Path

    from asr.config import from_dict, load_yaml

    confs = sorted((Path(__file__).resolve().parents[1] / "recipes" / "synth" / "conf").glob("*.yaml"))
    blocks = {c.name: load_yaml(c).get("multilingual") for c in confs}
    assert blocks.get("smoke.yaml") and blocks.get("multilingual.yaml")
    for name, block in blocks.items():
        if not block:
            continue
        cfg = from_dict(ExperimentConfig, block, source=name)
        cfg.model_config()
        for kind in ("scratch", "source", "joint", "finetune"):
            cfg.train_config(kind)
