"""MultilingualCTC: routing, masked multi-task loss, phone masks, head replacement, model dirs."""

from __future__ import annotations

import json

import pytest
import torch

from asr.features import FeatureConfig
from asr.losses.multitask import multitask_loss
from asr.models.ctc import CTCModel, ModelConfig, save_model_dir
from asr.models.multilingual import MultilingualConfig, MultilingualCTC, load_multilingual_dir, save_multilingual_dir
from asr.models.pretrained import from_pretrained, load_matching_state_dict, pretrained_base
from asr.text.tokenizer import CharTokenizer

BASE = ModelConfig(
    features=FeatureConfig(kind="fbank", num_mel_bins=40, cmvn="none"),
    d_model=32, num_layers=2, num_heads=2, ff_dim=64, conv_kernel=5, subsampling_channels=8, dropout=0.0,
    spec_freq_masks=0, spec_time_masks=0,
)


def _cfg(**kw) -> MultilingualConfig:
    args = dict(base=BASE, languages=("en", "de"), vocab_sizes=(7, 9), num_phones=6,
                phone_inventories=((1, 2, 3), (3, 4, 5)), lang_id=True, head_dropout=0.0)
    args.update(kw)
    return MultilingualConfig(**args)


def _model(seed: int = 0, **kw) -> MultilingualCTC:
    torch.manual_seed(seed)
    return MultilingualCTC(_cfg(**kw))


def _batch(langs, token_lengths=None, phone_lengths=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    B = len(langs)
    wav_lengths = torch.tensor([8000 - 800 * i for i in range(B)])
    wav = 0.1 * torch.randn(B, 8000, generator=g) * (torch.arange(8000)[None] < wav_lengths[:, None])
    tl = torch.tensor(token_lengths if token_lengths is not None else [3] * B)
    pl = torch.tensor(phone_lengths if phone_lengths is not None else [2] * B)
    return {
        "wav": wav, "wav_lengths": wav_lengths, "langs": list(langs),
        "tokens": torch.randint(1, 7, (B, 3), generator=g), "token_lengths": tl,
        "phones": torch.tensor([[3, 3]] * B), "phone_lengths": pl,  # phone 3 is in both inventories
    }


def _run(model, batch, weights=None):
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    return out, multitask_loss(out, batch, weights)


def test_forward_shapes_and_routing_of_mixed_batch():
    model = _model().eval()
    batch = _batch(["en", "de", "en"])
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    T = out["hidden"].shape[1]
    assert out["hidden"].shape == (3, T, 32)
    assert out["logits"]["en"].shape == (2, T, 7) and out["logits"]["de"].shape == (1, T, 9)
    assert out["rows"]["en"].tolist() == [0, 2] and out["rows"]["de"].tolist() == [1]
    assert out["phone_logits"].shape == (3, T, 6) and out["lang_logits"].shape == (3, 2)
    assert out["lengths"].tolist() == model.output_lengths(batch["wav_lengths"]).tolist()
    # each utterance's logits equal those of a batch of its own (routing is per utterance)
    alone = model(batch["wav"][1:2, :7200], batch["wav_lengths"][1:2], ["de"])
    n = int(out["lengths"][1])
    torch.testing.assert_close(out["logits"]["de"][0, :n], alone["logits"]["de"][0, :n], atol=1e-5, rtol=1e-5)
    with pytest.raises(KeyError, match="fr"):
        model(batch["wav"][:1], batch["wav_lengths"][:1], ["fr"])


def test_batch_of_language_a_never_updates_head_b():
    model = _model().train()
    head_b = {k: v.clone() for k, v in model.heads["de"].state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    for step in range(2):
        batch = _batch(["en", "en"], seed=step)
        opt.zero_grad()
        _, (loss, _) = _run(model, batch, {"ctc": 1.0, "phone": 1.0, "lid": 1.0})
        loss.backward()
        assert all(p.grad is None or not p.grad.any() for p in model.heads["de"].parameters())
        assert model.heads["en"].weight.grad.abs().sum() > 0
        opt.step()
    for k, v in model.heads["de"].state_dict().items():
        assert torch.equal(v, head_b[k])


def test_absent_label_contributes_nothing():
    model = _model().eval()
    # utterance 1 has no phone transcript and utterance 0 no token transcript
    batch = _batch(["en", "en"], token_lengths=[-1, 3], phone_lengths=[2, -1])
    batch["wav"].requires_grad_(True)
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    loss, parts = multitask_loss(out, batch, {"ctc": 0.0, "phone": 1.0, "lid": 0.0})
    (g,) = torch.autograd.grad(loss, batch["wav"], retain_graph=True)
    assert g[0].abs().sum() > 0 and torch.equal(g[1], torch.zeros_like(g[1]))
    assert parts["n_phone"] == 1
    loss, parts = multitask_loss(out, batch, {"ctc": 1.0, "phone": 0.0, "lid": 0.0})
    (g,) = torch.autograd.grad(loss, batch["wav"])
    assert torch.equal(g[0], torch.zeros_like(g[0])) and g[1].abs().sum() > 0
    # no label at all for a task: that task's head gets exactly zero gradient, the others still train
    batch = _batch(["en", "de"], phone_lengths=[-1, -1])
    model.zero_grad()
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    loss, parts = multitask_loss(out, batch, {"ctc": 1.0, "phone": 1.0, "lid": 1.0})
    loss.backward()
    assert model.phone_head.weight.grad is None or not model.phone_head.weight.grad.any()
    assert model.heads["de"].weight.grad.abs().sum() > 0 and model.lang_head.weight.grad.abs().sum() > 0
    assert parts["phone"] == 0 and torch.isfinite(loss)


def test_masked_loss_equals_loss_on_labelled_subset():
    model = _model().eval()
    batch = _batch(["en", "de", "en"], token_lengths=[3, -1, 3])
    _, (loss, parts) = _run(model, batch, {"ctc": 1.0, "phone": 0.0, "lid": 0.0})
    sub = {k: (v[[0, 2]] if torch.is_tensor(v) else [v[0], v[2]]) for k, v in batch.items()}
    _, (loss_sub, _) = _run(model, sub, {"ctc": 1.0, "phone": 0.0, "lid": 0.0})
    torch.testing.assert_close(loss, loss_sub, atol=1e-5, rtol=1e-5)
    assert "ctc/de" not in parts and parts["n_ctc"] == 2


def test_phone_mask_gives_zero_probability_outside_inventory():
    model = _model().eval()
    batch = _batch(["en", "de"])
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    probs = out["phone_logits"].float().softmax(-1)  # (B, T', P)
    assert torch.equal(probs[0, :, [4, 5]], torch.zeros_like(probs[0, :, [4, 5]]))
    assert torch.equal(probs[1, :, [1, 2]], torch.zeros_like(probs[1, :, [1, 2]]))
    assert (probs[0, :, [0, 1, 2, 3]] > 0).all() and (probs[1, :, [0, 3, 4, 5]] > 0).all()
    torch.testing.assert_close(probs.sum(-1), torch.ones(probs.shape[:2]))
    # the phone CTC stays finite and trainable through the mask
    _, (loss, _) = _run(model, batch, {"ctc": 0.0, "phone": 1.0, "lid": 0.0})
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(model.phone_head.weight.grad).all()


def test_heads_switch_off_by_config():
    model = _model(token_heads=False, num_phones=0, phone_inventories=(), lang_id=False, vocab_sizes=())
    assert len(model.heads) == 0 and model.phone_head is None and model.lang_head is None
    batch = _batch(["en"])
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    assert {"logits", "phone_logits", "lang_logits"}.isdisjoint(out)
    with_heads = _model(lang_id=False, num_phones=0, phone_inventories=())
    out = with_heads(batch["wav"], batch["wav_lengths"], batch["langs"])
    assert "logits" in out and "phone_logits" not in out


def test_training_steps_reduce_multitask_loss():
    model = _model().train()
    batch = _batch(["en", "de", "en", "de"], phone_lengths=[2, -1, -1, 2])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        _, (loss, _) = _run(model, batch, {"ctc": 1.0, "phone": 0.5, "lid": 0.5})
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_replace_head_new_vocab_and_new_language():
    model = _model()
    en_before = model.heads["en"].weight.clone()
    lid_before = model.lang_head.weight.clone()
    model.replace_head("de", 11)
    assert model.heads["de"].out_features == 11 and model.cfg.vocab_size("de") == 11
    model.replace_head("sw", 5, phone_inventory=(1, 5))
    assert model.cfg.languages == ("en", "de", "sw") and model.heads["sw"].out_features == 5
    assert model.lang_head.out_features == 3 and torch.equal(model.lang_head.weight[:2], lid_before)
    assert torch.equal(model.heads["en"].weight, en_before)
    batch = _batch(["sw", "en"])
    out = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    assert out["logits"]["sw"].shape[-1] == 5
    probs = out["phone_logits"][0].softmax(-1)
    assert torch.equal(probs[:, [2, 3, 4]], torch.zeros_like(probs[:, [2, 3, 4]]))


def test_load_matching_reports_mismatch_and_reinitializes(tmp_path):
    src = _model(seed=0)
    save_multilingual_dir(tmp_path / "src", src)
    cfg = _cfg(languages=("en", "sw"), vocab_sizes=(7, 4), phone_inventories=())
    torch.manual_seed(1)
    fresh_sw = MultilingualCTC(cfg).heads["sw"].weight.clone()
    torch.manual_seed(1)
    model, report = from_pretrained(tmp_path / "src", cfg)
    sd, src_sd = model.state_dict(), src.state_dict()
    for name in report.loaded:
        assert torch.equal(sd[name], src_sd[name])
    assert "encoder.layers.0.attn.qkv.weight" in report.loaded and "heads.en.weight" in report.loaded
    assert "heads.sw.weight" in report.missing and "heads.de.weight" in report.unexpected
    assert ("lang_head.weight", (2, 32), (2, 32)) not in report.mismatched
    assert torch.equal(model.heads["sw"].weight, fresh_sw)  # fresh init, same seed
    # a changed vocabulary: shape mismatch, re-initialised, reported
    cfg2 = _cfg(vocab_sizes=(7, 12))
    model2, report2 = from_pretrained(tmp_path / "src", cfg2)
    assert sorted(report2.mismatched) == [("heads.de.bias", (9,), (12,)), ("heads.de.weight", (9, 32), (12, 32))]
    assert set(report2.reinitialized) == {"heads.de.weight", "heads.de.bias"}
    assert "re-initialized heads.de.weight" in report2.summary()
    assert pretrained_base(tmp_path / "src") == BASE


def test_init_from_monolingual_ctc_dir(tmp_path):
    tok = CharTokenizer.build(["ab cd"])
    torch.manual_seed(0)
    mono = CTCModel(ModelConfig(**{**BASE.to_dict(), "features": BASE.features, "vocab_size": tok.vocab_size}))
    save_model_dir(tmp_path / "mono", mono, tok)
    cfg = _cfg(base=pretrained_base(tmp_path / "mono"), languages=("en",), vocab_sizes=(tok.vocab_size,),
               phone_inventories=())
    model, report = from_pretrained(tmp_path / "mono", cfg, rename={"head.": "heads.en."})
    assert torch.equal(model.heads["en"].weight, mono.head.weight)
    assert torch.equal(model.encoder.layers[1].ff1.w1.weight, mono.encoder.layers[1].ff1.w1.weight)
    assert set(report.missing) == {"phone_head.weight", "phone_head.bias", "lang_head.weight", "lang_head.bias"}


def test_save_load_round_trip(tmp_path):
    toks = {"en": CharTokenizer.build(["abcd"]), "de": CharTokenizer.build(["abcdef"])}
    model = _model(vocab_sizes=(toks["en"].vocab_size, toks["de"].vocab_size)).eval()
    save_multilingual_dir(tmp_path / "m", model, toks, extra={"note": 1})
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["format"] == "asr.multilingual" and config["model"]["languages"] == ["en", "de"]
    loaded, tokenizers, cfg = load_multilingual_dir(tmp_path / "m")
    assert cfg == model.cfg and set(tokenizers) == {"en", "de"}
    assert tokenizers["de"].tokens == toks["de"].tokens
    batch = _batch(["de", "en"])
    a = model(batch["wav"], batch["wav_lengths"], batch["langs"])
    b = loaded(batch["wav"], batch["wav_lengths"], batch["langs"])
    assert torch.equal(a["phone_logits"], b["phone_logits"]) and torch.equal(a["logits"]["de"], b["logits"]["de"])
    with pytest.raises(ValueError, match="tokenizer"):
        save_multilingual_dir(tmp_path / "bad", model, {"en": toks["de"]})


def test_config_validation_and_round_trip():
    cfg = _cfg()
    assert MultilingualConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="vocab_sizes"):
        _cfg(vocab_sizes=(7,))
    with pytest.raises(ValueError, match="outside"):
        _cfg(phone_inventories=((1, 9),))
    with pytest.raises(ValueError, match="unique"):
        _cfg(languages=("en", "en"))


def test_load_matching_state_dict_with_rename():
    src, dst = _model(seed=0), _model(seed=1, vocab_sizes=(7, 5))
    state = {k.replace("heads.en.", "head."): v for k, v in src.state_dict().items()}
    report = load_matching_state_dict(dst, state, rename={"head.": "heads.en."})
    assert torch.equal(dst.heads["en"].weight, src.heads["en"].weight)
    assert {m[0] for m in report.mismatched} == {"heads.de.weight", "heads.de.bias"}
    assert not report.missing and not report.unexpected


def test_domain_head_reverses_gradient_into_encoder_and_masks_unknown_labels():
    model = _model(num_domains=3).train()
    batch = _batch(["en", "de", "en"])
    batch["domains"] = torch.tensor([0, 2, -1])  # the third utterance has no domain label
    w = {"ctc": 0.0, "phone": 0.0, "lid": 0.0, "domain": 1.0}
    grads = {}
    for lam in (1.0, -1.0):  # -1: the classifier's plain gradient, no reversal
        model.zero_grad()
        torch.manual_seed(0)
        out = model(batch["wav"], batch["wav_lengths"], batch["langs"], domain_lambda=lam)
        loss, parts = multitask_loss(out, batch, w)
        loss.backward()
        grads[lam] = (model.encoder.layers[0].ff1.w1.weight.grad.clone(), model.domain_head.net[0].weight.grad.clone())
        assert out["domain_logits"].shape == (3, 3) and parts["n_domain"] == 2
    torch.testing.assert_close(grads[1.0][0], -grads[-1.0][0])  # the encoder learns to hide the domain
    torch.testing.assert_close(grads[1.0][1], grads[-1.0][1])  # the classifier learns it either way
    assert grads[1.0][0].abs().sum() > 0
    # labels of other utterances only: dropping the unlabelled row changes nothing
    out = model.eval()(batch["wav"], batch["wav_lengths"], batch["langs"])
    full, _ = multitask_loss(out, batch, w)
    sub = {k: batch[k][:2] for k in ("domains",)}
    out2 = {**out, "domain_logits": out["domain_logits"][:2], "hidden": out["hidden"][:2]}
    part, _ = multitask_loss(out2, sub, w)
    torch.testing.assert_close(full, part)


def test_progressive_config_builds_frozen_source_column_and_round_trips(tmp_path):
    from asr.models.progressive import ProgressiveColumn

    toks = {"en": CharTokenizer.build(["abcde"]), "de": CharTokenizer.build(["abcdefg"])}
    model = _model(progressive=True, num_domains=2, vocab_sizes=(toks["en"].vocab_size, toks["de"].vocab_size))
    assert isinstance(model.encoder, ProgressiveColumn)
    assert not any(p.requires_grad for p in model.encoder.source.parameters())
    assert all(p.requires_grad for p in model.encoder.column.parameters())
    model.train()
    assert not model.encoder.source.training and model.encoder.column.training
    save_multilingual_dir(tmp_path / "m", model, toks)
    loaded, _, cfg = load_multilingual_dir(tmp_path / "m")
    assert cfg.progressive and cfg.num_domains == 2 and cfg == model.cfg
    batch = _batch(["de", "en"])
    a = model.eval()(batch["wav"], batch["wav_lengths"], batch["langs"])
    b = loaded(batch["wav"], batch["wav_lengths"], batch["langs"])
    assert torch.equal(a["logits"]["de"], b["logits"]["de"])
    with pytest.raises(ValueError, match="num_domains"):
        _cfg(num_domains=1)


def test_transcriber_decodes_one_language_of_a_multilingual_directory(tmp_path):
    from asr.decoding.ctc import Transcriber

    toks = {"en": CharTokenizer.build(["abcd"]), "de": CharTokenizer.build(["abcdef"])}
    model = _model(vocab_sizes=(toks["en"].vocab_size, toks["de"].vocab_size)).eval()
    save_multilingual_dir(tmp_path / "m", model, toks)
    with pytest.raises(ValueError, match="say which one"):
        Transcriber(tmp_path / "m")
    with pytest.raises(ValueError, match="no head for 'fr'"):
        Transcriber(tmp_path / "m", lang="fr")
    de = Transcriber(tmp_path / "m", lang="de")
    batch = _batch(["de", "de"])
    lp, lengths = de.log_probs(batch["wav"], batch["wav_lengths"])
    with torch.no_grad():
        ref = model(batch["wav"], batch["wav_lengths"], ["de", "de"])
    assert lp.shape[-1] == toks["de"].vocab_size and torch.equal(lengths, ref["lengths"])
    assert torch.allclose(lp, ref["logits"]["de"].float().log_softmax(-1))
    assert de.frame_shift_s == model.frame_shift_s and len(de([batch["wav"][0]])) == 1
