"""asr.features: Kaldi parity, batch consistency, shapes over swept sizes, CMVN, SpecAugment."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as AF

from asr.audio import load_audio
from asr.features import (
    CMVNStats,
    FeatureConfig,
    FeatureExtractor,
    GlobalCMVN,
    SpecAugment,
    compute_deltas,
    fbank,
    mfcc,
    num_frames,
    spec_augment,
    splice,
    time_warp,
    utterance_cmvn,
)
from conftest import make_tone


def tone(num_samples: int, seed: int = 0, freq: float = 440.0) -> torch.Tensor:
    """``(num_samples,)`` chirp + noise in [-1, 1]."""
    seconds = num_samples / 16000 + 0.01
    return torch.from_numpy(make_tone(seconds, freq=freq, seed=seed))[:num_samples]


def padded_batch(lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Three different signals, zero-padded: ``(B, max(lengths))``, ``(B,)``, the originals."""
    signals = [tone(n, seed=i, freq=300.0 + 150 * i) for i, n in enumerate(lengths)]
    batch = torch.zeros(len(lengths), max(lengths))
    for i, s in enumerate(signals):
        batch[i, : s.numel()] = s
    return batch, torch.tensor(lengths), signals


def kaldi_reference(kind: str, wav: torch.Tensor, cfg: FeatureConfig) -> torch.Tensor:
    """torchaudio's Kaldi port on the same (scaled) samples: ``(T,)`` -> ``(T', F)``."""
    common = dict(
        dither=0.0,
        energy_floor=cfg.energy_floor,
        frame_length=cfg.frame_length_ms,
        frame_shift=cfg.frame_shift_ms,
        high_freq=cfg.high_freq,
        low_freq=cfg.low_freq,
        num_mel_bins=cfg.mel_bins,
        preemphasis_coefficient=cfg.preemphasis,
        sample_frequency=cfg.sample_rate,
        snip_edges=cfg.snip_edges,
        use_energy=cfg.use_energy,
    )
    scaled = (wav * cfg.waveform_scale).unsqueeze(0)
    if kind == "fbank":
        return kaldi.fbank(scaled, **common)
    return kaldi.mfcc(scaled, num_ceps=cfg.num_ceps, cepstral_lifter=cfg.cepstral_lifter, **common)


# --------------------------------------------------------------------------- config


def test_config_round_trip_and_defaults():
    for kind, bins, dim in [("fbank", 80, 80), ("mfcc", 23, 13)]:
        cfg = FeatureConfig(kind=kind)
        assert cfg.mel_bins == bins and cfg.base_dim == dim
        assert (cfg.window_size, cfg.window_shift, cfg.n_fft) == (400, 160, 512)
        d = json.loads(json.dumps(cfg.to_dict()))
        assert FeatureConfig.from_dict(d) == cfg
    cfg = FeatureConfig(kind="mfcc", deltas=2, use_energy=True, cmvn="global", num_mel_bins=40)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.dim == 39
    assert FeatureConfig(use_energy=True, deltas=1).dim == 162
    # switching kind re-resolves the default number of mel bins
    assert dataclasses.replace(FeatureConfig(), kind="mfcc").mel_bins == 23


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "plp"},
        {"cmvn": "speaker"},
        {"kind": "mfcc", "num_ceps": 30},
        {"frame_length_ms": 0.05},
        {"deltas": -1},
        {"preemphasis": 1.5},
    ],
)
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        FeatureConfig(**bad)


def test_config_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="num_mels"):
        FeatureConfig.from_dict({"kind": "fbank", "num_mels": 80})


# --------------------------------------------------------------------------- num_frames


@pytest.mark.parametrize("snip_edges", [True, False])
def test_num_frames_sweep_matches_outputs(snip_edges):
    cfg = FeatureConfig(snip_edges=snip_edges, num_mel_bins=23)
    lengths = list(range(0, 1300, 23)) + [399, 400, 401, 559, 560, 561, 16000, 16079, 16080, 16081]
    # ints and tensors agree, and follow Kaldi's formulas
    as_tensor = num_frames(torch.tensor(lengths), cfg)
    for n, t in zip(lengths, as_tensor.tolist()):
        expected = (max(0, 1 + (n - 400) // 160) if snip_edges else (n + 80) // 160)
        assert num_frames(n, cfg) == t == expected
    # one padded batch of all lengths: frame_lengths and T follow num_frames
    batch = torch.randn(len(lengths), max(lengths)) * 0.1
    feats, frame_lengths = fbank(batch, torch.tensor(lengths), cfg)
    assert frame_lengths.tolist() == as_tensor.tolist()
    assert feats.shape == (len(lengths), int(as_tensor.max()), 23)
    # single signals: the output length is num_frames exactly
    for n in lengths[::4]:
        feats, frame_lengths = fbank(batch[0, :n], cfg=cfg)
        assert feats.shape == (1, num_frames(n, cfg), 23)
        assert frame_lengths.tolist() == [num_frames(n, cfg)]


def test_num_frames_other_frame_sizes():
    for shift_ms in (5.0, 10.0, 12.5):
        for length_ms in (20.0, 25.0, 32.0):
            cfg = FeatureConfig(frame_length_ms=length_ms, frame_shift_ms=shift_ms, num_mel_bins=23)
            for n in (0, 300, 511, 512, 3333):
                feats, _ = fbank(torch.zeros(n), cfg=cfg)
                assert feats.shape[1] == num_frames(n, cfg)


# --------------------------------------------------------------------------- Kaldi parity


@pytest.mark.parametrize("num_samples", [400, 1000, 4321, 16077])
@pytest.mark.parametrize("snip_edges", [True, False])
@pytest.mark.parametrize("use_energy", [False, True])
def test_fbank_matches_kaldi(num_samples, snip_edges, use_energy):
    cfg = FeatureConfig(kind="fbank", snip_edges=snip_edges, use_energy=use_energy)
    wav = tone(num_samples)
    ours, frame_lengths = fbank(wav, cfg=cfg)
    ref = kaldi_reference("fbank", wav, cfg)
    assert ours.shape == (1, *ref.shape)
    assert frame_lengths.tolist() == [ref.shape[0]]
    torch.testing.assert_close(ours[0], ref, atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize("num_samples", [400, 1000, 4321, 16077])
@pytest.mark.parametrize("snip_edges", [True, False])
@pytest.mark.parametrize("use_energy", [False, True])
def test_mfcc_matches_kaldi(num_samples, snip_edges, use_energy):
    cfg = FeatureConfig(kind="mfcc", snip_edges=snip_edges, use_energy=use_energy)
    wav = tone(num_samples)
    ours, _ = mfcc(wav, cfg=cfg)
    ref = kaldi_reference("mfcc", wav, cfg)
    assert ours.shape == (1, *ref.shape)
    torch.testing.assert_close(ours[0], ref, atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize(
    "options",
    [
        {"waveform_scale": 1.0},  # [-1, 1] samples as given
        {"num_mel_bins": 40, "low_freq": 60.0, "high_freq": -400.0, "energy_floor": 1.0, "use_energy": True},
        {"frame_length_ms": 20.0, "frame_shift_ms": 12.5, "preemphasis": 0.0},
        {"sample_rate": 8000, "num_mel_bins": 23},
    ],
)
def test_kaldi_parity_other_options(options):
    wav = tone(5555)
    for kind in ("fbank", "mfcc"):
        cfg = FeatureConfig(kind=kind, **options)
        ours, _ = (fbank if kind == "fbank" else mfcc)(wav, cfg=cfg)
        torch.testing.assert_close(ours[0], kaldi_reference(kind, wav, cfg), atol=1e-3, rtol=1e-5)


def test_scaling_is_int16_by_default():
    """Default scale = Kaldi on int16 samples: log-mel is 2*log(32768) above the unscaled one."""
    wav = tone(8000)
    scaled, _ = fbank(wav)
    unscaled, _ = fbank(wav, cfg=FeatureConfig(waveform_scale=1.0))
    offset = 2 * torch.log(torch.tensor(32768.0)).item()  # power scales by 32768**2
    torch.testing.assert_close(scaled - unscaled, torch.full_like(scaled, offset), atol=1e-3, rtol=0)


# --------------------------------------------------------------------------- batching


@pytest.mark.parametrize("kind", ["fbank", "mfcc"])
@pytest.mark.parametrize("snip_edges", [True, False])
def test_padded_batch_equals_single_utterances(kind, snip_edges):
    cfg = FeatureConfig(kind=kind, snip_edges=snip_edges, use_energy=kind == "fbank")
    extract = fbank if kind == "fbank" else mfcc
    batch, lengths, signals = padded_batch([16000, 9999, 2345])
    feats, frame_lengths = extract(batch, lengths, cfg)
    assert frame_lengths.tolist() == [num_frames(n, cfg) for n in lengths.tolist()]
    assert feats.shape == (3, int(frame_lengths.max()), cfg.base_dim)
    assert feats.dtype == torch.float32 and frame_lengths.dtype == torch.int64
    for i, s in enumerate(signals):
        single, single_len = extract(s, cfg=cfg)
        n = int(frame_lengths[i])
        assert single_len.item() == n
        torch.testing.assert_close(feats[i, :n], single[0], atol=1e-4, rtol=1e-5)
        assert torch.all(feats[i, n:] == 0)


def test_shorter_than_one_window():
    """Utterances with no frames give zero rows; an all-short batch gives T = 0."""
    batch, lengths, _ = padded_batch([1000, 399, 0])
    feats, frame_lengths = fbank(batch, lengths)
    assert frame_lengths.tolist() == [4, 0, 0]
    assert torch.all(feats[1:] == 0) and torch.all(feats[0] != 0)
    feats, frame_lengths = mfcc(torch.zeros(2, 300))
    assert feats.shape == (2, 0, 13) and frame_lengths.tolist() == [0, 0]


def test_input_shapes_and_dtypes():
    wav = tone(3200)
    one, _ = fbank(wav)
    two, _ = fbank(wav.unsqueeze(0))
    dbl, _ = fbank(wav.double())
    assert one.shape == two.shape == (1, 18, 80)
    assert dbl.dtype == torch.float32
    torch.testing.assert_close(one, two)
    torch.testing.assert_close(one, dbl, atol=1e-3, rtol=1e-5)
    with pytest.raises(ValueError):
        fbank(torch.zeros(2, 2, 400))
    with pytest.raises(ValueError):
        fbank(torch.zeros(2, 400), torch.tensor([400, 401]))


def test_digital_silence_is_floored_not_inf():
    feats, _ = fbank(torch.zeros(1600))
    assert torch.isfinite(feats).all()
    floor = torch.log(torch.tensor(torch.finfo(torch.float32).eps)).item()  # log(1.19e-7) = -15.9
    torch.testing.assert_close(feats, torch.full_like(feats, floor))


def test_features_of_a_real_wav_file(wav_file):
    wav = load_audio(wav_file)  # (16000,) float32 read back from PCM-16
    ext = FeatureExtractor(FeatureConfig(kind="mfcc", deltas=2, cmvn="utterance")).eval()
    feats, frame_lengths = ext(wav.unsqueeze(0), torch.tensor([wav.numel()]))
    assert feats.shape == (1, 98, 39) and ext.dim == 39
    assert frame_lengths.tolist() == [98]
    assert torch.isfinite(feats).all()
    # PCM-16 samples scaled back by 2**15 are integers, exactly Kaldi's input
    int16 = (wav * 32768).round().unsqueeze(0)
    ref = kaldi.fbank(int16, num_mel_bins=80, energy_floor=0.0)
    torch.testing.assert_close(fbank(wav)[0][0], ref, atol=1e-3, rtol=1e-5)


# --------------------------------------------------------------------------- deltas and splicing


def test_deltas_shapes_sweep():
    for T in range(1, 12):
        for D in (1, 3, 13):
            for order in range(4):
                out = compute_deltas(torch.randn(2, T, D), order=order, window=2)
                assert out.shape == (2, T, D * (order + 1))
    assert compute_deltas(torch.zeros(2, 0, 5), 2).shape == (2, 0, 15)


def test_deltas_known_values():
    ramp = torch.arange(12.0).view(1, 12, 1).repeat(1, 1, 2)  # (1, 12, 2)
    out = compute_deltas(ramp, order=2, window=2)
    torch.testing.assert_close(out[..., :2], ramp)  # static part first
    torch.testing.assert_close(out[0, 4:-4, 2:4], torch.ones(4, 2))  # slope 1 inside
    torch.testing.assert_close(out[0, 4:-4, 4:6], torch.zeros(4, 2))  # no curvature inside
    # edges replicate the first frame: delta(0) = (sum_j j * max(j, 0)) / 10 = 0.5
    torch.testing.assert_close(out[0, 0, 2:4], torch.full((2,), 0.5))
    const = compute_deltas(torch.full((1, 7, 3), 4.0), order=2)
    torch.testing.assert_close(const[..., 3:], torch.zeros(1, 7, 6))


def test_first_order_deltas_match_torchaudio():
    feats = torch.randn(1, 30, 5)
    ours = compute_deltas(feats, order=1, window=2)[..., 5:]
    ref = AF.compute_deltas(feats.transpose(1, 2), win_length=5).transpose(1, 2)  # replicate padding too
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    # second order is the delta filter applied twice (away from the edges)
    second = compute_deltas(feats, order=2, window=2)[..., 10:]
    twice = AF.compute_deltas(ref.transpose(1, 2), win_length=5).transpose(1, 2)
    torch.testing.assert_close(second[:, 4:-4], twice[:, 4:-4], atol=1e-5, rtol=1e-5)


def test_deltas_respect_lengths():
    feats = torch.randn(2, 20, 4)
    lengths = torch.tensor([20, 13])
    padded = feats.clone()
    padded[1, 13:] = 99.0  # junk in the padding must not leak in
    out = compute_deltas(padded, 2, 2, lengths)
    alone = compute_deltas(feats[1:, :13], 2, 2)
    torch.testing.assert_close(out[1, :13], alone[0])
    assert torch.all(out[1, 13:] == 0)


def test_splice_known_values():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 4, 1)
    expected = torch.tensor([[1, 1, 1, 2], [1, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 4]], dtype=torch.float32)
    torch.testing.assert_close(splice(x, left=2, right=1)[0], expected)
    # multi-dim features keep frame-major blocks: [frame t-1 | frame t | frame t+1]
    y = torch.arange(6.0).view(1, 3, 2)  # frames [0,1], [2,3], [4,5]
    torch.testing.assert_close(splice(y, 1, 1)[0, 1], torch.tensor([0.0, 1, 2, 3, 4, 5]))
    # per-utterance edges: utterance of length 2 replicates its own last frame, not padding
    z = torch.tensor([[1.0, 2.0, 3.0], [5.0, 6.0, 0.0]]).unsqueeze(-1)
    out = splice(z, 0, 1, lengths=torch.tensor([3, 2]))
    torch.testing.assert_close(out[1], torch.tensor([[5.0, 6.0], [6.0, 6.0], [0.0, 0.0]]))


def test_splice_shapes_sweep():
    for T in range(1, 9):
        for left in range(4):
            for right in range(4):
                x = torch.randn(3, T, 5)
                out = splice(x, left, right)
                assert out.shape == (3, T, 5 * (left + 1 + right))
                torch.testing.assert_close(out[..., left * 5 : (left + 1) * 5], x)  # centre block = input
    with pytest.raises(ValueError):
        splice(torch.zeros(1, 3, 2), -1, 0)


# --------------------------------------------------------------------------- CMVN


def test_utterance_cmvn_statistics_and_padding():
    batch, lengths, signals = padded_batch([16000, 7000, 3000])
    feats, frame_lengths = fbank(batch, lengths)
    normed = utterance_cmvn(feats, frame_lengths)
    for i in range(3):
        n = int(frame_lengths[i])
        valid = normed[i, :n]
        torch.testing.assert_close(valid.mean(0), torch.zeros(80), atol=1e-4, rtol=0)
        torch.testing.assert_close(valid.std(0, unbiased=False), torch.ones(80), atol=1e-3, rtol=0)
        assert torch.all(normed[i, n:] == 0)
        # same result with no padding at all
        alone = utterance_cmvn(feats[i : i + 1, :n], frame_lengths[i : i + 1])
        torch.testing.assert_close(valid, alone[0], atol=1e-5, rtol=1e-5)
    mean_only = utterance_cmvn(feats, frame_lengths, norm_vars=False)
    torch.testing.assert_close(mean_only[0].mean(0), torch.zeros(80), atol=1e-4, rtol=0)
    assert mean_only[0].std(0).max() > 1.5  # variances left alone


def test_global_cmvn_stats_match_direct_computation(tmp_path):
    stats = CMVNStats()
    frames = []
    for seed in range(2):
        batch, lengths, _ = padded_batch([8000 + 1000 * seed, 5000, 2000])
        feats, frame_lengths = mfcc(batch, lengths)
        stats.update(feats, frame_lengths)
        frames += [feats[i, : int(n)] for i, n in enumerate(frame_lengths)]
    direct = torch.cat(frames).double()  # (N, 13)
    assert stats.count == direct.shape[0]
    cmvn = stats.finalize()
    torch.testing.assert_close(cmvn.mean.double(), direct.mean(0), atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(cmvn.std.double(), direct.std(0, unbiased=False), atol=1e-4, rtol=1e-5)
    # applying it normalises the pooled frames and keeps padding zero
    feats, frame_lengths = mfcc(batch, lengths)
    out = cmvn(feats, frame_lengths)
    torch.testing.assert_close(out[0, :5], (feats[0, :5] - cmvn.mean) / cmvn.std)
    assert torch.all(out[2, int(frame_lengths[2]) :] == 0)
    # JSON round trip and state dict
    path = tmp_path / "cmvn.json"
    cmvn.save(path)
    loaded = GlobalCMVN.load(path)
    torch.testing.assert_close(loaded.mean, cmvn.mean)
    torch.testing.assert_close(loaded.std, cmvn.std)
    assert set(cmvn.state_dict()) == {"mean", "std"}
    fresh = GlobalCMVN.identity(13)
    fresh.load_state_dict(cmvn.state_dict())
    torch.testing.assert_close(fresh(feats), cmvn(feats))


def test_cmvn_stats_errors():
    with pytest.raises(ValueError):
        CMVNStats().finalize()
    stats = CMVNStats()
    stats.update(torch.randn(1, 5, 3))
    with pytest.raises(ValueError):
        stats.update(torch.randn(1, 5, 4))
    constant = CMVNStats()
    constant.update(torch.ones(2, 4, 3))
    assert torch.all(constant.finalize().std > 0)  # floored, no division by zero


# --------------------------------------------------------------------------- SpecAugment


def test_spec_augment_masks_only_inside_lengths():
    feats = torch.randn(4, 200, 40) + 5.0  # no natural zeros
    lengths = torch.tensor([200, 150, 60, 7])
    padded = feats.clone()
    for i, n in enumerate(lengths.tolist()):
        padded[i, n:] = -3.0
    out = spec_augment(padded, lengths, generator=torch.Generator().manual_seed(0))
    masked = out == 0
    for i, n in enumerate(lengths.tolist()):
        assert torch.all(out[i, n:] == -3.0)  # padding untouched
    assert masked[:3].any()
    # masked cells were either whole frequency bands or whole frames
    unchanged = ~masked
    torch.testing.assert_close(out[unchanged], padded[unchanged])


def test_spec_augment_mask_sizes():
    feats = torch.ones(8, 300, 10)
    lengths = torch.tensor([300, 250, 200, 150, 100, 60, 20, 1])
    gen = torch.Generator().manual_seed(1)
    # frequency only: at most 2 bands of at most F = 10 bins, on every valid frame alike
    out = spec_augment(feats, lengths, num_freq_masks=2, freq_mask_width=27, num_time_masks=0, generator=gen)
    for i, n in enumerate(lengths.tolist()):
        cols = (out[i, :n] == 0).all(0)
        assert torch.equal((out[i, :n] == 0).any(0), cols)
    # time only: at most num_time_masks * floor(0.05 * length) frames, whole frames
    for _ in range(5):
        out = spec_augment(feats, lengths, num_freq_masks=0, num_time_masks=3, time_mask_ratio=0.05, generator=gen)
        for i, n in enumerate(lengths.tolist()):
            rows = (out[i] == 0).all(-1)
            assert torch.equal((out[i] == 0).any(-1), rows)
            assert rows.sum() <= 3 * int(0.05 * n)
            assert not rows[n:].any()


def test_spec_augment_seeded_and_eval_identity():
    feats = torch.randn(3, 120, 80)
    lengths = torch.tensor([120, 90, 33])
    a = spec_augment(feats, lengths, generator=torch.Generator().manual_seed(7))
    b = spec_augment(feats, lengths, generator=torch.Generator().manual_seed(7))
    c = spec_augment(feats, lengths, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    aug = SpecAugment(max_time_warp=5)
    train_out = aug(feats, lengths, generator=torch.Generator().manual_seed(7))
    assert not torch.equal(train_out, feats)
    aug.eval()
    assert aug(feats, lengths) is feats


def test_time_warp_keeps_shape_and_padding():
    feats = torch.arange(100.0).view(1, 100, 1).repeat(3, 1, 4)
    lengths = torch.tensor([100, 50, 8])
    padded = feats.clone()
    padded[1, 50:] = 0
    padded[2, 8:] = 0
    out = time_warp(padded, lengths, max_warp=5, generator=torch.Generator().manual_seed(3))
    assert out.shape == padded.shape
    assert torch.all(out[1, 50:] == 0) and torch.equal(out[2], padded[2])  # too short to warp
    for i, n in enumerate([100, 50]):
        warped = out[i, :n, 0]
        assert warped[0] >= 0 and warped[-1] <= n - 1 + 1e-4  # stays within the original range
        assert torch.all(warped[1:] >= warped[:-1] - 1e-4)  # a ramp stays monotone


# --------------------------------------------------------------------------- FeatureExtractor


@pytest.mark.parametrize("kind", ["fbank", "mfcc"])
@pytest.mark.parametrize("cmvn", ["none", "utterance", "global"])
def test_feature_extractor_dims(kind, cmvn):
    batch, lengths, _ = padded_batch([6000, 4000, 1000])
    for deltas in range(3):
        cfg = FeatureConfig(kind=kind, deltas=deltas, cmvn=cmvn, use_energy=kind == "fbank" and deltas == 1)
        ext = FeatureExtractor(cfg)
        feats, frame_lengths = ext(batch, lengths)
        assert feats.shape == (3, int(frame_lengths.max()), ext.dim)
        assert frame_lengths.tolist() == ext.num_frames(lengths).tolist()
        assert torch.all(feats[2, int(frame_lengths[2]) :] == 0)
        assert torch.isfinite(feats).all()


def test_feature_extractor_global_cmvn_and_dither():
    cfg = FeatureConfig(kind="fbank", num_mel_bins=40, cmvn="global", dither=1.0, deltas=1)
    batch, lengths, _ = padded_batch([8000, 5000, 3000])
    ext = FeatureExtractor(cfg).eval()
    stats = CMVNStats()
    stats.update(*ext.base_features(batch, lengths))
    ext.set_cmvn(stats.finalize())
    a, frame_lengths = ext(batch, lengths)
    b, _ = ext(batch, lengths)
    assert torch.equal(a, b)  # no dither in eval mode
    valid = a[:, :, :40][torch.arange(a.shape[1])[None] < frame_lengths[:, None]]  # (N, 40)
    torch.testing.assert_close(valid.mean(0), torch.zeros(40), atol=1e-3, rtol=0)
    ext.train()
    c, _ = ext(batch, lengths)
    assert not torch.equal(a, c)  # dithered in training
    torch.testing.assert_close(a, c, atol=0.5, rtol=0)  # by one int16 step: barely
    # the statistics travel in the state dict
    fresh = FeatureExtractor(cfg).eval()
    fresh.load_state_dict(ext.state_dict())
    torch.testing.assert_close(fresh(batch, lengths)[0], a)
    with pytest.raises(ValueError):
        ext.set_cmvn(GlobalCMVN.identity(41))
    with pytest.raises(ValueError):
        FeatureExtractor(FeatureConfig(), cmvn=GlobalCMVN.identity(80))


@pytest.mark.gpu
def test_cuda_matches_cpu():
    batch, lengths, _ = padded_batch([16000, 9000, 3000])
    for kind in ("fbank", "mfcc"):
        ext = FeatureExtractor(FeatureConfig(kind=kind, deltas=2, cmvn="utterance"))
        cpu, cpu_len = ext(batch, lengths)
        gpu, gpu_len = ext.cuda()(batch.cuda(), lengths.cuda())
        assert torch.equal(cpu_len, gpu_len.cpu())
        torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-4)
    out = spec_augment(gpu, gpu_len, generator=torch.Generator(device="cuda").manual_seed(0))
    assert out.device.type == "cuda"
