"""``asr.load(DIR).transcribe(...)``: one interface over both systems, paths and samples in memory alike."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

import asr
from asr.api import Recognizer, Transcript
from asr.audio import AudioError

from conftest import make_tone, random_ctc_model_dir, random_hybrid_model_dir


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    return {"ctc": random_ctc_model_dir(d / "ctc", "abc def ghi"),
            "hybrid": random_hybrid_model_dir(d / "hybrid", {"cat": ["k", "a", "t"], "dog": ["d", "o", "g"]})}


@pytest.mark.parametrize("system", ["ctc", "hybrid"])
def test_paths_numpy_and_torch_give_the_same_transcript(models, tmp_path, system):
    rec = asr.load(models[system])
    assert isinstance(rec, Recognizer) and rec.system == system
    x = make_tone(2.0, sample_rate=8000)
    stereo = np.stack([x, 0.5 * x], axis=1)  # (S, C)
    sf.write(tmp_path / "a.wav", stereo, 8000, subtype="FLOAT")
    from_file = rec.transcribe(tmp_path / "a.wav")
    from_numpy = rec.transcribe(stereo, sample_rate=8000)
    from_torch = rec.transcribe(torch.from_numpy(stereo.T.copy()), sample_rate=8000)  # (C, S)
    assert isinstance(from_file, Transcript) and from_file.text
    assert from_file.text == from_numpy.text == from_torch.text
    assert [w.word for w in from_file.words] == [w.word for w in from_numpy.words]
    assert from_file.duration == pytest.approx(2.0, abs=0.01) and from_numpy.duration == pytest.approx(2.0, abs=0.01)
    for w in from_file.words:
        assert 0.0 <= w.start <= w.end <= 2.0 + 1e-3
        assert w.confidence is not None and 0.0 <= w.confidence <= 1.0  # both systems
    d = from_file.to_dict()
    assert json.loads(json.dumps(d)) == d and d["audio"] == str(tmp_path / "a.wav")
    assert " ".join(s.text for s in from_file.segments) == from_file.text


def test_long_arrays_are_cut_into_windows_and_batches_agree(models):
    rec = asr.load(models["ctc"], chunk_seconds=3.0)
    x = np.concatenate([make_tone(1.0, seed=i) if i % 2 == 0 else np.zeros(8000, np.float32) for i in range(14)])
    t = rec.transcribe(x)  # 10.5 s: four windows of at most 3 s
    starts = [w.start for w in t.words]
    assert starts == sorted(starts) and t.words[-1].end <= t.duration + 1e-3 and t.duration == pytest.approx(10.5)
    batched = asr.load(models["ctc"], chunk_seconds=3.0, batch_size=3).transcribe_batch([x, x[:16000]])
    assert batched[0].text == t.text and batched[1].text == rec.transcribe(x[:16000]).text


def test_bad_inputs_raise_clear_errors(models, tmp_path):
    rec = asr.load(models["ctc"])
    with pytest.raises(AudioError, match="nope.wav"):
        rec.transcribe_batch([make_tone(1.0), tmp_path / "nope.wav"])
    with pytest.raises(AudioError, match="NaN"):
        rec.transcribe(np.array([0.0, np.nan] * 8000, dtype=np.float32))
    with pytest.raises(ValueError, match="backend"):
        asr.load(models["ctc"], backend="tensorrt")
    with pytest.raises(ValueError, match="no such model directory"):
        asr.load(tmp_path / "missing")
    assert rec.transcribe(np.zeros(3, np.float32)).text == ""  # shorter than one frame: nothing


def test_a_ctc_directory_decodes_with_its_saved_lexicon_and_lm(models, tmp_path):
    import shutil

    from asr.decoding.loaders import ctc_decoding, save_ctc_decoding
    from asr.systems import load_recognizer
    from asr.text.lm import train_ngram

    d = tmp_path / "ctc"
    shutil.copytree(models["ctc"], d)
    assert ctc_decoding(d) is None and load_recognizer(d).decoder_name == "greedy"
    train_ngram([["abc", "def"], ["ghi", "abc"]], 2).to_arpa(tmp_path / "en.arpa")
    save_ctc_decoding(d, "en", tmp_path / "en.arpa", beam=8, lm_weight=0.5, word_score=1.0)
    saved = ctc_decoding(d)
    assert saved["lm"] == d / "lm" / "en.arpa" and saved["beam"] == 8 and saved["lm_weight"] == 0.5
    assert load_recognizer(d).decoder_name == "lexicon"  # the default now
    assert load_recognizer(d, beam=1).decoder_name == "greedy"  # asked for
    words = set(asr.load(d).transcribe(make_tone(2.0)).text.split())
    assert words <= {"abc", "def", "ghi"}  # only the lexicon's words
    save_ctc_decoding(d, "sw", tmp_path / "en.arpa", beam=8, lm_weight=0.5, word_score=1.0)
    assert ctc_decoding(d) is None  # two languages, none asked for: greedy
    assert ctc_decoding(d, "sw")["lm"] == d / "lm" / "sw.arpa"
    with pytest.raises(ValueError, match="no LM for language 'fr'"):
        asr.load(d, language="fr")
    (d / "decoding.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a decoding file"):
        ctc_decoding(d)


def test_n_best_is_sorted_and_starts_with_the_one_best(models, tmp_path):
    from asr.text.lm import train_ngram

    x = make_tone(1.5, seed=3)
    one = asr.load(models["ctc"], beam=4).transcribe(x)
    t = asr.load(models["ctc"], beam=4, n_best=4).transcribe(x)
    assert t.text == one.text and t.alternatives and t.alternatives[0][0] == t.text
    scores = [s for _, s in t.alternatives]
    assert scores == sorted(scores, reverse=True) and len({a for a, _ in t.alternatives}) == len(t.alternatives) <= 4
    assert t.to_dict()["alternatives"][0]["text"] == t.text
    greedy_nbest = asr.load(models["ctc"], n_best=3).transcribe(x)  # no beam given: a beam of 3
    assert 1 <= len(greedy_nbest.alternatives) <= 3
    train_ngram([["abc", "def"], ["ghi", "abc"], ["def"]], 2).to_arpa(tmp_path / "lm.arpa")
    lex = asr.load(models["ctc"], lm=tmp_path / "lm.arpa", n_best=3).transcribe(x)
    assert lex.alternatives[0][0] == lex.text and all(set(a.split()) <= {"abc", "def", "ghi"} for a, _ in lex.alternatives)
    assert [s for _, s in lex.alternatives] == sorted((s for _, s in lex.alternatives), reverse=True)
    assert asr.load(models["ctc"], beam=4).transcribe(x).alternatives == []  # not asked for
    hyb = asr.load(models["hybrid"], n_best=3).transcribe(x)  # the hybrid search's final tokens
    assert 1 <= len(hyb.alternatives) <= 3 and hyb.alternatives[0][0] == hyb.text
    long = asr.load(models["ctc"], beam=4, n_best=4, chunk_seconds=1.0).transcribe(np.tile(x, 2))
    assert long.alternatives == []  # decoded in several pieces: the 1-best alone


def test_confidence_is_lower_on_a_forced_wrong_word(models):
    from asr.decoding.ctc_lexicon import word_timestamps
    from asr.decoding.greedy import greedy_search

    rec = asr.load(models["ctc"])
    eng = rec.engine
    lp, lengths = eng.log_probs([torch.from_numpy(make_tone(2.0, seed=5))])
    lp = lp[0, : int(lengths[0])].float().cpu()
    best = greedy_search(lp[None])[0]
    right = word_timestamps(lp, best, eng.tokenizer, eng.frame_shift_s)
    assert right
    wrong_ids = [eng.tokenizer.encode("ghi")[0] if i != eng.tokenizer.encode("ghi")[0] else eng.tokenizer.encode("abc")[0]
                 for i in best]  # every unit replaced by another
    wrong = word_timestamps(lp, wrong_ids, eng.tokenizer, eng.frame_shift_s)
    mean = lambda spans: sum(w.score for w in spans) / len(spans)  # noqa: E731
    assert mean(wrong) < mean(right)  # the best path's posteriors bound any other path's
    assert all(0.0 < rec._word(w, 0.0).confidence <= 1.0 for w in right + wrong)


def test_a_hotword_is_boosted_into_the_output(models):
    from asr.decoding.ctc_beam import parse_hotwords

    assert parse_hotwords("ghi:3, abc") == {"ghi": 3.0, "abc": 0.5}
    with pytest.raises(ValueError, match="boost"):
        parse_hotwords("abc:lots")
    x = make_tone(2.0, seed=7)
    plain = asr.load(models["ctc"], beam=8).transcribe(x).text
    target = next(w for w in ("ghi", "def", "abc") if w not in plain.split())
    boosted = asr.load(models["ctc"], beam=8, hotwords=f"{target}:6").transcribe(x).text
    assert target in boosted.split() and target not in plain.split(), (plain, boosted)
    mild = asr.load(models["ctc"], beam=8, hotwords={target: 0.0}).transcribe(x).text
    assert mild == plain  # no boost, no change


def test_hotwords_with_the_lexicon_lm_search_and_the_hybrid_search(models, tmp_path):
    from asr.text.lm import train_ngram

    x = make_tone(2.0, seed=7)
    train_ngram([["abc", "def"], ["def", "abc"]], 2).to_arpa(tmp_path / "lm.arpa")  # "ghi" is not in the LM
    plain = asr.load(models["ctc"], lm=tmp_path / "lm.arpa", beam=8).transcribe(x).text
    assert "ghi" not in plain.split()  # outside the lexicon: never output
    boosted = asr.load(models["ctc"], lm=tmp_path / "lm.arpa", beam=8, hotwords="ghi:8").transcribe(x).text
    assert "ghi" in boosted.split(), (plain, boosted)
    same = asr.load(models["ctc"], lm=tmp_path / "lm.arpa", beam=8, hotwords="ghi:0").transcribe(x).text
    assert "ghi" not in same.split()  # in the lexicon now, but not boosted: the LM's <unk> keeps it out

    hyb_plain = asr.load(models["hybrid"]).transcribe(x).text.split()
    target = "dog" if hyb_plain.count("dog") <= hyb_plain.count("cat") else "cat"
    hyb = asr.load(models["hybrid"], hotwords=f"{target}:20").transcribe(x).text.split()
    assert hyb.count(target) > hyb_plain.count(target), (hyb_plain, hyb)
    with pytest.raises(ValueError, match="phones this model does not have"):
        asr.load(models["hybrid"], hotwords="zebra")
