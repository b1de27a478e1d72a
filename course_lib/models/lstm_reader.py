"""An LSTM reader for bAbI: read the story, then the question, word by word; answer from the last state.

Defined in: notebooks/09_question_answering.ipynb

The classic baseline of Weston et al. 2015 ("Towards AI-Complete Question Answering", §5): one
LSTM reads the story's words followed by the question's, and a linear layer maps its final hidden
state to the answer word. Everything the story said must survive in that one state vector until
the question arrives — the same fixed-size bottleneck as notebook 08's translator without attention.

    tokens (B, T) → embedding (B, T, C) → LSTM (packed: padding is never read) → h_T (B, n_hidden)
                  → Linear → answer logits (B, V)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..checks import check_instance, check_int, check_probability
from ..errors import ArgumentError, ArgumentTypeError


@dataclass
class LSTMReaderConfig:
    """Hyper-parameters of :class:`LSTMReader`.

    Defined in: notebooks/09_question_answering.ipynb
    """

    vocab_size: int = 40
    n_embd: int = 50
    n_hidden: int = 100
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("vocab_size", "n_embd", "n_hidden"):
            check_int(getattr(self, name), f"LSTMReaderConfig.{name}", min=1)
        check_probability(self.dropout, "LSTMReaderConfig.dropout", allow_one=False)


class LSTMReader(nn.Module):
    """``forward(tokens (B, T), lengths (B,))`` → answer logits (B, V); see the module docstring.

    Defined in: notebooks/09_question_answering.ipynb
    """

    def __init__(self, config: LSTMReaderConfig):
        check_instance(config, "config", LSTMReaderConfig)
        super().__init__()
        if not isinstance(config, LSTMReaderConfig):
            raise ArgumentTypeError(f"LSTMReader expects an LSTMReaderConfig, got {type(config).__name__}")
        self.config = c = config
        self.emb = nn.Embedding(c.vocab_size, c.n_embd, padding_idx=0)
        self.lstm = nn.LSTM(c.n_embd, c.n_hidden, batch_first=True)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.n_hidden, c.vocab_size)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or lengths.shape != tokens.shape[:1]:
            raise ArgumentError(
                f"expected tokens (B, T) and lengths (B,), got {tuple(tokens.shape)} and {tuple(lengths.shape)}"
            )
        if int(lengths.min()) < 1 or int(lengths.max()) > tokens.size(1):
            raise ArgumentError(f"lengths must be in 1..{tokens.size(1)}, got {lengths.min()}..{lengths.max()}")
        x = self.drop(self.emb(tokens))  # (B, T, C)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h (1, B, H): the state after each sequence's own last word
        return self.head(self.drop(h[-1]))  # (B, V)
