"""Multilingual multi-task CTC: one shared encoder, one CTC head per language, optional phone and language-ID heads.

The anchors: Kaldi's ``babel_multilang`` (shared hidden layers, one output
layer per language) and Allosaurus (a universal phone layer whose logits are
masked, per language, to that language's phone inventory).

::

    wav (B, S) -> frontend -> SpecAugment -> shared encoder -> hidden (B, T', D)
        |-> heads[lang]   CTC over that language's tokens   (rows of language lang only)
        |-> phone_head    CTC over the universal phone set, masked per language (probability 0 outside)
        |-> lang_head     utterance-level language ID on the mean-pooled hidden states
        '-> domain_head   adversarial domain (speaker) classifier behind a gradient-reversal layer

With ``progressive=True`` the encoder is a :class:`ProgressiveColumn`: a frozen
pre-trained column and a new one reading it through lateral connections.

Every head can be switched off in :class:`MultilingualConfig`. A batch may mix
languages: each utterance goes through its own language's head only, so a
batch without language ``B`` leaves ``heads["B"]`` without a gradient.

Labels: ``batch["tokens"] (B, L)`` / ``batch["token_lengths"] (B,)`` and
``batch["phones"] (B, Lp)`` / ``batch["phone_lengths"] (B,)``; a length of
``-1`` (or a missing key) marks an utterance without that label, which then
contributes nothing to that task (masked, not dropped: it still trains the
other tasks). See :func:`multitask_loss`.

Usage::

    cfg = MultilingualConfig(base=ModelConfig.preset("tiny"), languages=("en", "de"),
                             vocab_sizes=(30, 34), num_phones=60,
                             phone_inventories=(en_phone_ids, de_phone_ids), lang_id=True)
    model = MultilingualCTC(cfg)
    out = model(wav, wav_lengths, langs=["en", "de", "en"])
    loss, parts = multitask_loss(out, batch, {"ctc": 1.0, "phone": 0.3, "lid": 0.1})

    save_multilingual_dir("exp/ml/model", model, {"en": tok_en, "de": tok_de})
    model, tokenizers, cfg = load_multilingual_dir("exp/ml/model")

    # fine-tune on a new language, reusing whatever matches (ESPnet's ignore_init_mismatch):
    cfg = MultilingualConfig(base=pretrained_base("exp/ml/model"), languages=("sw",), vocab_sizes=(40,))
    model, report = from_pretrained("exp/ml/model", cfg)
    print(report.summary())
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.features import FeatureExtractor, GlobalCMVN, SpecAugment
from asr.losses.ctc import ctc_loss
from asr.models.ctc import (
    FORMAT as CTC_FORMAT,
    MODEL_CONFIG,
    MODEL_WEIGHTS,
    ModelConfig,
    cpu_state_dict,
    read_model_config,
)
from asr.models.encoders import Encoder, padding_mask
from asr.registry import lookup
from asr.text.tokenizer import Tokenizer, load_tokenizer

__all__ = [
    "MultilingualConfig",
    "MultilingualCTC",
    "multitask_loss",
    "DEFAULT_WEIGHTS",
    "LoadReport",
    "load_matching_state_dict",
    "from_pretrained",
    "pretrained_base",
    "save_multilingual_dir",
    "load_multilingual_dir",
    "read_multilingual_config",
    "FORMAT",
    "ProgressiveColumn",
    "GradReverse",
    "grad_reverse",
    "DomainClassifier",
    "reinit_module",
]

log = logging.getLogger(__name__)

FORMAT = "asr.multilingual"  # config.json "format"
FORMAT_VERSION = 1
TOKENIZERS_DIR = "tokenizers"  # tokenizers/<lang>/ inside a model directory
PHONE_TOKENIZER_DIR = "phone_tokenizer"
DEFAULT_WEIGHTS: dict[str, float] = {"ctc": 1.0, "phone": 0.3, "lid": 0.1, "domain": 0.1}  # task -> loss weight
ABSENT = -1  # a label length marking "this utterance has no label for this task"
# Logit of a phone outside a language's inventory. Finite, unlike Allosaurus' -inf, so the CTC
# backward never meets -inf - -inf; exp(-1e4 - max) is exactly 0 in float32/bf16, so such phones
# still get exactly zero probability.
MASKED_LOGIT = -1e4


# ---------------------------------------------------------------------------
# Transfer-learning blocks: progressive columns (Rusu et al. 2016) and
# gradient reversal (Ganin & Lempitsky 2015). Re-exported by asr.train.finetune.
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


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MultilingualConfig:
    """Structure of a :class:`MultilingualCTC` (saved in ``config.json``).

    Attributes:
        base: the shared frontend + encoder (its ``vocab_size`` is unused).
        languages: language codes, one token head each (no ``.`` in a code).
        vocab_sizes: tokens of each language's head (blank id 0 included), aligned with ``languages``.
        token_heads: per-language CTC heads on/off.
        num_phones: size ``P`` of the universal phone head (blank 0 included); 0 = no phone head.
        phone_inventories: per language, the phone ids it uses (Allosaurus masks); an empty
            tuple (or no entry at all) allows every phone. Blank is always allowed.
        lang_id: utterance-level language-ID head on/off.
        head_dropout: dropout on the hidden states before every head.
        num_domains: classes of the adversarial domain (e.g. speaker) classifier behind a
            gradient-reversal layer on the encoder output; 0 = no such head.
        progressive: the encoder is a :class:`ProgressiveColumn`: a frozen source column
            (``encoder.source.*``, loaded from a pre-trained model) and a new trainable one
            (``encoder.column.*``) with lateral connections.
    """

    base: ModelConfig = field(default_factory=lambda: ModelConfig.preset("tiny"))
    languages: tuple[str, ...] = ()
    vocab_sizes: tuple[int, ...] = ()
    token_heads: bool = True
    num_phones: int = 0
    phone_inventories: tuple[tuple[int, ...], ...] = ()
    lang_id: bool = False
    head_dropout: float = 0.1
    num_domains: int = 0
    progressive: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", tuple(self.languages))
        object.__setattr__(self, "vocab_sizes", tuple(int(v) for v in self.vocab_sizes))
        inventories = tuple(tuple(int(p) for p in inv) for inv in self.phone_inventories)
        object.__setattr__(self, "phone_inventories", inventories)
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages must be unique, got {self.languages}")
        bad = [lang for lang in self.languages if not lang or "." in lang]
        if bad:
            raise ValueError(f"language codes must be non-empty and contain no '.', got {bad}")
        if self.token_heads and len(self.vocab_sizes) != len(self.languages):
            raise ValueError(f"{len(self.languages)} languages but {len(self.vocab_sizes)} vocab_sizes")
        small = [v for v in self.vocab_sizes if v < 2]
        if small:
            raise ValueError(f"every vocab size must be >= 2 (blank + one token), got {small}")
        if self.num_domains < 0 or self.num_domains == 1:
            raise ValueError(f"num_domains must be 0 (off) or >= 2, got {self.num_domains}")
        if self.num_phones < 0 or self.num_phones == 1:
            raise ValueError(f"num_phones must be 0 (off) or >= 2, got {self.num_phones}")
        if len(self.phone_inventories) > len(self.languages):
            raise ValueError("more phone_inventories than languages")
        for lang, inv in zip(self.languages, self.phone_inventories):
            out = [p for p in inv if not 0 <= p < max(self.num_phones, 1)]
            if out:
                raise ValueError(f"phone inventory of {lang!r} has ids outside [0, {self.num_phones}): {out[:5]}")

    def vocab_size(self, lang: str) -> int:
        """Tokens of ``lang``'s head."""
        return self.vocab_sizes[self.lang_index(lang)]

    def lang_index(self, lang: str) -> int:
        """Position of ``lang`` in :attr:`languages` (its language-ID class).

        Raises:
            KeyError: unknown language.
        """
        try:
            return self.languages.index(lang)
        except ValueError:
            raise KeyError(f"unknown language {lang!r}; this model has {list(self.languages)}") from None

    def phone_inventory(self, lang: str) -> tuple[int, ...]:
        """Phone ids allowed for ``lang`` (empty: all)."""
        i = self.lang_index(lang)
        return self.phone_inventories[i] if i < len(self.phone_inventories) else ()

    def with_language(
        self, lang: str, vocab_size: int, phone_inventory: Sequence[int] | None = None
    ) -> MultilingualConfig:
        """This config with ``lang``'s head set to ``vocab_size`` tokens (appended if new)."""
        langs, vocabs = list(self.languages), list(self.vocab_sizes)
        invs = list(self.phone_inventories) + [()] * (len(langs) - len(self.phone_inventories))
        if lang in langs:
            i = langs.index(lang)
            vocabs[i] = vocab_size
            if phone_inventory is not None:
                invs[i] = tuple(phone_inventory)
        else:
            langs.append(lang)
            vocabs.append(vocab_size)
            invs.append(tuple(phone_inventory or ()))
        while invs and invs[-1] == ():
            invs.pop()
        return dataclasses.replace(
            self, languages=tuple(langs), vocab_sizes=tuple(vocabs), phone_inventories=tuple(invs)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``base`` nested as :meth:`ModelConfig.to_dict`)."""
        return {
            "base": self.base.to_dict(),
            "languages": list(self.languages),
            "vocab_sizes": list(self.vocab_sizes),
            "token_heads": self.token_heads,
            "num_phones": self.num_phones,
            "phone_inventories": [list(inv) for inv in self.phone_inventories],
            "lang_id": self.lang_id,
            "head_dropout": self.head_dropout,
            "num_domains": self.num_domains,
            "progressive": self.progressive,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MultilingualConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown key(s) {unknown} for MultilingualConfig; known: {sorted(names)}")
        d = dict(d)
        if "base" in d:
            d["base"] = ModelConfig.from_dict(d["base"])
        for key in ("languages", "vocab_sizes"):
            if key in d:
                d[key] = tuple(d[key])
        if "phone_inventories" in d:
            d["phone_inventories"] = tuple(tuple(inv) for inv in d["phone_inventories"])
        return cls(**d)


class MultilingualCTC(nn.Module):
    """Shared frontend and encoder, per-language CTC heads, optional universal phone and language-ID heads.

    1. ``frontend``: :class:`~asr.features.FeatureExtractor` (float32);
    2. ``specaug``: :class:`~asr.features.SpecAugment`, training mode only;
    3. ``encoder``: the registered encoder of ``cfg.base`` (x4 subsampling), or a
       :class:`ProgressiveColumn` of two of them (``cfg.progressive``);
    4. heads on ``dropout(hidden)``: ``heads[lang]`` (``nn.ModuleDict``), ``phone_head``, ``lang_head``;
       ``domain_head`` (a :class:`DomainClassifier`) on ``hidden`` through gradient reversal.

    Parameter names match :class:`~asr.models.ctc.CTCModel` for the shared part
    (``frontend.*``, ``encoder.*``), so a monolingual model initialises one.

    Args:
        cfg: structure.
        cmvn: global CMVN statistics (identity placeholders otherwise, filled by a checkpoint).
    """

    def __init__(self, cfg: MultilingualConfig, cmvn: GlobalCMVN | None = None):
        super().__init__()
        base = cfg.base
        self.frontend = FeatureExtractor(base.features, cmvn)
        self.specaug = SpecAugment(
            num_freq_masks=base.spec_freq_masks,
            freq_mask_width=base.spec_freq_width,
            num_time_masks=base.spec_time_masks,
            time_mask_ratio=base.spec_time_ratio,
            max_time_warp=base.spec_time_warp,
        )
        make_encoder = lookup("encoder", base.encoder)
        self.encoder = make_encoder(input_dim=base.features.dim, **base.encoder_kwargs())
        if cfg.progressive:
            column = make_encoder(input_dim=base.features.dim, **base.encoder_kwargs())
            self.encoder = ProgressiveColumn(self.encoder, column)
        self.dropout = nn.Dropout(cfg.head_dropout)
        d = self.encoder.output_dim
        self.heads = nn.ModuleDict()
        if cfg.token_heads:
            for lang, vocab in zip(cfg.languages, cfg.vocab_sizes):
                self.heads[lang] = nn.Linear(d, vocab)
        self.phone_head = nn.Linear(d, cfg.num_phones) if cfg.num_phones else None
        self.lang_head = nn.Linear(d, len(cfg.languages)) if cfg.lang_id and cfg.languages else None
        self.domain_head = DomainClassifier(d, cfg.num_domains, hidden_dim=d) if cfg.num_domains else None
        self.cfg = cfg
        self.register_buffer("phone_mask", self._phone_mask(cfg), persistent=False)  # (L, P) bool

    @staticmethod
    def _phone_mask(cfg: MultilingualConfig) -> Tensor:
        """``(num_languages, num_phones)`` bool: True where the language may emit the phone (blank always)."""
        mask = torch.ones(len(cfg.languages), cfg.num_phones, dtype=torch.bool)
        for i, lang in enumerate(cfg.languages):
            inv = cfg.phone_inventory(lang)
            if inv and cfg.num_phones:
                mask[i] = False
                mask[i, list(inv)] = True
                mask[i, 0] = True
        return mask

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes, in language-ID class order."""
        return self.cfg.languages

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame (feature shift x encoder subsampling)."""
        return self.cfg.base.features.frame_shift_ms / 1000.0 * self.encoder.subsampling

    def output_lengths(self, wav_lengths: Tensor) -> Tensor:
        """``(B,)`` samples -> ``(B,)`` output frames."""
        return self.encoder.output_lengths(self.frontend.num_frames(wav_lengths.long()))

    def lang_ids(self, langs: Sequence[str]) -> Tensor:
        """``B`` language codes -> ``(B,)`` int64 language-ID classes (CPU)."""
        return torch.tensor([self.cfg.lang_index(lang) for lang in langs], dtype=torch.long)

    def features(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Steps 1-2: ``wav (B, S)``, ``(B,)`` -> ``feats (B, T, F)`` float32, ``(B,)``."""
        with torch.autocast(wav.device.type, enabled=False):
            feats, lengths = self.frontend(wav.float(), wav_lengths)
            feats = self.specaug(feats, lengths)
        return feats, lengths

    def forward(
        self, wav: Tensor, wav_lengths: Tensor, langs: Sequence[str], domain_lambda: float = 1.0
    ) -> dict[str, Any]:
        """Run the shared encoder once, then each utterance through its language's heads.

        Args:
            wav: ``(B, S)`` float waveforms in [-1, 1], zero-padded.
            wav_lengths: ``(B,)`` valid samples.
            langs: ``B`` language codes (may mix languages).
            domain_lambda: gradient-reversal strength of the domain head (its gradient
                reaches the encoder multiplied by ``-domain_lambda``).

        Returns:
            A dict:

            * ``hidden (B, T', D)``, ``lengths (B,)``, ``langs`` (the list), ``lang_ids (B,)`` int64;
            * ``logits``: language -> ``(B_lang, T', V_lang)`` for the languages present;
              ``rows``: language -> ``(B_lang,)`` int64 batch rows of those utterances
              (only with ``cfg.token_heads``);
            * ``phone_logits (B, T', P)``: phones outside each utterance's language
              inventory are :data:`MASKED_LOGIT` (probability exactly 0) (with a phone head);
            * ``lang_logits (B, num_languages)`` (with a language-ID head);
            * ``domain_logits (B, num_domains)`` (with a domain head).

        Raises:
            KeyError: a language this model has no head for.
        """
        if len(langs) != wav.shape[0]:
            raise ValueError(f"{len(langs)} languages for a batch of {wav.shape[0]}")
        lang_idx = self.lang_ids(langs).to(wav.device)  # (B,), raises on unknown languages
        feats, lengths = self.features(wav, wav_lengths)
        hidden, out_lengths = self.encoder(feats, lengths)  # (B, T', D)
        h = self.dropout(hidden)
        out: dict[str, Any] = {"hidden": hidden, "lengths": out_lengths, "langs": list(langs), "lang_ids": lang_idx}
        if self.cfg.token_heads:
            logits, rows = {}, {}
            for lang in dict.fromkeys(langs):  # languages in order of first appearance
                r = torch.tensor([i for i, x in enumerate(langs) if x == lang], dtype=torch.long, device=wav.device)
                logits[lang] = self.heads[lang](h.index_select(0, r))  # (B_lang, T', V_lang)
                rows[lang] = r
            out["logits"], out["rows"] = logits, rows
        if self.phone_head is not None:
            allowed = self.phone_mask.index_select(0, lang_idx)  # (B, P)
            out["phone_logits"] = self.phone_head(h).masked_fill(~allowed[:, None, :], MASKED_LOGIT)
        if self.lang_head is not None:
            valid = padding_mask(out_lengths, hidden.shape[1]).to(h.dtype)[:, :, None]  # (B, T', 1)
            pooled = (h * valid).sum(1) / valid.sum(1).clamp(min=1.0)  # (B, D)
            out["lang_logits"] = self.lang_head(pooled)  # (B, num_languages)
        if self.domain_head is not None:
            out["domain_logits"] = self.domain_head(hidden, out_lengths, lambd=domain_lambda)  # (B, num_domains)
        return out

    def log_probs(self, wav: Tensor, wav_lengths: Tensor, lang: str) -> tuple[Tensor, Tensor]:
        """Token log-probabilities of a one-language batch: ``(B, S)`` -> ``(B, T', V_lang)`` float32, ``(B,)``."""
        out = self(wav, wav_lengths, [lang] * wav.shape[0])
        return out["logits"][lang].float().log_softmax(-1), out["lengths"]

    def phone_log_probs(self, wav: Tensor, wav_lengths: Tensor, langs: Sequence[str]) -> tuple[Tensor, Tensor]:
        """Masked universal-phone log-probabilities: ``(B, S)`` -> ``(B, T', P)`` float32, ``(B,)``.

        Phones outside an utterance's inventory have probability exactly 0.
        """
        if self.phone_head is None:
            raise ValueError("this model has no phone head (cfg.num_phones == 0)")
        out = self(wav, wav_lengths, langs)
        return out["phone_logits"].float().log_softmax(-1), out["lengths"]

    def replace_head(self, lang: str, vocab_size: int, phone_inventory: Sequence[int] | None = None) -> None:
        """Give ``lang`` a freshly initialised ``vocab_size``-token head (added if ``lang`` is new).

        A new language also gets a new, freshly initialised row in the
        language-ID head (the other rows are kept) and a phone mask
        (``phone_inventory``; all phones when ``None``). The config is updated.
        """
        new_cfg = self.cfg.with_language(lang, vocab_size, phone_inventory)
        ref = next(self.encoder.parameters())
        d = self.encoder.output_dim
        if new_cfg.token_heads:
            self.heads[lang] = nn.Linear(d, vocab_size).to(ref.device, ref.dtype)
        if self.lang_head is not None and len(new_cfg.languages) != self.lang_head.out_features:
            old = self.lang_head
            self.lang_head = nn.Linear(d, len(new_cfg.languages)).to(ref.device, ref.dtype)
            with torch.no_grad():
                self.lang_head.weight[: old.out_features] = old.weight
                self.lang_head.bias[: old.out_features] = old.bias
        self.cfg = new_cfg
        self.phone_mask = self._phone_mask(new_cfg).to(self.phone_mask.device)

    def num_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


# ---------------------------------------------------------------------------
# Multi-task loss
# ---------------------------------------------------------------------------


def _per_utt_ctc(logits: Tensor, lengths: Tensor, targets: Tensor, target_lengths: Tensor, impl: str) -> Tensor:
    """``(N,)`` CTC losses, each over its target length (the ``'mean'`` convention before averaging)."""
    losses = ctc_loss(
        logits, targets, lengths, target_lengths, blank=0, reduction="none", zero_infinity=True, impl=impl
    )  # (N,)
    return losses / target_lengths.clamp(min=1).to(losses.dtype)


def _present(batch: Mapping[str, Any], key: str, n: int, device: torch.device) -> Tensor:
    """``(n,)`` bool: utterances with label ``key`` (``{key[:-1]}_lengths >= 0``); all False without the key."""
    lengths = batch.get(f"{key[:-1]}_lengths")
    if lengths is None or batch.get(key) is None:
        return torch.zeros(n, dtype=torch.bool, device=device)
    return torch.as_tensor(lengths, device=device) >= 0


def multitask_loss(
    outputs: Mapping[str, Any],
    batch: Mapping[str, Any],
    weights: Mapping[str, float] | None = None,
    impl: str = "auto",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Weighted sum of the per-language CTC, universal-phone CTC and language-ID losses.

    An utterance without a label for a task (length ``-1``, or no such key in
    ``batch``) is left out of that task's loss only, so that task's gradient
    with respect to it is exactly zero; it still trains the other tasks.

    Args:
        outputs: :meth:`MultilingualCTC.forward`'s dict.
        batch: ``tokens (B, L)`` and ``token_lengths (B,)``; optionally ``phones (B, Lp)``
            and ``phone_lengths (B,)``; ``lid_mask (B,)`` bool to leave utterances out of
            language ID (default: all in); ``domains (B,)`` int64 domain classes, ``-1``
            where unknown (default: no domain labels). Label tensors may live on the CPU.
        weights: task -> weight (``ctc``, ``phone``, ``lid``, ``domain``; missing ones from
            :data:`DEFAULT_WEIGHTS`; 0 skips the task), and ``ctc/<lang>`` to scale one
            language's utterances inside the CTC task (default 1).
        impl: CTC implementation (:func:`asr.losses.ctc_loss`).

    Returns:
        ``(total, parts)``: the scalar to back-propagate and detached scalars
        ``ctc``, ``ctc/<lang>``, ``phone``, ``lid``, ``domain``, ``total`` (a task mean over
        its labelled utterances; 0 when none), plus ``n_<task>`` label counts.
    """
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    hidden: Tensor = outputs["hidden"]
    device, B = hidden.device, hidden.shape[0]
    lengths: Tensor = outputs["lengths"]
    zero = hidden.float().sum() * 0.0  # keeps the graph connected when a task has no labels
    total = zero
    parts: dict[str, Tensor] = {}

    if w["ctc"] and "logits" in outputs:
        present = _present(batch, "tokens", B, device)
        tokens = batch.get("tokens")
        tok_lengths = batch.get("token_lengths")
        task, count = zero, 0
        for lang, logits in outputs["logits"].items():
            rows: Tensor = outputs["rows"][lang]
            keep = present.index_select(0, rows)  # (B_lang,)
            n = int(keep.sum())
            if n == 0:
                continue
            sel = keep.nonzero().squeeze(1)  # positions inside this language's rows
            r = rows.index_select(0, sel)
            losses = _per_utt_ctc(
                logits.index_select(0, sel),
                lengths.index_select(0, r),
                torch.as_tensor(tokens).to(device).index_select(0, r),
                torch.as_tensor(tok_lengths).to(device).index_select(0, r),
                impl,
            )
            parts[f"ctc/{lang}"] = losses.detach().mean()
            task = task + w.get(f"ctc/{lang}", 1.0) * losses.sum()
            count += n
        task = task / max(count, 1)
        parts["ctc"], parts["n_ctc"] = task.detach(), torch.tensor(float(count))
        total = total + w["ctc"] * task

    if w["phone"] and "phone_logits" in outputs:
        present = _present(batch, "phones", B, device)
        r = present.nonzero().squeeze(1)
        task = zero
        if r.numel():
            losses = _per_utt_ctc(
                outputs["phone_logits"].index_select(0, r),
                lengths.index_select(0, r),
                torch.as_tensor(batch["phones"]).to(device).index_select(0, r),
                torch.as_tensor(batch["phone_lengths"]).to(device).index_select(0, r),
                impl,
            )
            task = losses.mean()
        parts["phone"], parts["n_phone"] = task.detach(), torch.tensor(float(r.numel()))
        total = total + w["phone"] * task

    if w["lid"] and "lang_logits" in outputs:
        lid_mask = batch.get("lid_mask")
        if lid_mask is None:
            present = torch.ones(B, dtype=torch.bool, device=device)
        else:
            present = torch.as_tensor(lid_mask).to(device)
        r = present.nonzero().squeeze(1)
        task = zero
        if r.numel():
            labels = outputs["lang_ids"]  # (B,)
            task = F.cross_entropy(outputs["lang_logits"].float().index_select(0, r), labels.index_select(0, r))
        parts["lid"], parts["n_lid"] = task.detach(), torch.tensor(float(r.numel()))
        total = total + w["lid"] * task

    if w["domain"] and "domain_logits" in outputs and batch.get("domains") is not None:
        labels = torch.as_tensor(batch["domains"]).to(device)  # (B,)
        r = (labels >= 0).nonzero().squeeze(1)
        task = zero
        if r.numel():
            task = F.cross_entropy(outputs["domain_logits"].float().index_select(0, r), labels.index_select(0, r))
        parts["domain"], parts["n_domain"] = task.detach(), torch.tensor(float(r.numel()))
        total = total + w["domain"] * task

    parts["total"] = total.detach()
    return total, parts


# ---------------------------------------------------------------------------
# Loading what matches (ESPnet's ignore_init_mismatch)
# ---------------------------------------------------------------------------


@dataclass
class LoadReport:
    """What :func:`load_matching_state_dict` did with each tensor.

    Attributes:
        loaded: names copied from the checkpoint.
        mismatched: ``(name, checkpoint shape, model shape)`` kept at the model's initialisation.
        missing: model tensors absent from the checkpoint (kept at initialisation).
        unexpected: checkpoint tensors the model does not have (ignored).
    """

    loaded: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def reinitialized(self) -> list[str]:
        """Model tensors not taken from the checkpoint (mismatched or missing)."""
        return [m[0] for m in self.mismatched] + self.missing

    def summary(self) -> str:
        """One line per category, for logs."""
        lines = [f"loaded {len(self.loaded)} tensors"]
        for name, src, dst in self.mismatched:
            lines.append(f"re-initialized {name}: checkpoint {list(src)} != model {list(dst)}")
        if self.missing:
            lines.append(f"re-initialized (not in checkpoint): {', '.join(self.missing)}")
        if self.unexpected:
            lines.append(f"ignored (not in model): {', '.join(self.unexpected)}")
        return "\n".join(lines)


def load_matching_state_dict(
    model: nn.Module, state: Mapping[str, Tensor], rename: Mapping[str, str] | None = None
) -> LoadReport:
    """Copy the tensors of ``state`` whose name and shape match ``model``; report the rest.

    Tensors with a mismatched shape or absent from ``state`` keep the model's
    current (fresh) initialisation, which is what fine-tuning a new vocabulary needs.

    Args:
        model: the target (e.g. a freshly built :class:`MultilingualCTC`).
        state: source tensors (``safetensors`` file, another model's ``state_dict``).
        rename: prefix renames applied to ``state`` names first, e.g.
            ``{"head.": "heads.en."}`` to take a :class:`~asr.models.ctc.CTCModel`'s output layer.

    Returns:
        A :class:`LoadReport` (also logged at INFO).
    """
    renamed: dict[str, Tensor] = {}
    for name, tensor in state.items():
        for old, new in (rename or {}).items():
            if name.startswith(old):
                name = new + name[len(old) :]
                break
        renamed[name] = tensor
    own = model.state_dict()
    report = LoadReport()
    take: dict[str, Tensor] = {}
    for name, tensor in renamed.items():
        if name not in own:
            report.unexpected.append(name)
        elif tuple(tensor.shape) != tuple(own[name].shape):
            report.mismatched.append((name, tuple(tensor.shape), tuple(own[name].shape)))
        else:
            take[name] = tensor
            report.loaded.append(name)
    report.missing = [name for name in own if name not in renamed]
    model.load_state_dict(take, strict=False)
    log.info("%s", report.summary())
    return report


# ---------------------------------------------------------------------------
# Model directories
# ---------------------------------------------------------------------------


def save_multilingual_dir(
    directory: str | os.PathLike,
    model: MultilingualCTC,
    tokenizers: Mapping[str, Tokenizer] | None = None,
    phone_tokenizer: Tokenizer | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a self-contained model directory (safetensors + JSON, never pickle).

    Files: ``model.safetensors``, ``config.json`` (``{"format": "asr.multilingual",
    "version", "model": MultilingualConfig, "cmvn", "extra"}``), each language's
    tokenizer in ``tokenizers/<lang>/`` and the phone tokenizer in ``phone_tokenizer/``.

    Raises:
        ValueError: a tokenizer's size differs from its head.
    """
    from safetensors.torch import save_file

    cfg = model.cfg
    for lang, tok in (tokenizers or {}).items():
        if cfg.token_heads and tok.vocab_size != cfg.vocab_size(lang):
            raise ValueError(f"{lang}: head has {cfg.vocab_size(lang)} outputs, tokenizer {tok.vocab_size} tokens")
    if phone_tokenizer is not None and phone_tokenizer.vocab_size != cfg.num_phones:
        raise ValueError(f"phone head has {cfg.num_phones} outputs, phone tokenizer {phone_tokenizer.vocab_size}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (MODEL_WEIGHTS + ".part")
    save_file(cpu_state_dict(model), str(tmp), metadata={"format": "pt"})
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / MODEL_WEIGHTS)
    cmvn = model.frontend.cmvn
    config = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": cfg.to_dict(),
        "cmvn": cmvn.to_dict() if cmvn is not None else None,
        "tokenizers": sorted(tokenizers or {}),
        "phone_tokenizer": phone_tokenizer is not None,
        "extra": extra or {},
    }
    tmp = out / (MODEL_CONFIG + ".part")
    tmp.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out / MODEL_CONFIG)
    for lang, tok in (tokenizers or {}).items():
        tok.save(out / TOKENIZERS_DIR / lang)
    if phone_tokenizer is not None:
        phone_tokenizer.save(out / PHONE_TOKENIZER_DIR)
    return out


def read_multilingual_config(directory: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``config.json`` of a multilingual model directory.

    Raises:
        FileNotFoundError: no ``config.json``.
        ValueError: another format, or a newer version.
    """
    return read_model_config(directory, format=FORMAT, version=FORMAT_VERSION)


def load_multilingual_dir(
    directory: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[MultilingualCTC, dict[str, Tokenizer], MultilingualConfig]:
    """Load what :func:`save_multilingual_dir` wrote (strictly: every tensor must match).

    Returns:
        ``(model, tokenizers, cfg)``: the model in eval mode on ``device``;
        ``tokenizers`` maps language -> tokenizer, plus ``"<phones>"`` for the phone tokenizer.
    """
    from safetensors.torch import load_file

    config = read_multilingual_config(directory)
    cfg = MultilingualConfig.from_dict(config["model"])
    cmvn = GlobalCMVN.from_dict(config["cmvn"]) if config.get("cmvn") else None
    model = MultilingualCTC(cfg, cmvn)
    model.load_state_dict(load_file(str(Path(directory) / MODEL_WEIGHTS)))
    tok_dir = Path(directory) / TOKENIZERS_DIR
    tokenizers = {lang: load_tokenizer(tok_dir / lang) for lang in config.get("tokenizers", [])}
    if config.get("phone_tokenizer"):
        tokenizers["<phones>"] = load_tokenizer(Path(directory) / PHONE_TOKENIZER_DIR)
    return model.to(device).eval(), tokenizers, cfg


def _read_any_config(directory: str | os.PathLike) -> dict[str, Any]:
    path = Path(directory) / MODEL_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: no {MODEL_CONFIG}; not a model directory")
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("format") not in (FORMAT, CTC_FORMAT):
        raise ValueError(f"{path}: format {config.get('format')!r} is neither {FORMAT!r} nor {CTC_FORMAT!r}")
    return config


def pretrained_base(directory: str | os.PathLike) -> ModelConfig:
    """The shared-encoder :class:`ModelConfig` of a model directory (multilingual or monolingual CTC)."""
    config = _read_any_config(directory)
    if config["format"] == FORMAT:
        return MultilingualConfig.from_dict(config["model"]).base
    return ModelConfig.from_dict(config["model"])


def from_pretrained(
    directory: str | os.PathLike,
    cfg: MultilingualConfig,
    rename: Mapping[str, str] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[MultilingualCTC, LoadReport]:
    """Build ``MultilingualCTC(cfg)`` and initialise it from a pre-trained model directory.

    Whatever matches by name and shape is loaded (the shared frontend and
    encoder, the heads of languages kept with the same vocabulary); a head whose
    vocabulary changed, or a new head, keeps its fresh initialisation and is
    listed in the report. Works with multilingual and monolingual
    (:mod:`asr.models.ctc`) directories; nothing is unpickled.

    Args:
        directory: the pre-trained model directory.
        cfg: the target structure (usually ``base=pretrained_base(directory)``).
        rename: prefix renames for the checkpoint names (see :func:`load_matching_state_dict`).
        device: where the model goes.

    Returns:
        ``(model, report)``, the model in train mode.
    """
    from safetensors.torch import load_file

    config = _read_any_config(directory)
    cmvn = GlobalCMVN.from_dict(config["cmvn"]) if config.get("cmvn") and cfg.base.features.cmvn == "global" else None
    model = MultilingualCTC(cfg, cmvn)
    report = load_matching_state_dict(model, load_file(str(Path(directory) / MODEL_WEIGHTS)), rename)
    return model.to(device), report
