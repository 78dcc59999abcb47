"""The Asterisk recipe's voices stage: how each source's synthetic speech is made, and its table."""

from __future__ import annotations

import pytest

from asr.experiments.real_speech import TransferConfig
from asr.experiments.real_speech_voices import VOICE_SOURCES, source_config, source_synth, voices_markdown


def test_each_source_sets_engines_and_augmentation_and_keeps_the_rest():
    cfg = TransferConfig(engines=("espeak", "mbrola", "pico"), vtlp_prob=0.5, telephone_prob=0.4, noise_prob=0.3,
                         synth_hours=0.2)
    made = {s: source_config(cfg, s) for s in VOICE_SOURCES}
    assert made["espeak"].engines == made["espeak+aug"].engines == ("espeak",)
    assert made["engines"].engines == made["engines+aug"].engines == ("espeak", "mbrola", "pico")
    for s, c in made.items():
        aug = "+aug" in s
        assert (c.vtlp_prob, c.telephone_prob) == ((0.5, 0.4) if aug else (0.0, 0.0)), s
        assert (c.noise_prob, c.synth_hours, c.seed) == (0.3, 0.2, cfg.seed), s  # same noise, hours, voices' seed
    assert made["engines+aug"] == cfg == made["engines+aug+rooms+babble"]
    assert source_synth("engines+aug+rooms+babble") == {"room_model": "image", "babble_prob": 0.3}
    assert all(not source_synth(s) for s in VOICE_SOURCES[:4])
    with pytest.raises(ValueError, match="not one of"):
        source_config(cfg, "flowers")


def test_table_crosses_engines_with_augmentation():
    def res(wer):
        return {"hybrid": {"real": {"wer": wer, "cer": wer / 2}}}

    made = {"engines": ["espeak", "mbrola"], "train_hours": 0.41}
    table = voices_markdown({"espeak": res(0.9), "engines": {**res(0.6), "source": made}, "engines+aug": res(0.5)})
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| hybrid: synthetic speech from | clean |")
    assert rows[1] == "| espeak-ng alone | 90.0 (45.0) | - |"  # espeak+aug was not run
    assert rows[2] == "| every engine | 60.0 (30.0) | 50.0 (25.0) |"
    assert len(rows) == 3 and "Synthetic training audio: `engines` 0.41 h (espeak, mbrola)." in table
    more = voices_markdown({"engines+aug": res(0.5), "engines+aug+rooms+babble": res(0.4)})
    assert "| every engine, image-method rooms and babble too | - | 40.0 (20.0) |" in more
    assert "espeak-ng alone" not in more  # no row for sources not run
