"""End-to-end memory network (MemN2N) for bAbI question answering, in one readable file.

Defined in: notebooks/09_question_answering.ipynb

Sukhbaatar, Szlam, Weston & Fergus 2015, "End-To-End Memory Networks" (NeurIPS), §2 and §4.1:

    each story sentence x_i (words x_i1 … x_iJ) is written to memory twice:
        m_i = Σ_j l_j ⊙ A x_ij + T_A(i)        (input memory: what to match the question against)
        c_i = Σ_j l_j ⊙ C x_ij + T_C(i)        (output memory: what to read)
    the question:  u¹ = Σ_j l_j ⊙ B q_j
    hop k:         p^k_i = softmax_i(u^kᵀ m^k_i)   (attention over the sentences; padding slots excluded)
                   o^k = Σ_i p^k_i c^k_i ;   u^{k+1} = u^k + o^k
    answer:        â = softmax(W (u^K + o^K)) = softmax(W u^{K+1})

* **Position encoding** (PE, §4.1): l_kj = (1 − j/J) − (k/d)(1 − 2j/J) weighs word j's k-th
  feature, so "Mary went to the kitchen" and "the kitchen went to Mary" differ (a plain bag of
  words cannot tell them apart).
* **Temporal encoding** (§4.1): T_A(i), T_C(i) are learned vectors for "the i-th most recent
  sentence" (slot 0 = the latest), so the model can prefer later facts ("where is Mary" → her last move).
* **Adjacent weight tying** (§2.2): A^{k+1} = C^k, T_A^{k+1} = T_C^k, B = A¹ and Wᵀ = C^K, so K
  hops use K + 1 embedding matrices E_0 … E_K (A^k = E_{k−1}, C^k = E_k).
* Attention is a softmax over the real sentences only (``mask``): padding slots get weight 0.
* **Linear start** (LS, §4.2): while ``model.linear_start`` is True the hops use the raw scores
  u·m_i (padding slots 0) instead of their softmax; training starts that way and switches the
  softmax on later, which keeps the model out of a poor early optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..checks import MAX_WIDTH, check_instance, check_int
from ..errors import ArgumentError, ArgumentTypeError


@dataclass
class MemN2NConfig:
    """Hyper-parameters of :class:`MemN2N` (the paper's bAbI set-up: d = 50 on 10k, 3 hops, memory 50).

    Defined in: notebooks/09_question_answering.ipynb
    """

    vocab_size: int = 40
    n_embd: int = 50  # d, the embedding width
    n_hops: int = 3
    memory_size: int = 50  # the most recent sentences kept
    sentence_len: int = 8  # J, words per sentence (padded)
    position_encoding: bool = True
    temporal_encoding: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "n_embd", "n_hops", "memory_size", "sentence_len"):
            check_int(getattr(self, name), f"MemN2NConfig.{name}", min=1)


def position_encoding(sentence_len: int, n_embd: int) -> torch.Tensor:
    """The paper's weights l_kj = (1 − j/J) − (k/d)(1 − 2j/J), j = 1…J, k = 1…d, as a (J, d) tensor.

    Defined in: notebooks/09_question_answering.ipynb
    """
    J = check_int(sentence_len, "sentence_len", min=1, max=MAX_WIDTH)
    d = check_int(n_embd, "n_embd", min=1, max=MAX_WIDTH)
    j = torch.arange(1, J + 1, dtype=torch.float32)[:, None]  # (J, 1)
    k = torch.arange(1, d + 1, dtype=torch.float32)[None, :]  # (1, d)
    return (1 - j / J) - (k / d) * (1 - 2 * j / J)  # (J, d)


class MemN2N(nn.Module):
    """End-to-end memory network with adjacent weight tying; see the module docstring.

    ``forward(story (B, M, J), question (B, J), mask (B, M))`` → ``(logits (B, V), attention (B, K, M))``:
    the answer's logits over the vocabulary and each hop's attention over the memory slots.

    Defined in: notebooks/09_question_answering.ipynb
    """

    def __init__(self, config: MemN2NConfig):
        check_instance(config, "config", MemN2NConfig)
        super().__init__()
        if not isinstance(config, MemN2NConfig):
            raise ArgumentTypeError(f"MemN2N expects a MemN2NConfig, got {type(config).__name__}")
        self.config = c = config
        K = c.n_hops
        self.E = nn.ModuleList([nn.Embedding(c.vocab_size, c.n_embd, padding_idx=0) for _ in range(K + 1)])
        self.T = nn.ParameterList([nn.Parameter(torch.zeros(c.memory_size, c.n_embd)) for _ in range(K + 1)])
        for e in self.E:
            nn.init.normal_(e.weight, std=0.1)  # the paper: N(0, 0.1)
            with torch.no_grad():
                e.weight[0].zero_()
        for t in self.T:
            nn.init.normal_(t, std=0.1)
        pe = (
            position_encoding(c.sentence_len, c.n_embd) if c.position_encoding else torch.ones(c.sentence_len, c.n_embd)
        )
        self.register_buffer("pe", pe, persistent=False)
        self.linear_start = False  # LS: no softmax in the hops (set by the training loop, §4.2)

    def embed_sentences(self, ids: torch.Tensor, k: int) -> torch.Tensor:
        """Sentences (..., J) → Σ_j l_j ⊙ E_k x_j, (..., d)."""
        return (self.E[k](ids) * self.pe).sum(-2)

    def _memory(self, story: torch.Tensor, k: int) -> torch.Tensor:
        m = self.embed_sentences(story, k)  # (B, M, d)
        if self.config.temporal_encoding:
            m = m + self.T[k][: story.size(1)]
        return m

    def forward(self, story: torch.Tensor, question: torch.Tensor, mask: torch.Tensor):
        c = self.config
        if story.dim() != 3 or story.size(1) > c.memory_size or story.size(2) != c.sentence_len:
            raise ArgumentError(
                f"story must be (B, M ≤ {c.memory_size}, J = {c.sentence_len}) word ids, got {tuple(story.shape)}"
            )
        if mask.shape != story.shape[:2] or mask.dtype != torch.bool:
            raise ArgumentError(
                f"mask must be a bool tensor of shape {tuple(story.shape[:2])}, got {tuple(mask.shape)}"
            )
        u = self.embed_sentences(question, 0)  # (B, d): B = A¹ = E_0
        attention = []
        for k in range(c.n_hops):
            m = self._memory(story, k)  # (B, M, d): A^{k+1} = E_k
            out = self._memory(story, k + 1)  # (B, M, d): C^{k+1} = E_{k+1}
            scores = (m @ u[:, :, None]).squeeze(-1)  # (B, M)
            if self.linear_start:
                p = scores.masked_fill(~mask, 0.0)  # (B, M) raw scores, 0 on padding
            else:
                p = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)  # (B, M), 0 on padding
            u = u + (p[:, :, None] * out).sum(1)  # u^{k+1} = u^k + o^k, (B, d)
            attention.append(p)
        logits = u @ self.E[c.n_hops].weight.T  # (B, V): W = (C^K)ᵀ
        return logits, torch.stack(attention, dim=1)  # (B, V), (B, K, M)
