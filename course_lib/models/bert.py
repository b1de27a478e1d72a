"""A bidirectional Transformer encoder with a masked-language-model head (BERT), in one readable file.

Defined in: notebooks/11_pretraining_finetuning.ipynb

BERT (Devlin, Chang, Lee & Toutanova 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
Language Understanding", §3.1 and appendix A) is the course's GPT with one change that matters: the
attention is **not causal**. Every position sees the whole sentence, left and right, so the model
cannot be trained to predict the next token (it would see it); it is trained to fill in masked
tokens instead (:mod:`course_lib.pretraining`).

    ids (B, T) → token embedding wte + learned position embedding wpe → dropout
               → n_layer × pre-LayerNorm TransformerBlock (causal=False; padding keys masked)
               → final LayerNorm → hidden states (B, T, C)
    MLM head:  Linear (C → C) → GELU → LayerNorm → Linear tied to wte (+ bias) → logits (B, T, V)

* Built from :class:`course_lib.attention.TransformerBlock`, the block the course's GPT stacks.
* ``pad_id``: padding tokens are hidden from attention (as keys), so a sentence gets the same
  vectors alone or padded in a batch.
* Pre-LayerNorm (as GPT-2 and the course's GPT) rather than BERT's post-LayerNorm: it trains without
  a long warm-up at this small scale (Xiong et al. 2020). Learned positions, no token types
  (RoBERTa dropped next-sentence prediction; Liu et al. 2019).
* The output layer shares its weight with the token embedding (as BERT and the GPT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..attention import LearnedPositionalEncoding, TransformerBlock
from ..checks import check_instance, check_int, check_probability, check_token_ids
from ..errors import ArgumentError, ArgumentTypeError
from ..nn_utils import eval_mode


@dataclass
class BERTConfig:
    """Sizes of a :class:`BERT` (nanoGPT's names).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """

    vocab_size: int = 2048
    block_size: int = 128  # longest input (positions)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.1
    bias: bool = True
    pad_id: int = 0  # the [PAD] token: never attended to

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            check_int(getattr(self, name), f"BERTConfig.{name}", min=1)
        check_int(self.pad_id, "BERTConfig.pad_id", min=0, max=self.vocab_size - 1)
        if self.n_embd % self.n_head:
            raise ArgumentError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        check_probability(self.dropout, "BERTConfig.dropout", allow_one=False)


class BERT(nn.Module):
    """Bidirectional encoder + MLM head; see the module docstring.

    ``encode(idx)`` → hidden states (B, T, C); ``forward(idx)`` → MLM logits (B, T, V);
    ``attention_maps(idx)`` → list over layers of (B, H, T, T) weights; ``num_params()``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """

    def __init__(self, config: BERTConfig):
        check_instance(config, "config", BERTConfig)
        super().__init__()
        if not isinstance(config, BERTConfig):
            raise ArgumentTypeError(f"BERT expects a BERTConfig, got {type(config).__name__}")
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = LearnedPositionalEncoding(c.block_size, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            [
                TransformerBlock(c.n_embd, c.n_head, dropout=c.dropout, bias=c.bias, use_sdpa=True)
                for _ in range(c.n_layer)
            ]
        )
        self.ln_f = nn.LayerNorm(c.n_embd, bias=c.bias)
        # the MLM head (BERT's "transform" then a decoder tied to the input embedding)
        self.mlm_dense = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.mlm_act = nn.GELU()
        self.mlm_ln = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.mlm_bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.apply(self._init_weights)
        for block in self.blocks:  # GPT-2's scaled init of the projections into the residual stream
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

    def _check_ids(self, idx: torch.Tensor) -> None:
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
            raise ArgumentError(
                "idx must be a LongTensor of token ids with shape (B, T), got "
                f"{type(idx).__name__} {tuple(getattr(idx, 'shape', ()))} {getattr(idx, 'dtype', '')}"
            )
        if idx.size(1) == 0 or idx.size(1) > self.config.block_size:
            raise ArgumentError(
                f"sequences must have 1..{self.config.block_size} tokens (block_size), got {idx.size(1)}"
            )
        check_token_ids(idx, "idx", self.config.vocab_size)

    def key_mask(self, idx: torch.Tensor) -> torch.Tensor:
        """Bool mask (B, 1, 1, T): True on real tokens, which every query may attend to."""
        return (idx != self.config.pad_id)[:, None, None, :]

    def encode(self, idx: torch.Tensor, need_weights: bool = False):
        """idx (B, T) → hidden states (B, T, C) (and, with ``need_weights``, each layer's (B, H, T, T) weights)."""
        self._check_ids(idx)
        mask = self.key_mask(idx)  # (B, 1, 1, T)
        x = self.drop(self.wpe(self.wte(idx)))  # (B, T, C)
        maps = []
        for block in self.blocks:
            x, w, _ = block(x, mask=mask, causal=False, need_weights=need_weights)
            maps.append(w)
        x = self.ln_f(x)  # (B, T, C)
        return (x, maps) if need_weights else x

    def mlm_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, C) → logits over the vocabulary (B, T, V)."""
        h = self.mlm_ln(self.mlm_act(self.mlm_dense(h)))  # (B, T, C)
        return h @ self.wte.weight.T + self.mlm_bias  # (B, T, V), decoder tied to the embedding

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx (B, T) with some positions set to [MASK] → logits (B, T, V) for every position."""
        return self.mlm_logits(self.encode(idx))

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer for idx (B, T): a list of (B, H, T, T), in eval mode."""
        with eval_mode(self):
            _, maps = self.encode(idx, need_weights=True)
        return maps

    def num_params(self) -> int:
        """Number of parameters (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())
