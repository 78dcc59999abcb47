"""The fused Triton CTC loss against torch's CTC, in float64, on randomized shapes.

Without a GPU the kernels run on CPU tensors through Triton's interpreter: for CPU
inputs ``asr.losses.fused_ctc`` loads an interpreted copy of its kernels whatever
``TRITON_INTERPRET`` said when triton was first imported, so this file works in any
order with other test files (``test_other_interpreter_setting`` checks the opposite
setting in a subprocess). The same tests run compiled on CUDA when one is visible.

The interpreter costs about 0.2 ms per Triton operation, so shapes stay small: the
time recursion costs ~15 ms per frame, whatever B, L or V.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from asr.losses import ctc_loss, fused_ctc_loss, fused_linear_ctc_loss

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _quiet_interpreter():
    """The interpreter evaluates log(0) = -inf with numpy, which warns; that is expected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# --------------------------------------------------------------------------- helpers


def _min_frames(labels: list[int]) -> int:
    """Frames CTC needs for a label sequence: one per label, plus a blank between repeats."""
    return len(labels) + sum(a == b for a, b in zip(labels, labels[1:]))


def random_case(seed: int, B: int, T: int, V: int, L: int, blank: int = 0, feasible: bool = True):
    """Logits (B, T, V) float64, padded targets (B, L) with junk in the padding, lengths.

    Labels repeat often (small V, and a 30 % chance of copying the previous label);
    target lengths include 0; input lengths lie between the minimum and T.
    """
    g = torch.Generator().manual_seed(seed)
    labels = [v for v in range(V) if v != blank]
    targets = torch.randint(0, V, (B, L), generator=g)  # the padding keeps random junk
    target_lengths, input_lengths = [], []
    for b in range(B):
        n = int(torch.randint(0, L + 1, (1,), generator=g))
        seq: list[int] = []
        for _ in range(n):
            if seq and torch.rand(1, generator=g) < 0.3:
                seq.append(seq[-1])
            else:
                seq.append(labels[int(torch.randint(0, len(labels), (1,), generator=g))])
        while feasible and _min_frames(seq) > T:
            seq.pop()
        targets[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        target_lengths.append(len(seq))
        low = min(_min_frames(seq), T) if feasible else 1
        input_lengths.append(int(torch.randint(low, T + 1, (1,), generator=g)))
    logits = 2.0 * torch.randn(B, T, V, generator=g, dtype=torch.float64)
    return logits, targets, torch.tensor(input_lengths), torch.tensor(target_lengths)


def torch_ctc(logits, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The reference: torch's CTC on log_softmax, (T, B, V) layout, in float64 on the CPU."""
    log_probs = logits.double().cpu().log_softmax(-1).transpose(0, 1)
    return F.ctc_loss(
        log_probs, targets.cpu(), input_lengths.cpu(), target_lengths.cpu(),
        blank=blank, reduction=reduction, zero_infinity=zero_infinity,
    )  # fmt: skip


def loss_and_grad(fn, logits, weights=None):
    """fn(logits) and d(sum(weights * fn))/d(logits), both on the CPU in float64."""
    x = logits.detach().clone().requires_grad_(True)
    loss = fn(x)
    (loss * weights.to(loss)).sum().backward() if weights is not None else loss.backward()
    return loss.detach().double().cpu(), x.grad.double().cpu()


def check_against_torch(device, logits, targets, il, tl, blank=0, reduction="mean", zero_infinity=False, tol=1e-9):
    weights = torch.rand(logits.shape[0], dtype=torch.float64) + 0.5 if reduction == "none" else None
    ours = loss_and_grad(
        lambda x: fused_ctc_loss(x, targets.to(device), il.to(device), tl.to(device), blank, reduction, zero_infinity),
        logits.to(device),
        weights,
    )
    ref = loss_and_grad(lambda x: torch_ctc(x, targets, il, tl, blank, reduction, zero_infinity), logits, weights)
    torch.testing.assert_close(ours[0], ref[0], rtol=tol, atol=tol)
    torch.testing.assert_close(ours[1], ref[1], rtol=tol, atol=tol, equal_nan=True)
    return ours


# --------------------------------------------------------------------------- fused_ctc_loss


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", range(6))
def test_matches_torch_on_random_shapes(device, seed):
    g = torch.Generator().manual_seed(100 + seed)
    B, T, V, L = (int(torch.randint(lo, hi, (1,), generator=g)) for lo, hi in [(1, 5), (1, 20), (2, 9), (0, 8)])
    reduction = ["mean", "sum", "none"][seed % 3]
    check_against_torch(device, *random_case(seed, B, T, V, L), reduction=reduction)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_reductions(device, reduction):
    check_against_torch(device, *random_case(7, 3, 12, 6, 5), reduction=reduction)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("blank", [3, 5])
def test_blank_not_zero(device, blank):
    logits, targets, il, tl = random_case(11, 3, 10, 6, 4, blank=blank)
    assert not (targets[0, : tl[0]] == blank).any()
    check_against_torch(device, logits, targets, il, tl, blank=blank)


@pytest.mark.parametrize("device", DEVICES)
def test_tight_lengths_and_repeats(device):
    """T exactly L + repeats is feasible (one path); one frame fewer is not."""
    targets = torch.tensor([[1, 1, 2, 2, 2], [3, 1, 3, 1, 0], [2, 2, 0, 0, 0]])
    tl = torch.tensor([5, 4, 2])
    il = torch.tensor([8, 4, 3])  # 5 + 3 repeats, 4 + 0, 2 + 1
    logits = torch.randn(3, 8, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    loss, _ = check_against_torch(device, logits, targets, il, tl, reduction="none")
    assert torch.isfinite(loss).all()
    loss, _ = check_against_torch(device, logits, targets, il - 1, tl, reduction="none", zero_infinity=True)
    assert (loss == 0).all()


@pytest.mark.parametrize("device", DEVICES)
def test_infeasible_gives_inf_or_zero(device):
    targets = torch.tensor([[1, 2, 3, 1], [2, 2, 0, 0]])
    tl = torch.tensor([4, 2])
    il = torch.tensor([3, 6])  # utterance 0 needs 4 frames
    logits = torch.randn(2, 6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    args = (targets.to(device), il.to(device), tl.to(device))
    # zero_infinity=False: inf loss; the feasible utterance's gradient is still exact
    loss, grad = loss_and_grad(
        lambda x: fused_ctc_loss(x, *args, reduction="none")[1], logits.to(device)
    )
    ref_loss, ref_grad = loss_and_grad(lambda x: torch_ctc(x, targets, il, tl, reduction="none")[1], logits)
    torch.testing.assert_close(grad[1], ref_grad[1], rtol=1e-9, atol=1e-9)
    assert torch.isinf(fused_ctc_loss(logits.to(device), *args, reduction="none")[0])
    assert torch.isinf(fused_ctc_loss(logits.to(device), *args, reduction="mean"))
    # zero_infinity=True: loss 0 and zero gradient for the infeasible utterance, like torch
    loss, grad = check_against_torch(device, logits, targets, il, tl, reduction="mean", zero_infinity=True)
    assert (grad[0] == 0).all()


@pytest.mark.parametrize("device", DEVICES)
def test_empty_targets(device):
    logits = torch.randn(3, 7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    targets = torch.tensor([[4, 4], [1, 3], [2, 0]])  # padding junk only where tl == 0
    for tl in (torch.tensor([0, 0, 0]), torch.tensor([0, 2, 1])):
        for reduction in ("mean", "none"):
            check_against_torch(device, logits, targets, torch.tensor([7, 5, 1]), tl, reduction=reduction)
    # no label slots at all: targets of width 0
    empty = torch.zeros(3, 0, dtype=torch.long)
    check_against_torch(device, logits, empty, torch.tensor([7, 5, 1]), torch.tensor([0, 0, 0]))


@pytest.mark.parametrize("device", DEVICES)
def test_padded_frames_get_zero_gradient_and_are_never_read(device):
    logits, targets, _, tl = random_case(3, 3, 10, 5, 3)
    il = torch.tensor([10, 6, 4])
    check_against_torch(device, logits, targets, il, tl)
    poisoned = logits.clone()
    poisoned[1, 6:] = float("nan")
    poisoned[2, 4:] = float("inf")
    loss, grad = loss_and_grad(
        lambda x: fused_ctc_loss(x, targets.to(device), il.to(device), tl.to(device)), poisoned.to(device)
    )
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert (grad[1, 6:] == 0).all() and (grad[2, 4:] == 0).all()
    torch.testing.assert_close(loss, torch_ctc(logits, targets, il, tl), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_batch_of_one(device):
    check_against_torch(device, *random_case(4, 1, 15, 7, 6))
    check_against_torch(device, *random_case(5, 1, 1, 3, 1), reduction="sum")


@pytest.mark.slow
@pytest.mark.parametrize("device", DEVICES)
def test_long_targets(device):
    """L > 256: the state row spans 1024 lanes and repeats form long runs of one label."""
    L, T, V = 260, 300, 12
    g = torch.Generator().manual_seed(9)
    logits = 2.0 * torch.randn(2, T, V, dtype=torch.float64, generator=g)
    targets = torch.randint(1, V, (2, L), generator=g)
    tl = torch.tensor([L, 200])
    il = torch.tensor([T, 290])
    assert _min_frames(targets[0].tolist()) <= T and _min_frames(targets[1, :200].tolist()) <= 290
    check_against_torch(device, logits, targets, il, tl, reduction="none", tol=1e-8)


@pytest.mark.parametrize("device", DEVICES)
def test_concatenated_targets(device):
    logits, targets, il, tl = random_case(8, 3, 9, 6, 4)
    flat = torch.cat([targets[b, : tl[b]] for b in range(3)])
    ours = fused_ctc_loss(logits.to(device), flat.to(device), il, tl, reduction="none")
    torch.testing.assert_close(ours.cpu(), torch_ctc(logits, targets, il, tl, reduction="none"))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 2e-5), (torch.bfloat16, 2e-2), (torch.float16, 4e-3)])
def test_low_precision_inputs(device, dtype, tol):
    """fp32 / bf16 / fp16 logits, fp32 accumulation: close to torch on the same values."""
    logits, targets, il, tl = random_case(12, 3, 12, 7, 5)
    logits = logits.to(dtype)
    x = logits.to(device).requires_grad_(True)
    loss = fused_ctc_loss(x, targets.to(device), il.to(device), tl.to(device))
    loss.backward()
    assert loss.dtype == torch.float32 and x.grad.dtype == dtype
    ref_loss, ref_grad = loss_and_grad(lambda z: torch_ctc(z, targets, il, tl), logits.double())
    torch.testing.assert_close(loss.double().cpu(), ref_loss, rtol=tol, atol=tol)
    torch.testing.assert_close(x.grad.double().cpu(), ref_grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("device", DEVICES)
def test_deterministic(device):
    logits, targets, il, tl = random_case(13, 4, 16, 5, 8)
    args = (targets.to(device), il.to(device), tl.to(device))
    a = loss_and_grad(lambda x: fused_ctc_loss(x, *args), logits.float().to(device))
    b = loss_and_grad(lambda x: fused_ctc_loss(x, *args), logits.float().to(device))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck(device):
    logits, targets, il, tl = random_case(14, 2, 3, 3, 2)
    x = logits.to(device).requires_grad_(True)
    args = (targets.to(device), il.to(device), tl.to(device))
    assert torch.autograd.gradcheck(lambda z: fused_ctc_loss(z, *args, reduction="sum"), (x,))
    logits, targets, il, tl = random_case(15, 3, 7, 5, 3)
    x = logits.to(device).requires_grad_(True)
    args = (targets.to(device), il.to(device), tl.to(device))
    assert torch.autograd.gradcheck(lambda z: fused_ctc_loss(z, *args, reduction="none"), (x,), fast_mode=True)


# --------------------------------------------------------------------------- fused_linear_ctc_loss


def linear_case(seed: int, B=3, T=9, D=6, V=7, L=4, bias=True):
    logits, targets, il, tl = random_case(seed, B, T, V, L)
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(B, T, D, dtype=torch.float64, generator=g)
    weight = torch.randn(V, D, dtype=torch.float64, generator=g) / D**0.5
    b = torch.randn(V, dtype=torch.float64, generator=g) if bias else None
    return hidden, weight, b, targets, il, tl


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias,chunk_rows,reduction", [(True, 5, "mean"), (False, None, "sum"), (True, 1, "none")])
def test_fused_linear_matches_autograd(device, bias, chunk_rows, reduction):
    hidden, weight, b, targets, il, tl = linear_case(20, bias=bias)
    params = [p for p in (hidden, weight, b) if p is not None]
    weights = torch.rand(3, dtype=torch.float64) + 0.5 if reduction == "none" else torch.ones((), dtype=torch.float64)

    ref_params = [p.clone().requires_grad_(True) for p in params]
    h, w, bb = ref_params if bias else (*ref_params, None)
    ref = torch_ctc(F.linear(h, w, bb), targets, il, tl, reduction=reduction)
    (ref * weights).sum().backward()

    ours_params = [p.to(device).requires_grad_(True) for p in params]
    h, w, bb = ours_params if bias else (*ours_params, None)
    loss = fused_linear_ctc_loss(
        h, w, bb, targets.to(device), il.to(device), tl.to(device), reduction=reduction, chunk_rows=chunk_rows
    )
    (loss * weights.to(device)).sum().backward()
    torch.testing.assert_close(loss.cpu(), ref.detach(), rtol=1e-9, atol=1e-9)
    for ours_p, ref_p in zip(ours_params, ref_params):
        torch.testing.assert_close(ours_p.grad.cpu(), ref_p.grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_fused_linear_gradcheck(device):
    hidden, weight, b, targets, il, tl = linear_case(21, B=2, T=5, D=3, V=4, L=2)
    inputs = tuple(p.to(device).requires_grad_(True) for p in (hidden, weight, b))
    args = (targets.to(device), il.to(device), tl.to(device))
    fn = lambda h, w, bb: fused_linear_ctc_loss(h, w, bb, *args, reduction="sum", chunk_rows=3)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs, fast_mode=True)


# --------------------------------------------------------------------------- ctc_loss interface


def test_ctc_loss_interface_dispatch():
    logits, targets, il, tl = random_case(30, 3, 10, 6, 4)
    ref = torch_ctc(logits, targets, il, tl, zero_infinity=True)
    torch.testing.assert_close(ctc_loss(logits, targets, il, tl), ref)  # 'auto' on CPU: torch
    torch.testing.assert_close(ctc_loss(logits, targets, il, tl, impl="torch"), ref)
    torch.testing.assert_close(ctc_loss(logits, targets, il, tl, impl="fused"), ref)
    # batch-first float32 / bf16 logits go through log_softmax in float32
    out = ctc_loss(logits.bfloat16(), targets, il, tl, reduction="none")
    assert out.dtype == torch.float32 and out.shape == (3,)
    with pytest.raises(ValueError, match="impl"):
        ctc_loss(logits, targets, il, tl, impl="cudnn")


@pytest.mark.gpu
def test_ctc_loss_auto_uses_fused_on_cuda(monkeypatch):
    import asr.losses.fused_ctc as fused

    calls = []
    real = fused.fused_ctc_loss
    monkeypatch.setattr(fused, "fused_ctc_loss", lambda *a, **k: calls.append(1) or real(*a, **k))
    logits, targets, il, tl = random_case(31, 2, 8, 5, 3)
    loss = ctc_loss(logits.float().cuda(), targets.cuda(), il.cuda(), tl.cuda())
    assert calls and torch.isfinite(loss)
    torch.testing.assert_close(loss.double().cpu(), torch_ctc(logits, targets, il, tl), rtol=1e-5, atol=1e-5)


def test_rejects_bad_lengths():
    logits, targets, il, tl = random_case(32, 2, 6, 4, 3)
    with pytest.raises(ValueError, match="input_lengths"):
        fused_ctc_loss(logits, targets, torch.tensor([7, 3]), tl)
    with pytest.raises(ValueError, match="target_lengths"):
        fused_ctc_loss(logits, targets, il, torch.tensor([4, 1]))


def test_other_interpreter_setting():
    """A fresh process with TRITON_INTERPRET flipped gives the same numbers on the CPU."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env["TRITON_INTERPRET"] = "0" if os.environ.get("TRITON_INTERPRET") == "1" else "1"
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import torch, triton\n"
        "from test_fused_ctc import random_case, check_against_torch\n"
        "check_against_torch('cpu', *random_case(40, 2, 6, 5, 3), reduction='none')\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=Path(__file__).parent, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]


def test_cpu_tensors_get_the_interpreted_kernels():
    """On the CPU the kernels run in Triton's interpreter (a second copy of the module when needed)."""
    from asr.losses import ctc_kernels

    cpu = ctc_kernels.kernels_for(torch.device("cpu"))
    assert cpu.INTERPRETED and cpu.kernels_for(torch.device("cpu")) is cpu
    assert cpu is ctc_kernels.kernels_for(torch.device("cpu"))  # built once

