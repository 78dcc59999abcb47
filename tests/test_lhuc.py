"""LHUC unit scales: identity at the start, only the scales train, folding keeps the function and the format."""

from __future__ import annotations

import pytest
import torch

from asr.models.encoders import ConformerEncoder
from asr.models.frame_classifier import FrameClassifierConfig, build_frame_classifier
from asr.models.lhuc import add_lhuc, fold_lhuc, lhuc_targets


def _tdnn() -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_frame_classifier(FrameClassifierConfig(kind="tdnn", input_dim=13, num_pdfs=7, hidden=16))
    model.train()
    model(torch.randn(4, 30, 13))  # batch-norm statistics that are not the initial ones
    return model.eval()


def test_scales_start_at_one_and_only_they_train():
    model = _tdnn()
    x = torch.randn(2, 25, 13)
    ref = model(x)
    names = set(model.state_dict())
    scales = add_lhuc(model)
    assert len(scales) == len(lhuc_targets(model)) == 5 and all(s.shape == (16,) for s in scales)
    assert torch.allclose(model(x), ref, atol=1e-6)  # 2 * sigmoid(0) = 1
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert {id(p) for p in trainable} == {id(s) for s in scales}
    opt = torch.optim.Adam(scales, lr=0.1)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if "parametrizations" in k or "running" in k}
    for _ in range(5):
        opt.zero_grad()
        model(x).logsumexp(-1).sum().backward()
        opt.step()
    assert all(not torch.allclose(s, torch.zeros_like(s)) for s in scales)
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in frozen.items() if not k.endswith(".r"))  # originals untouched
    adapted = model(x)
    assert not torch.allclose(adapted, ref, atol=1e-4)
    assert fold_lhuc(model) == 5
    assert set(model.state_dict()) == names  # the unadapted model's format
    assert torch.allclose(model(x), adapted, atol=1e-5)
    assert all(p.requires_grad for p in model.parameters())


def test_conformer_layer_norms_and_errors():
    torch.manual_seed(0)
    enc = ConformerEncoder(input_dim=8, d_model=16, num_layers=2, num_heads=2, ff_dim=32, conv_kernel=3).eval()
    x, lengths = torch.randn(2, 40, 8), torch.tensor([40, 31])
    ref = enc(x, lengths)[0]
    targets = lhuc_targets(enc)
    assert targets and all(isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm1d)) for m in targets)
    add_lhuc(enc)
    assert torch.allclose(enc(x, lengths)[0], ref, atol=1e-6)
    with pytest.raises(ValueError, match="parametrized already"):
        add_lhuc(enc)
    fold_lhuc(enc)
    with pytest.raises(ValueError, match="no normalization layer"):
        add_lhuc(torch.nn.Linear(3, 3))
