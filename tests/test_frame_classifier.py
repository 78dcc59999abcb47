"""asr.models.frame_classifier: the hybrid system's frame-level networks."""

from __future__ import annotations

import pytest
import torch

from asr.models.frame_classifier import FrameClassifierConfig, build_frame_classifier


@pytest.mark.parametrize("kind", ["tdnn", "mlp"])
def test_output_shapes_sweep(kind):
    for T in (1, 7, 20):
        for feat_dim in (13, 39):
            cfg = FrameClassifierConfig(kind=kind, input_dim=feat_dim, num_pdfs=11, hidden=32)
            net = build_frame_classifier(cfg).eval()
            assert net(torch.randn(2, T, feat_dim)).shape == (2, T, 11)


@pytest.mark.parametrize("kind", ["tdnn", "mlp"])
def test_unpadded_input_loses_its_context_frames(kind):
    net = build_frame_classifier(FrameClassifierConfig(kind=kind, input_dim=13, num_pdfs=5, hidden=16)).eval()
    c = net.context
    x = torch.randn(1, 30 + 2 * c, 13)
    inner = net(x, pad=False)
    assert inner.shape == (1, 30, 5)
    assert torch.allclose(inner, net(x)[:, c : c + 30], atol=1e-5)  # same frames, same scores


def test_tdnn_context_follows_kernels_and_dilations():
    cfg = FrameClassifierConfig(kind="tdnn", input_dim=13, num_pdfs=5, hidden=16, kernels=(5, 3), dilations=(1, 2))
    assert build_frame_classifier(cfg).context == 2 + 2
    with pytest.raises(ValueError, match="odd"):
        build_frame_classifier(FrameClassifierConfig(kind="tdnn", input_dim=13, num_pdfs=5, kernels=(4,), dilations=(1,)))


def test_unknown_kind_names_the_known_ones():
    with pytest.raises((KeyError, ValueError), match="tdnn"):
        build_frame_classifier(FrameClassifierConfig(kind="nope", input_dim=13, num_pdfs=5))
