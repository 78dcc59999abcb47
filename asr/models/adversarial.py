"""Domain-adversarial training (Ganin & Lempitsky 2015): gradient reversal and a domain classifier.

Usage::

    domain_logits = DomainClassifier(d_model, n_speakers)(hidden, lengths, lambd=0.5)   # (B, T', D) -> (B, C)
    loss = asr_loss + F.cross_entropy(domain_logits, speaker_ids)   # the encoder learns to hide the speaker
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from asr.models.heads import masked_mean

__all__ = ["GradReverse", "grad_reverse", "dann_lambda", "DomainClassifier"]


class GradReverse(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by ``-lambd``."""

    @staticmethod
    def forward(ctx, x: Tensor, lambd: float) -> Tensor:  # noqa: D102
        ctx.lambd = float(lambd)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # noqa: D102
        return -ctx.lambd * grad, None


def grad_reverse(x: Tensor, lambd: float = 1.0) -> Tensor:
    """Gradient reversal: ``x`` unchanged (any shape); its gradient is multiplied by ``-lambd``."""
    return GradReverse.apply(x, lambd)


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """Ganin's schedule of the reversal strength: ``2 / (1 + exp(-gamma p)) - 1`` for progress ``p`` in [0, 1]."""
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


class DomainClassifier(nn.Module):
    """Utterance-level domain / speaker classifier behind a gradient-reversal layer.

    ``hidden (B, T', D)`` -> reverse gradient -> mean over valid frames -> MLP -> ``(B, C)``
    logits; train it with cross-entropy added to the ASR loss, so the classifier
    learns the domain and the encoder learns to hide it.

    Args:
        input_dim: ``D``.
        num_classes: ``C`` domains or speakers.
        hidden_dim: MLP width.
    """

    def __init__(self, input_dim: int, num_classes: int, hidden_dim: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, num_classes))

    def forward(self, hidden: Tensor, lengths: Tensor, lambd: float = 1.0) -> Tensor:
        """``hidden (B, T', D)``, ``lengths (B,)``, reversal strength -> logits ``(B, C)``."""
        h = grad_reverse(hidden, lambd)
        return self.net(masked_mean(h, lengths))  # (B, D) -> (B, C)
