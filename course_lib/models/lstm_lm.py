"""A character-level LSTM language model: Embedding → LSTM → Linear (logits).

Defined in: notebooks/05_text_generation.ipynb

This is what the article's §5.2 Keras program really builds (§5.3 calls it a VAE; it is not:
there is no encoder, no latent variable and no KL term — it is an autoregressive language model
trained on next-token cross-entropy). The model returns *logits*; the softmax lives inside the
cross-entropy (``train.lm_cross_entropy``) and inside the sampler (``course_lib.generate``).

For generation, :meth:`LSTMLM.forward_step` carries the recurrent state ``(h, c)`` — two vectors of
``n_hidden`` numbers per layer — between calls, so each new character costs one LSTM step instead of
re-reading the text (or, as the article's loop does, a fixed window of it).

References: Hochreiter & Schmidhuber 1997 (LSTM); Graves 2013, "Generating Sequences With
Recurrent Neural Networks"; Karpathy 2015, "The Unreasonable Effectiveness of RNNs" (char-rnn).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..checks import check_instance, check_int, check_probability, check_token_ids
from ..errors import ArgumentError, ArgumentTypeError


@dataclass
class LSTMConfig:
    """Hyper-parameters of :class:`LSTMLM`.

    Defined in: notebooks/05_text_generation.ipynb
    """

    vocab_size: int = 65
    n_embd: int = 64  # embedding size
    n_hidden: int = 256  # LSTM state size
    n_layer: int = 1
    dropout: float = 0.0  # between LSTM layers and before the output layer

    def __post_init__(self):
        for name in ("vocab_size", "n_embd", "n_hidden", "n_layer"):
            check_int(getattr(self, name), f"LSTMConfig.{name}", min=1)
        check_probability(self.dropout, "LSTMConfig.dropout", allow_one=False)


class LSTMLM(nn.Module):
    """Embedding → LSTM → Linear. ``forward(idx (B, T)) → logits (B, T, V)``.

    ``forward_step(idx, state)`` is the incremental form used by ``course_lib.generate.generate``;
    ``max_context`` is ``None``: the recurrent state summarises any length of text.

    Defined in: notebooks/05_text_generation.ipynb
    """

    max_context = None

    def __init__(self, config: LSTMConfig):
        check_instance(config, "config", LSTMConfig)
        super().__init__()
        if not isinstance(config, LSTMConfig):
            raise ArgumentTypeError(f"LSTMLM expects an LSTMConfig, got {type(config).__name__}")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.n_embd)
        self.lstm = nn.LSTM(
            config.n_embd,
            config.n_hidden,
            num_layers=config.n_layer,
            batch_first=True,
            dropout=config.dropout if config.n_layer > 1 else 0.0,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.n_hidden, config.vocab_size)
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.embed.weight, std=0.1)
        # forget-gate bias 1 (Jozefowicz et al. 2015): remember by default early in training
        for name, p in self.lstm.named_parameters():
            if name.startswith("bias_ih"):
                h = self.config.n_hidden
                with torch.no_grad():
                    p.zero_()
                    p[h : 2 * h].fill_(1.0)
            elif name.startswith("bias_hh"):
                nn.init.zeros_(p)
        # a small output layer: the initial prediction is close to uniform, loss ≈ ln(V)
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def _check_idx(self, idx: torch.Tensor) -> None:
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
            raise ArgumentError(
                f"idx must be a LongTensor of token ids with shape (B, T), got "
                f"{type(idx).__name__} {tuple(getattr(idx, 'shape', ()))} {getattr(idx, 'dtype', '')}"
            )
        check_token_ids(idx, "idx", self.config.vocab_size)

    def forward_step(self, idx: torch.Tensor, state=None):
        """Read ``idx`` (B, t) after ``state`` (None = start of text); return logits (B, t, V) and the new state.

        The state is the LSTM's ``(h, c)``, each (n_layer, B, n_hidden).
        """
        self._check_idx(idx)
        x = self.embed(idx)  # (B, t, n_embd)
        out, state = self.lstm(x, state)  # (B, t, hidden), ((L, B, H), (L, B, H))
        logits = self.head(self.drop(out))  # (B, t, V)
        return logits, state

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, V) for every position of ``idx`` (B, T), starting from a zero state."""
        return self.forward_step(idx, None)[0]

    def num_params(self) -> int:
        """Number of parameters."""
        return sum(p.numel() for p in self.parameters())

    def config_dict(self) -> dict:
        """The config as a plain dict (stored in checkpoints)."""
        return asdict(self.config)
