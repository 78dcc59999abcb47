"""asr.train.distributed outside torchrun: a single process, no process group."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from asr.train.distributed import all_reduce_sum, pick_device, setup, teardown, unwrap, wrap_model


def test_single_process_context(monkeypatch):
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    ctx = setup("cpu")
    assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.distributed) == (0, 1, True, False)
    model = nn.Linear(3, 2)
    assert unwrap(wrap_model(model, ctx)) is model
    assert all_reduce_sum([1.5, 2.0], ctx) == [1.5, 2.0]
    teardown(ctx)


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises((RuntimeError, ValueError), match="(?i)cuda"):
            pick_device("cuda")
