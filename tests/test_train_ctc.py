"""CTC training: checkpoints, schedules, an overfit run on real speech, kill-and-resume, DDP.

The corpus is real espeak-ng speech rendered by :func:`asr.data.synth.render`
(clean, one speaker, short fixed sentences) so the texts are known and short.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from asr.data.manifest import Utterance, read_manifest, write_manifest
from asr.data.transforms import AddTargets
from asr.models.ctc import ModelConfig, load_model_dir
from asr.text.tokenizer import CharTokenizer, load_tokenizer
from asr.train import checkpoint as ckpt
from asr.train.config import TrainConfig
from asr.train.loop import train_ctc
from asr.train.metrics_log import MetricsLog, read_metrics
from asr.train.tokenizer_setup import init_tokenizer
from asr.train.optim import WarmupSchedule, build_optimizer
from asr.train.run_config import RUN_CONFIG, save_run_config

from conftest import OVERFIT_TEXTS, render_corpus

REPO = Path(__file__).resolve().parents[1]
RESUME_TEXTS = ["red apple", "blue sky", "green tree", "cold water", "warm bread", "small dog", "big house", "fast car"]


# -- checkpoints, schedules, metrics: fast unit tests -----------------------------------


def test_checkpoint_round_trip_rng_and_atomicity(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, WarmupSchedule("noam", 10, 100))
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    sched.step()
    path = ckpt.save_checkpoint(tmp_path / "ckpt-00000001", model, opt, sched, {"step": 1, "epoch": 0})
    expected_draw = torch.rand(3)  # what the RNG gives right after saving

    model2 = torch.nn.Linear(4, 3)
    opt2 = torch.optim.AdamW(model2.parameters(), lr=0.1)
    sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, WarmupSchedule("noam", 10, 100))
    state = ckpt.load_checkpoint(path, model2, opt2, sched2)
    assert state["step"] == 1 and torch.equal(torch.rand(3), expected_draw)
    assert torch.equal(model2.weight, model.weight)
    assert opt2.state_dict()["state"][0]["exp_avg"].equal(opt.state_dict()["state"][0]["exp_avg"])
    assert sched2.get_last_lr() == sched.get_last_lr()

    # a half-written checkpoint (killed during save) is ignored
    (tmp_path / "ckpt-00000002.tmp").mkdir()
    (tmp_path / "ckpt-00000002.tmp" / "state.json").write_text('{"step": 2}')
    ckpt.save_checkpoint(tmp_path / "epoch-000", model, opt, sched, {"step": 1, "epoch_complete": True})
    assert ckpt.latest_checkpoint(tmp_path).name == "epoch-000"  # same step, epoch end wins
    assert ckpt.latest_checkpoint(tmp_path / "nothing") is None
    for step in (2, 3, 4):
        ckpt.save_checkpoint(tmp_path / f"ckpt-{step:08d}", model, state={"step": step})
    ckpt.prune_checkpoints(tmp_path, "ckpt-", keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path, "ckpt-")] == ["ckpt-00000003", "ckpt-00000004"]


def test_average_checkpoints(tmp_path):
    models = []
    for k in range(3):
        m = torch.nn.BatchNorm1d(2)
        with torch.no_grad():
            m.weight.fill_(float(k))
            m.num_batches_tracked.fill_(10 * k)
        ckpt.save_checkpoint(tmp_path / f"epoch-{k:03d}", m, state={"step": k})
        models.append(m)
    avg = ckpt.average_checkpoints([tmp_path / f"epoch-{k:03d}" for k in range(3)])
    assert torch.allclose(avg["weight"], torch.full((2,), 1.0))
    assert avg["num_batches_tracked"].item() == 20  # integers: the last one's
    with pytest.raises(ValueError):
        ckpt.average_checkpoints([])


def test_schedules():
    warm = WarmupSchedule("noam", warmup_steps=10, total_steps=100)
    assert warm(0) == pytest.approx(0.1) and warm(9) == pytest.approx(1.0) and warm(39) == pytest.approx(0.5)
    cos = WarmupSchedule("cosine", warmup_steps=10, total_steps=110, min_lr_ratio=0.1)
    assert cos(9) == pytest.approx(1.0) and cos(59) == pytest.approx(0.55) and cos(500) == pytest.approx(0.1)
    assert WarmupSchedule("constant", 4, 10)(100) == 1.0
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LayerNorm(3))
    opt, sched = build_optimizer(model, TrainConfig(lr=0.01, warmup_steps=10, weight_decay=0.1), total_steps=100)
    assert [len(g["params"]) for g in opt.param_groups] == [1, 3]  # decay on the matrix only
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)
    with pytest.raises(ValueError, match="known schedules"):
        build_optimizer(model, TrainConfig(schedule="linear-ish"), total_steps=10)


def test_metrics_log_truncates_to_checkpoint(tmp_path):
    m = MetricsLog(tmp_path / "metrics.csv")
    m.truncate(0)
    for step in range(1, 5):
        m.append(step=step, epoch=0, split="train", loss=1.0 / step)
    with open(tmp_path / "metrics.csv", "a") as f:
        f.write("5,0,tra")  # a killed process's half line
    m2 = MetricsLog(tmp_path / "metrics.csv")
    m2.truncate(3)
    rows = read_metrics(tmp_path / "metrics.csv")
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[1]["loss"] == 0.5 and rows[0]["wer"] is None
    with pytest.raises(ValueError, match="fewer complete rows"):
        MetricsLog(tmp_path / "metrics.csv").truncate(7)


def test_metrics_log_tensorboard_purges_past_the_checkpoint_on_resume(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    m = MetricsLog(tmp_path / "metrics.csv")
    m.truncate(0)
    for step in range(1, 5):
        m.append(step=step, epoch=0, split="train", loss=1.0 / step)
    m.close()
    resumed = MetricsLog(tmp_path / "metrics.csv")
    resumed.truncate(2)  # the checkpoint had seen steps 1 and 2
    resumed.append(step=3, epoch=0, split="train", loss=7.0)
    resumed.append(step=3, epoch=0, split="dev", loss=6.0, wer=0.5)
    resumed.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    loss = {e.step: e.value for e in events.Scalars("train/loss")}
    assert loss == {1: 1.0, 2: 0.5, 3: 7.0}  # the first run's steps 3 and 4 are gone
    assert [e.value for e in events.Scalars("dev/wer")] == [0.5]


def test_run_config_guards_a_resumed_run(tmp_path, caplog):
    from asr.train.distributed import DistContext

    config = {"model": {"d_model": 96}, "tokenizer": "char", "train": {"lr": 0.001, "epochs": 4}}
    save_run_config(tmp_path, config, DistContext(), fixed=("model", "tokenizer"))
    assert json.loads((tmp_path / RUN_CONFIG).read_text()) == config
    longer = {**config, "train": {"lr": 0.001, "epochs": 8}}  # more epochs: allowed, logged
    with caplog.at_level("WARNING"):
        save_run_config(tmp_path, longer, DistContext(), fixed=("model", "tokenizer"))
    assert "changed training options ['epochs']" in caplog.text
    assert json.loads((tmp_path / RUN_CONFIG).read_text())["train"]["epochs"] == 8
    with pytest.raises(ValueError, match="different model config"):
        save_run_config(tmp_path, {**longer, "model": {"d_model": 128}}, DistContext(), fixed=("model", "tokenizer"))


def test_speed_perturbation_is_a_function_of_seed_epoch_and_id():
    t = AddTargets({"a": [3, 4]}, speeds=(0.9, 1.1), seed=1)
    item = lambda: {"id": "a", "wav": torch.randn(16000), "duration": 1.0}  # noqa: E731
    lengths = set()
    for epoch in range(6):
        t.epoch = epoch
        first, second = t(item()), t(item())
        assert first["wav"].shape == second["wav"].shape and first["tokens"] == [3, 4]
        lengths.add(first["wav"].shape[0])
    low, high = sorted(lengths)
    assert abs(low - 16000 / 1.1) <= 1 and abs(high - 16000 / 0.9) <= 1


def test_init_tokenizer_builds_once_then_reloads(tmp_path):
    utts = [Utterance(id=f"x{i}", audio="a.wav", duration=1.0, text=t, lang="en") for i, t in enumerate(RESUME_TEXTS)]
    write_manifest(tmp_path / "train.jsonl", utts)
    tok = init_tokenizer(tmp_path / "exp", "bpe", tmp_path / "train.jsonl", vocab_size=30)
    assert tok.kind == "sentencepiece" and tok.vocab_size == 30
    again = init_tokenizer(tmp_path / "exp", "bpe", tmp_path / "train.jsonl", vocab_size=99)  # saved one wins
    assert again.tokens == tok.tokens
    with pytest.raises(ValueError, match="holds a sentencepiece tokenizer"):
        init_tokenizer(tmp_path / "exp", "char", tmp_path / "train.jsonl")
    assert init_tokenizer(tmp_path / "exp2", "char", tmp_path / "train.jsonl").encode("red sky")[3] == 2  # "|"
    with pytest.raises(ValueError, match="units must be one of"):
        init_tokenizer(tmp_path / "exp3", "words", tmp_path / "train.jsonl")


# -- overfit on real speech --------------------------------------------------------------


@pytest.mark.slow
def test_overfit_three_utterances_and_decode(tmp_path):
    torch.manual_seed(0)
    utts = render_corpus(tmp_path / "corpus", OVERFIT_TEXTS, "u")
    write_manifest(tmp_path / "dev.jsonl", utts)
    write_manifest(tmp_path / "train.jsonl",  # ten copies per epoch: ten updates of three utterances
                   [dataclasses.replace(u, id=f"{u.id}-{k}") for k in range(10) for u in utts])
    tok = CharTokenizer.build(OVERFIT_TEXTS)
    model_cfg = ModelConfig.preset("tiny", dropout=0.0, spec_freq_masks=0, spec_time_masks=0)
    train_cfg = TrainConfig(epochs=8, max_batch_seconds=3.0, lr=3e-3, warmup_steps=10, schedule="constant",
                            checkpoint_every=0, average_last=1, log_every=5, progress=False)
    out = tmp_path / "exp"
    summary = train_ctc(tmp_path / "train.jsonl", tmp_path / "dev.jsonl", out, model_cfg, train_cfg, tok)

    rows = read_metrics(out / "metrics.csv")
    train_losses = [r["loss"] for r in rows if r["split"] == "train"]
    assert train_losses[0] > 20 * train_losses[-1], train_losses
    assert summary["dev_wer"] == 0.0 and summary["steps"] == 80
    assert len([r for r in rows if r["split"] == "dev"]) == 8
    assert (out / "curves.png").stat().st_size > 1000

    from asr.decoding.ctc import Transcriber
    from asr.decoding.manifest import decode_manifest
    from asr.systems import load_recognizer

    transcriber = Transcriber(out / "model")
    from asr.audio import load_audio

    assert transcriber([load_audio(u.audio) for u in utts]) == OVERFIT_TEXTS
    text, words = transcriber.transcribe_with_times(load_audio(utts[0].audio))
    assert text == "hello world" and [w.word for w in words] == ["hello", "world"]
    assert 0 <= words[0].start < words[0].end <= words[1].start < words[1].end <= utts[0].duration
    stats = decode_manifest(load_recognizer(out / "model", beam=4), tmp_path / "dev.jsonl", tmp_path / "hyp.jsonl")
    assert stats.num_utts == 3 and stats.rtf > 0 and stats.decoder == "beam" and stats.system == "ctc"
    assert [u.text for u in read_manifest(tmp_path / "hyp.jsonl")] == OVERFIT_TEXTS

    # started again with the same arguments: already done, same summary, nothing retrained
    assert train_ctc(tmp_path / "train.jsonl", tmp_path / "dev.jsonl", out, model_cfg, train_cfg, tok) == summary
    model, _, cfg = load_model_dir(out / "model")
    assert cfg.vocab_size == tok.vocab_size


# -- kill and resume; DDP -------------------------------------------------------------------

SCRIPT = """
import json, logging, sys, torch
torch.set_num_threads(1)
from asr.models.ctc import ModelConfig
from asr.text.tokenizer import load_tokenizer
from asr.train.config import TrainConfig
from asr.train.loop import train_ctc
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
a = json.load(open(sys.argv[1]))
train_ctc(a["train"], a["dev"], a["out"], ModelConfig.from_dict(a["model"]), TrainConfig(**a["train_cfg"]),
          load_tokenizer(a["tokenizer"]))
"""


@pytest.fixture(scope="module")
def resume_setup(tmp_path_factory):
    """8 utterances in 4 batches of 2 per epoch, a very small model, and a training script."""
    root = tmp_path_factory.mktemp("resume")
    utts = render_corpus(root / "corpus", RESUME_TEXTS, "r")
    write_manifest(root / "train.jsonl", utts)
    write_manifest(root / "dev.jsonl", utts[:3])
    CharTokenizer.build(RESUME_TEXTS).save(root / "tok")
    (root / "train_script.py").write_text(SCRIPT)
    model = ModelConfig.preset("tiny", d_model=48, num_layers=2, ff_dim=96, subsampling_channels=16)
    budget = 2 * max(u.duration for u in utts) + 0.01  # two utterances per batch
    train_cfg = dict(epochs=4, max_batch_seconds=budget, num_buckets=2, lr=2e-3, warmup_steps=4,
                     checkpoint_every=1, keep_checkpoints=2, average_last=2, log_every=1, progress=False, seed=3)

    def args(name: str, grad_accum: int) -> Path:
        path = root / f"{name}.json"
        path.write_text(json.dumps({"train": str(root / "train.jsonl"), "dev": str(root / "dev.jsonl"),
                                    "out": str(root / name), "model": model.to_dict(), "tokenizer": str(root / "tok"),
                                    "train_cfg": {**train_cfg, "grad_accum": grad_accum}}))
        return path

    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1"}
    # The reference runs in this process (one thread, as in the scripts) to save a torch start-up.
    a = json.loads(args("uninterrupted", 2).read_text())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_ctc(a["train"], a["dev"], a["out"], ModelConfig.from_dict(a["model"]), TrainConfig(**a["train_cfg"]),
                  load_tokenizer(a["tokenizer"]))
    finally:
        torch.set_num_threads(threads)
    return root, args, env


def _rows(out: Path) -> list[tuple]:
    return [(r["step"], r["epoch"], r["split"], r["loss"], r["wer"], r["lr"], r["grad_norm"])
            for r in read_metrics(out / "metrics.csv")]


@pytest.mark.slow
def test_sigkill_and_resume_gives_the_uninterrupted_result(resume_setup):
    root, args, env = resume_setup
    cmd = [sys.executable, str(root / "train_script.py"), str(args("killed", 2))]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not ckpt.list_checkpoints(root / "killed" / "checkpoints", "ckpt-"):
        assert proc.poll() is None, "training ended before its first checkpoint was seen"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not (root / "killed" / "model").exists()

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed from" in again.stderr
    assert _rows(root / "killed") == _rows(root / "uninterrupted")
    a = load_file(str(root / "killed" / "model" / "model.safetensors"))
    b = load_file(str(root / "uninterrupted" / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_two_processes_match_one_process_with_accumulation(resume_setup):
    """Two gloo processes started the way torchrun starts them (its environment variables,
    without the launcher process), each with grad_accum=1, against one process with grad_accum=2."""
    root, args, env = resume_setup
    cmd = [sys.executable, str(root / "train_script.py"), str(args("ddp", 1))]
    dist_env = {**env, "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": str(_free_port())}
    procs = [subprocess.Popen(cmd, env={**dist_env, "RANK": str(r), "LOCAL_RANK": str(r)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for r in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    assert json.loads((root / "ddp" / "train_summary.json").read_text())["world_size"] == 2
    ddp, single = _rows(root / "ddp"), _rows(root / "uninterrupted")
    assert [r[:3] for r in ddp] == [r[:3] for r in single]
    for d, s in zip(ddp, single):
        assert d[3] == pytest.approx(s[3], rel=1e-4)  # loss
    a = load_file(str(root / "ddp" / "model" / "model.safetensors"))
    b = load_file(str(root / "uninterrupted" / "model" / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-4)
