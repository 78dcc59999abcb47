"""asr.losses: the CTC loss interface and its fused Triton implementation.

``ctc_loss`` is the one interface (fused kernels on CUDA, torch's CTC on CPU);
``fused_ctc_loss`` / ``fused_linear_ctc_loss`` are the Triton kernels themselves,
imported on first use so that importing ``asr.losses`` does not import triton.
"""

from asr.losses.ctc import ctc_loss

__all__ = ["ctc_loss", "fused_ctc_loss", "fused_linear_ctc_loss"]


def __getattr__(name: str):
    if name in ("fused_ctc_loss", "fused_linear_ctc_loss"):
        from asr.losses import fused_ctc

        return getattr(fused_ctc, name)
    raise AttributeError(f"module 'asr.losses' has no attribute {name!r}")
