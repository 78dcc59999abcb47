"""The hybrid system end to end on a real (tiny) espeak-ng corpus: train, save, load, decode, align."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from asr.audio import load_audio
from asr.data.manifest import read_manifest
from asr.data.synth import SynthConfig, generate
from asr.decoding.hybrid import HybridRecognizer, phone_references
from asr.decoding.manifest import decode_manifest
from asr.metrics import read_text_file, score
from asr.models.hybrid import load_hybrid
from asr.train.hybrid import HybridConfig, align_manifest_hybrid, train_hybrid

TINY = dict(langs=("en",), hours=0.02, train_speakers=6, dev_speakers=2, test_speakers=2, min_utts_per_split=3)
FAST = HybridConfig(mono_iters=8, max_gauss=200, hidden=96, epochs=6, realign_rounds=1, realign_epochs=2,
                    batch_chunks=16)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("hybrid")
    generate(root / "corpus", SynthConfig(seed=0, **TINY), jobs=2, progress=False)
    lang_dir = root / "corpus" / "en"
    log = train_hybrid(lang_dir / "train.jsonl", lang_dir / "dev.jsonl", lang_dir / "lexicon.txt", root / "model", FAST)
    return root, lang_dir, log


@pytest.mark.slow
def test_train_writes_a_complete_model_directory(trained):
    root, _, log = trained
    model_dir = root / "model"
    for name in ("config.json", "model.safetensors", "topology.json", "phones.txt", "lexicon.txt", "lm.arpa",
                 "phone_lm.arpa", "gmm.safetensors", "train_log.json"):
        assert (model_dir / name).is_file(), name
    assert json.loads((model_dir / "config.json").read_text())["system"] == "hybrid"
    # the classifier learns: cross-entropy falls over training
    losses = [h["loss"] for h in log["classifier_history"]]
    assert losses[-1] < losses[0]
    # the GMM grew its Gaussians, alignment accuracy was measured against espeak's timings
    assert log["num_gauss"] > log["num_pdfs"]
    acc = log["alignment_accuracy_20ms"]["gmm"]
    assert 0.3 < acc["ref_within"] <= 1.0
    assert 0.0 <= log["dev"]["wer"] <= 1.5 and log["dev"]["rtf"] > 0


@pytest.mark.slow
def test_decode_words_with_times_and_phones(trained, tmp_path):
    root, lang_dir, _ = trained
    model = load_hybrid(root / "model")
    # on its own training data the tiny system must be mostly right (speechbrain-style overfit check)
    decode_manifest(HybridRecognizer(model, beam=10.0), lang_dir / "train.jsonl", tmp_path / "train_hyp.jsonl")
    train_wer = score(read_text_file(lang_dir / "train.jsonl")[0], read_text_file(tmp_path / "train_hyp.jsonl")[0])
    assert train_wer.words.rate < 0.5, train_wer
    stats = decode_manifest(HybridRecognizer(model, beam=8.0), lang_dir / "test.jsonl", tmp_path / "hyp.jsonl",
                            with_times=True)
    assert stats.rtf > 0 and stats.audio_seconds > 0 and stats.system == "hybrid" and not stats.skipped
    assert stats.num_utts == len(read_manifest(lang_dir / "test.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "hyp.jsonl").read_text().splitlines()]
    for row in rows:
        ends = [w["end"] for w in row["words"]]
        starts = [w["start"] for w in row["words"]]
        assert all(s < e for s, e in zip(starts, ends)) and ends == sorted(ends)
        assert row["text"] == " ".join(w["word"] for w in row["words"])
    decode_manifest(HybridRecognizer(model, mode="phone"), lang_dir / "test.jsonl", tmp_path / "phones.jsonl")
    refs = phone_references(model, read_manifest(lang_dir / "test.jsonl"))
    per = score(refs, read_text_file(tmp_path / "phones.jsonl")[0]).words.rate
    assert 0.0 <= per < 1.0


@pytest.mark.slow
def test_align_manifest(trained, tmp_path):
    root, lang_dir, _ = trained
    report = align_manifest_hybrid(root / "model", lang_dir / "dev.jsonl", tmp_path / "ali.jsonl")
    assert report["num_utts"] == len(read_manifest(lang_dir / "dev.jsonl")) and not report["skipped"]
    row = json.loads((tmp_path / "ali.jsonl").read_text().splitlines()[0])
    assert row["phones"][0][1] == 0.0 and row["words"]
    assert report["alignment_accuracy_20ms"]["num_ref"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("layers", ["head", "full", "lhuc"])
def test_finetune_adapts_from_the_pretrained_weights(trained, tmp_path, layers):
    from safetensors.torch import load_file

    from asr.train.hybrid import HybridFinetuneConfig, finetune_hybrid

    root, lang_dir, _ = trained
    cfg = HybridFinetuneConfig(epochs=2, realign_rounds=1, realign_epochs=1, layers=layers, batch_chunks=16)
    log = finetune_hybrid(root / "model", lang_dir / "dev.jsonl", lang_dir / "test.jsonl", tmp_path / "ft",
                          cfg=cfg)
    assert log["init_from"] == str(root / "model") and log["train_utts"] == len(read_manifest(lang_dir / "dev.jsonl"))
    assert 0.0 <= log["dev"]["wer"] <= 1.5 and [h["round"] for h in log["classifier_history"]] == [0, 0, 1]
    before, after = load_file(str(root / "model" / "model.safetensors")), load_file(str(tmp_path / "ft" / "model.safetensors"))
    stats = ("running_mean", "running_var", "num_batches_tracked")  # batch-norm statistics follow the new audio
    weights = [k for k in before if k != "log_prior" and not k.endswith(stats)]
    changed = {k for k in weights if not torch.equal(before[k], after[k])}
    if layers == "head":
        assert changed and all(k.split(".")[:-1] == weights[-1].split(".")[:-1] for k in changed)
    elif layers == "lhuc":  # scales folded into the batch norms: their weight and bias only, the same factor
        model = load_hybrid(root / "model").classifier
        norms = {name for name, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm1d)}
        assert changed and {k.rsplit(".", 1)[0] for k in changed} <= norms and set(after) == set(before)
        for name in norms:
            w0, w1 = before[f"{name}.weight"], after[f"{name}.weight"]
            b0, b1 = before[f"{name}.bias"], after[f"{name}.bias"]
            scale = w1 / w0
            assert torch.allclose(b1, b0 * scale, atol=1e-5) and bool(((scale > 0) & (scale < 2)).all())
    else:
        assert len(changed) > 2
    assert not torch.equal(before["log_prior"], after["log_prior"])  # priors of the new audio
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["train"]["init_from"] == str(root / "model")
    assert (tmp_path / "ft" / "gmm.safetensors").is_file()


@pytest.mark.slow
def test_with_vocabulary_swaps_lexicon_and_lm_and_drops_unknown_phones(trained, tmp_path):
    from asr.models.hybrid import with_vocabulary
    from asr.text.lexicon import Lexicon

    root, lang_dir, _ = trained
    lex = Lexicon.from_file(root / "model" / "lexicon.txt")
    lex.add("zzyzx", ["NOT_A_PHONE"])
    lex.to_file(tmp_path / "big.txt")
    lost = with_vocabulary(root / "model", tmp_path / "m", tmp_path / "big.txt", root / "model" / "lm.arpa")
    assert lost == ["zzyzx"]
    model = load_hybrid(tmp_path / "m")
    assert "zzyzx" not in model.lexicon and len(model.lexicon) == len(lex) - 1
    hyp = HybridRecognizer(model).transcribe([load_audio(read_manifest(lang_dir / "test.jsonl")[0].audio)])[0]
    assert all(w in model.lexicon for w in hyp.text.split())


@pytest.mark.slow
def test_speaker_adaptation_runs_every_count_and_method_and_resumes(trained, tmp_path):
    from asr.experiments.speaker_adapt import (SpeakerAdaptConfig, plot_speaker_adaptation, run_speaker_adaptation,
                                               speaker_table)

    root, lang_dir, _ = trained
    # the pool (dev) holds 3 utterances: the last run takes them all
    cfg = SpeakerAdaptConfig(counts=(2, 5), methods={"head": {}, "lhuc": {"lr": 0.05}},
                             finetune={"epochs": 1, "realign_rounds": 0, "batch_chunks": 16})
    out = run_speaker_adaptation(tmp_path / "spk", root / "model", lang_dir / "dev.jsonl", lang_dir / "test.jsonl",
                                 None, None, cfg, speaker="dev voices")
    keys = [(r["utts"], r["method"]) for r in out["runs"]]
    assert keys == [(0, "none"), (2, "head"), (2, "lhuc"), (3, "head"), (3, "lhuc")]
    assert all(0 <= r["wer"] <= 1.5 and r["minutes"] >= 0 for r in out["runs"])  # fractions, as everywhere
    assert set(read_manifest(tmp_path / "spk" / "2utt" / "train.jsonl")) <= set(
        read_manifest(lang_dir / "dev.jsonl"))  # nested subsets
    # a second call reuses every finished run (no model is trained again)
    stamp = (tmp_path / "spk" / "5utt" / "lhuc" / "model" / "model.safetensors").stat().st_mtime_ns
    again = run_speaker_adaptation(tmp_path / "spk", root / "model", lang_dir / "dev.jsonl", lang_dir / "test.jsonl",
                                   None, None, cfg, speaker="dev voices")
    assert again["runs"] == out["runs"]
    assert (tmp_path / "spk" / "5utt" / "lhuc" / "model" / "model.safetensors").stat().st_mtime_ns == stamp
    table = speaker_table({"dev voices": out})
    assert "| dev voices | lhuc |" in table and "3 utts" in table
    base = out["runs"][0]
    assert f"| dev voices | head | {100 * base['wer']:.1f} ({100 * base['cer']:.1f}) |" in table  # in percent
    assert plot_speaker_adaptation({"dev voices": out}, tmp_path / "s.png").stat().st_size > 1000


@pytest.mark.slow
def test_confidence_and_nbest_from_the_search(trained):
    root, lang_dir, _ = trained
    model = load_hybrid(root / "model")
    rec = HybridRecognizer(model, beam=10.0, n_best=5)
    right, wrong = [], []
    for u in read_manifest(lang_dir / "train.jsonl")[:6]:
        wav = load_audio(u.audio)
        hyp = rec.transcribe([wav], with_times=True)[0]
        alts = hyp.alternatives
        assert alts and alts[0][0] == hyp.text  # the n-best's first entry is the 1-best
        assert [s for _, s in alts] == sorted((s for _, s in alts), reverse=True) and len({a for a, _ in alts}) == len(alts)
        assert rec.transcribe([wav])[0].text == hyp.text  # asking for times and n-best changes nothing
        post = rec.posteriors(model.loglikes(wav).numpy())
        assert post.sum(axis=1) == pytest.approx(1.0, abs=1e-3)  # the classifier's softmax, back from the priors
        ref = u.text.lower().split()
        for w in hyp.words:
            conf = torch.tensor(w.score).exp().item()
            assert 0.0 <= conf <= 1.0
            if w.word in ref:
                right.append(conf)
                s, e = int(round(w.start / model.frame_shift)), int(round(w.end / model.frame_shift))
                # a word of other phones forced onto the same frames
                other = next(x for x in model.lexicon.words() if not set(model.lexicon.pronounce(x)) & set(
                    model.lexicon.pronounce(w.word)))
                wrong.append(rec.word_confidence(post, other, s, e))
    assert right and sum(wrong) / len(wrong) < 0.5 * sum(right) / len(right)


@pytest.mark.slow
def test_a_new_hotword_is_pronounced_decoded_and_given_a_confidence(trained):
    root, lang_dir, _ = trained
    model = load_hybrid(root / "model")
    word = "zorblat"
    assert word not in model.lexicon
    rec = HybridRecognizer(model, beam=10.0, hotwords={word: 20.0})
    assert word in rec.lexicon and rec.lexicon.pronunciations(word)  # espeak-ng's pronunciation, added
    u = read_manifest(lang_dir / "train.jsonl")[0]
    hyp = rec.transcribe([load_audio(u.audio)], with_times=True)[0]
    assert word in hyp.text.split(), hyp.text  # boosted far enough to be output
    assert all(0.0 <= torch.tensor(w.score).exp().item() <= 1.0 for w in hyp.words)  # its confidence too
