"""Transfer learning: fine-tuning policies, L2-SP, layer transfer, progressive columns, gradient reversal.

Every policy is a small function over a model with ``frontend``, ``encoder``
(blocks in ``encoder.layers``) and heads (everything else), i.e. a
:class:`~asr.models.ctc.CTCModel` or a :class:`~asr.models.multilingual.MultilingualCTC`.
Freezing sets ``requires_grad = False``: a frozen parameter gets no gradient,
so every torch optimizer (AdamW's weight decay included) leaves it untouched.

=================  ===================================================================
policy             trains
=================  ===================================================================
``head``           the heads only (:func:`freeze_encoder`)
``top-k``          the heads and the last ``k`` encoder blocks (:func:`unfreeze_top_k`)
``full``           everything (:func:`unfreeze_all`)
``l2sp``           everything, plus ``alpha / 2 * ||w - w_pretrained||^2`` on the shared part
=================  ===================================================================

Usage::

    model, report = from_pretrained("exp/ml/model", cfg)     # new head for the target language
    apply_policy(model, "top-k", k=2)
    reference = reference_state(model)                      # for L2-SP
    optimizer = torch.optim.AdamW(trainable_parameters(model), lr=1e-4)
    loss = task_loss + l2sp_penalty(model, reference, alpha=1e-2)

    transfer_layers(pretrained.encoder, model.encoder, k=3)  # layer-transfer experiment
    model.encoder = ProgressiveColumn(pretrained.encoder)    # progressive network
    domain_logits = DomainClassifier(d_model, n_speakers)(hidden, lengths, lambd=0.5)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

from asr.models.encoders import Encoder, padding_mask

__all__ = [
    "POLICIES",
    "SHARED_PREFIXES",
    "apply_policy",
    "freeze_encoder",
    "unfreeze_top_k",
    "unfreeze_all",
    "trainable_parameters",
    "reference_state",
    "l2sp_penalty",
    "reinit_module",
    "transfer_layers",
    "ProgressiveColumn",
    "GradReverse",
    "grad_reverse",
    "DomainClassifier",
    "dann_lambda",
]

POLICIES = ("head", "top-k", "full", "l2sp")
SHARED_PREFIXES = ("frontend.", "encoder.")  # parameter names of the shared (pre-trained) part


def _set_requires_grad(params: Iterable[nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)


def unfreeze_all(model: nn.Module) -> list[str]:
    """Full fine-tuning: every parameter trainable. Returns the trainable names."""
    _set_requires_grad(model.parameters(), True)
    return [n for n, p in model.named_parameters() if p.requires_grad]


def freeze_encoder(model: nn.Module) -> list[str]:
    """Train the heads only: ``frontend`` and ``encoder`` frozen. Returns the trainable names."""
    return unfreeze_top_k(model, 0)


def unfreeze_top_k(model: nn.Module, k: int) -> list[str]:
    """Freeze the frontend and encoder except its last ``k`` blocks; heads stay trainable.

    ``k = 0`` is :func:`freeze_encoder`; ``k >= len(encoder.layers)`` leaves only
    the subsampling (and frontend) frozen.

    Returns:
        The trainable parameter names.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    unfreeze_all(model)
    _set_requires_grad(model.frontend.parameters(), False)
    _set_requires_grad(model.encoder.parameters(), False)
    layers = model.encoder.layers
    for layer in list(layers)[max(len(layers) - k, 0) :]:
        _set_requires_grad(layer.parameters(), True)
    return [n for n, p in model.named_parameters() if p.requires_grad]


def apply_policy(model: nn.Module, policy: str, k: int = 0) -> list[str]:
    """Set ``requires_grad`` for a policy of :data:`POLICIES` (``l2sp`` trains everything).

    Returns:
        The trainable parameter names.

    Raises:
        ValueError: unknown policy.
    """
    if policy == "head":
        return freeze_encoder(model)
    if policy == "top-k":
        return unfreeze_top_k(model, k)
    if policy in ("full", "l2sp"):
        return unfreeze_all(model)
    raise ValueError(f"unknown fine-tuning policy {policy!r}; known: {', '.join(POLICIES)}")


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters with ``requires_grad`` (what to give the optimizer)."""
    return [p for p in model.parameters() if p.requires_grad]


# ---------------------------------------------------------------------------
# L2-SP (Li et al. 2018): an L2 pull toward the starting point
# ---------------------------------------------------------------------------


def reference_state(model: nn.Module, prefixes: tuple[str, ...] = SHARED_PREFIXES) -> dict[str, Tensor]:
    """Detached copies of the parameters under ``prefixes`` (the pre-trained starting point)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith(prefixes)}


def l2sp_penalty(model: nn.Module, reference: Mapping[str, Tensor], alpha: float) -> Tensor:
    """``alpha / 2 * sum ||w - w0||^2`` over the trainable parameters named in ``reference``.

    New parameters (heads, anything absent from ``reference`` or of another
    shape) are not pulled; the penalty's gradient ``alpha * (w - w0)`` points
    from the reference to ``w``, so a descent step moves ``w`` back toward it.

    Args:
        model: the model being fine-tuned.
        reference: name -> tensor, from :func:`reference_state` before fine-tuning.
        alpha: strength.

    Returns:
        A float32 scalar (0 at the reference).
    """
    total: Tensor | None = None
    for name, p in model.named_parameters():
        ref = reference.get(name)
        if ref is None or not p.requires_grad or ref.shape != p.shape:
            continue
        term = (p.float() - ref.to(p.device, torch.float32)).square().sum()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros((), device=next(model.parameters()).device)
    return 0.5 * alpha * total


# ---------------------------------------------------------------------------
# Layer transfer
# ---------------------------------------------------------------------------


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


def transfer_layers(src_encoder: Encoder, dst_encoder: Encoder, k: int) -> list[str]:
    """Copy the subsampling (everything outside ``layers``) and the first ``k`` blocks; re-init the rest.

    Args:
        src_encoder: the pre-trained encoder.
        dst_encoder: the target encoder, same structure (``len(layers)`` may differ).
        k: blocks to copy (``0 <= k <= min(len(src.layers), len(dst.layers))``).

    Returns:
        The names (in ``dst_encoder``) of the copied tensors.

    Raises:
        ValueError: ``k`` out of range or a shape mismatch.
    """
    if not 0 <= k <= min(len(src_encoder.layers), len(dst_encoder.layers)):
        raise ValueError(f"k={k} is outside [0, {min(len(src_encoder.layers), len(dst_encoder.layers))}]")
    src = src_encoder.state_dict()
    copied: list[str] = []
    with torch.no_grad():
        for name, t in dst_encoder.state_dict().items():
            if name.startswith("layers."):
                i = int(name.split(".")[1])
                if i >= k:
                    continue
            if name not in src or src[name].shape != t.shape:
                raise ValueError(f"cannot copy {name}: source {tuple(src[name].shape) if name in src else None} "
                                 f"vs target {tuple(t.shape)}")
            t.copy_(src[name])
            copied.append(name)
        for layer in list(dst_encoder.layers)[k:]:
            reinit_module(layer)
    return copied


# ---------------------------------------------------------------------------
# Progressive networks (Rusu et al. 2016)
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Domain-adversarial training (Ganin & Lempitsky 2015)
# ---------------------------------------------------------------------------


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
        valid = padding_mask(lengths, h.shape[1]).to(h.dtype)[:, :, None]  # (B, T', 1)
        pooled = (h * valid).sum(1) / valid.sum(1).clamp(min=1.0)  # (B, D)
        return self.net(pooled)


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """Ganin's schedule of the reversal strength: ``2 / (1 + exp(-gamma p)) - 1`` for progress ``p`` in [0, 1]."""
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0
