"""Learning-curve settings: CTC epochs per size and config checks (the whole stage runs in test_recipe_synth)."""

from __future__ import annotations

import pytest

from asr.experiments.learning_curve import CurveConfig, curve_epochs


def test_ctc_epochs_present_the_same_audio_at_every_size_within_bounds():
    cfg = CurveConfig(minutes=(5, 15, 45), ctc_audio_hours=3.0, ctc_min_epochs=4, ctc_max_epochs=30)
    assert curve_epochs(cfg, 0.5) == 6  # 3 h / 0.5 h
    assert curve_epochs(cfg, 0.4) == 8  # rounded up: at least 3 h presented
    assert curve_epochs(cfg, 2.0) == 4  # lower bound
    assert curve_epochs(cfg, 0.01) == 30  # upper bound


@pytest.mark.parametrize("kwargs", [{"minutes": ()}, {"minutes": (5, -1)}, {"ctc_min_epochs": 0},
                                    {"ctc_min_epochs": 10, "ctc_max_epochs": 5}])
def test_bad_curve_config_is_refused(kwargs):
    with pytest.raises(ValueError, match="curve"):
        CurveConfig(**kwargs)


def test_every_synth_preset_curve_block_builds():
    """Typos in a preset's ``curve:`` block fail here, not after its corpus is generated."""
    from pathlib import Path

    from asr.config import from_dict, load_yaml

    confs = sorted((Path(__file__).resolve().parents[1] / "recipes" / "synth" / "conf").glob("*.yaml"))
    blocks = {c.name: load_yaml(c).get("curve") for c in confs}
    assert blocks.get("smoke.yaml") and blocks.get("curve.yaml") and blocks.get("gpu.yaml")
    for name, block in blocks.items():
        if block:
            cfg = from_dict(CurveConfig, block, source=name)
            assert set(cfg.systems) <= {"hybrid", "ctc"}, name
