"""A GRU encoder–decoder for translation, with or without additive (Bahdanau) attention, in one file.

Defined in: notebooks/08_translation.ipynb

    source ids (B, S) → embedding → bidirectional GRU → h_1 … h_S  (B, S, 2·n_hidden)
    target:  s_0 = tanh(W_b [→h_S; ←h_1])                           (B, n_hidden)
             c_t = the context for step t:
                   attention=False: [→h_S; ←h_1] for every t   (one fixed vector: the bottleneck)
                   attention=True:  Σ_j α_tj h_j,  α_t = softmax_j(vᵀ tanh(W_q s_{t−1} + W_k h_j)),
                                    padding positions j masked out
             s_t = GRUCell([emb(y_{t−1}); c_t], s_{t−1})
             logits_t = E · tanh(W_o [s_t; c_t; emb(y_{t−1})])          (E: the target embedding, tied)

* Cho et al. 2014, "Learning Phrase Representations using RNN Encoder–Decoder for Statistical
  Machine Translation" (the GRU, and the context vector fed to every decoder step);
  Sutskever et al. 2014 (sequence to sequence learning).
* Bahdanau, Cho & Bengio 2015, "Neural Machine Translation by Jointly Learning to Align and
  Translate" (the bidirectional encoder and additive attention; the query is the previous decoder
  state s_{t−1}); the maxout output layer is replaced by a tanh layer.
* Press & Wolf 2017 (the output layer shares the target embedding matrix).

Both variants have the same encoder, decoder and output layer; they differ only in the context
c_t, so a comparison of the two measures attention and nothing else. Padding (``pad_id``) is never
attended to and does not change the encoder's final states (packed sequences).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import MAX_WIDTH, check_instance, check_int, check_probability, check_token_ids
from ..errors import ArgumentError, ArgumentTypeError


@dataclass
class Seq2SeqConfig:
    """Hyper-parameters of :class:`Seq2Seq`.

    Defined in: notebooks/08_translation.ipynb
    """

    src_vocab_size: int = 1000
    vocab_size: int = 1000  # target vocabulary
    n_embd: int = 256  # embedding width (source and target)
    n_hidden: int = 256  # GRU width (the encoder has one per direction)
    attention: bool = True
    dropout: float = 0.2
    pad_id: int = 0

    def __post_init__(self):
        for name in ("src_vocab_size", "vocab_size", "n_embd", "n_hidden"):
            check_int(getattr(self, name), f"Seq2SeqConfig.{name}", min=1)
        check_int(self.pad_id, "Seq2SeqConfig.pad_id", min=0)
        check_probability(self.dropout, "Seq2SeqConfig.dropout", allow_one=False)


class AdditiveAttention(nn.Module):
    """Bahdanau attention: score(s, h_j) = vᵀ tanh(W_q s + W_k h_j), softmax over the real positions.

    ``keys(memory)`` precomputes W_k h_j once per sentence; ``forward(query, keys, memory, mask)``
    returns ``(context (B, D), weights (B, S))`` with weight 0 on every padding position.

    Defined in: notebooks/08_translation.ipynb
    """

    def __init__(self, query_dim: int, memory_dim: int, n_hidden: int):
        for name, value in (("query_dim", query_dim), ("memory_dim", memory_dim), ("n_hidden", n_hidden)):
            check_int(value, name, min=1, max=MAX_WIDTH)
        super().__init__()
        self.W_q = nn.Linear(query_dim, n_hidden, bias=False)
        self.W_k = nn.Linear(memory_dim, n_hidden, bias=True)
        self.v = nn.Linear(n_hidden, 1, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        return self.W_k(memory)  # (B, S, A)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
        scores = self.v(torch.tanh(self.W_q(query)[:, None, :] + keys)).squeeze(-1)  # (B, S)
        scores = scores.masked_fill(~mask, float("-inf"))  # padding: never attended
        weights = torch.softmax(scores, dim=-1)  # (B, S), sums to 1 over the real positions
        context = (weights[:, :, None] * memory).sum(1)  # (B, 2H)
        return context, weights


class Seq2Seq(nn.Module):
    """GRU encoder–decoder; see the module docstring.

    * ``forward(src, tgt_in)`` → logits (B, T, V) (teacher forcing: ``tgt_in`` starts with ``<bos>``);
      ``forward(src, tgt_in, return_attention=True)`` → (logits, weights (B, T, S)) (zeros without attention).
    * ``encode(src)`` → the decoder state ``(s_0, memory, keys, mask)``, every tensor batch-first, and
      ``step(tokens, state)`` → ``(logits (N, V), state, weights (N, S))``: one decoder step, what
      greedy and beam search call.

    Defined in: notebooks/08_translation.ipynb
    """

    def __init__(self, config: Seq2SeqConfig):
        check_instance(config, "config", Seq2SeqConfig)
        super().__init__()
        if not isinstance(config, Seq2SeqConfig):
            raise ArgumentTypeError(f"Seq2Seq expects a Seq2SeqConfig, got {type(config).__name__}")
        self.config = c = config
        H, E = c.n_hidden, c.n_embd
        self.src_emb = nn.Embedding(c.src_vocab_size, E, padding_idx=c.pad_id)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)
        self.tgt_emb = nn.Embedding(c.vocab_size, E, padding_idx=c.pad_id)
        self.attn = AdditiveAttention(H, 2 * H, H) if c.attention else None
        self.cell = nn.GRUCell(E + 2 * H, H)
        self.pre_out = nn.Linear(H + 2 * H + E, E)
        self.drop = nn.Dropout(c.dropout)
        for emb in (self.src_emb, self.tgt_emb):  # small embeddings: the tied output starts near uniform
            nn.init.normal_(emb.weight, std=0.1)
            with torch.no_grad():
                emb.weight[c.pad_id].zero_()

    def _check_src(self, src: torch.Tensor) -> torch.Tensor:
        if not isinstance(src, torch.Tensor) or src.dim() != 2 or src.dtype != torch.long:
            raise ArgumentError(f"src must be a LongTensor (B, S) of token ids, got {getattr(src, 'shape', src)}")
        check_token_ids(src, "src", self.config.src_vocab_size)
        mask = src != self.config.pad_id  # (B, S) True on real tokens
        if not mask.any(1).all():
            raise ArgumentError("every source sentence needs at least one token that is not padding")
        return mask

    def encode(self, src: torch.Tensor):
        """src (B, S) → decoder state ``(s_0 (B, H), memory (B, S, 2H), keys (B, S, H) or memory, mask (B, S))``."""
        mask = self._check_src(src)
        lengths = mask.sum(1)
        x = self.drop(self.src_emb(src))  # (B, S, E)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.encoder(packed)  # h_n (2, B, H): last forward state, first backward state
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.size(1))  # (B, S, 2H)
        final = torch.cat([h_n[0], h_n[1]], dim=-1)  # (B, 2H): [→h_S; ←h_1], padding never read
        s0 = torch.tanh(self.bridge(final))  # (B, H)
        if self.attn is None:  # the whole sentence must pass through this one vector
            return s0, final, final, mask
        return s0, memory, self.attn.keys(memory), mask

    def step(self, tokens: torch.Tensor, state):
        """One decoder step: the previous tokens (N,) and the state → (logits (N, V), new state, weights (N, S))."""
        s, memory, keys, mask = state
        e = self.drop(self.tgt_emb(tokens))  # (N, E)
        if self.attn is None:
            context, weights = memory, torch.zeros(mask.shape, dtype=e.dtype)  # the fixed vector (N, 2H)
        else:
            context, weights = self.attn(s, keys, memory, mask)  # (N, 2H), (N, S)
        s = self.cell(torch.cat([e, context], dim=-1), s)  # (N, H)
        o = torch.tanh(self.pre_out(self.drop(torch.cat([s, context, e], dim=-1))))  # (N, E)
        logits = F.linear(self.drop(o), self.tgt_emb.weight)  # (N, V), tied output layer
        return logits, (s, memory, keys, mask), weights

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor, return_attention: bool = False):
        """Teacher forcing: src (B, S), tgt_in (B, T) → logits (B, T, V) [and attention weights (B, T, S)]."""
        if not isinstance(tgt_in, torch.Tensor) or tgt_in.dim() != 2 or tgt_in.size(0) != src.size(0):
            raise ArgumentError(
                f"tgt_in must be a LongTensor (B, T) with the batch size of src, got {getattr(tgt_in, 'shape', tgt_in)}"
            )
        check_token_ids(tgt_in, "tgt_in", self.config.vocab_size)
        state = self.encode(src)
        logits, weights = [], []
        for t in range(tgt_in.size(1)):
            out, state, w = self.step(tgt_in[:, t], state)
            logits.append(out)
            weights.append(w)
        logits = torch.stack(logits, dim=1)  # (B, T, V)
        return (logits, torch.stack(weights, dim=1)) if return_attention else logits
