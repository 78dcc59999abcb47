"""Diagonal-covariance Gaussian mixtures, one mixture per HMM state (pdf).

The emission model of monophone training, as in Kaldi's ``gmm-init-mono`` /
``gmm-acc-stats-ali`` / ``gmm-est``: every pdf starts as one Gaussian with the
global mean and variance (flat start), statistics are accumulated from
Viterbi alignments, and components are split ("mixed up") over the iterations
until the model holds the target number of Gaussians, allocated to states in
proportion to occupancy ** 0.2.

Layout: ``S`` pdfs, at most ``K`` components each, ``D`` feature dimensions;
``means``/``vars`` are ``(S, K, D)``, ``log_weights`` ``(S, K)`` with
``-inf`` on unused component slots.

Usage::

    gmm = DiagGmm.flat(num_pdfs, feats_all)                 # (N, D) frames
    stats = gmm.accumulate(feats, pdf_ids)                  # (T, D), (T,)
    gmm.update(stats); gmm.mix_up(stats, 2 * num_pdfs)
    loglik = gmm.log_likelihood(feats)                      # (T, S)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["DiagGmm", "GmmStats"]

LOG_2PI = math.log(2 * math.pi)


@dataclass
class GmmStats:
    """Sufficient statistics per component: counts ``(S, K)``, sums ``(S, K, D)``, squares ``(S, K, D)`` (float64)."""

    count: Tensor
    first: Tensor
    second: Tensor

    def __iadd__(self, other: GmmStats) -> GmmStats:
        self.count += other.count
        self.first += other.first
        self.second += other.second
        return self

    def state_counts(self) -> Tensor:
        """``(S,)`` frames per pdf."""
        return self.count.sum(1)


class DiagGmm:
    """Per-pdf diagonal GMMs (see module docstring for the layout)."""

    def __init__(self, means: Tensor, vars: Tensor, log_weights: Tensor, var_floor: Tensor):
        """Wrap parameters: means, vars ``(S, K, D)``, log_weights ``(S, K)``, var_floor ``(D,)``."""
        self.means = means.double()
        self.vars = vars.double()
        self.log_weights = log_weights.double()
        self.var_floor = var_floor.double()

    @classmethod
    def flat(cls, num_pdfs: int, frames: Tensor, var_floor_factor: float = 0.01) -> DiagGmm:
        """Every pdf one Gaussian with the global mean and variance of ``frames (N, D)``.

        ``var_floor_factor`` times the global variance becomes the variance floor.
        """
        x = frames.double()
        mean, var = x.mean(0), x.var(0, unbiased=False).clamp(min=1e-6)
        S, D = num_pdfs, x.shape[1]
        return cls(mean.expand(S, 1, D).clone(), var.expand(S, 1, D).clone(), torch.zeros(S, 1, dtype=torch.float64),
                   var * var_floor_factor)

    # -- sizes ----------------------------------------------------------------------

    @property
    def num_pdfs(self) -> int:
        """``S``."""
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        """``D``."""
        return self.means.shape[2]

    @property
    def num_gauss(self) -> int:
        """Components in use over all pdfs."""
        return int(torch.isfinite(self.log_weights).sum())

    # -- scoring --------------------------------------------------------------------

    def _component_matrix(self) -> Tensor:
        """``(2 D + 1, S * K)`` float32: ``[x*x, x, 1] @ W`` gives every component's weighted log-density."""
        prec = 1.0 / self.vars
        const = -0.5 * ((self.means**2 * prec).sum(-1) + self.vars.log().sum(-1) + self.dim * LOG_2PI) + self.log_weights
        S, K, D = self.means.shape
        w = torch.cat([(-0.5 * prec).reshape(S * K, D), (self.means * prec).reshape(S * K, D), const.reshape(S * K, 1)], 1)
        return w.T.float().contiguous()

    def log_likelihood(self, x: Tensor, chunk: int = 8192) -> Tensor:
        """Log-likelihood of every frame under every pdf's mixture.

        Args:
            x: ``(T, D)`` frames.

        Returns:
            ``(T, S)`` float32.
        """
        w = self._component_matrix()
        S, K, _ = self.means.shape
        out = []
        for i in range(0, x.shape[0], chunk):
            xc = x[i : i + chunk].float()
            ll = torch.cat([xc * xc, xc, torch.ones_like(xc[:, :1])], 1) @ w  # (t, S*K)
            out.append(ll.view(-1, S, K).logsumexp(-1) if K > 1 else ll)
        return torch.cat(out) if out else x.new_zeros(0, S)

    # -- estimation -----------------------------------------------------------------

    def zero_stats(self) -> GmmStats:
        """Empty statistics shaped like this model."""
        S, K, D = self.means.shape
        z = torch.zeros
        return GmmStats(z(S, K, dtype=torch.float64), z(S, K, D, dtype=torch.float64), z(S, K, D, dtype=torch.float64))

    def accumulate(self, x: Tensor, pdfs: Tensor, stats: GmmStats | None = None) -> GmmStats:
        """Add Viterbi statistics of frames ``x (T, D)`` aligned to ``pdfs (T,)`` into ``stats``.

        Frames are grouped by pdf (one sort); each pdf's component posteriors
        and sums are then a few small matrix products. Pass many utterances at once.
        """
        stats = stats if stats is not None else self.zero_stats()
        if x.shape[0] == 0:
            return stats
        order = torch.argsort(pdfs, stable=True)
        xs, ps = x[order].double(), pdfs[order]
        pdf_ids, counts = torch.unique_consecutive(ps, return_counts=True)
        for s, xg in zip(pdf_ids.tolist(), torch.split(xs, counts.tolist())):
            used = torch.isfinite(self.log_weights[s])
            mu, var, lw = self.means[s, used], self.vars[s, used], self.log_weights[s, used]  # (k, D), (k,)
            ll = -0.5 * ((xg * xg) @ (1 / var).T - 2 * xg @ (mu / var).T + (mu * mu / var + var.log()).sum(-1)) + lw
            post = torch.softmax(ll, dim=-1)  # (n, k): the constant -D/2 log(2 pi) cancels
            stats.count[s, used] += post.sum(0)
            stats.first[s, used] += post.T @ xg
            stats.second[s, used] += post.T @ (xg * xg)
        return stats

    def update(self, stats: GmmStats, min_count: float = 3.0) -> None:
        """Maximum-likelihood update; components with fewer than ``min_count`` frames keep their
        mean and variance (their weight still follows the counts); variances are floored."""
        count = stats.count
        ok = count >= min_count
        c = count.clamp(min=1e-10)[..., None]
        mean = stats.first / c
        var = (stats.second / c - mean**2).maximum(self.var_floor)
        self.means = torch.where(ok[..., None], mean, self.means)
        self.vars = torch.where(ok[..., None], var, self.vars)
        used = torch.isfinite(self.log_weights)
        state_total = (count * used).sum(1, keepdim=True)
        w = torch.where(used, count.clamp(min=1e-3), torch.zeros_like(count))
        w = w / w.sum(1, keepdim=True)
        new_lw = torch.where(used & (w > 0), w.clamp(min=1e-10).log(), torch.full_like(w, -math.inf))
        self.log_weights = torch.where(state_total > 0, new_lw, self.log_weights)

    def mix_up(self, stats: GmmStats, target: int, power: float = 0.2, perturb: float = 0.2) -> None:
        """Split components until the model has about ``target`` Gaussians (Kaldi's ``MixUp``).

        Each pdf gets ``max(1, round(target * occ**power / sum(occ**power)))``
        components (never fewer than it has); the heaviest component of a pdf
        is split into two with means ``mu +- perturb * sigma`` and half the weight each.
        """
        occ = stats.state_counts().clamp(min=0)
        share = occ**power
        if float(share.sum()) <= 0:
            return
        want = (target * share / share.sum()).round().long().clamp(min=1)
        have = torch.isfinite(self.log_weights).sum(1)
        want = torch.maximum(want, have)
        K_new = int(want.max())
        if K_new > self.means.shape[1]:
            self._pad_components(K_new)
        for s in torch.nonzero(want > have).flatten().tolist():
            for _ in range(int(want[s] - have[s])):
                used = torch.isfinite(self.log_weights[s])
                k = int(torch.where(used, self.log_weights[s], torch.full_like(self.log_weights[s], -math.inf)).argmax())
                free = int(torch.nonzero(~used)[0])
                sd = self.vars[s, k].sqrt()
                self.means[s, free] = self.means[s, k] + perturb * sd
                self.means[s, k] = self.means[s, k] - perturb * sd
                self.vars[s, free] = self.vars[s, k]
                self.log_weights[s, k] -= math.log(2.0)
                self.log_weights[s, free] = self.log_weights[s, k]

    def _pad_components(self, K: int) -> None:
        S, K0, D = self.means.shape
        pad = K - K0
        self.means = torch.cat([self.means, self.means[:, :1].expand(S, pad, D)], 1).clone()
        self.vars = torch.cat([self.vars, self.vars[:, :1].expand(S, pad, D)], 1).clone()
        self.log_weights = torch.cat([self.log_weights, torch.full((S, pad), -math.inf, dtype=torch.float64)], 1)

    # -- (de)serialisation ----------------------------------------------------------

    def state_dict(self) -> dict[str, Tensor]:
        """Tensors for safetensors: means, vars, log_weights, var_floor (float32)."""
        return {"means": self.means.float().contiguous(), "vars": self.vars.float().contiguous(),
                "log_weights": self.log_weights.float().contiguous(), "var_floor": self.var_floor.float().contiguous()}

    @classmethod
    def from_state_dict(cls, d: dict[str, Tensor]) -> DiagGmm:
        """Inverse of :meth:`state_dict`."""
        return cls(d["means"], d["vars"], d["log_weights"], d["var_floor"])

    def __repr__(self) -> str:
        return f"DiagGmm({self.num_pdfs} pdfs, {self.num_gauss} gaussians, dim {self.dim})"
