"""Every real-corpus recipe's prepare stage on a tiny fixture written in the corpus's
own on-disk layout (real flac / mp3 / NIST SPHERE audio), run in-process."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import soundfile as sf

from asr.data.corpora.timit import FOLD_61_TO_39, PHONES_39, fold_phones
from asr.data.manifest import read_manifest
from conftest import make_tone

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def recipe_main(name: str):
    """``recipes/<name>/run.py``'s ``main``, imported under a unique module name."""
    mod_name = f"recipe_{name}_run"
    if mod_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(mod_name, RECIPES / name / "run.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    return sys.modules[mod_name].main


def tone(path: Path, seconds: float, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, make_tone(seconds, seed=int(seconds * 10)), 16000, **kw)


def rows(exp: Path, split: str) -> dict[str, dict]:
    return {u.id: u for u in read_manifest(exp / "data" / f"{split}.jsonl")}


# --------------------------------------------------------------------------- LibriSpeech


@pytest.fixture
def librispeech(tmp_path) -> Path:
    root = tmp_path / "corpus" / "LibriSpeech"
    texts = {"dev-clean-2": {("1272", "128104"): ["MISTER QUILTER IS THE APOSTLE", "HE'S GOING, TOO"]},
             "train-clean-5": {("19", "198"): ["NORTHANGER ABBEY"], ("32", "21625"): ["CHAPTER ONE"]}}
    for split, chapters in texts.items():
        for (spk, ch), lines in chapters.items():
            d = root / split / spk / ch
            trans = []
            for i, line in enumerate(lines):
                utt = f"{spk}-{ch}-{i:04d}"
                tone(d / f"{utt}.flac", 0.5 + 0.25 * i, format="FLAC")
                trans.append(f"{utt} {line}")
            (d / f"{spk}-{ch}.trans.txt").write_text("\n".join(trans) + "\n")
    return tmp_path / "corpus"


def test_librispeech_prepare_any_subset(librispeech, tmp_path):
    conf = tmp_path / "mini.yaml"
    conf.write_text("splits: [dev-clean-2, train-clean-5]\n")
    exp = tmp_path / "exp"
    assert recipe_main("librispeech")(["--corpus", str(librispeech), "--exp", str(exp), "--config", str(conf),
                                       "--stop-stage", "prepare"]) == 0
    dev = rows(exp, "dev-clean-2")
    assert list(dev) == ["1272-128104-0000", "1272-128104-0001"]
    assert dev["1272-128104-0001"].text == "he's going too"
    assert dev["1272-128104-0000"].text == "mister quilter is the apostle"
    assert dev["1272-128104-0001"].duration == pytest.approx(0.75)
    assert {u.speaker for u in dev.values()} == {"1272"} and {u.lang for u in dev.values()} == {"en"}
    train = rows(exp, "train-clean-5")
    assert sorted(u.speaker for u in train.values()) == ["19", "32"]
    assert json.loads((exp / "data" / "summary.json").read_text())["train-clean-5"]["speakers"] == 2

    conf.write_text("splits: [dev-clean-2]\n")  # one subset only
    exp2 = tmp_path / "exp2"
    assert recipe_main("librispeech")(["--corpus", str(librispeech / "LibriSpeech"), "--exp", str(exp2),
                                       "--config", str(conf), "--stop-stage", "prepare"]) == 0
    assert sorted(p.name for p in (exp2 / "data").glob("*.jsonl")) == ["dev-clean-2.jsonl"]


def test_librispeech_missing_split_and_no_training_split_fail_clearly(librispeech, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert recipe_main("librispeech")(["--corpus", str(librispeech), "--exp", str(exp), "--stop-stage",
                                       "prepare"]) == 1  # default preset wants train-clean-100: a failed input
    assert "train-clean-100" in capsys.readouterr().err
    conf = tmp_path / "c.yaml"
    conf.write_text("splits: [dev-clean-2]\n")
    assert recipe_main("librispeech")(["--corpus", str(librispeech), "--exp", str(exp), "--config", str(conf),
                                       "--stop-stage", "train"]) == 1
    err = capsys.readouterr().err  # nothing to train on
    assert "no training split among splits ['dev-clean-2']" in err and (exp / "data" / "dev-clean-2.jsonl").is_file()


# --------------------------------------------------------------------------- Common Voice


@pytest.fixture
def commonvoice(tmp_path) -> Path:
    release = tmp_path / "cv" / "cv-corpus-17.0-2024-03-15"
    header = "client_id\tpath\tsentence_id\tsentence\tsentence_domain\tup_votes\tdown_votes\tage\tgender\t" \
             "accents\tvariant\tlocale\tsegment\n"
    sentences = {"en": ["Hello, World!", "It's 5 o'clock."], "fr": ["L’eau est « froide ».", "Bonjour."]}
    for locale, sents in sentences.items():
        d = release / locale
        for split, k in (("train", 0), ("dev", 1), ("test", 1)):
            lines = [header]
            clip = f"common_voice_{locale}_{100 + k}{split}.mp3"
            tone(d / "clips" / clip, 1.0 + 0.5 * k, format="MP3", subtype="MPEG_LAYER_III")
            lines.append(f"spk{locale}{k}\t{clip}\tsid\t{sents[k]}\t\t2\t0\t\t\t\t\t{locale}\t\n")
            (d / f"{split}.tsv").write_text("".join(lines))
        (d / "validated.tsv").write_text(header)
    return tmp_path / "cv"


def test_commonvoice_prepare_several_locales(commonvoice, tmp_path):
    conf = tmp_path / "cv.yaml"
    conf.write_text("locales: [en, fr]\n")
    exp = tmp_path / "exp"
    assert recipe_main("commonvoice")(["--corpus", str(commonvoice), "--exp", str(exp), "--config", str(conf),
                                       "--stop-stage", "prepare"]) == 0
    train = rows(exp, "train")  # pooled over locales
    assert list(train) == ["common_voice_en_100train", "common_voice_fr_100train"]
    en, fr = train.values()
    assert en.text == "hello world" and en.lang == "en"
    assert en.speaker == "spken0" and fr.speaker == "spkfr0"
    assert fr.text == "l'eau est froide" and fr.lang == "fr"
    assert en.duration == pytest.approx(1.0, abs=0.1)
    test_en = read_manifest(exp / "data" / "en" / "test.jsonl")
    assert [u.text for u in test_en] == ["it's five o'clock"] and test_en[0].duration == pytest.approx(1.5, abs=0.1)
    assert len(read_manifest(exp / "data" / "dev.jsonl")) == 2
    assert recipe_main("commonvoice")(["--corpus", str(commonvoice / "cv-corpus-17.0-2024-03-15"), "--exp",
                                       str(tmp_path / "e2"), "--stop-stage", "prepare"]) == 1  # es... not there


# --------------------------------------------------------------------------- TIMIT


def write_timit(root: Path, upper: bool) -> None:
    case = str.upper if upper else str.lower
    utts = [("TRAIN", "DR1", "FCJF0", "SI1027"), ("TRAIN", "DR1", "FCJF0", "SA1"), ("TRAIN", "DR2", "MARC0", "SX18"),
            ("TEST", "DR1", "FAKS0", "SI943"), ("TEST", "DR1", "MDAB0", "SX139"), ("TEST", "DR1", "MREB0", "SA2"),
            ("TEST", "DR3", "MKCH0", "SX28")]  # MKCH0: in neither dev nor core test
    for part, dr, spk, utt in utts:
        d = root / case("TIMIT") / case(part) / case(dr) / case(spk)
        tone(d / (case(utt) + case(".wav")), 1.0, format="NIST", subtype="PCM_16")
        (d / (case(utt) + case(".txt"))).write_text("0 16000 She had your dark suit, in greasy wash-water.\n")
        (d / (case(utt) + case(".phn"))).write_text("0 2000 h#\n2000 4000 sh\n4000 6000 ix\n6000 7000 q\n"
                                                    "7000 8000 hv\n8000 9000 dcl\n9000 16000 h#\n")
        (d / (case(utt) + case(".wrd"))).write_text("2000 6000 she\n")


@pytest.mark.parametrize("upper", [True, False])
def test_timit_prepare_both_cases(tmp_path, upper):
    write_timit(tmp_path / "ldc", upper)
    exp = tmp_path / "exp"
    assert recipe_main("timit")(["--corpus", str(tmp_path / "ldc"), "--exp", str(exp), "--stop-stage", "prepare"]) == 0
    train, dev, test = rows(exp, "train"), rows(exp, "dev"), rows(exp, "test")
    assert list(train) == ["FCJF0_SI1027", "MARC0_SX18"]  # SA excluded
    assert list(dev) == ["FAKS0_SI943"] and list(test) == ["MDAB0_SX139"]
    u = train["FCJF0_SI1027"]
    assert u.text == "she had your dark suit in greasy wash water" and u.speaker == "FCJF0"
    assert u.duration == pytest.approx(1.0) and u.lang == "en"
    assert u.extra["phones61"] == "h# sh ix q hv dcl h#"
    assert u.extra["phones"] == "sil sh ih hh sil sil"
    table = dict(line.split(" ", 1) if " " in line else (line, None)
                 for line in (exp / "data" / "phones.61-39.map").read_text().splitlines())
    assert len(table) == 61 and table["q"] is None and table["ao"] == "aa"

    conf = tmp_path / "sa.yaml"
    conf.write_text("include_sa: true\n")
    assert recipe_main("timit")(["--corpus", str(tmp_path / "ldc"), "--exp", str(tmp_path / "e2"), "--config",
                                 str(conf), "--stop-stage", "prepare"]) == 0
    assert "FCJF0_SA1" in rows(tmp_path / "e2", "train") and "MREB0_SA2" in rows(tmp_path / "e2", "dev")


def test_timit_folding_table():
    assert len(FOLD_61_TO_39) == 61 and len(PHONES_39) == 39
    assert fold_phones(["ao", "ax-h", "q", "zh", "ux", "pau", "EL"]) == ["aa", "ah", "sh", "uw", "sil", "l"]


# --------------------------------------------------------------------------- AN4


@pytest.fixture
def an4(tmp_path) -> Path:
    root = tmp_path / "data" / "an4"
    lists = {"train": [("an4_clstk", "fash", "an251-fash-b", "<s> RUBOUT G M E F THREE NINE </s>"),
                       ("an4_clstk", "fash", "an253-fash-b", "<s> YES </s>"),
                       ("an4_clstk", "mgah", "cen1-mgah-b", "<s> ENTER FIVE </s>")],
             "test": [("an4test_clstk", "fcaw", "an406-fcaw-b", "<s> RUBOUT N Z P </s>")]}
    (root / "etc").mkdir(parents=True)
    for split, items in lists.items():
        fileids, trans = [], []
        for k, (part, spk, utt, text) in enumerate(items):
            tone(root / "wav" / part / spk / f"{utt}.sph", 0.6 + 0.2 * k, format="NIST", subtype="PCM_16")
            fileids.append(f"{part}/{spk}/{utt}\n")
            trans.append(f"{text} ({utt})\n")
        (root / "etc" / f"an4_{split}.fileids").write_text("".join(fileids))
        (root / "etc" / f"an4_{split}.transcription").write_text("".join(trans))
    return tmp_path / "data"


def test_an4_prepare(an4, tmp_path):
    exp = tmp_path / "exp"
    assert recipe_main("an4")(["--corpus", str(an4), "--exp", str(exp), "--stop-stage", "prepare"]) == 0
    train, dev, test = rows(exp, "train"), rows(exp, "dev"), rows(exp, "test")
    assert list(train) == ["an251-fash-b", "an253-fash-b"] and list(dev) == ["cen1-mgah-b"]  # at most half the speakers
    assert train["an251-fash-b"].text == "rubout g m e f three nine"
    assert train["an253-fash-b"].speaker == "fash" and train["an253-fash-b"].duration == pytest.approx(0.8)
    assert test["an406-fcaw-b"].text == "rubout n z p" and test["an406-fcaw-b"].speaker == "fcaw"


# --------------------------------------------------------------------------- Kaldi


def test_kaldi_prepare_directory_of_data_dirs(tmp_path):
    tone(tmp_path / "audio" / "a.wav", 1.0)
    tone(tmp_path / "audio" / "long.flac", 3.0, format="FLAC")
    train = tmp_path / "data" / "train"
    train.mkdir(parents=True)
    (train / "wav.scp").write_text(f"utt1 {tmp_path / 'audio' / 'a.wav'}\n")
    (train / "text").write_text("utt1 Hello, THERE!\n")
    (train / "utt2spk").write_text("utt1 spkA\n")
    test = tmp_path / "data" / "test"
    test.mkdir()
    (test / "wav.scp").write_text("rec1 audio/long.flac\n")  # relative: resolved against audio_root
    (test / "segments").write_text("seg1 rec1 0.0 1.5\nseg2 rec1 1.5 3.0\n")
    (test / "text").write_text("seg1 one\nseg2 Two.\n")
    conf = tmp_path / "k.yaml"
    conf.write_text(f"lang: en\naudio_root: {tmp_path}\n")
    exp = tmp_path / "exp"
    assert recipe_main("kaldi")(["--corpus", str(tmp_path / "data"), "--exp", str(exp), "--config", str(conf),
                                 "--stop-stage", "prepare"]) == 0
    tr, te = rows(exp, "train"), rows(exp, "test")
    assert tr["utt1"].text == "hello there" and tr["utt1"].speaker == "spkA" and tr["utt1"].duration == 1.0
    assert [(u.id, u.text, u.offset, u.duration) for u in te.values()] == [("seg1", "one", 0.0, 1.5),
                                                                          ("seg2", "two", 1.5, 1.5)]
    exp2 = tmp_path / "exp2"  # one data dir: its name is the split
    assert recipe_main("kaldi")(["--corpus", str(train), "--exp", str(exp2), "--stop-stage", "prepare"]) == 0
    assert list(rows(exp2, "train")) == ["utt1"]
