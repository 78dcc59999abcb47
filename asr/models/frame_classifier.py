"""Frame-level acoustic models of the hybrid system: HMM-state posteriors from feature frames.

Two architectures, picked by name from :data:`FRAME_MODELS`:

* ``"tdnn"``: a time-delay network (Peddinti et al. 2015, Kaldi's ``tdnn``):
  1-D convolutions over time with growing dilation, each followed by ReLU and
  batch norm; context ``+-sum(dilation * (kernel - 1) / 2)`` frames.
* ``"mlp"``: frames spliced ``+-splice`` (Kaldi's ``splice-feats``), then
  fully connected ReLU + batch-norm layers.

Both map ``(B, T, F)`` features to ``(B, T, num_pdfs)`` logits (``hidden``: the
last hidden layer, where a domain classifier can listen); frames near the edges
see replicated edge frames. :func:`adapt_batchnorm` re-estimates the batch-norm
statistics on another domain's audio (AdaBN). :func:`train_frame_classifier` trains
them with cross-entropy on state alignments (:mod:`asr.train.frame_classifier`).

For decoding the posteriors become scaled likelihoods,
``log p(x|s) ~ log p(s|x) - prior_scale * log p(s)`` (:func:`scaled_loglikes`).

Usage::

    cfg = FrameClassifierConfig(kind="tdnn", input_dim=39, num_pdfs=topo.num_pdfs)
    model = build_frame_classifier(cfg)
    # ... trained by asr.train.frame_classifier.train_frame_classifier
    ll = scaled_loglikes(model, feats_b, lengths, log_priors)   # (B, T, num_pdfs)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.features import splice

__all__ = [
    "FrameClassifierConfig",
    "Tdnn",
    "SplicedMlp",
    "FRAME_MODELS",
    "register_frame_model",
    "build_frame_classifier",
    "log_priors",
    "posterior_log_priors",
    "scaled_loglikes",
    "adapt_batchnorm",
]


@dataclass(frozen=True)
class FrameClassifierConfig:
    """Architecture of a frame classifier (saved in the model's config JSON).

    Attributes:
        kind: key of :data:`FRAME_MODELS`.
        input_dim: feature dimension ``F``.
        num_pdfs: output classes (HMM states).
        hidden: width of every hidden layer.
        kernels, dilations: ``tdnn`` layers, one entry per layer (Kaldi's
            ``tdnn1..5`` splicing ``{-2..2}, {-1,0,1}, {-1,0,1}, {-3,0,3}, {-3,0,3}``).
        splice: ``mlp`` context, frames on each side.
        mlp_layers: ``mlp`` hidden layers.
        dropout: dropout after every hidden layer, training only.
    """

    kind: str = "tdnn"
    input_dim: int = 39
    num_pdfs: int = 0
    hidden: int = 256
    kernels: tuple[int, ...] = (5, 3, 3, 3, 3)
    dilations: tuple[int, ...] = (1, 1, 1, 3, 3)
    splice: int = 5
    mlp_layers: int = 3
    dropout: float = 0.1


class Tdnn(nn.Module):
    """Dilated 1-D convolutions over time: ``(B, T, F) -> (B, T, num_pdfs)``."""

    def __init__(self, cfg: FrameClassifierConfig):
        """Build the layers of ``cfg``."""
        super().__init__()
        if len(cfg.kernels) != len(cfg.dilations):
            raise ValueError(f"{len(cfg.kernels)} kernels but {len(cfg.dilations)} dilations")
        layers: list[nn.Module] = []
        dim = cfg.input_dim
        for k, d in zip(cfg.kernels, cfg.dilations):
            if k % 2 != 1:
                raise ValueError(f"tdnn kernels must be odd (symmetric context), got {k}")
            layers += [nn.Conv1d(dim, cfg.hidden, k, dilation=d), nn.ReLU(), nn.BatchNorm1d(cfg.hidden),
                       nn.Dropout(cfg.dropout)]
            dim = cfg.hidden
        self.body = nn.Sequential(*layers)
        self.output = nn.Linear(dim, cfg.num_pdfs)
        self.context = sum(d * (k - 1) // 2 for k, d in zip(cfg.kernels, cfg.dilations))

    def hidden(self, feats: Tensor, pad: bool = True) -> Tensor:
        """``(B, T, F)`` -> the last hidden layer ``(B, T, hidden)`` (``pad``: as :meth:`forward`)."""
        x = feats.transpose(1, 2)  # (B, F, T)
        if pad and self.context:
            x = F.pad(x, (self.context, self.context), mode="replicate")
        return self.body(x).transpose(1, 2)

    def forward(self, feats: Tensor, pad: bool = True) -> Tensor:
        """``(B, T, F)`` -> logits ``(B, T, num_pdfs)``.

        With ``pad=False`` the input must already carry ``context`` extra
        frames at each end and the output has ``T - 2 * context`` frames.
        """
        return self.output(self.hidden(feats, pad))


class SplicedMlp(nn.Module):
    """Spliced frames through fully connected layers: ``(B, T, F) -> (B, T, num_pdfs)``."""

    def __init__(self, cfg: FrameClassifierConfig):
        """Build the layers of ``cfg``."""
        super().__init__()
        self.context = cfg.splice
        dim = cfg.input_dim * (2 * cfg.splice + 1)
        layers: list[nn.Module] = []
        for _ in range(cfg.mlp_layers):
            layers += [nn.Linear(dim, cfg.hidden), nn.ReLU(), _FrameBatchNorm(cfg.hidden), nn.Dropout(cfg.dropout)]
            dim = cfg.hidden
        self.body = nn.Sequential(*layers)
        self.output = nn.Linear(dim, cfg.num_pdfs)

    def hidden(self, feats: Tensor, pad: bool = True) -> Tensor:
        """``(B, T, F)`` -> the last hidden layer ``(B, T, hidden)`` (``pad``: as :meth:`Tdnn.forward`)."""
        x = splice(feats, self.context, self.context)  # (B, T, F * (2c + 1)), edges replicated
        if not pad and self.context:
            x = x[:, self.context : x.shape[1] - self.context]
        return self.body(x)

    def forward(self, feats: Tensor, pad: bool = True) -> Tensor:
        """``(B, T, F)`` -> logits ``(B, T, num_pdfs)`` (``pad=False``: see :meth:`Tdnn.forward`)."""
        return self.output(self.hidden(feats, pad))


class _FrameBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the last dimension of ``(B, T, C)``."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


FRAME_MODELS: dict[str, Callable[[FrameClassifierConfig], nn.Module]] = {"tdnn": Tdnn, "mlp": SplicedMlp}


def register_frame_model(name: str, factory: Callable[[FrameClassifierConfig], nn.Module]) -> None:
    """Make ``FrameClassifierConfig(kind=name)`` build ``factory(cfg)``."""
    FRAME_MODELS[name] = factory


def build_frame_classifier(cfg: FrameClassifierConfig) -> nn.Module:
    """The model ``cfg.kind`` names; it has a ``context`` attribute (frames each side)."""
    try:
        factory = FRAME_MODELS[cfg.kind]
    except KeyError:
        raise ValueError(f"unknown frame classifier {cfg.kind!r}; known: {sorted(FRAME_MODELS)}") from None
    if cfg.num_pdfs <= 0:
        raise ValueError("FrameClassifierConfig.num_pdfs must be set (the topology's num_pdfs)")
    return factory(cfg)


def log_priors(targets: Sequence[Tensor], num_pdfs: int, floor: float = 1e-5) -> Tensor:
    """``(num_pdfs,)`` log relative frequency of each pdf in the alignments (floored, renormalised)."""
    counts = torch.bincount(torch.cat(list(targets)), minlength=num_pdfs).double()
    p = (counts / counts.sum().clamp(min=1)).clamp(min=floor)
    return (p / p.sum()).log().float()


@torch.no_grad()
def posterior_log_priors(model: nn.Module, feats: Sequence[Tensor], floor: float = 1e-8) -> Tensor:
    """``(num_pdfs,)`` log of the network's average posterior over ``feats`` (Kaldi's nnet priors).

    Unlike alignment counts, these priors are consistent with what the network
    outputs: a state it rarely predicts gets a small prior *and* small
    posteriors, so dividing one by the other cannot blow up.
    """
    model.eval()
    total, frames = None, 0
    for x in feats:
        post = model(x[None]).softmax(-1)[0].double()  # (T, num_pdfs)
        total = post.sum(0) if total is None else total + post.sum(0)
        frames += post.shape[0]
    p = (total / max(frames, 1)).clamp(min=floor)
    return (p / p.sum()).log().float()


@torch.no_grad()
def adapt_batchnorm(model: nn.Module, feats: Sequence[Tensor]) -> int:
    """AdaBN (Li et al. 2016): replace every batch norm's statistics by those of ``feats``' domain.

    The running means and variances are reset and re-estimated as plain averages over the
    utterances ``(T_i, F)`` (one forward pass each, no gradient); weights are unchanged.
    Returns the number of frames seen; the model is left in eval mode.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every utterance counts the same
    model.train()
    frames = 0
    for x in feats:
        model(x[None])
        frames += x.shape[0]
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.eval()
    return frames


@torch.no_grad()
def scaled_loglikes(model: nn.Module, feats: Tensor, log_prior: Tensor, prior_scale: float = 1.0) -> Tensor:
    """Pseudo log-likelihoods for HMM decoding or alignment.

    Args:
        model: a frame classifier (put in eval mode here).
        feats: ``(T, F)`` one utterance, or ``(B, T, F)`` equal-length utterances.
        log_prior: ``(num_pdfs,)`` from :func:`log_priors`.

    Returns:
        ``log_softmax(logits) - prior_scale * log_prior``, shaped like the input with ``num_pdfs`` last
        (no frames, e.g. audio shorter than one window: no rows).
    """
    model.eval()
    single = feats.dim() == 2
    x = feats[None] if single else feats
    if x.shape[1] == 0:  # a convolution refuses an empty time axis
        empty = x.new_zeros(x.shape[0], 0, log_prior.shape[0])
        return empty[0] if single else empty
    out = model(x).log_softmax(-1) - prior_scale * log_prior
    return out[0] if single else out
