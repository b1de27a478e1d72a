"""A small Transformer reader for bAbI, built from the course's own attention blocks.

Defined in: notebooks/09_question_answering.ipynb

Each story sentence and the question become one vector each (their words' embeddings weighted by
the memory network's position encoding, so word order counts, plus a learned vector for "the i-th
most recent sentence" or "the question"). A stack of non-causal pre-LayerNorm
:class:`~course_lib.attention.TransformerBlock` s (Vaswani et al. 2017; the blocks of notebook 04's
GPT) lets every sentence and the question attend to each other, padding slots masked out; the
question's final vector is mapped to the answer.

    story (B, M, J), question (B, J) → [q; s_1 … s_M] (B, 1 + M, C)
        → n_layer × TransformerBlock (mask: real sentences only) → LayerNorm → x_q (B, C) → answer logits (B, V)

Compared with the memory network it has no hops wired in: depth, multi-head attention and the MLPs
must learn to chain facts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..attention import TransformerBlock
from ..checks import check_instance, check_int, check_probability
from ..errors import ArgumentError, ArgumentTypeError
from .memnet import position_encoding


@dataclass
class TransformerReaderConfig:
    """Hyper-parameters of :class:`TransformerReader`.

    Defined in: notebooks/09_question_answering.ipynb
    """

    vocab_size: int = 40
    n_embd: int = 64
    n_head: int = 4
    n_layer: int = 2
    memory_size: int = 50
    sentence_len: int = 8
    dropout: float = 0.1

    def __post_init__(self):
        for name in ("vocab_size", "n_embd", "n_head", "n_layer", "memory_size", "sentence_len"):
            check_int(getattr(self, name), f"TransformerReaderConfig.{name}", min=1)
        if self.n_embd % self.n_head:
            raise ArgumentError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        check_probability(self.dropout, "TransformerReaderConfig.dropout", allow_one=False)


class TransformerReader(nn.Module):
    """``forward(story, question, mask, need_weights=False)`` → ``(logits (B, V), weights)``, where
    ``weights`` is a list over layers of (B, n_head, 1 + M, 1 + M) attention maps (position 0 is the
    question) when ``need_weights`` is True, else None.

    Defined in: notebooks/09_question_answering.ipynb
    """

    def __init__(self, config: TransformerReaderConfig):
        check_instance(config, "config", TransformerReaderConfig)
        super().__init__()
        if not isinstance(config, TransformerReaderConfig):
            raise ArgumentTypeError(f"TransformerReader expects a TransformerReaderConfig, got {type(config).__name__}")
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd, padding_idx=0)
        self.register_buffer("pe", position_encoding(c.sentence_len, c.n_embd), persistent=False)
        self.slot = nn.Parameter(torch.randn(1 + c.memory_size, c.n_embd) * 0.02)  # question, then recency 0 … M−1
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            [TransformerBlock(c.n_embd, c.n_head, dropout=c.dropout, norm="pre") for _ in range(c.n_layer)]
        )
        self.ln_f = nn.LayerNorm(c.n_embd)
        self.head = nn.Linear(c.n_embd, c.vocab_size)

    def forward(self, story: torch.Tensor, question: torch.Tensor, mask: torch.Tensor, need_weights: bool = False):
        c = self.config
        if story.dim() != 3 or story.size(1) > c.memory_size or story.size(2) != c.sentence_len:
            raise ArgumentError(
                f"story must be (B, M ≤ {c.memory_size}, J = {c.sentence_len}) word ids, got {tuple(story.shape)}"
            )
        if mask.shape != story.shape[:2] or mask.dtype != torch.bool:
            raise ArgumentError(
                f"mask must be a bool tensor of shape {tuple(story.shape[:2])}, got {tuple(mask.shape)}"
            )
        B, M, _ = story.shape
        s = (self.wte(story) * self.pe).sum(-2)  # (B, M, C) one vector per sentence
        q = (self.wte(question) * self.pe).sum(-2)  # (B, C)
        x = torch.cat([q[:, None], s], dim=1) + self.slot[: 1 + M]  # (B, 1 + M, C)
        x = self.drop(x)
        keep = torch.cat([torch.ones(B, 1, dtype=torch.bool), mask], dim=1)  # (B, 1 + M): question + real sentences
        attn_mask = keep[:, None, None, :]  # (B, 1, 1, 1 + M): no position attends to padding
        maps = []
        for block in self.blocks:
            x, w, _ = block(x, mask=attn_mask, causal=False, need_weights=need_weights)
            maps.append(w)
        return self.head(self.ln_f(x[:, 0])), (maps if need_weights else None)  # (B, V)
