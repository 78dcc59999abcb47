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

With ``progressive=True`` the encoder is a :class:`~asr.models.progressive.ProgressiveColumn`: a frozen
pre-trained column and a new one reading it through lateral connections.

Every head can be switched off in :class:`MultilingualConfig`. A batch may mix
languages: each utterance goes through its own language's head only, so a
batch without language ``B`` leaves ``heads["B"]`` without a gradient.

Labels: ``batch["tokens"] (B, L)`` / ``batch["token_lengths"] (B,)`` and
``batch["phones"] (B, Lp)`` / ``batch["phone_lengths"] (B,)``; a length of
``-1`` (or a missing key) marks an utterance without that label, which then
contributes nothing to that task (masked, not dropped: it still trains the
other tasks). See :func:`asr.losses.multitask.multitask_loss`.

The pieces live beside this module: :mod:`asr.models.acoustic` (frontend,
SpecAugment, encoder), :mod:`asr.models.heads` (phone masks, pooling),
:mod:`asr.models.progressive`, :mod:`asr.models.adversarial`, and
:mod:`asr.models.pretrained` (initialising from a pre-trained model directory).

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

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from asr.config import from_dict as config_from_dict
from asr.features import GlobalCMVN
from asr.models.acoustic import AcousticStack
from asr.models.adversarial import DomainClassifier
from asr.models.ctc import MODEL_CONFIG, MODEL_WEIGHTS, ModelConfig, cpu_state_dict, read_model_config
from asr.models.heads import MASKED_LOGIT, masked_mean, phone_inventory_mask
from asr.text.tokenizer import Tokenizer, load_tokenizer

__all__ = [
    "MultilingualConfig",
    "MultilingualCTC",
    "save_multilingual_dir",
    "load_multilingual_dir",
    "read_multilingual_config",
    "LanguageView",
    "load_language_view",
    "FORMAT",
]

FORMAT = "asr.multilingual"  # config.json "format"
FORMAT_VERSION = 1
TOKENIZERS_DIR = "tokenizers"  # tokenizers/<lang>/ inside a model directory
PHONE_TOKENIZER_DIR = "phone_tokenizer"


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
        progressive: the encoder is a :class:`~asr.models.progressive.ProgressiveColumn`: a frozen source column
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
    def from_dict(cls, d: dict[str, Any], source: str = "MultilingualConfig") -> MultilingualConfig:
        """Inverse of :meth:`to_dict` (:func:`asr.config.from_dict`: unknown keys and wrong types raise)."""
        return config_from_dict(cls, d, source)


class MultilingualCTC(AcousticStack):
    """Shared frontend and encoder, per-language CTC heads, optional universal phone and language-ID heads.

    1-3. :class:`~asr.models.acoustic.AcousticStack` of ``cfg.base``: ``frontend`` (float32 features),
         ``specaug`` (training mode only), ``encoder`` (the registered encoder, x4 subsampling, or a
         :class:`~asr.models.progressive.ProgressiveColumn` of two of them with ``cfg.progressive``);
    4. heads on ``dropout(hidden)``: ``heads[lang]`` (``nn.ModuleDict``), ``phone_head``, ``lang_head``;
       ``domain_head`` (a :class:`~asr.models.adversarial.DomainClassifier`) on ``hidden`` through
       gradient reversal.

    Parameter names match :class:`~asr.models.ctc.CTCModel` for the shared part
    (``frontend.*``, ``encoder.*``), so a monolingual model initialises one.

    Args:
        cfg: structure.
        cmvn: global CMVN statistics (identity placeholders otherwise, filled by a checkpoint).
    """

    def __init__(self, cfg: MultilingualConfig, cmvn: GlobalCMVN | None = None):
        super().__init__(cfg.base, cmvn, progressive=cfg.progressive)  # steps 1-3
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
        return phone_inventory_mask([cfg.phone_inventory(lang) for lang in cfg.languages], cfg.num_phones)

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes, in language-ID class order."""
        return self.cfg.languages

    def lang_ids(self, langs: Sequence[str]) -> Tensor:
        """``B`` language codes -> ``(B,)`` int64 language-ID classes (CPU)."""
        return torch.tensor([self.cfg.lang_index(lang) for lang in langs], dtype=torch.long)

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
            out["lang_logits"] = self.lang_head(masked_mean(h, out_lengths))  # (B, D) -> (B, num_languages)
        if self.domain_head is not None:
            out["domain_logits"] = self.domain_head(hidden, out_lengths, lambd=domain_lambda)  # (B, num_domains)
        return out

    def log_probs(self, wav: Tensor, wav_lengths: Tensor, lang: str) -> tuple[Tensor, Tensor]:
        """Token log-probabilities of a one-language batch: ``(B, S)`` -> ``(B, T', V_lang)`` float32, ``(B,)``."""
        out = self(wav, wav_lengths, [lang] * wav.shape[0])
        return out["logits"][lang].float().log_softmax(-1), out["lengths"]

    def identify(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The shared encoder once and the language-ID head: which language each waveform speaks.

        ``wav (B, S)``, ``wav_lengths (B,)`` -> ``hidden (B, T', D)``, ``lengths (B,)`` and
        ``lang_log_probs (B, num_languages)`` float32 (classes in ``cfg.languages`` order);
        :meth:`head_log_probs` then decodes ``hidden`` with the chosen head.

        Raises:
            ValueError: the model has no language-ID head (``cfg.lang_id`` off).
        """
        if self.lang_head is None:
            raise ValueError("this model has no language-ID head (trained without MultilingualConfig.lang_id)")
        feats, lengths = self.features(wav, wav_lengths)
        hidden, out_lengths = self.encoder(feats, lengths)  # (B, T', D)
        return hidden, out_lengths, self.lang_head(masked_mean(hidden, out_lengths)).float().log_softmax(-1)

    def head_log_probs(self, hidden: Tensor, lang: str) -> Tensor:
        """``lang``'s token log-probabilities of encoder states: ``(B, T', D)`` -> ``(B, T', V_lang)`` float32."""
        return self.heads[lang](hidden).float().log_softmax(-1)

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
    from asr.weights import load_safetensors

    config = read_multilingual_config(directory)
    cfg = MultilingualConfig.from_dict(config["model"])
    cmvn = GlobalCMVN.from_dict(config["cmvn"]) if config.get("cmvn") else None
    model = MultilingualCTC(cfg, cmvn)
    model.load_state_dict(load_safetensors(Path(directory) / MODEL_WEIGHTS))
    tok_dir = Path(directory) / TOKENIZERS_DIR
    tokenizers = {lang: load_tokenizer(tok_dir / lang) for lang in config.get("tokenizers", [])}
    if config.get("phone_tokenizer"):
        tokenizers["<phones>"] = load_tokenizer(Path(directory) / PHONE_TOKENIZER_DIR)
    return model.to(device).eval(), tokenizers, cfg


class LanguageView(nn.Module):
    """One language of a :class:`MultilingualCTC` seen as a monolingual CTC model.

    It has what decoders use of a :class:`~asr.models.ctc.CTCModel`: :meth:`log_probs`
    ``(B, S) -> (B, T', V_lang)`` and :attr:`frame_shift_s`.
    """

    def __init__(self, model: MultilingualCTC, lang: str):
        super().__init__()
        if lang not in model.cfg.languages:
            raise ValueError(f"the model has no head for {lang!r}; its languages: {list(model.cfg.languages)}")
        self.model, self.lang = model, lang

    @property
    def frame_shift_s(self) -> float:
        """Seconds per output frame."""
        return self.model.frame_shift_s

    def forward(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, S)``, ``(B,)`` -> the language's logits ``(B, T', V)`` and ``(B,)`` frames."""
        out = self.model(wav, wav_lengths, [self.lang] * wav.shape[0])
        return out["logits"][self.lang], out["lengths"]

    def log_probs(self, wav: Tensor, wav_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``log_softmax`` of the logits in float32: ``(B, T', V)``, ``(B,)``."""
        logits, lengths = self(wav, wav_lengths)
        return logits.float().log_softmax(-1), lengths


def load_language_view(directory: str | os.PathLike, lang: str | None = None, device: str | torch.device = "cpu",
                       ) -> tuple[LanguageView, Tokenizer, MultilingualConfig]:
    """One language of a multilingual model directory: ``(view, its tokenizer, cfg)``.

    Args:
        lang: the head to decode with; ``None``: the model's only language.

    Raises:
        ValueError: ``lang`` is ``None`` and the model has several languages, or it has no such head.
    """
    model, tokenizers, cfg = load_multilingual_dir(directory, device)
    if lang is None:
        if len(cfg.languages) != 1:
            raise ValueError(f"{directory}: a model of {len(cfg.languages)} languages {list(cfg.languages)}: "
                             "say which one to decode (lang)")
        lang = cfg.languages[0]
    view = LanguageView(model, lang)
    if lang not in tokenizers:
        raise ValueError(f"{directory}: no tokenizer saved for {lang!r}")
    return view.eval(), tokenizers[lang], cfg
