"""A decoder-only Transformer language model (GPT), in one readable file.

Defined in: notebooks/04_attention.ipynb

nanoGPT-style (Karpathy 2022), built from the pieces of :mod:`course_lib.attention`:

    ids (B, T) → token embedding wte + learned position embedding wpe → dropout
               → n_layer × pre-LayerNorm TransformerBlock (causal multi-head attention + MLP)
               → final LayerNorm → lm_head (weight tied to wte) → logits (B, T, V)

* Causal self-attention: position t sees positions ≤ t only (Vaswani et al. 2017, §3.2.3).
* Weight tying: the output projection *is* the token embedding matrix (Press & Wolf 2017).
* Positions: learned absolute embeddings, as GPT-2 (Radford et al. 2019); ``positions="sinusoidal"``
  uses the fixed encodings of Vaswani et al., ``"rope"`` rotates queries and keys (Su et al. 2021)
  and ``"none"`` adds nothing (for experiments).
* ``norm`` ("pre", "post", "none") and ``residual`` switch the block's LayerNorms and residual
  connections (notebook 04's ablation); the defaults are GPT-2's.
* Initialisation: N(0, 0.02), residual output projections (``attn.out_proj``, ``mlp.proj``)
  N(0, 0.02/√(2·n_layer)) (GPT-2, §2.3).
* ``use_sdpa=True``: attention by ``F.scaled_dot_product_attention`` (fused kernel); ``False``: the
  manual :func:`course_lib.attention.scaled_dot_product_attention` (same numbers, and weights).
* ``forward_step(idx, cache)`` processes only the new tokens and keeps each layer's keys and values
  (the key/value cache): step n then costs O(d² + n·d) per layer (the new token's projections and MLP,
  plus attention over n cached keys) instead of O(n·d² + n²·d) for re-running the whole prefix;
  :func:`course_lib.generate.generate` drives it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..attention import NORMS, LearnedPositionalEncoding, SinusoidalPositionalEncoding, TransformerBlock
from ..checks import check_instance, check_int, check_probability, check_token_ids
from ..errors import ArgumentError, ArgumentTypeError
from ..nn_utils import eval_mode, make_adamw

Cache = list  # one (k, v) per layer, each (B, n_head, T_cached, n_embd // n_head)
POSITIONS = ("learned", "sinusoidal", "rope", "none")


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (defaults: the tiny character model of notebooks 04–05).

    Defined in: notebooks/04_attention.ipynb
    """

    vocab_size: int = 65
    block_size: int = 256  # max context (positions)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # biases in Linear and LayerNorm layers
    use_sdpa: bool = True  # fused F.scaled_dot_product_attention; False = course_lib.attention's manual path
    positions: str = "learned"  # "learned" (GPT-2), "sinusoidal" (Vaswani et al.), "rope" (Su et al.) or "none"
    norm: str = "pre"  # "pre" (GPT-2), "post" (Vaswani et al.) or "none"
    residual: bool = True  # False removes every residual connection (ablation)

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            check_int(getattr(self, name), f"GPTConfig.{name}", min=1)
        if self.n_embd % self.n_head:
            raise ArgumentError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if self.positions not in POSITIONS:
            raise ArgumentError(f"positions must be one of {POSITIONS}, got {self.positions!r}")
        if self.norm not in NORMS:
            raise ArgumentError(f"norm must be one of {NORMS}, got {self.norm!r}")
        check_probability(self.dropout, "GPTConfig.dropout", allow_one=False)


class GPT(nn.Module):
    """Decoder-only Transformer language model; see the module docstring.

    ``forward(idx)`` → logits (B, T, V); ``forward_step(idx, cache)`` → (logits, cache);
    ``attention_maps(idx)`` → list over layers of (B, H, T, T) weights; ``num_params()``;
    ``configure_optimizer(lr, weight_decay)``; ``generate(idx, max_new_tokens, ...)``.

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, config: GPTConfig):
        check_instance(config, "config", GPTConfig)
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise ArgumentTypeError(f"GPT expects a GPTConfig, got {type(config).__name__}")
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        if c.positions == "learned":
            self.wpe = LearnedPositionalEncoding(c.block_size, c.n_embd)
        elif c.positions == "sinusoidal":
            self.wpe = SinusoidalPositionalEncoding(c.block_size, c.n_embd)
        else:  # "rope" rotates inside attention; "none" adds nothing
            self.wpe = None
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            [
                TransformerBlock(
                    c.n_embd,
                    c.n_head,
                    dropout=c.dropout,
                    bias=c.bias,
                    use_sdpa=c.use_sdpa,
                    norm=c.norm,
                    residual=c.residual,
                    rope=c.positions == "rope",
                )
                for _ in range(c.n_layer)
            ]
        )
        self.ln_f = nn.LayerNorm(c.n_embd, bias=c.bias) if c.norm != "none" else nn.Identity()
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying: one (V, C) matrix reads and writes tokens
        self.apply(self._init_weights)
        for block in self.blocks:  # GPT-2: scale the projections that write into the residual stream
            for proj in (block.attn.out_proj, block.mlp.proj):
                nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    @property
    def max_context(self) -> int:
        """The longest context the model can read (``config.block_size``)."""
        return self.config.block_size

    def set_use_sdpa(self, flag: bool) -> None:
        """Switch every layer between the fused kernel (True) and the manual attention (False)."""
        self.config.use_sdpa = bool(flag)
        for b in self.blocks:
            b.attn.use_sdpa = bool(flag)

    def _check_ids(self, idx: torch.Tensor, offset: int = 0) -> None:
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
            raise ArgumentError(
                "idx must be a LongTensor of token ids with shape (B, T), got "
                f"{type(idx).__name__} {tuple(getattr(idx, 'shape', ()))} {getattr(idx, 'dtype', '')}"
            )
        T = idx.size(1)
        if T == 0:
            raise ArgumentError("idx is empty: give at least one token, shape (B, T) with T >= 1")
        if offset + T > self.config.block_size:
            where = f" after {offset} cached tokens" if offset else ""
            raise ArgumentError(
                f"sequence of length {T}{where} exceeds block_size={self.config.block_size}: "
                f"crop the context to the last {self.config.block_size - offset} tokens"
            )
        if not torch.compiler.is_compiling():  # a data-dependent check: torch.compile's kernels assert index bounds
            check_token_ids(idx, "idx", self.config.vocab_size)

    def _embed(self, idx: torch.Tensor, offset: int) -> torch.Tensor:
        x = self.wte(idx)  # (B, T, C)
        if self.wpe is not None:
            x = self.wpe(x, offset=offset)  # + position vectors offset..offset+T-1
        return self.drop(x)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx (B, T) token ids → next-token logits (B, T, V)."""
        self._check_ids(idx)
        x = self._embed(idx, 0)  # (B, T, C)
        for block in self.blocks:
            x, _, _ = block(x, causal=True)
        return self.lm_head(self.ln_f(x))  # (B, T, V)

    def forward_step(self, idx: torch.Tensor, cache: Cache | None = None):
        """Incremental forward: idx (B, t) *new* tokens → (logits (B, t, V), new cache).

        ``cache`` is ``None`` or what the previous call returned: per layer ``(k, v)`` of shape
        (B, n_head, T_cached, head_dim). The new tokens take positions T_cached … T_cached + t − 1
        and attend to the cached ones and causally to each other. T_cached + t must fit in block_size.
        """
        past = 0
        if cache is not None:
            if len(cache) != len(self.blocks):
                raise ArgumentError(f"cache must hold one (k, v) pair per layer ({len(self.blocks)}), got {len(cache)}")
            past = cache[0][0].size(2)
            if cache[0][0].size(0) != idx.size(0):
                raise ArgumentError(
                    f"cache batch size {cache[0][0].size(0)} does not match idx batch size {idx.size(0)}"
                )
        self._check_ids(idx, offset=past)
        x = self._embed(idx, past)  # (B, t, C)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, _, kv = block(x, causal=True, past_kv=None if cache is None else cache[i])
            new_cache.append(kv)  # (k, v), each (B, H, past + t, d)
        return self.lm_head(self.ln_f(x)), new_cache  # (B, t, V)

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer for idx (B, T): a list of n_layer tensors (B, H, T, T).

        Computed with the manual attention (``F.scaled_dot_product_attention`` returns no weights),
        in eval mode (no dropout).
        """
        self._check_ids(idx)
        maps = []
        with eval_mode(self):
            x = self._embed(idx, 0)
            for block in self.blocks:
                x, w, _ = block(x, causal=True, need_weights=True)
                maps.append(w)  # (B, H, T, T)
        return maps

    def num_params(self, non_embedding: bool = False) -> int:
        """Number of parameters (the tied embedding counted once); ``non_embedding`` drops wte and wpe."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.wte.weight.numel()
            if isinstance(self.wpe, LearnedPositionalEncoding):
                n -= self.wpe.weight.numel()
        return n

    def configure_optimizer(
        self, lr: float = 1e-3, weight_decay: float = 0.1, betas: tuple[float, float] = (0.9, 0.99)
    ) -> torch.optim.AdamW:
        """AdamW with weight decay on the 2-D weight matrices only (:func:`course_lib.nn_utils.make_adamw`)."""
        return make_adamw(self, lr=lr, weight_decay=weight_decay, betas=betas)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, **kwargs) -> torch.Tensor:
        """Sample ``max_new_tokens`` after ``idx`` (B, T) with the course's one generation loop
        (:func:`course_lib.generate.generate`; key/value cache on by default, ``use_cache=False`` to
        recompute the prefix each step)."""
        from ..generate import generate

        return generate(self, idx, max_new_tokens, **kwargs)
