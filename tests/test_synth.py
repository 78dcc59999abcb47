"""The synthetic corpus: real espeak-ng audio, deterministic, held-out voices."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.audio import SAMPLE_RATE, load_audio
from asr.data.manifest import read_manifest
from asr.data.synth import SPLITS, SynthConfig, colored_noise, generate, room_response, voice_pools
from asr.text.lexicon import Lexicon

TINY = dict(langs=("en", "sw"), hours=0.004, train_speakers=3, dev_speakers=2, test_speakers=2, min_utts_per_split=3)


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> hex digest)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "seed0"
    stats = generate(out, SynthConfig(seed=0, **TINY), jobs=2, progress=False)
    return out, stats


def test_layout_and_manifests(corpus):
    out, stats = corpus
    assert json.loads((out / "corpus.json").read_text())["config"]["seed"] == 0
    for lang in TINY["langs"]:
        for split in SPLITS:
            utts = read_manifest(out / lang / f"{split}.jsonl")
            assert len(utts) >= TINY["min_utts_per_split"]
            for u in utts:
                assert u.lang == lang and u.text and u.text == u.text.lower()
                info = sf.info(u.audio)
                assert info.samplerate == SAMPLE_RATE and info.channels == 1 and info.subtype == "PCM_16"
                assert abs(info.frames / SAMPLE_RATE - u.duration) < 1e-3
            assert stats["langs"][lang][split]["utts"] == len(utts)


def test_audio_is_speech_not_silence(corpus):
    out, _ = corpus
    u = read_manifest(out / "en" / "train.jsonl")[0]
    wav = load_audio(u.audio)
    assert wav.abs().max() > 0.01
    assert wav.abs().max() <= 1.0
    assert 0.5 < wav.numel() / SAMPLE_RATE < 15


def test_dev_and_test_speakers_and_voices_never_in_train(corpus):
    out, _ = corpus
    pools = voice_pools()
    assert not set(pools["train"]) & set(pools["dev"])
    assert not set(pools["train"]) & set(pools["test"])
    for lang in TINY["langs"]:
        spk = [json.loads(line) for line in (out / lang / "speakers.jsonl").read_text().splitlines()]
        voices = {split: {s["voice"] for s in spk if f"-{split}-" in s["id"]} for split in SPLITS}
        assert not voices["train"] & (voices["dev"] | voices["test"])
        ids = {split: {u.speaker for u in read_manifest(out / lang / f"{split}.jsonl")} for split in SPLITS}
        assert not ids["train"] & (ids["dev"] | ids["test"])


def test_lexicon_covers_every_word(corpus):
    out, _ = corpus
    for lang in TINY["langs"]:
        lex = Lexicon.from_file(out / lang / "lexicon.txt")
        words = {w for split in SPLITS for u in read_manifest(out / lang / f"{split}.jsonl") for w in u.text.split()}
        missing = [w for w in words if w not in lex]
        assert not missing
        assert all(lex.pronounce(w) for w in words)


def test_alignment_files_hold_espeak_phone_times(corpus):
    out, _ = corpus
    utts = {u.id: u for u in read_manifest(out / "en" / "test.jsonl")}
    rows = [json.loads(line) for line in (out / "en" / "test.align.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(utts)
    for r in rows:
        assert len(r["phones"]) == len(r["starts"]) > 3
        assert r["starts"] == sorted(r["starts"])
        assert 0 < r["starts"][0] < r["speech_end"] <= utts[r["id"]].duration + 1e-3


def test_same_seed_is_byte_identical_other_seed_differs(corpus, tmp_path):
    out, _ = corpus
    again = tmp_path / "again"
    generate(again, SynthConfig(seed=0, **TINY), jobs=1, progress=False)  # other worker count too
    assert tree_digest(again) == tree_digest(out)
    other = tmp_path / "seed1"
    generate(other, SynthConfig(seed=1, **TINY), jobs=2, progress=False)
    a, b = tree_digest(out), tree_digest(other)
    assert a["en/train.jsonl"] != b["en/train.jsonl"]
    assert a != b


def test_rerun_skips_finished_languages(corpus):
    out, _ = corpus
    before = (out / "en" / "train.jsonl").stat().st_mtime_ns
    stats = generate(out, SynthConfig(seed=0, **TINY), jobs=1, progress=False)
    assert (out / "en" / "train.jsonl").stat().st_mtime_ns == before
    assert stats["audio_seconds"] == 0.0


def test_noise_and_room_response_shapes():
    rng = np.random.default_rng(0)
    for exponent in (0.0, 1.0, 2.0):
        n = colored_noise(16000, exponent, rng)
        assert n.shape == (16000,) and abs(np.sqrt(np.mean(n**2)) - 1) < 1e-6
    white, brown = colored_noise(16000, 0.0, rng), colored_noise(16000, 2.0, rng)
    low = lambda x: np.abs(np.fft.rfft(x))[:200].sum() / np.abs(np.fft.rfft(x)).sum()  # noqa: E731
    assert low(brown) > 5 * low(white)
    h = room_response(0.3, rng)
    assert h[0] == h.max() and abs(np.sum(h**2) - 1) < 1e-9


def test_unknown_language_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="xx"):
        generate(tmp_path, SynthConfig(langs=("xx",), hours=0.001), jobs=1, progress=False)


def test_train_texts_replace_generated_sentences_in_train_only(tmp_path):
    from asr.data.synth import SynthConfig, make_speakers, plan_split

    texts = tmp_path / "prompts.txt"
    texts.write_text("please hold\n\nthank you for calling\npress one for sales\n", encoding="utf-8")
    cfg = SynthConfig(langs=("en",), hours=0.02, train_texts=str(texts))
    train = plan_split(cfg, "en", "train", make_speakers("en", "train", 3, 0))
    said = [s.text for s in train]
    assert set(said) == {"please hold", "thank you for calling", "press one for sales"}
    for r in range(len(said) // 3):  # every sentence once per round
        assert sorted(said[3 * r : 3 * r + 3]) == sorted(set(said))
    dev = plan_split(cfg, "en", "dev", make_speakers("en", "dev", 2, 0))
    assert not set(s.text for s in dev) & set(said)
    d = cfg.to_dict()
    assert d["train_texts"] == str(texts) and len(d["train_texts_sha1"]) == 40
    assert "train_texts" not in SynthConfig().to_dict()  # corpora made before the option keep their corpus.json
    (tmp_path / "empty.txt").write_text("\n \n")
    with pytest.raises(ValueError, match="empty.txt: no sentences"):
        plan_split(SynthConfig(train_texts=str(tmp_path / "empty.txt")), "en", "train",
                   make_speakers("en", "train", 2, 0))


def test_render_voice_says_the_given_sentences_deterministically(tmp_path):
    from asr.data.synth import Speaker, render_voice

    spk = Speaker(id="en-heldout-espeak", lang="en", voice="en-us+m3", pitch=50, pitch_range=50, speed=1.0,
                  gain_db=-6.0)
    texts = {"pool": ["the cat sat", "a dog ran home"], "test": ["one more time"]}
    a = render_voice(tmp_path / "a", spk, texts, seed=3, jobs=1)
    b = render_voice(tmp_path / "b", spk, texts, seed=3, jobs=1)
    assert set(a) == {"pool", "test"}
    for split, lines in texts.items():
        utts = read_manifest(a[split])
        assert [u.text for u in utts] == lines and {u.speaker for u in utts} == {spk.id}
        for u, v in zip(utts, read_manifest(b[split])):
            assert u.duration > 0.5 and Path(u.audio).read_bytes() == Path(v.audio).read_bytes()
    stamp = a["pool"].stat().st_mtime_ns  # a split whose manifest exists is kept
    assert render_voice(tmp_path / "a", spk, texts, seed=3)["pool"].stat().st_mtime_ns == stamp


def test_babble_and_image_rooms_in_the_corpus(tmp_path):
    """Babble fills the pauses with other talkers, image-method rooms reverberate, the same seed gives the same
    bytes, and a corpus without the new options keeps its corpus.json and its plan."""
    from asr.data.synth import babble_talkers, make_speakers, plan_split

    pytest.importorskip("pyroomacoustics", reason="pyroomacoustics is not installed (pip install 'asr[augment]')")
    base = dict(langs=("en",), hours=0.006, train_speakers=3, dev_speakers=1, test_speakers=1, min_utts_per_split=2,
                noise_prob=0.0)
    plain_cfg = SynthConfig(reverb_prob=1.0, **base)  # rooms of the decay model, no babble
    mixed_cfg = SynthConfig(reverb_prob=1.0, room_model="image", babble_prob=1.0, babble_talkers=(2, 3), **base)
    assert "babble_prob" not in plain_cfg.to_dict() and mixed_cfg.to_dict()["room_model"] == "image"
    speakers = make_speakers("en", "train", 3, 0)
    plan, mixed = (plan_split(c, "en", "train", speakers) for c in (plain_cfg, mixed_cfg))
    assert [(p.text, p.speaker, p.seed) for p in plan] == [(m.text, m.speaker, m.seed) for m in mixed]
    assert all(5 <= m.babble_snr_db <= 20 and 2 <= m.babble_talkers <= 3 and m.room_model == "image" for m in mixed)
    for m in mixed:
        talkers = babble_talkers(m, mixed)
        assert talkers == babble_talkers(m, mixed) and all(t.speaker.id != m.speaker.id for t in talkers)

    def lead_rms(out: Path) -> list[float]:  # the first 80 ms, silence before the speech in a clean corpus
        return [float(np.sqrt(np.mean(load_audio(out / "en" / u.audio)[:1280].numpy() ** 2)))
                for u in read_manifest(out / "en" / "train.jsonl")]

    generate(tmp_path / "plain", plain_cfg, jobs=1, progress=False)
    generate(tmp_path / "a", mixed_cfg, jobs=1, progress=False)
    generate(tmp_path / "b", mixed_cfg, jobs=2, progress=False)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert max(lead_rms(tmp_path / "plain")) < 1e-4 < min(lead_rms(tmp_path / "a"))
    generate(tmp_path / "image", dataclasses.replace(plain_cfg, room_model="image"), jobs=1, progress=False)
    wavs = {k: sorted((tmp_path / k / "en" / "wav" / "train").glob("*.wav")) for k in ("plain", "image")}
    assert [p.name for p in wavs["plain"]] == [p.name for p in wavs["image"]]  # same utterances, other rooms
    assert all(p.read_bytes() != q.read_bytes() for p, q in zip(wavs["plain"], wavs["image"]))
    with pytest.raises(ValueError, match="room_model"):
        SynthConfig(room_model="cathedral")
