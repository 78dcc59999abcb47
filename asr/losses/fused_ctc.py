"""Fused CTC loss in Triton: log-softmax + alpha/beta + gradient, never materializing log-probs.

Two entry points, both batch-first and both taking *unnormalized* scores:

* :func:`fused_ctc_loss` takes logits ``(B, T, V)`` (fp32, bf16, fp16 or fp64).
* :func:`fused_linear_ctc_loss` takes encoder output ``hidden (B, T, D)`` and the
  output projection ``weight (V, D)``, ``bias (V,)``; the logits are produced chunk by
  chunk over time and recomputed in the backward pass, so the ``(B, T, V)`` logits,
  log-probs and gradient never exist at once.

The computation is split into three Triton kernels (``N = B * T`` frames, ``L`` the
padded target width, ``S = 2L + 1`` CTC states, ``g_b = d loss / d nll_b``)::

    1. _ctc_rows_fwd_kernel   grid (N / R,)   R frames per program (many for a small V):
                                              lse = logsumexp(x[b, t, :]) (online, one pass),
                                              lp[b, t, j] = x[b, t, label_j] - lse, for
                                              label_0 = blank, label_j = targets[b, j-1]
                              reads the logits once; writes lse (N,) and lp (N, L+1)
    2. _ctc_recursion_kernel  grid (B, 2)     program (b, 0) runs alpha forward in time and
                                              program (b, 1) beta backward, concurrently
                                              (beta only when a gradient is wanted); the
                                              current row of states lives in registers, the
                                              previous one is re-read, shifted by 1 and 2
                                              states, from the row just stored (L1/L2)
                              reads lp (L+1 values per frame); writes alpha, beta (N, S)
                              and nll (B,)
    3. _ctc_rows_bwd_kernel   grid (N / R,)   grad[v] = g_b * (softmax[v] - occ[v]), with
                                              occ[c] = sum over states s labelled c of
                                              exp(alpha[t, s] + beta[t, s] - lp[t, s] + nll)
                              reads the logits and the alpha/beta rows; writes the gradient
                              once (no log_softmax backward, nothing (B, T, V) kept besides)

Kernel 3 sums the occupancies of repeated labels without atomics: the labels of each
utterance (blank first) are stably sorted once (a tiny ``(B, L+1)`` torch sort), and a
segmented Hillis-Steele scan over the sorted slots adds equal labels in a fixed order
(ceil(log2(longest run)) rounds), so results are bitwise deterministic. The reduction over
the batch ('mean' / 'sum') is a torch op on the ``(B,)`` per-utterance losses, with torch's
semantics ('mean' divides each loss by its target length clamped to 1, then averages).

Memory traffic at fp32, B=32, T=1000, L=200: the logits are read twice and the gradient
written once (3 * B*T*V*4 bytes: 192 MB at V=500, 1.9 GB at V=5000), plus lp (26 MB),
alpha and beta (51 MB each) written once and read once. Kernel 2 is latency-bound: one
barrier and one dependent L1/L2 round trip per frame.

Accumulation is float32 (float64 for float64 inputs, which the tests use to compare with
torch to ~1e-10). Frames past ``input_lengths[b]`` get a zero gradient. An infeasible
utterance (too few frames for its targets) has loss ``inf`` and a NaN gradient, like
torch, or loss 0 and zero gradient with ``zero_infinity=True``.

Kernels are compiled for CUDA tensors. For CPU tensors this module runs the very same
kernels through Triton's interpreter (``TRITON_INTERPRET=1`` semantics, numpy on the CPU)
by loading a second, interpreted copy of itself, whatever the environment said when
triton was first imported: that is how the tests run without a GPU. It is slow; use
:func:`asr.losses.ctc_loss` (torch's CTC on CPU) for real CPU work.

Example::

    >>> import torch
    >>> logits = torch.randn(2, 12, 6, dtype=torch.float64, requires_grad=True)
    >>> targets = torch.tensor([[1, 2, 2], [3, 0, 0]])
    >>> loss = fused_ctc_loss(logits, targets, torch.tensor([12, 9]), torch.tensor([3, 1]))
    >>> loss.backward()
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys

import torch
import triton
import triton.language as tl

__all__ = ["fused_ctc_loss", "fused_linear_ctc_loss", "MAX_TARGET_LENGTH"]

MAX_TARGET_LENGTH = 4095  # labels per utterance: the state row (2L+1) is one register block
_SORT_PAD = 2**31 - 1  # sorts padding label slots after every real label


# --------------------------------------------------------------------------- kernels
# The kernels call only triton *builtins* (tl.load, tl.where, tl.reduce, ...) and the
# jit helpers below, never the jit'd standard library (tl.sum, tl.max, tl.zeros, ...):
# those were built when triton was imported, compiled or interpreted for the whole
# process, and a compiled one cannot be called from the interpreted copy of this module.
# Reductions pass tl.standard's own combine functions to tl.reduce: that is what tl.sum
# and tl.max compile to, and the interpreter maps them to numpy without calling them.


@triton.jit
def _rowmax(x):
    """Max over axis 1 of a 2-D block."""
    return tl.reduce(x, 1, tl.standard._elementwise_max)


@triton.jit
def _rowsum(x):
    """Sum over axis 1 of a 2-D block."""
    return tl.reduce(x, 1, tl.standard._sum_combine)


@triton.jit
def _ctc_rows_fwd_kernel(
    x_ptr,  # (n_rows, V) logits of global rows R0 .. R0 + n_rows - 1, row stride stride_x
    stride_x,
    lse_ptr,  # (B*T,) ACC out: logsumexp of each frame
    lp_ptr,  # (B*T, L+1) ACC out: log-prob of the blank (slot 0) and of each target label
    tgt_ptr,  # (B, L) int32 padded targets
    stride_tgt,
    in_len_ptr,  # (B,) int32
    tgt_len_ptr,  # (B,) int32
    n_rows,
    R0,  # global row (b * T + t) of x_ptr's first row
    T,
    V,
    L,
    blank,
    BLOCK_R: tl.constexpr,  # frames per program
    BLOCK_V: tl.constexpr,
    NUM_V_BLOCKS: tl.constexpr,
    BLOCK_L1: tl.constexpr,
    ACC: tl.constexpr,
):
    local = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)  # (R,)
    in_chunk = local < n_rows
    row = R0 + local
    b = row // T
    t_b = tl.minimum(tl.load(in_len_ptr + b, mask=in_chunk, other=0), T)
    l_b = tl.load(tgt_len_ptr + b, mask=in_chunk, other=0)
    act = in_chunk & (row % T < t_b)  # frames past input_lengths are never read
    x_rows = x_ptr + local[:, None] * stride_x
    # online logsumexp over the vocabulary: a running (max, sum) per lane
    offs = tl.arange(0, BLOCK_V)[None, :]
    m = tl.full([BLOCK_R, BLOCK_V], float("-inf"), ACC)
    acc = tl.full([BLOCK_R, BLOCK_V], 0.0, ACC)
    for i in range(NUM_V_BLOCKS):
        cols = i * BLOCK_V + offs
        x = tl.load(x_rows + cols, mask=act[:, None] & (cols < V), other=float("-inf")).to(ACC)
        m_new = tl.maximum(m, x)
        ms = tl.where(m_new == float("-inf"), 0.0, m_new)
        acc = acc * tl.exp(m - ms) + tl.exp(x - ms)
        m = m_new
    m_all = _rowmax(m)
    m_all = tl.where(m_all == float("-inf"), 0.0, m_all)
    lse = m_all + tl.log(_rowsum(acc * tl.exp(m - m_all[:, None])))
    tl.store(lse_ptr + row, lse, mask=act)
    # the label log-probs of each frame: slot 0 = blank, slot j = targets[b, j-1]
    j = tl.arange(0, BLOCK_L1)[None, :]
    keep = act[:, None] & (j <= l_b[:, None])
    lab = tl.load(tgt_ptr + b[:, None] * stride_tgt + j - 1, mask=keep & (j >= 1), other=0)
    lab = tl.where(j == 0, blank, lab)
    lp = tl.load(x_rows + lab, mask=keep, other=0.0).to(ACC) - lse[:, None]
    tl.store(lp_ptr + row[:, None] * (L + 1) + j, lp, mask=keep)


@triton.jit
def _ctc_recursion_kernel(
    lp_ptr,  # (B*T, L+1) ACC
    tgt_ptr,  # (B, L) int32
    stride_tgt,
    in_len_ptr,
    tgt_len_ptr,
    alpha_ptr,  # (B*T, S) ACC out
    beta_ptr,  # (B*T, S) ACC out, written by the programs with axis-1 id 1
    nll_ptr,  # (B,) ACC out, written by the programs with axis-1 id 0
    B,
    T,
    L,
    S,
    blank,
    BLOCK_B: tl.constexpr,  # utterances per program (1 on a GPU)
    BLOCK_S: tl.constexpr,
    ACC: tl.constexpr,
):
    u = tl.program_id(0).to(tl.int64) * BLOCK_B + tl.arange(0, BLOCK_B)  # (U,) utterances
    direction = tl.program_id(1)  # 0: alpha, forward in time; 1: beta, backward
    in_b = u < B
    t_b = tl.minimum(tl.load(in_len_ptr + u, mask=in_b, other=0), T)
    l_b = tl.load(tgt_len_ptr + u, mask=in_b, other=0)
    s_b = (2 * l_b + 1)[:, None]
    t_max = tl.reduce(t_b, 0, tl.standard._elementwise_max)
    s = tl.arange(0, BLOCK_S)[None, :]
    live = in_b[:, None] & (s < s_b)
    odd = (s % 2) == 1
    tgt_rows = tgt_ptr + u[:, None] * stride_tgt
    lab = tl.where(odd, tl.load(tgt_rows + (s - 1) // 2, mask=odd & live, other=0), blank)
    lp_ptrs = lp_ptr + (u * T * (L + 1))[:, None] + tl.where(odd, (s + 1) // 2, 0)  # row t = 0
    state_ptrs = (u * T * S)[:, None] + s  # offsets of row t = 0

    # Inside the time loops every index is advanced by pointer increments and the loop
    # counter is int64: the interpreter checks each int32 add/sub for overflow, at a
    # cost of milliseconds per operation.
    lp_step = (L + 1).to(tl.int64)
    s_step = S.to(tl.int64)
    if direction == 0:
        # alpha[t, s] = lp[t, s] + lse(alpha[t-1, s], alpha[t-1, s-1], alpha[t-1, s-2] if skip)
        lab_m2 = tl.load(tgt_rows + (s - 3) // 2, mask=odd & live & (s >= 3), other=0)
        skip = odd & live & (s >= 3) & (lab != lab_m2)
        shift1 = live & (s >= 1)
        first = live & (s < 2) & (t_b > 0)[:, None]
        a = tl.load(lp_ptrs, mask=first, other=float("-inf"))
        a = tl.where(first, a, float("-inf"))
        cur_ptrs = alpha_ptr + state_ptrs  # row t (here 0)
        tl.store(cur_ptrs, a, mask=live & (t_b > 0)[:, None])
        prev1_ptrs = cur_ptrs - 1  # row t - 1, shifted by one and two states
        prev2_ptrs = cur_ptrs - 2
        # Rows past an utterance's own T_b (when a program holds several utterances) are
        # computed from garbage and thrown away by the tl.where; the buffers have one
        # spare row at the end, so these reads never leave them.
        t = tl.full([], 1, tl.int64)
        while t < t_max:
            lp_ptrs += lp_step
            cur_ptrs += s_step
            lp = tl.load(lp_ptrs, mask=live, other=float("-inf"))  # issued before the wait
            tl.debug_barrier()  # row t - 1 is visible to every thread
            a1 = tl.load(prev1_ptrs, mask=shift1, other=float("-inf"))
            a2 = tl.load(prev2_ptrs, mask=skip, other=float("-inf"))
            m = tl.maximum(tl.maximum(a, a1), a2)
            m = tl.where(m == float("-inf"), 0.0, m)
            new = m + tl.log(tl.exp(a - m) + tl.exp(a1 - m) + tl.exp(a2 - m)) + lp
            a = tl.where((t < t_b)[:, None], new, a)  # finished utterances keep their last row
            tl.store(cur_ptrs, a, mask=live)
            prev1_ptrs += s_step
            prev2_ptrs += s_step
            t += 1
        # nll = -lse(alpha[T_b - 1, S_b - 1], alpha[T_b - 1, S_b - 2])
        a = tl.where(live & (s >= s_b - 2), a, float("-inf"))
        m = _rowmax(a)
        m = tl.where(m == float("-inf"), 0.0, m)
        nll = -(m + tl.log(_rowsum(tl.exp(a - m[:, None]))))
        nll = tl.where(t_b > 0, nll, tl.where(l_b == 0, 0.0, float("inf")))
        tl.store(nll_ptr + u, nll, mask=in_b)
    else:
        # beta[t, s] = lp[t, s] + lse(beta[t+1, s], beta[t+1, s+1], beta[t+1, s+2] if skip),
        # starting at t = T_b - 1 from lp on the last two states
        lab_p2 = tl.load(tgt_rows + (s + 1) // 2, mask=odd & (s + 2 < s_b), other=0)
        skip = odd & (s + 2 < s_b) & (lab != lab_p2)
        shift1 = s + 1 < s_b
        ends = live & (s >= s_b - 2)
        last_t = (t_b - 1).to(tl.int64)[:, None]
        bt = tl.full([BLOCK_B, BLOCK_S], float("-inf"), ACC)
        t = (t_max - 1).to(tl.int64)
        lp_ptrs += t * lp_step
        cur_ptrs = beta_ptr + state_ptrs + t * s_step  # row t
        next1_ptrs = cur_ptrs + (s_step + 1)  # row t + 1, shifted by one and two states
        next2_ptrs = cur_ptrs + (s_step + 2)
        while t >= 0:
            lp = tl.load(lp_ptrs, mask=live, other=float("-inf"))
            tl.debug_barrier()  # row t + 1 is visible to every thread
            b1 = tl.load(next1_ptrs, mask=shift1, other=float("-inf"))  # unused at t = T_b - 1
            b2 = tl.load(next2_ptrs, mask=skip, other=float("-inf"))
            m = tl.maximum(tl.maximum(bt, b1), b2)
            m = tl.where(m == float("-inf"), 0.0, m)
            new = m + tl.log(tl.exp(bt - m) + tl.exp(b1 - m) + tl.exp(b2 - m)) + lp
            bt = tl.where(t == last_t, tl.where(ends, lp, float("-inf")), tl.where(t < last_t, new, bt))
            tl.store(cur_ptrs, bt, mask=live)  # rows past T_b - 1 get -inf, never read
            lp_ptrs -= lp_step
            cur_ptrs -= s_step
            next1_ptrs -= s_step
            next2_ptrs -= s_step
            t -= 1


@triton.jit
def _ctc_rows_bwd_kernel(
    x_ptr,  # (n_rows, V) logits (may alias g_ptr: the gradient overwrites them in place)
    stride_x,
    g_ptr,  # (n_rows, V) out: gradient
    stride_g,
    lse_ptr,  # (B*T,) ACC
    lp_ptr,  # (B*T, L+1) ACC
    alpha_ptr,  # (B*T, S) ACC
    beta_ptr,  # (B*T, S) ACC
    nll_ptr,  # (B,) ACC raw negative log-likelihoods (inf when infeasible)
    gout_ptr,  # (B,) ACC d(loss)/d(nll_b)
    slab_ptr,  # (B, L+1) int32 labels (blank first) sorted stably, padding slots last
    perm_ptr,  # (B, L+1) int32 slot of each sorted label (0 = blank, j = targets[j-1])
    first_ptr,  # (B, L+1) int32 first sorted position holding the same label
    max_run_ptr,  # (B,) int32 longest run of one label in the sorted row
    occ_ptr,  # (n_rows, L+1) ACC scratch
    in_len_ptr,
    tgt_len_ptr,
    n_rows,
    R0,
    T,
    V,
    L,
    S,
    BLOCK_R: tl.constexpr,
    BLOCK_V: tl.constexpr,
    NUM_V_BLOCKS: tl.constexpr,
    BLOCK_L1: tl.constexpr,
    ACC: tl.constexpr,
    ZERO_INFINITY: tl.constexpr,
):
    local = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)  # (R,)
    in_chunk = local < n_rows
    row = R0 + local
    b = row // T
    t_b = tl.minimum(tl.load(in_len_ptr + b, mask=in_chunk, other=0), T)
    l_b = tl.load(tgt_len_ptr + b, mask=in_chunk, other=0)
    nll = tl.load(nll_ptr + b, mask=in_chunk, other=0.0)
    g = tl.load(gout_ptr + b, mask=in_chunk, other=0.0).to(ACC)
    act = in_chunk & (row % T < t_b)  # padded frames get a zero gradient
    if ZERO_INFINITY:
        act = act & (nll != float("inf"))
    lse = tl.load(lse_ptr + row, mask=act, other=0.0)
    g = g + (nll - nll)  # NaN for an infeasible utterance: its whole row is NaN, as in torch
    x_rows = x_ptr + local[:, None] * stride_x
    g_rows = g_ptr + local[:, None] * stride_g
    # 1. softmax part, g * exp(x - lse), for every vocabulary entry (zeros on dead rows)
    offs = tl.arange(0, BLOCK_V)[None, :]
    for i in range(NUM_V_BLOCKS):
        cols = i * BLOCK_V + offs
        x = tl.load(x_rows + cols, mask=act[:, None] & (cols < V), other=float("-inf")).to(ACC)
        p = tl.where(act[:, None], g[:, None] * tl.exp(x - lse[:, None]), 0.0)
        tl.store(g_rows + cols, p.to(g_ptr.dtype.element_ty), mask=in_chunk[:, None] & (cols < V))
    tl.debug_barrier()  # the label fix-ups below re-read entries other threads wrote
    # 2. occupancy posteriors exp(alpha + beta - lp + nll), one per label slot
    q = tl.arange(0, BLOCK_L1)[None, :]
    valid = act[:, None] & (q <= l_b[:, None])
    ab_rows = row[:, None] * S
    lp_rows = lp_ptr + row[:, None] * (L + 1)
    ab = tl.load(alpha_ptr + ab_rows + 2 * q, mask=valid, other=float("-inf"))
    ab += tl.load(beta_ptr + ab_rows + 2 * q, mask=valid, other=float("-inf"))
    lp0 = tl.load(lp_ptr + row * (L + 1), mask=act, other=0.0)
    occ_blank = _rowsum(tl.where(valid, tl.exp(ab - lp0[:, None] + nll[:, None]), 0.0))
    sort_rows = b[:, None] * (L + 1) + q
    slab = tl.load(slab_ptr + sort_rows, mask=valid, other=-1)
    j = tl.load(perm_ptr + sort_rows, mask=valid, other=0)
    is_lab = valid & (j >= 1)
    ab = tl.load(alpha_ptr + ab_rows + 2 * j - 1, mask=is_lab, other=float("-inf"))
    ab += tl.load(beta_ptr + ab_rows + 2 * j - 1, mask=is_lab, other=float("-inf"))
    lpj = tl.load(lp_rows + j, mask=is_lab, other=0.0)
    occ = tl.where(is_lab, tl.exp(ab - lpj + nll[:, None]), occ_blank[:, None])
    occ = tl.where(valid, occ, 0.0)
    # 3. sum the slots of equal labels (contiguous after the sort) in a fixed order: a
    #    segmented Hillis-Steele scan through a scratch row, ceil(log2(longest run))
    #    rounds; the last slot of each run then holds the run's total
    first = tl.load(first_ptr + sort_rows, mask=valid, other=0)
    next_lab = tl.load(slab_ptr + sort_rows + 1, mask=valid & (q + 1 <= l_b[:, None]), other=-1)
    last = valid & (slab != next_lab)
    occ_rows = occ_ptr + local[:, None] * (L + 1) + q
    max_run = tl.reduce(tl.load(max_run_ptr + b, mask=act, other=0), 0, tl.standard._elementwise_max)
    off = 1
    while off < max_run:
        tl.store(occ_rows, occ, mask=valid)
        tl.debug_barrier()
        occ += tl.load(occ_rows - off, mask=valid & (q - off >= first), other=0.0)
        tl.debug_barrier()  # every read of this round precedes the next round's store
        off *= 2
    # 4. grad[label] = g * softmax[label] - g * occupancy[label], once per distinct label
    cur = tl.load(g_rows + slab, mask=last, other=0.0).to(ACC)
    tl.store(g_rows + slab, (cur - g[:, None] * occ).to(g_ptr.dtype.element_ty), mask=last)


# --------------------------------------------------------------------------- launching


def _is_interpreted(fn) -> bool:
    return type(fn).__name__ == "InterpretedFunction"


INTERPRETED = _is_interpreted(_ctc_rows_fwd_kernel)  # how *this* copy's kernels were built


@functools.lru_cache(maxsize=None)
def _interpreter_copy():
    """This module loaded a second time with Triton's interpreter switched on."""
    knobs = triton.knobs.runtime
    had_knob = "interpret" in knobs.__dict__
    old_knob = knobs.__dict__.get("interpret")
    old_env = os.environ.get("TRITON_INTERPRET")
    knobs.interpret = True
    try:
        spec = importlib.util.spec_from_file_location(__name__ + "_interpreted", __file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if had_knob:
            knobs.__dict__["interpret"] = old_knob
        else:
            knobs.__dict__.pop("interpret", None)
        if old_env is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = old_env
    assert module.INTERPRETED, "could not build interpreted Triton kernels"
    return module


def _kernels(device: torch.device):
    """The module whose kernels run on ``device``: compiled for CUDA, interpreted for CPU."""
    if device.type == "cuda" or INTERPRETED:
        return sys.modules[__name__]
    return _interpreter_copy()


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
        k = _kernels(logits.device)
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
        _rows_backward(_kernels(x.device), x, grad, plan, lse, lp, alpha, beta, nll, gout, 0, ctx.zero_infinity)
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
        k = _kernels(hidden.device)
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
        k = _kernels(h.device)
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
