"""Fine-tuning policies, L2-SP, layer transfer, progressive columns, gradient reversal."""

from __future__ import annotations

import pytest
import torch

from asr.features import FeatureConfig
from asr.losses.multitask import multitask_loss
from asr.models.ctc import CTCModel, ModelConfig
from asr.models.multilingual import MultilingualConfig, MultilingualCTC
from asr.train.finetune import (
    DomainClassifier,
    ProgressiveColumn,
    apply_policy,
    dann_lambda,
    freeze_encoder,
    grad_reverse,
    l2sp_penalty,
    reference_state,
    trainable_parameters,
    transfer_layers,
    unfreeze_all,
    unfreeze_top_k,
)

BASE = ModelConfig(
    features=FeatureConfig(kind="fbank", num_mel_bins=40, cmvn="none"),
    d_model=32, num_layers=3, num_heads=2, ff_dim=64, conv_kernel=5, subsampling_channels=8, dropout=0.1,
    spec_freq_masks=0, spec_time_masks=0, vocab_size=6,
)


def _ctc(seed=0) -> CTCModel:
    torch.manual_seed(seed)
    return CTCModel(BASE)


def _data(B=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    wav = 0.1 * torch.randn(B, 6400, generator=g)
    return wav, torch.full((B,), 6400), torch.randint(1, 6, (B, 3), generator=g), torch.full((B,), 3)


def _ctc_step(model, params, steps=1, extra=None):
    from asr.losses.ctc import ctc_loss

    opt = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.1)
    model.train()
    for s in range(steps):
        wav, wl, tok, tl = _data(seed=s)
        logits, lengths = model(wav, wl)
        loss = ctc_loss(logits, tok, lengths, tl)
        if extra is not None:
            loss = loss + extra(model)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("policy,k", [("head", 0), ("top-k", 1), ("top-k", 2), ("full", 0)])
def test_frozen_parameters_bit_identical_after_real_step(policy, k):
    model = _ctc()
    trainable = set(apply_policy(model, policy, k=k))
    before = _snapshot(model)
    # the optimizer gets *all* parameters: freezing alone must protect them (AdamW weight decay included)
    _ctc_step(model, model.parameters())
    L = len(model.encoder.layers)
    for name, p in model.named_parameters():
        frozen = name not in trainable
        expect_frozen = {
            "head": not name.startswith("head."),
            "top-k": name.startswith(("encoder.subsampling", "frontend."))
            or (name.startswith("encoder.layers.") and int(name.split(".")[2]) < L - k),
            "full": False,
        }[policy]
        assert frozen == expect_frozen, name
        if frozen:
            assert torch.equal(p, before[name]), name
        else:
            assert not torch.equal(p, before[name]), name


def test_freeze_works_on_multilingual_and_unfreeze_restores():
    torch.manual_seed(0)
    model = MultilingualCTC(MultilingualConfig(base=BASE, languages=("en", "sw"), vocab_sizes=(6, 5), lang_id=True))
    names = freeze_encoder(model)
    assert names and all(n.startswith(("heads.", "lang_head.")) for n in names)
    assert {n for n in unfreeze_top_k(model, 1) if n.startswith("encoder.")} == {
        n for n, _ in model.named_parameters() if n.startswith("encoder.layers.2.")
    }
    assert len(unfreeze_all(model)) == len(list(model.parameters()))
    assert len(trainable_parameters(model)) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="policy"):
        apply_policy(model, "nope")


def test_l2sp_zero_at_reference_and_pulls_back():
    model = _ctc()
    ref = reference_state(model)
    assert all(n.startswith("encoder.") for n in ref) and "head.weight" not in ref
    pen = l2sp_penalty(model, ref, alpha=0.5)
    assert pen.item() == 0.0
    p = model.encoder.layers[0].ff1.w1.weight
    delta = torch.randn_like(p) * 0.1
    with torch.no_grad():
        p.add_(delta)
        model.head.weight.add_(1.0)  # the new head is not pulled
    pen = l2sp_penalty(model, ref, alpha=0.5)
    torch.testing.assert_close(pen, 0.25 * delta.square().sum())
    pen.backward()
    torch.testing.assert_close(p.grad, 0.5 * delta)  # points away from the reference: descent goes back
    assert model.head.weight.grad is None
    dist0 = (p - ref["encoder.layers.0.ff1.w1.weight"]).norm()
    opt = torch.optim.SGD([p], lr=1.0)
    opt.step()
    assert (p - ref["encoder.layers.0.ff1.w1.weight"]).norm() < dist0


def test_l2sp_training_stays_closer_than_plain_finetuning():
    plain, reg = _ctc(), _ctc()
    ref = reference_state(reg)
    _ctc_step(plain, plain.parameters(), steps=3)
    _ctc_step(reg, reg.parameters(), steps=3, extra=lambda m: l2sp_penalty(m, ref, alpha=50.0))
    assert l2sp_penalty(reg, ref, 1.0) < l2sp_penalty(plain, ref, 1.0)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_transfer_layers_copies_exactly_first_k(k):
    src, dst = _ctc(seed=0), _ctc(seed=1)
    dst_before = {n: t.clone() for n, t in dst.encoder.state_dict().items()}
    copied = transfer_layers(src.encoder, dst.encoder, k)
    s = src.encoder.state_dict()
    for name, t in dst.encoder.state_dict().items():
        layer = int(name.split(".")[1]) if name.startswith("layers.") else None
        if layer is None or layer < k:
            assert name in copied and torch.equal(t, s[name]), name
        else:
            assert name not in copied
            if t.dim() >= 2:  # re-initialised: neither the source nor the old target weights
                assert not torch.equal(t, s[name]) and not torch.equal(t, dst_before[name]), name
    with pytest.raises(ValueError):
        transfer_layers(src.encoder, dst.encoder, 4)


def test_progressive_column_leaves_source_unchanged():
    pre = _ctc(seed=0).eval()
    wav, wl, _, _ = _data(seed=5)
    feats, flen = pre.features(wav, wl)
    with torch.no_grad():
        src_out, _ = pre.encoder(feats, flen)
    src_params = {n: p.clone() for n, p in pre.encoder.named_parameters()}
    model = _ctc(seed=2)
    model.encoder = ProgressiveColumn(pre.encoder)
    # zero laterals at the start: the new column alone
    with torch.no_grad():
        y, ylen = model.encoder(feats, flen)
        alone, _ = model.encoder.column(feats, flen)
    torch.testing.assert_close(y, alone)
    unfreeze_all(model)  # even asking for everything cannot train the source
    assert model.encoder.source.training is False
    _ctc_step(model, model.parameters(), steps=2)
    assert model.encoder.source.training is False and model.encoder.column.training
    for n, p in model.encoder.source.named_parameters():
        assert torch.equal(p, src_params[n]), n
    with torch.no_grad():
        after, _ = model.encoder.source(feats, flen)
    assert torch.equal(after, src_out)
    assert model.encoder.laterals[1].weight.abs().sum() > 0  # laterals learned
    assert any(not torch.equal(a, b) for a, b in zip(model.encoder.column.parameters(), pre.encoder.parameters()))


def test_grad_reverse_flips_sign():
    x = torch.randn(3, 4, requires_grad=True)
    y = grad_reverse(x, 0.7)
    assert torch.equal(y, x)
    w = torch.randn(3, 4)
    (y * w).sum().backward()
    torch.testing.assert_close(x.grad, -0.7 * w)


def test_domain_classifier_reverses_encoder_gradient():
    hidden = torch.randn(2, 5, 8, requires_grad=True)
    lengths = torch.tensor([5, 3])
    clf = DomainClassifier(8, 3, hidden_dim=16)
    labels = torch.tensor([0, 2])
    loss = torch.nn.functional.cross_entropy(clf(hidden, lengths, lambd=1.0), labels)
    (g_rev,) = torch.autograd.grad(loss, hidden)
    loss = torch.nn.functional.cross_entropy(clf(hidden, lengths, lambd=-1.0), labels)  # -1: no reversal
    (g_plain,) = torch.autograd.grad(loss, hidden)
    torch.testing.assert_close(g_rev, -g_plain)
    assert torch.equal(g_rev[1, 3:], torch.zeros_like(g_rev[1, 3:]))  # padding frames ignored
    assert dann_lambda(0.0) == 0.0 and 0.99 < dann_lambda(1.0) <= 1.0


def test_multitask_loss_with_frozen_encoder_trains_head_only():
    torch.manual_seed(0)
    model = MultilingualCTC(MultilingualConfig(base=BASE, languages=("sw",), vocab_sizes=(6,)))
    freeze_encoder(model)
    before = _snapshot(model)
    wav, wl, tok, tl = _data()
    opt = torch.optim.AdamW(trainable_parameters(model), lr=1e-2)
    out = model(wav, wl, ["sw", "sw"])
    loss, _ = multitask_loss(out, {"tokens": tok, "token_lengths": tl})
    loss.backward()
    opt.step()
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]) == (not n.startswith("heads.")), n


@pytest.mark.parametrize("k", [0, 2, 3])
def test_layer_transfer_rename_loads_first_k_blocks_and_keeps_fresh_rest(tmp_path, k):
    from asr.models.multilingual import save_multilingual_dir
    from asr.models.pretrained import from_pretrained
    from asr.text.tokenizer import CharTokenizer
    from asr.train.finetune import layer_transfer_rename

    tok = CharTokenizer.build(["abcd"])
    cfg = MultilingualConfig(base=BASE, languages=("en",), vocab_sizes=(tok.vocab_size,))
    torch.manual_seed(0)
    src = MultilingualCTC(cfg)
    save_multilingual_dir(tmp_path / "src", src, {"en": tok})
    torch.manual_seed(1)
    fresh = MultilingualCTC(cfg).state_dict()
    torch.manual_seed(1)  # the same seed: the loaded model's fresh part equals `fresh`
    model, report = from_pretrained(tmp_path / "src", cfg, rename=layer_transfer_rename(3, k))
    s, m = src.state_dict(), model.state_dict()
    for name in m:
        block = int(name.split(".")[2]) if name.startswith("encoder.layers.") else None
        expected = fresh if block is not None and block >= k else s
        assert torch.equal(m[name], expected[name]), name
    assert len(report.unexpected) == sum(1 for n in s if n.startswith("encoder.layers.") and int(n.split(".")[2]) >= k)
    with pytest.raises(ValueError):
        layer_transfer_rename(3, 4)
