"""The Triton kernels of the fused CTC loss; :mod:`asr.losses.fused_ctc` launches them.

The loss is computed by three kernels (``N = B * T`` frames, ``L`` the
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
(ceil(log2(longest run)) rounds), so results are bitwise deterministic.

Memory traffic at fp32, B=32, T=1000, L=200: the logits are read twice and the gradient
written once (3 * B*T*V*4 bytes: 192 MB at V=500, 1.9 GB at V=5000), plus lp (26 MB),
alpha and beta (51 MB each) written once and read once. Kernel 2 is latency-bound: one
barrier and one dependent L1/L2 round trip per frame.

:func:`kernels_for` picks the copy that runs on a device: this module (compiled, for
CUDA tensors) or, for CPU tensors, this module loaded a second time with Triton's
interpreter switched on, whatever ``TRITON_INTERPRET`` said when triton was imported.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys

import torch
import triton
import triton.language as tl

__all__ = ["INTERPRETED", "kernels_for"]


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


# --------------------------------------------------------------------------- which copy runs


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
        sys.modules[spec.name] = module  # so that the copy's own kernels_for finds itself
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


def kernels_for(device: torch.device):
    """The module whose kernels run on ``device``: compiled for CUDA, interpreted for CPU."""
    if device.type == "cuda" or INTERPRETED:
        return sys.modules[__name__]
    return _interpreter_copy()
