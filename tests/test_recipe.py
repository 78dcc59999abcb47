"""asr.recipe: the stage runner every recipe shares."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from asr.data.manifest import Utterance, write_manifest
from asr.recipe import need_corpus, not_implemented, run_recipe, write_report
from asr.systems import score_hypotheses


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
            if conf.parent.parent.name == "synth" and cfg.voices:  # the synth recipe's voices block
                from asr.experiments.voices import VoicesConfig

                from_dict(VoicesConfig, cfg.voices, source=str(conf))
        if conf.parent.parent.name == "asterisk":  # its transfer block and its stages' blocks
            cfg.transfer_config()
            for block, cls in (("speaker", module.SpeakerStage), ("voices", module.VoicesStage)):
                if getattr(cfg, block):
                    from_dict(cls, getattr(cfg, block), source=str(conf))


def test_commands_are_recorded_once_each_and_reported(tmp_path, monkeypatch):
    """run_recipe appends its command line to EXP/commands.txt (deduplicated); the report stage of the same
    run already lists it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rec" / "conf").mkdir(parents=True)
    (tmp_path / "rec" / "conf" / "default.yaml").write_text("size: 1\n")
    stages = {"a": lambda cfg, exp, force=False: None,
              "report": lambda cfg, exp, force=False: write_report(exp, "t")}
    conf = tmp_path / "rec" / "conf"
    assert run_recipe(["--exp", "e", "--stop-stage", "a"], None, conf, Cfg, stages) == 0
    assert run_recipe(["--exp", "e", "--stop-stage", "a"], None, conf, Cfg, stages) == 0  # same again: kept once
    assert run_recipe(["--exp", "e", "--stage", "report"], None, conf, Cfg, stages) == 0
    lines = (tmp_path / "e" / "commands.txt").read_text().splitlines()
    assert lines == ["python rec/run.py --exp e --stop-stage a", "python rec/run.py --exp e --stage report"]
    report = (tmp_path / "e" / "report.md").read_text()
    assert "## Commands\n\n```sh\n" + "\n".join(lines) + "\n```" in report
    # argv None: the script and arguments the process was started with (sys.argv)
    script = tmp_path / "rec" / "go.py"
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script), "--exp", "e", "--stage", "a", "--stop-stage", "a"])
    assert run_recipe(None, None, conf, Cfg, stages) == 0
    assert (tmp_path / "e" / "commands.txt").read_text().splitlines()[-1] == \
        "python rec/go.py --exp e --stage a --stop-stage a"
    # a bad config fails before anything runs: nothing recorded
    (tmp_path / "rec" / "conf" / "bad.yaml").write_text("sise: 1\n")
    assert run_recipe(["--exp", "e", "--preset", "bad"], None, conf, Cfg, stages) == 2
    assert len((tmp_path / "e" / "commands.txt").read_text().splitlines()) == 3


def _scored_experiment(exp: Path) -> None:
    """results.json through score_hypotheses, as score_systems writes its entries."""
    exp.mkdir(parents=True)
    refs = {"u1": "one two three", "u2": "four five", "u3": "six"}
    hyps = {"u1": "one too three", "u2": "four five", "u3": ""}
    write_manifest(exp / "test.jsonl", [Utterance(id=i, audio=f"/a/{i}.wav", duration=1.0, text=t, lang="en")
                                        for i, t in refs.items()])
    (exp / "hyp.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in hyps.items()))
    entry = score_hypotheses(exp / "test.jsonl", exp / "hyp.jsonl")
    decoding = {"search": "word", "beam": 13.0, "lm_weight": 1.0, "word_penalty": 0.5, "acoustic_scale": 0.1}
    (exp / "results.json").write_text(json.dumps({"hybrid": {"test": {**entry, "rtf": 0.25, "decoding": decoding}}}))
    (exp / "data").mkdir()
    (exp / "data" / "summary.json").write_text(json.dumps({"test": {"utts": 3, "hours": 0.001, "speakers": 1}}))


def test_report_table_commands_and_environment(tmp_path):
    exp = tmp_path / "exp"
    _scored_experiment(exp)
    (exp / "commands.txt").write_text("python recipes/an4/run.py --exp exp\n")
    text = write_report(exp, "AN4", notes=["a note"], commands=["asr compare exp", "python recipes/an4/run.py --exp exp"])
    assert text == (exp / "report.md").read_text()
    assert "| test | 3 | 0.00 | 1 |" in text  # the corpus table
    # 6 words: 4 hits, 1 sub (two -> too), 1 del (six); sentences u1 and u3 wrong
    assert ("| hybrid | test | beam 13, lmwt 1.0, wp 0.5, acwt 0.1 | 3 | 6 | 66.67 (4) | 16.67 (1) | 16.67 (1) | "
            "0.00 (0) | 33.33 (2) | 66.67 (2) |") in text
    assert "a note" in text and "![WER per test set](results.png)" in text
    assert "## Commands\n\n```sh\npython recipes/an4/run.py --exp exp\nasr compare exp\n```" in text  # deduplicated
    env = text.split("## Environment", 1)[1]
    assert "| python |" in env and "| torch |" in env and "| CPU cores |" in env and "| date |" in env
    assert text.index("## Every system") < text.index("## Commands") < text.index("## Environment")


def test_report_of_old_results_json_and_no_commands(tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    old = {"hybrid": {"test": {"wer": 0.25, "cer": 0.1, "num_utterances": 2,
                               "words": {"hits": 3, "substitutions": 1, "deletions": 0, "insertions": 0}}}}
    (exp / "results.json").write_text(json.dumps(old))
    text = write_report(exp, "old")
    assert "| hybrid | test | - | 2 | 4 | 75.00 (3) | 25.00 (1) | 0.00 (0) | 0.00 (0) | 25.00 (1) | - | 10.00 |" in text
    assert "## Commands" not in text and "## Environment" in text


def test_a_preset_can_start_from_another(tmp_path):
    from asr.config import load_yaml

    (tmp_path / "default.yaml").write_text("lang: en\nhybrid: {epochs: 8, hidden: 64}\ntransfer:\n  minutes: [1, 3]\n")
    (tmp_path / "more.yaml").write_text("base: default.yaml\nhybrid: {epochs: 2}\ntransfer: {minutes: [10]}\n")
    assert load_yaml(tmp_path / "more.yaml") == {"lang": "en", "hybrid": {"epochs": 2, "hidden": 64},
                                                 "transfer": {"minutes": [10]}}
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ValueError, match="cycle"):
        load_yaml(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("base: missing.yaml\n")
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_yaml(tmp_path / "c.yaml")


@dataclass(frozen=True)
class BlockCfg:
    size: int = 1
    engines: tuple[str, ...] = ("espeak",)
    ctc: dict = None


def test_set_overrides_values_and_blocks_of_the_preset(tmp_path, capsys):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "default.yaml").write_text("size: 3\nctc: {preset: tiny, train: {lr: 0.002, epochs: 4}}\n")
    seen = []
    stages = {"a": lambda cfg, exp, force=False: seen.append(cfg)}
    argv = ["--exp", str(tmp_path / "e"), "--set", "engines=[espeak, mbrola]", "--set", "ctc.train.lr=0.001",
            "--set", "size=5"]
    assert run_recipe(argv, None, tmp_path / "conf", BlockCfg, stages) == 0
    assert seen[0] == BlockCfg(size=5, engines=("espeak", "mbrola"), ctc={"preset": "tiny", "train": {"lr": 0.001, "epochs": 4}})
    assert "--set ctc.train.lr=0.001" in (tmp_path / "e" / "commands.txt").read_text()
    for bad, says in ((["--set", "sise=4"], "sise"), (["--set", "size"], "KEY=VALUE"), (["--set", "size=[1"], "size")):
        assert run_recipe(["--exp", str(tmp_path / "e"), *bad], None, tmp_path / "conf", BlockCfg, stages) == 2
        assert says in capsys.readouterr().err
