"""SASRec: recommendation as next-item prediction with a causal Transformer, in one readable file.

Defined in: notebooks/10_recommendation.ipynb

Kang & McAuley 2018 ("Self-Attentive Sequential Recommendation"): a user's history is a sentence
whose words are item ids, and the next item is predicted like the next token of a GPT:

    items (B, T) → item embedding (padding id 0) + learned position embedding → dropout
                 → n_layer × pre-LayerNorm TransformerBlock (causal; padding keys hidden)
                 → final LayerNorm → h (B, T, C);  scores = h · item embeddingᵀ (B, T, n_items)

* The blocks are the course's :class:`course_lib.attention.TransformerBlock` (the GPT's).
* Histories are **left**-padded, as in the paper, so the newest item is always at position T − 1 and
  the position embedding encodes recency; padding keys are hidden from attention, and a padding
  query may attend to itself only (so no row of the attention is empty).
* The score of item j is the dot product with its (shared) input embedding, as in the paper. It is
  trained with the full softmax cross-entropy over all items (as a language model is) rather than
  the paper's one sampled negative; Klenitskiy & Vasilev 2023 found this works better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..attention import LearnedPositionalEncoding, TransformerBlock, causal_mask
from ..checks import check_instance, check_int, check_probability, check_token_ids
from ..errors import ArgumentError
from ..nn_utils import eval_mode


@dataclass
class SASRecConfig:
    """Sizes of a :class:`SASRec` (nanoGPT's names; ``vocab_size`` = number of items + 1 for padding).

    Defined in: notebooks/10_recommendation.ipynb
    """

    vocab_size: int
    block_size: int = 50  # the most recent items read
    n_layer: int = 2
    n_head: int = 1
    n_embd: int = 64
    dropout: float = 0.2

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            check_int(getattr(self, name), f"SASRecConfig.{name}", min=1)
        if self.n_embd % self.n_head:
            raise ArgumentError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        check_probability(self.dropout, "SASRecConfig.dropout", allow_one=False)


class SASRec(nn.Module):
    """Causal Transformer over item ids; see the module docstring.

    ``forward(items)`` → scores (B, T, n_items) for the next item at every position;
    ``last_scores(items)`` → (B, n_items) after the newest item; ``attention_maps(items)``.

    Defined in: notebooks/10_recommendation.ipynb
    """

    def __init__(self, config: SASRecConfig):
        check_instance(config, "config", SASRecConfig)
        super().__init__()
        self.config = c = config
        self.item = nn.Embedding(c.vocab_size, c.n_embd, padding_idx=0)
        self.wpe = LearnedPositionalEncoding(c.block_size, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            [TransformerBlock(c.n_embd, c.n_head, dropout=c.dropout, bias=True) for _ in range(c.n_layer)]
        )
        self.ln_f = nn.LayerNorm(c.n_embd)
        nn.init.normal_(self.item.weight, std=0.02)
        with torch.no_grad():
            self.item.weight[0].zero_()
        for block in self.blocks:
            for proj in (block.attn.out_proj, block.mlp.proj):
                nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    def attention_mask(self, items: torch.Tensor) -> torch.Tensor:
        """Bool (B, 1, T, T): query t may see key s iff s ≤ t and s is a real item (or s = t)."""
        T = items.size(1)
        causal = causal_mask(T, device=items.device)  # (T, T)
        real = (items != 0)[:, None, None, :]  # (B, 1, 1, T)
        eye = torch.eye(T, dtype=torch.bool, device=items.device)
        return causal & (real | eye)  # (B, 1, T, T)

    def hidden(self, items: torch.Tensor, need_weights: bool = False):
        if not isinstance(items, torch.Tensor) or items.dim() != 2 or items.dtype != torch.long:
            raise ArgumentError(f"items must be a LongTensor (B, T), got {getattr(items, 'shape', type(items))}")
        if items.size(1) > self.config.block_size:
            raise ArgumentError(f"at most block_size={self.config.block_size} items, got {items.size(1)}")
        check_token_ids(items, "items", self.config.vocab_size)
        mask = self.attention_mask(items)
        x = self.drop(self.wpe(self.item(items)))  # (B, T, C)
        maps = []
        for block in self.blocks:
            x, w, _ = block(x, mask=mask, causal=False, need_weights=need_weights)
            maps.append(w)
        x = self.ln_f(x)  # (B, T, C)
        return (x, maps) if need_weights else x

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        return self.hidden(items) @ self.item.weight.T  # (B, T, C) @ (C, I) → (B, T, I)

    def last_scores(self, items: torch.Tensor) -> torch.Tensor:
        return self.hidden(items)[:, -1] @ self.item.weight.T  # (B, I): after the newest item

    @torch.no_grad()
    def attention_maps(self, items: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer (B, H, T, T), in eval mode."""
        with eval_mode(self):
            _, maps = self.hidden(items, need_weights=True)
        return maps
