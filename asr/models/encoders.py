"""Acoustic encoders: features ``(B, T, F)`` -> hidden states ``(B, T', D)``.

Every encoder here:

* starts with :class:`Conv2dSubsampling` (time reduced 4x, ``T' = ((T - 1) // 2 - 1) // 2``);
* keeps its blocks in an ``nn.ModuleList`` named ``layers``, so a model can
  copy or freeze the first ``k`` of them, and runs only the first ``k`` with
  ``forward(x, lengths, num_layers=k)``; :meth:`Encoder.hidden_states` returns
  every block's output;
* takes integer lengths and gives the same valid outputs whatever the padding
  of the batch (padded frames are zeroed before every time convolution,
  attention never looks at them, LSTMs are packed);
* is registered as ``build("encoder", name, input_dim=F, ...)``
  (:mod:`asr.registry`).

Encoders:

* ``conformer`` (:class:`ConformerEncoder`, Gulati et al. 2020): macaron
  feed-forward halves around self-attention and a convolution module, each
  pre-norm with a residual; positions are relative (Transformer-XL style
  ``rel``, as in ESPnet / WeNet) or rotary (``rotary``, RoFormer). The
  convolution module normalises with LayerNorm rather than BatchNorm, so a
  batch's padding never changes its statistics and DDP needs no SyncBatchNorm.
* ``blstm`` (:class:`BLSTMEncoder`): stacked bidirectional LSTMs, the baseline.

Usage::

    enc = build("encoder", "conformer", input_dim=80, d_model=144, num_layers=6)
    y, y_lengths = enc(feats, feat_lengths)        # (B, T, 80) -> (B, T', 144)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asr.registry import register

__all__ = [
    "Encoder",
    "Conv2dSubsampling",
    "ConformerEncoder",
    "ConformerLayer",
    "BLSTMEncoder",
    "padding_mask",
    "chunk_mask",
    "subsampled_lengths",
    "SUBSAMPLING",
    "MIN_INPUT_FRAMES",
]

SUBSAMPLING = 4  # output frames per input frame: 10 ms features -> 40 ms encoder frames
MIN_INPUT_FRAMES = 7  # the shortest input giving one output frame (two 3-wide, stride-2 convs)


def subsampled_lengths(lengths: Tensor) -> Tensor:
    """Output lengths of :class:`Conv2dSubsampling`: ``((L - 1) // 2 - 1) // 2``, floored at 0.

    Args:
        lengths: ``(B,)`` integer input frames.

    Returns:
        ``(B,)`` int64 output frames.
    """
    return (((lengths.long() - 1) // 2 - 1) // 2).clamp(min=0)


def padding_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """``(B, T)`` bool, True on valid frames (``t < lengths[b]``).

    Args:
        lengths: ``(B,)`` integer lengths.
        max_len: ``T``; default ``max(lengths)``.
    """
    T = int(lengths.max()) if max_len is None and lengths.numel() else (max_len or 0)
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


class Encoder(nn.Module):
    """Base class: ``forward(x (B, T, F), lengths (B,)) -> (y (B, T', D), lengths' (B,))``.

    Subclasses define ``embed`` (subsampling and whatever precedes the
    blocks), ``run_layer`` (one block) and set ``output_dim``; blocks live in
    ``self.layers``.
    """

    output_dim: int
    subsampling: int = SUBSAMPLING
    layers: nn.ModuleList

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """``(B,)`` input frames -> ``(B,)`` output frames."""
        return subsampled_lengths(lengths)

    def embed(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, dict]:
        """``(B, T, F)``, ``(B,)`` -> ``(B, T', D)``, ``(B,)`` and a context dict the blocks share."""
        raise NotImplementedError

    def run_layer(self, index: int, h: Tensor, lengths: Tensor, ctx: dict) -> Tensor:
        """Block ``index`` on ``h (B, T', D)`` -> ``(B, T', D)``."""
        raise NotImplementedError

    def forward(self, x: Tensor, lengths: Tensor, num_layers: int | None = None) -> tuple[Tensor, Tensor]:
        """Encode.

        Args:
            x: ``(B, T, F)`` features, zero past each length.
            lengths: ``(B,)`` valid frames.
            num_layers: run only the first ``num_layers`` blocks (default: all).

        Returns:
            ``y (B, T', D)`` zero past each output length, and ``lengths' (B,)``.
        """
        h, out_lengths, ctx = self.embed(x, lengths)
        if h.shape[1] == 0:  # every input shorter than MIN_INPUT_FRAMES
            return h, out_lengths
        for i in range(len(self.layers) if num_layers is None else num_layers):
            h = self.run_layer(i, h, out_lengths, ctx)
        return _zero_pad(h, out_lengths), out_lengths

    def hidden_states(self, x: Tensor, lengths: Tensor) -> tuple[list[Tensor], Tensor]:
        """Every block's output: a list of ``len(layers)`` tensors ``(B, T', D)`` and ``lengths' (B,)``."""
        h, out_lengths, ctx = self.embed(x, lengths)
        states = []
        for i in range(len(self.layers) if h.shape[1] else 0):
            h = self.run_layer(i, h, out_lengths, ctx)
            states.append(_zero_pad(h, out_lengths))
        return states, out_lengths


def chunk_mask(T: int, chunk: int, left_chunks: int = -1, device: torch.device | None = None) -> Tensor:
    """``(T, T)`` bool: query ``i`` may attend key ``j`` when ``j``'s chunk is ``i``'s or one of the
    ``left_chunks`` before it (``-1``: every earlier chunk); chunks of ``chunk`` frames."""
    idx = torch.arange(T, device=device) // chunk
    qc, kc = idx[:, None], idx[None, :]
    allowed = kc <= qc
    if left_chunks >= 0:
        allowed &= kc >= qc - left_chunks
    return allowed


def _zero_pad(h: Tensor, lengths: Tensor) -> Tensor:
    """Zero ``h (B, T, D)`` past ``lengths (B,)``."""
    return h.masked_fill(~padding_mask(lengths, h.shape[1])[:, :, None], 0.0)


# ---------------------------------------------------------------------------
# Subsampling
# ---------------------------------------------------------------------------


class Conv2dSubsampling(nn.Module):
    """Two 3x3 stride-2 convolutions over (time, frequency), then a linear layer (icefall / ESPnet).

    ``(B, T, F)`` -> ``(B, T', D)`` with ``T' = ((T - 1) // 2 - 1) // 2``;
    output frame ``t`` sees input frames ``4t .. 4t + 6``, all inside the
    utterance when ``t < T'``, so padding never reaches valid outputs.

    Args:
        input_dim: ``F``, feature dimension (at least 7).
        output_dim: ``D``.
        channels: convolution channels (default ``D``).
        dropout: applied to the output.
    """

    def __init__(self, input_dim: int, output_dim: int, channels: int | None = None, dropout: float = 0.0):
        super().__init__()
        if input_dim < MIN_INPUT_FRAMES:
            raise ValueError(f"Conv2dSubsampling needs input_dim >= {MIN_INPUT_FRAMES}, got {input_dim}")
        channels = channels or output_dim
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, stride=2),
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, stride=2),
            nn.ReLU(),
        )
        freq = ((input_dim - 1) // 2 - 1) // 2
        self.out = nn.Linear(channels * freq, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``x (B, T, F)``, ``lengths (B,)`` -> ``(B, T', D)``, ``(B,)``; ``T < 7`` gives ``T' = 0``."""
        B, T, _ = x.shape
        out_lengths = subsampled_lengths(lengths)
        if T < MIN_INPUT_FRAMES:
            return x.new_zeros(B, 0, self.out.out_features), out_lengths
        h = self.conv(x.unsqueeze(1))  # (B, C, T', F')
        b, c, t, f = h.shape
        h = self.out(h.transpose(1, 2).reshape(b, t, c * f))  # (B, T', D)
        return self.dropout(h), out_lengths


# ---------------------------------------------------------------------------
# Conformer
# ---------------------------------------------------------------------------


class FeedForward(nn.Module):
    """Pre-norm position-wise FFN ``(B, T, D) -> (B, T, D)``: LN, Linear, SiLU, dropout, Linear, dropout."""

    def __init__(self, d_model: int, ff_dim: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.w1 = nn.Linear(d_model, ff_dim)
        self.w2 = nn.Linear(ff_dim, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, T, D)`` -> ``(B, T, D)`` (the residual is added by the caller)."""
        return self.dropout(self.w2(self.dropout(F.silu(self.w1(self.norm(x))))))


class RelPositionalEncoding(nn.Module):
    """Sinusoidal embeddings of relative positions ``T-1, ..., 0, ..., -(T-1)``.

    Returns ``(2T - 1, D)``; row ``k`` encodes the offset ``(T - 1) - k``
    (query index minus key index), as in Transformer-XL / ESPnet's
    ``RelPositionalEncoding``.
    """

    def __init__(self, d_model: int):
        super().__init__()
        self.d_model = d_model

    def forward(self, T: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """``T`` -> ``(2T - 1, D)``."""
        pos = torch.arange(T - 1, -T, -1, device=device, dtype=torch.float32)[:, None]  # (2T-1, 1)
        inv = torch.exp(
            torch.arange(0, self.d_model, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / self.d_model)
        )
        pe = torch.zeros(2 * T - 1, self.d_model, device=device)
        pe[:, 0::2] = torch.sin(pos * inv)
        pe[:, 1::2] = torch.cos(pos * inv)
        return pe.to(dtype)


def _rel_shift(x: Tensor) -> Tensor:
    """``(B, H, T, 2T - 1)`` scores over offsets -> ``(B, H, T, T)`` scores over keys.

    Entry ``[i, k]`` of the input is offset ``(T - 1) - k``; the output's
    ``[i, j]`` is the input's ``[i, (T - 1) - (i - j)]``.
    """
    B, H, T, P = x.shape
    idx = (T - 1) - torch.arange(T, device=x.device)[:, None] + torch.arange(T, device=x.device)[None, :]  # (T, T)
    return x.gather(3, idx.expand(B, H, T, T))


def _rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate pairs ``(x[..., :d/2], x[..., d/2:])`` of ``x (B, H, T, d)`` by angles given as ``cos, sin (T, d/2)``."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class MultiHeadSelfAttention(nn.Module):
    """Pre-norm self-attention with relative (``rel``) or rotary (``rotary``) positions.

    ``rel``: score(i, j) = ``(q_i + u) k_j + (q_i + v) p_{i-j}`` over
    ``sqrt(d_head)``, with learned biases ``u, v (H, d_head)`` and ``p`` a
    projection of :class:`RelPositionalEncoding`. ``rotary``: queries and keys
    are rotated by their absolute positions, so ``q_i k_j`` depends on ``i - j``.
    Both run through ``F.scaled_dot_product_attention``.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float, pos: str):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        if pos not in ("rel", "rotary"):
            raise ValueError(f"pos must be 'rel' or 'rotary', got {pos!r}")
        self.h, self.d_head, self.pos = num_heads, d_model // num_heads, pos
        if pos == "rotary" and self.d_head % 2:
            raise ValueError(f"rotary positions need an even head dimension, got {self.d_head}")
        self.norm = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.attn_dropout = dropout
        self.dropout = nn.Dropout(dropout)
        if pos == "rel":
            self.linear_pos = nn.Linear(d_model, d_model, bias=False)
            self.pos_bias_u = nn.Parameter(torch.zeros(num_heads, self.d_head))
            self.pos_bias_v = nn.Parameter(torch.zeros(num_heads, self.d_head))
            nn.init.xavier_uniform_(self.pos_bias_u)
            nn.init.xavier_uniform_(self.pos_bias_v)

    def forward(self, x: Tensor, key_mask: Tensor, pos: Tensor | tuple[Tensor, Tensor]) -> Tensor:
        """Attend.

        Args:
            x: ``(B, T, D)``.
            key_mask: ``(B, T)`` bool, True on keys that may be attended to, or ``(B, T, T)``: per
                query (chunk masking).
            pos: ``rel``: ``(2T - 1, D)`` relative embeddings; ``rotary``:
                ``(cos, sin)``, each ``(T, d_head / 2)``.

        Returns:
            ``(B, T, D)`` (the residual is added by the caller).
        """
        B, T, D = x.shape
        q, k, v = self.qkv(self.norm(x)).view(B, T, 3, self.h, self.d_head).permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, d)
        mask = key_mask[:, None, None, :] if key_mask.dim() == 2 else key_mask[:, None]  # (B, 1, 1|T, T)
        if self.pos == "rel":
            p = self.linear_pos(pos).view(2 * T - 1, self.h, self.d_head).transpose(0, 1)  # (H, 2T-1, d)
            bd = torch.matmul(q + self.pos_bias_v[None, :, None, :], p.transpose(-1, -2))  # (B, H, T, 2T-1)
            bias = _rel_shift(bd) / math.sqrt(self.d_head)  # (B, H, T, T)
            bias = bias.masked_fill(~mask, float("-inf"))
            q = q + self.pos_bias_u[None, :, None, :]
            attn_mask: Tensor = bias.to(q.dtype)
        else:
            cos, sin = pos
            q, k = _rotary(q, cos, sin), _rotary(k, cos, sin)
            attn_mask = mask
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.attn_dropout if self.training else 0.0
        )  # (B, H, T, d)
        return self.dropout(self.out(y.transpose(1, 2).clone(memory_format=torch.contiguous_format).view(B, T, D)))


class ConvModule(nn.Module):
    """Conformer convolution module ``(B, T, D) -> (B, T, D)``.

    LN, pointwise conv to ``2D``, GLU, depthwise conv (``kernel_size``,
    same padding, or ``causal``: ``kernel_size - 1`` past frames), LayerNorm, SiLU, pointwise conv,
    dropout. Padded frames are zeroed before the depthwise convolution so they never leak in.
    """

    def __init__(self, d_model: int, kernel_size: int, dropout: float, causal: bool = False):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"conv_kernel must be odd, got {kernel_size}")
        self.norm = nn.LayerNorm(d_model)
        self.pointwise1 = nn.Linear(d_model, 2 * d_model)
        self.left = kernel_size - 1 if causal else 0  # causal: all the context on the left, padded by hand
        self.depthwise = nn.Conv1d(d_model, d_model, kernel_size, padding=0 if causal else kernel_size // 2,
                                   groups=d_model)
        self.conv_norm = nn.LayerNorm(d_model)
        self.pointwise2 = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, valid: Tensor) -> Tensor:
        """``x (B, T, D)``, ``valid (B, T)`` bool -> ``(B, T, D)`` (residual added by the caller)."""
        h = F.glu(self.pointwise1(self.norm(x)), dim=-1)  # (B, T, D)
        h = h.masked_fill(~valid[:, :, None], 0.0).transpose(1, 2)  # (B, D, T)
        if self.left:
            h = F.pad(h, (self.left, 0))
        h = self.depthwise(h).transpose(1, 2)  # (B, T, D)
        h = F.silu(self.conv_norm(h))
        return self.dropout(self.pointwise2(h))


class ConformerLayer(nn.Module):
    """One Conformer block ``(B, T, D) -> (B, T, D)``.

    ``x += FF(x) / 2; x += MHSA(x); x += Conv(x); x += FF(x) / 2; x = LN(x)``.
    """

    def __init__(self, d_model: int, num_heads: int, ff_dim: int, conv_kernel: int, dropout: float, pos: str,
                 causal_conv: bool = False):
        super().__init__()
        self.ff1 = FeedForward(d_model, ff_dim, dropout)
        self.attn = MultiHeadSelfAttention(d_model, num_heads, dropout, pos)
        self.conv = ConvModule(d_model, conv_kernel, dropout, causal_conv)
        self.ff2 = FeedForward(d_model, ff_dim, dropout)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, valid: Tensor, key_mask: Tensor, pos: Tensor | tuple[Tensor, Tensor]) -> Tensor:
        """``x (B, T, D)``; ``valid``/``key_mask (B, T)`` bool; ``pos`` as in :class:`MultiHeadSelfAttention`."""
        x = x + 0.5 * self.ff1(x)
        x = x + self.attn(x, key_mask, pos)
        x = x + self.conv(x, valid)
        x = x + 0.5 * self.ff2(x)
        return self.norm(x)


@register("encoder", "conformer")
class ConformerEncoder(Encoder):
    """Conv2d subsampling (x4), then ``num_layers`` :class:`ConformerLayer` blocks.

    ``forward(x (B, T, F), lengths (B,)) -> (y (B, T', D), lengths' (B,))``.

    Args:
        input_dim: ``F``, feature dimension.
        d_model: ``D``, model width.
        num_layers: Conformer blocks.
        num_heads: attention heads (must divide ``d_model``).
        ff_dim: hidden width of each feed-forward module (typically ``4 D``).
        conv_kernel: depthwise convolution width in output frames (odd).
        dropout: dropout everywhere (attention weights included).
        pos: ``"rel"`` (relative, Transformer-XL style) or ``"rotary"``.
        subsampling_channels: channels of the subsampling convolutions (default ``D``).
        causal_conv: depthwise convolutions over past frames only.
        dynamic_chunk: in training, each batch attends with full context (half the batches) or within
            chunks of 1-25 frames plus ``chunk_left`` chunks before (WeNet's dynamic chunk masking).
        chunk_left: left chunks under chunk masking (-1: all).

    ``chunk_frames`` (attribute, 0 by default: full context) fixes the chunk masking at run time
    (a model trained with ``dynamic_chunk`` decodes the way it will stream).
    """

    def __init__(
        self,
        input_dim: int,
        d_model: int = 256,
        num_layers: int = 12,
        num_heads: int = 4,
        ff_dim: int = 1024,
        conv_kernel: int = 31,
        dropout: float = 0.1,
        pos: str = "rel",
        subsampling_channels: int | None = None,
        causal_conv: bool = False,
        dynamic_chunk: bool = False,
        chunk_left: int = -1,
    ):
        super().__init__()
        self.output_dim = d_model
        self.pos = pos
        self.dynamic_chunk, self.chunk_left = dynamic_chunk, chunk_left
        self.chunk_frames = 0
        self.subsampling_module = Conv2dSubsampling(input_dim, d_model, subsampling_channels, dropout)
        self.layers = nn.ModuleList(
            ConformerLayer(d_model, num_heads, ff_dim, conv_kernel, dropout, pos, causal_conv) for _ in range(num_layers)
        )
        if pos == "rel":
            self.rel_pos = RelPositionalEncoding(d_model)
            self.pos_dropout = nn.Dropout(dropout)
        else:
            d_head = d_model // num_heads
            inv = 1.0 / (10000.0 ** (torch.arange(0, d_head, 2, dtype=torch.float32) / d_head))
            self.register_buffer("rotary_inv_freq", inv, persistent=False)  # (d_head / 2,)
        self.xscale = math.sqrt(d_model)

    def embed(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, dict]:
        """Subsample; build masks and position tensors. ``(B, T, F)`` -> ``(B, T', D)``, ``(B,)``, ctx."""
        h, out_lengths = self.subsampling_module(x, lengths)
        T = h.shape[1]
        valid = padding_mask(out_lengths, T)  # (B, T')
        # Every query needs one key it may see: an empty utterance attends to frame 0 (then is zeroed).
        key_mask = padding_mask(out_lengths.clamp(min=1), T)
        chunk = self.chunk_frames
        if self.training and self.dynamic_chunk:
            chunk = 0 if torch.rand(()) < 0.5 else int(torch.randint(1, 26, ()))
        if 0 < chunk < T:  # (B, T, T): a query sees keys of its own chunk and of the left chunks allowed
            key_mask = key_mask[:, None, :] & chunk_mask(T, chunk, self.chunk_left, h.device)[None]
        if self.pos == "rel":
            h = h * self.xscale
        return h, out_lengths, {"valid": valid, "key_mask": key_mask, "pos": self._positions(T, h)}

    def _positions(self, T: int, h: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """``rel``: ``(2T - 1, D)`` embeddings; ``rotary``: ``(cos, sin)``, each ``(T, d_head / 2)``."""
        if self.pos == "rel":
            return self.pos_dropout(self.rel_pos(max(T, 1), h.device, h.dtype))
        angles = torch.arange(T, device=h.device, dtype=torch.float32)[:, None] * self.rotary_inv_freq[None, :]
        return angles.cos().to(h.dtype), angles.sin().to(h.dtype)

    def run_layer(self, index: int, h: Tensor, lengths: Tensor, ctx: dict) -> Tensor:
        """Block ``index``: ``(B, T', D)`` -> ``(B, T', D)``."""
        return self.layers[index](h, ctx["valid"], ctx["key_mask"], ctx["pos"])

    def cache_frames(self, chunk: int) -> int | None:
        """Layer inputs a block keeps between chunks so that :meth:`forward_chunk` is exact: the
        ``chunk_left`` chunks its attention sees, plus the chunks its convolution's past frames reach
        (``None``: every frame, with ``chunk_left = -1``)."""
        if self.chunk_left < 0:
            return None
        conv_left = self.layers[0].conv.left if len(self.layers) else 0
        return chunk * (self.chunk_left + -(-conv_left // chunk))

    def forward_chunk(self, h: Tensor, cache: list[Tensor] | None, chunk: int) -> tuple[Tensor, list[Tensor]]:
        """Streaming: the next ``C <= chunk`` frames of :meth:`embed`'s output ``h (B, C, D)`` through every block.

        Each block runs on its cached inputs (whole chunks, so the window starts on a chunk boundary)
        followed by the new frames, under the chunk mask, and keeps the new frames' outputs: with a
        causal convolution this equals the chunk-masked forward over the whole utterance
        (``chunk_frames = chunk``), block by block.

        Returns:
            ``(B, C, D)`` outputs and the new cache (one ``(B, n, D)`` tensor per block).
        """
        keep = self.cache_frames(chunk)
        new_cache = []
        for i, layer in enumerate(self.layers):
            x = h if not cache else torch.cat([cache[i], h], dim=1)
            T = x.shape[1]
            valid = torch.ones(x.shape[0], T, dtype=torch.bool, device=x.device)
            mask = valid[:, None, :] & chunk_mask(T, chunk, self.chunk_left, x.device)[None]
            y = layer(x, valid, mask, self._positions(T, x))
            whole = (T // chunk) * chunk  # keep whole chunks only
            kept = x[:, :whole]
            new_cache.append(kept if keep is None else kept[:, max(0, whole - keep) :])
            h = y[:, T - h.shape[1] :]
        return h, new_cache


# ---------------------------------------------------------------------------
# BLSTM baseline
# ---------------------------------------------------------------------------


class BLSTMLayer(nn.Module):
    """Bidirectional LSTM over packed sequences, projected back to ``D``: ``(B, T, D) -> (B, T, D)``."""

    def __init__(self, d_model: int, hidden: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(d_model, hidden, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * hidden, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """``x (B, T, D)``, ``lengths (B,)`` -> ``(B, T, D)``."""
        T = x.shape[1]
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)  # (B, T, 2H)
        return self.dropout(self.proj(out))


@register("encoder", "blstm")
class BLSTMEncoder(Encoder):
    """Conv2d subsampling (x4), then ``num_layers`` bidirectional LSTM layers.

    ``forward(x (B, T, F), lengths (B,)) -> (y (B, T', D), lengths' (B,))``.

    Args:
        input_dim: ``F``.
        d_model: ``D``, width between layers and of the output.
        num_layers: BLSTM layers.
        lstm_hidden: LSTM units per direction.
        dropout: after subsampling and each layer.
        subsampling_channels: channels of the subsampling convolutions (default ``D``).
    """

    def __init__(
        self,
        input_dim: int,
        d_model: int = 256,
        num_layers: int = 4,
        lstm_hidden: int = 256,
        dropout: float = 0.1,
        subsampling_channels: int | None = None,
    ):
        super().__init__()
        self.output_dim = d_model
        self.subsampling_module = Conv2dSubsampling(input_dim, d_model, subsampling_channels, dropout)
        self.layers = nn.ModuleList(BLSTMLayer(d_model, lstm_hidden, dropout) for _ in range(num_layers))

    def embed(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, dict]:
        """Subsample: ``(B, T, F)`` -> ``(B, T', D)``, ``(B,)``, ``{}``."""
        h, out_lengths = self.subsampling_module(x, lengths)
        return h, out_lengths, {}

    def run_layer(self, index: int, h: Tensor, lengths: Tensor, ctx: dict) -> Tensor:
        """Layer ``index`` with a residual: ``(B, T', D)`` -> ``(B, T', D)``."""
        return h + self.layers[index](h, lengths)
