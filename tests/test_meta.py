"""Meta-learning (Reptile, first-order MAML): worked examples of one update, and a resumable run on real speech."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from asr.train.meta import MetaConfig, Task, TaskSampler, meta_update


def _mse(module: nn.Module, batch: dict) -> torch.Tensor:
    return ((module(batch["x"]) - batch["y"]) ** 2).mean()


def _batch(seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"x": torch.randn(5, 3, generator=g), "y": torch.randn(5, 2, generator=g)}


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_reptile_one_task_one_step_is_a_plain_sgd_step():
    model = _model()
    expected = copy.deepcopy(model)
    batch = _batch(1)
    _mse(expected, batch).backward()
    with torch.no_grad():
        for p in expected.parameters():
            p -= 0.1 * p.grad  # theta - alpha * grad L(theta)
    cfg = MetaConfig(method="reptile", inner_steps=1, tasks_per_step=1, inner_lr=0.1, inner_optimizer="sgd",
                     outer_optimizer="sgd")
    outer = torch.optim.SGD(model.parameters(), lr=1.0)  # eps = 1: theta <- theta_task
    stats = meta_update(model, copy.deepcopy(model), [Task("a", [batch])], _mse, cfg, outer)
    for p, q in zip(model.parameters(), expected.parameters()):
        torch.testing.assert_close(p, q)
    assert stats["support_loss"] > 0 and stats["grad_norm"] > 0


def test_reptile_moves_toward_the_mean_of_the_adapted_weights():
    model = _model()
    cfg = MetaConfig(method="reptile", inner_steps=2, tasks_per_step=2, inner_lr=0.05, inner_optimizer="sgd",
                     outer_optimizer="sgd")
    tasks = [Task("a", [_batch(1), _batch(2)]), Task("b", [_batch(3), _batch(4)])]
    adapted = []
    for t in tasks:  # each task's inner loop by hand, from the same start
        m = copy.deepcopy(model)
        opt = torch.optim.SGD(m.parameters(), lr=0.05)
        for b in t.support:
            opt.zero_grad()
            _mse(m, b).backward()
            opt.step()
        adapted.append([p.detach().clone() for p in m.parameters()])
    start = [p.detach().clone() for p in model.parameters()]
    meta_update(model, copy.deepcopy(model), tasks, _mse, cfg, torch.optim.SGD(model.parameters(), lr=0.5))
    for p, p0, a, b in zip(model.parameters(), start, *adapted):
        torch.testing.assert_close(p, p0 + 0.5 * ((a + b) / 2 - p0))


def test_fomaml_update_is_the_query_gradient_at_the_adapted_weights():
    model = _model()
    support, query = _batch(1), _batch(2)
    adapted = copy.deepcopy(model)
    opt = torch.optim.SGD(adapted.parameters(), lr=0.1)
    _mse(adapted, support).backward()
    opt.step()
    opt.zero_grad()
    _mse(adapted, query).backward()
    query_grads = [p.grad.clone() for p in adapted.parameters()]
    start = [p.detach().clone() for p in model.parameters()]
    cfg = MetaConfig(method="fomaml", inner_steps=1, tasks_per_step=1, inner_lr=0.1, inner_optimizer="sgd",
                     outer_optimizer="sgd")
    stats = meta_update(model, copy.deepcopy(model), [Task("a", [support], query)], _mse, cfg,
                        torch.optim.SGD(model.parameters(), lr=0.3))
    for p, p0, g in zip(model.parameters(), start, query_grads):
        torch.testing.assert_close(p, p0 - 0.3 * g)
    assert stats["query_loss"] > 0


class _Spy(torch.optim.SGD):
    """Checks at step() time that the meta-parameters still hold their values from before the update."""

    def __init__(self, params, before):
        super().__init__(params, lr=0.1)
        self.before, self.checked = before, False

    def step(self, closure=None):
        for group in self.param_groups:
            for p, b in zip(group["params"], self.before):
                assert torch.equal(p.detach(), b), "an inner step changed a meta-parameter"
        self.checked = True
        return super().step(closure)


@pytest.mark.parametrize("method", ["reptile", "fomaml"])
def test_inner_steps_never_touch_the_meta_parameters(method):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    before = [p.detach().clone() for p in model.parameters()]
    spy = _Spy(model.parameters(), before)
    cfg = MetaConfig(method=method, inner_steps=3, tasks_per_step=2, inner_lr=0.5)
    tasks = [Task(n, [_batch(i), _batch(i + 1), _batch(i + 2)], _batch(i + 3)) for n, i in (("a", 0), ("b", 10))]
    running = model[1].running_mean.clone()
    meta_update(model, copy.deepcopy(model), tasks, _mse, cfg, spy)
    assert spy.checked
    assert not all(torch.equal(p, b) for p, b in zip(model.parameters(), before))  # the outer step did move them
    assert not torch.equal(model[1].running_mean, running)  # batch-norm statistics: the tasks' mean


def test_task_sampler_is_a_function_of_seed_and_step(tmp_path):
    from asr.data.manifest import Utterance

    utts = [Utterance(f"{lang}{i}", "x.wav", 1.0 + i % 3, "a", lang=lang) for lang in ("en", "de", "fr")
            for i in range(6)]

    class _Items:
        def __getitem__(self, i):
            u = utts[i]
            return {"id": u.id, "wav": torch.zeros(int(16000 * u.duration)), "text": u.text, "lang": u.lang,
                    "speaker": "s", "duration": u.duration, "tokens": [1], "phones": None}

    a, b = (TaskSampler(utts, _Items(), 6.0, temperature=2.0, seed=3) for _ in range(2))
    cfg = MetaConfig(method="fomaml", tasks_per_step=3, inner_steps=2)
    ta, tb = a.tasks(5, cfg), b.tasks(5, cfg)
    assert sorted(t.name for t in ta) == ["de", "en", "fr"]  # three tasks, three languages: each once
    assert [[x["ids"] for x in t.support] for t in ta] == [[x["ids"] for x in t.support] for t in tb]
    for t in ta:
        for x in (*t.support, t.query):
            assert set(x["langs"]) == {t.name} and len(x["ids"]) * max(x["durations"]) <= 6.0
    # ranks split the same step's tasks between them
    split = [t.name for r in range(2) for t in a.tasks(5, cfg, rank=r, world_size=2)]
    assert sorted(split) == sorted(t.name for t in ta)
    with pytest.raises(ValueError, match="method"):
        MetaConfig(method="maml2")


# -- a real run: tiny Conformer, espeak-ng speech of two languages -----------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from asr.data.manifest import read_manifest
    from asr.data.synth import SynthConfig, generate
    from asr.text.normalize import normalize
    from asr.text.tokenizer import CharTokenizer

    root = tmp_path_factory.mktemp("metasynth")
    generate(root, SynthConfig(langs=("en", "sw"), hours=0.006, train_speakers=2, dev_speakers=1, test_speakers=1,
                               min_utts_per_split=3), jobs=1, progress=False)
    toks = {lang: CharTokenizer.build([normalize(u.text, lang) for u in read_manifest(root / lang / "train.jsonl")])
            for lang in ("en", "sw")}
    return root, toks


def _run(corpus, out, method="fomaml", outer_steps=4):
    from asr.models.ctc import ModelConfig
    from asr.models.multilingual import MultilingualConfig
    from asr.train.config import TrainConfig
    from asr.train.meta import meta_train

    root, toks = corpus
    train = {lang: root / lang / "train.jsonl" for lang in toks}
    cfg = TrainConfig(max_batch_seconds=8.0, lr=2e-3, warmup_steps=1, device="cpu", progress=False, log_every=1,
                      checkpoint_every=2, keep_checkpoints=1, seed=0)
    meta = MetaConfig(method=method, outer_steps=outer_steps, tasks_per_step=2, inner_steps=2, inner_lr=2e-3)
    return meta_train(train, {"en": root / "en" / "dev.jsonl"}, out, MultilingualConfig(base=ModelConfig.preset("tiny")),
                      cfg, meta, toks)


def test_meta_training_resumes_after_a_kill_exactly(corpus, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    import asr.train.meta as meta_mod
    from asr.models.multilingual import load_multilingual_dir
    from asr.train.metrics_log import read_metrics

    whole = _run(corpus, tmp_path / "whole")
    assert whole["outer_steps"] == 4 and whole["batches"] == 4 * 2 * 3 and set(whole["languages"]) == {"en", "sw"}
    real_update, calls = meta_mod.meta_update, []

    def dies_at_step_four(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # killed after the checkpoint at step 2 and the update of step 3
            raise KeyboardInterrupt
        return real_update(*args, **kwargs)

    monkeypatch.setattr(meta_mod, "meta_update", dies_at_step_four)
    with pytest.raises(KeyboardInterrupt):
        _run(corpus, tmp_path / "killed")
    monkeypatch.setattr(meta_mod, "meta_update", real_update)
    again = _run(corpus, tmp_path / "killed")  # resumes from ckpt-00000002
    a = load_file(str(tmp_path / "whole" / "checkpoints" / "ckpt-00000004" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "checkpoints" / "ckpt-00000004" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = [r for r in read_metrics(tmp_path / "killed" / "metrics.csv") if r["split"] == "train"]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]  # the rows past the checkpoint were cut, then rewritten
    assert again["dev_wer"] == whole["dev_wer"]
    model, toks, cfg = load_multilingual_dir(tmp_path / "whole" / "model")  # what asr finetune starts from
    assert cfg.languages == ("en", "sw") and set(toks) >= {"en", "sw"}


def test_meta_train_cli_writes_a_model_that_finetune_starts_from(corpus, tmp_path, capsys):
    from asr.cli import main

    root, _ = corpus
    out = tmp_path / "cli"
    args = ["meta-train", "--train", f"en={root / 'en' / 'train.jsonl'}", "--train", f"sw={root / 'sw' / 'train.jsonl'}",
            "--dev", f"sw={root / 'sw' / 'dev.jsonl'}", "--out", str(out), "--method", "reptile", "--outer-steps", "2",
            "--tasks-per-step", "2", "--inner-steps", "1", "--outer-optimizer", "sgd", "--lr", "1.0",
            "--batch-seconds", "8", "--device", "cpu", "--no-progress"]
    assert main(args) == 0
    assert (out / "tokenizers" / "sw" / "tokenizer" / "tokenizer.json").is_file()
    ft = tmp_path / "ft"
    assert main(["finetune", "--from", str(out / "model"), "--lang", "sw", "--train", str(root / "sw" / "train.jsonl"),
                 "--dev", str(root / "sw" / "dev.jsonl"), "--out", str(ft), "--max-steps", "1", "--device", "cpu",
                 "--batch-seconds", "8", "--no-progress"]) == 0
    assert (ft / "model" / "config.json").is_file()
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["meta-train", "--train", "en", "--out", str(tmp_path / "x")])
    assert e.value.code == 2 and "LANG=MANIFEST" in capsys.readouterr().err


DDP_SCRIPT = """
import sys, torch
torch.set_num_threads(1)
sys.path.insert(0, sys.argv[2])
from test_meta import _ddp_tasks, _model, _mse
from asr.train.distributed import setup, teardown
from asr.train.meta import MetaConfig, meta_update
import copy
ctx = setup("cpu")
model = _model()
cfg = MetaConfig(method=sys.argv[3], inner_steps=2, tasks_per_step=4, inner_lr=0.05, outer_optimizer="sgd")
tasks = _ddp_tasks()[ctx.rank::ctx.world_size]
meta_update(model, copy.deepcopy(model), tasks, _mse, cfg, torch.optim.SGD(model.parameters(), lr=0.5), ctx=ctx,
            num_tasks=4)
if ctx.rank == 0:
    torch.save({k: v.detach() for k, v in model.state_dict().items()}, sys.argv[1])
teardown(ctx)
"""


def _ddp_tasks() -> list[Task]:
    return [Task(str(i), [_batch(10 * i), _batch(10 * i + 1)], _batch(10 * i + 2)) for i in range(4)]


@pytest.mark.parametrize("method", ["reptile", "fomaml"])
def test_tasks_split_over_two_ddp_ranks_give_the_one_process_update(method, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    model = _model()
    cfg = MetaConfig(method=method, inner_steps=2, tasks_per_step=4, inner_lr=0.05, outer_optimizer="sgd")
    meta_update(model, copy.deepcopy(model), _ddp_tasks(), _mse, cfg, torch.optim.SGD(model.parameters(), lr=0.5))
    script = tmp_path / "ddp_meta.py"
    script.write_text(DDP_SCRIPT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tests_dir = str(Path(__file__).resolve().parent)
    env = {**os.environ, "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "ddp.pt"), tests_dir, method],
                              env={**env, "RANK": str(r), "LOCAL_RANK": str(r)}, stderr=subprocess.PIPE, text=True)
             for r in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(ddp[k], v)
