"""ONNX export and the onnxruntime backends: parity with torch on real speech, int8 text agreement, errors."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("onnx", reason="onnx is not installed (pip install 'asr[onnx]')")
pytest.importorskip("onnxscript", reason="onnxscript is not installed (pip install 'asr[onnx]')")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'asr[onnx]')")

import asr  # noqa: E402
from asr.cli import main  # noqa: E402
from asr.models.ctc import ModelConfig, load_model_dir  # noqa: E402
from asr.models.onnx import ONNX_FILE, ONNX_INT8_FILE, OnnxCTC  # noqa: E402
from asr.text.tokenizer import CharTokenizer  # noqa: E402

from conftest import random_hybrid_model_dir  # noqa: E402
from conftest import OVERFIT_TEXTS  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(overfit_ctc, tmp_path_factory):
    """The overfit tiny CTC model (conftest), copied and exported by ``asr export --format onnx --int8``."""
    import shutil

    src, wavs, _ = overfit_ctc
    model_dir = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(src, model_dir)
    assert main(["export", str(model_dir), "--format", "onnx", "--int8"]) == 0  # checked against eager inside
    return model_dir, wavs


def test_onnx_log_probs_match_torch_on_a_ragged_batch(trained):
    model_dir, wavs = trained
    model, _, _ = load_model_dir(model_dir)
    lengths = torch.tensor([w.shape[0] for w in wavs])
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    with torch.no_grad():
        ref, ref_n = model.log_probs(batch, lengths)
    got, got_n = OnnxCTC(model_dir / ONNX_FILE).log_probs(batch, lengths)
    assert torch.equal(ref_n, got_n) and ref.shape == got.shape
    valid = torch.arange(ref.shape[1])[None, :] < ref_n[:, None]
    assert (ref - got).abs()[valid].max() < 1e-4
    short, short_n = OnnxCTC(model_dir / ONNX_FILE).log_probs(torch.zeros(1, 500), torch.tensor([500]))
    assert short.shape[1] == int(short_n[0]) <= 1  # under the traced minimum: padded inside, lengths kept


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backends_give_torch_s_transcripts(trained, backend):
    model_dir, wavs = trained
    torch_rec = asr.load(model_dir, beam=1)
    rec = asr.load(model_dir, beam=1, backend=backend)
    assert rec.engine.backend == backend
    for wav, text in zip(wavs, OVERFIT_TEXTS):
        ref, got = torch_rec.transcribe(wav), rec.transcribe(wav)
        assert ref.text == text and got.text == text  # int8 included: the same greedy text
        assert [w.word for w in got.words] == text.split()
        for a, b in zip(ref.words, got.words):
            assert abs(a.start - b.start) <= 0.05 and 0.0 < b.confidence <= 1.0
            tol = 1e-3 if backend == "onnx" else 0.1
            assert b.confidence == pytest.approx(a.confidence, abs=tol)


def test_int8_file_is_smaller(trained):
    model_dir, _ = trained
    assert (model_dir / ONNX_INT8_FILE).stat().st_size < 0.6 * (model_dir / ONNX_FILE).stat().st_size


def test_onnx_errors_name_the_file_and_the_fix(trained, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    model_dir, _ = trained
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokens.txt"):
        if (model_dir / name).is_file():
            (bare / name).write_bytes((model_dir / name).read_bytes())
    with pytest.raises(ValueError, match="asr export .* --format onnx --int8"):
        asr.load(bare, backend="onnx-int8")
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save_model(helper.make_model(graph), tmp_path / "foreign.onnx")
    with pytest.raises(ValueError, match="foreign.onnx: no asr_export metadata"):
        OnnxCTC(tmp_path / "foreign.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match="junk.onnx: cannot load"):
        OnnxCTC(tmp_path / "junk.onnx")
    hybrid = random_hybrid_model_dir(tmp_path / "hybrid", {"cat": ["k", "a", "t"]})
    with pytest.raises(ValueError, match="hybrid system runs in torch only"):
        asr.load(hybrid, backend="onnx")
    assert main(["export", str(model_dir), "--format", "pt2", "--int8"]) == 2  # a usage error: no output file


@pytest.mark.parametrize("variant", ["conformer-rotary", "blstm"])
def test_other_encoders_export_to_onnx(tmp_path, variant):
    from asr.export import export_onnx
    from asr.features import GlobalCMVN
    from asr.models.ctc import CTCModel, save_model_dir

    from test_export import TEXTS, VARIANTS

    torch.manual_seed(0)
    tok = CharTokenizer.build(TEXTS)
    cfg = ModelConfig.preset("tiny", vocab_size=tok.vocab_size, **VARIANTS[variant])
    save_model_dir(tmp_path / "m", CTCModel(cfg, GlobalCMVN(torch.randn(80), torch.rand(80) + 0.5)), tok)
    (path,) = export_onnx(tmp_path / "m", example_seconds=1.0)
    model, _, _ = load_model_dir(tmp_path / "m")
    wav = torch.randn(3, 27_000) * 0.1
    lengths = torch.tensor([27_000, 5_000, 20_011])  # longer than traced, ragged
    with torch.no_grad():
        ref, ref_n = model.log_probs(wav, lengths)
    got, got_n = OnnxCTC(path).log_probs(wav, lengths)
    valid = torch.arange(ref.shape[1])[None, :] < ref_n[:, None]
    assert torch.equal(ref_n, got_n) and (ref - got).abs()[valid].max() < 1e-4
