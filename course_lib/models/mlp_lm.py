"""A fixed-window neural language model (Bengio et al. 2003), the first step beyond counting.

Defined in: notebooks/01_background_ngram.ipynb

Reference: Y. Bengio, R. Ducharme, P. Vincent, C. Jauvin, "A Neural Probabilistic Language
Model", JMLR 3 (2003). Like an n-gram model it predicts the next token from the previous
``block_size`` tokens, but each token is first looked up in a learned embedding table, and the
prediction is a smooth function of those vectors, so contexts never seen in training still get
sensible predictions from similar ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_instance, check_int, check_tensor, check_token_ids


@dataclass
class MLPLMConfig:
    """Sizes of :class:`MLPLanguageModel`.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    vocab_size: int = 65
    block_size: int = 8  # tokens of history the model sees (like an order-(block_size + 1) n-gram model)
    n_embd: int = 24  # embedding size per token
    n_hidden: int = 256  # hidden layer width

    def __post_init__(self):
        check_int(self.vocab_size, "vocab_size", min=1)
        check_int(self.block_size, "block_size", min=1)
        check_int(self.n_embd, "n_embd", min=1)
        check_int(self.n_hidden, "n_hidden", min=1)


class MLPLanguageModel(nn.Module):
    """Embed the last ``block_size`` tokens, concatenate, one tanh hidden layer, logits over the vocabulary.

    ``forward(idx)`` takes (B, T) ids and returns (B, T, V) logits, where position t is predicted
    from tokens t − block_size + 1 … t (positions before the start are padded with token 0), so it plugs
    into the same batches, loss and evaluation as every other language model in the course.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    def __init__(self, config: MLPLMConfig):
        check_instance(config, "config", MLPLMConfig)
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.hidden = nn.Linear(config.block_size * config.n_embd, config.n_hidden)
        self.out = nn.Linear(config.n_hidden, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        check_tensor(idx, "idx", dim=2)
        check_token_ids(idx, "idx", self.config.vocab_size)
        B, T = idx.shape
        c = self.config.block_size
        padded = F.pad(idx, (c - 1, 0), value=0)  # (B, T + c - 1)
        windows = padded.unfold(1, c, 1)  # (B, T, c): tokens t-c+1 .. t
        e = self.embed(windows).reshape(B, T, c * self.config.n_embd)  # (B, T, c*E)
        h = torch.tanh(self.hidden(e))  # (B, T, H)
        return self.out(h)  # (B, T, V)
