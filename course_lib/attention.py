"""Attention from scratch: scaled dot-product attention, masks, multi-head attention, positions, a block.

Defined in: notebooks/04_attention.ipynb

Everything the Transformer needs, written to be read (Vaswani et al. 2017, "Attention Is All You
Need", §3.2–§3.5; pre-LayerNorm blocks as in GPT-2, Radford et al. 2019, and Xiong et al. 2020):

    Attention(Q, K, V) = softmax(Q Kᵀ / √d + mask) V

* :func:`scaled_dot_product_attention` returns the output *and* the attention weights, so they can
  be looked at; it gives the same numbers as ``torch.nn.functional.scaled_dot_product_attention``.
* Masks are boolean with **True where attention is allowed** (PyTorch's ``F.scaled_dot_product_attention``
  convention; ``nn.MultiheadAttention``'s ``attn_mask`` uses the opposite one).
* :class:`MultiHeadAttention` splits the model width into ``n_heads`` heads, attends in each, and
  mixes the heads back; it carries a key/value cache for fast generation and can use PyTorch's
  fused kernel (``use_sdpa=True``) or the manual path (same numbers, plus the weights).
* :class:`TransformerBlock` is the pre-LayerNorm block ``x + attn(ln(x))``, ``x + mlp(ln(x))`` the
  course's GPT (``course_lib.models.gpt``) stacks.

The widgets of notebook 04 (the √d slider and the attention-pattern viewer) are built here too.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .widgets import InputError, Panel, require_text

# ----------------------------------------------------------------------------- core operation


def _shape(t) -> tuple:
    return tuple(t.shape)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, scale: float | None = None,
                                 dropout_p: float = 0.0, generator: torch.Generator | None = None):
    """softmax(q kᵀ · scale, masked) v, returning ``(output, weights)``.

    Shapes: q (…, T_q, d), k (…, T_k, d), v (…, T_k, d_v) → output (…, T_q, d_v) and weights
    (…, T_q, T_k); the leading dimensions ``…`` (batch, heads) must broadcast. ``scale`` defaults to
    1/√d. ``mask`` is a bool tensor broadcastable to (…, T_q, T_k), **True where attention is allowed**.

    A query row whose mask allows nothing (e.g. a padding position that may see no real token)
    gets all-zero weights and a zero output — not NaN, which a plain softmax over only −inf gives —
    and a zero gradient. ``F.scaled_dot_product_attention`` does the same.
    ``dropout_p`` drops attention weights (training only; rescaled by 1/(1−p)).

    Defined in: notebooks/04_attention.ipynb
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor) or t.dim() < 2:
            raise ValueError(f"{name} must be a tensor of shape (..., T, d) with at least 2 dimensions, "
                             f"got {type(t).__name__} {_shape(t) if isinstance(t, torch.Tensor) else ''}")
    if q.size(-1) != k.size(-1):
        raise ValueError(f"q (..., T_q, d) and k (..., T_k, d) must have the same last dimension d: "
                         f"got q {_shape(q)} and k {_shape(k)}")
    if k.size(-2) != v.size(-2):
        raise ValueError(f"k (..., T_k, d) and v (..., T_k, d_v) must have the same number of keys T_k: "
                         f"got k {_shape(k)} and v {_shape(v)}")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading (batch, head) dimensions of q, k, v must broadcast: got q {_shape(q)}, "
                         f"k {_shape(k)}, v {_shape(v)}") from None
    T_q, T_k = q.size(-2), k.size(-2)
    if scale is None:
        scale = 1.0 / math.sqrt(q.size(-1))
    scores = (q @ k.transpose(-2, -1)) * scale  # (…, T_q, T_k)
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"mask must be a bool tensor (True = may attend) broadcastable to (..., {T_q}, {T_k}), "
                            f"got {getattr(mask, 'dtype', type(mask).__name__)}")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise ValueError(f"mask of shape {_shape(mask)} does not broadcast to the scores' shape "
                             f"{_shape(scores)} (…, T_q={T_q}, T_k={T_k})") from None
        row_ok = mask.any(dim=-1, keepdim=True)  # (…, T_q, 1): does this query see anything?
        scores = scores.masked_fill(~mask, float("-inf"))
        scores = scores.masked_fill(~row_ok, 0.0)  # fully masked rows: avoid softmax(all −inf) = NaN
        weights = torch.softmax(scores, dim=-1)
        weights = weights.masked_fill(~row_ok, 0.0)  # … and give them zero weight on everything
    else:
        weights = torch.softmax(scores, dim=-1)  # (…, T_q, T_k)
    if dropout_p > 0.0:
        keep = torch.rand(weights.shape, generator=generator, device=weights.device) >= dropout_p
        weights = weights * keep / (1.0 - dropout_p)
    return weights @ v, weights  # (…, T_q, d_v), (…, T_q, T_k)


def causal_mask(T_q: int, T_k: int | None = None, device=None) -> torch.Tensor:
    """Bool mask (T_q, T_k), True where query i may attend key j, i.e. j ≤ i (no peeking ahead).

    With ``T_k > T_q`` the queries are the *last* T_q positions (new tokens after a key/value
    cache of T_k − T_q earlier ones): query i sits at position T_k − T_q + i.

    Defined in: notebooks/04_attention.ipynb
    """
    T_k = T_q if T_k is None else T_k
    if T_q < 0 or T_k < T_q:
        raise ValueError(f"causal_mask needs 0 <= T_q <= T_k, got T_q={T_q}, T_k={T_k}")
    return torch.ones(T_q, T_k, dtype=torch.bool, device=device).tril(diagonal=T_k - T_q)


def padding_mask(lengths: Sequence[int] | torch.Tensor, T: int) -> torch.Tensor:
    """Bool mask (B, 1, T), True on the first ``lengths[b]`` (real) tokens of each sequence.

    It broadcasts against scores (B, T_q, T) — every query may look only at real keys — and,
    after ``[:, None]``, against (B, H, T_q, T).

    Defined in: notebooks/04_attention.ipynb
    """
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or (lengths < 0).any() or (lengths > T).any():
        raise ValueError(f"lengths must be a 1-D list of integers in 0..{T}, got {lengths.tolist()}")
    return (torch.arange(T)[None, :] < lengths[:, None])[:, None, :]  # (B, 1, T)


# ----------------------------------------------------------------------------- the √d question


def entropy(weights: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy (nats) of probability rows: ln(T_k) for uniform attention, 0 for one-hot.

    Defined in: notebooks/04_attention.ipynb
    """
    return -(weights * torch.log(weights.clamp_min(1e-30))).sum(dim)


def softmax_jacobian_norm(weights: torch.Tensor) -> torch.Tensor:
    """Frobenius norm of ∂softmax/∂scores = diag(p) − p pᵀ for each row p (…, T_k) → (…).

    It is the size of the gradient that can flow back through the softmax into the scores: it
    goes to 0 when the softmax saturates (one weight ≈ 1), so the query/key weights stop learning.

    Defined in: notebooks/04_attention.ipynb
    """
    p = weights
    # ||diag(p) - p pᵀ||² = Σ_i p_i² − 2 Σ_i p_i³ + (Σ_i p_i²)²
    s2 = (p * p).sum(-1)
    return (s2 - 2 * (p ** 3).sum(-1) + s2 * s2).clamp_min(0).sqrt()


def softmax_saturation(dims: Sequence[int] = (4, 16, 64, 256, 1024), n_keys: int = 16, n_queries: int = 512,
                       seed: int = 0) -> pd.DataFrame:
    """Attention rows for random unit-variance queries and keys of width d, with and without ÷√d.

    q, k have independent N(0, 1) entries, so q·k has variance d. Returns one row per (d, scaling):
    mean entropy (nats; uniform = ln n_keys), mean largest weight, mean softmax-Jacobian norm, and
    the standard deviation of the scores.

    Defined in: notebooks/04_attention.ipynb
    """
    if not dims or any(int(d) < 1 for d in dims):
        raise ValueError(f"dims must be positive widths, got {list(dims)}")
    rows = []
    for d in dims:
        g = torch.Generator().manual_seed(seed + int(d))
        q = torch.randn(n_queries, 1, int(d), generator=g, dtype=torch.float64)
        k = torch.randn(n_queries, n_keys, int(d), generator=g, dtype=torch.float64)
        for label, scale in (("÷√d", 1 / math.sqrt(d)), ("none", 1.0)):
            scores = (q @ k.transpose(-2, -1)).squeeze(1) * scale  # (N, n_keys)
            w = torch.softmax(scores, dim=-1)
            rows.append({"d": int(d), "scaling": label, "entropy": entropy(w).mean().item(),
                         "max_weight": w.max(-1).values.mean().item(),
                         "jacobian_norm": softmax_jacobian_norm(w).mean().item(),
                         "score_std": scores.std().item()})
    return pd.DataFrame(rows)


def saturation_panel(n_keys: int = 12, seed: int = 0) -> Panel:
    """Widget: a slider for the width d → one query's attention row with and without ÷√d.

    The title reports each row's entropy and softmax-Jacobian norm (the gradient size).

    Defined in: notebooks/04_attention.ipynb
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    import seaborn as sns

    def render(d: int):
        d = int(d)
        if d < 1:
            raise InputError(f"d must be a positive width, got {d}")
        g = torch.Generator().manual_seed(seed)
        q = torch.randn(1, d, generator=g, dtype=torch.float64)
        k = torch.randn(n_keys, d, generator=g, dtype=torch.float64)
        frames, info = [], {}
        for label, scale in (("÷√d", 1 / math.sqrt(d)), ("none", 1.0)):
            wts = torch.softmax((q @ k.T).squeeze(0) * scale, -1)
            info[label] = (entropy(wts).item(), softmax_jacobian_norm(wts).item())
            frames.append(pd.DataFrame({"key": np.arange(n_keys), "weight": wts.numpy(), "scaling": label}))
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        sns.barplot(data=pd.concat(frames), x="key", y="weight", hue="scaling", ax=ax)
        ax.set_ylim(0, 1)
        ax.set_ylabel("attention weight")
        (es, js), (eu, ju) = info["÷√d"], info["none"]
        ax.set_title(f"d={d}: entropy {es:.2f} vs {eu:.2f} nats (uniform {math.log(n_keys):.2f}); "
                     f"gradient size {js:.3f} vs {ju:.3f}", fontsize=10)
        return fig

    slider = w.SelectionSlider(options=[2 ** i for i in range(0, 13)], value=64, description="d",
                               continuous_update=False)
    return Panel({"d": slider}, render, title=f"Why divide by √d: one query, {n_keys} keys, with (÷√d) and without scaling")


# ----------------------------------------------------------------------------- positions


def sinusoidal_positions(T: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed encodings of Vaswani et al. (2017, §3.5): (T, d_model).

    PE[t, 2i] = sin(t / base^(2i/d)), PE[t, 2i+1] = cos(t / base^(2i/d)).

    Defined in: notebooks/04_attention.ipynb
    """
    if T < 0 or d_model < 2 or d_model % 2:
        raise ValueError(f"sinusoidal_positions needs T >= 0 and an even d_model >= 2, got T={T}, d_model={d_model}")
    pos = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    freq = base ** (-torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)  # (d/2,)
    pe = torch.zeros(T, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


class _Positions(nn.Module):
    max_len: int

    def _check(self, x: torch.Tensor, offset: int) -> int:
        if x.dim() != 3 or x.size(-1) != self.d_model:
            raise ValueError(f"expected x of shape (B, T, {self.d_model}), got {_shape(x)}")
        T = x.size(1)
        if offset < 0 or offset + T > self.max_len:
            raise ValueError(f"positions {offset}..{offset + T - 1} are outside the {self.max_len} positions "
                             f"this encoding knows (max_len={self.max_len})")
        return T


class SinusoidalPositionalEncoding(_Positions):
    """Adds fixed sine/cosine position vectors: x (B, T, C) → x + PE[offset : offset + T].

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.max_len, self.d_model = int(max_len), int(d_model)
        self.register_buffer("pe", sinusoidal_positions(self.max_len, self.d_model), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        T = self._check(x, offset)
        return x + self.pe[offset:offset + T]  # (B, T, C)


class LearnedPositionalEncoding(_Positions):
    """Adds a learned vector per position (GPT-2 style): x (B, T, C) → x + W[offset : offset + T].

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, max_len: int, d_model: int, init_std: float = 0.02):
        super().__init__()
        self.max_len, self.d_model = int(max_len), int(d_model)
        self.weight = nn.Parameter(torch.randn(self.max_len, self.d_model) * init_std)  # (T_max, C)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        T = self._check(x, offset)
        return x + self.weight[offset:offset + T]  # (B, T, C)


# ----------------------------------------------------------------------------- multi-head attention


class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al. 2017, §3.2.2), written out.

    ``d_model`` is split into ``n_heads`` heads of width ``d_head = d_model / n_heads``; each head
    attends with its own projections of the input; the heads' outputs are concatenated and mixed
    by ``out_proj``.

    ``forward(query, key=None, value=None, mask=None, causal=False, past_kv=None, need_weights=False)``:

    * query (B, T_q, d_model); key/value (B, T_k, d_model), default = query (self-attention);
    * ``mask``: bool, True = allowed, broadcastable to (B, n_heads, T_q, T_k);
    * ``causal``: also forbid attending to later positions;
    * ``past_kv``: the ``(k, v)`` this layer returned earlier, each (B, n_heads, T_past, d_head);
      the new keys/values are appended (self-attention with a cache: the queries are the newest
      positions);
    * returns ``(output (B, T_q, d_model), weights (B, n_heads, T_q, T_k) or None, (k, v))``.
      Weights come from the manual path only (``need_weights=True`` forces it).

    ``use_sdpa=True`` computes attention with ``F.scaled_dot_product_attention`` (a fused kernel);
    the manual path (:func:`scaled_dot_product_attention`) gives the same numbers.

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True, use_sdpa: bool = False):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = dropout
        self.use_sdpa = use_sdpa

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, T, d)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, H, T, d = x.shape
        return x.transpose(1, 2).reshape(B, T, H * d)  # (B, T, C)

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, causal: bool = False,
                past_kv: tuple[torch.Tensor, torch.Tensor] | None = None, need_weights: bool = False):
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, torch.Tensor) or t.dim() != 3 or t.size(-1) != self.d_model:
                raise ValueError(f"{name} must have shape (B, T, d_model={self.d_model}), "
                                 f"got {_shape(t) if isinstance(t, torch.Tensor) else type(t).__name__}")
        if key.shape[:2] != value.shape[:2] or key.size(0) != query.size(0):
            raise ValueError(f"query (B, T_q, C), key and value (B, T_k, C) must share B (and key/value T_k): "
                             f"got {_shape(query)}, {_shape(key)}, {_shape(value)}")
        q = self.split_heads(self.q_proj(query))  # (B, H, T_q, d)
        k = self.split_heads(self.k_proj(key))    # (B, H, T_k, d)
        v = self.split_heads(self.v_proj(value))  # (B, H, T_k, d)
        if past_kv is not None:
            pk, pv = past_kv
            if pk.shape[:2] != k.shape[:2] or pk.size(-1) != self.d_head or pv.shape != pk.shape:
                raise ValueError(f"past_kv must be (k, v) of shape (B={k.size(0)}, H={self.n_heads}, T_past, "
                                 f"{self.d_head}), got {_shape(pk)} and {_shape(pv)}")
            k = torch.cat([pk, k], dim=2)  # (B, H, T_past + T_k, d)
            v = torch.cat([pv, v], dim=2)
        T_q, T_k = q.size(2), k.size(2)
        full_mask = mask
        if causal and T_q > 1:  # a single newest query may see every key: no mask needed
            cm = causal_mask(T_q, T_k, device=q.device)  # (T_q, T_k)
            full_mask = cm if mask is None else (mask & cm)
        p = self.dropout if self.training else 0.0
        if self.use_sdpa and not need_weights:
            if causal and mask is None and T_q == T_k:
                y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # fused causal kernel
            else:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=full_mask, dropout_p=p)
            weights = None
        else:
            y, weights = scaled_dot_product_attention(q, k, v, mask=full_mask, dropout_p=p)  # (B, H, T_q, d)
        return self.out_proj(self.merge_heads(y)), weights, (k, v)


class TransformerBlock(nn.Module):
    """A pre-LayerNorm Transformer block: ``x + attn(ln1(x))`` then ``x + mlp(ln2(x))``.

    Pre-LN (GPT-2; Xiong et al. 2020) keeps a clean residual path, so deep stacks train without
    the learning-rate warm-up that the original post-LN block needs. The MLP is
    Linear(C, 4C) → GELU → Linear(4C, C). ``forward(x, causal=True, past_kv=None, need_weights=False)``
    returns ``(x (B, T, C), weights or None, (k, v))``.

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True,
                 mlp_ratio: int = 4, use_sdpa: bool = False):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model, bias=bias)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout=dropout, bias=bias, use_sdpa=use_sdpa)
        self.ln2 = nn.LayerNorm(d_model, bias=bias)
        self.mlp = nn.Sequential(nn.Linear(d_model, mlp_ratio * d_model, bias=bias), nn.GELU(),
                                 nn.Linear(mlp_ratio * d_model, d_model, bias=bias), nn.Dropout(dropout))
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, causal: bool = True,
                past_kv=None, need_weights: bool = False):
        a, weights, kv = self.attn(self.ln1(x), mask=mask, causal=causal, past_kv=past_kv, need_weights=need_weights)
        x = x + self.resid_drop(a)  # (B, T, C)
        x = x + self.mlp(self.ln2(x))  # (B, T, C)
        return x, weights, kv


# ----------------------------------------------------------------------------- reading attention patterns


def head_pattern_scores(maps: Sequence[torch.Tensor], ids: torch.Tensor | None = None,
                        space_ids: Sequence[int] = ()) -> pd.DataFrame:
    """How much each head attends to a few simple targets, averaged over queries (and the batch).

    ``maps``: a list over layers of causal attention weights (B, H, T, T) (``GPT.attention_maps``).
    Columns: ``previous`` (weight on position t−1), ``current`` (on t itself), ``first`` (on
    position 0), ``mean_distance`` (expected t − j), and — when ``ids`` (B, T) and ``space_ids``
    are given — ``last_space`` (weight on the most recent space/newline strictly before t).
    Query 0 is skipped (it can only attend to itself).

    Defined in: notebooks/04_attention.ipynb
    """
    if not maps:
        raise ValueError("maps must be a non-empty list of (B, H, T, T) attention weights, one per layer")
    rows = []
    T = maps[0].size(-1)
    if T < 2:
        raise ValueError(f"need at least 2 positions to score heads, got T={T}")
    t = torch.arange(T)
    dist = (t[:, None] - t[None, :]).clamp_min(0).float()  # (T, T)
    last_space = None
    if ids is not None and len(space_ids):
        is_space = torch.isin(ids, torch.as_tensor(list(space_ids)))  # (B, T)
        pos = torch.where(is_space, t, torch.full_like(t, -1))  # (B, T)
        latest = torch.cummax(pos, dim=1).values  # most recent space at or before t
        before = torch.cat([torch.full_like(latest[:, :1], -1), latest[:, :-1]], dim=1)  # strictly before t
        last_space = before  # (B, T), −1 where none
    for li, m in enumerate(maps):
        if m.dim() != 4 or m.size(-1) != m.size(-2):
            raise ValueError(f"layer {li}: expected attention weights (B, H, T, T), got {_shape(m)}")
        m = m.float()
        for h in range(m.size(1)):
            a = m[:, h]  # (B, T, T)
            row = {"layer": li, "head": h,
                   "previous": a[:, t[1:], t[1:] - 1].mean().item(),
                   "current": a[:, t[1:], t[1:]].mean().item(),
                   "first": a[:, 1:, 0].mean().item(),
                   "mean_distance": (a * dist).sum(-1)[:, 1:].mean().item()}
            if last_space is not None:
                idx = last_space.clamp_min(0)[:, :, None]  # (B, T, 1)
                got = a.gather(-1, idx).squeeze(-1)  # (B, T)
                valid = last_space[:, 1:] >= 0
                row["last_space"] = got[:, 1:][valid].mean().item() if valid.any() else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)


def attention_viewer_panel(model, tokenizer, passages: dict[str, str], max_chars: int = 64) -> Panel:
    """Widget: choose layer, head and passage (or type your own) → that head's attention heatmap.

    ``model`` has ``attention_maps(idx)`` (a list over layers of (B, H, T, T)), e.g. the course's
    GPT; ``tokenizer`` is a :class:`course_lib.data.CharTokenizer`. The title reports the head's
    mean weight on the previous character. Unknown characters or an empty box raise
    :class:`InputError` (shown kindly in the panel).

    Defined in: notebooks/04_attention.ipynb
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from .plots import heatmap

    if not passages:
        raise ValueError("give at least one passage, e.g. {'Romeo': 'But, soft! what light ...'}")
    own = "(type your own)"

    @lru_cache(maxsize=32)
    def maps_for(text: str):
        with torch.no_grad():
            return [m[0] for m in model.attention_maps(torch.tensor([tokenizer.encode(text)]))]  # [(H, T, T)]

    def render(layer: int, head: int, passage: str, text: str):
        if passage == own:
            text = require_text(text, "a passage (a few words)")
        elif passage in passages:
            text = passages[passage]
        else:
            raise InputError(f"unknown passage {passage!r}; choose one of {list(passages)}")
        text = text[:max_chars]
        bad = tokenizer.unknown(text)
        if bad:
            raise InputError(f"these characters are not in the model's vocabulary: {''.join(bad)!r}")
        if len(text) < 2:
            raise InputError("type at least two characters")
        maps = maps_for(text)
        if not 0 <= layer < len(maps) or not 0 <= head < maps[0].size(0):
            raise InputError(f"layer must be 0..{len(maps) - 1} and head 0..{maps[0].size(0) - 1}")
        a = maps[layer][head]  # (T, T)
        prev = a[torch.arange(1, len(text)), torch.arange(len(text) - 1)].mean().item()
        labels = [repr(c)[1:-1] if c in " \n" else c for c in text]
        labels = ["␣" if c == " " else c for c in labels]
        size = max(5.0, 0.16 * len(text) + 1.5)
        fig, ax = plt.subplots(figsize=(size + 1, size))
        heatmap(a, xticklabels=labels, yticklabels=labels, ax=ax, annot=False, vmin=0, vmax=1,
                xlabel="key (attended to)", ylabel="query (predicting the next char)")
        ax.tick_params(labelsize=7)
        ax.set_title(f"layer {layer}, head {head}: mean weight on previous char {prev:.2f}", fontsize=10)
        return fig

    first = next(iter(passages))
    first_maps = maps_for(passages[first][:max_chars])
    n_layer, H = len(first_maps), first_maps[0].size(0)
    controls = {"layer": w.IntSlider(value=0, min=0, max=n_layer - 1, description="layer", continuous_update=False),
                "head": w.IntSlider(value=0, min=0, max=H - 1, description="head", continuous_update=False),
                "passage": w.Dropdown(options=list(passages) + [own], value=first, description="passage"),
                "text": w.Text(value="", placeholder="your own passage (choose '(type your own)')",
                               description="text")}
    return Panel(controls, render, title="Attention pattern of one head (rows: queries, columns: keys)")
