"""The Asterisk prompts reader, its splits and the recipe, on a fixture in the Debian packages' exact layout.

The fixture's prompts are spoken by espeak-ng and stored as the packages store them
(8 kHz 16-bit wav); its transcript file has the real one's quirks.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.data.corpora import CorpusError
from asr.data.corpora.asterisk import (
    ReadReport,
    contains_text,
    find_lang_dir,
    prompt_text,
    read_asterisk,
    read_split_file,
    read_transcripts,
    split_prompts,
    write_split_file,
)

REPO = Path(__file__).resolve().parents[1]

# key -> what the transcript file says; None: audio without a transcript entry.
PROMPTS = {
    "auth-thankyou": "Thank you.",
    "agent-pass": "Please enter your password followed by the pound key.",
    "agent-user": "Agent login.  Please enter your agent number followed by the pound key.",
    "call-waiting": "Call waiting.",
    "conf-getpin": "Please enter the conference pin number.",
    "conf-full": "That conference is full.",
    "conf-extended": "The conference has been extended.",
    "vm-goodbye": "Goodbye.",
    "vm-options": "Press 1 to record your unavailable message, press 2 to record your busy message.",
    "dictate/forhelp": "press 0 for help",
    "dictate/both_help": "press * to toggle pause, press # to enter a new dictation filename",
    "digits/5": "five",
    "digits/7": "seven",
    "letters/at": "at [@]",
    "if-correct-press": "If this is correct, press \u201cone\u201d\u2026",
    "transfer": "Please hold while I try that extension.",
    "invalid": "I\u2019m sorry, that is not a valid extension.",
    "pls-wait-connect-call": "Please wait while I connect your call.",
    "queue-thankyou": "Thank you for your patience.",
    "privacy-thankyou": "Thank you.  Please hold while I try to connect your call.",
    "beep": "[this is a simple beep tone]",
    "confbridge-join": "<beep ascending>",
    "silence/1": "(1 second of silence)",
}
# The Spanish speaker of the multilingual experiment (es_MX_f_Allison), a few prompts.
PROMPTS_ES = {
    "auth-thankyou": "Gracias.",
    "agent-pass": "Por favor marque su contraseña seguida de la tecla numeral.",
    "conf-getpin": "Por favor introduzca el número de la conferencia.",
    "conf-full": "La conferencia está llena.",
    "vm-goodbye": "Adiós.",
    "transfer": "Por favor espere mientras transfiero su llamada.",
    "pls-wait-connect-call": "Por favor espere mientras conecto su llamada.",
    "queue-thankyou": "Gracias por su paciencia.",
    "invalid": "Lo siento, esa extensión no es válida.",
    "digits/5": "cinco",
    "vm-options": "Marque 1 para grabar su mensaje de no disponible.",
    "beep": "[tono]",
}
NO_AUDIO = "vm-nomore"  # in the transcript, no wav
NO_TEXT = "extra-recording"  # a wav, no transcript entry


def _transcript_lines() -> list[str]:
    lines = ["\ufeff; Core Asterisk Sounds in English", ""]
    lines += [f"{k}: {t}" for k, t in PROMPTS.items()]
    lines += [f"{NO_AUDIO}: There are no more messages.", "conf-full: A second entry for the same key.",
              "this line has no separator"]
    return lines


def _say(text: str, voice: str = "en-us", lang: str = "en") -> np.ndarray:
    """espeak-ng at 8 kHz, int16, as the packages ship the prompts."""
    import torch

    from asr.audio import resample
    from asr.data.engines import SynthItem, get_engine

    syn = get_engine("espeak").synthesize_many([SynthItem(text, voice, lang)])[0]
    wav = resample(torch.from_numpy(syn.samples.astype(np.float64) / 32768.0), syn.sample_rate, 8000).numpy()
    return (np.clip(wav, -1, 1) * 32767).astype(np.int16)


def make_fixture(root: Path) -> Path:
    """``root/asterisk/sounds/en_US_f_Allison/...wav`` and ``root/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz``."""
    sounds = root / "asterisk" / "sounds" / "en_US_f_Allison"
    for key, text in [*PROMPTS.items(), (NO_TEXT, "an extra recording")]:
        path = sounds / f"{key}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        spoken = prompt_text(text, "en") or "mm"
        samples = _say(spoken) if not key.startswith("silence") else np.zeros(8000, np.int16)
        sf.write(str(path), samples, 8000, subtype="PCM_16")
    (root / "asterisk" / "sounds" / "en").symlink_to(sounds)  # the alternatives link
    doc = root / "doc" / "asterisk-core-sounds-en"
    doc.mkdir(parents=True)
    (doc / "core-sounds-en.txt.gz").write_bytes(gzip.compress("\n".join(_transcript_lines()).encode("utf-8")))
    sounds = root / "asterisk" / "sounds" / "es_MX_f_Allison"
    for key, text in PROMPTS_ES.items():
        path = sounds / f"{key}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), _say(prompt_text(text, "es") or "mm", "es", "es"), 8000, subtype="PCM_16")
    doc = root / "doc" / "asterisk-core-sounds-es"
    doc.mkdir(parents=True)
    lines = ["; Core Asterisk Sounds in Spanish", *(f"{k}: {t}" for k, t in PROMPTS_ES.items())]
    (doc / "core-sounds-es.txt.gz").write_bytes(gzip.compress("\n".join(lines).encode("utf-8")))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fixture(tmp_path_factory.mktemp("asterisk"))


def test_prompt_text_normalizes_each_quirk():
    assert prompt_text("Press 1 to record, press 2 to listen.", "en") == "press one to record press two to listen"
    assert prompt_text("press * to toggle pause, press # to enter", "en") == \
        "press star to toggle pause press pound to enter"
    assert prompt_text("at [@]", "en") == "at"
    assert prompt_text("If this is correct, press \u201cone\u201d\u2026", "en") == "if this is correct press one"
    assert prompt_text("I\u2019m sorry.", "en") == "i'm sorry"
    assert prompt_text("Agent login.  Please enter your number.", "en") == "agent login please enter your number"
    for nonspeech in ("[this is a simple beep tone]", "<beep ascending>", "(1 second of silence)", "[ ]"):
        assert prompt_text(nonspeech, "en") is None, nonspeech
    assert prompt_text("appuyez sur * puis sur #", "fr") == "appuyez sur étoile puis sur dièse"


def test_read_transcripts_skips_comments_bom_duplicates_and_malformed(corpus: Path):
    report = ReadReport()
    prompts = read_transcripts(corpus / "doc" / "asterisk-core-sounds-en" / "core-sounds-en.txt.gz", report)
    keys = [p.key for p in prompts]
    assert keys[0] == "auth-thankyou" and len(keys) == len(set(keys)) == len(PROMPTS) + 1
    assert report.duplicates == ["conf-full"]
    assert [p.raw for p in prompts if p.key == "conf-full"] == ["That conference is full."]  # the first one kept
    assert report.malformed == [len(_transcript_lines())]


def test_read_asterisk_reports_what_it_leaves_out(corpus: Path):
    utts, report = read_asterisk(corpus, "en")
    by_key = {u.extra["key"]: u for u in utts}
    assert set(report.nonspeech) == {"beep", "confbridge-join", "silence/1"}
    assert report.missing_audio == [NO_AUDIO] and report.no_transcript == [NO_TEXT]
    assert len(utts) == len(PROMPTS) - 3
    u = by_key["digits/5"]
    assert u.id == "ast-en-digits-5" and u.text == "five" and u.speaker == "en_US_f_Allison"
    assert sf.info(u.audio).samplerate == 8000 and 0.2 < u.duration < 2.0
    assert by_key["dictate/both_help"].text.startswith("press star to toggle pause press pound")
    assert by_key["letters/at"].text == "at"
    assert find_lang_dir(corpus, "en").name == "en_US_f_Allison"


def test_missing_corpus_names_the_packages(tmp_path: Path):
    with pytest.raises(CorpusError, match="apt-get install asterisk-core-sounds-es-wav asterisk-core-sounds-es"):
        read_asterisk(tmp_path, "es")
    (tmp_path / "asterisk" / "sounds" / "es_MX_f_Allison").mkdir(parents=True)
    with pytest.raises(CorpusError, match="core-sounds-es.txt.gz"):
        read_asterisk(tmp_path, "es")


def test_split_keeps_held_out_text_out_of_training_text(corpus: Path):
    utts, _ = read_asterisk(corpus, "en")
    splits = split_prompts(utts, dev_fraction=0.15, test_fraction=0.3, min_words=3)
    assert sorted(u.id for s in splits.values() for u in s) == sorted(u.id for u in utts)
    assert splits["test"] and splits["dev"]
    train_texts = [u.text for u in splits["train"]]
    for held in splits["dev"] + splits["test"]:
        assert len(held.text.split()) >= 3
        assert not any(contains_text(t, held.text) for t in train_texts), held.text
    # "thank you" is inside two other prompts: never held out; nor are the one-word digits
    assert {"auth-thankyou", "digits/5"} <= {u.extra["key"] for u in splits["train"]}
    test_seconds = sum(u.duration for u in splits["test"])
    assert test_seconds >= 0.3 * sum(u.duration for u in utts) - max(u.duration for u in utts)
    again = split_prompts(list(reversed(utts)), dev_fraction=0.15, test_fraction=0.3, min_words=3)
    assert {s: sorted(u.id for u in v) for s, v in again.items()} == {s: sorted(u.id for u in v)
                                                                     for s, v in splits.items()}


def test_published_split_overrides_the_rule(corpus: Path, tmp_path: Path):
    utts, _ = read_asterisk(corpus, "en")
    splits = split_prompts(utts, 0.15, 0.3, 3)
    write_split_file(tmp_path / "en.tsv", splits, header="fixture")
    published = read_split_file(tmp_path / "en.tsv")
    assert (tmp_path / "en.tsv").read_text().startswith("# fixture\n")
    moved = splits["test"][0].extra["key"]
    published[moved] = "train"
    again = split_prompts(utts, 0.15, 0.3, 3, published=published)
    assert moved in {u.extra["key"] for u in again["train"]}
    (tmp_path / "bad.tsv").write_text("digits/5\tvalidation\n")
    with pytest.raises(CorpusError, match="bad.tsv:1"):
        read_split_file(tmp_path / "bad.tsv")


def test_published_english_split_holds_the_rule():
    """The split the recipe ships: held-out texts occur in no training text (checked on its keys' texts when installed)."""
    published = read_split_file(REPO / "recipes" / "asterisk" / "splits" / "en.tsv")
    assert set(published.values()) == {"train", "dev", "test"}
    try:
        utts, _ = read_asterisk("/usr/share", "en")
    except CorpusError:
        pytest.skip("asterisk-core-sounds-en not installed (apt-get install asterisk-core-sounds-en-wav "
                    "asterisk-core-sounds-en)")
    splits = split_prompts(utts, published=published)
    train_texts = [u.text for u in splits["train"]]
    for held in splits["dev"] + splits["test"]:
        assert not any(contains_text(t, held.text) for t in train_texts), held.text


def test_recipe_runs_every_stage_on_the_fixture(corpus: Path, tmp_path: Path):
    sys.path.insert(0, str(REPO / "recipes" / "asterisk"))
    try:
        import run as recipe
    finally:
        sys.path.pop(0)
    exp = tmp_path / "exp"
    assert recipe.main(["--exp", str(exp), "--corpus", str(corpus), "--preset", "test"]) == 0
    data = exp / "data" / "en"
    left = json.loads((data / "report.json").read_text())["left_out"]
    assert left["nonspeech"] == 3 and left["missing_audio"] == 1
    # no held-out prompt text in any synthetic training sentence
    held = [json.loads(line)["text"] for s in ("dev", "test") for line in open(data / f"{s}.jsonl")]
    for cond in ("generic", "prompts"):
        texts = [json.loads(line)["text"] for line in open(exp / "synth" / cond / "train.jsonl")]
        assert texts and not any(contains_text(t, h) for t in texts for h in held)
    prompts_texts = {json.loads(line)["text"] for line in open(exp / "synth" / "prompts" / "train.jsonl")}
    real_train = {json.loads(line)["text"] for line in open(data / "train.jsonl")}
    assert prompts_texts <= real_train  # the in-domain condition says the training prompts only
    for run in ("zeroshot/generic", "zeroshot/prompts", "fewshot/scratch-0.2min", "fewshot/prompts-all"):
        res = json.loads((exp / run / "results.json").read_text())
        assert all("real" in per for per in res.values()), run
    ft = json.loads((exp / "fewshot" / "prompts-0.2min" / "results.json").read_text())
    assert {"hybrid", "ctc-full-greedy", "ctc-full-lm", "ctc-head-greedy"} <= set(ft)
    assert ft["hybrid"]["real"]["init_from"].endswith("zeroshot/prompts/hybrid/model")
    for model in (exp / "fewshot" / "prompts-0.2min" / "ctc-full" / "model", exp / "zeroshot" / "prompts" / "ctc" / "model"):
        assert set(json.loads((model / "decoding.json").read_text())["lms"]) == {"en"}, model  # decodes as measured
    dom = json.loads((exp / "domain" / "0.2min" / "results.json").read_text())
    assert set(dom) == {"hybrid", "hybrid+adabn", "hybrid-dann", "hybrid-dann+adabn"}
    for entry in (per["real"] for per in dom.values()):  # one entry per variant and test set, as asr.compare reads
        assert 0.0 <= entry["wer"] and entry["train_hours"] > 0 and entry["num_words"] > 0
    dann_log = json.loads((exp / "domain" / "adversarial" / "model" / "train_log.json").read_text())
    assert dann_log["unlabeled_utts"] > 0 and "domain_loss" in dann_log["classifier_history"][0]
    opened = json.loads((exp / "openvocab" / "fewshot-prompts-all" / "results.json").read_text())
    assert {"hybrid", "ctc-full-lm"} <= set(opened)
    report = (exp / "report.md").read_text()
    for heading in ("## Corpus", "## No real training audio", "## Few-shot transfer", "## Labeled synthetic",
                    "## Open vocabulary", "## Targets", "## Every run"):
        assert heading in report
    assert (exp / "fewshot.png").stat().st_size > 1000
    # experiment 4: the Spanish speaker from a pooled en+es model, the es-only one and no synthetic speech
    info = json.loads((exp / "multilingual" / "pooled" / "info.json").read_text())
    assert info["langs"] == ["en", "es"] and info["phones"] > max(info["phones_per_lang"].values())
    pooled_langs = {json.loads(line)["lang"] for line in open(exp / "multilingual" / "pooled" / "train.jsonl")}
    assert pooled_langs == {"en", "es"}
    zero = json.loads((exp / "multilingual" / "es" / "0min" / "results.json").read_text())
    assert set(zero) == {"hybrid-mono", "hybrid-pooled"}  # no scratch model without real audio
    few = json.loads((exp / "multilingual" / "es" / "0.2min" / "results.json").read_text())
    assert set(few) == {"hybrid-scratch", "hybrid-mono", "hybrid-pooled"}
    assert few["hybrid-pooled"]["real"]["sources"] == ["en", "es"] and few["hybrid-pooled"]["real"]["train_hours"] > 0
    assert json.loads((exp / "multilingual" / "es" / "0.2min" / "pooled" / "hybrid" / "model" / "config.json"
                       ).read_text())["lang"] == "es"
    times = json.loads((exp / "stage_times.json").read_text())
    assert list(times) == ["prepare", "synth", "lang", "zeroshot", "fewshot", "band", "domain", "openvocab",
                           "multilingual", "speaker", "voices", "report"] and all(t >= 0 for t in times.values())
    assert "## Time per stage" in report and "| multilingual |" in report  # the report's own time comes after it
    assert "## Multilingual" in report and (exp / "multilingual.png").stat().st_size > 1000
    # few-shot speaker adaptation: the real speaker and espeak-ng's held-out test voice, 1 and 2 utterances
    for name in ("real", "espeak"):
        runs = json.loads((exp / "speaker" / name / "results.json").read_text())["runs"]
        assert [(r["utts"], r["method"]) for r in runs] == [(0, "none"), (1, "lhuc"), (2, "lhuc")], name
    voice = {json.loads(line)["speaker"] for line in open(exp / "speaker" / "espeak" / "audio" / "pool.jsonl")}
    assert voice == {"en-heldout-espeak"}
    assert "## Few-shot speaker adaptation" in report and (exp / "speaker.png").stat().st_size > 1000
    # which synthetic voices carry over: espeak-ng without augmentation in a corpus of its own; every engine
    # with it is the zero-shot corpus itself
    for source in ("espeak", "engines+aug"):
        assert "real" in json.loads((exp / "voices" / source / "results.json").read_text())["hybrid"], source
        assert json.loads((exp / "voices" / source / "source.json").read_text())["train_hours"] > 0
    made = {c: json.loads((exp / "synth" / c / "corpus.json").read_text())["config"] for c in ("prompts-espeak", "prompts")}
    assert made["prompts-espeak"]["vtlp_prob"] == made["prompts-espeak"]["telephone_prob"] == 0
    assert made["prompts"]["vtlp_prob"] > 0 and made["prompts"]["hours"] == made["prompts-espeak"]["hours"]
    assert not (exp / "synth" / "prompts-engines+aug").exists()
    assert "## Which synthetic voices carry over" in report and (exp / "voices.png").stat().st_size > 1000
