"""The CTC loss interface of the toolkit: one function, batch-first, unnormalized logits.

``ctc_loss`` is what the training loop calls. With ``impl='auto'`` it runs the fused
Triton kernels (:mod:`asr.losses.fused_ctc`) on CUDA and torch's ``F.ctc_loss`` on the
CPU (log-softmax in float32, transposed to torch's (T, B, V) layout).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["ctc_loss"]

IMPLS = ("auto", "torch", "fused")


def ctc_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = True,
    impl: str = "auto",
) -> torch.Tensor:
    """CTC loss of ``logits (B, T, V)`` (unnormalized) against ``targets``.

    Args:
        logits: (B, T, V) scores before log-softmax, batch first.
        targets: (B, L) padded label ids, or torch's concatenated (sum(L),) layout.
        input_lengths: (B,) valid frames of each utterance.
        target_lengths: (B,) labels of each utterance.
        blank: id of the blank symbol.
        reduction: 'mean' (each loss over its target length, then the batch mean),
            'sum' or 'none' (B,), as in ``torch.nn.functional.ctc_loss``.
        zero_infinity: infeasible utterances (too few frames) count 0 instead of inf.
        impl: 'auto' (fused on CUDA, torch elsewhere), 'torch', or 'fused' (on CPU
            tensors the fused kernels run in Triton's interpreter: slow, for tests).

    Returns:
        The loss: a scalar, or (B,) with reduction='none'; float32 for fp32/bf16/fp16
        logits, float64 for float64 logits.
    """
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "auto":
        impl = "fused" if logits.is_cuda and _fused_available() else "torch"
    if impl == "fused":
        from asr.losses.fused_ctc import fused_ctc_loss

        return fused_ctc_loss(logits, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)
    return _torch_ctc_loss(logits, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)


def _torch_ctc_loss(logits, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    """torch's CTC on log_softmax(logits) in float32 (float64 kept), (T, B, V) layout."""
    if logits.dtype != torch.float64:
        logits = logits.float()
    log_probs = logits.log_softmax(-1).transpose(0, 1)  # (T, B, V)
    return F.ctc_loss(
        log_probs,
        targets,
        torch.as_tensor(input_lengths),
        torch.as_tensor(target_lengths),
        blank=blank,
        reduction=reduction,
        zero_infinity=zero_infinity,
    )


_FUSED_OK: bool | None = None


def _fused_available() -> bool:
    """True when triton imports (it ships with CUDA builds of torch)."""
    global _FUSED_OK
    if _FUSED_OK is None:
        try:
            import asr.losses.fused_ctc  # noqa: F401

            _FUSED_OK = True
        except ImportError:
            _FUSED_OK = False
    return _FUSED_OK
