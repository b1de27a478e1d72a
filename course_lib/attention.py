"""Attention from scratch: scaled dot-product attention, masks, multi-head attention, positions, a block.

Defined in: notebooks/04_attention.ipynb

Everything the Transformer needs, written to be read (Vaswani et al. 2017, "Attention Is All You
Need", §3.2–§3.5; pre-LayerNorm blocks as in GPT-2, Radford et al. 2019, and Xiong et al. 2020):

    Attention(Q, K, V) = softmax(Q Kᵀ / √d + mask) V

* :func:`scaled_dot_product_attention` returns the output *and* the attention weights, so they can
  be looked at; it gives the same numbers as ``torch.nn.functional.scaled_dot_product_attention``.
* Masks are boolean with **True where attention is allowed** (PyTorch's ``F.scaled_dot_product_attention``
  convention; ``nn.MultiheadAttention``'s ``attn_mask`` uses the opposite one).
* :class:`MultiHeadAttention` splits the model width into ``n_head`` heads, attends in each, and
  mixes the heads back; it carries a key/value cache for fast generation and can use PyTorch's
  fused kernel (``use_sdpa=True``) or the manual path (same numbers, plus the weights).
* :class:`TransformerBlock` is the pre-LayerNorm block ``x + attn(ln(x))``, ``x + mlp(ln(x))`` the
  course's GPT (``course_lib.models.gpt``) stacks; ``norm="post"`` (Vaswani et al.) and
  ``norm="none"`` / ``residual=False`` exist for notebook 04's ablation.
* :func:`apply_rotary` rotates queries and keys by their positions (RoPE, Su et al. 2021).

Names follow nanoGPT: ``n_embd`` (model width C), ``n_head`` (heads H), ``head_size`` (C / H).
Notebook 04's widgets live in :mod:`course_lib.labs.attention`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .checks import (
    MAX_WIDTH,
    check_choice,
    check_flag,
    check_float,
    check_int,
    check_mask,
    check_probability,
    check_seed,
    check_tensor,
)
from .data import _check_device
from .errors import ArgumentError, ArgumentTypeError

if TYPE_CHECKING:  # for annotations only: importing the GPT must not load pandas
    import pandas as pd

# ----------------------------------------------------------------------------- core operation


def _shape(t) -> tuple:
    return tuple(t.shape)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    scale: float | None = None,
    dropout_p: float = 0.0,
    generator: torch.Generator | None = None,
):
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
    scale = _check_attention_args(q, k, v, scale, dropout_p)
    scores = (q @ k.transpose(-2, -1)) * scale  # (…, T_q, T_k)
    if mask is not None:
        check_mask(mask, "mask", scores.shape)
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


def _check_attention_args(q, k, v, scale, dropout_p) -> float:
    """Shapes of q, k, v (…, T, d); returns the scale (1/√d by default)."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(t, name, dtype="float")
        if t.dim() < 2:
            raise ArgumentError(f"{name} must have shape (..., T, d), got {_shape(t)}")
    if q.size(-1) != k.size(-1):
        raise ArgumentError(
            f"q (..., T_q, d) and k (..., T_k, d) must have the same last dimension d: "
            f"got q {_shape(q)} and k {_shape(k)}"
        )
    if k.size(-2) != v.size(-2):
        raise ArgumentError(
            f"k (..., T_k, d) and v (..., T_k, d_v) must have the same number of keys T_k: "
            f"got k {_shape(k)} and v {_shape(v)}"
        )
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ArgumentError(
            f"the leading (batch, head) dimensions of q, k, v must broadcast: got q {_shape(q)}, "
            f"k {_shape(k)}, v {_shape(v)}"
        ) from None
    check_probability(dropout_p, "dropout_p", allow_one=False)
    if scale is None:
        return 1.0 / math.sqrt(q.size(-1))
    return check_float(scale, "scale", min=0.0, min_open=True)


def causal_mask(T_q: int, T_k: int | None = None, device=None) -> torch.Tensor:
    """Bool mask (T_q, T_k), True where query i may attend key j, i.e. j ≤ i (no peeking ahead).

    With ``T_k > T_q`` the queries are the *last* T_q positions (new tokens after a key/value
    cache of T_k − T_q earlier ones): query i sits at position T_k − T_q + i.

    Defined in: notebooks/04_attention.ipynb
    """
    T_q = check_int(T_q, "T_q", min=0, max=1_000_000)
    T_k = T_q if T_k is None else check_int(T_k, "T_k", min=0, max=1_000_000)
    if T_k * T_q > 100_000_000:
        raise ArgumentError(f"a causal mask of T_q={T_q} × T_k={T_k} is too large (the limit is 10⁸ entries)")
    if T_q < 0 or T_k < T_q:
        raise ArgumentError(f"causal_mask needs 0 <= T_q <= T_k, got T_q={T_q}, T_k={T_k}")
    device = _check_device(device)
    return torch.ones(T_q, T_k, dtype=torch.bool, device=device).tril(diagonal=T_k - T_q)


def padding_mask(lengths: Sequence[int] | torch.Tensor, T: int) -> torch.Tensor:
    """Bool mask (B, 1, T), True on the first ``lengths[b]`` (real) tokens of each sequence.

    It broadcasts against scores (B, T_q, T) — every query may look only at real keys — and,
    after ``[:, None]``, against (B, H, T_q, T).

    Defined in: notebooks/04_attention.ipynb
    """
    T = check_int(T, "T", min=0, max=1_000_000)
    if isinstance(lengths, torch.Tensor):
        check_tensor(lengths, "lengths", dim=1, dtype="integer")
    elif isinstance(lengths, (str, bytes)) or not isinstance(lengths, Sequence):
        raise ArgumentTypeError(f"lengths must be a list or 1-D tensor of integers, got {type(lengths).__name__}")
    else:
        lengths = [check_int(n, "each length", min=0) for n in lengths]
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.dim() != 1 or (lengths < 0).any() or (lengths > T).any():
        raise ArgumentError(f"lengths must be a 1-D list of integers in 0..{T}, got {lengths.tolist()}")
    return (torch.arange(T)[None, :] < lengths[:, None])[:, None, :]  # (B, 1, T)


# ----------------------------------------------------------------------------- the √d question


def entropy(weights: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy (nats) of probability rows: ln(T_k) for uniform attention, 0 for one-hot.

    Defined in: notebooks/04_attention.ipynb
    """
    check_tensor(weights, "weights", dtype="float")
    dim = check_int(dim, "dim", min=-max(weights.dim(), 1), max=max(weights.dim(), 1) - 1)
    return -(weights * torch.log(weights.clamp_min(1e-30))).sum(dim)


def softmax_jacobian_norm(weights: torch.Tensor) -> torch.Tensor:
    """Frobenius norm of ∂softmax/∂scores = diag(p) − p pᵀ for each row p (…, T_k) → (…).

    It is the size of the gradient that can flow back through the softmax into the scores: it
    goes to 0 when the softmax saturates (one weight ≈ 1), so the query/key weights stop learning.

    Defined in: notebooks/04_attention.ipynb
    """
    p = check_tensor(weights, "weights", dtype="float")
    # ||diag(p) - p pᵀ||² = Σ_i p_i² − 2 Σ_i p_i³ + (Σ_i p_i²)²
    s2 = (p * p).sum(-1)
    return (s2 - 2 * (p**3).sum(-1) + s2 * s2).clamp_min(0).sqrt()


#: softmax_saturation draws at most this many random numbers (seconds of work).
MAX_SATURATION_WORK = 20_000_000


def softmax_saturation(
    dims: Sequence[int] = (4, 16, 64, 256, 1024), n_keys: int = 16, n_queries: int = 512, seed: int = 0
) -> pd.DataFrame:
    """Attention rows for random unit-variance queries and keys of width d, with and without ÷√d.

    q, k have independent N(0, 1) entries, so q·k has variance d. Returns one row per (d, scaling):
    mean entropy (nats; uniform = ln n_keys), mean largest weight, mean softmax-Jacobian norm, and
    the standard deviation of the scores.

    Defined in: notebooks/04_attention.ipynb
    """
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence):
        raise ArgumentTypeError(f"dims must be a list of integers, got {type(dims).__name__}")
    dims = [check_int(d, "each of dims", min=1, max=100_000) for d in dims]
    n_keys = check_int(n_keys, "n_keys", min=1, max=100_000)
    n_queries = check_int(n_queries, "n_queries", min=1, max=100_000)
    seed = check_seed(seed)
    if n_queries * n_keys * sum(dims) > MAX_SATURATION_WORK:
        raise ArgumentError(
            f"n_queries × n_keys × sum(dims) = {n_queries * n_keys * sum(dims):,} random numbers is too many "
            f"(the limit is {MAX_SATURATION_WORK:,}; the notebook's default uses about 11 million)"
        )
    import pandas as pd  # only here: importing the GPT must not load pandas

    if not dims or any(int(d) < 1 for d in dims):
        raise ArgumentError(f"dims must be positive widths, got {list(dims)}")
    rows = []
    for d in dims:
        g = torch.Generator().manual_seed(seed + int(d))
        q = torch.randn(n_queries, 1, int(d), generator=g, dtype=torch.float64)
        k = torch.randn(n_queries, n_keys, int(d), generator=g, dtype=torch.float64)
        for label, scale in (("÷√d", 1 / math.sqrt(d)), ("none", 1.0)):
            scores = (q @ k.transpose(-2, -1)).squeeze(1) * scale  # (N, n_keys)
            w = torch.softmax(scores, dim=-1)
            rows.append(
                {
                    "d": int(d),
                    "scaling": label,
                    "entropy": entropy(w).mean().item(),
                    "max_weight": w.max(-1).values.mean().item(),
                    "jacobian_norm": softmax_jacobian_norm(w).mean().item(),
                    "score_std": scores.std().item(),
                }
            )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- positions


def sinusoidal_positions(T: int, n_embd: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed encodings of Vaswani et al. (2017, §3.5): (T, n_embd).

    PE[t, 2i] = sin(t / base^(2i/C)), PE[t, 2i+1] = cos(t / base^(2i/C)).

    Defined in: notebooks/04_attention.ipynb
    """
    check_int(T, "T", min=0, max=1_000_000)
    check_int(n_embd, "n_embd", min=2, max=1_000_000)
    base = check_float(base, "base", min=0.0, min_open=True)
    if n_embd % 2:
        raise ArgumentError(f"n_embd must be even for sine/cosine pairs, got {n_embd}")
    if T * n_embd > MAX_TABLE:
        raise ArgumentError(f"T × n_embd = {T * n_embd:,} numbers is too large (the limit is {MAX_TABLE:,})")
    pos = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    freq = base ** (-torch.arange(0, n_embd, 2, dtype=torch.float32) / n_embd)  # (C/2,)
    pe = torch.zeros(T, n_embd)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


#: A position table may hold at most this many numbers (400 MB of float32).
MAX_TABLE = 100_000_000


def _check_table(max_len: int, n_embd: int) -> tuple[int, int]:
    max_len, n_embd = check_int(max_len, "max_len", min=1), check_int(n_embd, "n_embd", min=1)
    if max_len * n_embd > MAX_TABLE:
        raise ArgumentError(f"max_len × n_embd = {max_len * n_embd:,} numbers is too many (the limit is {MAX_TABLE:,})")
    return max_len, n_embd


class _Positions(nn.Module):
    max_len: int
    n_embd: int

    def _check(self, x: torch.Tensor, offset: int) -> int:
        if x.dim() != 3 or x.size(-1) != self.n_embd:
            raise ArgumentError(f"expected x of shape (B, T, {self.n_embd}), got {_shape(x)}")
        T = x.size(1)
        if offset < 0 or offset + T > self.max_len:
            raise ArgumentError(
                f"positions {offset}..{offset + T - 1} are outside the {self.max_len} positions "
                f"this encoding knows (max_len={self.max_len})"
            )
        return T


class SinusoidalPositionalEncoding(_Positions):
    """Adds fixed sine/cosine position vectors: x (B, T, C) → x + PE[offset : offset + T].

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, max_len: int, n_embd: int):
        super().__init__()
        self.max_len, self.n_embd = _check_table(max_len, n_embd)
        self.register_buffer("pe", sinusoidal_positions(self.max_len, self.n_embd), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        T = self._check(x, offset)
        return x + self.pe[offset : offset + T]  # (B, T, C)


class LearnedPositionalEncoding(_Positions):
    """Adds a learned vector per position (GPT-2 style): x (B, T, C) → x + W[offset : offset + T].

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, max_len: int, n_embd: int, init_std: float = 0.02):
        super().__init__()
        self.max_len, self.n_embd = _check_table(max_len, n_embd)
        init_std = check_float(init_std, "init_std", min=0.0)
        self.weight = nn.Parameter(torch.randn(self.max_len, self.n_embd) * init_std)  # (T_max, C)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        T = self._check(x, offset)
        return x + self.weight[offset : offset + T]  # (B, T, C)


def apply_rotary(x: torch.Tensor, offset: int = 0, base: float = 10000.0) -> torch.Tensor:
    """Rotary position embedding (RoPE, Su et al. 2021): rotate each pair of features by an angle ∝ position.

    x (B, H, T, d) holds queries or keys at positions offset … offset + T − 1; feature pair
    (2i, 2i + 1) turns by angle t · base^(−2i/d). Because rotations compose, the score
    q_t · k_s depends on t − s only: relative positions, with no table of absolute positions to
    outgrow (unlike a learned encoding, which knows only the positions it was trained on).

    Defined in: notebooks/04_attention.ipynb
    """
    check_tensor(x, "x", dim=4, dtype="float")
    offset = check_int(offset, "offset", min=0)
    base = check_float(base, "base", min=0.0, min_open=True)
    B, H, T, d = x.shape
    if d % 2:
        raise ArgumentError(f"RoPE rotates pairs of features: head_size must be even, got {d}")
    pos = torch.arange(offset, offset + T, dtype=torch.float32, device=x.device)[:, None]  # (T, 1)
    freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d)  # (d/2,)
    angle = pos * freq  # (T, d/2)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (B, H, T, d/2) each
    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)  # (B, H, T, d/2, 2)
    return out.flatten(-2)  # (B, H, T, d)


# ----------------------------------------------------------------------------- multi-head attention


class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al. 2017, §3.2.2), written out.

    The width ``n_embd`` is split into ``n_head`` heads of ``head_size = n_embd / n_head``; each head
    attends with its own projections of the input; the heads' outputs are concatenated and mixed
    by ``out_proj``.

    ``forward(query, key=None, value=None, mask=None, causal=False, past_kv=None, need_weights=False)``:

    * query (B, T_q, C); key/value (B, T_k, C), default = query (self-attention);
    * ``mask``: bool, True = allowed, with 4 dimensions broadcastable to (B, n_head, T_q, T_k) — a
      (B, T) padding mask must be given as ``mask[:, None, None, :]``;
    * ``causal``: also forbid attending to later positions;
    * ``past_kv``: the ``(k, v)`` this layer returned earlier, each (B, n_head, T_past, head_size);
      the new keys/values are appended (self-attention with a cache: the queries are the newest
      positions);
    * returns ``(output (B, T_q, C), weights (B, n_head, T_q, T_k) or None, (k, v))``.
      Weights come from the manual path only (``need_weights=True`` forces it).

    ``use_sdpa=True`` computes attention with ``F.scaled_dot_product_attention`` (a fused kernel);
    the manual path (:func:`scaled_dot_product_attention`) gives the same numbers. ``rope=True``
    rotates queries and keys by their positions (:func:`apply_rotary`).

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        dropout: float = 0.0,
        bias: bool = True,
        use_sdpa: bool = False,
        rope: bool = False,
    ):
        super().__init__()
        check_int(n_embd, "n_embd", min=1, max=MAX_WIDTH)
        check_int(n_head, "n_head", min=1, max=MAX_WIDTH)
        if n_embd % n_head:
            raise ArgumentError(f"n_embd={n_embd} must be divisible by n_head={n_head}")
        bias, use_sdpa, rope = check_flag(bias, "bias"), check_flag(use_sdpa, "use_sdpa"), check_flag(rope, "rope")
        self.n_embd, self.n_head, self.head_size = n_embd, n_head, n_embd // n_head
        self.q_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.k_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.v_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.out_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.dropout = check_probability(dropout, "dropout", allow_one=False)
        self.use_sdpa = use_sdpa
        self.rope = rope

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_head, self.head_size).transpose(1, 2)  # (B, H, T, d)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, H, T, d = x.shape
        return x.transpose(1, 2).reshape(B, T, H * d)  # (B, T, C)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        causal: bool = False,
        past_kv: tuple[torch.Tensor, torch.Tensor] | None = None,
        need_weights: bool = False,
    ):
        key = query if key is None else key
        value = key if value is None else value
        self._check_inputs(query, key, value, past_kv)
        q = self.split_heads(self.q_proj(query))  # (B, H, T_q, d)
        k = self.split_heads(self.k_proj(key))  # (B, H, T_k, d)
        v = self.split_heads(self.v_proj(value))  # (B, H, T_k, d)
        past = 0 if past_kv is None else past_kv[0].size(2)
        if self.rope:  # rotate by absolute position; the scores then depend on distance only
            q, k = apply_rotary(q, offset=past), apply_rotary(k, offset=past)
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)  # (B, H, T_past + T_k, d)
            v = torch.cat([past_kv[1], v], dim=2)
        T_q, T_k = q.size(2), k.size(2)
        if mask is not None:
            check_mask(mask, "mask", (q.size(0), self.n_head, T_q, T_k), exact_dims=True)
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

    def _check_inputs(self, query, key, value, past_kv) -> None:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, torch.Tensor) or t.dim() != 3 or t.size(-1) != self.n_embd:
                raise ArgumentError(
                    f"{name} must have shape (B, T, n_embd={self.n_embd}), "
                    f"got {_shape(t) if isinstance(t, torch.Tensor) else type(t).__name__}"
                )
        if key.shape[:2] != value.shape[:2] or key.size(0) != query.size(0):
            raise ArgumentError(
                f"query (B, T_q, C), key and value (B, T_k, C) must share B (and key/value T_k): "
                f"got {_shape(query)}, {_shape(key)}, {_shape(value)}"
            )
        if past_kv is not None:
            if not isinstance(past_kv, (tuple, list)) or len(past_kv) != 2:
                raise ArgumentTypeError("past_kv must be the (k, v) pair this layer returned earlier")
            pk, pv = past_kv
            want = (query.size(0), self.n_head)
            if pk.shape[:2] != want or pk.size(-1) != self.head_size or pv.shape != pk.shape:
                raise ArgumentError(
                    f"past_kv must be (k, v) of shape (B={want[0]}, H={self.n_head}, T_past, "
                    f"{self.head_size}), got {_shape(pk)} and {_shape(pv)}"
                )


class MLP(nn.Module):
    """The Transformer's position-wise feed-forward layer: ``fc`` (C → 4C), GELU, ``proj`` (4C → C).

    Each position is transformed on its own (no mixing across positions: that is attention's job).
    The layers have names, so the GPT's initialisation finds ``proj`` by name, not by its place.

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, n_embd: int, mlp_ratio: int = 4, bias: bool = True, dropout: float = 0.0):
        check_int(n_embd, "n_embd", min=1, max=MAX_WIDTH)
        check_int(mlp_ratio, "mlp_ratio", min=1, max=64)
        check_probability(dropout, "dropout", allow_one=False)
        bias = check_flag(bias, "bias")
        super().__init__()
        self.fc = nn.Linear(n_embd, mlp_ratio * n_embd, bias=bias)
        self.act = nn.GELU()
        self.proj = nn.Linear(mlp_ratio * n_embd, n_embd, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(self.act(self.fc(x))))  # (B, T, C) → (B, T, 4C) → (B, T, C)


NORMS = ("pre", "post", "none")


class TransformerBlock(nn.Module):
    """A Transformer block: attention, then the MLP, each with a residual connection and a LayerNorm.

    * ``norm="pre"`` (GPT-2; Xiong et al. 2020, the default): ``x + attn(ln1(x))``, ``x + mlp(ln2(x))``.
      The residual path stays clean, so deep stacks train without a long learning-rate warm-up.
    * ``norm="post"`` (the original Transformer): ``ln1(x + attn(x))``, ``ln2(x + mlp(x))``.
    * ``norm="none"`` drops the LayerNorms, ``residual=False`` the ``x +`` (for the ablation of notebook 04).

    ``forward(x, mask=None, causal=True, past_kv=None, need_weights=False)`` returns
    ``(x (B, T, C), weights or None, (k, v))``.

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(
        self,
        n_embd: int,
        n_head: int,
        dropout: float = 0.0,
        bias: bool = True,
        mlp_ratio: int = 4,
        use_sdpa: bool = False,
        norm: str = "pre",
        residual: bool = True,
        rope: bool = False,
    ):
        check_int(n_embd, "n_embd", min=1, max=MAX_WIDTH)
        check_int(n_head, "n_head", min=1, max=MAX_WIDTH)
        check_choice(norm, "norm", NORMS)
        bias, residual = check_flag(bias, "bias"), check_flag(residual, "residual")
        super().__init__()
        self.norm, self.residual = norm, residual
        self.ln1 = nn.LayerNorm(n_embd, bias=bias) if norm != "none" else nn.Identity()
        self.attn = MultiHeadAttention(n_embd, n_head, dropout=dropout, bias=bias, use_sdpa=use_sdpa, rope=rope)
        self.ln2 = nn.LayerNorm(n_embd, bias=bias) if norm != "none" else nn.Identity()
        self.mlp = MLP(n_embd, mlp_ratio, bias=bias, dropout=dropout)
        self.resid_drop = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        causal: bool = True,
        past_kv=None,
        need_weights: bool = False,
    ):
        keep = x if self.residual else torch.zeros_like(x)  # residual=False: the block replaces x
        if self.norm == "post":
            a, weights, kv = self.attn(x, mask=mask, causal=causal, past_kv=past_kv, need_weights=need_weights)
            x = self.ln1(keep + self.resid_drop(a))  # (B, T, C)
            keep = x if self.residual else torch.zeros_like(x)
            return self.ln2(keep + self.mlp(x)), weights, kv
        a, weights, kv = self.attn(self.ln1(x), mask=mask, causal=causal, past_kv=past_kv, need_weights=need_weights)
        x = keep + self.resid_drop(a)  # (B, T, C)
        keep = x if self.residual else torch.zeros_like(x)
        return keep + self.mlp(self.ln2(x)), weights, kv  # (B, T, C)


# ----------------------------------------------------------------------------- reading attention patterns


def head_pattern_scores(
    maps: Sequence[torch.Tensor], ids: torch.Tensor | None = None, space_ids: Sequence[int] = ()
) -> pd.DataFrame:
    """How much each head attends to a few simple targets, averaged over queries (and the batch).

    ``maps``: a list over layers of causal attention weights (B, H, T, T) (``GPT.attention_maps``).
    Columns: ``previous`` (weight on position t−1), ``current`` (on t itself), ``first`` (on
    position 0), ``mean_distance`` (expected t − j), and — when ``ids`` (B, T) and ``space_ids``
    are given — ``last_space`` (weight on the most recent space/newline strictly before t).
    Query 0 is skipped (it can only attend to itself).

    Defined in: notebooks/04_attention.ipynb
    """
    import pandas as pd  # only here: importing the GPT must not load pandas

    if not isinstance(maps, (list, tuple)) or not maps:
        raise ArgumentError("maps must be a non-empty list of (B, H, T, T) attention weights, one per layer")
    for li, m in enumerate(maps):
        check_tensor(m, f"maps[{li}]", dim=4, dtype="float")
    if ids is not None:
        check_tensor(ids, "ids", dim=2, dtype="integer")
        if ids.shape[1] != maps[0].size(-1) or ids.shape[0] not in (1, maps[0].size(0)):
            raise ArgumentError(f"ids must have shape (B, T) = {tuple(maps[0].shape[::3])}, got {tuple(ids.shape)}")
    if not isinstance(space_ids, (list, tuple, set)) or any(
        isinstance(i, bool) or not isinstance(i, int) for i in space_ids
    ):
        raise ArgumentTypeError(f"space_ids must be a list of token ids, got {space_ids!r:.60}")
    rows = []
    T = maps[0].size(-1)
    if T < 2:
        raise ArgumentError(f"need at least 2 positions to score heads, got T={T}")
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
            raise ArgumentError(f"layer {li}: expected attention weights (B, H, T, T), got {_shape(m)}")
        m = m.float()
        for h in range(m.size(1)):
            a = m[:, h]  # (B, T, T)
            row = {
                "layer": li,
                "head": h,
                "previous": a[:, t[1:], t[1:] - 1].mean().item(),
                "current": a[:, t[1:], t[1:]].mean().item(),
                "first": a[:, 1:, 0].mean().item(),
                "mean_distance": (a * dist).sum(-1)[:, 1:].mean().item(),
            }
            if last_space is not None:
                idx = last_space.clamp_min(0)[:, :, None]  # (B, T, 1)
                got = a.gather(-1, idx).squeeze(-1)  # (B, T)
                valid = last_space[:, 1:] >= 0
                row["last_space"] = got[:, 1:][valid].mean().item() if valid.any() else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)
