"""asr.recipe: the stage runner every recipe shares."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from asr.recipe import need_corpus, not_implemented, run_recipe


@dataclass(frozen=True)
class Cfg:
    size: int = 1


def make_stages(calls: list):
    def stage(name):
        def run(cfg, exp, *corpus, force=False):
            calls.append((name, cfg.size, corpus, force))
        return run
    return {"a": stage("a"), "b": stage("b"), "c": stage("c")}


def test_stage_range_preset_and_force(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "default.yaml").write_text("size: 3\n")
    calls: list = []
    assert run_recipe(["--exp", str(tmp_path / "e"), "--stage", "b", "--force"], None, tmp_path / "conf", Cfg,
                      make_stages(calls)) == 0
    assert calls == [("b", 3, (), True), ("c", 3, (), True)]
    calls.clear()
    assert run_recipe(["--exp", str(tmp_path / "e"), "--stop-stage", "a", "--corpus", "/x"], None,
                      tmp_path / "conf", Cfg, make_stages(calls), corpus_help="where") == 0
    assert calls == [("a", 3, (Path("/x"),), False)]


def test_errors_are_one_line_with_exit_2(tmp_path, capsys):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "default.yaml").write_text("sise: 3\n")
    assert run_recipe(["--exp", str(tmp_path / "e")], None, tmp_path / "conf", Cfg, make_stages([])) == 2
    err = capsys.readouterr().err
    assert "default.yaml" in err and "sise" in err
    (tmp_path / "conf" / "default.yaml").write_text("size: 2\n")
    stages = {"prepare": lambda cfg, exp, corpus, force=False: need_corpus(corpus, "the corpus root"),
              "train": not_implemented("train")}
    assert run_recipe(["--exp", str(tmp_path / "e")], None, tmp_path / "conf", Cfg, stages, corpus_help="x") == 2
    assert "needs --corpus PATH (the corpus root)" in capsys.readouterr().err
    assert run_recipe(["--exp", str(tmp_path / "e"), "--corpus", "c", "--stage", "train"], None, tmp_path / "conf",
                      Cfg, stages, corpus_help="x") == 2
    assert "'train' is not implemented" in capsys.readouterr().err


def test_every_shipped_recipe_config_builds(monkeypatch):
    """wenet's habit: each conf/*.yaml of every recipe loads into its typed configs (typos fail here)."""
    import importlib.util

    from asr.config import from_dict, load_config

    root = Path(__file__).resolve().parents[1] / "recipes"
    confs = sorted(root.glob("*/conf/*.yaml"))
    assert len(confs) >= 7
    for conf in confs:
        spec = importlib.util.spec_from_file_location(f"recipe_{conf.parent.parent.name}", conf.parent.parent / "run.py")
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
        spec.loader.exec_module(module)
        cfg = load_config(module.RecipeConfig, conf)
        if hasattr(cfg, "ctc_settings"):  # the synth recipe: its system blocks too
            from asr.models.ctc import ModelConfig
            from asr.train.hybrid import HybridConfig
            from asr.train.config import TrainConfig

            s = cfg.ctc_settings()
            ModelConfig.from_dict({**ModelConfig.preset(s.preset).to_dict(), **s.model})
            from_dict(TrainConfig, s.train, source=str(conf))
            from_dict(HybridConfig, cfg.hybrid, source=str(conf))
            if getattr(cfg, "voices", None):  # the synth recipe's voices block
                from asr.experiments.voices import VoicesConfig

                from_dict(VoicesConfig, cfg.voices, source=str(conf))
