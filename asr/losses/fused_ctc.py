"""Fused CTC loss in Triton: log-softmax + alpha/beta + gradient, never materializing log-probs.

Two entry points, both batch-first and both taking *unnormalized* scores:

* :func:`fused_ctc_loss` takes logits ``(B, T, V)`` (fp32, bf16, fp16 or fp64).
* :func:`fused_linear_ctc_loss` takes encoder output ``hidden (B, T, D)`` and the
  output projection ``weight (V, D)``, ``bias (V,)``; the logits are produced chunk by
  chunk over time and recomputed in the backward pass, so the ``(B, T, V)`` logits,
  log-probs and gradient never exist at once.

Three Triton kernels (:mod:`asr.losses.ctc_kernels`) do the work: the normalizers and
label log-probs of each frame, the alpha/beta recursions, and the gradient of each
frame; the occupancies of repeated labels are summed without atomics, so results are
bitwise deterministic. The reduction over the batch ('mean' / 'sum') is a torch op on
the ``(B,)`` per-utterance losses, with torch's semantics ('mean' divides each loss by its
target length clamped to 1, then averages).

Accumulation is float32 (float64 for float64 inputs, which the tests use to compare with
torch to ~1e-10). Frames past ``input_lengths[b]`` get a zero gradient. An infeasible
utterance (too few frames for its targets) has loss ``inf`` and a NaN gradient, like
torch, or loss 0 and zero gradient with ``zero_infinity=True``.

Kernels are compiled for CUDA tensors. For CPU tensors the very same kernels run through
Triton's interpreter (``TRITON_INTERPRET=1`` semantics, numpy on the CPU), from a second,
interpreted copy of :mod:`asr.losses.ctc_kernels` loaded whatever the environment said
when triton was first imported: that is how the tests run without a GPU. It is slow; use
:func:`asr.losses.ctc_loss` (torch's CTC on CPU) for real CPU work.

Example::

    >>> import torch
    >>> logits = torch.randn(2, 12, 6, dtype=torch.float64, requires_grad=True)
    >>> targets = torch.tensor([[1, 2, 2], [3, 0, 0]])
    >>> loss = fused_ctc_loss(logits, targets, torch.tensor([12, 9]), torch.tensor([3, 1]))
    >>> loss.backward()
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from asr.losses.ctc_kernels import kernels_for

__all__ = ["fused_ctc_loss", "fused_linear_ctc_loss", "MAX_TARGET_LENGTH"]

MAX_TARGET_LENGTH = 4095  # labels per utterance: the state row (2L+1) is one register block
_SORT_PAD = 2**31 - 1  # sorts padding label slots after every real label


# --------------------------------------------------------------------------- launching


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _tl_dtype(dtype: torch.dtype):
    return tl.float64 if dtype == torch.float64 else tl.float32


def _row_config(k, n: int, V: int, block_l1: int) -> tuple[int, int, int, int]:
    """(BLOCK_R, BLOCK_V, NUM_V_BLOCKS, num_warps) for n frames of V logits.

    On a GPU a program takes as many frames as fit ~2048 logits (and ~2048 label slots)
    in registers: many frames for a small V, one for a large V. The interpreter's cost
    is per operation, not per element, so it takes 64 frames at a time.
    """
    block_v = min(triton.next_power_of_2(V), 2048)
    if k.INTERPRETED:
        block_r = min(64, triton.next_power_of_2(n))
    else:
        block_r = max(1, min(64, 2048 // block_v, 2048 // block_l1))
    warps = 4 if block_r * max(block_v, block_l1) <= 1024 else 8
    return block_r, block_v, triton.cdiv(V, block_v), warps


class _Plan:
    """Targets and lengths on the device, in the layouts the kernels read.

    targets: (B, L) int32; slab, perm: (B, L+1) int32 (labels with the blank first,
    stably sorted; padding slots sort last); lengths: (B,) int32.
    """

    def __init__(self, targets, input_lengths, target_lengths, blank, B, T, device):
        targets, target_lengths = _padded_targets(targets, target_lengths, B)
        self.targets = targets.to(device=device, dtype=torch.int32).contiguous()
        self.input_lengths = torch.as_tensor(input_lengths).to(device=device, dtype=torch.int32).contiguous()
        self.target_lengths = torch.as_tensor(target_lengths).to(device=device, dtype=torch.int32).contiguous()
        if self.input_lengths.shape != (B,) or self.target_lengths.shape != (B,):
            raise ValueError(f"input_lengths and target_lengths must have shape ({B},)")
        self.B, self.T, self.L = B, T, self.targets.shape[1]
        self.S = 2 * self.L + 1
        self.blank = int(blank)
        if self.L > MAX_TARGET_LENGTH:
            raise ValueError(f"fused CTC supports targets up to {MAX_TARGET_LENGTH} labels, got {self.L}")
        if device.type == "cpu":  # cheap checks; on CUDA they would cost a host sync
            if bool((self.input_lengths > T).any()) or bool((self.input_lengths < 0).any()):
                raise ValueError(f"input_lengths must lie in [0, {T}]")
            if bool((self.target_lengths > self.L).any()) or bool((self.target_lengths < 0).any()):
                raise ValueError(f"target_lengths must lie in [0, {self.L}]")
        slots = torch.arange(self.L + 1, device=device)
        labels = torch.cat([torch.full((B, 1), self.blank, dtype=torch.int32, device=device), self.targets], 1)
        labels = labels.masked_fill(slots[None, :] > self.target_lengths[:, None], _SORT_PAD)
        slab, perm = torch.sort(labels, dim=1, stable=True)
        self.slab = slab.to(torch.int32).contiguous()
        self.perm = perm.to(torch.int32).contiguous()
        # runs of equal labels in the sorted rows: first position of each run, longest run
        start = torch.ones_like(slab, dtype=torch.bool)
        start[:, 1:] = slab[:, 1:] != slab[:, :-1]
        pos = slots[None, :].expand(B, -1)
        first = torch.where(start, pos, torch.zeros_like(pos)).cummax(dim=1).values
        run = torch.where(pos <= self.target_lengths[:, None], pos - first + 1, torch.zeros_like(pos))
        self.first = first.to(torch.int32).contiguous()
        self.max_run = run.max(dim=1).values.to(torch.int32).contiguous()
        self.block_l1 = triton.next_power_of_2(self.L + 1)
        self.block_s = triton.next_power_of_2(self.S)


def _padded_targets(targets: torch.Tensor, target_lengths, B: int):
    """Accept torch's two target layouts: padded (B, L) or concatenated (sum(L),)."""
    target_lengths = torch.as_tensor(target_lengths)
    if targets.dim() == 2:
        return targets, target_lengths
    if targets.dim() != 1:
        raise ValueError("targets must be (B, L) padded or (sum(target_lengths),) concatenated")
    lengths = target_lengths.tolist()
    width = max(lengths, default=0)
    out = targets.new_zeros(B, width)
    for i, piece in enumerate(torch.split(targets, lengths)):
        out[i, : len(piece)] = piece
    return out, target_lengths


def _rows_forward(k, x2d, plan, lse, lp, r0: int):
    """Kernel 1 over the rows r0 .. r0 + len(x2d) - 1 of the flattened (B*T, V) logits."""
    n, V = x2d.shape
    if n == 0:
        return
    block_r, block_v, nvb, warps = _row_config(k, n, V, plan.block_l1)
    k._ctc_rows_fwd_kernel[(triton.cdiv(n, block_r),)](
        x2d, x2d.stride(0), lse, lp, plan.targets, plan.targets.stride(0),
        plan.input_lengths, plan.target_lengths, n, r0, plan.T, V, plan.L, plan.blank,
        BLOCK_R=block_r, BLOCK_V=block_v, NUM_V_BLOCKS=nvb, BLOCK_L1=plan.block_l1,
        ACC=_tl_dtype(lse.dtype), num_warps=warps,
    )  # fmt: skip


def _recursions(k, plan, lp, with_beta: bool):
    """Kernel 2: alpha (and beta) for every utterance; returns (alpha, beta, nll)."""
    B, T, S = plan.B, plan.T, plan.S
    # one spare row: the recursions may read (and ignore) the row after an utterance's end
    alpha = torch.empty(B * T + 1, S, dtype=lp.dtype, device=lp.device)
    beta = torch.empty_like(alpha) if with_beta else alpha
    nll = torch.empty(B, dtype=lp.dtype, device=lp.device)
    block_b = min(64, triton.next_power_of_2(B)) if k.INTERPRETED else 1
    warps = min(16, max(4, plan.block_s // 256))  # <= 16 states per thread up to L = 2047
    k._ctc_recursion_kernel[(triton.cdiv(B, block_b), 2 if with_beta else 1)](
        lp, plan.targets, plan.targets.stride(0), plan.input_lengths, plan.target_lengths,
        alpha, beta, nll, B, T, plan.L, S, plan.blank,
        BLOCK_B=block_b, BLOCK_S=plan.block_s, ACC=_tl_dtype(lp.dtype), num_warps=warps,
    )  # fmt: skip
    return alpha, beta, nll


def _rows_backward(k, x2d, g2d, plan, lse, lp, alpha, beta, nll, gout, r0: int, zero_infinity: bool):
    """Kernel 3: the gradient of rows r0 .. r0 + len(x2d) - 1 (g2d may be x2d itself)."""
    n, V = x2d.shape
    if n == 0:
        return
    block_r, block_v, nvb, warps = _row_config(k, n, V, plan.block_l1)
    occ = torch.empty(n, plan.L + 1, dtype=lse.dtype, device=lse.device)
    k._ctc_rows_bwd_kernel[(triton.cdiv(n, block_r),)](
        x2d, x2d.stride(0), g2d, g2d.stride(0), lse, lp, alpha, beta, nll, gout,
        plan.slab, plan.perm, plan.first, plan.max_run, occ, plan.input_lengths, plan.target_lengths,
        n, r0, plan.T, V, plan.L, plan.S,
        BLOCK_R=block_r, BLOCK_V=block_v, NUM_V_BLOCKS=nvb, BLOCK_L1=plan.block_l1,
        ACC=_tl_dtype(lse.dtype), ZERO_INFINITY=bool(zero_infinity), num_warps=warps,
    )  # fmt: skip


def _finish(nll: torch.Tensor, zero_infinity: bool) -> torch.Tensor:
    return torch.where(torch.isinf(nll), torch.zeros_like(nll), nll) if zero_infinity else nll.clone()


# --------------------------------------------------------------------------- autograd


class _FusedCTC(torch.autograd.Function):
    """Per-utterance CTC negative log-likelihood (B,) of logits (B, T, V)."""

    @staticmethod
    def forward(ctx, logits, targets, input_lengths, target_lengths, blank, zero_infinity, with_grad):
        B, T, V = logits.shape
        x = logits.contiguous().view(B * T, V)
        plan = _Plan(targets, input_lengths, target_lengths, blank, B, T, logits.device)
        k = kernels_for(logits.device)
        acc = _acc_dtype(logits.dtype)
        lse = torch.empty(B * T, dtype=acc, device=logits.device)
        lp = torch.empty(B, T, plan.L + 1, dtype=acc, device=logits.device)
        _rows_forward(k, x, plan, lse, lp, 0)
        alpha, beta, nll = _recursions(k, plan, lp, with_beta=with_grad)
        ctx.save_for_backward(x, lse, lp, alpha, beta, nll)
        ctx.plan, ctx.zero_infinity = plan, zero_infinity
        return _finish(nll, zero_infinity)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_nll):
        x, lse, lp, alpha, beta, nll = ctx.saved_tensors
        plan = ctx.plan
        gout = grad_nll.to(lse.dtype).contiguous()
        grad = torch.empty_like(x)
        _rows_backward(kernels_for(x.device), x, grad, plan, lse, lp, alpha, beta, nll, gout, 0, ctx.zero_infinity)
        return grad.view(plan.B, plan.T, -1), None, None, None, None, None, None


def _default_chunk_rows(N: int, V: int) -> int:
    """Rows per projection chunk: about 2**23 logits (32 MB in fp32), at least 1."""
    return max(1, min(N, (1 << 23) // max(V, 1)))


class _FusedLinearCTC(torch.autograd.Function):
    """Per-utterance CTC NLL (B,) of ``hidden @ weight.T + bias``, logits never stored."""

    @staticmethod
    def forward(
        ctx, hidden, weight, bias, targets, input_lengths, target_lengths, blank, zero_infinity, chunk_rows, with_grad
    ):
        B, T, D = hidden.shape
        V = weight.shape[0]
        h = hidden.contiguous().view(B * T, D)
        plan = _Plan(targets, input_lengths, target_lengths, blank, B, T, hidden.device)
        k = kernels_for(hidden.device)
        acc = _acc_dtype(hidden.dtype)
        lse = torch.empty(B * T, dtype=acc, device=hidden.device)
        lp = torch.empty(B, T, plan.L + 1, dtype=acc, device=hidden.device)
        step = chunk_rows or _default_chunk_rows(B * T, V)
        for r0 in range(0, B * T, step):
            logits = _project(h[r0 : r0 + step], weight, bias)
            _rows_forward(k, logits, plan, lse, lp, r0)
            del logits
        alpha, beta, nll = _recursions(k, plan, lp, with_beta=with_grad)
        ctx.save_for_backward(h, weight, bias, lse, lp, alpha, beta, nll)
        ctx.plan, ctx.zero_infinity, ctx.step, ctx.has_bias = plan, zero_infinity, step, bias is not None
        return _finish(nll, zero_infinity)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_nll):
        h, weight, bias, lse, lp, alpha, beta, nll = ctx.saved_tensors
        plan, step = ctx.plan, ctx.step
        k = kernels_for(h.device)
        gout = grad_nll.to(lse.dtype).contiguous()
        acc = _acc_dtype(h.dtype)
        need_h, need_w, need_b = ctx.needs_input_grad[:3]
        grad_h = torch.empty_like(h) if need_h else None
        grad_w = torch.zeros(weight.shape, dtype=acc, device=h.device) if need_w else None
        grad_b = torch.zeros(weight.shape[0], dtype=acc, device=h.device) if need_b and ctx.has_bias else None
        for r0 in range(0, h.shape[0], step):
            h_c = h[r0 : r0 + step]
            g_c = _project(h_c, weight, bias)  # recomputed logits, overwritten by their gradient
            _rows_backward(k, g_c, g_c, plan, lse, lp, alpha, beta, nll, gout, r0, ctx.zero_infinity)
            if grad_h is not None:
                torch.matmul(g_c, weight, out=grad_h[r0 : r0 + step])
            if grad_w is not None:
                if g_c.dtype == acc:
                    grad_w.addmm_(g_c.t(), h_c)
                else:  # bf16/fp16: tensor-core matmul per chunk, summed over chunks in fp32
                    grad_w += (g_c.t() @ h_c).to(acc)
            if grad_b is not None:
                grad_b += g_c.sum(0, dtype=acc)
            del g_c
        grad_h = grad_h.view(plan.B, plan.T, -1) if grad_h is not None else None
        grad_w = grad_w.to(weight.dtype) if grad_w is not None else None
        grad_b = grad_b.to(bias.dtype) if grad_b is not None else None
        return grad_h, grad_w, grad_b, None, None, None, None, None, None, None


def _project(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """(n, D) @ (V, D).T + (V,) -> contiguous (n, V) logits in the input dtype."""
    if bias is None:
        return (h @ weight.t()).contiguous()
    return torch.addmm(bias, h, weight.t())


# --------------------------------------------------------------------------- public API


def _reduce(nll: torch.Tensor, target_lengths, reduction: str) -> torch.Tensor:
    """torch's CTC reductions of the per-utterance losses (B,)."""
    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        lengths = torch.as_tensor(target_lengths, device=nll.device).to(nll.dtype)
        return (nll / lengths.clamp_min(1)).mean()
    raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def fused_ctc_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> torch.Tensor:
    """CTC loss of unnormalized ``logits (B, T, V)``; log-softmax is fused in.

    Args:
        logits: (B, T, V) scores before log-softmax; fp32, bf16, fp16 or fp64.
        targets: (B, L) padded label ids (or torch's concatenated (sum(L),) layout).
        input_lengths: (B,) valid frames per utterance (<= T).
        target_lengths: (B,) labels per utterance (<= L).
        blank: id of the blank symbol.
        reduction: 'none' -> (B,), 'sum', or 'mean' (each loss divided by its target
            length clamped to 1, then averaged over the batch) like ``F.ctc_loss``.
        zero_infinity: infeasible utterances give loss 0 and zero gradient instead of inf.

    Returns:
        The loss, float32 (float64 for float64 logits).
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must be (B, T, V), got shape {tuple(logits.shape)}")
    with_grad = torch.is_grad_enabled() and logits.requires_grad  # beta is only needed for backward
    nll = _FusedCTC.apply(logits, targets, input_lengths, target_lengths, blank, zero_infinity, with_grad)
    return _reduce(nll, target_lengths, reduction)


def fused_linear_ctc_loss(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    chunk_rows: int | None = None,
) -> torch.Tensor:
    """CTC loss of ``hidden @ weight.T + bias`` without storing the (B, T, V) logits.

    The frames (B*T rows) are projected ``chunk_rows`` at a time (default: about 2**23
    logits per chunk), in the forward pass for the normalizers and label log-probs, and
    again in the backward pass, where each chunk's logits are overwritten in place by
    their gradient and multiplied into the gradients of ``hidden``, ``weight`` and ``bias``.

    Args:
        hidden: (B, T, D) encoder output.
        weight: (V, D) output projection; bias: (V,) or None.
        targets, input_lengths, target_lengths, blank, reduction, zero_infinity: as in
            :func:`fused_ctc_loss`.
        chunk_rows: frames projected at once; bounds the extra memory to chunk_rows * V.
    """
    if hidden.dim() != 3 or weight.dim() != 2 or hidden.shape[-1] != weight.shape[1]:
        raise ValueError(f"need hidden (B, T, D) and weight (V, D), got {tuple(hidden.shape)}, {tuple(weight.shape)}")
    with_grad = torch.is_grad_enabled() and any(p is not None and p.requires_grad for p in (hidden, weight, bias))
    nll = _FusedLinearCTC.apply(
        hidden, weight, bias, targets, input_lengths, target_lengths, blank, zero_infinity, chunk_rows, with_grad
    )
    return _reduce(nll, target_lengths, reduction)
