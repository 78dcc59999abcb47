"""Progressive columns (Rusu et al. 2016): a new encoder beside a frozen pre-trained one, with laterals.

Usage::

    model.encoder = ProgressiveColumn(pretrained.encoder)   # new column, re-initialised
    y, lengths = model.encoder(feats, feat_lengths)          # (B, T, F) -> (B, T', D), (B,)
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from asr.models.encoders import Encoder, padding_mask

__all__ = ["ProgressiveColumn", "reinit_module"]


def reinit_module(module: nn.Module) -> None:
    """Re-initialise ``module`` in place: ``reset_parameters()`` of every submodule that has one,
    Xavier-uniform for parameters held directly by modules without it (e.g. attention position biases)."""
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
        else:
            for p in sub.parameters(recurse=False):
                if p.dim() >= 2:
                    nn.init.xavier_uniform_(p)
                else:
                    nn.init.zeros_(p)


class ProgressiveColumn(Encoder):
    """A new encoder column with lateral connections from a frozen pre-trained column.

    ``h_new[0] = embed_new(x) + U_0 h_src[0]``, then before block ``i``
    ``h_new[i] += U_i h_src[i]`` and at the output ``y = h_new[L] + U_L h_src[L]``,
    where ``h_src[i]`` is the source column's input to block ``i`` (``h_src[L]`` its
    output) and ``U_i`` are linear laterals (zero-initialised, so training starts
    from the new column alone). The source column is frozen, run without
    gradient and kept in eval mode: its outputs can never change.

    A drop-in for a model's ``encoder``: ``forward(x (B, T, F), lengths (B,)) -> (B, T', D), (B,)``.

    Args:
        source: the pre-trained encoder (frozen in place).
        column: the new column, same input dimension and subsampling
            (default: a deep copy of ``source``, re-initialised).
        init_from_source: start the new column from the source's weights instead.
    """

    def __init__(self, source: Encoder, column: Encoder | None = None, init_from_source: bool = False):
        super().__init__()
        if column is None:
            column = copy.deepcopy(source)
            if not init_from_source:
                for layer in column.layers:
                    reinit_module(layer)
                reinit_module(column.subsampling_module)
        for p in column.parameters():
            p.requires_grad_(True)
        self.source = source.eval()
        for p in self.source.parameters():
            p.requires_grad_(False)
        self.column = column
        self.layers = column.layers  # the trainable blocks, for the freezing policies
        self.output_dim = column.output_dim
        d_src, d_new = source.output_dim, column.output_dim
        self.laterals = nn.ModuleList(nn.Linear(d_src, d_new) for _ in range(len(column.layers) + 1))
        for lateral in self.laterals:
            nn.init.zeros_(lateral.weight)
            nn.init.zeros_(lateral.bias)
        if len(source.layers) != len(column.layers):
            raise ValueError(f"source has {len(source.layers)} blocks, column {len(column.layers)}")

    def train(self, mode: bool = True) -> ProgressiveColumn:
        """Train mode for the new column and laterals; the source column stays in eval mode."""
        super().train(mode)
        self.source.eval()
        return self

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """``(B,)`` input frames -> ``(B,)`` output frames (those of the new column)."""
        return self.column.output_lengths(lengths)

    def source_states(self, x: Tensor, lengths: Tensor) -> tuple[list[Tensor], Tensor]:
        """The frozen column's block inputs and output: ``L + 1`` tensors ``(B, T', D_src)``, ``(B,)``."""
        with torch.no_grad():
            h, out_lengths, ctx = self.source.embed(x, lengths)
            states = [h]
            for i in range(len(self.source.layers) if h.shape[1] else 0):
                h = self.source.run_layer(i, h, out_lengths, ctx)
                states.append(h)
        return states, out_lengths

    def forward(self, x: Tensor, lengths: Tensor, num_layers: int | None = None) -> tuple[Tensor, Tensor]:
        """``x (B, T, F)``, ``lengths (B,)`` -> ``y (B, T', D)`` (zero past each length), ``(B,)``."""
        src, _ = self.source_states(x, lengths)
        h, out_lengths, ctx = self.column.embed(x, lengths)
        if h.shape[1] == 0:
            return h, out_lengths
        n = len(self.column.layers) if num_layers is None else num_layers
        for i in range(n):
            h = h + self.laterals[i](src[i])
            h = self.column.run_layer(i, h, out_lengths, ctx)
        h = h + self.laterals[n](src[n])
        return h.masked_fill(~padding_mask(out_lengths, h.shape[1])[:, :, None], 0.0), out_lengths
