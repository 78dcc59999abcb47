"""Learning hidden unit contributions (LHUC, Swietojanski and Renals 2014): speaker-adaptive unit scales.

Adaptation to one speaker trains only a scale per hidden unit, ``a = 2 * sigmoid(r)`` in ``(0, 2)``
(``r = 0``: the unadapted model), everything else frozen: few parameters, so few utterances do not
over-fit them. Here the scale multiplies the output of every affine normalization layer (batch norm
after each TDNN / MLP layer of the hybrid classifier, layer norm in a Conformer), which is the same
as scaling that layer's ``weight`` and ``bias``: the scales are torch parametrizations of those two
tensors, and :func:`fold_lhuc` multiplies them in, so an adapted model has the architecture (and
the checkpoint format) of the one it came from.

Usage::

    scales = add_lhuc(model)                    # every other parameter frozen
    optimizer = torch.optim.Adam(scales, lr=1e-2)
    ...                                          # train on the speaker's utterances
    fold_lhuc(model)                             # plain weights again; every parameter trainable
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

__all__ = ["LhucScale", "lhuc_targets", "add_lhuc", "fold_lhuc"]

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)


class LhucScale(nn.Module):
    """The parametrization ``w -> w * 2 * sigmoid(r)`` of a ``(C,)`` weight or bias (``r``: ``(C,)``)."""

    def __init__(self, units: int):
        """``units`` scales, all 1 (``r = 0``)."""
        super().__init__()
        self.r = nn.Parameter(torch.zeros(units))

    def scale(self) -> Tensor:
        """``(C,)`` unit scales in ``(0, 2)``."""
        return 2.0 * torch.sigmoid(self.r)

    def forward(self, w: Tensor) -> Tensor:
        """``(C,)`` -> ``(C,)``: ``w`` scaled unit by unit."""
        return w * self.scale()


def lhuc_targets(model: nn.Module) -> list[nn.Module]:
    """The normalization layers with a per-unit ``weight`` and ``bias`` (where LHUC scales go)."""
    out = []
    for m in model.modules():
        if isinstance(m, _NORMS) and isinstance(getattr(m, "weight", None), Tensor) \
                and isinstance(getattr(m, "bias", None), Tensor) and m.weight.dim() == 1:
            out.append(m)
    return out


def add_lhuc(model: nn.Module, modules: Iterable[nn.Module] | None = None) -> list[nn.Parameter]:
    """Freeze ``model`` and put one LHUC scale vector on each of ``modules`` (default: :func:`lhuc_targets`).

    Returns:
        The new trainable parameters (one ``(C,)`` vector per layer), for the optimizer.

    Raises:
        ValueError: no layer to scale, or a layer that already has LHUC scales.
    """
    targets = list(lhuc_targets(model) if modules is None else modules)
    if not targets:
        raise ValueError(f"LHUC: {type(model).__name__} has no normalization layer with a weight and a bias")
    for p in model.parameters():
        p.requires_grad_(False)
    scales: list[nn.Parameter] = []
    for m in targets:
        if parametrize.is_parametrized(m):
            raise ValueError(f"LHUC: {type(m).__name__} is parametrized already (fold_lhuc first)")
        lhuc = LhucScale(m.weight.shape[0]).to(m.weight.device)
        parametrize.register_parametrization(m, "weight", lhuc)  # the same module: one r scales both
        parametrize.register_parametrization(m, "bias", lhuc)
        scales.append(lhuc.r)
    return scales


def fold_lhuc(model: nn.Module) -> int:
    """Multiply every LHUC scale into its layer's weight and bias, remove the parametrizations and make
    every parameter trainable again. Returns the number of layers folded."""
    folded = 0
    for m in model.modules():
        if not parametrize.is_parametrized(m):
            continue
        lists = m.parametrizations
        if not any(isinstance(p, LhucScale) for name in ("weight", "bias") if name in lists for p in lists[name]):
            continue
        for name in ("weight", "bias"):
            if name in lists:
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
        folded += 1
    for p in model.parameters():
        p.requires_grad_(True)
    return folded
