"""Synthesis engines behind one interface: real audio from every installed engine, deterministic,
prosody that acts, voices split per split, and a multi-engine corpus whose test voices are never
trained on. Engines that are not installed skip with the install hint (tools/install_voices.sh)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from asr.data.engines import ENGINES, EngineMissing, SynthItem, get_engine, split_voices
from asr.data.engines.mbrola import parse_pho
from asr.data.engines.pico import markup
from asr.data.manifest import read_manifest
from asr.data.synth import SPLITS, SynthConfig, check_engines, generate

TEXT = "turn on the kitchen lights at seven thirty"


def _engine_or_skip(name: str):
    engine = get_engine(name)
    problem = engine.missing()
    if problem:
        pytest.skip(f"{problem}: install with tools/install_voices.sh")
    return engine


def test_registry_names_the_known_engines():
    assert set(ENGINES) == {"espeak", "mbrola", "pico", "festival"}
    with pytest.raises(ValueError, match="unknown synthesis engine 'flite'.*espeak"):
        get_engine("flite")


@pytest.mark.parametrize("voices, train, dev, test", [
    (("a", "b", "c", "d"), ("c", "d"), ("b",), ("a",)),
    (("a", "b", "c"), ("c",), ("b",), ("a",)),
    (("a", "b"), ("b",), ("a",), ("a",)),
    (("a",), (), ("a",), ("a",)),
    ((), (), (), ()),
])
def test_split_voices_keeps_test_voices_out_of_train(voices, train, dev, test):
    s = split_voices(voices)
    assert (s["train"], s["dev"], s["test"]) == (train, dev, test)
    assert not set(s["train"]) & (set(s["dev"]) | set(s["test"]))


def test_parse_pho_and_pico_markup():
    phones, starts, total = parse_pho("; comment\nt\t100\nE\t50\t 0 120 100 110\n_\t250\n")
    assert phones == ["t", "E", "_"] and starts == [0.0, 0.1, 0.15] and total == pytest.approx(0.4)
    assert markup("a < b & c", 1.25, 70) == '<speed level="125"><pitch level="110">a &lt; b &amp; c</pitch></speed>'


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_engine_speaks_deterministically_and_prosody_acts(name):
    engine = _engine_or_skip(name)
    voice = engine.voices("en")[0]
    item = SynthItem(TEXT, voice, "en", speed=1.0, pitch=50, seed=7)
    fast = SynthItem(TEXT, voice, "en", speed=1.4, pitch=50, seed=7)
    a, b, c = engine.synthesize_many([item, item, fast])
    assert a.samples.dtype == np.int16 and a.sample_rate >= 8000
    seconds = a.samples.size / a.sample_rate
    assert 1.0 < seconds < 6.0 and np.abs(a.samples).max() > 1000  # speech, not silence
    if engine.stateless:  # the same request gives the same samples (libespeak-ng keeps state between
        assert np.array_equal(a.samples, b.samples)  # utterances: the corpus renders it in fresh processes)
    assert c.samples.size / c.sample_rate < 0.9 * seconds  # faster is shorter
    if a.phones:  # engines that report phone times: increasing, inside the audio
        assert a.starts == sorted(a.starts) and a.starts[-1] < seconds + 0.05  # (+ a trailing 1 ms pause)


def test_missing_engine_names_its_package(monkeypatch):
    import asr.data.engines.pico as pico

    monkeypatch.setattr(pico.shutil, "which", lambda cmd: None)
    with pytest.raises(EngineMissing, match="libttspico-utils.*--skip-missing"):
        check_engines(("espeak", "pico"))
    assert check_engines(("espeak", "pico"), skip_missing=True) == ("espeak",)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_multi_engine_corpus_voices_disjoint_and_reproducible(tmp_path):
    engines = tuple(n for n in ("espeak", "mbrola", "pico", "festival") if get_engine(n).missing() is None)
    if len(engines) < 2:
        pytest.skip("needs a second engine (tools/install_voices.sh)")
    cfg = SynthConfig(langs=("en",), hours=0.01, train_speakers=len(engines) * 2, dev_speakers=len(engines),
                      test_speakers=len(engines), min_utts_per_split=len(engines) * 2, engines=engines)
    generate(tmp_path / "a", cfg, jobs=2, progress=False)
    generate(tmp_path / "b", cfg, jobs=1, progress=False)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # any worker count: the same bytes
    speakers = [json.loads(line) for line in (tmp_path / "a" / "en" / "speakers.jsonl").read_text().splitlines()]
    assert {s["engine"] for s in speakers} == set(engines)
    for engine in engines:
        voices = {split: {s["voice"] for s in speakers if s["engine"] == engine and s["id"].startswith(f"en-{split}")}
                  for split in SPLITS}
        assert not voices["train"] & (voices["dev"] | voices["test"]), engine


@pytest.mark.slow
def test_leave_one_engine_out_smoke(tmp_path):
    """The voices experiment end to end on a tiny corpus: every held-out run and the table."""
    from asr.experiments.voices import VoicesConfig, run_voices

    engines = tuple(n for n in ("espeak", "pico", "mbrola") if get_engine(n).missing() is None)[:2]
    if len(engines) < 2:
        pytest.skip("needs a second engine (tools/install_voices.sh)")
    cfg = VoicesConfig(engines=engines, hours=0.02, speakers_per_engine=3, systems=("hybrid",),
                       hybrid={"mono_iters": 4, "max_gauss": 64, "epochs": 2, "realign_rounds": 0, "hidden": 32},
                       augment={"vtlp_prob": 0.5, "telephone_prob": 0.5}, augment_systems=("hybrid",))
    summary = run_voices(tmp_path, cfg, jobs=2)
    assert set(summary["runs"]) == ({f"heldout-{e}" for e in engines} | {f"heldout-{e}+aug" for e in engines}
                                    | ({"espeak-only"} if "espeak" in engines else set()))
    assert set(summary["heldout"]) == {"hybrid", "hybrid+aug"}
    engine_of = {json.loads(line)["id"]: json.loads(line)["engine"]
                 for line in (tmp_path / "corpus" / "en" / "speakers.jsonl").read_text().splitlines()}
    for e in engines:
        cell = summary["heldout"]["hybrid"][e]
        assert 0.0 <= cell["in_engine"] and 0.0 <= cell["heldout"] and cell["ratio"] >= 0
        trained_on = {engine_of[u.speaker] for u in read_manifest(tmp_path / f"heldout-{e}" / "data" / "train.jsonl")}
        assert trained_on == set(engines) - {e}  # the held-out engine is never heard in training
    assert (tmp_path / "voices.png").stat().st_size > 1000 and "held-out WER" in (tmp_path / "voices.md").read_text()


def test_augmented_plan_keeps_texts_and_speakers():
    """Augmentation draws come after the rest: the same seed gives the same texts and speakers, plus VTLP / codecs."""
    from asr.data.synth import make_speakers, plan_split

    speakers = make_speakers("en", "train", 4, 0)
    plain = plan_split(SynthConfig(langs=("en",), hours=0.02), "en", "train", speakers)
    aug = plan_split(SynthConfig(langs=("en",), hours=0.02, vtlp_prob=0.5, telephone_prob=0.5), "en", "train", speakers)
    assert [(p.text, p.speaker, p.snr_db, p.seed) for p in plain] == [(a.text, a.speaker, a.snr_db, a.seed) for a in aug]
    assert all(p.vtlp_alpha is None and p.codec is None for p in plain)
    alphas = [a.vtlp_alpha for a in aug if a.vtlp_alpha is not None]
    assert alphas and all(0.9 <= x <= 1.1 for x in alphas)
    assert {a.codec for a in aug} - {None} <= {"ulaw", "alaw", "gsm"} and any(a.codec for a in aug)



def test_festival_reads_accented_text_as_latin1():
    from asr.data.engines import SynthItem
    from asr.data.engines.festival import latin1

    assert latin1("perché è così") == "perché è così" and latin1("œuvre ŝ") == "uvre s"
    engine = get_engine("festival")
    voices = engine.voices("it") if engine.missing() is None else ()
    if not voices:
        pytest.skip("festival with an Italian voice is not installed (tools/install_voices.sh)")
    # a UTF-8 script stops festival's Italian letter-to-sound rules at the first accented letter
    syn = engine.synthesize_many([SynthItem("perché è così, l'interno è occupato", voices[0], "it")])[0]
    assert syn.samples.shape[0] > 0.5 * syn.sample_rate


def test_leave_one_out_runs_hold_test_only_engines_out_of_every_run():
    from asr.experiments.voices import leave_one_out_runs

    every = ("espeak", "mbrola", "pico", "festival")
    assert leave_one_out_runs(every, every) == {f"heldout-{e}": tuple(x for x in every if x != e) for e in every}
    # Spanish: Pico and festival have one voice each (a test voice); their run is the one on every other engine
    assert leave_one_out_runs(every, ("espeak", "mbrola")) == {
        "heldout-espeak": ("mbrola",), "heldout-mbrola": ("espeak",), "heldout-pico": ("espeak", "mbrola")}
    assert leave_one_out_runs(("espeak", "pico"), ("espeak",)) == {"heldout-pico": ("espeak",)}


def test_voices_table_reads_each_engine_from_its_largest_held_out_run(tmp_path):
    from asr.experiments.voices import voices_table

    def results(run, **wers):
        (tmp_path / run).mkdir()
        (tmp_path / run / "results.json").write_text(json.dumps({"hybrid": {t: {"wer": w} for t, w in wers.items()}}))

    results("heldout-espeak", espeak=0.4, mbrola=0.1, pico=0.6)
    results("heldout-mbrola", espeak=0.05, mbrola=0.5, pico=0.8)
    results("heldout-pico", espeak=0.1, mbrola=0.2, pico=0.45)  # every trainable engine
    results("espeak-only", espeak=0.02, mbrola=0.7, pico=0.9)
    runs = {"heldout-espeak": ("mbrola",), "heldout-mbrola": ("espeak",), "heldout-pico": ("espeak", "mbrola"),
            "espeak-only": ("espeak",)}
    cells = voices_table(tmp_path, ("espeak", "mbrola", "pico"), runs)["heldout"]["hybrid"]
    assert cells["espeak"] == {"heldout": 0.4, "in_engine": 0.1, "ratio": 4.0, "trained_on": ["mbrola"]}
    assert cells["mbrola"]["heldout"] == 0.5 and cells["mbrola"]["in_engine"] == 0.05
    assert cells["pico"] == {"heldout": 0.45, "in_engine": 0.15, "ratio": 3.0, "trained_on": ["espeak", "mbrola"]}
    assert "| hybrid | pico | espeak, mbrola | 45.0 | 15.0 | 3.0 |" in (tmp_path / "voices.md").read_text()
