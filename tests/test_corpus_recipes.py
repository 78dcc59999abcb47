"""Every real-corpus recipe end to end (prepare -> train -> decode -> score -> report) on a fixture
in the corpus's own layout, with speech synthesized by espeak-ng, and the recipe's test preset."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import SAMPLE_RATE, resample
from asr.cli.compare import main as compare_main
from asr.data.corpora import CorpusError, select_splits
from asr.data.corpora.timit import PHONES_39 as FOLD_39
from asr.data.manifest import read_manifest
from asr.espeak import get_espeak
from asr.metrics import read_text_file
from asr.text.dictionary import read_pronunciations
from asr.text.g2p import g2p
from test_corpora import recipe_main

VOICES = ("en-us+m1", "en-us+f2", "en-us+m3", "en-us+f4")
WORDS = "yes no stop go enter rubout one two three four five six seven eight nine".split()


def say(path: Path, text: str, voice: str = "en-us", seed: int = 0, **sf_kw) -> float:
    """Speak ``text`` with espeak-ng into ``path`` (16 kHz; ``sf_kw``: soundfile format); returns seconds."""
    rng = random.Random(seed)
    tts = get_espeak()
    tts.set_voice(voice)
    tts.set_params(rate=rng.randint(150, 200), pitch=rng.randint(35, 65))
    pcm, _ = tts.synthesize(text, seed=seed)
    speech = resample(torch.from_numpy(pcm.astype(np.float64) / 32768.0), tts.sample_rate, SAMPLE_RATE).numpy()
    pad = np.zeros(SAMPLE_RATE // 10)
    x = np.concatenate([pad, 0.5 * speech, pad]).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, SAMPLE_RATE, **sf_kw)
    return len(x) / SAMPLE_RATE


def sentences(n: int, seed: int, words=WORDS) -> list[str]:
    """``n`` random word strings of 2-4 words."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def run(name: str, corpus: Path | None, exp: Path, *args: str) -> int:
    """``recipes/<name>/run.py --preset test`` in-process; returns the exit code."""
    argv = (["--corpus", str(corpus)] if corpus is not None else []) + ["--exp", str(exp), "--preset", "test", *args]
    return recipe_main(name)(argv)


def check_experiment(exp: Path, test_sets: set[str], hybrid_dirs: list[str] = ("model",)) -> dict:
    """What every recipe's run must leave: models, results for each test set, a report ``asr compare`` agrees with."""
    for model in [exp / "hybrid" / d for d in hybrid_dirs] + [exp / "ctc" / "model"]:
        assert (model / "config.json").is_file() and (model / "model.safetensors").stat().st_size > 1000, model
    results = json.loads((exp / "results.json").read_text())
    assert set(results) == {"hybrid", "ctc-greedy", "ctc-lm"}
    for variant, per_set in results.items():
        assert set(per_set) == test_sets, variant
        for r in per_set.values():
            assert 0.0 <= r["wer"] and r["num_words"] > 0 and r["rtf"] > 0 and r["params"] > 0
            assert r["train_s"] is not None and not r["missing"]
    assert compare_main([str(exp), "--no-plot"]) == 0
    compare = (exp / "compare.md").read_text()
    report = (exp / "report.md").read_text()
    for variant in results:
        assert f"| {variant} |" in compare and f"| {variant} |" in report
    assert (exp / "results.png").stat().st_size > 1000
    return results


def check_rerun_skips_training(name: str, corpus: Path | None, exp: Path) -> None:
    """A second run finds the prepared data and the trained models: nothing is trained again."""
    models = sorted(exp.glob("*/**/model.safetensors"))
    stamps = [p.stat().st_mtime_ns for p in models]
    times = (exp / "train_times.json").read_text()
    assert run(name, corpus, exp) == 0
    assert [p.stat().st_mtime_ns for p in models] == stamps
    assert (exp / "train_times.json").read_text() == times


# --------------------------------------------------------------------------- LibriSpeech


@pytest.fixture(scope="module")
def librispeech(tmp_path_factory) -> Path:
    """``LibriSpeech/{train-clean-5,dev-clean-2,test-clean}/<spk>/<chapter>/*.flac`` + ``*.trans.txt``."""
    root = tmp_path_factory.mktemp("ls") / "LibriSpeech"
    layout = {"train-clean-5": [("19", "198", 0), ("32", "21625", 1), ("87", "121553", 2)],
              "dev-clean-2": [("1272", "128104", 3)], "test-clean": [("1089", "134686", 3)]}
    for split, chapters in layout.items():
        for spk, chapter, voice in chapters:
            d = root / split / spk / chapter
            texts = sentences(6 if split.startswith("train") else 2, seed=int(spk))
            lines = []
            for i, text in enumerate(texts):
                utt = f"{spk}-{chapter}-{i:04d}"
                say(d / f"{utt}.flac", text, VOICES[voice], seed=int(spk) + i, format="FLAC")
                lines.append(f"{utt} {text.upper()}\n")
            (d / f"{spk}-{chapter}.trans.txt").write_text("".join(lines))
    return root.parent


def test_librispeech_recipe_end_to_end(librispeech, tmp_path):
    exp = tmp_path / "exp"
    assert run("librispeech", librispeech, exp) == 0
    results = check_experiment(exp, {"dev-clean-2", "test-clean"})
    lexicon = read_pronunciations(exp / "lang" / "lexicon.txt")  # espeak-ng G2P of the training words
    train_words = {w for u in read_manifest(exp / "data" / "train-clean-5.jsonl") for w in u.text.split()}
    assert set(lexicon.words()) == train_words
    assert all(lexicon.pronounce(w) == g2p([w], "en")[w] for w in train_words)
    arpa = (exp / "lang" / "lm.arpa").read_text()
    assert "\\2-grams:" in arpa and "\\3-grams:" not in arpa  # the test preset's lm_order: 2
    assert results["hybrid"]["test-clean"]["num_utterances"] == 2
    check_rerun_skips_training("librispeech", librispeech, exp)


# --------------------------------------------------------------------------- AN4

AN4_DIC = """ENTER\tEH N T ER
EIGHT\tEY T
FIVE\tF AY V
FOUR\tF AO R
GO\tG OW
NINE\tN AY N
NO\tN OW
ONE\tW AH N
ONE(2)\tHH W AH N
RUBOUT\tR AH B AW T
SEVEN\tS EH V AH N
SIX\tS IH K S
STOP\tS T AA P
THREE\tTH R IY
TWO\tT UW
YES\tY EH S
"""


@pytest.fixture(scope="module")
def an4(tmp_path_factory) -> Path:
    """``an4/etc/an4_{train,test}.{fileids,transcription}``, ``etc/an4.dic``, ``wav/an4*_clstk/<spk>/<id>.sph``."""
    root = tmp_path_factory.mktemp("an4") / "an4"
    speakers = {"train": [("fash", 0), ("mgah", 1), ("mjwl", 2), ("msjr", 3)], "test": [("fcaw", 0), ("mmxg", 1)]}
    (root / "etc").mkdir(parents=True)
    for split, spks in speakers.items():
        part = "an4_clstk" if split == "train" else "an4test_clstk"
        fileids, trans = [], []
        for k, (spk, voice) in enumerate(spks):
            for i, text in enumerate(sentences(10 if split == "train" else 3, seed=100 * k + len(split))):
                utt = f"an{k}{i:02d}-{spk}-b"
                say(root / "wav" / part / spk / f"{utt}.sph", text, VOICES[voice], seed=7 * k + i + len(split),
                    format="NIST", subtype="PCM_16")
                fileids.append(f"{part}/{spk}/{utt}\n")
                trans.append(f"<s> {text.upper()} </s> ({utt})\n")
        (root / "etc" / f"an4_{split}.fileids").write_text("".join(fileids))
        (root / "etc" / f"an4_{split}.transcription").write_text("".join(trans))
    (root / "etc" / "an4.dic").write_text(AN4_DIC)
    return root.parent


def test_an4_recipe_end_to_end(an4, tmp_path):
    exp = tmp_path / "exp"
    assert run("an4", an4, exp) == 0
    assert {u.speaker for u in read_manifest(exp / "data" / "dev.jsonl")} == {"msjr"}
    results = check_experiment(exp, {"test"})
    lexicon = (exp / "lang" / "lexicon.txt").read_text().splitlines()
    assert "one W AH N" in lexicon and "one HH W AH N" in lexicon and "rubout R AH B AW T" in lexicon  # an4.dic
    # the hybrid system learned something from 30 utterances: it gets some test words right
    assert results["hybrid"]["test"]["words"]["hits"] > 0, results["hybrid"]["test"]
    check_rerun_skips_training("an4", an4, exp)


# --------------------------------------------------------------------------- TIMIT

TIMIT_PHONES = {"yes": "y eh s", "no": "n ow", "stop": "s tcl t aa pcl p", "go": "gcl g ow", "enter": "eh n tcl t er",
                "rubout": "r ah bcl b aw tcl t", "one": "w ah n", "two": "tcl t uw", "three": "th r iy",
                "four": "f ao r", "five": "f ay v", "six": "s ih kcl k s", "seven": "s eh v ix n", "eight": "ey tcl t",
                "nine": "n ay n"}


@pytest.fixture(scope="module")
def timit(tmp_path_factory) -> Path:
    """``TIMIT/{TRAIN,TEST}/DR*/<SPK>/<UTT>.{WAV,TXT,PHN,WRD}``: SPHERE audio, 61-phone transcriptions."""
    root = tmp_path_factory.mktemp("timit") / "TIMIT"
    speakers = [("TRAIN", "DR1", "FCJF0", 0, 8), ("TRAIN", "DR1", "MDPK0", 1, 8), ("TRAIN", "DR2", "MARC0", 2, 8),
                ("TEST", "DR1", "FAKS0", 3, 2), ("TEST", "DR1", "MDAB0", 0, 3)]  # dev speaker, core-test speaker
    for k, (part, dr, spk, voice, n) in enumerate(speakers):
        d = root / part / dr / spk
        for i, text in enumerate(sentences(n, seed=50 + k)):
            stem = d / f"SX{10 * k + i}"
            seconds = say(stem.with_suffix(".WAV"), text, VOICES[voice], seed=31 * k + i, format="NIST",
                          subtype="PCM_16")
            phones = ["h#"] + " ".join(TIMIT_PHONES[w] for w in text.split()).split() + ["h#"]
            step = int(seconds * SAMPLE_RATE) // len(phones)
            stem.with_suffix(".PHN").write_text("".join(f"{j * step} {(j + 1) * step} {p}\n" for j, p in enumerate(phones)))
            stem.with_suffix(".WRD").write_text("".join(f"0 {step} {w}\n" for w in text.split()))
            stem.with_suffix(".TXT").write_text(f"0 {int(seconds * SAMPLE_RATE)} {text.capitalize()}.\n")
    return root.parent


def test_timit_recipe_end_to_end_phone_error_rate(timit, tmp_path):
    exp = tmp_path / "exp"
    assert run("timit", timit, exp) == 0
    results = check_experiment(exp, {"dev", "test"})
    refs = read_manifest(exp / "data" / "phones" / "test.jsonl")
    assert refs[0].text.split()[0] == "sil" and "ao" not in refs[0].text  # folded to the 39
    assert results["hybrid"]["test"]["num_words"] == sum(len(u.text.split()) for u in refs)  # scored on phones
    phones39 = set(FOLD_39)
    for variant in ("hybrid", "ctc-greedy"):
        hyp_dir = exp / ("hybrid/hyp" if variant == "hybrid" else "ctc/hyp/ctc-greedy")
        hyps = [h.split() for h in read_text_file(hyp_dir / "test.jsonl")[0].values()]
        assert len(hyps) == len(refs) and all(set(h) <= phones39 for h in hyps), hyps  # outputs are phones of the 39-set
    assert "phone error rate" in (exp / "report.md").read_text()
    check_rerun_skips_training("timit", timit, exp)


# --------------------------------------------------------------------------- Common Voice

CV_WORDS = {"en": WORDS, "es": "sí no uno dos tres cuatro cinco seis siete ocho nueve parar entrar".split()}
CV_HEADER = "client_id\tpath\tsentence_id\tsentence\tsentence_domain\tup_votes\tdown_votes\tage\tgender\taccents\t" \
            "variant\tlocale\tsegment\n"


@pytest.fixture(scope="module")
def commonvoice(tmp_path_factory) -> Path:
    """``cv-corpus-*/<locale>/{train,dev,test}.tsv`` + ``clips/*.mp3`` for en and es."""
    release = tmp_path_factory.mktemp("cv") / "cv-corpus-17.0-2024-03-15"
    for locale, words in CV_WORDS.items():
        d = release / locale
        for split, n in (("train", 12), ("dev", 2), ("test", 3)):
            lines = [CV_HEADER]
            for i, text in enumerate(sentences(n, seed=len(split) + 3 * len(locale), words=words)):
                clip = f"common_voice_{locale}_{split}{i}.mp3"
                voice = f"{'en-us' if locale == 'en' else locale}+{('m1', 'f2', 'm3')[i % 3]}"
                say(d / "clips" / clip, text, voice, seed=i + len(split), format="MP3", subtype="MPEG_LAYER_III")
                lines.append(f"client{split}{i % 3}\t{clip}\tsid\t{text.capitalize()}.\t\t2\t0\t\t\t\t\t{locale}\t\n")
            (d / f"{split}.tsv").write_text("".join(lines))
    return release.parent


def test_commonvoice_recipe_scores_each_locale(commonvoice, tmp_path):
    exp = tmp_path / "exp"
    assert run("commonvoice", commonvoice, exp) == 0
    results = check_experiment(exp, {"en", "es"}, hybrid_dirs=["en/model", "es/model"])
    assert results["hybrid"]["es"]["num_utterances"] == 3 and results["hybrid"]["en"]["num_utterances"] == 3
    assert "nueve" in (exp / "lang" / "es" / "lexicon.txt").read_text()  # per-locale lexicon and LM
    assert "nueve" not in (exp / "lang" / "en" / "lm.arpa").read_text()
    tokens = (exp / "ctc" / "model" / "tokens.txt").read_text().split()  # one CTC model: both locales' letters
    assert {"í", "w", "y"} <= set(tokens) and (exp / "ctc" / "hyp" / "ctc-lm" / "es.jsonl").is_file()
    assert "| hybrid | all |" in (exp / "report.md").read_text()  # pooled over locales
    check_rerun_skips_training("commonvoice", commonvoice, exp)


# --------------------------------------------------------------------------- Kaldi data dirs


@pytest.fixture(scope="module")
def kaldi_data(tmp_path_factory) -> Path:
    """``data/{train,test}/{wav.scp,text,utt2spk}``; the test set is two ``segments`` of one recording."""
    root = tmp_path_factory.mktemp("kaldi")
    train = root / "data" / "train"
    train.mkdir(parents=True)
    scp, text, utt2spk = [], [], []
    for i, line in enumerate(sentences(12, seed=7)):
        spk = f"spk{i % 3}"
        wav = root / "audio" / f"{spk}_u{i}.wav"
        say(wav, line, VOICES[i % 3], seed=i)
        scp.append(f"{spk}_u{i} {wav}\n")
        text.append(f"{spk}_u{i} {line.upper()}\n")
        utt2spk.append(f"{spk}_u{i} {spk}\n")
    for name, lines in (("wav.scp", scp), ("text", text), ("utt2spk", utt2spk)):
        (train / name).write_text("".join(lines))
    test = root / "data" / "test"
    test.mkdir()
    first, second = sentences(2, seed=8)
    a = say(root / "audio" / "rec_a.wav", first, VOICES[3], seed=1)
    b = say(root / "audio" / "rec_b.wav", second, VOICES[3], seed=2)
    both = np.concatenate([sf.read(root / "audio" / "rec_a.wav")[0], sf.read(root / "audio" / "rec_b.wav")[0]])
    sf.write(root / "audio" / "rec.flac", both, SAMPLE_RATE, format="FLAC")
    (test / "wav.scp").write_text(f"rec {root / 'audio' / 'rec.flac'}\n")
    (test / "segments").write_text(f"seg1 rec 0.0 {a:.3f}\nseg2 rec {a:.3f} {a + b:.3f}\n")
    (test / "text").write_text(f"seg1 {first}\nseg2 {second}\n")
    (test / "utt2spk").write_text("seg1 spk9\nseg2 spk9\n")
    return root / "data"


def test_kaldi_recipe_end_to_end_with_segments(kaldi_data, tmp_path):
    exp = tmp_path / "exp"
    assert run("kaldi", kaldi_data, exp) == 0
    results = check_experiment(exp, {"test"})
    assert results["hybrid"]["test"]["num_utterances"] == 2  # both segments of the recording decoded
    assert [u.offset for u in read_manifest(exp / "data" / "test.jsonl")][0] == 0.0
    check_rerun_skips_training("kaldi", kaldi_data, exp)


# --------------------------------------------------------------------------- a corpus holding a subset of its splits


def link(src: Path, dst: Path, names: list[str]) -> Path:
    """``dst/<name>`` -> ``src/<name>``: a subset of a fixture corpus, nothing copied; returns ``dst``."""
    for name in names:
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        (dst / name).symlink_to(src / name, target_is_directory=(src / name).is_dir())
    return dst


def split_warnings(caplog) -> list[str]:
    """The warnings that name the splits a corpus lacks (there must be exactly one per corpus)."""
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "not found; using" in r.getMessage()]


def check_fails(name: str, corpus: Path, capsys, *words: str) -> None:
    """The recipe stops at prepare with one line naming the corpus and what is missing."""
    assert run(name, corpus, corpus.parent / f"exp-{corpus.name}", "--stop-stage", "prepare") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(corpus) in err and all(w in err for w in words), err


def test_select_splits_keeps_present_warns_once_fails_without_train_or_test(caplog):
    got = select_splits("/c", ["train", "dev", "test", "test2"], {"train", "test"}, train=["train"],
                        test=["test", "test2"])
    assert got == ["train", "test"]
    assert split_warnings(caplog) == ["/c: split(s) dev, test2 not found; using train, test"]
    for present, role in (({"dev", "test"}, "training"), ({"train", "dev"}, "test")):
        with pytest.raises(CorpusError, match=f"^/c: no {role} split: .* not found"):
            select_splits("/c", ["train", "dev", "test"], present, train=["train"], test=["test"])
    assert select_splits("/c", ["dev"], {"dev"}, train=["train"], test=["test"]) == ["dev"]  # no role wanted: no check


def test_librispeech_recipe_on_a_subset_of_the_splits(librispeech, tmp_path, caplog, capsys):
    """No dev-clean-2 (the test preset's dev split): the test split validates; no train / test split: an error."""
    corpus = link(librispeech / "LibriSpeech", tmp_path / "ls" / "LibriSpeech", ["train-clean-5", "test-clean"])
    exp = tmp_path / "exp"
    assert run("librispeech", corpus.parent, exp) == 0
    (warning,) = split_warnings(caplog)
    assert str(corpus) in warning and "dev-clean-2 not found" in warning
    assert any("validates on the test split test-clean" in r.getMessage() for r in caplog.records)
    check_experiment(exp, {"test-clean"})
    check_fails("librispeech", link(librispeech / "LibriSpeech", tmp_path / "no-train", ["dev-clean-2", "test-clean"]),
                capsys, "no training split", "train-clean-5")
    check_fails("librispeech", link(librispeech / "LibriSpeech", tmp_path / "no-test", ["train-clean-5"]),
                capsys, "no test split", "dev-clean-2", "test-clean")


def test_an4_without_its_test_split_fails_naming_the_corpus(an4, capsys):
    no_test = link(an4 / "an4", an4.parent / "an4-no-test",
                   ["wav", "etc/an4_train.fileids", "etc/an4_train.transcription", "etc/an4.dic"])
    check_fails("an4", no_test, capsys, "no test split", "test not found")


def test_timit_recipe_without_dev_speakers(timit, tmp_path, caplog, capsys):
    """TEST holds only the core-test speaker: no dev split, the core test validates; TRAIN only: an error."""
    corpus = link(timit / "TIMIT", tmp_path / "TIMIT", ["TRAIN", "TEST/DR1/MDAB0"])
    exp = tmp_path / "exp"
    assert run("timit", corpus, exp) == 0
    (warning,) = split_warnings(caplog)
    assert warning.startswith(f"{corpus}: split(s) dev not found")
    check_experiment(exp, {"test"})
    check_fails("timit", link(timit / "TIMIT", tmp_path / "train-only", ["TRAIN"]), capsys, "no test split")


def test_commonvoice_recipe_with_a_locale_lacking_dev(commonvoice, tmp_path, caplog, capsys):
    """en has no dev.tsv: en validates on its test set; a locale without test.tsv: an error naming it."""
    release = commonvoice / "cv-corpus-17.0-2024-03-15"
    corpus = link(release, tmp_path / "cv" / release.name, ["es", "en/clips", "en/train.tsv", "en/test.tsv"])
    exp = tmp_path / "exp"
    assert run("commonvoice", corpus.parent, exp) == 0
    (warning,) = split_warnings(caplog)
    assert warning.startswith(f"{corpus / 'en'}: split(s) dev not found")
    assert "es" in {u.lang for u in read_manifest(exp / "data" / "dev.jsonl")}  # es's dev still validates the CTC model
    check_experiment(exp, {"en", "es"}, hybrid_dirs=["en/model", "es/model"])
    no_test = link(release, tmp_path / "cv2" / release.name, ["es", "en/clips", "en/train.tsv", "en/dev.tsv"])
    assert run("commonvoice", no_test, tmp_path / "exp2", "--stop-stage", "prepare") == 1
    err = capsys.readouterr().err
    assert f"{no_test / 'en'}: no test split" in err


def test_kaldi_directory_without_a_train_or_test_dir_fails(kaldi_data, tmp_path, capsys):
    check_fails("kaldi", link(kaldi_data, tmp_path / "only-test", ["test"]), capsys, "no training split", "train")
    check_fails("kaldi", link(kaldi_data, tmp_path / "only-train", ["train"]), capsys, "no test split")
