"""The CTC model: presets, shapes, model directory round trip, config errors."""

from __future__ import annotations

import json

import pytest
import torch

from asr.features import GlobalCMVN
from asr.models.ctc import PRESETS, CTCModel, ModelConfig, load_model_dir, read_model_config, save_model_dir
from asr.registry import RegistryError
from asr.text.tokenizer import CharTokenizer, SentencePieceTokenizer

TEXTS = ["hello world", "good morning", "thank you very much"]


def encoder_params(name: str) -> int:
    model = CTCModel(ModelConfig.preset(name, vocab_size=2))
    return model.num_parameters() - sum(p.numel() for p in model.head.parameters())


def test_preset_sizes():
    assert encoder_params("tiny") < 1_000_000
    assert 13e6 < encoder_params("small") < 17e6
    assert 27e6 < encoder_params("medium") < 33e6
    with pytest.raises(ValueError, match="known: tiny, small, medium"):
        ModelConfig.preset("huge")


@pytest.mark.parametrize("encoder", ["conformer", "blstm"])
def test_forward_shapes(encoder):
    torch.manual_seed(0)
    cfg = ModelConfig.preset("tiny", encoder=encoder, vocab_size=30, num_layers=2)
    model = CTCModel(cfg).eval()
    wav_lengths = torch.tensor([16000, 9000])
    logits, out_lengths = model(torch.randn(2, 16000) * 0.1, wav_lengths)
    assert logits.shape == (2, int(out_lengths.max()), 30)
    # 98 and 54 feature frames -> ((T - 1) // 2 - 1) // 2 encoder frames
    assert out_lengths.tolist() == model.output_lengths(wav_lengths).tolist() == [23, 12]
    assert model.frame_shift_s == pytest.approx(0.04)
    lp, _ = model.log_probs(torch.randn(2, 16000) * 0.1, wav_lengths)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(lp.shape[:2]))


def test_specaugment_only_in_training():
    torch.manual_seed(0)
    model = CTCModel(ModelConfig.preset("tiny", vocab_size=10, num_layers=1))
    wav, lengths = torch.randn(1, 16000) * 0.1, torch.tensor([16000])
    model.eval()
    a, _ = model.features(wav, lengths)
    b, _ = model.features(wav, lengths)
    assert torch.equal(a, b)
    model.train()
    c, _ = model.features(wav, lengths)
    assert (c == 0).sum() > (a == 0).sum()  # masks zeroed some bins / frames


@pytest.mark.parametrize("kind", ["char", "sentencepiece"])
def test_model_dir_round_trip_gives_identical_logits(tmp_path, kind):
    torch.manual_seed(0)
    if kind == "char":
        tok = CharTokenizer.build(TEXTS)
    else:
        tok = SentencePieceTokenizer.train(TEXTS * 20, 30, tmp_path / "spm", hard_vocab_limit=False)
    cfg = ModelConfig.preset("tiny", vocab_size=tok.vocab_size, pos="rotary")
    cmvn = GlobalCMVN(torch.randn(80), torch.rand(80) + 0.5)
    model = CTCModel(cfg, cmvn).eval()
    save_model_dir(tmp_path / "model", model, tok, extra={"note": "test"})
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert "model.safetensors" in files and "config.json" in files and "tokenizer.json" in files
    assert not [f for f in files if f.endswith((".pt", ".pkl", ".bin", ".part"))]
    config = read_model_config(tmp_path / "model")
    assert config["model"]["pos"] == "rotary" and config["model"]["features"]["cmvn"] == "global"
    assert config["cmvn"]["mean"] == pytest.approx(cmvn.mean.tolist())
    assert config["extra"] == {"note": "test"}

    loaded, tok2, cfg2 = load_model_dir(tmp_path / "model")
    assert cfg2 == cfg and not loaded.training
    assert tok2.tokens == tok.tokens and tok2.encode("hello world") == tok.encode("hello world")
    wav = torch.randn(2, 12000) * 0.1
    lengths = torch.tensor([12000, 8000])
    torch.testing.assert_close(loaded(wav, lengths)[0], model(wav, lengths)[0], rtol=0, atol=0)


def test_config_round_trip_and_errors(tmp_path):
    cfg = ModelConfig.preset("small", vocab_size=500, encoder="blstm")
    assert ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['d_modle'\]"):
        ModelConfig.from_dict({**cfg.to_dict(), "d_modle": 3})
    with pytest.raises(ValueError, match="d_model: expected int"):
        ModelConfig.from_dict({"d_model": "big"})
    with pytest.raises(RegistryError, match="known encoders"):
        CTCModel(ModelConfig.preset("tiny", vocab_size=10, encoder="wav2vec9"))
    with pytest.raises(ValueError, match="vocab_size"):
        CTCModel(ModelConfig.preset("tiny"))
    tok = CharTokenizer.build(TEXTS)
    with pytest.raises(ValueError, match="outputs"):
        save_model_dir(tmp_path / "m", CTCModel(ModelConfig.preset("tiny", vocab_size=5, num_layers=1)), tok)
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        load_model_dir(tmp_path / "nothing")


def test_every_preset_builds_with_both_encoders():
    for name in PRESETS:
        for encoder in ("conformer", "blstm"):
            CTCModel(ModelConfig.preset(name, vocab_size=8, encoder=encoder, num_layers=1))
