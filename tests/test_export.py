"""Export of the CTC model (``torch.export`` .pt2): same log-probs as the eager model, any batch and length."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import torch

from asr.export import export_model, load_exported, min_samples
from asr.features import GlobalCMVN
from asr.models.ctc import CTCModel, ModelConfig, load_model_dir, save_model_dir
from asr.registry import names
from asr.text.tokenizer import CharTokenizer

TEXTS = ["hello world", "good morning"]
SR = 16000

VARIANTS = {  # name -> ModelConfig overrides; tiny preset, fewer layers where the variant adds nothing new
    "conformer-rel": {"num_layers": 2},
    "conformer-rotary": {"pos": "rotary", "num_layers": 2},
    "blstm": {"encoder": "blstm", "num_layers": 2, "lstm_hidden": 64},
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def exported(request, tmp_path_factory):
    """``(eager model, loaded export, .pt2 path)`` for one variant, exported from 1 s examples."""
    overrides = VARIANTS[request.param]
    if overrides.get("encoder", "conformer") not in names("encoder"):
        pytest.skip(f"encoder {overrides['encoder']!r} not registered")
    torch.manual_seed(0)
    tok = CharTokenizer.build(TEXTS)
    cfg = ModelConfig.preset("tiny", vocab_size=tok.vocab_size, **overrides)
    model = CTCModel(cfg, GlobalCMVN(torch.randn(80), torch.rand(80) + 0.5))
    model.train()  # export must switch to eval itself (no dropout, no SpecAugment)
    root = tmp_path_factory.mktemp(request.param)
    save_model_dir(root / "model", model, tok)
    path = export_model(root / "model", root / "model.pt2", example_seconds=1.0)
    eager, _, _ = load_model_dir(root / "model")
    return eager, load_exported(path), path


@pytest.mark.parametrize(
    "lengths",
    [
        [SR],  # the traced length
        [27_000],  # batch 1, a length never traced
        [27_000, 5_000, 20_011],  # batch 3, ragged
        [SR // 2, 3_000],  # longest row shorter than the padded width
        [1_500, 900],  # under min_samples: padded inside, one and zero output frames
    ],
)
def test_export_matches_eager(exported, lengths):
    eager, model, _ = exported
    gen = torch.Generator().manual_seed(len(lengths))
    width = max(lengths) + (SR // 4 if lengths == [SR // 2, 3_000] else 0)
    wav = torch.randn(len(lengths), width, generator=gen) * 0.1
    wav_lengths = torch.tensor(lengths)
    with torch.no_grad():
        ref, ref_lengths = eager.log_probs(wav, wav_lengths)
    got, got_lengths = model(wav, wav_lengths)
    assert got_lengths.tolist() == ref_lengths.tolist()
    if lengths == [SR // 2, 3_000]:  # eager T' follows max(lengths): compare the frames it has
        assert got.shape[1] == ref.shape[1]
    assert got.shape == ref.shape
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)


def test_archive_is_json_and_raw_tensors(exported):
    """No pickled Python objects: JSON, raw tensor storage, and tensor-only ``.pt`` (weights_only loads)."""
    eager, model, path = exported
    assert min_samples(eager.cfg.features) == 2000  # 11 frames of 25 ms / 10 ms at 16 kHz
    with zipfile.ZipFile(path) as z:
        names_ = z.namelist()
        for name in names_:
            if name.endswith("_config.json"):
                config = json.loads(z.read(name))["config"]
                assert not any(entry["use_pickle"] for entry in config.values()), name
            elif name.endswith(".pt"):
                torch.load(io.BytesIO(z.read(name)), weights_only=True)
    assert any(n.endswith("extra/config.json") for n in names_)
    assert model.config["model"] == eager.cfg.to_dict()
    assert model.files["tokens.txt"] and model.files["tokenizer.json"]  # the vocabulary travels too
    assert model.meta["vocab_size"] == eager.cfg.vocab_size


def test_load_rejects_foreign_archive(tmp_path):
    class Double(torch.nn.Module):
        def forward(self, x):
            return 2 * x

    torch.export.save(torch.export.export(Double(), (torch.ones(2),)), tmp_path / "other.pt2")
    with pytest.raises(ValueError, match="not written by asr.export"):
        load_exported(tmp_path / "other.pt2")


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "fbank", "cmvn": "global"},
        {"kind": "fbank", "snip_edges": False, "use_energy": True, "cmvn": "utterance"},
        {"kind": "mfcc", "deltas": 2, "cmvn": "utterance"},
        {"kind": "mfcc", "use_energy": True, "energy_floor": 1.0, "preemphasis": 0.0},
    ],
)
def test_static_front_end_matches_feature_extractor(overrides):
    """The export's static front end (frames follow the padded width) equals FeatureExtractor on valid frames."""
    from asr.export import _features_static
    from asr.features import FeatureConfig, FeatureExtractor, feature_constants

    cfg = FeatureConfig(**overrides)
    cmvn = GlobalCMVN(torch.randn(cfg.base_dim), torch.rand(cfg.base_dim) + 0.5) if cfg.cmvn == "global" else None
    extractor = FeatureExtractor(cfg, cmvn).eval()
    wav = torch.randn(3, 9_000, generator=torch.Generator().manual_seed(0)) * 0.1
    lengths = torch.tensor([9_000, 4_321, 2_000])
    ref, ref_lengths = extractor(wav, lengths)
    got, got_lengths = _features_static(wav, lengths, cfg, feature_constants(cfg), extractor.cmvn)
    assert got_lengths.tolist() == ref_lengths.tolist()
    torch.testing.assert_close(got[:, : ref.shape[1]], ref, atol=1e-4, rtol=1e-4)
