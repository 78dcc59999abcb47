"""Transfer learning: fine-tuning policies, L2-SP, layer transfer, progressive columns, gradient reversal.

Every policy is a small function over a model with ``frontend``, ``encoder``
(blocks in ``encoder.layers``) and heads (everything else), i.e. a
:class:`~asr.models.ctc.CTCModel` or a :class:`~asr.models.multilingual.MultilingualCTC`;
:func:`finetune_config` is the target structure of fine-tuning a pre-trained model
directory on one language (what ``asr finetune`` trains).
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
    from_pretrained(src_dir, cfg, rename=layer_transfer_rename(4, k=3))  # the same, at load time
    model.encoder = ProgressiveColumn(pretrained.encoder)    # progressive network
    domain_logits = DomainClassifier(d_model, n_speakers)(hidden, lengths, lambd=0.5)
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from asr.models.adversarial import DomainClassifier, GradReverse, dann_lambda, grad_reverse  # re-exported
from asr.models.encoders import Encoder
from asr.models.multilingual import FORMAT, MultilingualConfig, load_multilingual_dir
from asr.models.pretrained import pretrained_base, read_any_config
from asr.models.progressive import ProgressiveColumn, reinit_module  # re-exported
from asr.text.tokenizer import Tokenizer

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
    "layer_transfer_rename",
    "ProgressiveColumn",
    "GradReverse",
    "grad_reverse",
    "DomainClassifier",
    "dann_lambda",
    "finetune_config",
]

POLICIES = ("head", "top-k", "full", "l2sp")
SHARED_PREFIXES = ("frontend.", "encoder.")  # parameter names of the shared (pre-trained) part


def _set_requires_grad(params: Iterable[nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)


def unfreeze_all(model: nn.Module) -> list[str]:
    """Full fine-tuning: every parameter trainable, except the frozen source column of a
    :class:`ProgressiveColumn` (which never trains). Returns the trainable names."""
    _set_requires_grad(model.parameters(), True)
    for m in model.modules():
        if isinstance(m, ProgressiveColumn):
            _set_requires_grad(m.source.parameters(), False)
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


def layer_transfer_rename(num_layers: int, k: int, prefix: str = "encoder.") -> dict[str, str]:
    """Checkpoint-name renames that keep blocks ``k..num_layers-1`` out of a load.

    For :func:`~asr.models.pretrained.from_pretrained` (``rename=``) or
    ``train_multilingual(init_rename=...)``: the renamed tensors are "unexpected"
    and skipped, so those blocks keep the new model's fresh initialisation while
    the frontend, the subsampling and blocks ``0..k-1`` are copied (the layer-transfer
    experiment with the model's own initialiser, instead of :func:`transfer_layers`'s
    re-initialisation in place).

    Raises:
        ValueError: ``k`` outside ``[0, num_layers]``.
    """
    if not 0 <= k <= num_layers:
        raise ValueError(f"k={k} is outside [0, {num_layers}]")
    return {f"{prefix}layers.{i}.": f"not_transferred.{prefix}layers.{i}." for i in range(k, num_layers)}


# ---------------------------------------------------------------------------
# Domain-adversarial training (Ganin & Lempitsky 2015); GradReverse and
# DomainClassifier live in asr.models.adversarial (the model's speaker head uses them)
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# The target structure of fine-tuning a pre-trained model directory on one language
# ---------------------------------------------------------------------------


def _same_symbols(a: Any, b: Any) -> bool:
    """Two tokenizers with the same kind and the same id -> symbol table."""
    ta, tb = getattr(a, "table", None), getattr(b, "table", None)
    if ta is None or tb is None:
        return False
    return a.kind == b.kind and list(ta.symbols) == list(tb.symbols)


def finetune_config(
    init_from: str | os.PathLike, lang: str, tokenizer: Tokenizer
) -> tuple[MultilingualConfig, dict[str, Tokenizer], Tokenizer | None, dict[str, str]]:
    """The target structure for fine-tuning ``init_from`` on ``lang``.

    Returns:
        ``(cfg, tokenizers, phone_tokenizer, rename)``: a
        :class:`~asr.models.multilingual.MultilingualConfig` (the pre-trained one with
        ``lang``'s head set to ``tokenizer``'s size, or a one-language config over a
        monolingual model's encoder, whose output layer becomes ``lang``'s head when its
        symbols are ``tokenizer``'s), the tokenizers to save (pre-trained ones of the
        other languages + ``tokenizer``), the pre-trained phone tokenizer (or ``None``),
        and the prefix renames for :func:`~asr.models.pretrained.from_pretrained`
        (moving a same-language head with another symbol table out of the way).
    """
    config = read_any_config(init_from)
    rename: dict[str, str] = {}
    if config["format"] != FORMAT:  # monolingual CTC: its output layer "head.*" is kept if the symbols are the same
        from asr.text.tokenizer import load_tokenizer

        cfg = MultilingualConfig(base=pretrained_base(init_from), languages=(lang,),
                                 vocab_sizes=(tokenizer.vocab_size,))
        if (Path(init_from) / "tokenizer.json").is_file() and _same_symbols(load_tokenizer(init_from), tokenizer):
            rename["head."] = f"heads.{lang}."
        return cfg, {lang: tokenizer}, None, rename
    _, old_tokenizers, old_cfg = load_multilingual_dir(init_from)
    phone_tokenizer = old_tokenizers.pop("<phones>", None)
    if lang in old_cfg.languages and not _same_symbols(old_tokenizers.get(lang), tokenizer):
        rename[f"heads.{lang}."] = f"replaced_heads.{lang}."  # -> "unexpected": the head starts fresh
    cfg = old_cfg.with_language(lang, tokenizer.vocab_size)
    tokenizers = {k: v for k, v in old_tokenizers.items() if k != lang}
    tokenizers[lang] = tokenizer
    return cfg, tokenizers, phone_tokenizer, rename
