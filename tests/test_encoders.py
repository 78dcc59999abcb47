"""Encoders: subsampling sizes, output shapes, padding invariance, per-layer access, the registry."""

from __future__ import annotations

import pytest
import torch

from asr import registry
from asr.models.encoders import (
    MIN_INPUT_FRAMES,
    BLSTMEncoder,
    ConformerEncoder,
    Conv2dSubsampling,
    _rel_shift,
    subsampled_lengths,
)

SMALL = {
    "conformer-rel": ("conformer", dict(d_model=32, num_layers=2, num_heads=4, ff_dim=64, conv_kernel=7, pos="rel")),
    "conformer-rotary": (
        "conformer",
        dict(d_model=32, num_layers=2, num_heads=4, ff_dim=64, conv_kernel=7, pos="rotary"),
    ),
    "blstm": ("blstm", dict(d_model=32, num_layers=2, lstm_hidden=16)),
}


def test_conv2d_subsampling_size_sweep():
    for idim in list(range(7, 20)) + [40, 80]:
        sub = Conv2dSubsampling(input_dim=idim, output_dim=6, channels=4)
        for T in range(MIN_INPUT_FRAMES, 40):
            y, lengths = sub(torch.randn(3, T, idim), torch.tensor([T, T, T]))
            assert y.shape == (3, ((T - 1) // 2 - 1) // 2, 6)
            assert lengths.tolist() == [y.shape[1]] * 3


def test_subsampled_lengths_matches_conv_and_short_inputs_give_zero():
    lengths = torch.arange(0, 60)
    expected = [max(((t - 1) // 2 - 1) // 2, 0) for t in range(60)]
    assert subsampled_lengths(lengths).tolist() == expected
    sub = Conv2dSubsampling(input_dim=20, output_dim=8)
    y, out = sub(torch.randn(2, 5, 20), torch.tensor([5, 3]))
    assert y.shape == (2, 0, 8) and out.tolist() == [0, 0]


@pytest.mark.parametrize("key", list(SMALL))
def test_encoder_shapes_and_padding_invariance(key):
    name, kwargs = SMALL[key]
    torch.manual_seed(0)
    enc = registry.build("encoder", name, input_dim=20, **kwargs).eval()
    lengths = torch.tensor([61, 40, 9])
    x = torch.randn(3, 61, 20)
    x[1, 40:] = 0
    x[2, 9:] = 0
    y, out_lengths = enc(x, lengths)
    assert y.shape == (3, 14, 32)
    assert out_lengths.tolist() == subsampled_lengths(lengths).tolist() == [14, 9, 1]
    for b in range(3):
        alone, alone_len = enc(x[b : b + 1, : lengths[b]], lengths[b : b + 1])
        n = int(alone_len[0])
        assert n == out_lengths[b]
        torch.testing.assert_close(alone[0], y[b, :n], atol=1e-5, rtol=1e-5)
        assert y[b, n:].abs().max().item() == 0 if n < y.shape[1] else True
    # the padding's content must not matter either
    x_noisy = x.clone()
    x_noisy[1, 40:] = 5.0
    x_noisy[2, 9:] = -3.0
    torch.testing.assert_close(enc(x_noisy, lengths)[0], y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("key", list(SMALL))
def test_per_layer_access(key):
    name, kwargs = SMALL[key]
    torch.manual_seed(0)
    enc = registry.build("encoder", name, input_dim=20, **kwargs).eval()
    assert isinstance(enc.layers, torch.nn.ModuleList) and len(enc.layers) == 2
    x, lengths = torch.randn(2, 50, 20), torch.tensor([50, 30])
    states, out_lengths = enc.hidden_states(x, lengths)
    assert len(states) == 2
    torch.testing.assert_close(enc(x, lengths, num_layers=1)[0], states[0])
    torch.testing.assert_close(enc(x, lengths)[0], states[1])
    # the first k layers copy over to a deeper encoder by name
    deeper = registry.build("encoder", name, input_dim=20, **{**kwargs, "num_layers": 3}).eval()
    deeper.subsampling_module.load_state_dict(enc.subsampling_module.state_dict())
    deeper.layers[:2].load_state_dict(enc.layers.state_dict())
    torch.testing.assert_close(deeper(x, lengths, num_layers=2)[0], states[1])


def test_encoders_train_and_survive_empty_utterances():
    torch.manual_seed(0)
    for name, kwargs in SMALL.values():
        enc = registry.build("encoder", name, input_dim=20, **kwargs).train()
        x, lengths = torch.randn(2, 30, 20), torch.tensor([30, 4])  # the second gives 0 output frames
        y, out_lengths = enc(x, lengths)
        assert out_lengths.tolist() == [6, 0]
        assert torch.isfinite(y).all() and y[1].abs().max() == 0
        y.sum().backward()
        assert all(torch.isfinite(p.grad).all() for p in enc.parameters() if p.grad is not None)


def test_rel_shift_indexes_relative_offsets():
    T = 5
    # scores over offsets: entry [i, k] holds the offset (T - 1) - k
    offsets = torch.arange(T - 1, -T, -1).float().expand(1, 1, T, 2 * T - 1)
    shifted = _rel_shift(offsets)[0, 0]
    i, j = torch.meshgrid(torch.arange(T), torch.arange(T), indexing="ij")
    assert torch.equal(shifted, (i - j).float())


def test_rotary_attention_is_shift_invariant():
    """With rotary positions and no padding, a sequence's outputs do not depend on where it starts."""
    torch.manual_seed(0)
    from asr.models.encoders import MultiHeadSelfAttention

    attn = MultiHeadSelfAttention(16, 2, 0.0, "rotary").eval()
    x = torch.randn(1, 6, 16)
    mask = torch.ones(1, 6, dtype=torch.bool)
    inv = 1.0 / (10000.0 ** (torch.arange(0, 8, 2).float() / 8))

    def angles(start):
        a = torch.arange(start, start + 6).float()[:, None] * inv[None, :]
        return a.cos(), a.sin()

    torch.testing.assert_close(attn(x, mask, angles(0)), attn(x, mask, angles(17)), atol=1e-5, rtol=1e-5)


def test_registry_lists_known_names_and_rejects_duplicates():
    assert {"conformer", "blstm"} <= set(registry.names("encoder"))
    assert registry.lookup("encoder", "conformer") is ConformerEncoder
    assert registry.lookup("encoder", "blstm") is BLSTMEncoder
    with pytest.raises(registry.RegistryError, match="known encoders: blstm, conformer"):
        registry.build("encoder", "transformer-xxl", input_dim=80)
    with pytest.raises(registry.RegistryError, match="unknown registry kind"):
        registry.build("no-such-kind", "x")
    with pytest.raises(registry.RegistryError, match="already registered"):
        registry.register("encoder", "conformer")(lambda **kw: None)
    with pytest.raises(TypeError):
        registry.build("encoder", "blstm", input_dim=80, num_heads=4)  # a conformer option


def test_conformer_batch_of_inputs_too_short_for_one_frame():
    """Inputs under 7 feature frames leave 0 encoder frames; that must not crash."""
    from asr.models.ctc import CTCModel, ModelConfig

    model = CTCModel(ModelConfig.preset("tiny", vocab_size=10)).eval()
    logits, lengths = model(torch.zeros(2, 800), torch.tensor([800, 500]))
    assert logits.shape[:2] == (2, 0) and lengths.tolist() == [0, 0]


# -- streaming structure: chunk masks, causal convolutions, the cached chunk-by-chunk encoder ----------


def test_chunk_mask_limits_attention_to_own_and_left_chunks():
    from asr.models.encoders import chunk_mask

    m = chunk_mask(7, 2, left_chunks=1)  # chunks {0,1} {2,3} {4,5} {6}
    assert m[3].tolist() == [True, True, True, True, False, False, False]
    assert m[5].tolist() == [False, False, True, True, True, True, False]
    assert chunk_mask(7, 2)[6].all()  # every earlier chunk


@pytest.mark.parametrize("pos,left", [("rel", 2), ("rel", -1), ("rotary", 1)])
def test_cached_chunks_equal_the_chunk_masked_forward(pos, left):
    from asr.models.ctc import CTCModel, ModelConfig

    torch.manual_seed(0)
    cfg = ModelConfig.preset("tiny", vocab_size=10, causal_conv=True, dynamic_chunk=True, chunk_left=left, pos=pos)
    model = CTCModel(cfg).eval()
    enc = model.encoder
    wav = torch.randn(1, 16000 * 3) * 0.1
    with torch.no_grad():
        feats, lengths = model.features(wav, torch.tensor([wav.shape[1]]))
        for chunk in (4, 16):
            enc.chunk_frames = chunk
            full, _ = enc(feats, lengths)  # recomputed: the whole utterance under the chunk mask
            h, _, _ = enc.embed(feats, lengths)
            outs, cache = [], None
            for i in range(0, h.shape[1], chunk):
                out, cache = enc.forward_chunk(h[:, i : i + chunk], cache, chunk)
                outs.append(out)
            assert torch.allclose(torch.cat(outs, 1), full, atol=1e-5)
            if left >= 0:  # bounded memory: whole chunks of attention and convolution context
                assert cache[0].shape[1] == enc.cache_frames(chunk) and cache[0].shape[1] % chunk == 0
        enc.chunk_frames = 0
        a, _ = enc(feats, lengths)
        feats2 = feats.clone()
        feats2[:, 200:] += 1.0  # a change after frame 200 of the input ...
        enc.chunk_frames = 8
        b, _ = enc(feats, lengths)
        c, _ = enc(feats2, lengths)
    t = (200 - 7) // 4 // 8 * 8  # ... leaves every chunk that ends before it alone (causal convolutions)
    assert torch.allclose(b[:, :t], c[:, :t], atol=1e-5) and not torch.allclose(b, c)
    assert not torch.allclose(a, b)  # the mask matters


def test_dynamic_chunk_training_step_and_old_configs():
    from asr.models.ctc import CTCModel, ModelConfig

    torch.manual_seed(0)
    model = CTCModel(ModelConfig.preset("tiny", vocab_size=10, causal_conv=True, dynamic_chunk=True)).train()
    wav, lengths = torch.randn(2, 24000) * 0.1, torch.tensor([24000, 16000])
    logits, out_lengths = model(wav, lengths)
    logits.float().log_softmax(-1).sum().backward()
    assert all(p.grad is not None for p in model.encoder.layers[0].parameters())
    old = ModelConfig.preset("tiny", vocab_size=10).to_dict()
    for key in ("causal_conv", "dynamic_chunk", "chunk_left"):
        old.pop(key)
    assert ModelConfig.from_dict(old).causal_conv is False  # directories written before these fields load
