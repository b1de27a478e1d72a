"""Skip-gram with negative sampling (SGNS): word2vec's two embedding tables and its loss.

Defined in: notebooks/02_word_embeddings.ipynb

Reference: T. Mikolov, I. Sutskever, K. Chen, G. Corrado, J. Dean, "Distributed Representations of
Words and Phrases and their Compositionality", NeurIPS 2013. For a (centre c, context o) pair seen in
a window and K noise words k drawn from the unigram^0.75 distribution, the loss is

    ℓ = −log σ(u_o · v_c) − Σ_{k=1..K} log σ(−u_k · v_c)

where v are the centre vectors (the embeddings word2vec outputs) and u the context vectors. The
pairs, the subsampling and the noise distribution are in :mod:`course_lib.embeddings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_instance, check_int, check_tensor
from ..errors import ArgumentError


@dataclass
class SkipGramConfig:
    """Sizes of :class:`SkipGram`: ``vocab_size`` words, ``n_embd`` numbers per word.

    Defined in: notebooks/02_word_embeddings.ipynb
    """

    vocab_size: int
    n_embd: int = 100

    def __post_init__(self):
        check_int(self.vocab_size, "vocab_size", min=1)
        check_int(self.n_embd, "n_embd", min=1)


def _check_shapes(v_center: torch.Tensor, u_context: torch.Tensor, u_negative: torch.Tensor) -> None:
    for name, t in (("v_center", v_center), ("u_context", u_context), ("u_negative", u_negative)):
        check_tensor(t, name, dtype="float")
    if (
        v_center.dim() != 2
        or u_context.shape != v_center.shape
        or u_negative.dim() != 3
        or u_negative.shape[0] != v_center.shape[0]
        or u_negative.shape[2] != v_center.shape[1]
    ):
        raise ArgumentError(
            f"expected v_center (B, D), u_context (B, D), u_negative (B, K, D); got "
            f"{tuple(v_center.shape)}, {tuple(u_context.shape)}, {tuple(u_negative.shape)}"
        )


def skipgram_loss(v_center: torch.Tensor, u_context: torch.Tensor, u_negative: torch.Tensor) -> torch.Tensor:
    """Mean negative-sampling loss: −log σ(u_o·v_c) − Σ_k log σ(−u_k·v_c).

    ``v_center`` (B, D), ``u_context`` (B, D), ``u_negative`` (B, K, D).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    _check_shapes(v_center, u_context, u_negative)
    pos = (v_center * u_context).sum(-1)  # (B,) u_o · v_c
    neg = torch.einsum("bkd,bd->bk", u_negative, v_center)  # (B, K) u_k · v_c
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()


class SkipGram(nn.Module):
    """Skip-gram's two tables: centre vectors v (``inp``, the embeddings we keep) and context vectors u (``out``).

    As in word2vec, v starts uniform in ±0.5/D and u at zero, so the loss starts at exactly (K + 1) ln 2.
    ``forward(center (B,), context (B,), negatives (B, K))`` returns the mean loss of :func:`skipgram_loss`.

    Defined in: notebooks/02_word_embeddings.ipynb
    """

    def __init__(self, config: SkipGramConfig):
        check_instance(config, "config", SkipGramConfig)
        super().__init__()
        self.config = config
        V, D = config.vocab_size, config.n_embd
        self.inp = nn.Embedding(V, D)  # (V, D) v_w
        self.out = nn.Embedding(V, D)  # (V, D) u_w
        nn.init.uniform_(self.inp.weight, -0.5 / D, 0.5 / D)
        nn.init.zeros_(self.out.weight)

    def forward(self, center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        return skipgram_loss(self.inp(center), self.out(context), self.out(negatives))  # (B, D), (B, D), (B, K, D)

    @property
    def embeddings(self) -> torch.Tensor:
        """The (V, D) centre vectors (what word2vec outputs)."""
        return self.inp.weight.detach()
